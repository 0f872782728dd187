#!/usr/bin/env bash
# `make demo`: two unmodified `openssl s_server` processes share one key directory through
# the shim; a ticket from server 1 resumes on server 2; a live rotation renews it under the
# new key; a ticket of a retired key falls back to a full handshake. Loopback only.
set -euo pipefail

here=$(cd "$(dirname "$0")/../.." && pwd)
lib=${TLSEXT_SHIM_LIB:-$here/target/debug/libtlsext_shim.so}
[ -f "$lib" ] || { echo "demo: $lib is missing (run make build)" >&2; exit 1; }

work=$(mktemp -d /tmp/tlsext-demo.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "${DEMO_KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; echo "demo: port $1 never opened" >&2; return 1; }

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
  -keyout "$work/key.pem" -out "$work/cert.pem" -days 1 2>/dev/null
mkdir "$work/keys"
head -c 80 /dev/urandom > "$work/keys/10-first.key"

start_server() { # name port
  LD_PRELOAD=$lib TLSEXT_SHIM_TICKET_KEYS=$work/keys TLSEXT_SHIM_RELOAD_INTERVAL=0s TLSEXT_SHIM_LOG=info \
    openssl s_server -accept "127.0.0.1:$2" -cert "$work/cert.pem" -key "$work/key.pem" -www -quiet \
    >"$work/$1.log" 2>&1 &
  pids+=($!)
  wait_port "$2"
}
p1=$(free_port); start_server server1 "$p1"
p2=$(free_port); start_server server2 "$p2"

# The name of the key that sealed the last ticket the server issued, from `s_client -msg`
# (NewSessionTicket: TLS 1.2 lifetime(4) len(2) ticket; TLS 1.3 lifetime(4) age_add(4)
# nonce(1+n) len(2) ticket; the ticket starts with its 16-byte key name), or "-" for none.
issued_key() {
  python3 - "$1" <<'PY'
import re, sys
blocks, cur = [], None
for line in open(sys.argv[1], errors="replace"):
    if line.startswith(("<<<", ">>>")):
        cur = None
        if "NewSessionTicket" in line and line.startswith("<<<"):
            cur = {"tls13": "TLS 1.3" in line, "hex": []}
            blocks.append(cur)
    elif cur is not None and re.match(r"^\s+([0-9a-f]{2} )*[0-9a-f]{2}\s*$", line):
        cur["hex"] += line.split()
if not blocks:
    print("-"); sys.exit()
b = bytes(int(x, 16) for x in blocks[-1]["hex"])[4:]
off = 4 + (4 + 1 + b[8] if blocks[-1]["tls13"] else 0) + 2
print(b[off:off + 16].hex() if len(b) >= off + 16 else "-")
PY
}

connect() { # label server port version sess_in sess_out [s_client args...]
  local label=$1 server=$2 port=$3 ver=$4 in=$5 out=$6 args=() result key
  shift 6
  args+=("$@")
  [ -n "$in" ] && args+=(-sess_in "$in")
  n=$(($(ls "$work" | grep -c '^client') + 1))
  printf 'GET / HTTP/1.0\r\n\r\n' | openssl s_client -connect "127.0.0.1:$port" "$ver" \
    "${args[@]}" -sess_out "$out" -msg -ign_eof >"$work/client$n.txt" 2>/dev/null || true
  result=$(awk '/^(New|Reused),/{print $1; exit}' "$work/client$n.txt" | tr -d ,)
  key=$(issued_key "$work/client$n.txt")
  printf '%-30s %-8s %-7s %-7s %s\n' "$label" "$server" "${ver#-}" "${result:-failed}" "$key" >>"$work/rows"
  echo "$result $key"
}
passed=0
expect() { # actual-result expected-result what
  [ "${1%% *}" = "$2" ] || { echo "demo: expected $2, got '${1%% *}' ($3)" >&2; echo "demo: $passed passed, 1 failed"; exit 1; }
  passed=$((passed + 1))
}
keyname() { # file -> hex name of the 80-byte nginx-format key in it
  head -c 16 "$1" | od -An -tx1 | tr -d ' \n'
}

for ver in -tls1_2 -tls1_3; do
  r=$(connect "full handshake" server1 "$p1" $ver "" "$work/s1$ver"); expect "$r" New "first contact"
  r=$(connect "resume server1's ticket" server2 "$p2" $ver "$work/s1$ver" "$work/s2$ver")
  expect "$r" Reused "cross-server resumption"
done

first=$(keyname "$work/keys/10-first.key")
head -c 80 /dev/urandom > "$work/keys/20-second.key"   # rotate: the new key sorts last and encrypts
second=$(keyname "$work/keys/20-second.key")
for ver in -tls1_2 -tls1_3; do
  r=$(connect "after rotation: old ticket" server2 "$p2" $ver "$work/s1$ver" "$work/r$ver")
  expect "$r" Reused "old ticket after rotation"
  [ "${r#* }" = "$second" ] || { echo "demo: the old ticket was not renewed under the new key ($r)" >&2; exit 1; }
  passed=$((passed + 1))
done

rm "$work/keys/10-first.key"                            # retire the first key
for ver in -tls1_2 -tls1_3; do
  r=$(connect "retired key's ticket" server1 "$p1" $ver "$work/s1$ver" "$work/x$ver"); expect "$r" New "retired key"
  r=$(connect "resume the new ticket" server2 "$p2" $ver "$work/x$ver" "$work/y$ver"); expect "$r" Reused "new ticket"
done

# SNI: one server with its own certificate serves two more names from a config file; a
# ticket issued under one name is refused under the other (stock OpenSSL would resume it).
for n in www apps; do
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$n.example.test" \
    -addext "subjectAltName=DNS:$n.example.test" -keyout "$work/$n.key" -out "$work/$n.pem" -days 365 2>/dev/null
done
cat >"$work/shim.toml" <<TOML
[tickets]
keys = "$work/keys"
reload_interval = "0s"
[log]
level = "info"
[[sni.vhost]]
names = ["www.example.test"]
cert = "www.pem"
key = "www.key"
[[sni.vhost]]
names = ["apps.example.test"]
cert = "apps.pem"
key = "apps.key"
TOML
p3=$(free_port)
LD_PRELOAD=$lib TLSEXT_SHIM_CONFIG=$work/shim.toml \
  openssl s_server -accept "127.0.0.1:$p3" -cert "$work/cert.pem" -key "$work/key.pem" -www -quiet >"$work/server3.log" 2>&1 &
pids+=($!)
wait_port "$p3"
subject() { printf 'GET / HTTP/1.0\r\n\r\n' | openssl s_client -connect "127.0.0.1:$p3" "$@" -ign_eof 2>/dev/null | sed -n 's/^subject=.*CN *= *//p' | head -1; }
for ver in -tls1_2 -tls1_3; do
  [ "$(subject $ver -servername www.example.test)" = www.example.test ] || { echo "demo: www.example.test got the wrong certificate" >&2; exit 1; }
  [ "$(subject $ver -servername apps.example.test)" = apps.example.test ] || { echo "demo: apps.example.test got the wrong certificate" >&2; exit 1; }
  passed=$((passed + 2))
  r=$(connect "SNI www: full handshake" server3 "$p3" $ver "" "$work/w$ver" -servername www.example.test); expect "$r" New "www full"
  r=$(connect "SNI www: resume as www" server3 "$p3" $ver "$work/w$ver" "$work/w2$ver" -servername www.example.test)
  expect "$r" Reused "same-name resumption"
  r=$(connect "SNI www ticket, as apps" server3 "$p3" $ver "$work/w$ver" "$work/w3$ver" -servername apps.example.test)
  expect "$r" New "cross-vhost ticket refused"
done

echo
echo "keys: first = $first, second = $second (added live, then the first was removed)"
printf '%-30s %-8s %-7s %-7s %s\n' "step" "server" "version" "result" "new ticket sealed by key"
cat "$work/rows"
echo
echo "What the servers logged:"
grep -h "tlsext-shim" "$work/server1.log" "$work/server2.log" "$work/server3.log" | sed 's/\[[0-9]*\]//' | sort | uniq -c
echo
echo "demo: OK - two servers shared keys, resumed each other's tickets, rotated live and retired a key;"
echo "      a third served two names by SNI and refused a ticket under the other name."
echo "demo: $passed passed, 0 failed"
