//! The process-wide ticket key ring and the lazy check of its source.

use std::sync::{Arc, Mutex};

use crate::config::{KeySource, TicketSettings};
use crate::metrics::RateLimit;
use crate::openssl::now_ms;
use std::num::NonZeroU64;
use std::path::PathBuf;

use crate::ticket::chain::{Chain, Seed};
use crate::ticket::source::{FileSource, Poll, Signature};
use crate::ticket::{KeyRing, Snapshot, ring};

/// Where the keys come from.
enum Source {
    /// A key file or directory.
    File(FileSource),
    /// `auto` (a random start) or `seed:PATH` (a shared start): a hash chain of keys, one per
    /// rotation epoch.
    Chain {
        chain: Option<Chain>,
        /// The seed file for `seed:` mode, and what it looked like when last read.
        seed: Option<(PathBuf, Option<Signature>)>,
        /// The epoch of the keys in the ring.
        epoch: Option<u64>,
    },
}

/// The ring every managed context uses, and its source.
pub struct TicketManager {
    ring: Arc<KeyRing>,
    source: Mutex<Source>,
    /// When the source is looked at again.
    poll: RateLimit,
    describe: String,
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
            KeySource::Auto => {
                let rotate = NonZeroU64::new(t.rotate.as_secs()).unwrap_or(NonZeroU64::MIN);
                let chain = match Chain::new_random(rotate, ring::now()) {
                    Ok(c) => Some(c),
                    Err(e) => {
                        log_error!("auto ticket keys: the random source failed ({e}); tickets are off");
                        None
                    }
                };
                (
                    Source::Chain {
                        chain,
                        seed: None,
                        epoch: None,
                    },
                    format!("auto (a key chain from a random secret, rotated every {}s)", rotate),
                )
            }
            KeySource::Seed(p) => (
                Source::Chain {
                    chain: None,
                    seed: Some((p.clone(), None)),
                    epoch: None,
                },
                format!("seed file {} (a shared key chain)", p.display()),
            ),
        };
        let manager = TicketManager {
            ring: Arc::new(KeyRing::new()),
            source: Mutex::new(source),
            poll: RateLimit::new(u64::try_from(t.reload_interval.as_millis()).unwrap_or(u64::MAX)),
            describe,
        };
        // Every failure below logs its own single line (naming the file and the reason).
        manager.poll_now();
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
        if self.poll.try_acquire(now_ms()) {
            self.poll_now();
        }
    }

    fn poll_now(&self) {
        let Ok(mut source) = self.source.try_lock() else { return };
        match &mut *source {
            Source::Chain { chain, seed, epoch } => self.poll_chain(chain, seed, epoch),
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
                    crate::metrics::global().key_reload(true);
                }
                Poll::Failed(e) => {
                    crate::metrics::global().key_reload(false);
                    if self.ring.is_empty() {
                        log_error!("{e}; tickets are off (full handshakes) until it is fixed");
                    } else {
                        log_error!("{e}; keeping the {} key(s) loaded before", self.ring.len());
                    }
                }
            },
        }
    }

    fn poll_chain(
        &self,
        chain: &mut Option<Chain>,
        seed: &mut Option<(PathBuf, Option<Signature>)>,
        epoch: &mut Option<u64>,
    ) {
        if let Some((path, last)) = seed {
            let sig = Signature::of(path);
            if last.as_ref() != Some(&sig) {
                *last = Some(sig);
                match Seed::load(path) {
                    Ok(s) => {
                        *chain = Some(Chain::from_seed(s));
                        *epoch = None;
                    }
                    Err(e) if chain.is_some() => log_error!("{e}; keeping the keys derived before"),
                    Err(e) => log_error!("{e}; tickets are off until the seed file is fixed"),
                }
            }
        }
        let Some(chain) = chain else { return };
        let now = ring::now();
        let current = chain.epoch(now);
        if *epoch == Some(current) {
            return;
        }
        let snapshot = chain.snapshot(now);
        log_info!(
            "ticket keys for rotation epoch {current}: encrypting key {}, {} key(s) in the ring, next rotation at {}",
            encrypting_name(&snapshot),
            snapshot.len(),
            chain.next_rotation(now)
        );
        self.ring.store(snapshot);
        *epoch = Some(current);
    }
}

fn encrypting_name(s: &Snapshot) -> String {
    s.encrypting(ring::now())
        .map_or_else(|| "none".to_string(), |k| k.key.name().to_hex())
}
