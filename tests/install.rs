//! `make install` into temporary prefixes: the versioned library and its links, the header, the
//! pkg-config file, the CLI, the man page and the docs; a C program built with
//! `pkg-config --cflags --libs tlsext-shim` against the installed copy seals and opens a ticket
//! with an nginx key made by the installed CLI; `make uninstall` removes exactly what was
//! installed. Uses a debug build (`INSTALL_PROFILE=dev`) to stay quick.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{TempDir, hex};

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Every file `make install` puts under the prefix, relative to it.
fn installed_files() -> BTreeSet<String> {
    [
        format!("lib/libtlsext_shim.so.{VERSION}"),
        "lib/libtlsext_shim.so.0".into(),
        "lib/libtlsext_shim.so".into(),
        "lib/pkgconfig/tlsext-shim.pc".into(),
        "include/tlsext_shim.h".into(),
        "bin/tlsext-shim".into(),
        "share/man/man1/tlsext-shim.1".into(),
        "share/doc/tlsext-shim/README.md".into(),
        "share/doc/tlsext-shim/operations.md".into(),
    ]
    .into_iter()
    .collect()
}

#[track_caller]
fn check(out: Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn make(args: &[String]) -> Output {
    Command::new("make")
        .arg("-C")
        .arg(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .args(["INSTALL_PROFILE=dev", "LDCONFIG=true"])
        .output()
        .unwrap()
}

/// Files and links (not directories) under `root`, relative to it.
fn tree(root: &Path) -> BTreeSet<String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<String>) {
        let Ok(entries) = fs::read_dir(dir) else { return };
        for e in entries.flatten() {
            let path = e.path();
            if e.file_type().unwrap().is_dir() {
                walk(root, &path, out);
            } else {
                out.insert(path.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(root, root, &mut out);
    out
}

const PROGRAM: &str = r#"
#include <stdio.h>
#include <string.h>
#include <tlsext_shim.h>

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    tlsext_keyring *ring = NULL;
    if (tlsext_keyring_new(&ring) != TLSEXT_RESULT_OK) return 3;
    if (tlsext_keyring_load_file(ring, argv[1], TLSEXT_KEY_FORMAT_NGINX) != TLSEXT_RESULT_OK) {
        fprintf(stderr, "load: %s\n", tlsext_last_error_message());
        return 4;
    }
    static const uint8_t session[] = "a DER SSL_SESSION would go here";
    uint8_t ticket[256], back[256];
    size_t ticket_len = 0, back_len = 0;
    if (tlsext_ticket_seal(ring, session, sizeof session, ticket, sizeof ticket, &ticket_len) != TLSEXT_RESULT_OK)
        return 5;
    if (tlsext_ticket_open(ring, ticket, ticket_len, back, sizeof back, &back_len) != TLSEXT_RESULT_OK) return 6;
    if (back_len != sizeof session || memcmp(back, session, back_len) != 0) return 7;
    tlsext_stats stats;
    if (tlsext_stats_snapshot(&stats) != TLSEXT_RESULT_OK) return 8;
    for (int i = 0; i < 16; i++) printf("%02x", ticket[i]);
    printf("\n");
    tlsext_keyring_free(ring);
    return 0;
}
"#;

/// Builds PROGRAM with pkg-config (`env` sets PKG_CONFIG_PATH and friends), runs it with the
/// nginx key `key` and `LD_LIBRARY_PATH=libdir`; returns what it printed.
fn build_and_run(dir: &Path, env: &[(&str, &Path)], libdir: &Path, key: &Path) -> String {
    let src = dir.join("prog.c");
    let exe = dir.join("prog");
    fs::write(&src, PROGRAM).unwrap();
    let mut pc = Command::new("pkg-config");
    pc.args(["--cflags", "--libs", "tlsext-shim"]);
    for (k, v) in env {
        pc.env(k, v);
    }
    let flags = check(pc.output().unwrap(), "pkg-config");
    assert!(flags.contains("-ltlsext_shim") && flags.contains("-lssl"), "{flags}");
    let cc = Command::new("cc")
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-o"])
        .arg(&exe)
        .arg(&src)
        .args(flags.split_whitespace())
        .output()
        .unwrap();
    check(cc, "cc");
    let dynamic = check(Command::new("readelf").arg("-d").arg(&exe).output().unwrap(), "readelf");
    assert!(dynamic.contains("[libtlsext_shim.so.0]"), "links the soname: {dynamic}");
    let run = Command::new(&exe)
        .arg(key)
        .env("LD_LIBRARY_PATH", libdir)
        .output()
        .unwrap();
    check(run, "the program")
}

#[test]
fn install_and_build_against_the_installed_copy() {
    require!("make", "cc", "pkg-config", "readelf");
    let tmp = TempDir::new("install");

    // A real prefix.
    let prefix = tmp.join("prefix");
    check(
        make(&["install".into(), format!("PREFIX={}", prefix.display())]),
        "make install",
    );
    assert_eq!(tree(&prefix), installed_files());
    let lib = prefix.join("lib");
    assert_eq!(
        fs::read_link(lib.join("libtlsext_shim.so")).unwrap(),
        PathBuf::from("libtlsext_shim.so.0")
    );
    assert_eq!(
        fs::read_link(lib.join("libtlsext_shim.so.0")).unwrap(),
        PathBuf::from(format!("libtlsext_shim.so.{VERSION}"))
    );
    let real = lib.join(format!("libtlsext_shim.so.{VERSION}"));
    let dynamic = check(
        Command::new("readelf").arg("-d").arg(&real).output().unwrap(),
        "readelf",
    );
    assert!(dynamic.contains("Library soname: [libtlsext_shim.so.0]"), "{dynamic}");
    let pc = fs::read_to_string(lib.join("pkgconfig/tlsext-shim.pc")).unwrap();
    assert!(pc.contains(&format!("prefix={}\n", prefix.display())), "{pc}");
    assert!(
        pc.contains("libdir=${prefix}/lib\n") && pc.contains(&format!("Version: {VERSION}\n")),
        "{pc}"
    );
    assert_eq!(
        fs::read(prefix.join("include/tlsext_shim.h")).unwrap(),
        fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("include/tlsext_shim.h")).unwrap()
    );

    // The installed CLI makes an nginx key; the program seals and opens a ticket with it.
    let cli = prefix.join("bin/tlsext-shim");
    let key = tmp.join("ticket.key");
    check(
        Command::new(&cli)
            .args(["keys", "gen", "--format", "nginx80", "-o"])
            .arg(&key)
            .output()
            .unwrap(),
        "tlsext-shim keys gen",
    );
    let name = hex(&fs::read(&key).unwrap()[..16]);
    let pkgconfig = lib.join("pkgconfig");
    let out = build_and_run(tmp.path(), &[("PKG_CONFIG_PATH", &pkgconfig)], &lib, &key);
    assert_eq!(out.trim(), name, "the ticket carries the key's name");
    // The installed library preloads like the build tree's.
    let preloaded = Command::new("openssl")
        .arg("version")
        .env("LD_PRELOAD", &real)
        .output()
        .unwrap();
    check(preloaded, "openssl version with the installed library preloaded");

    // A staged install for a package: the .pc names the final prefix.
    let stage = tmp.join("stage");
    let staged = [format!("DESTDIR={}", stage.display()), "PREFIX=/usr/local".to_owned()];
    check(
        make(&[&["install".to_owned()], &staged[..]].concat()),
        "make install DESTDIR=",
    );
    let root = stage.join("usr/local");
    assert_eq!(tree(&root), installed_files());
    let pc = fs::read_to_string(root.join("lib/pkgconfig/tlsext-shim.pc")).unwrap();
    assert!(pc.contains("prefix=/usr/local\n"), "{pc}");
    let build = tmp.subdir("staged-build");
    let out = build_and_run(
        &build,
        &[
            ("PKG_CONFIG_PATH", &root.join("lib/pkgconfig")),
            ("PKG_CONFIG_SYSROOT_DIR", &stage),
        ],
        &root.join("lib"),
        &key,
    );
    assert_eq!(out.trim(), name);

    // Uninstall removes exactly what was installed.
    fs::write(root.join("lib/other.so"), "not ours").unwrap();
    check(
        make(&[&["uninstall".to_owned()], &staged[..]].concat()),
        "make uninstall DESTDIR=",
    );
    assert_eq!(
        tree(&stage),
        ["usr/local/lib/other.so".to_owned()].into_iter().collect()
    );
    check(
        make(&["uninstall".into(), format!("PREFIX={}", prefix.display())]),
        "make uninstall",
    );
    assert!(tree(&prefix).is_empty(), "{:?}", tree(&prefix));
}
