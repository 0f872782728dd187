#!/usr/bin/env bash
# check_symbols.sh - the library exports exactly its API: the set of `T` symbols in
# `nm -D --defined-only` must equal every tlsext_* function declared in the header plus the
# libssl names the preload layer interposes and the two drop-in functions.
#
#   check_symbols.sh [LIB] [HEADER]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lib=${1:-$here/../target/debug/libtlsext_shim.so}
header=${2:-$here/../include/tlsext_shim.h}
CC=${CC:-cc}

# libssl's names: interposed (LD_PRELOAD) or exported as real functions (drop-in).
openssl_names="
SSL_CTX_new
SSL_CTX_new_ex
SSL_CTX_ctrl
SSL_CTX_callback_ctrl
SSL_CTX_set_tlsext_ticket_key_evp_cb
SSL_CTX_set_client_hello_cb
SSL_CTX_set_session_ticket_cb
SSL_CTX_set_tlsext_ticket_key_cb
SSL_CTX_set_tlsext_servername_callback
"

tmp=$(mktemp -d /tmp/tlsext-symbols-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# The header's tlsext_* functions, comments stripped (cbindgen puts API names in comments).
"$CC" -fpreprocessed -dD -E -P -x c "$header" |
    grep -oE '\btlsext_[a-z0-9_]+[[:space:]]*\(' | tr -d '( \t' >"$tmp/header"
[ -s "$tmp/header" ] || { echo "no tlsext_* function found in $header" >&2; exit 1; }
{ cat "$tmp/header"; printf '%s\n' $openssl_names; } | sort -u >"$tmp/expected"

nm -D --defined-only "$lib" | awk '$2 == "T" { print $3 }' | sed 's/@.*//' | sort -u >"$tmp/actual"

if ! diff -u --label expected --label "exported by $(basename "$lib")" \
        "$tmp/expected" "$tmp/actual"; then
    echo "FAIL: exported T symbols differ from the header's tlsext_* functions plus:" \
        $openssl_names
    exit 1
fi
echo "ok: $(wc -l <"$tmp/actual") exported functions =" \
    "$(wc -l <"$tmp/header") tlsext_* from the header + $(printf '%s\n' $openssl_names | wc -l) SSL_CTX_*"
