//! Faults, hostile input and load against the preloaded shim, on loopback (issue 5,
//! "Reliability"):
//!
//! - every single-bit flip of a real TLS 1.2 and TLS 1.3 ticket is refused by a preloaded
//!   `openssl s_server`, which keeps serving (`c-tests/stress/flip_client.c`);
//! - a multi-threaded server (`stress_server.c`, 8 threads) and 8 client threads
//!   (`stress_client.c`) run thousands of handshakes with ticket resumption while the key
//!   directory rotates every 100 ms: no failed handshake, every ticket whose key is still in the
//!   directory resumes;
//! - `SSL_CTX` and connection churn through the preload keeps RSS flat (`churn.c`), and a smaller
//!   run is valgrind clean;
//! - hostile key sources at runtime keep the last good keys, with one error line each;
//! - a panic forced inside a hook (the `test-panic` feature) leaves the handshake to plain
//!   OpenSSL.
//!
//! `cargo test` (and so `make test`) runs the short sizes; `make stress` sets
//! `TLSEXT_SHIM_STRESS=long` for the long ones (100 000 handshakes, 100 000 churn cycles). The C
//! programs are built by `make -C c-tests/stress`; every report line is printed (see them with
//! `--nocapture`).

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use std::ffi::OsString;
use std::fs;
use std::os::unix::fs::{PermissionsExt as _, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use common::*;

/// Whether `make stress` asked for the long sizes.
fn long() -> bool {
    std::env::var("TLSEXT_SHIM_STRESS").is_ok_and(|v| v == "long")
}

/// `short` for `make test`, `long` for `make stress`.
fn size(short: u64, long_size: u64) -> String {
    if long() { long_size } else { short }.to_string()
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The path of a program of `c-tests/stress`, built (once per test binary) by its Makefile.
fn stress_program(name: &str) -> PathBuf {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let out = Command::new("make")
            .args(["-s", "-C"])
            .arg(repo().join("c-tests/stress"))
            .arg("all")
            .output()
            .map_err(|e| format!("cannot run make: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "make -C c-tests/stress failed:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    });
    if let Err(e) = built {
        panic!("{e}");
    }
    repo().join("c-tests/stress/build").join(name)
}

/// stdout and stderr of a finished program, for messages.
fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The lines the shim logged at error level.
fn shim_errors(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| l.starts_with("tlsext-shim[") && l.contains("]: error: "))
        .map(str::to_owned)
        .collect()
}

/// Panics if anything in `log` says a Rust panic escaped or a sanitizer fired.
#[track_caller]
fn assert_no_panic(log: &str, what: &str) {
    assert!(
        !log.contains("panicked") && !log.contains("Segmentation fault") && !log.contains("Aborted"),
        "{what}: the server reported a crash or panic:\n{log}"
    );
}

// ---------------------------------------------------------------------------------------------
// 1. Every single-bit flip of a real ticket

#[test]
fn every_single_bit_flip_of_a_ticket_is_refused_and_the_server_keeps_serving() {
    require!("openssl");
    let KeyFileSetup { dir, cert, key, name } = KeyFileSetup::new("t-flips");
    let server = SServer::start(SServerOpts::new(&cert).env(Env::shim(&key)));
    let out = Command::new(stress_program("flip_client"))
        .arg(server.port().to_string())
        .output()
        .unwrap();
    let report = text(&out);
    eprintln!("{report}");
    assert!(
        out.status.success(),
        "flip_client failed:\n{report}\nserver:\n{}",
        server.log()
    );
    for tls in Tls::BOTH {
        let line = report
            .lines()
            .find(|l| l.starts_with(&format!("{tls}: ticket ")))
            .unwrap_or_default();
        assert!(
            line.contains(": 0 resumed, 0 failed handshakes; unmodified ticket afterwards: resumed"),
            "{report}"
        );
        // Still serving, with the managed key: a fresh ticket and its resumption.
        let s = dir.sess("after", tls);
        issue(server.port(), tls, &s).assert_tickets_named(&name, "after the flips");
        resume(server.port(), tls, &s).assert_resumed(tls, "after the flips");
    }
    assert_no_panic(&server.log(), "s_server");
    assert!(shim_errors(&server.log()).is_empty(), "{}", server.log());
}

// ---------------------------------------------------------------------------------------------
// 2. Concurrency under key rotation

#[test]
fn concurrent_handshakes_resume_while_the_key_directory_rotates_every_100ms() {
    let dir = TempDir::new("t-concurrency");
    let keys = dir.subdir("keys");
    write_nginx_key(&keys.join("00000000.key"), 80);
    let env = Env::preload()
        .set("TLSEXT_SHIM_TICKET_KEYS", &keys)
        .set("TLSEXT_SHIM_RELOAD_INTERVAL", "0s");
    let mut server = Daemon::start(
        "stress_server",
        &stress_program("stress_server"),
        &["-t".into(), "8".into()],
        &env,
        &dir.join("server.out"),
        "listening on 127.0.0.1:",
    );
    let log = server.log();
    let port = log
        .split("listening on 127.0.0.1:")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap()
        .to_owned();
    let handshakes = size(5_000, 100_000);
    let out = Command::new(stress_program("stress_client"))
        .args(["-p", &port, "-n", &handshakes, "-t", "8", "-i", "100", "-k", "3", "-r"])
        .arg(&keys)
        .output()
        .unwrap();
    let report = text(&out);
    assert!(server.running(), "the server died:\n{}", server.log());
    let server_log = server.stop();
    let server_errors = shim_errors(&server_log);
    eprintln!(
        "{report}{}\nshim error lines in the server's log: {}",
        server_log
            .lines()
            .filter(|l| l.starts_with("server:"))
            .collect::<Vec<_>>()
            .join("\n"),
        server_errors.len()
    );
    for line in server_errors.iter().take(5) {
        eprintln!("  {line}");
    }
    assert!(
        out.status.success(),
        "stress_client failed:\n{report}\nserver:\n{server_log}"
    );
    assert!(
        report.contains(&format!("handshakes={handshakes} failed=0 ")),
        "{report}"
    );
    assert!(server_log.contains(" failed=0"), "{server_log}");
    assert_no_panic(&server_log, "stress_server");
}

// ---------------------------------------------------------------------------------------------
// 3. Churn: RSS flat, valgrind clean

/// The environment of a preloaded churn run: managed keys from a key file.
fn churn_env(key: &Path) -> Vec<(&'static str, OsString)> {
    vec![
        ("LD_PRELOAD", shim_path().into()),
        ("TLSEXT_SHIM_TICKET_KEYS", key.into()),
    ]
}

#[test]
fn context_and_connection_churn_through_the_preload_keeps_rss_flat() {
    let dir = TempDir::new("t-churn");
    let key = dir.join("ticket.key");
    write_nginx_key(&key, 80);
    let out = Command::new(stress_program("churn"))
        .args(["-c", &size(10_000, 100_000), "-n", &size(5_000, 100_000)])
        .envs(churn_env(&key))
        .output()
        .unwrap();
    let report = text(&out);
    eprintln!("{report}");
    assert!(
        out.status.success(),
        "churn failed (RSS grew or a handshake failed):\n{report}"
    );
    assert_eq!(report.matches("failed=0 ").count(), 1, "{report}");
    assert_no_panic(&report, "churn");
}

#[test]
fn context_and_connection_churn_is_valgrind_clean() {
    require!("valgrind");
    let dir = TempDir::new("t-churn-vg");
    let key = dir.join("ticket.key");
    write_nginx_key(&key, 80);
    let vg_log = dir.join("valgrind.log");
    let out = Command::new("valgrind")
        .args([
            "--error-exitcode=99",
            "--leak-check=full",
            "--errors-for-leak-kinds=definite,indirect",
            "--show-leak-kinds=definite,indirect",
        ])
        .arg(format!("--log-file={}", vg_log.display()))
        .arg(stress_program("churn"))
        // RSS under valgrind means nothing: no growth limit.
        .args(["-c", "1000", "-n", &size(300, 1_000), "-m", "1000000000"])
        .envs(churn_env(&key))
        .output()
        .unwrap();
    let vg = fs::read_to_string(&vg_log).unwrap_or_default();
    let summary: Vec<&str> = vg
        .lines()
        .filter(|l| l.contains("ERROR SUMMARY") || l.contains("definitely lost") || l.contains("indirectly lost"))
        .collect();
    eprintln!("{}valgrind: {}", text(&out), summary.join(" | "));
    assert!(
        out.status.success(),
        "churn under valgrind failed:\n{}\n{vg}",
        text(&out)
    );
    assert!(vg.contains("ERROR SUMMARY: 0 errors"), "{vg}");
}

// ---------------------------------------------------------------------------------------------
// 4. Hostile key sources at runtime

/// Removes whatever is at `path` (file, symlink, FIFO or directory).
fn remove_any(path: &Path) {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(path).unwrap(),
        Ok(_) => fs::remove_file(path).unwrap(),
        Err(_) => {}
    }
}

