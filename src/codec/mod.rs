#![forbid(unsafe_code)]
//! ClientHello codec: a zero-copy, panic-free parser and a writer for TLS 1.0-1.3 ClientHellos.
//!
//! # Parsing
//!
//! [`ClientHello::parse`] takes the first bytes a client sent, either as a TLS record (content
//! type 22, as read from a socket) or as a bare handshake message (type 1, as handed out by
//! OpenSSL), and returns a [`ClientHello`] that borrows from the input. Parsing allocates nothing:
//! the extension block is kept as the raw slice and walked lazily by [`Extensions`]; the typed
//! accessors ([`ClientHello::server_name`], [`ClientHello::alpn`], ...) find their extension by
//! scanning that slice. Duplicate extension types are detected during the parse without
//! allocation: a 64-bit bitmap for types below 64, a fixed array of 32 slots for the others, and,
//! only when a hello has more than 32 such extensions, a second pass with a 64 Kibit bitmap on the
//! stack.
//!
//! The parse validates everything it knows before it returns: every length prefix, no trailing
//! bytes at any level, no duplicate extension, `pre_shared_key` last, and the inner structure
//! of the extensions listed in [`ext_type`] (see [`ServerNameList`], [`AlpnList`],
//! [`SupportedVersions`], [`U16List`], [`KeyShareList`], [`PreSharedKey`]). Unknown extensions
//! are kept raw, in order. The typed views can also parse one extension on its own, e.g. the
//! bytes OpenSSL's `SSL_client_hello_get0_ext` returns.
//!
//! # Errors a peeking caller can act on
//!
//! [`Error::NeedMore`] means the input is a valid prefix that was cut short: every prefix of a
//! valid ClientHello, in record or handshake form, answers `NeedMore`, never `Malformed`, so a
//! caller peeking at a socket can wait for more bytes. The number is a lower bound on what is
//! still missing (the rest of the record or handshake message once its header is in).
//! [`Error::Malformed`] and [`Error::DuplicateExtension`] say the client sent something invalid;
//! [`Error::Unsupported`] says it is valid TLS this parser does not take: SSLv2-compatible hellos,
//! SSL 3.0, and a ClientHello fragmented over several records (rare: even a hello with
//! post-quantum key shares fits one 16 KiB record). Such a hello is refused as soon as the first
//! record shows it, never answered with `NeedMore`.
//!
//! # Encoding
//!
//! [`Writer`] writes length-prefixed vectors with the prefix patched after the body;
//! [`ClientHello::encode`] / [`ClientHello::encode_record`] re-emit a parsed hello byte for byte,
//! and [`ClientHelloBuilder`] plus the `encode` functions of the extension views build new ones.
//! Encoders check lengths but not the semantic rules the parser enforces, so tests can build
//! invalid hellos on purpose.

mod ext;
mod hello;
mod reader;
mod writer;

#[cfg(test)]
mod tests;

pub use ext::{
    AlpnIter, AlpnList, BinderIter, KeyShareEntry, KeyShareIter, KeyShareList, PreSharedKey, PskIdentity,
    PskIdentityIter, ServerName, ServerNameIter, ServerNameList, SupportedVersions, U16Iter, U16List, ext_type,
};
pub use hello::{
    CONTENT_TYPE_HANDSHAKE, ClientHello, ClientHelloBuilder, Extension, Extensions, HANDSHAKE_CLIENT_HELLO,
    MAX_CLIENT_HELLO_BODY, MAX_RECORD_PAYLOAD,
};
pub use reader::Reader;
pub use writer::Writer;

/// What went wrong while parsing or encoding a ClientHello.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input is a valid prefix cut short: at least this many more bytes are needed.
    #[error("need at least {0} more bytes")]
    NeedMore(usize),
    /// The input is not a valid ClientHello.
    #[error("malformed ClientHello: {what} (at byte {offset})")]
    Malformed {
        /// Which rule was broken, e.g. `"server_name: empty host name"`.
        what: &'static str,
        /// Byte offset in the parsed input where the problem was found.
        offset: usize,
    },
    /// The same extension type appears twice.
    #[error("malformed ClientHello: duplicate extension type {typ} (at byte {offset})")]
    DuplicateExtension {
        /// The repeated extension type.
        typ: u16,
        /// Byte offset of the second occurrence.
        offset: usize,
    },
    /// Valid TLS that this parser does not handle (SSLv2 hello, SSL 3.0, multi-record hello).
    #[error("unsupported ClientHello: {what}")]
    Unsupported {
        /// What is not supported.
        what: &'static str,
    },
    /// An encoder was asked to write a vector longer than its length prefix allows.
    #[error("cannot encode {what}: {len} bytes, at most {max} allowed")]
    TooLong {
        /// The vector being written.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The most its length prefix can express (or the protocol allows).
        max: usize,
    },
}

/// Replaces the description of a `Malformed` error with a more precise one, keeping its offset.
trait What<T> {
    fn what(self, what: &'static str) -> Result<T, Error>;
}

impl<T> What<T> for Result<T, Error> {
    #[inline]
    fn what(self, what: &'static str) -> Result<T, Error> {
        self.map_err(|e| match e {
            Error::Malformed { offset, .. } => Error::Malformed { what, offset },
            other => other,
        })
    }
}

/// Marks `v` in the bitmap `words` (bit `v % 64` of word `v / 64`); false if it was marked
/// already. A `v` past the end of the bitmap is never marked and always answers true.
#[inline]
fn first_sighting(words: &mut [u64], v: usize) -> bool {
    let Some(word) = words.get_mut(v / 64) else {
        return true;
    };
    let bit = 1u64 << (v % 64);
    let first = *word & bit == 0;
    *word |= bit;
    first
}
