//! The `tlsext-shim` command end to end: the built binary on temporary files, against a real
//! preloaded `openssl s_server`, and every command of docs/operations.md and the man page.
//!
//! Documented commands are run through [`doc`], which insists that the command is written
//! exactly so in the documentation and listed in [`DOC_EXAMPLES`]; absolute paths in them are
//! re-rooted in the test's temporary directory. `every_documented_command_is_tested` fails when
//! the documentation shows a command that is not in the list.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use std::ffi::OsString;
use std::fs;
use std::num::NonZeroU64;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use common::{Env, SServer, SServerOpts, TempDir, Tls, gen_cert, hex, issue, random_bytes, ticket_key_name};
use tlsext_shim::metrics::{Metrics, Refusal, Tls as MetricsTls};
use tlsext_shim::ticket::format::{self, ParsedKeys};
use tlsext_shim::ticket::ring::now;
use tlsext_shim::ticket::{Chain, KeyFormat, KeyName, Seed, Snapshot};

const BIN: &str = env!("CARGO_BIN_EXE_tlsext-shim");

// ---------------------------------------------------------------------------------------------
// Running the binary

/// What one run printed, and its exit code.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    #[track_caller]
    fn ok(self) -> Run {
        assert_eq!(self.code, 0, "expected success: {self:#?}");
        self
    }

    #[track_caller]
    fn fails(self, code: i32, needle: &str) -> Run {
        assert_eq!(self.code, code, "expected exit {code}: {self:#?}");
        assert!(
            self.stdout.contains(needle) || self.stderr.contains(needle),
            "expected {needle:?} in the output: {self:#?}"
        );
        self
    }

    fn has(&self, needle: &str) -> bool {
        self.stdout.contains(needle)
    }
}

fn run_with(args: &[OsString], env: &[(&str, &OsString)]) -> Run {
    let mut cmd = Command::new(BIN);
    cmd.args(args).stdin(Stdio::null());
    for var in tlsext_shim::config::ENV_VARS {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs the binary with `args` (strings or paths).
macro_rules! shim {
    ($($arg:expr),* $(,)?) => {
        run_with(&[$(OsString::from($arg)),*], &[])
    };
}

// ---------------------------------------------------------------------------------------------
// The documentation

/// The documentation files whose commands must be tested.
const DOCS: [(&str, &str); 2] = [
    ("docs/operations.md", include_str!("../docs/operations.md")),
    ("docs/tlsext-shim.1", include_str!("../docs/tlsext-shim.1")),
];

/// Every documented `tlsext-shim` command and the test that runs it.
const DOC_EXAMPLES: &[(&str, &str)] = &[
    (
        "tlsext-shim keys gen --format nginx80 -o /etc/tlsext-shim/ticket.key",
        "doc_generate_check_and_rotate",
    ),
    (
        "tlsext-shim keys gen --format haproxy80 -o /etc/haproxy/tls-ticket-keys",
        "doc_generate_check_and_rotate",
    ),
    (
        "tlsext-shim keys check /etc/tlsext-shim/keys",
        "doc_generate_check_and_rotate",
    ),
    (
        "tlsext-shim keys rotate /etc/tlsext-shim/keys --keep 2",
        "doc_generate_check_and_rotate",
    ),
    (
        "tlsext-shim keys rotate /etc/haproxy/tls-ticket-keys",
        "doc_generate_check_and_rotate",
    ),
    (
        "tlsext-shim keys gen --format seed --rotate 12h -o /etc/tlsext-shim/seed",
        "doc_seed_examples",
    ),
    ("tlsext-shim keys advance /etc/tlsext-shim/seed", "doc_seed_examples"),
    (
        "tlsext-shim keys advance /etc/tlsext-shim/seed --latest",
        "doc_seed_examples",
    ),
    ("tlsext-shim keys rotate /work/keys --keep 2", "doc_kubernetes_rotation"),
    ("tlsext-shim stats /var/lib/tlsext-shim/metrics", "doc_stats"),
    (
        "tlsext-shim ticket inspect --keys /etc/tlsext-shim/keys --sess-in /tmp/sess.pem",
        "doc_inspect_real_server",
    ),
    (
        "tlsext-shim config check /etc/tlsext-shim/config.toml",
        "doc_config_check",
    ),
];

/// The `tlsext-shim <command> ...` lines of the documentation's code blocks (fenced blocks in
/// Markdown, `.EX`/`.EE` in the man page, roff escapes removed), each once.
fn documented_commands() -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for (name, text) in DOCS {
        let roff = name.ends_with(".1");
        let mut in_block = false;
        for line in text.lines() {
            let toggles = if roff {
                line.starts_with(".EX") || line.starts_with(".EE")
            } else {
                line.trim_start().starts_with("```")
            };
            if toggles {
                in_block = !in_block;
                continue;
            }
            if !in_block {
                continue;
            }
            let line = line.replace("\\-", "-");
            for sub in ["keys", "ticket", "config", "stats"] {
                if let Some(at) = line.find(&format!("tlsext-shim {sub}")) {
                    let cmd = line[at..].trim().to_owned();
                    if !found.contains(&cmd) {
                        found.push(cmd);
                    }
                }
            }
        }
    }
    found
}

/// Runs `cmd`, which must be a documented command listed in [`DOC_EXAMPLES`], with every
/// absolute path re-rooted under `root`.
#[track_caller]
fn doc(cmd: &str, root: &Path) -> Run {
    assert!(
        DOC_EXAMPLES.iter().any(|(c, _)| *c == cmd),
        "not in DOC_EXAMPLES: {cmd}"
    );
    assert!(
        documented_commands().iter().any(|c| c == cmd),
        "not in the documentation: {cmd}"
    );
    let mut words = cmd.split_whitespace();
    assert_eq!(words.next(), Some("tlsext-shim"));
    let args: Vec<OsString> = words
        .map(|w| match w.strip_prefix('/') {
            Some(rel) => root.join(rel).into_os_string(),
            None => OsString::from(w),
        })
        .collect();
    run_with(&args, &[])
}

#[test]
fn every_documented_command_is_tested() {
    let documented = documented_commands();
    assert!(documented.len() >= 10, "{documented:#?}");
    for cmd in &documented {
        assert!(
            DOC_EXAMPLES.iter().any(|(c, _)| c == cmd),
            "documented but not tested (add it to DOC_EXAMPLES and run it with doc()): {cmd}"
        );
    }
    for (cmd, test) in DOC_EXAMPLES {
        assert!(
            documented.contains(&(*cmd).to_owned()),
            "{test}: no longer documented: {cmd}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The non-hidden file names of a directory, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.starts_with('.'))
        .collect();
    v.sort();
    v
}

fn load(path: &Path, format: KeyFormat) -> ParsedKeys {
    format::load_path(path, format).unwrap()
}

fn key_names(parsed: &ParsedKeys) -> Vec<KeyName> {
    parsed.keys.iter().map(|k| *k.name()).collect()
}

fn encrypting(parsed: &ParsedKeys) -> KeyName {
    *parsed.keys[parsed.encrypt].name()
}

/// A DER element.
fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    if body.len() < 0x80 {
        out.push(body.len() as u8);
    } else {
        out.push(0x82);
        out.extend_from_slice(&(body.len() as u16).to_be_bytes());
    }
    out.extend_from_slice(body);
    out
}

fn der_int(v: i64) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let mut start = 0;
    while start < 7 && bytes[start] == 0 && bytes[start + 1] & 0x80 == 0 {
        start += 1;
    }
    tlv(0x02, &bytes[start..])
}

/// An OpenSSL DER `SSL_SESSION` as a server puts it in a ticket.
fn server_session(version: i64, cipher: u16, time: i64, timeout: i64, host: &str) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(der_int(1));
    body.extend(der_int(version));
    body.extend(tlv(0x04, &cipher.to_be_bytes()));
    body.extend(tlv(0x04, &[]));
    body.extend(tlv(0x04, &random_bytes(48)));
    body.extend(tlv(0xA1, &der_int(time)));
    body.extend(tlv(0xA2, &der_int(timeout)));
    body.extend(tlv(0xA6, &tlv(0x04, host.as_bytes())));
    tlv(0x30, &body)
}

