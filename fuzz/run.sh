#!/usr/bin/env bash
# fuzz/run.sh - the cargo-fuzz targets of tlsext-shim, run from the committed corpora.
#
#   fuzz/run.sh smoke [TARGET...]   each target for SMOKE_SECONDS (default 8) seconds: part of
#                                   `make test` (make fuzz-smoke); fails on any crash
#   fuzz/run.sh full [TARGET...]    each target for RUNS (default 10 000 000) executions, one at
#                                   a time under nice -n 19 (make fuzz); writes fuzz/RESULTS.md
#   fuzz/run.sh results             fuzz/RESULTS.md again from the logs of the last full run
#
# Targets: clienthello, keyfile, ticket_open, config, seed (see fuzz/fuzz_targets/*.rs).
# Works on stable Rust: cargo-fuzz needs nightly flags (-Zsanitizer=address), which
# RUSTC_BOOTSTRAP=1 allows. New inputs go to fuzz/work/<target> (not committed), never to the
# committed corpus fuzz/corpus/<target>, which is only read; crashes land in
# fuzz/artifacts/<target>/. To refresh a committed corpus after a long run (the smallest set of
# inputs that covers the same edges):
#   mkdir new && fuzz/target/x86_64-unknown-linux-gnu/release/<target> -set_cover_merge=1 \
#       -use_counters=0 new fuzz/corpus/<target> fuzz/work/<target>   (then replace the corpus)
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
[ "$mode" = results ] || cargo fuzz build

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
    for t in "${targets[@]}"; do
        log=fuzz/logs/$t.log
        echo "fuzz $t: $runs runs (log: $log)"
        NICE=(nice -n 19)
        run_one "$t" "$log" -runs="$runs" ||
            { echo "fuzz $t FAILED"; tail -40 "$log"; exit 1; }
        echo "fuzz $t: $(stat "$log" number_of_executed_units) executions"
    done
    bash "$0" results "${targets[@]}"
    ;;
results)
    # fuzz/RESULTS.md from the logs of the last full run (fuzz/logs/<target>.log).
    rows=()
    for t in "${targets[@]}"; do
        log=fuzz/logs/$t.log
        execs=$(stat "$log" number_of_executed_units)
        secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
        done_line=$(grep -aE '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 | tr -s '[:space:]' ' ')
        cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$done_line")
        ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$done_line")
        corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p' <<<"$done_line")
        rate=$(sed -n 's/.* exec\/s: \([0-9]*\).*/\1/p' <<<"$done_line")
        rows+=("| \`$t\` | $execs | $secs s | $rate | $cov | $ft | $corp |")
    done
    runs=$(sed -n 's/.*-runs=\([0-9]*\).*/\1/p' "fuzz/logs/${targets[0]}.log" | head -1)
    {
        echo "# Fuzzing results"
        echo
        echo "Written by \`fuzz/run.sh full\` (\`make fuzz\`) on $(date -u -r "fuzz/logs/${targets[0]}.log" +%Y-%m-%d):"
        echo "\`RUSTC_BOOTSTRAP=1 cargo fuzz run <target> fuzz/work/<target> fuzz/corpus/<target> -- -print_final_stats=1 -runs=${runs:-10000000}\`,"
        echo "one target at a time under \`nice -n 19\`, with AddressSanitizer and debug assertions (cargo-fuzz's"
        echo "defaults), starting from the committed corpus. $(rustc --version), $(cargo fuzz --version),"
        echo "$(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), shared with other work."
        echo
        echo "Executions: libFuzzer's \`stat::number_of_executed_units\`; time: its \`Done N runs in S second(s)\`;"
        echo "exec/s, coverage (edges), features and corpus: its final \`#N DONE\` line."
        echo
        echo "| target | executions | time | exec/s | coverage | features | corpus (inputs/bytes) |"
        echo "|---|---:|---:|---:|---:|---:|---|"
        printf '%s\n' "${rows[@]}"
        echo
        echo "No crash, leak, timeout or failed assertion in any run (fuzz/artifacts/ empty)."
    } >fuzz/RESULTS.md.tmp
    mv fuzz/RESULTS.md.tmp fuzz/RESULTS.md
    echo "wrote fuzz/RESULTS.md"
    ;;
*)
    echo "usage: $0 smoke|full|results [TARGET...]" >&2
    exit 2
    ;;
esac
