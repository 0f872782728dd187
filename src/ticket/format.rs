//! Key-file layouts: nginx, HAProxy and OpenSSL, and key directories.
//!
//! | format    | size | layout                         | ring order                                  |
//! |-----------|------|--------------------------------|---------------------------------------------|
//! | `nginx`   | 48   | name16, AES-128 key, HMAC key16 | one key per file                            |
//! | `nginx`   | 80   | name16, HMAC key32, AES-256 key | one key per file                            |
//! | `haproxy` | 48   | base64 lines: name16, AES16, HMAC16 | second-to-last line encrypts, last is staged |
//! | `haproxy` | 80   | base64 lines: name16, AES32, HMAC32 | as above                                  |
//! | `openssl` | 80   | name16, HMAC32, AES32 (ctrl 59) | one key                                     |
//!
//! A directory is a ring of raw keys (nginx layout unless `openssl` is asked for): every
//! regular, non-hidden file is one key, ordered by file name; the last one encrypts.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use zeroize::Zeroizing;

use super::error::{KeyError, Location};
use super::key::{KeyName, KeySize, NAME_LEN, PartError, TicketKey};

/// The layout of a key source.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum KeyFormat {
    /// Raw 48 or 80 bytes: nginx; text: HAProxy; anything else is refused.
    #[default]
    Auto,
    /// nginx `ssl_session_ticket_key`: raw 48 or 80 bytes.
    Nginx,
    /// HAProxy `tls-ticket-keys`: one base64 key per line.
    Haproxy,
    /// OpenSSL `SSL_CTX_set_tlsext_ticket_keys`: raw 80 bytes, name, HMAC key, AES key.
    Openssl,
}

impl KeyFormat {
    /// Every format, in the order the documentation lists them.
    pub const ALL: [KeyFormat; 4] = [
        KeyFormat::Auto,
        KeyFormat::Nginx,
        KeyFormat::Haproxy,
        KeyFormat::Openssl,
    ];

    /// The format called `name` (exact lowercase), if there is one.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == name)
    }

    /// The lowercase name used in configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyFormat::Auto => "auto",
            KeyFormat::Nginx => "nginx",
            KeyFormat::Haproxy => "haproxy",
            KeyFormat::Openssl => "openssl",
        }
    }
}

/// Keys read from one source, in ring order, and which of them encrypts.
#[derive(Debug)]
pub struct ParsedKeys {
    /// The keys, oldest first.
    pub keys: Vec<TicketKey>,
    /// Index into `keys` of the key that encrypts new tickets.
    pub encrypt: usize,
}

/// The largest key or seed file read: far beyond any real one (a HAProxy file of 500 keys is
/// 55 KiB), small enough that a wrong path cannot stall the handshake path.
pub const MAX_SECRET_FILE: u64 = 64 * 1024;

/// Opens `path` for reading without blocking (a FIFO or device put at a key or certificate path
/// must not hang the server's handshakes) and refuses anything but a regular file.
pub fn open_regular(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    if !f.metadata()?.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    Ok(f)
}

/// Reads a whole regular file of secrets, of at most [`MAX_SECRET_FILE`] bytes.
pub fn read_secret_file(path: &Path) -> std::io::Result<Zeroizing<Vec<u8>>> {
    use std::io::Read as _;
    let f = open_regular(path)?;
    let mut data = Zeroizing::new(Vec::new());
    f.take(MAX_SECRET_FILE + 1).read_to_end(&mut data)?;
    if data.len() as u64 > MAX_SECRET_FILE {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than {MAX_SECRET_FILE} bytes: not a key file"),
        ));
    }
    Ok(data)
}

/// Reads a key file or key directory.
pub fn load_path(path: &Path, format: KeyFormat) -> Result<ParsedKeys, KeyError> {
    let io = |source| KeyError::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.is_dir() {
        return load_dir(path, format);
    }
    let data = read_secret_file(path).map_err(io)?;
    parse(&data, format, &Location::new(path.display().to_string()))
}