// ---------------------------------------------------------------------------------------------
// keys gen, check, rotate

#[test]
fn doc_generate_check_and_rotate() {
    let root = TempDir::new("cli-doc-keys");
    fs::create_dir_all(root.join("etc/tlsext-shim/keys")).unwrap();
    fs::create_dir_all(root.join("etc/haproxy")).unwrap();

    let run = doc(
        "tlsext-shim keys gen --format nginx80 -o /etc/tlsext-shim/ticket.key",
        root.path(),
    )
    .ok();
    assert!(run.has("nginx key, 80 bytes"), "{run:?}");
    let key = root.join("etc/tlsext-shim/ticket.key");
    assert_eq!((fs::read(&key).unwrap().len(), mode(&key)), (80, 0o600));
    load(&key, KeyFormat::Nginx);

    doc(
        "tlsext-shim keys gen --format haproxy80 -o /etc/haproxy/tls-ticket-keys",
        root.path(),
    )
    .ok();
    let hap = root.join("etc/haproxy/tls-ticket-keys");
    let before = load(&hap, KeyFormat::Haproxy);
    assert_eq!((before.keys.len(), before.encrypt), (3, 1));

    // Rotate the (empty) directory five times, keeping 2: exactly 3 files, the newest encrypts.
    let dir = root.join("etc/tlsext-shim/keys");
    let mut made = Vec::new();
    for i in 0..5 {
        if i == 3 {
            // The next key takes over the newest key's mode (and owner).
            let newest = dir.join(names(&dir).last().unwrap());
            fs::set_permissions(&newest, fs::Permissions::from_mode(0o640)).unwrap();
        }
        let run = doc("tlsext-shim keys rotate /etc/tlsext-shim/keys --keep 2", root.path()).ok();
        assert!(run.has("which encrypts from now on"), "{run:?}");
        let files = names(&dir);
        let newest = files.last().unwrap().clone();
        let parsed = load(&dir, KeyFormat::Nginx);
        assert_eq!(encrypting(&parsed), key_names(&parsed)[files.len() - 1]);
        assert!(newest.ends_with(".key") && newest.contains(&hex(&encrypting(&parsed).0)[..8]));
        made.push(encrypting(&parsed));
        assert_eq!(files.len(), (i + 1).min(3), "{files:?}");
    }
    let files = names(&dir);
    assert_eq!(files.len(), 3);
    assert_eq!(key_names(&load(&dir, KeyFormat::Nginx)), made[2..]);
    assert_eq!(mode(&dir.join(&files[0])), 0o640);
    assert_eq!(mode(&dir.join(&files[2])), 0o640);

    let run = doc("tlsext-shim keys check /etc/tlsext-shim/keys", root.path()).ok();
    assert!(run.has("key directory, 3 key(s) of 80 bytes"), "{run:?}");
    assert!(run.has(&format!("{}  encrypts", made[4])), "{run:?}");
    assert!(run.has(&format!("{}  decrypts only", made[2])), "{run:?}");
    assert!(run.has("lets the group read the key"), "0640 keys warn: {run:?}");
    assert!(run.has("usable, 3 warning(s)"), "{run:?}");

    // HAProxy: the staged key (last line) becomes the encrypting one (second-to-last).
    doc("tlsext-shim keys rotate /etc/haproxy/tls-ticket-keys", root.path()).ok();
    let after = load(&hap, KeyFormat::Haproxy);
    let (b, a) = (key_names(&before), key_names(&after));
    assert_eq!(a.len(), 3);
    assert_eq!(a[..2], b[1..], "the oldest line dropped, the others shifted");
    assert_eq!(encrypting(&after), b[2], "the staged key encrypts");
    assert!(!b.contains(&a[2]), "a new staged key");
    assert_eq!(mode(&hap), 0o600);
    doc("tlsext-shim keys rotate /etc/haproxy/tls-ticket-keys", root.path()).ok();
    assert_eq!(encrypting(&load(&hap, KeyFormat::Haproxy)), a[2]);
    let run = shim!("keys", "rotate", &hap, "--keep", "3").ok();
    assert!(run.has("4 keys in the file"), "{run:?}");
    assert_eq!(load(&hap, KeyFormat::Haproxy).encrypt, 2);
}

