//! The shim preloaded into real, unmodified servers (nginx, HAProxy, `openssl s_server`) on
//! loopback ports, checked with `openssl s_client` and curl.
//!
//! The `stock_*` tests run the same servers without the shim; they check the harness and pin
//! down the behaviour the shim changes (two instances never resume each other's tickets unless
//! both are given the same key). A test skips, saying so on stderr, only when a server binary is
//! missing.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::thread::sleep;

use common::*;

/// A ticket issued by `from` resumes on `to`, for both versions.
#[track_caller]
fn assert_cross_resumption(dir: &TempDir, from: u16, to: u16, what: &str) {
    for tls in Tls::BOTH {
        let s = dir.sess(&format!("cross-{from}-{to}"), tls);
        issue(from, tls, &s);
        resume(to, tls, &s).assert_resumed(tls, what);
    }
}

/// A ticket issued by `from` does not resume on `to` (full handshake instead), both versions.
#[track_caller]
fn assert_no_cross_resumption(dir: &TempDir, from: u16, to: u16, what: &str) {
    for tls in Tls::BOTH {
        let s = dir.sess(&format!("nocross-{from}-{to}"), tls);
        issue(from, tls, &s);
        resume(to, tls, &s).assert_full_handshake(tls, what);
    }
}

/// A server resumes its own tickets, both versions.
#[track_caller]
fn assert_self_resumption(dir: &TempDir, port: u16, what: &str) {
    assert_cross_resumption(dir, port, port, what);
}

/// Renames a new symlink over `link`, as `ln -s target tmp && mv -T tmp link` does.
fn swap_symlink(target: &str, link: &Path) {
    let tmp = link.with_file_name(format!("{}_tmp", link.file_name().unwrap().to_string_lossy()));
    let _ = fs::remove_file(&tmp);
    symlink(target, &tmp).unwrap();
    fs::rename(&tmp, link).unwrap();
}

/// Lines of `log` that name `needle`.
fn lines_naming(log: &str, needle: &str) -> Vec<String> {
    log.lines().filter(|l| l.contains(needle)).map(str::to_owned).collect()
}

/// Asserts the master never restarted or reloaded and no handshake failed.
#[track_caller]
fn assert_no_reload_and_no_failure(nginx: &mut Nginx) {
    assert!(nginx.is_running(), "nginx stopped:\n{}", nginx.log());
    assert_eq!(
        nginx.current_master_pid(),
        Some(nginx.master_pid()),
        "nginx master changed"
    );
    let log = nginx.log();
    for sign in ["reconfiguring", "SIGHUP", "SIGUSR2"] {
        assert!(!log.contains(sign), "nginx was reloaded ({sign}):\n{log}");
    }
    nginx.assert_no_handshake_failures();
}

// ---------------------------------------------------------------------------------------------
// Stock servers: the harness works and the problem exists.

#[test]
fn stock_nginx_resumes_its_own_tickets() {
    require!("nginx");
    let dir = TempDir::new("t-stock-own");
    let cert = Cert::localhost(dir.path());
    let nginx = Nginx::start(NginxOpts::new(&cert));
    assert_self_resumption(&dir, nginx.port(), "stock nginx, same instance");
    for tls in Tls::BOTH {
        let s = dir.sess("hint", tls);
        issue(nginx.port(), tls, &s);
        assert_eq!(
            ticket_lifetime_hint(&s),
            Some(300),
            "nginx's default ssl_session_timeout"
        );
        assert!(ticket_key_name(&s).is_some());
    }
}

#[test]
fn stock_nginx_instances_without_shared_key_do_not_resume_each_other() {
    require!("nginx");
    let dir = TempDir::new("t-stock-noshare");
    let cert = Cert::localhost(dir.path());
    let a = Nginx::start(NginxOpts::new(&cert));
    let b = Nginx::start(NginxOpts::new(&cert));
    assert_no_cross_resumption(&dir, a.port(), b.port(), "stock nginx A -> B");
    assert_no_cross_resumption(&dir, b.port(), a.port(), "stock nginx B -> A");
}

