//! `keys gen`, `keys rotate`, `keys advance`, `keys check`, and reading a key source for them
//! and for `ticket inspect`.

use std::fs;
use std::io::{IsTerminal as _, Write};
use std::num::NonZeroU64;
use std::path::Path;

use zeroize::Zeroizing;

use super::fsutil::{Perms, permission_warnings, write_atomic};
use super::time::{compact, human, iso, parse_compact};
use super::{CliError, Exit, GenFormat, Outcome, SourceFormat};
use crate::config::parse_duration;
use crate::ticket::format::{self, Layout, ParsedKeys};
use crate::ticket::ring::now;
use crate::ticket::{Chain, KeyFormat, KeyName, KeyPolicy, KeySize, Location, Seed, TicketKey, UnixTime};

/// What kind of key file or directory was read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A directory of raw keys, one per file; the last by name encrypts.
    Directory,
    /// A HAProxy `tls-ticket-keys` file.
    Haproxy,
    /// One raw key in a file, in this layout.
    Single(&'static str),
}

/// A key source, read.
pub(crate) enum Source {
    /// Key files.
    Keys {
        /// What was read.
        kind: Kind,
        /// The keys, in ring order.
        parsed: ParsedKeys,
        /// Where each key is: its file name in a directory, its line in a HAProxy file.
        origins: Vec<String>,
    },
    /// A seed file.
    Seed(Seed),
}

impl Source {
    /// What each key does, by index, for the listing.
    pub(crate) fn role(kind: Kind, parsed: &ParsedKeys, i: usize) -> &'static str {
        if i == parsed.encrypt {
            "encrypts"
        } else if kind == Kind::Haproxy && i + 1 == parsed.keys.len() {
            "staged: decrypts, encrypts after the next rotation"
        } else {
            "decrypts only"
        }
    }
}

/// Whether a file reads like a seed file: text with a `secret`, `epoch` or `rotate` key.
fn looks_like_seed(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    text.lines().any(|line| {
        let line = line.trim();
        !line.starts_with('#')
            && line
                .split_once('=')
                .is_some_and(|(k, _)| matches!(k.trim(), "secret" | "epoch" | "rotate"))
    })
}

fn key_format(f: SourceFormat) -> KeyFormat {
    match f {
        SourceFormat::Auto | SourceFormat::Seed => KeyFormat::Auto,
        SourceFormat::Nginx => KeyFormat::Nginx,
        SourceFormat::Haproxy => KeyFormat::Haproxy,
        SourceFormat::Openssl => KeyFormat::Openssl,
    }
}

/// Reads a key file, key directory or seed file. Errors are [`Exit::Problem`] and name the
/// file (and line) as the shim's loader does.
pub(crate) fn load_source(path: &Path, format: SourceFormat) -> Result<Source, CliError> {
    let meta = fs::metadata(path).map_err(|e| CliError::cannot_read(path, e))?;
    if meta.is_dir() {
        if format == SourceFormat::Seed {
            return Err(CliError::problem(format!(
                "{}: is a directory, not a seed file",
                path.display()
            )));
        }
        let parsed = format::load_path(path, key_format(format)).map_err(CliError::problem)?;
        let mut origins: Vec<String> = format::key_files(path)
            .map_err(CliError::problem)?
            .into_iter()
            .map(|(name, _)| name.to_string_lossy().into_owned())
            .collect();
        if origins.len() != parsed.keys.len() {
            // The directory changed between the two reads.
            origins = (1..=parsed.keys.len()).map(|i| format!("key {i}")).collect();
        }
        return Ok(Source::Keys {
            kind: Kind::Directory,
            parsed,
            origins,
        });
    }
    // As the shim reads it: a regular file of at most 64 KiB, opened without blocking.
    let data = format::read_secret_file(path).map_err(|e| CliError::cannot_read(path, e))?;
    if format == SourceFormat::Seed || (format == SourceFormat::Auto && looks_like_seed(&data)) {
        let text = std::str::from_utf8(&data)
            .map_err(|_| CliError::problem(format!("{}: a seed file is text, this is not", path.display())))?;
        return Seed::parse(text, &path.display().to_string())
            .map(Source::Seed)
            .map_err(CliError::problem);
    }
    let at = Location::new(path.display().to_string());
    let parsed = format::parse(&data, key_format(format), &at).map_err(CliError::problem)?;
    let raw = KeySize::from_file_len(data.len()).is_some() && format != SourceFormat::Haproxy;
    let (kind, origins) = if raw {
        let layout = if format == SourceFormat::Openssl {
            "OpenSSL"
        } else {
            "nginx"
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        (Kind::Single(layout), vec![name])
    } else {
        // The lines the HAProxy parser reads keys from: not blank, not a comment.
        let text = String::from_utf8_lossy(&data);
        let lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty() && !l.trim().starts_with('#'))
            .map(|(i, _)| format!("line {}", i + 1))
            .collect();
        (Kind::Haproxy, lines)
    };
    Ok(Source::Keys { kind, parsed, origins })
}