fn load_dir(dir: &Path, format: KeyFormat) -> Result<ParsedKeys, KeyError> {
    let at = Location::new(dir.display().to_string());
    let layout = match format {
        KeyFormat::Auto | KeyFormat::Nginx => KeyFormat::Nginx,
        KeyFormat::Openssl => KeyFormat::Openssl,
        KeyFormat::Haproxy => {
            return Err(KeyError::Unsupported {
                at,
                problem: "a key directory holds raw keys, one per file; use format nginx or openssl",
            });
        }
    };
    let files = key_files(dir)?;
    let mut keys: Vec<TicketKey> = Vec::with_capacity(files.len());
    let mut first_len = None;
    for (_, path) in &files {
        let data = read_secret_file(path).map_err(|source| KeyError::Io {
            path: path.clone(),
            source,
        })?;
        let file_at = Location::new(path.display().to_string());
        let mut parsed = parse(&data, layout, &file_at)?;
        if let Some(first) = first_len.filter(|&first| first != data.len()) {
            return Err(KeyError::MixedSizes {
                at: file_at,
                first,
                found: data.len(),
            });
        }
        first_len = Some(data.len());
        if let Some(dup) = parsed.keys.iter().find(|k| keys.iter().any(|o| o.name() == k.name())) {
            return Err(KeyError::DuplicateName {
                at: file_at,
                name: *dup.name(),
            });
        }
        keys.append(&mut parsed.keys);
    }
    finish(keys, None, &at)
}

/// Whether a directory entry is left out of a key directory: its name starts with `.` (hidden
/// files, editors' temporary files, Kubernetes' `..data` links).
pub fn is_hidden(name: &OsStr) -> bool {
    name.as_encoded_bytes().first() == Some(&b'.')
}

/// The key files of a directory as [`load_path`] reads them: every regular file (after
/// following symlinks) that is not [hidden](is_hidden), sorted by name; the last encrypts.
pub fn key_files(dir: &Path) -> Result<Vec<(OsString, PathBuf)>, KeyError> {
    let io = |source| KeyError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let name = entry.file_name();
        if is_hidden(&name) {
            continue;
        }
        let path = entry.path();
        // Follow symlinks (Kubernetes Secret volumes link every key through `..data`).
        let meta = std::fs::metadata(&path).map_err(|source| KeyError::Io {
            path: path.clone(),
            source,
        })?;
        if meta.is_file() {
            files.push((name, path));
        }
    }
    files.sort();
    Ok(files)
}

/// Parses keys from bytes in `format`; `at` names the source in errors.
pub fn parse(data: &[u8], format: KeyFormat, at: &Location) -> Result<ParsedKeys, KeyError> {
    match format {
        KeyFormat::Nginx => parse_raw(data, Layout::Nginx, at),
        KeyFormat::Openssl => parse_raw(data, Layout::Openssl, at),
        KeyFormat::Haproxy => parse_haproxy(data, at),
        KeyFormat::Auto => {
            if KeySize::from_file_len(data.len()).is_some() {
                parse_raw(data, Layout::Nginx, at)
            } else if data.is_empty() {
                Err(KeyError::Empty { at: at.clone() })
            } else if data.iter().all(|&b| b.is_ascii_graphic() || b.is_ascii_whitespace()) {
                parse_haproxy(data, at)
            } else {
                Err(KeyError::Unrecognized {
                    at: at.clone(),
                    seen: format!(
                        "{} bytes of binary data; expected a raw 48- or 80-byte key (nginx) or base64 lines (HAProxy)",
                        data.len()
                    ),
                })
            }
        }
    }
}

/// The byte order of one key's parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// 48: name, AES, HMAC; 80: name, HMAC, AES.
    Nginx,
    /// name, AES, HMAC.
    Haproxy,
    /// name, HMAC, AES (80 bytes only).
    Openssl,
}

impl Layout {
    fn name(self) -> &'static str {
        match self {
            Layout::Nginx => "nginx",
            Layout::Haproxy => "HAProxy",
            Layout::Openssl => "OpenSSL",
        }
    }

    fn expected(self) -> &'static str {
        match self {
            Layout::Openssl => "80 bytes",
            _ => "48 or 80 bytes",
        }
    }

    fn hmac_first(self, size: KeySize) -> bool {
        match self {
            Layout::Nginx => size == KeySize::Aes256,
            Layout::Haproxy => false,
            Layout::Openssl => true,
        }
    }
}

