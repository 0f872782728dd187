#!/usr/bin/env python3
"""Runs every benchmark of issue 5 and prints a summary (what `make bench` calls).

    python3 c-tests/bench/run.py [--quick] [--c-only] [--out DIR]

Expects the release library and the C programs built (`make bench` does both). Runs, in order:
the C sealer loop, the interleaved handshake timings, callgrind counts of the server per case
and of the shim's ticket callback alone, server memory with the session cache and with tickets,
vhost certificate loading, then the Rust criterion benchmarks (sealer, codec, sni) and a
callgrind count of the two ClientHello parsers. Everything is written to DIR (default
target/bench): each program's output, the callgrind files, results.json and summary.md (the
tables BENCHMARKS.md is made from). --quick shrinks every run (a smoke test, not for numbers).
"""

import argparse
import glob
import json
import os
import platform
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
BUILD = os.path.join(HERE, "..", "build", "bench")

METRIC = re.compile(r"^METRIC (\S+) (\S+)")


def log(msg):
    print(msg, flush=True)


class Runner:
    def __init__(self, out, quick):
        self.out = out
        self.quick = quick
        self.metrics = {}
        self.errors = []
        self.commands = []

    def run(self, name, cmd, env=None, cwd=None, timeout=900):
        """Runs cmd, saves its output to OUT/name.txt, collects METRIC lines."""
        shown = " ".join(cmd)
        if env:
            shown = " ".join(f"{k}={v}" for k, v in env.items()) + " " + shown
        self.commands.append(shown)
        log(f"== {name}: {shown}")
        full_env = dict(os.environ)
        full_env.update(env or {})
        start = time.time()
        try:
            p = subprocess.run(cmd, cwd=cwd or ROOT, env=full_env, capture_output=True, text=True,
                               timeout=timeout)
            text = p.stdout + p.stderr
            rc = p.returncode
        except subprocess.TimeoutExpired as e:
            text = (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
            rc = "timeout"
        with open(os.path.join(self.out, name + ".txt"), "w") as f:
            f.write(text)
        for line in text.splitlines():
            m = METRIC.match(line)
            if m:
                try:
                    self.metrics[m.group(1)] = float(m.group(2))
                except ValueError:
                    pass
        log(f"   done in {time.time() - start:.0f} s" + ("" if rc == 0 else f", FAILED ({rc})"))
        if rc != 0:
            self.errors.append(f"{name}: exit {rc} (see {name}.txt)")
        return text

    def callgrind(self, name, toggles, cmd, env=None):
        """Runs cmd under callgrind collecting only inside `toggles`; returns the out file."""
        outfile = os.path.join(self.out, f"callgrind.{name}.out")
        vg = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={outfile}",
               "--compress-strings=no", "--compress-pos=no"]
        vg += [f"--toggle-collect={t}" for t in toggles]
        self.run(name, vg + cmd, env=env, timeout=1800)
        return outfile


def inclusive(outfile, pattern):
    """Inclusive Ir of each function whose name matches `pattern` (regex, group 1 = name)."""
    p = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", outfile],
                       capture_output=True, text=True)
    found = {}
    for line in p.stdout.splitlines():
        m = re.match(r"\s*([\d,]+) \([^)]*\)\s+(.*)$", line)
        if not m:
            continue
        n = m.group(2)
        mm = re.search(pattern, n)
        if mm:
            found[mm.group(1)] = max(found.get(mm.group(1), 0), int(m.group(1).replace(",", "")))
    return found


def total_and_calls(outfile, callee):
    """Total collected Ir and the number of calls to functions whose name contains `callee`."""
    total, calls, cfn = 0, 0, ""
    with open(outfile) as f:
        for line in f:
            if line.startswith("summary:") or line.startswith("totals:"):
                total = max(total, int(line.split()[1]))
            elif line.startswith("cfn="):
                cfn = line[4:]
            elif line.startswith("calls=") and callee in cfn:
                calls += int(line[6:].split()[0])
    return total, calls


def call_edges(outfile):
    """Every caller -> callee edge of a callgrind file (uncompressed names): {(fn, cfn): Ir}."""
    edges, fn, cfn, pending = {}, "", "", False
    with open(outfile) as f:
        for line in f:
            if line.startswith("fn="):
                fn = line[3:].strip()
            elif line.startswith("cfn="):
                cfn = line[4:].strip()
            elif line.startswith("calls="):
                pending = True
            elif pending and line[:1].isdigit():
                pending = False
                parts = line.split()
                if len(parts) >= 2:
                    edges[(fn, cfn)] = edges.get((fn, cfn), 0) + int(parts[1])
    return edges


