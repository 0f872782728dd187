//! tlsext-shim: managed TLS session-ticket keys and SNI routing for unmodified OpenSSL 3
//! servers.
//!
//! The core modules ([`ticket`], [`codec`], [`sni`], [`config`]) are pure Rust, forbid unsafe code and know
//! nothing of C or libssl. Unsafe code lives only in [`openssl`] (the one place that talks to
//! libssl), [`ffi`] (the C API of our own `tlsext_*` names) and [`preload`] (the
//! OpenSSL-named exports). The `cbindgen:ignore` markers keep the core's Rust items out of the C header.

/// cbindgen:ignore
pub mod cli;
/// cbindgen:ignore
pub mod codec;
/// cbindgen:ignore
pub mod config;
pub mod ffi;
/// cbindgen:ignore
#[macro_use]
pub mod log;
/// cbindgen:ignore
pub mod metrics;
pub mod openssl;
pub mod preload;
/// cbindgen:ignore
pub mod sni;
/// cbindgen:ignore
pub mod ticket;
