#!/usr/bin/env bash
# run_preload.sh - managed mode: build/tls_probe (plain OpenSSL, not linked with the shim)
# preloaded with libtlsext_shim.so and TLSEXT_SHIM_TICKET_KEYS set.
#
#  - a good key file: tickets from context A resume on context B (one managed key for every
#    context), the application's setters still return 1, its own ticket callbacks are never
#    called, the servername and ClientHello callbacks still run with their own args, and
#    stderr has exactly one "the application set its own ..." line per context that set
#    keys or a callback;
#  - TLSEXT_SHIM_LOG=debug with TLSEXT_SHIM_RELOAD_INTERVAL=0s: same transcript, every stderr
#    line starts with "tlsext-shim[<pid>]: ";
#  - a bad key file ("garbage") or a missing one at startup: handshakes still complete, no
#    resumption across contexts, one error line on stderr naming the file.
# Key rotation through a key directory is tested elsewhere (the Rust tests).
#
#   run_preload.sh             the probe preloaded
#   run_preload.sh --valgrind  the same, every probe run under valgrind (0 errors, 0 leaks)
#
# Env: PROBE, LIB, VALGRIND (see preload_common.sh). Last line: "N passed, M failed".
set -euo pipefail
source "$(dirname "$0")/preload_common.sh"
parse_args "$@"

SNI=tlsext-c-tests.test
VERSIONS=(TLSv1.2 TLSv1.3)

# run_probe NAME "OPTIONS" VAR=VALUE...: the preloaded probe with only the given TLSEXT_SHIM_*
# variables; leaves $tmp/NAME.{out,err,rc,pid} (and NAME.vg under valgrind).
run_probe() {
    local name=$1 opts=$2
    shift 2
    local cmd=("${shim_env[@]}" "$@" LD_PRELOAD="$LIB")
    if [ "$use_valgrind" = 1 ]; then
        cmd+=("${VALGRIND_CMD[@]}" --log-file="$tmp/$name.vg")
    fi
    local rc=0
    # exec keeps the pid, so $tmp/NAME.pid is the pid the shim logs with.
    # shellcheck disable=SC2016,SC2086 # $$ is for the inner shell; $opts is a word list
    bash -c 'echo $$ >"$0"; exec "$@"' "$tmp/$name.pid" "${cmd[@]}" "$PROBE" $opts \
        >"$tmp/$name.out" 2>"$tmp/$name.err" || rc=$?
    echo "$rc" >"$tmp/$name.rc"
    echo "-- $name: tls_probe ${opts:-(no options)} with $*"
}

out_has() { grep -qF -- "$2" "$tmp/$1.out"; }
out_lacks() { ! grep -qF -- "$2" "$tmp/$1.out"; }
# count_is N FILE FIXED-STRING
count_is() { [ "$(grep -cF -- "$3" "$2" || true)" -eq "$1" ]; }
rc_is() { [ "$(cat "$tmp/$1.rc")" -eq "$2" ]; }

# After a case: valgrind's verdict, and on any failure the run's output for diagnosis.
finish_case() {
    local name=$1 failed_before=$2
    if [ "$use_valgrind" = 1 ]; then
        check "$name: valgrind reports 0 errors" grep -q 'ERROR SUMMARY: 0 errors' "$tmp/$name.vg"
    fi
    if [ "$failed" -ne "$failed_before" ]; then
        echo "   --- $name: exit $(cat "$tmp/$name.rc"); stderr:"
        sed 's/^/   | /' "$tmp/$name.err"
        echo "   --- stdout (ticket setters, results, totals):"
        grep -E '\] (result|app_|set_tlsext_ticket|get_)' "$tmp/$name.out" | sed 's/^/   | /' || true
        if [ "$use_valgrind" = 1 ]; then
            grep -E 'ERROR SUMMARY|lost:' "$tmp/$name.vg" | sed 's/^/   | /' || true
        fi
    fi
}

# The servername and ClientHello callbacks ran on every connection with their own args.
check_app_callbacks() {
    local name=$1 v conn tag
    for v in "${VERSIONS[@]}"; do
        for conn in full-A resume-A resume-B; do
            tag=${conn: -1}
            check "$name: $v $conn: client_hello_cb arg=$tag" \
                out_has "$name" "[$v $conn] client_hello_cb arg=$tag"
            check "$name: $v $conn: servername_cb arg=$tag name=$SNI" \
                out_has "$name" "[$v $conn] servername_cb arg=$tag name=$SNI"
        done
    done
}

mkdir -p "$tmp/keys"
head -c 80 /dev/urandom >"$tmp/keys/ticket80.key"
head -c 48 /dev/urandom >"$tmp/keys/ticket48.key"
printf 'garbage\n' >"$tmp/keys/garbage"
key=$tmp/keys/ticket80.key

