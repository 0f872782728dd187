#![forbid(unsafe_code)]
//! Host names and the SNI virtual-host table.
//!
//! A [`HostName`] is validated and normalised once, when it is made: ASCII lowercase, one
//! trailing dot removed, only letters, digits and `-` in labels of 1 to 63 bytes, at most 253
//! bytes in all, and no IP literal (anything with `:` or `[`, and any name whose last label is
//! all digits: `192.0.2.1`, `127.1`, `3232235777`; no top-level domain is numeric). Labels may
//! start or end with `-`: that LDH rule is left to whoever registers names. RFC 6066 forbids
//! IP literals and the trailing dot in `server_name`; accepting the dot and lowercasing follow
//! nginx, so a client sending `WWW.Example.COM.` reaches the `www.example.com` vhost.
//!
//! A [`Pattern`] is an exact host name or a wildcard `*.rest`, where `*` stands for exactly one
//! whole left-most label, as in RFC 6125 certificates: `*.example.com` matches
//! `a.example.com`, but neither `example.com` nor `a.b.example.com`. **This differs from nginx**,
//! whose `*.example.com` matches names at any depth below `example.com`; HAProxy matches one
//! label like us. `*` must be the whole left-most label (`a*.example.com`, `a.*.example.com` and
//! `*.*.example.com` are refused) and must be followed by at least two labels: `*` alone and
//! `*.tld` (`*.com`, `*.localhost`) are refused as too broad.
//!
//! [`VhostTable`] maps patterns to a value (a vhost index or id). A lookup normalises the name
//! from the wire into a stack buffer (no allocation), tries the exact names, then the wildcards
//! (the name with its first label removed, looked up among the wildcard suffixes); both are hash
//! lookups, so the cost does not depend on how many names are loaded. Because a wildcard covers
//! one label only, at most one wildcard can match a name: precedence is simply exact, then
//! wildcard, then no match (the caller's default vhost).

mod host;
mod pattern;
mod table;

pub use host::{HostName, MAX_HOST_NAME_LEN, MAX_LABEL_LEN};
pub use pattern::Pattern;
pub use table::VhostTable;

/// Why a host name or pattern was refused, or a pattern could not be added.
///
/// Offsets count bytes from the start of the name or pattern as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The name is empty (or just `.`).
    #[error("host name is empty")]
    Empty,
    /// The name is an IP address literal (starts with `[`, contains `:`, or its last label is all
    /// digits). A `[` further in is an [`Error::InvalidChar`].
    #[error("host name is an IP address literal")]
    IpLiteral,
    /// Two dots in a row, or a leading dot.
    #[error("host name has an empty label at byte {offset}")]
    EmptyLabel {
        /// Where the empty label is.
        offset: usize,
    },
    /// A label is longer than [`MAX_LABEL_LEN`] bytes.
    #[error("host name label at byte {offset} is {len} bytes long, at most 63 allowed")]
    LabelTooLong {
        /// Where the label starts.
        offset: usize,
        /// Its length.
        len: usize,
    },
    /// The name is longer than [`MAX_HOST_NAME_LEN`] bytes (not counting one trailing dot).
    #[error("host name is {len} bytes long, at most 253 allowed")]
    TooLong {
        /// Its length.
        len: usize,
    },
    /// A byte other than a letter, digit, `-` or `.`.
    #[error("host name has byte {byte:#04x} at {offset}; only letters, digits and '-' are allowed")]
    InvalidChar {
        /// The byte.
        byte: u8,
        /// Where it is.
        offset: usize,
    },
    /// A `*` that is not the whole left-most label.
    #[error("'*' must be the whole left-most label, as in *.example.com")]
    MisplacedWildcard,
    /// `*` alone or `*.tld`: a wildcard needs at least two labels after `*.`.
    #[error("wildcard needs at least two labels after '*.'")]
    WildcardTooBroad,
    /// The pattern is already in the table.
    #[error("duplicate pattern {pattern}")]
    DuplicatePattern {
        /// The pattern, normalised.
        pattern: String,
    },
}

impl Error {
    /// The same error with its offset moved by `by` bytes (for a name inside a pattern).
    fn shifted(self, by: usize) -> Self {
        match self {
            Error::EmptyLabel { offset } => Error::EmptyLabel {
                offset: offset.saturating_add(by),
            },
            Error::LabelTooLong { offset, len } => Error::LabelTooLong {
                offset: offset.saturating_add(by),
                len,
            },
            Error::InvalidChar { byte, offset } => Error::InvalidChar {
                byte,
                offset: offset.saturating_add(by),
            },
            other => other,
        }
    }
}
