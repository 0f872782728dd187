//! The metrics a preloaded server writes (TLSEXT_SHIM_METRICS): a Prometheus textfile per
//! process, counting what really happened on the wire, and `tlsext-shim stats` reading it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use std::thread::sleep;
use std::time::Duration;

use common::*;
use tlsext_shim::metrics::{Refusal, Snapshot};

#[test]
fn a_preloaded_server_writes_counters_that_match_the_handshakes() {
    require!("openssl");
    let dir = TempDir::new("t-metrics");
    let cert = Cert::localhost(dir.path());
    let keys = dir.subdir("keys");
    let key = write_nginx_key(&keys.join("01.key"), 80);
    let metrics = dir.subdir("metrics");
    // A file left by a process that no longer exists is removed by the next writer.
    std::fs::write(metrics.join("tlsext_shim_999999999.prom"), "# stale\n").unwrap();
    let env = Env::shim(&keys)
        .set("TLSEXT_SHIM_METRICS", &metrics)
        .set("TLSEXT_SHIM_METRICS_INTERVAL", "1s");
    let server = SServer::start(SServerOpts::new(&cert).env(env));
    let other = dir.join("other.key");
    write_nginx_key(&other, 80);
    let stranger = SServer::start(SServerOpts::new(&cert).env(Env::shim(&other)));
    for tls in Tls::BOTH {
        let s = dir.sess("s", tls);
        issue(server.port(), tls, &s).assert_tickets_named(&key, "first ticket");
        resume(server.port(), tls, &s).assert_resumed(tls, "resumption");
        // A ticket sealed by another fleet's key: refused as unknown_key.
        let foreign = dir.sess("f", tls);
        issue(stranger.port(), tls, &foreign);
        resume(server.port(), tls, &foreign).assert_full_handshake(tls, "foreign ticket");
    }
    sleep(Duration::from_millis(1100));
    issue(server.port(), Tls::V13, &dir.join("last.pem")); // triggers the write
    let files: Vec<_> = std::fs::read_dir(&metrics)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        files.len(),
        1,
        "one file per live process, stale ones removed: {files:?}"
    );
    let text = std::fs::read_to_string(metrics.join(&files[0])).unwrap();
    assert!(
        text.contains("# HELP tlsext_shim_") && text.contains("# TYPE tlsext_shim_"),
        "{text}"
    );
    let parsed = Snapshot::from_prometheus(&text).unwrap();
    let s = parsed.snapshot;
    assert_eq!(s.resumed_tls12, 1, "{text}");
    assert_eq!(s.resumed_tls13, 1, "{text}");
    assert_eq!(s.refusals(Refusal::UnknownKey), 2, "{text}");
    assert!(s.handshakes >= 6, "{text}");
    assert!(s.tickets_issued.iter().any(|(n, c)| n.0 == key && *c >= 4), "{text}");
    // The CLI reads the same file.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tlsext-shim"))
        .arg("stats")
        .arg(&metrics)
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{table}");
    assert!(table.contains("unknown_key") && table.contains(&hex(&key)), "{table}");
}
