//! The only place that talks to libssl: the real-symbol table, per-context state and the
//! ticket-key callback.

pub mod ctx;
pub mod real;
/// cbindgen:ignore
pub mod sys;
pub mod ticket_cb;

pub use ctx::{CtxState, ctx_state, use_keyring};
