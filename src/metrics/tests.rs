use std::path::PathBuf;

use super::prom::{self, parse};
use super::textfile::{pid_of, remove_stale, write_text_for_test};
use super::*;

fn name(b: u8) -> KeyName {
    let mut n = [0x11u8; 16];
    n[0] = b;
    KeyName(n)
}

fn busy() -> Metrics {
    let m = Metrics::new();
    m.register_vhosts(&["www.example.com".into(), "api \"quoted\"\\".into()]);
    for _ in 0..3 {
        m.handshake();
    }
    m.ticket_issued(&name(1));
    m.ticket_issued(&name(2));
    m.ticket_issued(&name(1));
    m.resumed(Tls::V12);
    m.resumed(Tls::V13);
    m.resumed(Tls::V13);
    m.renewed();
    m.refused(Refusal::UnknownKey);
    m.refused(Refusal::BadMacOrPadding);
    m.refused(Refusal::BadMacOrPadding);
    for age in [0, 60, 61, 3600, 700_000] {
        m.ticket_age(age);
    }
    m.vhost_handshake(0);
    m.vhost_handshake(1);
    m.vhost_resumed(1);
    m.strict_refusal(VHOST_SLOTS + 5);
    m.vhost_handshake(7);
    m.key_reload(true);
    m.key_reload(false);
    m.cert_reload(true);
    m
}

#[test]
fn counters_land_in_the_snapshot() {
    let s = busy().snapshot();
    assert_eq!(s.handshakes, 3);
    assert_eq!(s.tickets_issued, vec![(name(1), 2), (name(2), 1)]);
    assert_eq!(s.issued(), 3);
    assert_eq!((s.resumed_tls12, s.resumed_tls13, s.resumed()), (1, 2, 3));
    assert_eq!(s.renewed, 1);
    assert_eq!(s.refusals(Refusal::UnknownKey), 1);
    assert_eq!(s.refusals(Refusal::BadMacOrPadding), 2);
    assert_eq!(s.refused_total(), 3);
    assert_eq!(s.ticket_age.buckets, [2, 1, 0, 1, 0, 0, 0, 0, 0, 1]);
    assert_eq!(s.ticket_age.count(), 5);
    assert_eq!(s.ticket_age.sum, 60 + 61 + 3600 + 700_000);
    let names: Vec<&str> = s.vhosts.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["www.example.com", "api \"quoted\"\\", "#7", "other"]);
    assert_eq!(s.vhosts[1].resumed, 1);
    assert_eq!(s.vhosts[3].strict_refusals, 1);
    assert_eq!((s.key_reloads_ok, s.key_reloads_failed), (1, 1));
    assert_eq!((s.cert_reloads_ok, s.cert_reloads_failed), (1, 0));
}

#[test]
fn age_buckets_are_inclusive_upper_bounds() {
    assert_eq!(age_bucket(0), 0);
    assert_eq!(age_bucket(60), 0);
    assert_eq!(age_bucket(61), 1);
    assert_eq!(age_bucket(604_800), 8);
    assert_eq!(age_bucket(604_801), 9);
    assert_eq!(age_bucket(u64::MAX), 9);
}

#[test]
fn refusal_reasons_map_from_ticket_errors() {
    assert_eq!(
        Refusal::from_ticket_error(TicketError::BadPadding),
        Some(Refusal::BadMacOrPadding)
    );
    assert_eq!(
        Refusal::from_ticket_error(TicketError::ExpiredKey),
        Some(Refusal::Expired)
    );
    assert_eq!(Refusal::from_ticket_error(TicketError::NoEncryptingKey), None);
    for r in Refusal::ALL {
        assert_eq!(Refusal::from_name(r.as_str()), Some(r));
    }
}

