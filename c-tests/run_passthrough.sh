#!/usr/bin/env bash
# run_passthrough.sh - with no TLSEXT_SHIM_* variable the preloaded shim must be invisible:
# build/tls_probe, for every option combination, prints the same transcript (stdout), the
# same stderr and exits the same with LD_PRELOAD=libtlsext_shim.so as without it.
#
#   run_passthrough.sh             plain vs preloaded
#   run_passthrough.sh --valgrind  plain vs preloaded under valgrind (0 errors, 0 leaks)
#
# Env: PROBE, LIB, VALGRIND (see preload_common.sh). Last line: "N passed, M failed".
set -euo pipefail
source "$(dirname "$0")/preload_common.sh"
parse_args "$@"

for opts in "${PROBE_OPTIONS[@]}"; do
    name=$(opt_name "$opts")
    plain=$tmp/$name.plain
    pre=$tmp/$name.preload
    # shellcheck disable=SC2086 # $opts is a list of words
    rc_plain=0; "${shim_env[@]}" "$PROBE" $opts >"$plain.out" 2>"$plain.err" || rc_plain=$?
    what="tls_probe ${opts:-(no options)}: preloaded"
    rc_pre=0
    if [ "$use_valgrind" = 1 ]; then
        what="$what under valgrind"
        # shellcheck disable=SC2086
        "${shim_env[@]}" LD_PRELOAD="$LIB" "${VALGRIND_CMD[@]}" --log-file="$pre.vg" \
            "$PROBE" $opts >"$pre.out" 2>"$pre.err" || rc_pre=$?
    else
        # shellcheck disable=SC2086
        "${shim_env[@]}" LD_PRELOAD="$LIB" "$PROBE" $opts >"$pre.out" 2>"$pre.err" || rc_pre=$?
    fi

    if [ "$rc_plain" -ne 0 ]; then
        fail "$what: the plain run itself failed (exit $rc_plain)"
        cat "$plain.out" "$plain.err"
        continue
    fi
    if diff -u --label plain --label preloaded "$plain.out" "$pre.out"; then
        pass "$what: same transcript ($(wc -l <"$pre.out") lines)"
    else
        fail "$what: transcripts differ (diff above)"
    fi
    if diff -u --label "plain stderr" --label "preloaded stderr" "$plain.err" "$pre.err"; then
        pass "$what: same stderr"
    else
        fail "$what: stderr differs (diff above)"
    fi
    if [ "$rc_pre" -eq "$rc_plain" ]; then
        pass "$what: same exit status ($rc_pre)"
    else
        fail "$what: exit status $rc_pre, plain $rc_plain"
        if [ "$use_valgrind" = 1 ]; then cat "$pre.vg"; fi
    fi
    if [ "$use_valgrind" = 1 ]; then
        if grep -q 'ERROR SUMMARY: 0 errors' "$pre.vg"; then
            pass "$what: valgrind reports 0 errors"
        else
            fail "$what: valgrind errors"
            cat "$pre.vg"
        fi
    fi
done

summary
