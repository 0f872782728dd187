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

/// Lets one caller through at most once every interval: the lazy file checks on the handshake
/// path. Lock-free; callers that lose the race for a due check are turned away (another thread
/// is already doing it).
#[derive(Debug)]
pub struct Throttle {
    interval_ms: u64,
    next_ms: std::sync::atomic::AtomicU64,
}

impl Throttle {
    /// A throttle whose first call is let through.
    pub const fn new(interval_ms: u64) -> Self {
        Throttle {
            interval_ms,
            next_ms: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Whether this caller should do the work now.
    pub fn ready(&self) -> bool {
        use std::sync::atomic::Ordering;
        let now = now_ms();
        let due = self.next_ms.load(Ordering::Relaxed);
        now >= due
            && self
                .next_ms
                .compare_exchange(
                    due,
                    now.saturating_add(self.interval_ms),
                    Ordering::AcqRel,
                    Ordering::Relaxed,
                )
                .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::Throttle;

    #[test]
    fn throttle_lets_one_caller_through_per_interval() {
        let t = Throttle::new(60_000);
        assert!(t.ready(), "the first call is let through");
        assert!(!t.ready(), "then nothing until the interval has passed");
        let every_time = Throttle::new(0);
        assert!(every_time.ready() && every_time.ready());
    }
}
