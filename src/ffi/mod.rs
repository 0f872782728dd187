//! The C API of our own names (`tlsext_*`). One file per handle type.
//!
//! Conventions, for every function here:
//! - NULL-safe: a NULL handle or pointer gives `TLSEXT_RESULT_NULL_PARAMETER`; `_free(NULL)`
//!   is a no-op.
//! - Panic-safe: a panic becomes `TLSEXT_RESULT_PANIC`, never an abort of the host.
//! - Outputs are written only on success; a too-small buffer gets
//!   `TLSEXT_RESULT_BUFFER_TOO_SMALL` with the needed size in `*out_len`.
//! - A failed call leaves a one-line explanation for `tlsext_last_error_message()`.

#![allow(non_camel_case_types)]

#[macro_use]
mod macros;
pub mod client_hello;
pub mod keyring;
pub mod result;
pub mod sni;
pub mod ssl_ctx;
pub mod stats;
pub mod ticket;

pub use result::tlsext_result;