#[test]
fn gen_every_format_then_check() {
    let dir = TempDir::new("cli-gen");
    for (format, expect) in [
        ("nginx80", Some((KeyFormat::Nginx, 80, 1))),
        ("nginx48", Some((KeyFormat::Nginx, 48, 1))),
        ("openssl", Some((KeyFormat::Openssl, 80, 1))),
        ("haproxy80", Some((KeyFormat::Haproxy, 80, 3))),
        ("haproxy48", Some((KeyFormat::Haproxy, 48, 3))),
        ("seed", None),
    ] {
        let path = dir.join(format);
        shim!("keys", "gen", "--format", format, "-o", &path).ok();
        assert_eq!(mode(&path), 0o600, "{format}");
        let check = shim!("keys", "check", &path).ok();
        assert!(check.has("usable") && !check.has("warning"), "{format}: {check:?}");
        match expect {
            Some((kf, size, count)) => {
                let parsed = load(&path, kf);
                assert_eq!(parsed.keys.len(), count, "{format}");
                assert!(parsed.keys.iter().all(|k| k.size().file_len() == size), "{format}");
                let shown = format!("{}", parsed.keys[parsed.encrypt].name());
                assert!(check.has(&shown), "{format}: {check:?}");
            }
            None => {
                let seed = Seed::load(&path).unwrap();
                assert_eq!(seed.rotate_secs().get(), 12 * 3600);
                assert_eq!(seed.epoch(), now() / (12 * 3600));
                assert!(check.has("seed file, rotate 43200s"), "{check:?}");
            }
        }
    }
    // Standard output (not a terminal here): raw bytes and text.
    let mut cmd = Command::new(BIN);
    let out = cmd.args(["keys", "gen", "--format", "nginx48"]).output().unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout.len(), 48);
    format::parse(
        &out.stdout,
        KeyFormat::Nginx,
        &tlsext_shim::ticket::Location::new("stdout"),
    )
    .unwrap();
    let run = shim!("keys", "gen", "--format", "haproxy48").ok();
    let parsed = format::parse(
        run.stdout.as_bytes(),
        KeyFormat::Haproxy,
        &tlsext_shim::ticket::Location::new("x"),
    )
    .unwrap();
    assert_eq!(parsed.keys.len(), 3);
    let run = shim!("keys", "gen", "--format", "seed", "--rotate", "90m").ok();
    assert_eq!(Seed::parse(&run.stdout, "stdout").unwrap().rotate_secs().get(), 5400);
    shim!("keys", "gen", "--format", "nginx80", "--rotate", "1h").fails(2, "--format seed only");
    shim!("keys", "gen", "--format", "seed", "--rotate", "0").fails(2, "at least 1s");
    shim!("keys", "gen", "--format", "seed", "--rotate", "1x").fails(2, "unknown unit");
}

