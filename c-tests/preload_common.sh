# preload_common.sh - sourced by run_passthrough.sh and run_preload.sh (bash, set -euo pipefail).
#
# Provides: $PROBE (build/tls_probe), $LIB (the shim, absolute), $VALGRIND_CMD (array),
# $tmp (removed on exit), shim_env (an `env` prefix that unsets every TLSEXT_SHIM_* variable),
# the option combinations in $PROBE_OPTIONS, parse_args (the scripts' one option, --valgrind),
# and pass/fail counters with a summary.
#
# Valgrind and LD_PRELOAD: run `LD_PRELOAD=$LIB valgrind ... $PROBE`. Valgrind keeps the
# caller's LD_PRELOAD for the program it runs (after its own vgpreload_*.so), so the shim is
# interposed inside the checked program (run_preload.sh --valgrind proves it: cross-context
# resumption only works with the shim). The valgrind launcher (on Debian a sh wrapper and
# valgrind.bin) loads the library too, harmlessly: the shim does nothing until an SSL_CTX is
# made. `valgrind env LD_PRELOAD=... $PROBE` would check `env`, not the probe (children are
# not traced by default).

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROBE=${PROBE:-$here/build/tls_probe}
LIB=$(readlink -f "${LIB:-$here/../target/debug/libtlsext_shim.so}")
read -r -a VALGRIND_CMD <<<"${VALGRIND:-valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect}"

for f in "$PROBE" "$LIB"; do
    [ -e "$f" ] || { echo "missing $f" >&2; exit 2; }
done

# Every variable the shim reads (src/config/env.rs), and any other TLSEXT_SHIM_* set here.
SHIM_VARS=(TLSEXT_SHIM_TICKET_KEYS TLSEXT_SHIM_TICKET_KEY_FORMAT TLSEXT_SHIM_TICKET_ROTATE
    TLSEXT_SHIM_TICKET_LIFETIME TLSEXT_SHIM_RELOAD_INTERVAL TLSEXT_SHIM_LOG TLSEXT_SHIM_LOG_TO
    TLSEXT_SHIM_METRICS TLSEXT_SHIM_METRICS_INTERVAL TLSEXT_SHIM_CONFIG)
while read -r v; do
    [[ " ${SHIM_VARS[*]} " == *" $v "* ]] || SHIM_VARS+=("$v")
done < <(compgen -e | grep '^TLSEXT_SHIM_' || true)
shim_env=(env)
for v in "${SHIM_VARS[@]}"; do shim_env+=(-u "$v"); done

# Option combinations of the probe, one per line ("" = none).
PROBE_OPTIONS=("" "--app-keys" "--app-cb" "--app-evp-cb" "--app-keys --app-cb")

tmp=$(mktemp -d /tmp/tlsext-preload-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
# check DESCRIPTION COMMAND...: runs the command quietly, counts the outcome.
check() {
    local desc=$1
    shift
    if "$@" >/dev/null 2>&1; then pass "$desc"; else fail "$desc"; fi
}
summary() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}

# parse_args "$@": the scripts' command line, nothing or --valgrind; sets $use_valgrind (0/1).
parse_args() {
    use_valgrind=0
    case "${1:-}" in
    "") ;;
    --valgrind) use_valgrind=1 ;;
    *) echo "usage: $0 [--valgrind]" >&2; exit 2 ;;
    esac
}

# A file name for an option combination: "" -> none, "--app-keys --app-cb" -> app-keys_app-cb.
opt_name() {
    local n=${1//--/}
    n=${n// /_}
    echo "${n:-none}"
}
