#!/usr/bin/env bash
# fuzz/run.sh - the cargo-fuzz targets of tlsext-shim, run from the committed corpora.
#
#   fuzz/run.sh smoke [TARGET...]   each target for SMOKE_SECONDS (default 8) seconds: part of
#                                   `make test` (make fuzz-smoke); fails on any crash
#   fuzz/run.sh full [TARGET...]    each target for RUNS (default 10 000 000) executions, one at
#                                   a time under nice -n 19 (make fuzz); writes fuzz/RESULTS.md
#
# Targets: clienthello, keyfile, ticket_open, config, seed (see fuzz/fuzz_targets/*.rs).
# Works on stable Rust: cargo-fuzz needs nightly flags (-Zsanitizer=address), which
# RUSTC_BOOTSTRAP=1 allows. New inputs go to fuzz/work/<target> (not committed), never to the
# committed corpus fuzz/corpus/<target>, which is only read; crashes land in
# fuzz/artifacts/<target>/. To refresh a committed corpus after a long run:
#   RUSTC_BOOTSTRAP=1 cargo fuzz cmin <target> fuzz/work/<target>   (then copy it over)
set -euo pipefail

mode=${1:-}
shift || true
cd "$(dirname "$0")/.."
ALL_TARGETS=(clienthello keyfile ticket_open config seed)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${ALL_TARGETS[@]}")
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz is missing; installing it (cargo install cargo-fuzz)" >&2
    cargo install cargo-fuzz
fi

# Build every target once up front, so the timed runs measure fuzzing only.
cargo fuzz build

NICE=() # the command prefix of a run
run_one() { # TARGET LOG LIBFUZZER-ARGS...
    local t=$1 log=$2
    shift 2
    mkdir -p "fuzz/work/$t"
    "${NICE[@]}" cargo fuzz run "$t" "fuzz/work/$t" "fuzz/corpus/$t" -- -print_final_stats=1 "$@" \
        >"$log" 2>&1
}

# "#N DONE cov: C ft: F corp: K/S ..." and the stat:: lines of a finished run.
stat() { sed -n "s/^stat::$2: *//p" "$1" | tail -1; }

case "$mode" in
smoke)
    secs=${SMOKE_SECONDS:-8}
    failed=()
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    for t in "${targets[@]}"; do
        if run_one "$t" "$tmp/$t.log" -max_total_time="$secs"; then
            echo "fuzz-smoke $t: ok, $(stat "$tmp/$t.log" number_of_executed_units) executions in ${secs}s"
        else
            echo "fuzz-smoke $t: FAILED; the end of its log:"
            tail -40 "$tmp/$t.log" | sed 's/^/  | /'
            failed+=("$t")
        fi
    done
    if [ ${#failed[@]} -ne 0 ]; then
        echo "fuzz-smoke failed: ${failed[*]} (inputs in fuzz/artifacts/)"
        exit 1
    fi
    echo "fuzz-smoke: ${#targets[@]} targets ok"
    ;;
full)
    runs=${RUNS:-10000000}
    mkdir -p fuzz/logs
    rows=()
    for t in "${targets[@]}"; do
        log=fuzz/logs/$t.log
        echo "fuzz $t: $runs runs (log: $log)"
        start=$(date +%s)
        NICE=(nice -n 19)
        run_one "$t" "$log" -runs="$runs" ||
            { echo "fuzz $t FAILED"; tail -40 "$log"; exit 1; }
        secs=$(($(date +%s) - start))
        execs=$(stat "$log" number_of_executed_units)
        done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1)
        cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$done_line")
        corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p' <<<"$done_line")
        echo "fuzz $t: $execs executions in ${secs}s, cov $cov, corpus $corp"
        rows+=("| \`$t\` | $execs | ${secs} s | $((execs / (secs > 0 ? secs : 1))) | $cov | $corp | \`${done_line%% cov:*}\` |")
    done
    {
        echo "# Fuzzing results"
        echo
        echo "Written by \`fuzz/run.sh full\` (\`make fuzz\`) on $(date -u +%Y-%m-%d) ($(date -u +%H:%M) UTC):"
        echo "\`RUSTC_BOOTSTRAP=1 cargo fuzz run <target> fuzz/work/<target> fuzz/corpus/<target> -- -print_final_stats=1 -runs=$runs\`,"
        echo "one target at a time under \`nice -n 19\`, AddressSanitizer and debug assertions on (cargo-fuzz's defaults)."
        echo "$(rustc --version), $(cargo fuzz --version), $(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1))."
        echo
        echo "Executions are libFuzzer's \`stat::number_of_executed_units\`; coverage and corpus are from its final \`DONE\` line."
        echo
        echo "| target | executions | time | exec/s | coverage | corpus (inputs/bytes) | final line |"
        echo "|---|---:|---:|---:|---:|---|---|"
        printf '%s\n' "${rows[@]}"
        echo
        echo "No crash, leak, timeout or failed assertion in any run."
    } >fuzz/RESULTS.md.tmp
    mv fuzz/RESULTS.md.tmp fuzz/RESULTS.md
    echo "wrote fuzz/RESULTS.md"
    ;;
*)
    echo "usage: $0 smoke|full [TARGET...]" >&2
    exit 2
    ;;
esac
