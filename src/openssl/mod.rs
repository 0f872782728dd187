//! The only place that talks to libssl: the real-symbol table, per-context state and the
//! ticket-key callback.

pub mod ctx;
pub mod outcome;
pub mod real;
pub mod sni;
/// cbindgen:ignore
pub mod sys;
pub mod ticket_cb;
pub mod vhost;

pub use ctx::{CtxState, ctx_state, ctx_state_or_create, use_keyring, use_sni};

/// Milliseconds since the Unix epoch (for rate-limiting lazy checks).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}
