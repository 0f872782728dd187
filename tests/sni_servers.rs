//! SNI routing by the preloaded shim in real, unmodified servers (nginx, HAProxy,
//! `openssl s_server`) on loopback ports, checked with `openssl s_client`.
//!
//! Every server is configured with one certificate of its own (CN=default.test); the shim's
//! config file adds two vhosts: `www.example.com` + `example.com` (exact) and
//! `*.apps.example.com` (wildcard). The tests check the certificate each name is shown, the
//! strict mode's `unrecognized_name` alert, that tickets are bound to the vhost that issued them
//! (where stock nginx resumes them under any name), nginx's own server blocks next to the shim's
//! vhosts, certificate reloads and a vhost whose key does not match its certificate. A test
//! skips, saying so on stderr, only when a server binary is missing.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use std::fs;
use std::path::Path;
use std::thread::sleep;

use common::*;

/// CN of the server's own certificate.
const DEFAULT_CN: &str = "default.test";
/// CN of the exact vhost's certificate (SANs: both names of the vhost).
const WWW_CN: &str = "www.example.com";
/// CN of the wildcard vhost's certificate (SAN `*.apps.example.com`).
const APPS_CN: &str = "apps.example.com";

/// A directory with the server's own certificate, the two vhosts' certificates copied to
/// `www.pem`/`www.key` and `apps.pem`/`apps.key`, and `shim.toml` naming them relatively.
struct Site {
    dir: TempDir,
    default: Cert,
}

impl Site {
    /// The certificates and a config with the two vhosts, `strict` as given, and `extra` TOML
    /// appended (more `[[sni.vhost]]` tables).
    fn new(tag: &str, strict: bool, extra: &str) -> Site {
        let dir = TempDir::new(tag);
        let certs = dir.subdir("certs");
        let default = Cert::generate(&certs, DEFAULT_CN, &[DEFAULT_CN]);
        install_cert(&dir, "www", &certs, WWW_CN, &["www.example.com", "example.com"]);
        install_cert(&dir, "apps", &certs, APPS_CN, &["*.apps.example.com"]);
        let toml = format!(
            "[log]\nlevel = \"debug\"\n\n[sni]\nstrict = {strict}\n\n\
             [[sni.vhost]]\nnames = [\"www.example.com\", \"example.com\"]\ncert = \"www.pem\"\nkey = \"www.key\"\n\n\
             [[sni.vhost]]\nnames = [\"*.apps.example.com\"]\ncert = \"apps.pem\"\nkey = \"apps.key\"\n\n{extra}"
        );
        fs::write(dir.join("shim.toml"), toml).unwrap();
        Site { dir, default }
    }

    /// The preloaded shim configured by this site's `shim.toml`.
    fn env(&self) -> Env {
        Env::preload()
            .set("TLSEXT_SHIM_CONFIG", self.dir.join("shim.toml"))
            .set("TLSEXT_SHIM_RELOAD_INTERVAL", RELOAD_INTERVAL)
    }
}

/// Generates a certificate for `cn` with `sans` in `scratch` and copies it to `<stem>.pem` and
/// `<stem>.key` in `dir` (atomically, so a running server sees either the old or the new file).
fn install_cert(dir: &TempDir, stem: &str, scratch: &Path, cn: &str, sans: &[&str]) {
    let (cert, key) = gen_cert(scratch, cn, sans);
    write_atomic(&dir.join(format!("{stem}.key")), &fs::read(key).unwrap());
    write_atomic(&dir.join(format!("{stem}.pem")), &fs::read(cert).unwrap());
}

/// A client sending `name` as SNI, or no server_name extension for `None`.
fn client(port: u16, tls: Tls, name: Option<&str>) -> SClient {
    let c = s_client(port, tls);
    match name {
        Some(n) => c.servername(n),
        None => c.no_servername(),
    }
}

/// A full handshake with SNI `name` (or none) is served with the certificate of `cn`.
#[track_caller]
fn assert_cert(port: u16, tls: Tls, name: Option<&str>, cn: &str) -> Probe {
    let probe = client(port, tls, name).run();
    let what = format!("SNI {name:?}");
    probe.assert_full_handshake(tls, &what);
    probe.assert_subject_cn(tls, cn, &what);
    probe
}