/// Puts a fresh copy of the good key at `path`.
fn restore(path: &Path, good: &[u8]) {
    remove_any(path);
    write_atomic(path, good);
}

/// What each hostile case does to the key file.
type Damage = fn(&Path, &[u8]);

/// The cases: a name for messages and what to do to the key file.
fn hostile_cases() -> Vec<(&'static str, Damage)> {
    vec![
        ("truncated", |p, good| fs::write(p, &good[..40]).unwrap()),
        ("garbage", |p, _| fs::write(p, b"this is not a ticket key\n").unwrap()),
        ("all-zero", |p, _| fs::write(p, [0u8; 80]).unwrap()),
        // Root reads any file whatever its mode; this server runs without the capabilities
        // that allow that (see `hostile_key_sources_...`), so a new key file an operator
        // installs with mode 000 is EACCES, as for an unprivileged server.
        ("permission denied", |p, good| {
            let tmp = p.with_file_name(".ticket.key.new");
            fs::write(&tmp, good).unwrap();
            fs::set_permissions(&tmp, fs::Permissions::from_mode(0o000)).unwrap();
            fs::rename(&tmp, p).unwrap();
        }),
        ("deleted", |p, _| fs::remove_file(p).unwrap()),
        ("replaced by a directory", |p, _| {
            fs::remove_file(p).unwrap();
            fs::create_dir(p).unwrap();
        }),
        ("a symlink loop", |p, _| {
            fs::remove_file(p).unwrap();
            symlink(p.file_name().unwrap(), p).unwrap();
        }),
        ("a dangling symlink", |p, _| {
            fs::remove_file(p).unwrap();
            symlink("no-such-key", p).unwrap();
        }),
    ]
}