# ---- Managed: every option combination with a good 80-byte key file -----------------------
for opts in "${PROBE_OPTIONS[@]}"; do
    name=managed-$(opt_name "$opts")
    f0=$failed
    run_probe "$name" "$opts" TLSEXT_SHIM_TICKET_KEYS="$key"
    check "$name: exit 0" rc_is "$name" 0
    contexts=0 # contexts on which the application set ticket keys or a ticket callback
    case " $opts " in *" --app-cb "* | *" --app-evp-cb "*) contexts=4 ;; *" --app-keys "*) contexts=2 ;; esac
    for v in "${VERSIONS[@]}"; do
        check "$name: $v full handshake on A" \
            out_has "$name" "[$v full-A] result ok=1 version=$v reused=0 "
        check "$name: $v resumption on A" \
            out_has "$name" "[$v resume-A] result ok=1 version=$v reused=1 "
        check "$name: $v resumption on B (one managed key across contexts)" \
            out_has "$name" "[$v resume-B] result ok=1 version=$v reused=1 "
        for ctx in A B; do
            check "$name: $v ctx-$ctx: set_tlsext_servername_callback -> 1" \
                out_has "$name" "[$v ctx-$ctx] set_tlsext_servername_callback -> 1"
            check "$name: $v ctx-$ctx: set_tlsext_servername_arg -> 1" \
                out_has "$name" "[$v ctx-$ctx] set_tlsext_servername_arg -> 1"
        done
        if [[ " $opts " == *" --app-keys "* ]]; then
            check "$name: $v ctx-A: set_tlsext_ticket_keys -> 1" \
                out_has "$name" "[$v ctx-A] set_tlsext_ticket_keys -> 1"
            check "$name: $v ctx-A: set_tlsext_ticket_keys(NULL) -> 80 (length query)" \
                out_has "$name" "[$v ctx-A] set_tlsext_ticket_keys(NULL) -> 80"
        fi
        for ctx in A B; do
            if [[ " $opts " == *" --app-cb "* ]]; then
                check "$name: $v ctx-$ctx: set_tlsext_ticket_key_cb -> 1" \
                    out_has "$name" "[$v ctx-$ctx] set_tlsext_ticket_key_cb -> 1"
            fi
            if [[ " $opts " == *" --app-evp-cb "* ]]; then
                check "$name: $v ctx-$ctx: set_tlsext_ticket_key_evp_cb -> 1" \
                    out_has "$name" "[$v ctx-$ctx] set_tlsext_ticket_key_evp_cb -> 1"
            fi
        done
        check "$name: $v the application's legacy ticket callback is never called" \
            out_has "$name" "[$v totals] app_ticket_key_cb calls=0 "
        check "$name: $v the application's EVP ticket callback is never called" \
            out_has "$name" "[$v totals] app_evp_ticket_cb calls=0 "
    done
    check "$name: no app ticket callback line at all" out_lacks "$name" "ticket_cb enc="
    check_app_callbacks "$name"
    check "$name: stderr: $contexts 'the application set its own' line(s), one per context" \
        count_is "$contexts" "$tmp/$name.err" "the application set its own"
    check "$name: stderr: one startup line naming the key file" \
        count_is 1 "$tmp/$name.err" "active; ticket keys: $key"
    check "$name: stderr: no error line" count_is 0 "$tmp/$name.err" ": error: "
    finish_case "$name" "$f0"
done

# ---- Managed with a 48-byte key ------------------------------------------------------------
name=managed-48
f0=$failed
run_probe "$name" "" TLSEXT_SHIM_TICKET_KEYS="$tmp/keys/ticket48.key"
check "$name: exit 0" rc_is "$name" 0
for v in "${VERSIONS[@]}"; do
    check "$name: $v resumption on B" out_has "$name" "[$v resume-B] result ok=1 version=$v reused=1 "
done
finish_case "$name" "$f0"

# ---- Debug log, reload check on every ticket operation ------------------------------------
name=managed-debug
f0=$failed
run_probe "$name" "--app-keys --app-cb" TLSEXT_SHIM_TICKET_KEYS="$key" \
    TLSEXT_SHIM_LOG=debug TLSEXT_SHIM_RELOAD_INTERVAL=0s
pid=$(cat "$tmp/$name.pid")
check "$name: exit 0" rc_is "$name" 0
check "$name: same transcript as without the debug log" \
    cmp -s "$tmp/managed-app-keys_app-cb.out" "$tmp/$name.out"
check "$name: stderr is not empty" test -s "$tmp/$name.err"
check "$name: every stderr line starts with 'tlsext-shim[$pid]: '" \
    bash -c '! grep -qvF -- "$1" "$2"' _ "tlsext-shim[$pid]: " "$tmp/$name.err"
check "$name: still one 'the application set its own' line per context (4)" \
    count_is 4 "$tmp/$name.err" "the application set its own"
check "$name: no error line" count_is 0 "$tmp/$name.err" ": error: "
finish_case "$name" "$f0"

# ---- Unusable key source at startup: a bad file, a missing file ---------------------------
bad_source_case() {
    local name=$1 path=$2 opts=$3 v f0=$failed
    run_probe "$name" "$opts" TLSEXT_SHIM_TICKET_KEYS="$path"
    check "$name: exit 0" rc_is "$name" 0
    check "$name: all 6 handshakes complete" count_is 6 "$tmp/$name.out" "] result ok=1 "
    for v in "${VERSIONS[@]}"; do
        check "$name: $v no resumption across contexts" \
            out_has "$name" "[$v resume-B] result ok=1 version=$v reused=0 "
    done
    check_app_callbacks "$name"
    check "$name: stderr: exactly one error line" count_is 1 "$tmp/$name.err" ": error: "
    check "$name: stderr: the error line names $path" \
        bash -c 'grep -F -- ": error: " "$1" | grep -qF -- "$2"' _ "$tmp/$name.err" "$path"
    finish_case "$name" "$f0"
}
bad_source_case bad-file "$tmp/keys/garbage" ""
bad_source_case bad-file-app "$tmp/keys/garbage" "--app-keys --app-cb"
bad_source_case missing-file "$tmp/keys/missing.key" ""

summary