/// The handshake with SNI `name` (or none) ends with an `unrecognized_name` alert.
#[track_caller]
fn assert_refused(port: u16, tls: Tls, name: Option<&str>) {
    let probe = client(port, tls, name).run();
    probe.assert_that(
        !probe.served(tls) && probe.unrecognized_name_alert(),
        format_args!("SNI {name:?}: {tls}: expected an unrecognized_name alert"),
    );
}

/// The routing of the two-vhost config with a non-strict shim, both versions.
#[track_caller]
fn assert_routing(port: u16) {
    for tls in Tls::BOTH {
        assert_cert(port, tls, Some("www.example.com"), WWW_CN);
        assert_cert(port, tls, Some("example.com"), WWW_CN);
        assert_cert(port, tls, Some("WWW.Example.COM."), WWW_CN);
        assert_cert(port, tls, Some("foo.apps.example.com"), APPS_CN);
        assert_cert(port, tls, Some("Bar.APPS.example.com."), APPS_CN);
        // The wildcard covers exactly one label.
        assert_cert(port, tls, Some("a.b.apps.example.com"), DEFAULT_CN);
        assert_cert(port, tls, Some("apps.example.com"), DEFAULT_CN);
        assert_cert(port, tls, Some("unknown.test"), DEFAULT_CN);
        assert_cert(port, tls, Some(DEFAULT_CN), DEFAULT_CN);
        assert_cert(port, tls, None, DEFAULT_CN);
    }
}

/// Issues a ticket with SNI `name` (full handshake, certificate `cn`) into `sess`.
#[track_caller]
fn issue_as(port: u16, tls: Tls, name: Option<&str>, cn: &str, sess: &Path) {
    let probe = client(port, tls, name).sess_out(sess).run();
    let what = format!("issuing under SNI {name:?}");
    probe.assert_full_handshake(tls, &what);
    probe.assert_subject_cn(tls, cn, &what);
    assert!(sess.is_file(), "{what}: {tls}: no session saved\n{}", probe.output);
}

/// Offers the session in `sess` with SNI `name` (or none).
fn offer(port: u16, tls: Tls, name: Option<&str>, sess: &Path) -> Probe {
    client(port, tls, name).sess_in(sess).run()
}

/// Tickets are bound to the vhost that issued them, both versions: refused (full handshake,
/// with the certificate the new name routes to) under another vhost's name, the default name
/// or no SNI; resumed under the same name and the other names of the same vhost entry.
#[track_caller]
fn assert_binding(site: &Site, port: u16) {
    for tls in Tls::BOTH {
        let www = site.dir.sess("www", tls);
        issue_as(port, tls, Some("www.example.com"), WWW_CN, &www);
        for (name, cn) in [
            (Some("foo.apps.example.com"), APPS_CN),
            (Some(DEFAULT_CN), DEFAULT_CN),
            (Some("unknown.test"), DEFAULT_CN),
            (None, DEFAULT_CN),
        ] {
            let probe = offer(port, tls, name, &www);
            let what = format!("www.example.com ticket under SNI {name:?}");
            probe.assert_full_handshake(tls, &what);
            probe.assert_subject_cn(tls, cn, &what);
        }
        offer(port, tls, Some("www.example.com"), &www).assert_resumed(tls, "www.example.com ticket, same name");
        offer(port, tls, Some("WWW.example.com."), &www).assert_resumed(tls, "www.example.com ticket, same name");
        offer(port, tls, Some("example.com"), &www).assert_resumed(tls, "www.example.com ticket under example.com");

        let apps = site.dir.sess("apps", tls);
        issue_as(port, tls, Some("foo.apps.example.com"), APPS_CN, &apps);
        offer(port, tls, Some("bar.apps.example.com"), &apps)
            .assert_resumed(tls, "foo.apps.example.com ticket under bar.apps.example.com");
        offer(port, tls, Some("www.example.com"), &apps)
            .assert_full_handshake(tls, "foo.apps.example.com ticket under www.example.com");

        let default = site.dir.sess("default", tls);
        issue_as(port, tls, Some(DEFAULT_CN), DEFAULT_CN, &default);
        offer(port, tls, Some("www.example.com"), &default)
            .assert_full_handshake(tls, "default.test ticket under www.example.com");
        offer(port, tls, Some("foo.apps.example.com"), &default)
            .assert_full_handshake(tls, "default.test ticket under foo.apps.example.com");
        offer(port, tls, Some(DEFAULT_CN), &default).assert_resumed(tls, "default.test ticket, same name");
    }
}