#[test]
fn prometheus_text_has_help_type_and_pid_on_every_series() {
    let text = busy().snapshot().to_prometheus(4242, 1_700_000_000);
    for metric in [
        prom::HANDSHAKES,
        prom::ISSUED,
        prom::RESUMED,
        prom::RENEWED,
        prom::REFUSED,
        prom::AGE,
        prom::VHOST_HANDSHAKES,
        prom::VHOST_RESUMED,
        prom::VHOST_STRICT,
        prom::KEY_RELOADS,
        prom::CERT_RELOADS,
        prom::WRITTEN,
    ] {
        assert!(text.contains(&format!("# HELP {metric} ")), "{metric}");
        assert!(text.contains(&format!("# TYPE {metric} ")), "{metric}");
    }
    assert!(text.contains("# TYPE tlsext_shim_ticket_age_seconds histogram\n"));
    assert!(text.contains("tlsext_shim_ticket_age_seconds_bucket{pid=\"4242\",le=\"60\"} 2\n"));
    assert!(text.contains("tlsext_shim_ticket_age_seconds_bucket{pid=\"4242\",le=\"300\"} 3\n"));
    assert!(text.contains("tlsext_shim_ticket_age_seconds_bucket{pid=\"4242\",le=\"+Inf\"} 5\n"));
    assert!(text.contains("tlsext_shim_ticket_age_seconds_count{pid=\"4242\"} 5\n"));
    assert!(text.contains(&format!(
        "tlsext_shim_tickets_issued_total{{pid=\"4242\",key=\"{}\"}} 2\n",
        name(1)
    )));
    assert!(text.contains("tlsext_shim_resumptions_total{pid=\"4242\",version=\"1.3\"} 2\n"));
    assert!(text.contains("vhost=\"api \\\"quoted\\\"\\\\\"}"), "{text}");
    assert!(text.contains("tlsext_shim_last_write_timestamp_seconds{pid=\"4242\"} 1700000000\n"));
    for sample in parse(&text).unwrap() {
        assert_eq!(sample.labels[0], ("pid".to_owned(), "4242".to_owned()), "{sample:?}");
    }
}

#[test]
fn prometheus_text_parses_back_to_the_same_snapshot() {
    let snap = busy().snapshot();
    let parsed = Snapshot::from_prometheus(&snap.to_prometheus(7, 99)).unwrap();
    assert_eq!(parsed.pid, Some(7));
    assert_eq!(parsed.written_at, Some(99));
    assert_eq!(parsed.snapshot, snap);
    let empty = Metrics::new().snapshot();
    assert_eq!(
        Snapshot::from_prometheus(&empty.to_prometheus(1, 0)).unwrap().snapshot,
        empty
    );
}

#[test]
fn the_parser_handles_the_format_and_reports_lines() {
    let text = "# comment\n\nfoo 1\nbar{a=\"x\\ny\", b=\"2\",} 3.5 1700000000000\nbaz{} +Inf\n";
    let samples = parse(text).unwrap();
    assert_eq!(samples.len(), 3);
    assert_eq!(samples[1].label("a"), Some("x\ny"));
    assert_eq!(samples[1].label("b"), Some("2"));
    assert_eq!(samples[1].value, 3.5);
    assert_eq!(samples[1].line, 4);
    assert_eq!(samples[2].count(), u64::MAX);
    for (bad, line) in [
        ("ok 1\nbroken{a=\"1} 2\n", 2),
        ("x{a=1} 2", 1),
        ("x 1 2 3", 1),
        ("x", 1),
        ("x abc", 1),
        ("{a=\"1\"} 1", 1),
        ("x{a=\"\\q\"} 1", 1),
    ] {
        assert_eq!(parse(bad).unwrap_err().line, line, "{bad:?}");
    }
    assert!(Snapshot::from_prometheus("tlsext_shim_tickets_issued_total{key=\"zz\"} 1").is_err());
    let signed = format!("tlsext_shim_tickets_issued_total{{key=\"{}\"}} 1", "+f".repeat(16));
    assert!(Snapshot::from_prometheus(&signed).is_err(), "a sign is not a hex digit");
    assert!(Snapshot::from_prometheus("tlsext_shim_ticket_age_seconds_bucket{le=\"7\"} 1").is_err());
    // Unknown metrics from a newer version are ignored.
    assert!(Snapshot::from_prometheus("tlsext_shim_future_total 5\n").is_ok());
}