#[test]
fn stock_nginx_with_shared_ticket_key_resumes_across_instances() {
    require!("nginx");
    let dir = TempDir::new("t-stock-share");
    let cert = Cert::localhost(dir.path());
    for len in [48, 80] {
        let key = dir.join(format!("shared-{len}.key"));
        let name = write_nginx_key(&key, len);
        let a = Nginx::start(NginxOpts::new(&cert).ticket_key(&key));
        let b = Nginx::start(NginxOpts::new(&cert).ticket_key(&key));
        assert_cross_resumption(&dir, a.port(), b.port(), "stock nginx, shared key, A -> B");
        assert_cross_resumption(&dir, b.port(), a.port(), "stock nginx, shared key, B -> A");
        for tls in Tls::BOTH {
            s_client(a.port(), tls)
                .run()
                .assert_tickets_named(&name, "stock nginx ticket name");
        }
    }
}

#[test]
fn stock_nginx_renews_tickets_of_older_keys_and_curl_probe_works() {
    require!("nginx");
    let dir = TempDir::new("t-stock-renew");
    let cert = Cert::localhost(dir.path());
    let (k1, k2) = (dir.join("k1"), dir.join("k2"));
    let (n1, n2) = (write_nginx_key(&k1, 80), write_nginx_key(&k2, 80));
    // A encrypts with k1; B encrypts with k2 and still decrypts k1.
    let a = Nginx::start(NginxOpts::new(&cert).ticket_key(&k1).reuseport());
    let b = Nginx::start(NginxOpts::new(&cert).ticket_key(&k2).ticket_key(&k1));
    for tls in Tls::BOTH {
        let s = dir.sess("t1", tls);
        issue(a.port(), tls, &s);
        assert_eq!(ticket_key_name(&s), Some(n1));
        let renewed = dir.sess("t2", tls);
        let probe = s_client(b.port(), tls).sess_in(&s).sess_out(&renewed).run();
        probe.assert_resumed(tls, "stock nginx, older key");
        probe.assert_tickets_named(&n2, "stock nginx renews under its first key");
        // s_client saves no session after a TLS 1.2 resumption, renewed ticket or not.
        assert_eq!(renewed.is_file(), tls == Tls::V13);
    }
    // curl over two instances sharing one port (reuseport) and one key.
    let port = a.port();
    drop(b);
    let b = Nginx::start(NginxOpts::new(&cert).ticket_key(&k1).reuseport().port(port));
    let hits = curl_tls13(port, 16);
    assert!(hits.iter().skip(1).all(|h| h.reused), "curl resumptions: {hits:?}");
    assert!(
        hits.iter().any(|h| a.owns_pid(h.pid)) && hits.iter().any(|h| b.owns_pid(h.pid)),
        "{hits:?}"
    );
}

#[test]
fn stock_haproxy_ticket_behaviour() {
    require!("haproxy");
    let dir = TempDir::new("t-stock-haproxy");
    let cert = Cert::localhost(dir.path());
    let a = Haproxy::start(HaproxyOpts::new(&cert));
    let b = Haproxy::start(HaproxyOpts::new(&cert));
    assert_self_resumption(&dir, a.port(), "stock HAProxy, same instance");
    assert_no_cross_resumption(&dir, a.port(), b.port(), "stock HAProxy A -> B");
    let keys = dir.join("haproxy.keys");
    let names = write_haproxy_keys(&keys, 3, 48);
    let c = Haproxy::start(HaproxyOpts::new(&cert).ticket_keys(&keys));
    let d = Haproxy::start(HaproxyOpts::new(&cert).ticket_keys(&keys));
    assert_cross_resumption(&dir, c.port(), d.port(), "stock HAProxy, shared tls-ticket-keys");
    for tls in Tls::BOTH {
        s_client(c.port(), tls)
            .run()
            .assert_tickets_named(&names[1], "HAProxy encrypts with the 2nd-to-last key");
    }
}

#[test]
fn stock_s_server_resumes_its_own_tickets() {
    require!("openssl");
    let dir = TempDir::new("t-stock-s_server");
    let cert = Cert::localhost(dir.path());
    let a = SServer::start(SServerOpts::new(&cert));
    let b = SServer::start(SServerOpts::new(&cert));
    assert_self_resumption(&dir, a.port(), "stock s_server");
    assert_no_cross_resumption(&dir, a.port(), b.port(), "stock s_server A -> B");
}