/// Shim log lines at `level` (`error`, `warn`, ...) that contain `needle`.
fn shim_lines(log: &str, level: &str, needle: &str) -> Vec<String> {
    let tag = format!(": {level}: ");
    log.lines()
        .filter(|l| l.contains("tlsext-shim[") && l.contains(&tag) && l.contains(needle))
        .map(str::to_owned)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// nginx, one server block

#[test]
fn nginx_one_server_block_routes_by_sni() {
    require!("nginx");
    let site = Site::new("sni-nginx-route", false, "");
    let nginx = Nginx::start(NginxOpts::new(&site.default).env(site.env()));
    assert_routing(nginx.port());
    assert!(
        nginx.log().contains("SNI routing for 2 vhost(s)"),
        "no startup line:\n{}",
        nginx.log()
    );
    nginx.assert_no_handshake_failures();
}

#[test]
fn nginx_strict_refuses_unknown_and_missing_names() {
    require!("nginx");
    let site = Site::new("sni-nginx-strict", true, "");
    let nginx = Nginx::start(NginxOpts::new(&site.default).env(site.env()));
    let port = nginx.port();
    for tls in Tls::BOTH {
        assert_cert(port, tls, Some("www.example.com"), WWW_CN);
        assert_cert(port, tls, Some("foo.apps.example.com"), APPS_CN);
        assert_refused(port, tls, Some("unknown.test"));
        assert_refused(port, tls, Some("a.b.apps.example.com"));
        assert_refused(port, tls, None);
    }
}

#[test]
fn nginx_one_server_block_binds_tickets_to_their_vhost() {
    require!("nginx");
    let site = Site::new("sni-nginx-bind", false, "");
    let nginx = Nginx::start(NginxOpts::new(&site.default).env(site.env()));
    assert_binding(&site, nginx.port());
    nginx.assert_no_handshake_failures();
}

/// The bug the shim fixes: stock nginx with one server block serves every name and resumes a
/// ticket under any other name, or without SNI.
#[test]
fn stock_nginx_resumes_tickets_across_names() {
    require!("nginx");
    let site = Site::new("sni-nginx-stock", false, "");
    let nginx = Nginx::start(NginxOpts::new(&site.default));
    let port = nginx.port();
    for tls in Tls::BOTH {
        let www = site.dir.sess("www", tls);
        issue_as(port, tls, Some("www.example.com"), DEFAULT_CN, &www);
        for name in [Some("foo.apps.example.com"), Some(DEFAULT_CN), None] {
            offer(port, tls, name, &www).assert_resumed(tls, &format!("stock: www.example.com ticket under {name:?}"));
        }
        offer(port, tls, Some("www.example.com"), &www).assert_resumed(tls, "stock: same name");
    }
}

// ---------------------------------------------------------------------------------------------
// nginx, its own server blocks next to a shim vhost

#[test]
fn nginx_own_server_blocks_still_route_next_to_shim_vhost() {
    require!("nginx");
    let dir = TempDir::new("sni-nginx-blocks");
    let certs = dir.subdir("certs");
    let one = Cert::generate(&certs, "one.test", &["one.test"]);
    let two = Cert::generate(&certs, "two.test", &["two.test"]);
    install_cert(&dir, "three", &certs, "three.test", &["three.test"]);
    fs::write(
        dir.join("shim.toml"),
        "[log]\nlevel = \"debug\"\n\n[[sni.vhost]]\nnames = [\"three.test\"]\ncert = \"three.pem\"\nkey = \"three.key\"\n",
    )
    .unwrap();
    let env = Env::preload().set("TLSEXT_SHIM_CONFIG", dir.join("shim.toml"));
    let nginx = Nginx::start(
        NginxOpts::new(&one)
            .server_name("one.test")
            .extra_server("two.test", &two)
            .env(env),
    );
    let port = nginx.port();
    for tls in Tls::BOTH {
        assert_cert(port, tls, Some("one.test"), "one.test");
        assert_cert(port, tls, Some("two.test"), "two.test");
        assert_cert(port, tls, Some("TWO.test"), "two.test");
        assert_cert(port, tls, Some("three.test"), "three.test");
        assert_cert(port, tls, Some("Three.Test."), "three.test");
        // nginx's default server (the first block) for everything else.
        assert_cert(port, tls, Some("unknown.test"), "one.test");
        assert_cert(port, tls, None, "one.test");

        // The shim's vhost keeps its tickets to itself.
        let three = dir.sess("three", tls);
        issue_as(port, tls, Some("three.test"), "three.test", &three);
        offer(port, tls, Some("three.test"), &three).assert_resumed(tls, "three.test ticket, same name");
        for name in ["one.test", "two.test"] {
            offer(port, tls, Some(name), &three).assert_full_handshake(tls, &format!("three.test ticket under {name}"));
        }
    }
    nginx.assert_no_handshake_failures();
}

// ---------------------------------------------------------------------------------------------
// HAProxy

#[test]
fn haproxy_routes_by_sni_and_binds_tickets() {
    require!("haproxy");
    let site = Site::new("sni-haproxy", false, "");
    let haproxy = Haproxy::start(HaproxyOpts::new(&site.default).env(site.env()));
    assert_routing(haproxy.port());
    assert_binding(&site, haproxy.port());
}

// ---------------------------------------------------------------------------------------------
// Certificate reload

#[test]
fn nginx_reloads_vhost_certificate_and_keeps_last_good() {
    require!("nginx");
    let site = Site::new("sni-nginx-reload", false, "");
    // One worker: the error is logged once per process that notices it.
    let nginx = Nginx::start(NginxOpts::new(&site.default).workers(1).env(site.env()));
    let port = nginx.port();
    for tls in Tls::BOTH {
        assert_cert(port, tls, Some("www.example.com"), WWW_CN);
    }

    let scratch = site.dir.subdir("v2");
    install_cert(
        &site.dir,
        "www",
        &scratch,
        "www-v2.example.com",
        &["www.example.com", "example.com"],
    );
    sleep(RELOAD_WAIT);
    for tls in Tls::BOTH {
        assert_cert(port, tls, Some("www.example.com"), "www-v2.example.com");
        assert_cert(port, tls, Some("example.com"), "www-v2.example.com");
        assert_cert(port, tls, Some("foo.apps.example.com"), APPS_CN);
    }
    let www_pem = site.dir.join("www.pem");
    let www_pem = www_pem.to_str().unwrap();
    assert!(
        shim_lines(&nginx.log(), "error", www_pem).is_empty(),
        "error before the bad file:\n{}",
        nginx.log()
    );

    fs::write(site.dir.join("www.pem"), b"this is not a certificate\n").unwrap();
    sleep(RELOAD_WAIT);
    for _ in 0..2 {
        for tls in Tls::BOTH {
            assert_cert(port, tls, Some("www.example.com"), "www-v2.example.com");
            assert_cert(port, tls, Some("foo.apps.example.com"), APPS_CN);
        }
        sleep(RELOAD_WAIT);
    }
    let errors = shim_lines(&nginx.log(), "error", www_pem);
    assert_eq!(
        errors.len(),
        1,
        "expected one error line naming {www_pem}:\n{}",
        nginx.log()
    );
    nginx.assert_no_handshake_failures();
}

// ---------------------------------------------------------------------------------------------
// openssl s_server

#[test]
fn s_server_routes_binds_and_skips_vhost_with_mismatched_key() {
    require!("openssl");
    let bad = "[[sni.vhost]]\nnames = [\"bad.example.com\"]\ncert = \"bad.pem\"\nkey = \"www.key\"\n";
    let site = Site::new("sni-s_server", false, bad);
    let scratch = site.dir.subdir("bad");
    install_cert(&site.dir, "bad", &scratch, "bad.example.com", &["bad.example.com"]);
    let server = SServer::start(SServerOpts::new(&site.default).env(site.env()));
    let port = server.port();
    assert_routing(port);
    for tls in Tls::BOTH {
        assert_cert(port, tls, Some("bad.example.com"), DEFAULT_CN);
    }
    assert_binding(&site, port);
    let errors = shim_lines(&server.log(), "error", "bad.example.com");
    assert_eq!(
        errors.len(),
        1,
        "expected one error line naming the vhost:\n{}",
        server.log()
    );
    assert!(
        server.log().contains("SNI routing for 2 vhost(s)"),
        "the two good vhosts are served:\n{}",
        server.log()
    );
}