/// A preloaded `openssl s_server` on a key file, checked every handshake
/// (`TLSEXT_SHIM_RELOAD_INTERVAL=0s`), without root's permission to read any file: the
/// capabilities `CAP_DAC_OVERRIDE` and `CAP_DAC_READ_SEARCH` are dropped from its bounding set
/// (`setpriv`). The tests run as root, and root reads a mode-000 file; without those
/// capabilities it gets EACCES like any unprivileged server (the files stay root's own).
fn hostile_server(dir: &TempDir, cert: &Cert, key: &Path) -> (Daemon, u16) {
    let port = free_port();
    let mut args: Vec<OsString> = vec![
        "--bounding-set=-dac_override,-dac_read_search".into(),
        "--".into(),
        "openssl".into(),
    ];
    args.extend(s_server_args(port, cert));
    let env = Env::preload()
        .set("TLSEXT_SHIM_TICKET_KEYS", key)
        .set("TLSEXT_SHIM_RELOAD_INTERVAL", "0s")
        .set("TLSEXT_SHIM_LOG", "info");
    let setpriv = find_binary("setpriv").unwrap();
    let server = Daemon::start(
        "s_server (setpriv)",
        &setpriv,
        &args,
        &env,
        &dir.join("s_server.out"),
        "ACCEPT",
    );
    (server, port)
}