/// Decodes one key in `layout`.
pub fn decode_key(bytes: &[u8], layout: Layout, at: &Location) -> Result<TicketKey, KeyError> {
    let size = KeySize::from_file_len(bytes.len())
        .filter(|&s| layout != Layout::Openssl || s == KeySize::Aes256)
        .ok_or_else(|| KeyError::BadSize {
            at: at.clone(),
            format: layout.name(),
            expected: layout.expected(),
            found: bytes.len(),
        })?;
    let (name, rest) = bytes.split_at(NAME_LEN);
    let (first, second) = rest.split_at(size.secret_len());
    let (hmac, aes) = if layout.hmac_first(size) {
        (first, second)
    } else {
        (second, first)
    };
    let name: [u8; NAME_LEN] = name.try_into().map_err(|_| KeyError::Empty { at: at.clone() })?;
    TicketKey::from_parts(&name, hmac, aes).map_err(|e| match e {
        PartError::Weak(part) => KeyError::Weak { at: at.clone(), part },
        PartError::Size => KeyError::BadSize {
            at: at.clone(),
            format: layout.name(),
            expected: layout.expected(),
            found: bytes.len(),
        },
    })
}

/// Encodes one key in `layout`.
pub fn encode_key(key: &TicketKey, layout: Layout) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(key.size().file_len()));
    out.extend_from_slice(&key.name().0);
    let (first, second) = if layout.hmac_first(key.size()) {
        (key.hmac_key(), key.aes_key())
    } else {
        (key.aes_key(), key.hmac_key())
    };
    out.extend_from_slice(first);
    out.extend_from_slice(second);
    out
}

/// Encodes keys as a HAProxy `tls-ticket-keys` file, one base64 line per key, in ring order.
pub fn encode_haproxy<'a>(keys: impl IntoIterator<Item = &'a TicketKey>) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::new());
    for key in keys {
        let raw = encode_key(key, Layout::Haproxy);
        base64::engine::general_purpose::STANDARD.encode_string(&*raw, &mut out);
        out.push('\n');
    }
    out
}

fn parse_raw(data: &[u8], layout: Layout, at: &Location) -> Result<ParsedKeys, KeyError> {
    if data.is_empty() {
        return Err(KeyError::Empty { at: at.clone() });
    }
    let key = decode_key(data, layout, at)?;
    finish(vec![key], None, at)
}

fn parse_haproxy(data: &[u8], at: &Location) -> Result<ParsedKeys, KeyError> {
    let text = std::str::from_utf8(data).map_err(|_| KeyError::Unrecognized {
        at: at.clone(),
        seen: "binary data; a HAProxy key file holds base64 lines".into(),
    })?;
    let mut keys = Vec::new();
    let mut first_len = None;
    for (index, line) in text.lines().enumerate() {
        let line_at = at.at_line(index + 1);
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let raw = Zeroizing::new(
            base64::engine::general_purpose::STANDARD
                .decode(line)
                .map_err(|_| KeyError::BadBase64 { at: line_at.clone() })?,
        );
        if let Some(first) = first_len.filter(|&first| first != raw.len()) {
            return Err(KeyError::MixedSizes {
                at: line_at,
                first,
                found: raw.len(),
            });
        }
        first_len = Some(raw.len());
        keys.push(decode_key(&raw, Layout::Haproxy, &line_at)?);
    }
    match keys.len() {
        0 => Err(KeyError::Empty { at: at.clone() }),
        found @ 1..=2 => Err(KeyError::TooFewHaproxyKeys { at: at.clone(), found }),
        n => finish(keys, Some(n - 2), at),
    }
}

/// Refuses duplicate names and empty rings; `encrypt` defaults to the last key.
fn finish(keys: Vec<TicketKey>, encrypt: Option<usize>, at: &Location) -> Result<ParsedKeys, KeyError> {
    check_names(&keys, at)?;
    let last = keys
        .len()
        .checked_sub(1)
        .ok_or_else(|| KeyError::Empty { at: at.clone() })?;
    Ok(ParsedKeys {
        encrypt: encrypt.unwrap_or(last),
        keys,
    })
}

/// Refuses two keys with one name.
pub fn check_names(keys: &[TicketKey], at: &Location) -> Result<(), KeyError> {
    let mut seen: Vec<&KeyName> = Vec::with_capacity(keys.len());
    for key in keys {
        if seen.contains(&key.name()) {
            return Err(KeyError::DuplicateName {
                at: at.clone(),
                name: *key.name(),
            });
        }
        seen.push(key.name());
    }
    Ok(())
}

#[cfg(test)]
#[path = "format_tests.rs"]
mod tests;