# OpenSSL 3.0.19's own ticket-key work inside construct_stateless_ticket / tls_decrypt_ticket
# (libssl is stripped, so the block is found by what it calls: the function that fetches the
# AES cipher, and of its callees these, plus the helper that calls EVP_MAC_init).
DEFAULT_KEY_BLOCK = ("EVP_CIPHER_fetch", "RAND_bytes_ex", "EVP_EncryptInit_ex", "EVP_DecryptInit_ex",
                     "EVP_CIPHER_free")


def default_key_block(outfile):
    """(key block Ir, whole ticket function Ir) of OpenSSL's default ticket path, or None."""
    edges = call_edges(outfile)
    parents = {fn for (fn, cfn) in edges if cfn == "EVP_CIPHER_fetch"}
    if len(parents) != 1:
        return None
    parent = parents.pop()
    macs = {cfn for (fn, cfn) in edges if fn == parent and (cfn, "EVP_MAC_init") in edges}
    block = sum(v for (fn, cfn), v in edges.items() if fn == parent and (cfn in DEFAULT_KEY_BLOCK or cfn in macs))
    whole = sum(v for (fn, cfn), v in edges.items() if cfn == parent)
    return block, whole


def criterion_median(group, bench):
    path = os.path.join(ROOT, "target", "criterion", group, bench, "new", "estimates.json")
    try:
        with open(path) as f:
            return json.load(f)["median"]["point_estimate"]
    except (OSError, KeyError, ValueError):
        return None


def machine():
    info = {}
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for key in ("Model name", "CPU(s)", "Thread(s) per core", "Hypervisor vendor"):
            m = re.search(rf"^{re.escape(key)}:\s*(.*)$", lscpu, re.M)
            if m:
                info[key] = m.group(1).strip()
    except OSError:
        pass
    info["OpenSSL"] = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.strip()
    info["kernel"] = platform.release()
    info["rustc"] = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    info["valgrind"] = subprocess.run(["valgrind", "--version"], capture_output=True, text=True).stdout.strip()
    try:
        info["load average at start"] = " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        pass
    return info


CASES = ["tls12_full", "tls12_resumed", "tls13_full", "tls13_resumed"]


def c_benches(r):
    q = r.quick
    b = lambda prog: os.path.join(BUILD, prog)  # noqa: E731
    # 3. the sealer through the C API, interleaved with libcrypto doing the same.
    r.run("c_seal", [b("bench_seal")] + (["5", "500"] if q else ["101", "2000"]))
    # 1 and 7, wall clock: every case, openssl/shim interleaved.
    r.run("handshake_time", [b("bench_handshake"), "time"] + (["3", "5"] if q else ["41", "40"]))
    # 1, instructions: the server's calls per case (toggle on srv_*).
    n = 5 if q else 100
    f = r.callgrind("handshake_callgrind", ["srv_*"], [b("bench_handshake"), "count", str(n)])
    per = inclusive(f, r"(srv_\w+)")
    for mode in ("openssl", "shim"):
        for case in CASES:
            key = f"srv_{mode}_{case}"
            if key in per:
                r.metrics[f"ir_server_{mode}_{case}"] = per[key] / n
    # 1, what-if: a best-case legacy (HMAC_CTX) callback, next to OpenSSL's keys and the shim.
    r.run("legacy_time", [b("bench_legacy"), "time"] + (["3", "5"] if q else ["41", "40"]))
    f = r.callgrind("legacy_callgrind", ["srv_*"], [b("bench_legacy"), "count", str(n)])
    for k, v in inclusive(f, r"srv_(\w+)_tls12_resumed").items():
        r.metrics[f"ir_legacy_bench_{k}"] = v / n
    f = r.callgrind("legacy_callback", ["legacy_cb"], [b("bench_legacy"), "count", str(n)])
    total, calls = total_and_calls(f, "legacy_cb")
    if calls:
        r.metrics["ir_legacy_bench_callback"] = total / calls
    # 2. OpenSSL's default key block inside real handshakes, one case at a time.
    for op, case in (("issue", "tls12_full"), ("decrypt", "tls12_resumed")):
        f = r.callgrind(f"default_{case}", ["srv_*"], [b("bench_handshake"), "count", str(n), f"openssl_{case}"])
        found = default_key_block(f)
        if found is None:
            r.errors.append(f"default_{case}: OpenSSL's ticket key block not found in the call graph")
        else:
            r.metrics[f"ir_default_block_{case}"] = found[0] / n
            r.metrics[f"ir_default_ticket_fn_{case}"] = found[1] / n
    # 2. the shim's callback alone, one case at a time (each handshake makes known calls).
    for case in CASES:
        f = r.callgrind(f"callback_{case}", ["*ticket_key_evp_cb*"],
                        [b("bench_handshake"), "count", str(n), f"shim_{case}"])
        total, calls = total_and_calls(f, "ticket_key_evp_cb")
        r.metrics[f"ir_callback_{case}_total"] = total / n
        r.metrics[f"callback_{case}_calls_per_hs"] = calls / n if n else 0
    # 5. memory per resumable client.
    clients = "3000" if q else "100000"
    r.run("memory_cache", [b("bench_memory"), "cache", clients, "13"], timeout=1800)
    r.run("memory_tickets", [b("bench_memory"), "tickets", clients, "13"], timeout=1800)
    # 6. startup with many vhost certificates.
    r.run("certs", [b("bench_certs")] + (["100", "1"] if q else ["1000", "5"]))