fn size_name(size: KeySize) -> &'static str {
    match size {
        KeySize::Aes128 => "48 bytes, AES-128",
        KeySize::Aes256 => "80 bytes, AES-256",
    }
}

fn random_failed(e: impl std::fmt::Display) -> CliError {
    CliError::failed(format!("the operating system's random source failed: {e}"))
}

/// The file a path names, symlinks followed: a file rewritten in place stays where a link
/// points to, and the link stays a link.
fn real_file(path: &Path) -> Result<std::path::PathBuf, CliError> {
    fs::canonicalize(path).map_err(|e| CliError::cannot_read(path, e))
}

fn write_failed(path: &Path, e: impl std::fmt::Display) -> CliError {
    CliError::failed(format!("{}: cannot write: {e}", path.display()))
}

// ---------------------------------------------------------------------------------------------
// keys gen

/// `keys gen`.
pub(crate) fn generate(format: GenFormat, output: Option<&Path>, rotate: Option<&str>, out: &mut dyn Write) -> Outcome {
    if rotate.is_some() && format != GenFormat::Seed {
        return Err(CliError::usage("--rotate applies to --format seed only"));
    }
    let raw = |size: KeySize, layout: Layout| -> Result<Zeroizing<Vec<u8>>, CliError> {
        let key = TicketKey::generate(size).map_err(random_failed)?;
        Ok(format::encode_key(&key, layout))
    };
    let haproxy = |size: KeySize| -> Result<Zeroizing<Vec<u8>>, CliError> {
        let keys = (0..3)
            .map(|_| TicketKey::generate(size))
            .collect::<Result<Vec<_>, _>>()
            .map_err(random_failed)?;
        Ok(Zeroizing::new(format::encode_haproxy(&keys).as_bytes().to_vec()))
    };
    let (data, binary, what) = match format {
        GenFormat::Nginx80 => (
            raw(KeySize::Aes256, Layout::Nginx)?,
            true,
            "nginx key, 80 bytes (AES-256)",
        ),
        GenFormat::Nginx48 => (
            raw(KeySize::Aes128, Layout::Nginx)?,
            true,
            "nginx key, 48 bytes (AES-128)",
        ),
        GenFormat::Openssl => (raw(KeySize::Aes256, Layout::Openssl)?, true, "OpenSSL key, 80 bytes"),
        GenFormat::Haproxy80 => (haproxy(KeySize::Aes256)?, false, "HAProxy key file, 3 keys of 80 bytes"),
        GenFormat::Haproxy48 => (haproxy(KeySize::Aes128)?, false, "HAProxy key file, 3 keys of 48 bytes"),
        GenFormat::Seed => {
            let text = rotate.unwrap_or("12h");
            let secs = parse_duration(text)
                .map_err(|e| CliError::usage(format!("--rotate {text:?}: {e}")))?
                .as_secs();
            let secs = NonZeroU64::new(secs).ok_or_else(|| CliError::usage("--rotate must be at least 1s"))?;
            let seed = Seed::generate(secs, now()).map_err(random_failed)?;
            (Zeroizing::new(seed.to_text().as_bytes().to_vec()), false, "seed file")
        }
    };
    match output {
        Some(path) => {
            write_atomic(path, &data, Perms::PRIVATE).map_err(|e| write_failed(path, e))?;
            say!(out, "{}: {what}, mode 0600", path.display());
        }
        None => {
            if binary && std::io::stdout().is_terminal() {
                return Err(CliError::usage(
                    "refusing to write a raw binary key to a terminal; use -o FILE or redirect standard output",
                ));
            }
            out.write_all(&data)
                .and_then(|()| out.flush())
                .map_err(|e| CliError::failed(format!("standard output: {e}")))?;
        }
    }
    Ok(Exit::Ok)
}