#[test]
fn merge_adds_by_label() {
    let a = busy().snapshot();
    let mut total = a.clone();
    total.merge(&a);
    assert_eq!(total.handshakes, 6);
    assert_eq!(total.tickets_issued, vec![(name(1), 4), (name(2), 2)]);
    assert_eq!(total.vhosts.len(), a.vhosts.len());
    assert_eq!(total.vhosts[0].handshakes, 2);
    assert_eq!(total.ticket_age.count(), 10);
    let mut other = Snapshot::default();
    other.merge(&a);
    assert_eq!(other, a);
}

#[test]
fn the_rate_limit_lets_one_caller_through_per_interval() {
    let r = RateLimit::new(10);
    assert!(r.try_acquire(100));
    assert!(!r.try_acquire(100));
    assert!(!r.try_acquire(109));
    assert!(r.try_acquire(110));
    assert!(!r.try_acquire(50), "a clock stepped back waits");
    let r = RateLimit::new(10);
    let winners = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..1000 {
                    if r.try_acquire(500) {
                        winners.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            });
        }
    });
    assert_eq!(winners.into_inner(), 1);
    assert!(RateLimit::new(0).try_acquire(0));
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tlsext-shim-metrics-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn textfiles_are_written_whole_and_files_of_dead_processes_removed() {
    let dir = temp_dir("textfile");
    let me = std::process::id();
    // A dead process's file, a live one's (ours, under another name), and unrelated files.
    std::fs::write(dir.join("tlsext_shim_999999999.prom"), "old").unwrap();
    std::fs::write(dir.join("node.prom"), "keep").unwrap();
    std::fs::write(dir.join("tlsext_shim_abc.prom"), "keep").unwrap();
    let m = busy();
    let path = m.write_textfile(&dir, me, 1234).unwrap();
    assert_eq!(path, dir.join(file_name(me)));
    let text = std::fs::read_to_string(&path).unwrap();
    let parsed = Snapshot::from_prometheus(&text).unwrap();
    assert_eq!(parsed.pid, Some(me));
    assert_eq!(parsed.snapshot, m.snapshot());
    assert!(!dir.join("tlsext_shim_999999999.prom").exists());
    assert!(dir.join("node.prom").exists());
    assert!(dir.join("tlsext_shim_abc.prom").exists());
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names.len(), 3, "no temporary file left: {names:?}");
    // The predicate decides who is alive.
    write_text_for_test(&dir, 10, "x").unwrap();
    write_text_for_test(&dir, 11, "x").unwrap();
    assert_eq!(remove_stale(&dir, 10, |pid| pid == 12), 2, "own file kept");
    assert!(dir.join(file_name(10)).exists());
    assert!(write_text_for_test(&dir.join("missing"), 1, "x").is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn metrics_file_names() {
    assert_eq!(file_name(12), "tlsext_shim_12.prom");
    assert_eq!(pid_of("tlsext_shim_12.prom"), Some(12));
    for bad in [
        "tlsext_shim_.prom",
        "tlsext_shim_1x.prom",
        "x_12.prom",
        "tlsext_shim_12.prom.tmp",
    ] {
        assert_eq!(pid_of(bad), None, "{bad}");
    }
}

#[test]
fn the_global_writer_is_rate_limited() {
    let dir = temp_dir("global");
    assert!(maybe_write(0).is_none(), "nothing configured");
    assert!(configure_textfile(dir.clone(), std::time::Duration::from_millis(1500)));
    assert!(!configure_textfile(dir.clone(), std::time::Duration::from_secs(1)));
    global().handshake();
    assert!(maybe_write(1000).unwrap().is_ok());
    assert!(maybe_write(1001).is_none());
    assert!(maybe_write(1002).unwrap().is_ok(), "1.5 s rounds up to 2 s");
    assert!(dir.join(file_name(std::process::id())).is_file());
    std::fs::remove_dir_all(&dir).unwrap();
}