def rust_benches(r):
    crit = ["--warm-up-time", "0.3", "--measurement-time", "0.5" if r.quick else "2"]
    r.run("cargo_build_benches", ["cargo", "bench", "--no-run", "--bench", "sealer", "--bench", "codec",
                                  "--bench", "sni", "--bench", "handshake"], timeout=1800)
    r.run("rust_sealer", ["cargo", "bench", "--bench", "sealer", "--"] + crit)
    r.run("rust_codec", ["cargo", "bench", "--bench", "codec", "--"] + crit)
    r.run("rust_sni", ["cargo", "bench", "--bench", "sni", "--"] + crit)
    r.run("rust_handshake", ["cargo", "bench", "--bench", "handshake", "--"] + crit)
    for g, b in (("seal_200B", "rust_sealer"), ("seal_200B", "openssl_evp"), ("open_200B", "rust_sealer"),
                 ("open_200B", "openssl_evp"), ("clienthello_all_fixtures", "ours"),
                 ("clienthello_all_fixtures", "tls_parser"), ("vhost_lookup_100k", "exact"),
                 ("vhost_lookup_100k", "wildcard"), ("vhost_lookup_100k", "miss"),
                 ("ticket_issue", "shim_callback"), ("ticket_issue", "openssl_default"),
                 ("ticket_decrypt", "shim_callback"), ("ticket_decrypt", "openssl_default")):
        v = criterion_median(g, b)
        if v is not None:
            r.metrics[f"criterion_{g}_{b}_ns"] = v
    # 2, in isolation: the callback and OpenSSL's default path called directly.
    exe = bench_exe("handshake")
    if exe:
        n = 20 if r.quick else 200
        f = r.callgrind("ticket_ops_callgrind", ["*ticket_op_*"], [exe], env={"TLSEXT_BENCH_COUNT": str(n)})
        for k, v in inclusive(f, r"ticket_op_(\w+) \[").items():
            r.metrics[f"ir_op_{k}"] = v / n
    else:
        r.errors.append("handshake bench executable not found")
    # 4, instructions: both parsers over every fixture, N times each.
    exe = bench_exe("codec")
    if exe:
        n = 50 if r.quick else 2000
        f = r.callgrind("codec_callgrind", ["*codec_ours*", "*codec_tls_parser*"], [exe],
                        env={"TLSEXT_BENCH_COUNT": str(n)})
        per = inclusive(f, r"(codec_ours|codec_tls_parser)\b")
        parses = r.metrics.get("codec_count_parses", 0) or 1
        for k, v in per.items():
            r.metrics[f"ir_{k}_per_parse"] = v / parses
    else:
        r.errors.append("codec bench executable not found")


def bench_exe(name):
    """The newest built executable of `cargo bench --bench name`."""
    exe = sorted(glob.glob(os.path.join(ROOT, "target", "release", "deps", f"{name}-*")), key=os.path.getmtime)
    exe = [e for e in exe if os.access(e, os.X_OK) and not e.endswith(".d")]
    return exe[-1] if exe else None


def fmt(v, unit="", digits=0):
    if v is None:
        return "n/a"
    return f"{v:,.{digits}f}{unit}"


def ratio(a, b):
    return None if a is None or not b else a / b


