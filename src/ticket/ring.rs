//! The key ring: which key encrypts and which may still decrypt, as a function of time.
//!
//! A [`KeyRing`] holds an immutable [`Snapshot`] behind an atomic pointer: handshakes read
//! it without locking while a reload swaps in a new one.

use std::sync::Arc;

use arc_swap::ArcSwap;
use subtle::ConstantTimeEq;

use super::error::{KeyError, Location, TicketError};
use super::format::{self, KeyFormat, ParsedKeys};
use super::key::{KeyName, NAME_LEN, TicketKey};

/// Seconds since the Unix epoch: every policy decision takes one, so tests need no sleeping.
pub type UnixTime = u64;

/// The current time as [`UnixTime`].
pub fn now() -> UnixTime {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A half-open span of time `[from, until)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// First second included.
    pub from: UnixTime,
    /// First second excluded.
    pub until: UnixTime,
}

impl Window {
    /// All of time.
    pub const ALWAYS: Window = Window {
        from: 0,
        until: UnixTime::MAX,
    };

    /// Whether `t` falls inside.
    pub fn contains(&self, t: UnixTime) -> bool {
        self.from <= t && t < self.until
    }
}

/// What a key in the ring may do, and when.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyPolicy {
    /// When the key encrypts new tickets; `None` for decrypt-only and staged keys.
    pub encrypt: Option<Window>,
    /// When the key may open tickets.
    pub decrypt: Window,
}

impl KeyPolicy {
    /// Encrypts and decrypts at all times.
    pub const ENCRYPT: KeyPolicy = KeyPolicy {
        encrypt: Some(Window::ALWAYS),
        decrypt: Window::ALWAYS,
    };
    /// Only opens tickets, at all times.
    pub const DECRYPT_ONLY: KeyPolicy = KeyPolicy {
        encrypt: None,
        decrypt: Window::ALWAYS,
    };
}

/// A key and its policy.
#[derive(Debug)]
pub struct RingKey {
    /// The key.
    pub key: TicketKey,
    /// What it may do.
    pub policy: KeyPolicy,
}

/// An immutable set of keys; what a handshake sees from start to end.
#[derive(Debug)]
pub struct Snapshot {
    keys: Vec<RingKey>,
    generation: u64,
}

static GENERATION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

fn next_generation() -> u64 {
    GENERATION.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl Default for Snapshot {
    fn default() -> Self {
        Snapshot::new(Vec::new())
    }
}

/// A key found for a ticket.
#[derive(Debug, Clone, Copy)]
pub struct Found<'a> {
    /// The key that opens the ticket.
    pub key: &'a TicketKey,
    /// Whether the ticket should be re-issued under the current encrypting key.
    pub renew: bool,
    /// Seconds the key may still decrypt, if it has an end.
    pub decrypt_left: Option<u64>,
}

impl Snapshot {
    /// A snapshot of `keys`, each with its policy.
    pub fn new(keys: Vec<RingKey>) -> Self {
        Snapshot {
            keys,
            generation: next_generation(),
        }
    }

    /// A number no other snapshot in this process has: tells whether something derived from a
    /// snapshot is still current.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The same ring with every key derived for `label` (see [`TicketKey::derive`]) and the
    /// same policies: a vhost's own keys.
    pub fn derive(&self, label: &[u8]) -> Snapshot {
        Snapshot::new(
            self.keys
                .iter()
                .map(|k| RingKey {
                    key: k.key.derive(label),
                    policy: k.policy,
                })
                .collect(),
        )
    }

    /// A snapshot of parsed keys: the designated key encrypts, the others only decrypt.
    pub fn from_parsed(parsed: ParsedKeys) -> Self {
        let encrypt = parsed.encrypt;
        let keys = parsed
            .keys
            .into_iter()
            .enumerate()
            .map(|(i, key)| RingKey {
                key,
                policy: if i == encrypt {
                    KeyPolicy::ENCRYPT
                } else {
                    KeyPolicy::DECRYPT_ONLY
                },
            })
            .collect();
        Snapshot::new(keys)
    }

    /// The keys in ring order.
    pub fn keys(&self) -> &[RingKey] {
        &self.keys
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the ring has no key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key that encrypts at `now`: of the keys whose encrypt window holds `now`, the one
    /// whose window started last (the later one in ring order on a tie).
    pub fn encrypting(&self, now: UnixTime) -> Option<&RingKey> {
        self.keys
            .iter()
            .filter(|k| k.policy.encrypt.is_some_and(|w| w.contains(now)))
            .max_by_key(|k| k.policy.encrypt.map(|w| w.from))
    }

    /// Finds the key named `name` (compared in constant time against every key) and says
    /// whether it may decrypt at `now`.
    pub fn find(&self, name: &[u8; NAME_LEN], now: UnixTime) -> Result<Found<'_>, TicketError> {
        let mut found: Option<&RingKey> = None;
        for k in &self.keys {
            // One 128-bit constant-time compare per key rather than sixteen byte compares.
            let eq: bool = u128::from_ne_bytes(k.key.name().0)
                .ct_eq(&u128::from_ne_bytes(*name))
                .into();
            if eq {
                found = Some(k);
            }
        }
        let k = found.ok_or(TicketError::UnknownKey)?;
        if !k.policy.decrypt.contains(now) {
            return Err(TicketError::ExpiredKey);
        }
        let encrypting = self.encrypting(now).map(|e| e.key.name());
        Ok(Found {
            key: &k.key,
            renew: encrypting != Some(k.key.name()),
            decrypt_left: (k.policy.decrypt.until != UnixTime::MAX).then(|| k.policy.decrypt.until - now),
        })
    }
}

/// A shared, live key ring. Cheap to read from any thread; replaced atomically.
#[derive(Debug, Default)]
pub struct KeyRing {
    current: ArcSwap<Snapshot>,
}

impl KeyRing {
    /// An empty ring: it seals nothing and opens nothing.
    pub fn new() -> Self {
        KeyRing::default()
    }

    /// A ring holding `snapshot`.
    pub fn with_snapshot(snapshot: Snapshot) -> Self {
        KeyRing {
            current: ArcSwap::from_pointee(snapshot),
        }
    }

    /// The keys as they are now; hold it for the length of one operation.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// A cheap guard on the current keys, for the handshake path.
    pub fn load(&self) -> arc_swap::Guard<Arc<Snapshot>> {
        self.current.load()
    }

    /// Replaces every key.
    pub fn store(&self, snapshot: Snapshot) {
        self.current.store(Arc::new(snapshot));
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.current.load().len()
    }

    /// Whether the ring has no key.
    pub fn is_empty(&self) -> bool {
        self.current.load().is_empty()
    }

    /// Replaces the keys with those of a file or directory; on error the ring is unchanged.
    pub fn load_path(&self, path: &std::path::Path, format: KeyFormat) -> Result<(), KeyError> {
        let parsed = format::load_path(path, format)?;
        self.store(Snapshot::from_parsed(parsed));
        Ok(())
    }

    /// Adds `key` as the encrypting key; the keys before it become decrypt-only.
    /// Refused if a key of that name is already in the ring.
    pub fn add_key(&self, key: TicketKey) -> Result<(), KeyError> {
        let mut result = Ok(());
        self.current.rcu(|old| {
            if old.keys.iter().any(|k| k.key.name() == key.name()) {
                result = Err(*key.name());
                return Arc::clone(old);
            }
            result = Ok(());
            let mut keys: Vec<RingKey> = old
                .keys
                .iter()
                .map(|k| RingKey {
                    key: k.key.clone(),
                    policy: KeyPolicy {
                        encrypt: None,
                        decrypt: k.policy.decrypt,
                    },
                })
                .collect();
            keys.push(RingKey {
                key: key.clone(),
                policy: KeyPolicy::ENCRYPT,
            });
            Arc::new(Snapshot::new(keys))
        });
        result.map_err(|name: KeyName| KeyError::DuplicateName {
            at: Location::new("<memory>"),
            name,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ticket::key::KeySize;

    fn key(n: u8) -> TicketKey {
        let mut name = [0u8; 16];
        name[0] = n;
        name[1] = 0xEE;
        let secret: Vec<u8> = (0..32).map(|i| i ^ n).collect();
        TicketKey::from_parts(&name, &secret, &secret).unwrap()
    }

    #[test]
    fn the_designated_key_encrypts_and_others_renew() {
        let ring = KeyRing::with_snapshot(Snapshot::from_parsed(ParsedKeys {
            keys: vec![key(1), key(2), key(3)],
            encrypt: 1,
        }));
        let snap = ring.snapshot();
        assert_eq!(snap.encrypting(0).unwrap().key.name(), key(2).name());
        assert!(!snap.find(&key(2).name().0, 5).unwrap().renew);
        assert!(snap.find(&key(1).name().0, 5).unwrap().renew);
        assert!(
            snap.find(&key(3).name().0, 5).unwrap().renew,
            "the staged key decrypts, and renews"
        );
        assert_eq!(snap.find(&[9; 16], 5).err(), Some(TicketError::UnknownKey));
    }

    #[test]
    fn windows_decide_by_the_time_given() {
        let keys = vec![
            RingKey {
                key: key(1),
                policy: KeyPolicy {
                    encrypt: Some(Window { from: 0, until: 100 }),
                    decrypt: Window { from: 0, until: 200 },
                },
            },
            RingKey {
                key: key(2),
                policy: KeyPolicy {
                    encrypt: Some(Window { from: 100, until: 200 }),
                    decrypt: Window { from: 0, until: 300 },
                },
            },
        ];
        let snap = Snapshot::new(keys);
        assert_eq!(snap.encrypting(50).unwrap().key.name(), key(1).name());
        assert_eq!(snap.encrypting(150).unwrap().key.name(), key(2).name());
        assert!(snap.encrypting(250).is_none());
        let f = snap.find(&key(1).name().0, 150).unwrap();
        assert!(f.renew);
        assert_eq!(f.decrypt_left, Some(50));
        assert!(!snap.find(&key(1).name().0, 50).unwrap().renew);
        assert_eq!(snap.find(&key(1).name().0, 200).err(), Some(TicketError::ExpiredKey));
        assert!(snap.find(&key(2).name().0, 299).is_ok());
    }

    #[test]
    fn add_key_rotates_and_refuses_duplicates() {
        let ring = KeyRing::new();
        assert!(ring.snapshot().encrypting(0).is_none());
        ring.add_key(key(1)).unwrap();
        ring.add_key(key(2)).unwrap();
        let snap = ring.snapshot();
        assert_eq!(snap.len(), 2);
        assert_eq!(snap.encrypting(0).unwrap().key.name(), key(2).name());
        assert!(snap.find(&key(1).name().0, 0).unwrap().renew);
        let err = ring.add_key(key(1)).unwrap_err();
        assert!(err.to_string().contains("appears twice"), "{err}");
        assert_eq!(ring.len(), 2);
        assert_eq!(TicketKey::generate(KeySize::Aes128).unwrap().size(), KeySize::Aes128);
    }
}