// ---------------------------------------------------------------------------------------------
// 1. Shared key file across nginx instances

#[test]
fn shim_nginx_shared_key_file_resumes_across_instances() {
    require!("nginx");
    let KeyFileSetup { dir, cert, key, name } = KeyFileSetup::new("t-shared");
    let a = Nginx::start(NginxOpts::new(&cert).workers(2).env(Env::shim(&key)));
    let b = Nginx::start(NginxOpts::new(&cert).workers(2).env(Env::shim(&key)));
    assert_cross_resumption(&dir, a.port(), b.port(), "shimmed nginx A -> B");
    assert_cross_resumption(&dir, b.port(), a.port(), "shimmed nginx B -> A");
    for tls in Tls::BOTH {
        for nginx in [&a, &b] {
            let s = dir.sess("name", tls);
            issue(nginx.port(), tls, &s).assert_tickets_named(&name, "shimmed nginx ticket name");
            assert_eq!(ticket_key_name(&s), Some(name));
        }
    }
}

#[test]
fn shim_nginx_shared_key_file_curl_across_reuseport_pair() {
    require!("nginx", "curl");
    let dir = TempDir::new("t-curl");
    let cert = Cert::localhost(dir.path());
    let key = dir.join("ticket.key");
    write_nginx_key(&key, 48);
    let a = Nginx::start(NginxOpts::new(&cert).reuseport().env(Env::shim(&key)));
    let b = Nginx::start(NginxOpts::new(&cert).reuseport().port(a.port()).env(Env::shim(&key)));
    let hits = curl_tls13(a.port(), 16);
    assert!(!hits[0].reused, "{hits:?}");
    assert!(
        hits.iter().skip(1).all(|h| h.reused),
        "every later connection resumes: {hits:?}"
    );
    assert!(
        hits.iter().any(|h| a.owns_pid(h.pid)) && hits.iter().any(|h| b.owns_pid(h.pid)),
        "both served: {hits:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// 2. Byte compatibility with nginx's own ssl_session_ticket_key

#[test]
fn shim_nginx_tickets_are_byte_compatible_with_ssl_session_ticket_key() {
    require!("nginx");
    let dir = TempDir::new("t-compat");
    let cert = Cert::localhost(dir.path());
    for len in [48, 80] {
        let key = dir.join(format!("k{len}.key"));
        let name = write_nginx_key(&key, len);
        let stock = Nginx::start(NginxOpts::new(&cert).ticket_key(&key));
        let shim = Nginx::start(NginxOpts::new(&cert).env(Env::shim(&key)));
        let what = format!("{len}-byte key");
        assert_cross_resumption(&dir, stock.port(), shim.port(), &format!("{what}: stock -> shim"));
        assert_cross_resumption(&dir, shim.port(), stock.port(), &format!("{what}: shim -> stock"));
        for tls in Tls::BOTH {
            s_client(shim.port(), tls).run().assert_tickets_named(&name, &what);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Rotation through a key directory, without reloading nginx

#[test]
fn shim_nginx_key_directory_rotation_without_reload() {
    require!("nginx");
    let dir = TempDir::new("t-rotate");
    let cert = Cert::localhost(dir.path());
    let keys = dir.subdir("keys");
    let key1 = write_nginx_key(&keys.join("01.key"), 80);
    let mut nginx = Nginx::start(NginxOpts::new(&cert).workers(2).env(Env::shim(&keys)));
    let port = nginx.port();

    for tls in Tls::BOTH {
        issue(port, tls, &dir.sess("t1", tls)).assert_tickets_named(&key1, "first key");
        resume(port, tls, &dir.sess("t1", tls)).assert_resumed(tls, "T1 before rotation");
    }

    // key2 sorts last: it encrypts, key1 still decrypts.
    let key2 = write_nginx_key(&keys.join("02.key"), 80);
    sleep(RELOAD_WAIT);
    for tls in Tls::BOTH {
        let probe = resume(port, tls, &dir.sess("t1", tls));
        probe.assert_resumed(tls, "T1 after key2 was added");
        probe.assert_tickets_named(&key2, "T1 renewed under key2");
        issue(port, tls, &dir.sess("t2", tls)).assert_tickets_named(&key2, "new ticket after key2 was added");
    }

    // key1 gone: T1 gets a full handshake, T2 still resumes.
    fs::remove_file(keys.join("01.key")).unwrap();
    sleep(RELOAD_WAIT);
    for tls in Tls::BOTH {
        let probe = resume(port, tls, &dir.sess("t1", tls));
        probe.assert_full_handshake(tls, "T1 after key1 was removed");
        probe.assert_tickets_named(&key2, "ticket issued instead of T1");
        resume(port, tls, &dir.sess("t2", tls)).assert_resumed(tls, "T2 after key1 was removed");
    }

    // A garbage file (sorting last) changes nothing: the last good keys keep working.
    write_atomic(&keys.join("03.key"), b"this is not a ticket key");
    sleep(RELOAD_WAIT);
    for tls in Tls::BOTH {
        resume(port, tls, &dir.sess("t2", tls)).assert_resumed(tls, "T2 with a garbage file present");
        issue(port, tls, &dir.sess("t3", tls)).assert_tickets_named(&key2, "new ticket with a garbage file present");
    }

    assert_no_reload_and_no_failure(&mut nginx);
}

#[test]
fn shim_nginx_key_directory_kubernetes_symlink_swap() {
    require!("nginx");
    let dir = TempDir::new("t-k8s");
    let cert = Cert::localhost(dir.path());
    // The layout of a Kubernetes Secret volume.
    let keys = dir.subdir("keys");
    let v1 = dir.subdir("keys/..2026_x");
    let key_a = write_nginx_key(&v1.join("01.key"), 80);
    symlink("..2026_x", keys.join("..data")).unwrap();
    symlink("..data/01.key", keys.join("01.key")).unwrap();
    let mut nginx = Nginx::start(NginxOpts::new(&cert).workers(2).env(Env::shim(&keys)));
    let port = nginx.port();
    for tls in Tls::BOTH {
        issue(port, tls, &dir.sess("ta", tls)).assert_tickets_named(&key_a, "key A through ..data");
    }

    // Version 2: A and a new B (sorts last). Kubernetes swaps ..data, then adds the new link.
    let v2 = dir.subdir("keys/..2026_y");
    fs::copy(v1.join("01.key"), v2.join("01.key")).unwrap();
    let key_b = write_nginx_key(&v2.join("02.key"), 80);
    swap_symlink("..2026_y", &keys.join("..data"));
    swap_symlink("..data/02.key", &keys.join("02.key"));
    fs::remove_dir_all(&v1).unwrap();
    sleep(RELOAD_WAIT);
    for tls in Tls::BOTH {
        let probe = resume(port, tls, &dir.sess("ta", tls));
        probe.assert_resumed(tls, "ticket under A after the swap to A+B");
        probe.assert_tickets_named(&key_b, "renewed under B");
        issue(port, tls, &dir.sess("tb", tls)).assert_tickets_named(&key_b, "new ticket after the swap to A+B");
    }

    // Version 3: A removed, and 02.key now holds C: the same visible path, new content.
    let v3 = dir.subdir("keys/..2026_z");
    let key_c = write_nginx_key(&v3.join("02.key"), 80);
    swap_symlink("..2026_z", &keys.join("..data"));
    fs::remove_file(keys.join("01.key")).unwrap();
    fs::remove_dir_all(&v2).unwrap();
    sleep(RELOAD_WAIT);
    for tls in Tls::BOTH {
        resume(port, tls, &dir.sess("ta", tls)).assert_full_handshake(tls, "ticket under A after A was removed");
        let probe = resume(port, tls, &dir.sess("tb", tls));
        probe.assert_full_handshake(tls, "ticket under B after 02.key changed to C");
        probe.assert_tickets_named(&key_c, "new ticket under C");
    }

    assert_no_reload_and_no_failure(&mut nginx);
}

// ---------------------------------------------------------------------------------------------
// 4. auto keys are shared by all workers

#[test]
fn shim_nginx_auto_keys_shared_by_all_workers() {
    require!("nginx");
    let dir = TempDir::new("t-auto");
    let cert = Cert::localhost(dir.path());
    let nginx = Nginx::start(NginxOpts::new(&cert).workers(4).reuseport().env(Env::shim("auto")));
    let mut cross_worker = 0;
    let mut workers = std::collections::BTreeSet::new();
    for i in 0..20 {
        let tls = Tls::BOTH[i % 2];
        let s = dir.sess(&format!("auto{i}"), tls);
        let first = issue(nginx.port(), tls, &s);
        let second = resume(nginx.port(), tls, &s);
        second.assert_resumed(tls, &format!("auto keys, resumption {i}"));
        workers.extend(first.server_pid);
        workers.extend(second.server_pid);
        if first.server_pid != second.server_pid {
            cross_worker += 1;
        }
    }
    assert!(
        workers.len() >= 2 && cross_worker > 0,
        "reuseport spread nothing: {workers:?}"
    );
    assert!(workers.iter().all(|&w| nginx.owns_pid(w)));
}

// ---------------------------------------------------------------------------------------------
// 5. HAProxy

#[test]
fn shim_haproxy_shared_nginx_key_resumes_across_instances() {
    require!("haproxy");
    let KeyFileSetup { dir, cert, key, name } = KeyFileSetup::new("t-haproxy");
    let a = Haproxy::start(HaproxyOpts::new(&cert).env(Env::shim(&key)));
    let b = Haproxy::start(HaproxyOpts::new(&cert).env(Env::shim(&key)));
    assert_cross_resumption(&dir, a.port(), b.port(), "shimmed HAProxy A -> B");
    assert_cross_resumption(&dir, b.port(), a.port(), "shimmed HAProxy B -> A");
    for tls in Tls::BOTH {
        s_client(a.port(), tls)
            .run()
            .assert_tickets_named(&name, "shimmed HAProxy ticket name");
    }
}

#[test]
fn shim_haproxy_format_key_file_resumes_across_instances() {
    require!("haproxy");
    let dir = TempDir::new("t-haproxy-fmt");
    let cert = Cert::localhost(dir.path());
    let keys = dir.join("haproxy.keys");
    let names = write_haproxy_keys(&keys, 3, 80);
    let env = Env::shim(&keys).set("TLSEXT_SHIM_TICKET_KEY_FORMAT", "haproxy");
    let a = Haproxy::start(HaproxyOpts::new(&cert).env(env.clone()));
    let b = Haproxy::start(HaproxyOpts::new(&cert).env(env));
    assert_cross_resumption(&dir, a.port(), b.port(), "shimmed HAProxy, HAProxy-format keys, A -> B");
    for tls in Tls::BOTH {
        let probe = s_client(a.port(), tls).run();
        let got = probe.ticket_names();
        assert!(
            !got.is_empty() && got.iter().all(|n| names.contains(n)),
            "{}",
            probe.summary()
        );
    }
    // The same file given to a stock HAProxy as tls-ticket-keys: tickets go both ways.
    let stock = Haproxy::start(HaproxyOpts::new(&cert).ticket_keys(&keys));
    assert_cross_resumption(&dir, stock.port(), a.port(), "stock HAProxy -> shimmed HAProxy");
    assert_cross_resumption(&dir, a.port(), stock.port(), "shimmed HAProxy -> stock HAProxy");
}

// ---------------------------------------------------------------------------------------------
// 6. openssl s_server

#[test]
fn shim_s_server_resumes_and_rotates() {
    require!("openssl");
    let dir = TempDir::new("t-s_server");
    let cert = Cert::localhost(dir.path());
    let keys = dir.subdir("keys");
    let key1 = write_nginx_key(&keys.join("01.key"), 48);
    let server = SServer::start(SServerOpts::new(&cert).env(Env::shim(&keys)));
    let port = server.port();
    for tls in Tls::BOTH {
        issue(port, tls, &dir.sess("t1", tls)).assert_tickets_named(&key1, "s_server first key");
        resume(port, tls, &dir.sess("t1", tls)).assert_resumed(tls, "s_server T1");
    }
    let key2 = write_nginx_key(&keys.join("02.key"), 48);
    sleep(RELOAD_WAIT);
    for tls in Tls::BOTH {
        let probe = resume(port, tls, &dir.sess("t1", tls));
        probe.assert_resumed(tls, "s_server T1 after key2 was added");
        probe.assert_tickets_named(&key2, "s_server T1 renewed under key2");
        issue(port, tls, &dir.sess("t2", tls)).assert_tickets_named(&key2, "s_server new ticket");
    }
}

#[test]
fn shim_lifetime_hint_is_capped_by_the_configured_lifetime() {
    require!("openssl");
    let dir = TempDir::new("t-lifetime");
    let cert = Cert::localhost(dir.path());
    let keys = dir.subdir("keys");
    write_nginx_key(&keys.join("01.key"), 80);
    let server =
        SServer::start(SServerOpts::new(&cert).env(Env::shim(&keys).set("TLSEXT_SHIM_TICKET_LIFETIME", "90s")));
    let stock = SServer::start(SServerOpts::new(&cert).env(Env::stock()));
    for tls in Tls::BOTH {
        let capped = issue(server.port(), tls, &dir.sess("cap", tls));
        assert!(!capped.tickets.is_empty(), "no ticket issued ({tls:?})");
        assert!(
            capped.tickets.iter().all(|t| t.lifetime == 90),
            "hint not capped: {:?}",
            capped.tickets.iter().map(|t| t.lifetime).collect::<Vec<_>>()
        );
        let plain = issue(stock.port(), tls, &dir.sess("stock", tls));
        assert!(
            plain.tickets.iter().all(|t| t.lifetime == 7200),
            "stock s_server hint changed"
        );
        resume(server.port(), tls, &dir.sess("cap", tls)).assert_resumed(tls, "capped ticket still resumes");
    }
}

// ---------------------------------------------------------------------------------------------
// 7. Passthrough

#[test]
fn shim_without_variables_behaves_like_stock_nginx() {
    require!("nginx");
    let dir = TempDir::new("t-passthrough");
    let cert = Cert::localhost(dir.path());
    let a = Nginx::start(NginxOpts::new(&cert).env(Env::preload()));
    let b = Nginx::start(NginxOpts::new(&cert).env(Env::preload()));
    assert_self_resumption(&dir, a.port(), "preloaded nginx without TLSEXT_SHIM_*, same instance");
    assert_no_cross_resumption(
        &dir,
        a.port(),
        b.port(),
        "preloaded nginx without TLSEXT_SHIM_*, A -> B",
    );
    a.assert_no_handshake_failures();
}

// ---------------------------------------------------------------------------------------------
// 8. A bad key source fails open

#[test]
fn shim_bad_key_source_fails_open_and_logs_once() {
    require!("nginx");
    let dir = TempDir::new("t-badkey");
    let cert = Cert::localhost(dir.path());
    let garbage = dir.join("garbage.key");
    write_atomic(&garbage, b"not a key: twenty-seven b");
    // Default log level: only what an operator would see.
    let env = Env::shim(&garbage).unset("TLSEXT_SHIM_LOG");
    let a = Nginx::start(NginxOpts::new(&cert).env(env.clone()));
    let b = Nginx::start(NginxOpts::new(&cert).env(env));
    for nginx in [&a, &b] {
        for tls in Tls::BOTH {
            s_client(nginx.port(), tls)
                .run()
                .assert_full_handshake(tls, "full handshake with a bad key source");
        }
    }
    // Failing open may mean OpenSSL's own per-instance keys or no tickets at all; either way
    // nothing issued by A resumes on B.
    for tls in Tls::BOTH {
        let s = dir.sess("bad", tls);
        let probe = s_client(a.port(), tls).sess_out(&s).run();
        probe.assert_full_handshake(tls, "bad key source, A");
        if s.is_file() {
            resume(b.port(), tls, &s).assert_full_handshake(tls, "bad key source, A -> B");
        }
    }
    // Still one report after the reload interval has passed and the workers have handshaken.
    sleep(RELOAD_WAIT);
    for nginx in [&a, &b] {
        for tls in Tls::BOTH {
            s_client(nginx.port(), tls)
                .run()
                .assert_full_handshake(tls, "after the reload interval");
        }
    }
    let needle = garbage.to_str().unwrap();
    for nginx in [&a, &b] {
        let log = nginx.log();
        let reports: Vec<String> = lines_naming(&log, needle)
            .into_iter()
            .filter(|l| l.contains("tlsext-shim") && (l.contains("error") || l.contains("warn")))
            .collect();
        assert_eq!(
            reports.len(),
            1,
            "want one error line naming {needle}, got {reports:#?}\nfull log:\n{log}"
        );
    }
}