def verdict(ok):
    return "n/a" if ok is None else ("**met**" if ok else "**missed**")


def summarize(r, info):
    m = r.metrics.get
    lines = []
    add = lines.append
    add("## Machine\n")
    for k, v in info.items():
        add(f"- {k}: {v}")
    add("")

    add("## 1. Resumed-handshake server cost (same process, modes interleaved)\n")
    add("| case | server Ir, OpenSSL keys | server Ir, shim ring | ratio (Ir) | server time, OpenSSL | "
        "server time, shim | ratio (time) |")
    add("|---|---:|---:|---:|---:|---:|---:|")
    for case in CASES:
        a, b = m(f"ir_server_openssl_{case}"), m(f"ir_server_shim_{case}")
        ta, tb = m(f"time_server_openssl_{case}"), m(f"time_server_shim_{case}")
        add(f"| {case.replace('_', ' ')} | {fmt(a)} | {fmt(b)} | {fmt(ratio(b, a), 'x', 3)} | "
            f"{fmt(ta and ta / 1e3, ' us', 1)} | {fmt(tb and tb / 1e3, ' us', 1)} | {fmt(ratio(tb, ta), 'x', 3)} |")
    r12 = ratio(m("ir_server_shim_tls12_resumed"), m("ir_server_openssl_tls12_resumed"))
    r13 = ratio(m("ir_server_shim_tls13_resumed"), m("ir_server_openssl_tls13_resumed"))
    g1a = None if r12 is None else r12 <= 0.95
    g1b = None if r13 is None else r13 <= 1.0
    add(f"\nGoal TLS 1.2 resumed at least 5% cheaper (<= 0.95x): {verdict(g1a)} ({fmt(r12, 'x', 3)}); "
        f"TLS 1.3 resumed no more expensive (<= 1.00x): {verdict(g1b)} ({fmt(r13, 'x', 3)}).\n")

    block = m("ir_default_block_tls12_resumed")
    fn = m("ir_default_ticket_fn_tls12_resumed")
    base = m("ir_server_openssl_tls12_resumed")
    if None not in (block, fn, base):
        add(f"Bound: in OpenSSL's resumed TLS 1.2 handshake, all of tls_decrypt_ticket is {fmt(fn)} Ir "
            f"({fmt(100 * fn / base, '%', 1)}) and its key block (what a key callback replaces) {fmt(block)} Ir "
            f"({fmt(100 * block / base, '%', 1)}); a callback costing nothing would reach "
            f"{fmt(1 - block / base, 'x', 3)}.\n")

    lo, ls, ll = (m(f"ir_legacy_bench_{k}") for k in ("openssl", "shim", "legacy"))
    lcb = m("ir_legacy_bench_callback")
    if None not in (lo, ls, ll):
        add("What-if, `bench_legacy`: the legacy `HMAC_CTX` callback at its best (one key; MAC and "
            "cipher contexts keyed once and copied per ticket; no lookup), resumed TLS 1.2, server Ir:\n")
        add("| OpenSSL keys | shim (EVP callback) | legacy callback, best case | legacy callback's own Ir |")
        add("|---:|---:|---:|---:|")
        add(f"| {fmt(lo)} | {fmt(ls)} ({fmt(ratio(ls, lo), 'x', 3)}) | {fmt(ll)} ({fmt(ratio(ll, lo), 'x', 3)}) "
            f"| {fmt(lcb)} |")
        if lcb is not None:
            add(f"\nEven that route with a callback costing nothing would reach "
                f"{fmt(ratio(ll - lcb, lo), 'x', 3)}.\n")

    add("## 2. Instructions per ticket operation: the shim's callback vs OpenSSL's default path\n")
    add("Both measured inside real handshakes of the same program: the shim's callback (callgrind "
        "toggled on it) and OpenSSL's default key block (in a run of the openssl case: the calls of "
        "the libssl function that fetches AES-256-CBC: EVP_CIPHER_fetch, RAND_bytes_ex, "
        "EVP_EncryptInit_ex/EVP_DecryptInit_ex, the EVP_MAC_init helper, EVP_CIPHER_free).\n")
    add("| operation | case | shim callback Ir | OpenSSL default Ir | ratio |")
    add("|---|---|---:|---:|---:|")
    rows = {}
    for op, case in (("issue", "tls12_full"), ("decrypt", "tls12_resumed")):
        cb = m(f"ir_callback_{case}_total")
        calls = m(f"callback_{case}_calls_per_hs")
        default = m(f"ir_default_block_{case}")
        if None in (cb, calls, default) or not calls or not default:
            add(f"| {op} | {case} | n/a | n/a | n/a |")
            continue
        ours = cb / calls
        rows[op] = ours / default
        add(f"| {op} | {case.replace('_', ' ')} | {fmt(ours)} | {fmt(default)} | {fmt(ours / default, 'x', 3)} |")
    for case in ("tls13_full", "tls13_resumed"):
        cb, calls = m(f"ir_callback_{case}_total"), m(f"callback_{case}_calls_per_hs")
        if cb is not None and calls:
            add(f"| all ({fmt(calls, '', 0)} calls/handshake) | {case.replace('_', ' ')} | {fmt(cb)} per handshake "
                f"| | |")
    add("\nIn isolation (benches/handshake.rs: each operation on fresh contexts, the callback called "
        "directly, OpenSSL 3.0's default block replayed with the same libcrypto calls):\n")
    add("| operation | shim callback Ir | OpenSSL default Ir | ratio | shim time | OpenSSL time | ratio (time) |")
    add("|---|---:|---:|---:|---:|---:|---:|")
    for op in ("issue", "decrypt"):
        a, b = m(f"ir_op_{op}_shim"), m(f"ir_op_{op}_openssl")
        ta, tb = m(f"criterion_ticket_{op}_shim_callback_ns"), m(f"criterion_ticket_{op}_openssl_default_ns")
        add(f"| {op} | {fmt(a)} | {fmt(b)} | {fmt(ratio(a, b), 'x', 3)} | {fmt(ta, ' ns')} | {fmt(tb, ' ns')} | "
            f"{fmt(ratio(ta, tb), 'x', 3)} |")
        if ratio(a, b) is not None:
            rows[op + " (isolated)"] = ratio(a, b)
    g2 = None if len(rows) < 2 else max(rows.values()) <= 0.8
    add(f"\nGoal at most 0.8x: {verdict(g2)}.\n")

    add("## 3. Sealer, 200-byte session (AES-256-CBC + HMAC-SHA256)\n")
    add("| | shim | OpenSSL EVP | ratio |")
    add("|---|---:|---:|---:|")
    for op in ("seal", "open"):
        a, b = m(f"c_shim_{op}_ns"), m(f"c_evp_{op}_ns")
        add(f"| {op}, C API loop (median of interleaved rounds) | {fmt(a, ' ns', 1)} | {fmt(b, ' ns', 1)} | "
            f"{fmt(ratio(a, b), 'x', 3)} |")
    for op in ("seal", "open"):
        a, b = m(f"criterion_{op}_200B_rust_sealer_ns"), m(f"criterion_{op}_200B_openssl_evp_ns")
        add(f"| {op}, Rust API, criterion median | {fmt(a, ' ns', 1)} | {fmt(b, ' ns', 1)} | {fmt(ratio(a, b), 'x', 3)} |")
    s, o = m("c_shim_seal_ns"), m("c_shim_open_ns")
    g3 = None if s is None or o is None else (s < 600 and o < 400)
    add(f"\nGoal seal < 600 ns and open < 400 ns (C API loop): {verdict(g3)}. "
        f"IVs distinct across fork(): {'yes' if m('c_fork_ivs_distinct') == 1 else 'NO'}.\n")

    add("## 4. ClientHello parsing vs tls-parser (captured fixtures)\n")
    a, b = m("ir_codec_ours_per_parse"), m("ir_codec_tls_parser_per_parse")
    ta, tb = m("criterion_clienthello_all_fixtures_ours_ns"), m("criterion_clienthello_all_fixtures_tls_parser_ns")
    add("| | ours | tls-parser | speed-up |")
    add("|---|---:|---:|---:|")
    add(f"| instructions per hello (callgrind) | {fmt(a)} | {fmt(b)} | {fmt(ratio(b, a), 'x', 2)} |")
    add(f"| time for all {fmt(m('codec_fixtures'))} fixtures (criterion median) | {fmt(ta, ' ns')} | {fmt(tb, ' ns')} | "
        f"{fmt(ratio(tb, ta), 'x', 2)} |")
    add(f"| allocations, all fixtures once | {fmt(m('codec_allocs_ours'))} | {fmt(m('codec_allocs_tls_parser'))} | |")
    sp = ratio(b, a)
    g4 = None if sp is None or m("codec_allocs_ours") is None else (sp >= 2 and m("codec_allocs_ours") == 0)
    add(f"\nGoal at least 2x faster and zero allocations: {verdict(g4)}.\n")

    add("## 5. Server memory per resumable client (TLS 1.3)\n")
    add("| | session cache | tickets (shim) |")
    add("|---|---:|---:|")
    for key, label in (("clients", "clients"), ("cached_sessions", "sessions in the server cache"),
                       ("rss_before", "VmRSS before (KiB)"), ("rss_after", "VmRSS after (KiB)"),
                       ("rss_per_client", "VmRSS growth per client (bytes)"),
                       ("heap_per_client", "heap growth per client (bytes)"),
                       ("samples_resumed", "sample clients resumed (of 3)")):
        add(f"| {label} | {fmt(m(f'mem_cache_tls13_{key}'))} | {fmt(m(f'mem_tickets_tls13_{key}'))} |")
    t = m("mem_tickets_tls13_heap_per_client")
    g5 = None if t is None else t < 64
    add(f"\nGoal tickets flat (< 64 bytes per client): {verdict(g5)}.\n")

    add("## 6. SNI\n")
    add("| | value |")
    add("|---|---:|")
    for b in ("exact", "wildcard", "miss"):
        v = m(f"criterion_vhost_lookup_100k_{b}_ns")
        add(f"| lookup among 100 000 names, {b} (ns per lookup) | {fmt(v and v / 1024, ' ns', 1)} |")
    add(f"| heap bytes per name in VhostTable | {fmt(m('sni_bytes_per_name'), '', 1)} |")
    add(f"| allocations per lookup | {fmt(m('sni_lookup_allocs'))} |")
    add(f"| load {fmt(m('certs_vhosts'))} vhost certificates, plain libssl (one SSL_CTX each) | {fmt(m('certs_openssl_ms'), ' ms', 1)} |")
    add(f"| load {fmt(m('certs_vhosts'))} vhost certificates, shim SNI router | {fmt(m('certs_shim_ms'), ' ms', 1)} |")
    add("")

    add("## 7. Full vs resumed handshakes (what resumption buys), shim mode\n")
    add("| | server time | server handshakes/s (one core) | whole handshake (both sides) | server Ir |")
    add("|---|---:|---:|---:|---:|")
    for case in CASES:
        ts, tw, ir = m(f"time_server_shim_{case}"), m(f"time_whole_shim_{case}"), m(f"ir_server_shim_{case}")
        add(f"| {case.replace('_', ' ')} | {fmt(ts and ts / 1e3, ' us', 1)} | {fmt(ts and 1e9 / ts)} | "
            f"{fmt(tw and tw / 1e3, ' us', 1)} | {fmt(ir)} |")
    for v in ("tls12", "tls13"):
        f, rs = m(f"time_server_shim_{v}_full"), m(f"time_server_shim_{v}_resumed")
        add(f"\n{v.upper().replace('TLS1', 'TLS 1.')}: a resumed handshake costs the server {fmt(ratio(rs, f), 'x', 2)} "
            f"of a full one ({fmt(ratio(f, rs), 'x', 1)} the rate).")
    add("")
    goals = {"1a": g1a, "1b": g1b, "2": g2, "3": g3, "4": g4, "5": g5}
    return "\n".join(lines), goals


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--c-only", action="store_true")
    ap.add_argument("--out", default=os.path.join(ROOT, "target", "bench"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    r = Runner(args.out, args.quick)
    info = machine()
    start = time.time()
    c_benches(r)
    if not args.c_only:
        rust_benches(r)
    text, goals = summarize(r, info)
    text += f"\nTotal run time: {time.time() - start:.0f} s.\n"
    text += "\n## Commands\n\n```\n" + "\n".join(r.commands) + "\n```\n"
    if r.errors:
        text += "\n## Errors\n\n" + "\n".join(f"- {e}" for e in r.errors) + "\n"
    with open(os.path.join(args.out, "summary.md"), "w") as f:
        f.write(text)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump({"machine": info, "metrics": r.metrics, "goals": goals, "errors": r.errors}, f, indent=1,
                  sort_keys=True)
    print()
    print(text)
    print("goals: " + ", ".join(f"{k} {'met' if v else ('n/a' if v is None else 'MISSED')}"
                                for k, v in goals.items()))
    print(f"results in {args.out}/summary.md and results.json")
    return 1 if r.errors else 0


if __name__ == "__main__":
    sys.exit(main())