// ---------------------------------------------------------------------------------------------
// keys rotate

/// `keys rotate`.
pub(crate) fn rotate(path: &Path, keep: usize, out: &mut dyn Write) -> Outcome {
    let meta = fs::metadata(path).map_err(|e| CliError::cannot_read(path, e))?;
    if meta.is_dir() {
        rotate_dir(path, keep, now(), out)
    } else {
        rotate_haproxy(path, keep, out)
    }
}

/// The file name of a key made at `t`: `YYYYmmddTHHMMSSZ-<first 4 bytes of its name>.key`.
fn key_file_name(t: UnixTime, name: &KeyName) -> String {
    format!("{}-{}.key", compact(t), &name.to_hex()[..8])
}

fn rotate_dir(dir: &Path, keep: usize, now: UnixTime, out: &mut dyn Write) -> Outcome {
    if keep < 1 {
        return Err(CliError::usage(
            "--keep 0 would make every ticket issued so far unusable at once; keep at least 1 older key",
        ));
    }
    let shown = dir.display();
    let files = format::key_files(dir).map_err(CliError::problem)?;
    let size = if files.is_empty() {
        KeySize::Aes256
    } else {
        let parsed = format::load_path(dir, KeyFormat::Nginx)
            .map_err(|e| CliError::problem(format!("{e}; fix or remove that file before rotating")))?;
        parsed.keys.first().map_or(KeySize::Aes256, TicketKey::size)
    };
    let key = TicketKey::generate(size).map_err(random_failed)?;
    let mut name = key_file_name(now, key.name());
    if let Some((last, _)) = files.last() {
        let last = last.to_string_lossy();
        if name.as_str() <= last.as_ref() {
            // Another rotation within the same second, or a clock that went back: take the
            // second after the newest key, so the new key still sorts last.
            match parse_compact(&last) {
                Some(t) => name = key_file_name(t.saturating_add(1), key.name()),
                None => {
                    return Err(CliError::problem(format!(
                        "{shown}/{last}: this name sorts after the new key's name {name}, so the new key would not \
                         encrypt (the last file by name does); rename or remove it"
                    )));
                }
            }
        }
    }
    let perms = match files.last() {
        Some((_, newest)) => Perms::of(newest).map_err(|e| CliError::problem(format!("{}: {e}", newest.display())))?,
        None => Perms::PRIVATE,
    };
    let new_path = dir.join(&name);
    write_atomic(&new_path, &format::encode_key(&key, Layout::Nginx), perms).map_err(|e| write_failed(&new_path, e))?;
    let remove = files.len().saturating_sub(keep);
    let (retired, kept) = files.split_at(remove);
    for (old, path) in retired {
        fs::remove_file(path).map_err(|e| {
            CliError::failed(format!(
                "{}: cannot remove: {e}; the new key {name} is in place and encrypts; remove {} by hand",
                path.display(),
                old.to_string_lossy()
            ))
        })?;
    }
    let after =
        format::load_path(dir, KeyFormat::Nginx).map_err(|e| CliError::problem(format!("after the rotation: {e}")))?;
    if after.keys.get(after.encrypt).map(TicketKey::name) != Some(key.name()) {
        return Err(CliError::problem(format!(
            "{shown}: after the rotation another file sorts after {name}: the new key does not encrypt"
        )));
    }
    let list = |v: &[(std::ffi::OsString, std::path::PathBuf)]| {
        if v.is_empty() {
            "none".to_owned()
        } else {
            v.iter()
                .map(|(n, _)| n.to_string_lossy())
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    say!(
        out,
        "{shown}: added {name} (key {}), which encrypts from now on",
        key.name()
    );
    say!(out, "{shown}: decrypt only: {}", list(kept));
    say!(out, "{shown}: removed: {}", list(retired));
    Ok(Exit::Ok)
}

fn rotate_haproxy(path: &Path, keep: usize, out: &mut dyn Write) -> Outcome {
    let shown = path.display();
    let data = format::read_secret_file(path).map_err(|e| CliError::cannot_read(path, e))?;
    if looks_like_seed(&data) {
        return Err(CliError::problem(format!(
            "{shown}: is a seed file; seeds move forward with `tlsext-shim keys advance`"
        )));
    }
    if KeySize::from_file_len(data.len()).is_some() && std::str::from_utf8(&data).is_err() {
        return Err(CliError::problem(format!(
            "{shown}: holds one raw key; one key cannot rotate without breaking resumption: put it in a directory \
             (mkdir keys && mv {shown} keys/) and rotate the directory"
        )));
    }
    if keep < 2 {
        return Err(CliError::usage(
            "a HAProxy key file needs at least 3 keys: --keep must be at least 2",
        ));
    }
    let at = Location::new(shown.to_string());
    let parsed = format::parse(&data, KeyFormat::Haproxy, &at)
        .map_err(|e| CliError::problem(format!("{e}; fix the file before rotating")))?;
    let mut keys = parsed.keys;
    let size = keys.last().map_or(KeySize::Aes256, TicketKey::size);
    let new = TicketKey::generate(size).map_err(random_failed)?;
    let staged = keys.last().map(|k| *k.name());
    let new_name = *new.name();
    keys.push(new);
    let drop = keys.len().saturating_sub(keep + 1);
    let dropped: Vec<String> = keys.drain(..drop).map(|k| k.name().to_hex()).collect();
    let target = real_file(path)?;
    let perms = Perms::of(&target).map_err(|e| CliError::problem(format!("{shown}: {e}")))?;
    write_atomic(&target, format::encode_haproxy(&keys).as_bytes(), perms).map_err(|e| write_failed(&target, e))?;
    let staged = staged.map_or_else(|| "none".to_owned(), |n| n.to_hex());
    say!(out, "{shown}: new staged key {new_name} appended");
    say!(out, "{shown}: key {staged} (staged until now) encrypts from now on");
    say!(
        out,
        "{shown}: dropped: {}; {} keys in the file",
        if dropped.is_empty() {
            "none".to_owned()
        } else {
            dropped.join(", ")
        },
        keys.len()
    );
    Ok(Exit::Ok)
}

// ---------------------------------------------------------------------------------------------
// keys advance

/// `keys advance`.
pub(crate) fn advance(path: &Path, to_epoch: Option<u64>, latest: bool, force: bool, out: &mut dyn Write) -> Outcome {
    let seed = Seed::load(path).map_err(CliError::problem)?;
    let shown = path.display();
    let rotate = seed.rotate_secs().get();
    let current = now() / rotate;
    let limit = current.saturating_sub(1);
    if latest && seed.epoch() >= limit {
        say!(
            out,
            "{shown}: at epoch {}, the newest a server can start from safely is {limit}: nothing to do",
            seed.epoch()
        );
        return Ok(Exit::Ok);
    }
    let target = match to_epoch {
        Some(e) => e,
        None if latest => limit,
        None => seed.epoch().saturating_add(1),
    };
    if target <= seed.epoch() {
        return Err(CliError::problem(format!(
            "{shown}: the seed is at epoch {}; a seed only moves forward (asked for epoch {target})",
            seed.epoch()
        )));
    }
    if target > limit && !force && seed.epoch() >= limit {
        let next = seed.epoch().saturating_add(2).saturating_mul(rotate);
        return Err(CliError::problem(format!(
            "{shown}: refusing to advance: the seed is at epoch {} and the current epoch is {current}; a seed past \
             epoch {limit} leaves a server that loads it unable to derive the key its peers used for tickets in the \
             previous epoch; the next advance is safe from {}; pass --force to advance anyway",
            seed.epoch(),
            iso(next)
        )));
    }
    if target > limit && !force {
        return Err(CliError::problem(format!(
            "{shown}: refusing to advance to epoch {target}: the current epoch is {current}, and a server loading the \
             seed must still derive the key of epoch {limit} to accept tickets its peers issued then; advance to \
             at most --to-epoch {limit}, or pass --force"
        )));
    }
    let advanced = seed.advanced(target - seed.epoch());
    let file = real_file(path)?;
    let perms = Perms::of(&file).map_err(|e| CliError::problem(format!("{shown}: {e}")))?;
    write_atomic(&file, advanced.to_text().as_bytes(), perms).map_err(|e| write_failed(&file, e))?;
    say!(
        out,
        "{shown}: advanced from epoch {} to {} (rotate {rotate}s); keys of epochs before {} can no longer be derived \
         from this file",
        seed.epoch(),
        advanced.epoch(),
        advanced.epoch()
    );
    Ok(Exit::Ok)
}

// ---------------------------------------------------------------------------------------------
// keys check

/// `keys check`: prints what the source holds, warnings and a verdict.
pub(crate) fn check(path: &Path, format: SourceFormat, out: &mut dyn Write) -> Outcome {
    let shown = path.display();
    let source = match load_source(path, format) {
        Ok(s) => s,
        Err(e) => {
            say!(out, "error: {e}");
            say!(out, "{shown}: not usable");
            return Ok(Exit::Problem);
        }
    };
    let mut warnings = permission_warnings(path);
    match &source {
        Source::Keys { kind, parsed, origins } => {
            let size = parsed.keys.first().map_or("", |k| size_name(k.size()));
            let what = match kind {
                Kind::Directory => "key directory".to_owned(),
                Kind::Haproxy => "HAProxy key file".to_owned(),
                Kind::Single(layout) => format!("{layout} key file"),
            };
            say!(out, "{shown}: {what}, {} key(s) of {size}", parsed.keys.len());
            for (i, key) in parsed.keys.iter().enumerate() {
                let origin = origins.get(i).map_or("", String::as_str);
                say!(out, "  {origin:<36} {}  {}", key.name(), Source::role(*kind, parsed, i));
            }
            if *kind == Kind::Directory {
                if let Ok(files) = format::key_files(path) {
                    for (_, file) in files {
                        warnings.extend(permission_warnings(&file));
                    }
                }
            }
        }
        Source::Seed(seed) => {
            if let Err(e) = seed_report(path, seed, now(), out) {
                say!(out, "error: {e}");
                say!(out, "{shown}: not usable");
                return Ok(Exit::Problem);
            }
        }
    }
    for w in &warnings {
        say!(out, "warning: {w}");
    }
    match warnings.len() {
        0 => say!(out, "{shown}: usable"),
        n => say!(out, "{shown}: usable, {n} warning(s)"),
    }
    Ok(Exit::Ok)
}

/// The epoch a chain key's policy belongs to.
fn policy_epoch(policy: &KeyPolicy, rotate: u64) -> Option<u64> {
    policy.encrypt.map(|w| w.from / rotate)
}

fn seed_report(path: &Path, seed: &Seed, now: UnixTime, out: &mut dyn Write) -> Result<(), CliError> {
    let rotate = seed.rotate_secs().get();
    let current = now / rotate;
    let shown = path.display();
    if seed.epoch() > current {
        return Err(CliError::problem(format!(
            "{shown}: the seed is at epoch {}, which starts at {}, after now (epoch {current}): no key would encrypt \
             until then; use a seed at or before the current epoch",
            seed.epoch(),
            iso(seed.epoch().saturating_mul(rotate))
        )));
    }
    say!(
        out,
        "{shown}: seed file, rotate {rotate}s ({}), at epoch {} (from {}); the current epoch is {current}",
        human(rotate),
        seed.epoch(),
        iso(seed.epoch().saturating_mul(rotate))
    );
    let snapshot = Chain::from_seed(seed.clone()).snapshot(now);
    for k in snapshot.keys() {
        let epoch = policy_epoch(&k.policy, rotate).unwrap_or_default();
        let role = if k.policy.encrypt.is_some_and(|w| w.contains(now)) {
            "encrypts"
        } else if epoch > current {
            "staged: decrypts, encrypts next"
        } else {
            "decrypts only"
        };
        say!(out, "  epoch {epoch:<12} {}  {role}", k.key.name());
    }
    if seed.epoch() == current {
        say!(
            out,
            "note: the seed is at the current epoch: a server that loads it cannot open tickets issued in the \
             previous epoch"
        );
    }
    Ok(())
}

/// The key of the seed's chain named `name` (derived for vhost `label`, if given), searching
/// epochs from the seed's to the one after `now`'s: its epoch, the key and its policy.
pub(crate) fn seed_key(
    seed: &Seed,
    label: Option<&str>,
    name: &KeyName,
    now: UnixTime,
) -> Option<(u64, TicketKey, KeyPolicy)> {
    let rotate = seed.rotate_secs().get();
    let last = (now / rotate).max(seed.epoch());
    let mut chain = Chain::from_seed(seed.clone());
    for epoch in seed.epoch()..=last {
        let mut snapshot = chain.snapshot(epoch.saturating_mul(rotate));
        if let Some(label) = label {
            snapshot = snapshot.derive(label.as_bytes());
        }
        if let Some(k) = snapshot.keys().iter().find(|k| k.key.name() == name) {
            let e = policy_epoch(&k.policy, rotate).unwrap_or(epoch);
            return Some((e, k.key.clone(), k.policy));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_files_are_recognised() {
        assert!(looks_like_seed(b"# tlsext-shim seed v1\nrotate = 60\n"));
        assert!(looks_like_seed(b"secret=abc"));
        assert!(!looks_like_seed(b"AAAA==\nBBBB==\n"));
        assert!(!looks_like_seed(b"# secret = x\n"));
        assert!(!looks_like_seed(&[0xff, b'=']));
    }

    #[test]
    fn key_sources_are_read_as_the_shim_reads_them() {
        let dir = std::env::temp_dir().join(format!("tlsext-shim-cli-keys-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        // Larger than the shim reads: refused here too, not called usable.
        let big = dir.join("big.keys");
        fs::write(&big, "A".repeat(format::MAX_SECRET_FILE as usize + 1)).unwrap();
        let e = load_source(&big, SourceFormat::Auto).err().unwrap();
        assert!(e.message.contains("big.keys: cannot read: larger than"), "{e}");
        // A FIFO neither blocks nor is read.
        let fifo = dir.join("fifo.keys");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        let e = load_source(&fifo, SourceFormat::Auto).err().unwrap();
        assert!(e.message.contains("fifo.keys: cannot read: not a regular file"), "{e}");
        let e = rotate(&fifo, 2, &mut Vec::new()).unwrap_err();
        assert!(e.message.contains("not a regular file"), "{e}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn key_file_names_sort_by_time() {
        let n = KeyName([0xab; 16]);
        assert_eq!(key_file_name(1_700_000_000, &n), "20231114T221320Z-abababab.key");
        assert!(key_file_name(1_700_000_001, &KeyName([0; 16])) > key_file_name(1_700_000_000, &n));
    }

    #[test]
    fn seed_keys_are_found_by_name_in_later_epochs() {
        let rotate = NonZeroU64::new(100).unwrap();
        let seed = Seed::generate(rotate, 1_000).unwrap();
        let later = Chain::from_seed(seed.advanced(3)).snapshot(1_350);
        let k = later.encrypting(1_350).unwrap();
        let (epoch, key, policy) = seed_key(&seed, None, k.key.name(), 1_350).unwrap();
        assert_eq!(epoch, 13);
        assert_eq!(key.name(), k.key.name());
        assert_eq!(policy, k.policy);
        assert!(seed_key(&seed, None, &KeyName([1; 16]), 1_350).is_none());
        let derived = k.key.derive(b"www.example.com");
        let (epoch, key, _) = seed_key(&seed, Some("www.example.com"), derived.name(), 1_350).unwrap();
        assert_eq!((epoch, key.name()), (13, derived.name()));
    }
}