#[test]
fn gen_refuses_raw_keys_on_a_terminal() {
    require!("script");
    // `script` runs the command on a pseudo-terminal and returns its exit code (-e).
    let out = Command::new("script")
        .args(["-qec", &format!("{BIN} keys gen --format nginx80"), "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("refusing to write a raw binary key to a terminal"),
        "{text}"
    );
}

#[test]
fn rotate_refuses_what_it_cannot_rotate_safely() {
    let dir = TempDir::new("cli-rotate-refusals");
    let keys = dir.subdir("keys");
    shim!("keys", "rotate", &keys, "--keep", "0").fails(2, "--keep 0");
    assert!(names(&keys).is_empty());
    // A name that sorts after every timestamp would keep encrypting.
    fs::write(keys.join("zzz.key"), random_bytes(80)).unwrap();
    shim!("keys", "rotate", &keys).fails(1, "sorts after the new key's name");
    assert_eq!(names(&keys), ["zzz.key"]);
    // A broken directory is not rotated.
    fs::remove_file(keys.join("zzz.key")).unwrap();
    let mut weak = random_bytes(80);
    weak[16..48].fill(0);
    fs::write(keys.join("0.key"), weak).unwrap();
    shim!("keys", "rotate", &keys).fails(1, "single repeated byte");
    assert_eq!(names(&keys), ["0.key"]);
    // 48-byte keys beget 48-byte keys.
    fs::write(keys.join("0.key"), random_bytes(48)).unwrap();
    shim!("keys", "rotate", &keys, "--keep", "1").ok();
    assert!(
        load(&keys, KeyFormat::Nginx)
            .keys
            .iter()
            .all(|k| k.size().file_len() == 48)
    );
    // A single raw key, a seed, a short HAProxy ring.
    let single = dir.join("single.key");
    fs::write(&single, random_bytes(80)).unwrap();
    shim!("keys", "rotate", &single).fails(1, "holds one raw key");
    let seed = dir.join("seed");
    shim!("keys", "gen", "--format", "seed", "-o", &seed).ok();
    shim!("keys", "rotate", &seed).fails(1, "keys advance");
    let hap = dir.join("hap");
    shim!("keys", "gen", "--format", "haproxy80", "-o", &hap).ok();
    shim!("keys", "rotate", &hap, "--keep", "1").fails(2, "at least 2");
    shim!("keys", "rotate", dir.join("missing")).fails(1, "cannot read");
}

#[test]
fn rotating_through_a_symlink_keeps_the_link() {
    let dir = TempDir::new("cli-rotate-link");
    let hap = dir.join("tls-ticket-keys");
    shim!("keys", "gen", "--format", "haproxy48", "-o", &hap).ok();
    let before = key_names(&load(&hap, KeyFormat::Haproxy));
    let link = dir.join("link");
    std::os::unix::fs::symlink(&hap, &link).unwrap();
    shim!("keys", "rotate", &link).ok();
    assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert_eq!(encrypting(&load(&hap, KeyFormat::Haproxy)), before[2]);
    let seed = dir.join("seed");
    let old = Seed::generate(NonZeroU64::new(60).unwrap(), now() - 600).unwrap();
    fs::write(&seed, old.to_text().as_bytes()).unwrap();
    let seed_link = dir.join("seed-link");
    std::os::unix::fs::symlink(&seed, &seed_link).unwrap();
    shim!("keys", "advance", &seed_link).ok();
    assert!(fs::symlink_metadata(&seed_link).unwrap().file_type().is_symlink());
    assert_eq!(Seed::load(&seed).unwrap().epoch(), old.epoch() + 1);
}

#[test]
fn doc_kubernetes_rotation() {
    // The CronJob copies the Secret's files into /work/keys, rotates, and writes them back.
    let root = TempDir::new("cli-doc-k8s");
    let work = root.join("work/keys");
    fs::create_dir_all(&work).unwrap();
    for _ in 0..3 {
        shim!("keys", "rotate", &work).ok();
    }
    let before = key_names(&load(&work, KeyFormat::Nginx));
    doc("tlsext-shim keys rotate /work/keys --keep 2", root.path()).ok();
    let after = load(&work, KeyFormat::Nginx);
    assert_eq!(key_names(&after)[..2], before[1..]);
    assert!(!before.contains(&encrypting(&after)));
    // Every file name is a valid Secret key (`[-._a-zA-Z0-9]+`).
    for name in names(&work) {
        assert!(
            name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b)),
            "{name}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// keys check

#[test]
fn check_refuses_weak_duplicate_and_short_keys() {
    let dir = TempDir::new("cli-check");
    let file = dir.join("k");
    let mut weak = random_bytes(80);
    weak[48..].fill(0);
    fs::write(&file, &weak).unwrap();
    shim!("keys", "check", &file).fails(1, "the AES key is a single repeated byte");
    fs::write(&file, random_bytes(47)).unwrap();
    shim!("keys", "check", &file).fails(1, "47 bytes of binary data");
    shim!("keys", "check", &file, "--format", "nginx").fails(1, "a nginx key is 48 or 80 bytes, found 47 bytes");
    fs::write(&file, random_bytes(48)).unwrap();
    shim!("keys", "check", &file, "--format", "openssl").fails(1, "OpenSSL key is 80 bytes, found 48 bytes");
    let two: String = (0..2).map(|_| common::base64(&random_bytes(80)) + "\n").collect();
    fs::write(&file, two).unwrap();
    shim!("keys", "check", &file).fails(1, "needs at least 3 keys");
    fs::write(&file, "not base64!\n").unwrap();
    shim!("keys", "check", &file, "--format", "haproxy").fails(1, ":1: not valid base64");

    let keys = dir.subdir("keys");
    let key = random_bytes(80);
    fs::write(keys.join("a"), &key).unwrap();
    fs::write(keys.join("b"), &key).unwrap();
    shim!("keys", "check", &keys).fails(1, "appears twice");
    fs::write(keys.join("b"), random_bytes(48)).unwrap();
    shim!("keys", "check", &keys).fails(1, "all keys must be the same size");
    fs::remove_file(keys.join("b")).unwrap();
    let run = shim!("keys", "check", &keys).ok();
    assert!(run.has("key directory, 1 key(s)"), "{run:?}");

    fs::write(&file, random_bytes(80)).unwrap();
    fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
    let run = shim!("keys", "check", &file).ok();
    assert!(run.has("warning:") && run.has("lets everyone read the key"), "{run:?}");
    shim!("keys", "check", dir.join("missing")).fails(1, "cannot read");
    fs::create_dir(dir.join("empty")).unwrap();
    shim!("keys", "check", dir.join("empty")).fails(1, "no keys found");

    let seed = dir.join("future-seed");
    let rotate = NonZeroU64::new(3600).unwrap();
    let s = Seed::generate(rotate, now() + 3 * 3600).unwrap();
    fs::write(&seed, s.to_text().as_bytes()).unwrap();
    shim!("keys", "check", &seed).fails(1, "after now");
    fs::write(&seed, "rotate = 60\nepoch = 1\n").unwrap();
    shim!("keys", "check", &seed).fails(1, "secret");
}

// ---------------------------------------------------------------------------------------------
// keys advance

/// The key names a chain from `seed` has at `t`.
fn chain_names(seed: &Seed, t: u64) -> Vec<KeyName> {
    let snap = Chain::from_seed(seed.advanced(0)).snapshot(t);
    snap.keys().iter().map(|k| *k.key.name()).collect()
}

#[test]
fn doc_seed_examples() {
    let root = TempDir::new("cli-doc-seed");
    fs::create_dir_all(root.join("etc/tlsext-shim")).unwrap();
    let path = root.join("etc/tlsext-shim/seed");
    doc(
        "tlsext-shim keys gen --format seed --rotate 12h -o /etc/tlsext-shim/seed",
        root.path(),
    )
    .ok();
    let fresh = Seed::load(&path).unwrap();
    let rotate = fresh.rotate_secs().get();
    assert_eq!(rotate, 43_200);
    let current = now() / rotate;
    assert_eq!(fresh.epoch(), current);
    // A fresh seed is at the current epoch: advancing it would be unsafe.
    doc("tlsext-shim keys advance /etc/tlsext-shim/seed", root.path()).fails(1, "--force");
    doc("tlsext-shim keys advance /etc/tlsext-shim/seed --latest", root.path())
        .ok()
        .has("nothing to do");
    assert_eq!(Seed::load(&path).unwrap().epoch(), current);

    // A seed five epochs old advances one epoch, and the chain agrees.
    let old = Seed::generate(NonZeroU64::new(rotate).unwrap(), now() - 5 * rotate).unwrap();
    let old_text = old.to_text();
    let old_secret = old_text.lines().find(|l| l.starts_with("secret")).unwrap().to_owned();
    fs::write(&path, old_text.as_bytes()).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
    doc("tlsext-shim keys advance /etc/tlsext-shim/seed", root.path())
        .ok()
        .has("advanced from epoch");
    let advanced = Seed::load(&path).unwrap();
    assert_eq!(advanced.epoch(), old.epoch() + 1);
    let t = now();
    assert_eq!(chain_names(&advanced, t), chain_names(&old, t));
    assert_eq!(
        chain_names(&advanced, t),
        chain_names(&old.advanced(1), t),
        "Chain::from_seed agrees one epoch later"
    );
    let text = fs::read_to_string(&path).unwrap();
    assert!(!text.contains(&old_secret), "the old secret is gone from the file");
    assert_eq!(mode(&path), 0o640, "mode kept");

    // --latest goes to epoch(now) - 1, and then has nothing to do.
    doc("tlsext-shim keys advance /etc/tlsext-shim/seed --latest", root.path()).ok();
    let latest = Seed::load(&path).unwrap();
    assert_eq!(latest.epoch(), current - 1);
    assert_eq!(chain_names(&latest, t), chain_names(&old, t));
    doc("tlsext-shim keys advance /etc/tlsext-shim/seed --latest", root.path())
        .ok()
        .has("nothing to do");

    // Beyond epoch(now) - 1 only with --force; never backwards.
    let e = current.to_string();
    shim!("keys", "advance", &path, "--to-epoch", &e).fails(1, "--force");
    shim!("keys", "advance", &path, "--to-epoch", "3").fails(1, "only moves forward");
    shim!("keys", "advance", &path, "--to-epoch", &e, "--latest").fails(2, "cannot be used with");
    shim!("keys", "advance", &path, "--to-epoch", &e, "--force").ok();
    assert_eq!(Seed::load(&path).unwrap().epoch(), current);
    shim!("keys", "advance", root.join("missing")).fails(1, "cannot read");
}

// ---------------------------------------------------------------------------------------------
// ticket inspect

/// The pid of the `openssl s_server` listening on `port`.
fn s_server_pid(port: u16) -> u32 {
    let needle = format!("127.0.0.1:{port}");
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let args: Vec<&[u8]> = cmdline.split(|&b| b == 0).collect();
        if args.first().is_some_and(|a| a.ends_with(b"openssl"))
            && args.contains(&&b"s_server"[..])
            && args.contains(&needle.as_bytes())
        {
            return pid;
        }
    }
    panic!("no s_server on port {port}");
}

#[test]
fn doc_inspect_real_server() {
    require!("openssl");
    let root = TempDir::new("cli-doc-inspect");
    let keys = root.join("etc/tlsext-shim/keys");
    fs::create_dir_all(&keys).unwrap();
    fs::create_dir_all(root.join("tmp")).unwrap();
    for _ in 0..2 {
        shim!("keys", "rotate", &keys).ok();
    }
    let parsed = load(&keys, KeyFormat::Nginx);
    let encrypting = encrypting(&parsed);
    let newest = names(&keys).pop().unwrap();
    let cert = common::Cert::localhost(root.path());
    let server = SServer::start(SServerOpts::new(&cert).env(Env::shim(&keys)));
    let sess = root.join("tmp/sess.pem");
    for tls in Tls::BOTH {
        let probe = issue(server.port(), tls, &sess);
        assert_eq!(ticket_key_name(&sess), Some(encrypting.0));
        let run = doc(
            "tlsext-shim ticket inspect --keys /etc/tlsext-shim/keys --sess-in /tmp/sess.pem",
            root.path(),
        )
        .ok();
        assert!(run.has(&format!("protocol:      {}", tls.name())), "{run:?}");
        assert!(
            run.has(&format!("cipher:        {} (0x", probe.cipher)),
            "{run:?}\n{}",
            probe.cipher
        );
        assert!(
            run.has(&format!("opened by:     key {encrypting} ({newest}, encrypts)")),
            "{run:?}"
        );
        assert!(run.has(&format!("key name {encrypting}")), "{run:?}");
        assert!(
            run.has("expired:       no") && run.has("server would:  resume it"),
            "{run:?}"
        );
        assert!(run.has("timeout:       7200s"), "{run:?}");

        // The same ticket given in hex and in base64 (as a packet capture would show it).
        let ticket = probe.tickets.iter().rev().find(|t| !t.ticket.is_empty()).unwrap();
        let hexed = shim!("ticket", "inspect", "--keys", &keys, hex(&ticket.ticket)).ok();
        assert!(hexed.has(&format!("protocol:      {}", tls.name())), "{hexed:?}");
        let b64 = base64::engine::general_purpose::STANDARD.encode(&ticket.ticket);
        shim!("ticket", "inspect", "--keys", &keys, b64).ok();
    }
    // Retire the key that sealed it: no key opens it any more.
    shim!("keys", "rotate", &keys, "--keep", "1").ok();
    let run = shim!("ticket", "inspect", "--keys", &keys, "--sess-in", &sess).ok();
    assert!(run.has("decrypts only"), "{run:?}");
    shim!("keys", "rotate", &keys, "--keep", "1").ok();
    shim!("ticket", "inspect", "--keys", &keys, "--sess-in", &sess).fails(1, "no key in");
    drop(server);
}

#[test]
fn doc_loaded_check() {
    require!("openssl");
    let dir = TempDir::new("cli-doc-loaded");
    let keys = dir.subdir("keys");
    shim!("keys", "rotate", &keys).ok();
    let cert = common::Cert::localhost(dir.path());
    let server = SServer::start(SServerOpts::new(&cert).env(Env::shim(&keys)));
    let pid = s_server_pid(server.port());
    // As documented: grep -c libtlsext_shim /proc/PID/maps
    let out = Command::new("grep")
        .args(["-c", "libtlsext_shim", &format!("/proc/{pid}/maps")])
        .output()
        .unwrap();
    let count: u32 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    assert!(count > 0);
    let line = format!("tlsext-shim[{pid}]: notice: active; ticket keys: {}", keys.display());
    assert!(server.log().contains(&line), "{}", server.log());
    assert!(DOCS[0].1.contains("grep -c libtlsext_shim /proc/PID/maps"));
    assert!(
        DOCS[0]
            .1
            .contains("notice: active; ticket keys: /etc/tlsext-shim/keys (auto format)")
    );
}

#[test]
fn inspect_tickets_sealed_here() {
    let dir = TempDir::new("cli-inspect");
    let keys = dir.subdir("keys");
    for _ in 0..2 {
        shim!("keys", "rotate", &keys).ok();
    }
    let snap = Snapshot::from_parsed(load(&keys, KeyFormat::Nginx));
    let t = now() as i64;
    let der = server_session(0x0303, 0xC02F, t - 100, 300, "www.example.com");
    let ticket = tlsext_shim::ticket::seal(&snap, &der, now()).unwrap();
    let run = shim!("ticket", "inspect", "--keys", &keys, hex(&ticket)).ok();
    for needle in [
        "protocol:      TLSv1.2 (0x0303)",
        "cipher:        ECDHE-RSA-AES128-GCM-SHA256 (0xc02f)",
        "server name:   www.example.com",
        "created:       ",
        "s ago)",
        "timeout:       300s (5m 0s)",
        "expired:       no",
        "server would:  resume it",
    ] {
        assert!(run.has(needle), "{needle}: {run:?}");
    }
    let old = server_session(0x0304, 0x1301, t - 1000, 300, "www.example.com");
    let ticket = tlsext_shim::ticket::seal(&snap, &old, now()).unwrap();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&ticket);
    let run = shim!("ticket", "inspect", "--keys", &keys, b64).ok();
    assert!(
        run.has("TLS_AES_128_GCM_SHA256") && run.has("expired:       yes"),
        "{run:?}"
    );
    assert!(run.has("refuse it: the session has expired"), "{run:?}");

    // A vhost's ticket opens only with --vhost and its first name.
    let vhost = snap.derive(b"www.example.com");
    let ticket = tlsext_shim::ticket::seal(&vhost, &der, now()).unwrap();
    shim!("ticket", "inspect", "--keys", &keys, hex(&ticket)).fails(1, "--vhost");
    let run = shim!(
        "ticket",
        "inspect",
        "--keys",
        &keys,
        "--vhost",
        "WWW.example.com.",
        hex(&ticket)
    )
    .ok();
    assert!(run.has("vhost www.example.com's key from"), "{run:?}");
    shim!(
        "ticket",
        "inspect",
        "--keys",
        &keys,
        "--vhost",
        "api.example.com",
        hex(&ticket)
    )
    .fails(1, "another vhost");

    // Seed keys: the key of the current epoch, found by walking the chain.
    let seed_path = dir.join("seed");
    let rotate = NonZeroU64::new(600).unwrap();
    let seed = Seed::generate(rotate, now() - 3600).unwrap();
    fs::write(&seed_path, seed.to_text().as_bytes()).unwrap();
    let chain_snap = Chain::from_seed(seed.advanced(0)).snapshot(now());
    let ticket = tlsext_shim::ticket::seal(&chain_snap, &der, now()).unwrap();
    let epoch = now() / 600;
    let run = shim!("ticket", "inspect", "--keys", &seed_path, hex(&ticket)).ok();
    assert!(run.has(&format!("of seed epoch {epoch}")), "{run:?}");
    assert!(run.has("server would:  resume it"), "{run:?}");

    // Tampering, garbage, not a session.
    let mut bad = tlsext_shim::ticket::seal(&snap, &der, now()).unwrap();
    bad[40] ^= 1;
    shim!("ticket", "inspect", "--keys", &keys, hex(&bad)).fails(1, "MAC does not match");
    shim!("ticket", "inspect", "--keys", &keys, "zz!").fails(2, "neither hex nor base64");
    shim!("ticket", "inspect", "--keys", &keys, "abcd").fails(1, "shorter than a key name");
    let not_der = tlsext_shim::ticket::seal(&snap, b"hello", now()).unwrap();
    shim!("ticket", "inspect", "--keys", &keys, hex(&not_der)).fails(1, "not an OpenSSL session");
    let sess = dir.join("sess.pem");
    fs::write(&sess, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").unwrap();
    shim!("ticket", "inspect", "--keys", &keys, "--sess-in", &sess).fails(1, "not a session file");
    shim!("ticket", "inspect", "--keys", &keys).fails(2, "required");
}

// ---------------------------------------------------------------------------------------------
// config check

#[test]
fn doc_config_check() {
    require!("openssl");
    let root = TempDir::new("cli-doc-config");
    let etc = root.join("etc/tlsext-shim");
    let keys = etc.join("keys");
    fs::create_dir_all(&keys).unwrap();
    shim!("keys", "rotate", &keys).ok();
    let metrics = root.subdir("metrics");
    let (cert, key) = gen_cert(root.path(), "www.example.com", &["www.example.com", "example.com"]);
    let (_, other_key) = gen_cert(root.path(), "other.example.com", &["other.example.com"]);
    let config = etc.join("config.toml");
    let write = |vhost_names: &str, key: &Path, extra: &str| {
        let text = format!(
            "[tickets]\nkeys = \"{}\"\n\n[metrics]\ndir = \"{}\"\n\n[[sni.vhost]]\nnames = [{vhost_names}]\ncert = \
             \"{}\"\nkey = \"{}\"\n{extra}",
            keys.display(),
            metrics.display(),
            cert.display(),
            key.display()
        );
        fs::write(&config, text).unwrap();
    };
    let check = || doc("tlsext-shim config check /etc/tlsext-shim/config.toml", root.path());

    write("\"www.example.com\", \"example.com\"", &key, "");
    let run = check().ok();
    assert!(run.has("tickets: 1 key(s) from"), "{run:?}");
    assert!(
        run.has("metrics: ") && run.has("sni: 1 vhost(s), strict off"),
        "{run:?}"
    );
    // The test certificates are valid for two days.
    assert!(
        run.has("warning: ") && run.has(" expires in ") && run.has("ok, 1 warning(s)"),
        "{run:?}"
    );

    write("\"www.example.com\", \"api.example.com\"", &key, "");
    check().fails(1, "does not cover api.example.com");
    write("\"www.example.com\"", &other_key, "");
    check().fails(1, "does not match the certificate");
    write("\"www.example.com\", \"a*.example.com\"", &key, "");
    check().fails(1, "sni.vhost[0].names: \"a*.example.com\"");
    write(
        "\"www.example.com\"",
        &key,
        &format!(
            "\n[[sni.vhost]]\nnames = [\"WWW.example.com.\"]\ncert = \"{}\"\nkey = \"{}\"\n",
            cert.display(),
            key.display()
        ),
    );
    check().fails(1, "also a name of sni.vhost[0]");
    write("\"www.example.com\"", &key, "\n[log]\nlevle = \"info\"\n");
    let run = check().fails(1, "key `log.levle`: unknown key");
    assert!(run.has(&format!("{}:13:", config.display())), "{run:?}");

    let mut weak = random_bytes(80);
    weak[16..48].fill(7);
    fs::write(keys.join("zz.key"), weak).unwrap();
    write("\"www.example.com\"", &key, "");
    check().fails(1, "tickets.keys: ");
    fs::remove_file(keys.join("zz.key")).unwrap();
    let vhost_only = format!(
        "[[sni.vhost]]\nnames = [\"www.example.com\"]\ncert = \"{}\"\nkey = \"{}\"\n",
        cert.display(),
        key.display()
    );
    fs::write(&config, vhost_only).unwrap();
    assert!(check().ok().has("tickets: auto, since vhosts are defined"));
    shim!("config", "check", root.join("missing.toml")).fails(1, "cannot read");
}

// ---------------------------------------------------------------------------------------------
// stats

fn busy_metrics(vhosts: &[&str], handshakes: u64, resumed: u64) -> Metrics {
    let m = Metrics::new();
    m.register_vhosts(&vhosts.iter().map(|v| (*v).to_owned()).collect::<Vec<_>>());
    for i in 0..handshakes {
        m.handshake();
        m.vhost_handshake(0);
        if i < resumed {
            m.resumed(if i % 2 == 0 { MetricsTls::V12 } else { MetricsTls::V13 });
            m.vhost_resumed(0);
            m.ticket_age(i * 10);
        } else {
            m.ticket_issued(&KeyName([0xAB; 16]));
        }
    }
    m.refused(Refusal::UnknownKey);
    m.key_reload(true);
    m
}

#[test]
fn doc_stats() {
    let root = TempDir::new("cli-doc-stats");
    let dir = root.join("var/lib/tlsext-shim/metrics");
    fs::create_dir_all(&dir).unwrap();
    doc("tlsext-shim stats /var/lib/tlsext-shim/metrics", root.path()).fails(1, "no tlsext_shim_<pid>.prom files");

    // Two live processes: this one, and a child that sleeps.
    let mut child = Command::new("sleep").arg("60").spawn().unwrap();
    let (me, other) = (std::process::id(), child.id());
    busy_metrics(&["www.example.com"], 10, 8)
        .write_textfile(&dir, me, now())
        .unwrap();
    busy_metrics(&["www.example.com"], 10, 2)
        .write_textfile(&dir, other, now())
        .unwrap();
    let run = doc("tlsext-shim stats /var/lib/tlsext-shim/metrics", root.path()).ok();
    let _ = child.kill();
    let _ = child.wait();
    for needle in [
        "2 process(es)",
        "80.0%",
        "20.0%",
        "50.0%",
        "www.example.com",
        &"ab".repeat(16),
        "key reloads: 2 ok, 0 failed",
        "ticket age at resumption: 10 resumptions",
    ] {
        assert!(run.has(needle), "{needle}: {run:?}");
    }
    let refused = run.stdout.lines().find(|l| l.starts_with("unknown_key ")).unwrap();
    assert_eq!(refused.split_whitespace().collect::<Vec<_>>(), ["unknown_key", "2"]);
    let line = run.stdout.lines().find(|l| l.starts_with(&me.to_string())).unwrap();
    assert_eq!(
        line.split_whitespace().take(5).collect::<Vec<_>>(),
        [me.to_string().as_str(), "10", "8", "4", "4"]
    );
    let all = run.stdout.lines().find(|l| l.starts_with("all ")).unwrap();
    assert!(all.contains(" 20 ") && all.contains(" 10 "), "{all}");

    // The directory from the environment; a malformed file is reported and skipped.
    fs::write(
        dir.join("tlsext_shim_1.prom"),
        "tlsext_shim_handshakes_total{pid=\"1\"\n",
    )
    .unwrap();
    let env_dir = dir.clone().into_os_string();
    let run = run_with(&[OsString::from("stats")], &[("TLSEXT_SHIM_METRICS", &env_dir)]);
    let run = run.fails(1, "tlsext_shim_1.prom: line 1");
    assert!(run.has("2 process(es)"), "{run:?}");
    shim!("stats").fails(2, "TLSEXT_SHIM_METRICS");
    shim!("stats", root.join("missing")).fails(1, "cannot read");
}

// ---------------------------------------------------------------------------------------------
// Help and exit codes

#[test]
fn help_everywhere_and_exit_codes() {
    for path in [
        &[][..],
        &["keys"],
        &["keys", "gen"],
        &["keys", "rotate"],
        &["keys", "advance"],
        &["keys", "check"],
        &["ticket"],
        &["ticket", "inspect"],
        &["config"],
        &["config", "check"],
        &["stats"],
    ] {
        let mut args: Vec<OsString> = path.iter().map(OsString::from).collect();
        args.push("--help".into());
        let run = run_with(&args, &[]).ok();
        assert!(run.stdout.contains("Usage: tlsext-shim"), "{path:?}: {run:?}");
    }
    let run = shim!("--help").ok();
    assert!(run.has("Exit codes: 0 ok"), "{run:?}");
    assert!(shim!("--version").ok().has(env!("CARGO_PKG_VERSION")));
    shim!("frobnicate").fails(2, "unrecognized subcommand");
    shim!("keys", "gen").fails(2, "--format");
    shim!("keys", "gen", "--format", "nginx81").fails(2, "invalid value");
    let dir = TempDir::new("cli-exit");
    let target: PathBuf = dir.join("no/such/dir/key");
    let run = shim!("keys", "gen", "--format", "nginx80", "-o", &target).fails(3, "cannot write");
    assert_eq!(run.stderr.lines().count(), 1, "one line: {run:?}");
    assert!(run.stderr.starts_with("tlsext-shim: error: "), "{run:?}");
    assert!(
        run.stderr.contains(&target.display().to_string()),
        "names the file: {run:?}"
    );
}