#[test]
fn hostile_key_sources_at_runtime_keep_the_last_good_keys_and_log_one_error_each() {
    require!("openssl", "setpriv");
    let KeyFileSetup { dir, cert, key, name } = KeyFileSetup::new("t-hostile");
    let good = fs::read(&key).unwrap();
    let (mut server, port) = hostile_server(&dir, &cert, &key);
    // Tickets issued under the good key before any damage.
    let old = |tls: Tls| dir.sess("old", tls);
    for tls in Tls::BOTH {
        issue(port, tls, &old(tls)).assert_tickets_named(&name, "before any damage");
    }
    let path = key.to_str().unwrap();
    for (case, damage) in hostile_cases() {
        let before = shim_errors(&server.log()).len();
        damage(&key, &good);
        for tls in Tls::BOTH {
            // A full handshake (the server checks the source when it seals the new ticket)...
            let fresh = dir.sess("fresh", tls);
            let probe = s_client(port, tls).sess_out(&fresh).run();
            probe.assert_full_handshake(tls, case);
            probe.assert_tickets_named(&name, &format!("{case}: new tickets under the last good key"));
            // ...and the old ticket resumes.
            resume(port, tls, &old(tls)).assert_resumed(tls, &format!("{case}: old ticket"));
        }
        let log = server.log();
        let errors = shim_errors(&log);
        let new: Vec<&String> = errors[before..].iter().collect();
        eprintln!("{case}: {new:?}");
        assert_eq!(new.len(), 1, "{case}: want exactly one error line, got {new:#?}\n{log}");
        assert!(
            new[0].contains(path) && new[0].contains("keeping"),
            "{case}: the error line should name {path} and say the keys are kept: {}",
            new[0]
        );
        assert!(server.running(), "{case}: the server died:\n{log}");
        restore(&key, &good);
        // The next ticket operation loads the restored key (one info line, no error).
        resume(port, Tls::V12, &old(Tls::V12)).assert_resumed(Tls::V12, &format!("{case}: restored"));
        assert_eq!(
            shim_errors(&server.log()).len(),
            before + 1,
            "{case}: restoring logged an error"
        );
    }
    let log = server.stop();
    assert_no_panic(&log, "s_server");
    assert_eq!(shim_errors(&log).len(), hostile_cases().len(), "{log}");
}

/// Found by this suite: the shim used to open the key path with a plain `read`, so a FIFO there
/// blocked the handshake (in `openssl s_server`, the whole server) until something wrote to it.
/// Key sources are now opened without blocking and refused unless they are regular files.
#[test]
fn a_fifo_at_the_key_path_does_not_block_the_server() {
    require!("openssl", "mkfifo");
    let KeyFileSetup { dir, cert, key, name } = KeyFileSetup::new("t-fifo");
    let server = SServer::start(SServerOpts::new(&cert).env(Env::shim(&key).set("TLSEXT_SHIM_RELOAD_INTERVAL", "0s")));
    let old = dir.join("old.pem");
    issue(server.port(), Tls::V12, &old).assert_tickets_named(&name, "before");
    fs::remove_file(&key).unwrap();
    assert!(Command::new("mkfifo").arg(&key).status().unwrap().success());
    resume(server.port(), Tls::V12, &old).assert_resumed(Tls::V12, "key path replaced by a FIFO");
    assert_eq!(shim_errors(&server.log()).len(), 1, "{}", server.log());
}

// ---------------------------------------------------------------------------------------------
// 5. A panic inside a hook

/// The shim built with the `test-panic` feature, in its own target directory.
fn panic_shim() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let target = repo().join("target/panic");
            let out = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
                .args(["build", "--lib", "--features", "test-panic", "--target-dir"])
                .arg(&target)
                .current_dir(repo())
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "building the test-panic shim failed:\n{}",
                text(&out)
            );
            target.join("debug/libtlsext_shim.so")
        })
        .clone()
}

#[test]
fn a_panic_inside_a_hook_leaves_the_handshake_to_plain_openssl() {
    require!("openssl");
    let lib = panic_shim();
    let KeyFileSetup { dir, cert, key, name } = KeyFileSetup::new("t-panic");
    for point in ["ticket_cb", "ctx_new"] {
        let env = Env::shim(&key)
            .set("LD_PRELOAD", &lib)
            .set("TLSEXT_SHIM_TEST_PANIC", point);
        let server = SServer::start(SServerOpts::new(&cert).env(env));
        for tls in Tls::BOTH {
            let s = dir.sess(point, tls);
            let probe = s_client(server.port(), tls).sess_out(&s).run();
            eprintln!("panic in {point}, {tls}: {}", probe.summary());
            probe.assert_full_handshake(tls, &format!("panic in {point}"));
            assert!(
                !probe.ticket_names().contains(&name),
                "panic in {point}: a ticket under the managed key was issued: {}",
                probe.summary()
            );
            if point == "ctx_new" {
                // The context never got the shim's keys: OpenSSL's own ticket keys serve.
                assert!(!probe.ticket_names().is_empty(), "{}", probe.output);
                resume(server.port(), tls, &s).assert_resumed(tls, "panic in ctx_new: OpenSSL's own tickets");
            }
        }
        let log = server.log();
        assert!(
            log.contains("panicked") && log.contains(&format!("TLSEXT_SHIM_TEST_PANIC={point}")),
            "the {point} hook did not panic:\n{log}"
        );
        // Still serving after the panics.
        s_client(server.port(), Tls::V13)
            .run()
            .assert_served(Tls::V13, &format!("after panics in {point}"));
    }
}
