//! The process-wide ticket key ring and the lazy check of its source.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::config::{KeySource, TicketSettings};
use crate::ticket::source::{FileSource, Poll};
use crate::ticket::{KeyRing, Snapshot, ring};

/// Where the keys come from.
enum Source {
    /// A key file or directory.
    File(FileSource),
}

/// The ring every managed context uses, and its source.
pub struct TicketManager {
    ring: Arc<KeyRing>,
    source: Mutex<Source>,
    /// Milliseconds since the Unix epoch before which the source is not looked at again.
    next_poll_ms: AtomicU64,
    interval_ms: u64,
    describe: String,
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

impl TicketManager {
    /// The manager for the configured source, loaded once now; `None` when tickets are not
    /// managed. A source that cannot be used at startup leaves the ring empty (no tickets,
    /// full handshakes) and is retried at every check until it can.
    pub fn from_settings(t: &TicketSettings) -> Option<TicketManager> {
        let (source, describe) = match &t.keys {
            KeySource::None => return None,
            KeySource::Path(p) => (
                Source::File(FileSource::new(p.clone(), t.format)),
                format!("{} ({} format)", p.display(), t.format.as_str()),
            ),
            KeySource::Auto | KeySource::Seed(_) => {
                log_error!("TLSEXT_SHIM_TICKET_KEYS: auto and seed: modes are not available in this build");
                return None;
            }
        };
        let manager = TicketManager {
            ring: Arc::new(KeyRing::new()),
            source: Mutex::new(source),
            next_poll_ms: AtomicU64::new(0),
            interval_ms: u64::try_from(t.reload_interval.as_millis()).unwrap_or(u64::MAX),
            describe,
        };
        manager.poll_now();
        if manager.ring.is_empty() {
            log_error!(
                "no usable ticket keys at startup: tickets are off until {} is fixed",
                manager.describe
            );
        }
        Some(manager)
    }

    /// The shared ring.
    pub fn ring(&self) -> &Arc<KeyRing> {
        &self.ring
    }

    /// Where the keys come from, for the log.
    pub fn describe(&self) -> &str {
        &self.describe
    }

    /// Looks at the source if the reload interval has passed; never blocks (another thread
    /// already looking is enough).
    pub fn maybe_poll(&self) {
        let now = now_ms();
        let due = self.next_poll_ms.load(Ordering::Relaxed);
        if now < due {
            return;
        }
        let next = now.saturating_add(self.interval_ms);
        if self
            .next_poll_ms
            .compare_exchange(due, next, Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
        {
            return;
        }
        self.poll_now();
    }

    fn poll_now(&self) {
        let Ok(mut source) = self.source.try_lock() else { return };
        match &mut *source {
            Source::File(f) => match f.poll() {
                Poll::Unchanged | Poll::StillFailing => {}
                Poll::Loaded(parsed) => {
                    let snapshot = Snapshot::from_parsed(parsed);
                    log_info!(
                        "loaded {} ticket key(s) from {}; encrypting key {}",
                        snapshot.len(),
                        f.path().display(),
                        encrypting_name(&snapshot)
                    );
                    self.ring.store(snapshot);
                }
                Poll::Failed(e) => {
                    if self.ring.is_empty() {
                        log_error!("{e}");
                    } else {
                        log_error!("{e}; keeping the {} key(s) loaded before", self.ring.len());
                    }
                }
            },
        }
    }
}

fn encrypting_name(s: &Snapshot) -> String {
    s.encrypting(ring::now())
        .map_or_else(|| "none".to_string(), |k| k.key.name().to_hex())
}
