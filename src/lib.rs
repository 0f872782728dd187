//! tlsext-shim: managed TLS session-ticket keys and SNI routing for unmodified OpenSSL 3
//! servers.
//!
//! Unsafe code lives only in [`openssl`] (the one place that talks to libssl), [`ffi`] (the
//! C API of our own `tlsext_*` names) and `preload` (the OpenSSL-named exports). The core
//! modules ([`ticket`]) are pure Rust and forbid unsafe code.

pub mod ffi;
pub mod openssl;
pub mod ticket;
