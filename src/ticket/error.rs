//! Errors of the ticket core. Each names where the problem is (file, line) and what it is,
//! and never carries key material.

use std::fmt;
use std::path::PathBuf;

use super::key::{KeyName, KeyPart};

/// Where in a key source a problem was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The file or directory, or `<memory>` for keys handed over as bytes.
    pub origin: String,
    /// The 1-based line, for line-oriented formats.
    pub line: Option<usize>,
}

impl Location {
    /// A location in the source named `origin`, without a line.
    pub fn new(origin: impl Into<String>) -> Self {
        Location {
            origin: origin.into(),
            line: None,
        }
    }

    /// The same source at `line`.
    pub fn at_line(&self, line: usize) -> Self {
        Location {
            origin: self.origin.clone(),
            line: Some(line),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}", self.origin, line),
            None => f.write_str(&self.origin),
        }
    }
}

/// Why a set of ticket keys was refused.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The file or directory could not be read.
    #[error("{path}: cannot read: {source}", path = .path.display())]
    Io {
        /// What was being read.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// A key of the wrong length.
    #[error("{at}: a {format} key is {expected}, found {found} bytes")]
    BadSize {
        /// Where.
        at: Location,
        /// The layout being read.
        format: &'static str,
        /// What the layout allows.
        expected: &'static str,
        /// What was found.
        found: usize,
    },
    /// A line that is not valid base64.
    #[error("{at}: not valid base64")]
    BadBase64 {
        /// Where.
        at: Location,
    },
    /// Keys of different sizes in one source.
    #[error("{at}: key is {found} bytes but the first key is {first} bytes; all keys must be the same size")]
    MixedSizes {
        /// Where the odd key is.
        at: Location,
        /// The first key's size.
        first: usize,
        /// This key's size.
        found: usize,
    },
    /// A guessable key.
    #[error("{at}: the {part} is a single repeated byte (all zero?); generate keys from a random source")]
    Weak {
        /// Where.
        at: Location,
        /// Which part.
        part: KeyPart,
    },
    /// Two keys with one name: a ticket could not say which key sealed it.
    #[error("{at}: key name {name} appears twice")]
    DuplicateName {
        /// Where the second one is.
        at: Location,
        /// The name, in hex.
        name: KeyName,
    },
    /// No key at all.
    #[error("{at}: no keys found")]
    Empty {
        /// The empty source.
        at: Location,
    },
    /// A HAProxy file with fewer lines than HAProxy needs.
    #[error("{at}: a HAProxy key file needs at least 3 keys (decrypt-only, encrypting, next), found {found}")]
    TooFewHaproxyKeys {
        /// The file.
        at: Location,
        /// How many keys it has.
        found: usize,
    },
    /// Content that matches no layout.
    #[error("{at}: not a key file: {seen}")]
    Unrecognized {
        /// The source.
        at: Location,
        /// A description of what was seen (never the bytes themselves).
        seen: String,
    },
    /// A format that cannot hold this kind of key.
    #[error("{at}: {problem}")]
    Unsupported {
        /// The source.
        at: Location,
        /// What is not possible.
        problem: &'static str,
    },
    /// The operating system's random source failed.
    #[error("the random source failed: {0}")]
    Random(getrandom::Error),
}

/// Why a ticket could not be sealed or opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TicketError {
    /// Shorter than name, IV, one block and MAC, or not whole blocks.
    #[error("ticket is malformed (length)")]
    Malformed,
    /// No key in the ring has the ticket's key name.
    #[error("ticket key name is not in the ring")]
    UnknownKey,
    /// The key exists but may no longer decrypt.
    #[error("ticket key is past its decrypt window")]
    ExpiredKey,
    /// The MAC does not match: tampered, or a different key with the same name.
    #[error("ticket MAC does not match")]
    BadMac,
    /// The MAC matched but the padding did not: a key with the right HMAC but wrong AES part.
    #[error("ticket padding is invalid")]
    BadPadding,
    /// The plaintext is over OpenSSL's limit of 0xFF00 bytes.
    #[error("session is too large for a ticket")]
    TooLarge,
    /// The ring has no key that may encrypt now.
    #[error("the ring has no encrypting key")]
    NoEncryptingKey,
    /// The operating system's random source failed.
    #[error("the random source failed")]
    Random,
}
