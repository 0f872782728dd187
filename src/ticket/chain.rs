//! Ticket keys from a one-way hash chain: the `auto` and `seed:PATH` key modes.
//!
//! Time is cut into epochs of `I` = `rotate` seconds, aligned to the Unix epoch:
//! `epoch(t) = t / I` (integer division), so every process on every machine agrees on the
//! epoch at every moment without talking to each other. Each epoch `e` has a 32-byte chain
//! secret `S_e`, and each secret gives one AES-256 ticket key.
//!
//! # Construction (version 1)
//!
//! All functions are HMAC-SHA256 (RFC 2104) keyed with the 32-byte secret, over an ASCII label
//! without terminator:
//!
//! ```text
//! S_{e+1}  = HMAC-SHA256(key = S_e, "tlsext-shim chain v1 step")
//! name_e   = HMAC-SHA256(key = S_e, "tlsext-shim chain v1 name")[0..16]
//! hmac_e   = HMAC-SHA256(key = S_e, "tlsext-shim chain v1 hmac")        (32 bytes)
//! aes_e    = HMAC-SHA256(key = S_e, "tlsext-shim chain v1 aes")         (32 bytes)
//! ```
//!
//! The ticket key of epoch `e` is the AES-256 key (`name_e`, HMAC-SHA256 key `hmac_e`, AES-256
//! key `aes_e`); in the 80-byte OpenSSL layout that is `name_e || hmac_e || aes_e`. Should a
//! derived part be one byte repeated (probability about 2^-120 for the name), its last byte is
//! XORed with 0x01, because [`TicketKey`] refuses such parts.
//!
//! Test vector: `S_5` = bytes `00 01 02 .. 1f`, `I` = 3600: `name_5` =
//! `b8fb2691f304f5a008779e3f67259b46`, `name_6` = `b403aa3b196bbb3906175055ecb537ca`.
//!
//! # Windows
//!
//! The key of epoch `k` encrypts during `[k·I, (k+1)·I)` and decrypts during
//! `[(k-1)·I, (k+2)·I)`: a ticket issued in epoch `k` resumes until the end of epoch `k+1`
//! (two intervals at most), and a server already accepts the key of the next epoch, so a
//! peer whose clock is up to one interval ahead is understood. [`Chain::snapshot`] at a time
//! `now` in epoch `e` gives the keys of epochs `e-1` (decrypts only, at `now`), `e` (encrypts)
//! and `e+1` (staged: decrypts only, at `now`). Every key carries its full policy, so the
//! encrypting key changes at exactly `(e+1)·I` even if the snapshot is rebuilt late, and a
//! clock stepped back by less than an interval still finds the key of `e-1` encrypting.
//!
//! # What is in memory
//!
//! A [`Chain`] holds only the epoch it is at, that epoch's secret, and the derived ticket key
//! of the epoch before (not its secret). Advancing hashes forward and wipes the old secret,
//! so a memory dump reveals no key older than the one still inside its decrypt window, and
//! nothing at all of earlier epochs. The chain never goes backward: asked about a time before
//! the epoch it holds, it keeps what it has (see [`Chain::snapshot`]). Right after
//! [`Chain::new_random`], or [`Chain::from_seed`] with a seed at the current epoch, there is
//! no key of the previous epoch: nothing can recover it, and nothing needs it in `auto` mode,
//! where no earlier ticket exists. Advancing by `n` epochs costs `n` HMAC computations.
//!
//! # Seed files
//!
//! In `seed:PATH` mode a whole fleet shares one seed file and rotates in lockstep with no key
//! distribution. The file is UTF-8 text:
//!
//! ```text
//! # tlsext-shim seed v1
//! rotate = 43200
//! epoch = 40913
//! secret = <base64 of S_epoch, 32 bytes>
//! ```
//!
//! Lines are `key = value` (spaces around `=` and at either end optional); whole-line `#`
//! comments and blank lines are ignored. `rotate` (seconds, greater than 0, digits only),
//! `epoch` (digits only) and `secret` (standard base64 with padding, 32 bytes, not one byte
//! repeated) are all required, each once; any other key is refused. `epoch · rotate` must fit
//! in 64 bits. The interval is part of the seed so that every node agrees on it: in seed mode
//! the `TLSEXT_SHIM_TICKET_ROTATE` setting is ignored.
//!
//! Keys of epochs before the seed's epoch cannot be derived from it. A seed advanced with
//! [`Seed::advanced`] (the CLI's `keys advance`) to at most `epoch(now) - 1` still lets a
//! node that loads it derive the previous epoch's key, so tickets issued by its peers in the
//! previous epoch keep resuming there.

use std::fmt;
use std::num::NonZeroU64;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use hmac::Hmac;
use hmac::digest::{Key, KeyInit, Mac};
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::error::Location;
use super::key::{NAME_LEN, TicketKey, is_repeated_byte, unrepeat};
use super::ring::{KeyPolicy, RingKey, Snapshot, UnixTime, Window};

/// Length of a chain secret, in bytes.
pub const SECRET_LEN: usize = 32;

/// The first line [`Seed::to_text`] writes (a comment: parsing does not require it).
pub const SEED_HEADER: &str = "# tlsext-shim seed v1";

const LABEL_STEP: &[u8] = b"tlsext-shim chain v1 step";
const LABEL_NAME: &[u8] = b"tlsext-shim chain v1 name";
const LABEL_HMAC: &[u8] = b"tlsext-shim chain v1 hmac";
const LABEL_AES: &[u8] = b"tlsext-shim chain v1 aes";

type HmacSha256 = Hmac<Sha256>;

/// One chain secret; wiped when dropped, never shown.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
struct Secret([u8; SECRET_LEN]);

impl Secret {
    /// Fresh random bytes, never one byte repeated.
    fn random() -> Result<Secret, getrandom::Error> {
        let mut secret = Secret([0; SECRET_LEN]);
        loop {
            getrandom::fill(&mut secret.0)?;
            if !is_repeated_byte(&secret.0) {
                return Ok(secret);
            }
        }
    }

    /// `HMAC-SHA256(key = self, label)`.
    fn prf(&self, label: &[u8]) -> Secret {
        // A key shorter than the hash's 64-byte block is zero-padded to the block (RFC 2104),
        // so this is HMAC keyed with the 32-byte secret, built without a fallible constructor.
        let mut block = Key::<HmacSha256>::default();
        if let Some(head) = block.get_mut(..SECRET_LEN) {
            head.copy_from_slice(&self.0);
        }
        let mut mac = <HmacSha256 as KeyInit>::new(&block);
        block.as_mut_slice().zeroize();
        mac.update(label);
        let mut digest = mac.finalize().into_bytes();
        let mut out = Secret([0; SECRET_LEN]);
        out.0.copy_from_slice(&digest);
        digest.as_mut_slice().zeroize();
        out
    }

    /// The secret of the next epoch.
    fn step(&self) -> Secret {
        self.prf(LABEL_STEP)
    }

    /// The ticket key of this secret's epoch. `None` cannot happen (every part is 16 or 32
    /// bytes and made not repeated), but is not a reason to panic.
    fn ticket_key(&self) -> Option<TicketKey> {
        let full_name = self.prf(LABEL_NAME);
        let mut name = [0u8; NAME_LEN];
        name.copy_from_slice(full_name.0.get(..NAME_LEN)?);
        let mut hmac = self.prf(LABEL_HMAC);
        let mut aes = self.prf(LABEL_AES);
        unrepeat(&mut name);
        unrepeat(&mut hmac.0);
        unrepeat(&mut aes.0);
        TicketKey::from_parts(&name, &hmac.0, &aes.0).ok()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// The epoch holding `now`.
fn epoch_of(now: UnixTime, rotate: NonZeroU64) -> u64 {
    now / rotate
}

/// The first second of `epoch`, saturating at the end of time.
fn epoch_start(epoch: u64, rotate: NonZeroU64) -> UnixTime {
    epoch.saturating_mul(rotate.get())
}

/// A hash chain of ticket keys, one per epoch of `rotate` seconds. See the module
/// documentation for the construction and the windows.
pub struct Chain {
    rotate: NonZeroU64,
    epoch: u64,
    secret: Secret,
    /// The ticket key of `epoch - 1`, if the chain has passed through that epoch.
    previous: Option<TicketKey>,
}

impl Chain {
    /// The `auto` mode: a fresh random secret for the epoch holding `now`. There is no key of
    /// the previous epoch.
    pub fn new_random(rotate: NonZeroU64, now: UnixTime) -> Result<Chain, getrandom::Error> {
        Ok(Chain {
            rotate,
            epoch: epoch_of(now, rotate),
            secret: Secret::random()?,
            previous: None,
        })
    }

    /// The `seed:` mode: the chain at the seed's epoch, with the seed's interval. There is no
    /// key of the previous epoch until the chain advances past the seed's epoch.
    pub fn from_seed(seed: Seed) -> Chain {
        Chain {
            rotate: seed.rotate,
            epoch: seed.epoch,
            secret: seed.secret,
            previous: None,
        }
    }

    /// The rotation interval, in seconds.
    pub fn rotate_secs(&self) -> NonZeroU64 {
        self.rotate
    }

    /// The epoch holding `now`: `now / rotate`.
    pub fn epoch(&self, now: UnixTime) -> u64 {
        epoch_of(now, self.rotate)
    }

    /// The epoch whose secret the chain holds.
    pub fn held_epoch(&self) -> u64 {
        self.epoch
    }

    /// The first second of the epoch after the one holding `now`: when the encrypting key
    /// changes next (saturating at the end of time).
    pub fn next_rotation(&self, now: UnixTime) -> UnixTime {
        epoch_start(self.epoch(now).saturating_add(1), self.rotate)
    }

    /// The policy of the key of `epoch`: encrypts during `[epoch·I, (epoch+1)·I)`, decrypts
    /// during `[(epoch-1)·I, (epoch+2)·I)`, saturating at both ends of time.
    pub fn policy(&self, epoch: u64) -> KeyPolicy {
        let at = |k: u64| epoch_start(k, self.rotate);
        KeyPolicy {
            encrypt: Some(Window {
                from: at(epoch),
                until: at(epoch.saturating_add(1)),
            }),
            decrypt: Window {
                from: at(epoch.saturating_sub(1)),
                until: at(epoch.saturating_add(2)),
            },
        }
    }

    /// Moves the chain forward to the epoch holding `now`, wiping the secrets it leaves and
    /// keeping the ticket key of the epoch just before the new one. Returns the number of
    /// epochs moved; 0 if `now` is in the held epoch or before it (the chain never goes back).
    pub fn advance_to(&mut self, now: UnixTime) -> u64 {
        let target = self.epoch(now);
        let steps = target.saturating_sub(self.epoch);
        if steps == 0 {
            return 0;
        }
        self.previous = None;
        while self.epoch < target {
            if self.epoch.saturating_add(1) == target {
                self.previous = self.secret.ticket_key();
            }
            // The assignment drops, and so wipes, the old secret.
            self.secret = self.secret.step();
            self.epoch = self.epoch.saturating_add(1);
        }
        steps
    }

    /// Advances to `now` and returns the ring: the keys of epochs `e-1` (when the chain has
    /// it), `e` and `e+1`, oldest first, each with [`Chain::policy`]. If `now` is before the
    /// held epoch `e` (the clock stepped back), the ring is still the one of `e`: its key of
    /// `e-1` encrypts if `now` falls in that epoch; further back, no key encrypts until the
    /// clock catches up.
    pub fn snapshot(&mut self, now: UnixTime) -> Snapshot {
        self.advance_to(now);
        let mut keys = Vec::with_capacity(3);
        if let (Some(key), Some(epoch)) = (&self.previous, self.epoch.checked_sub(1)) {
            keys.push(RingKey {
                key: key.clone(),
                policy: self.policy(epoch),
            });
        }
        if let Some(key) = self.secret.ticket_key() {
            keys.push(RingKey {
                key,
                policy: self.policy(self.epoch),
            });
        }
        if let Some(next) = self.epoch.checked_add(1) {
            if let Some(key) = self.secret.step().ticket_key() {
                keys.push(RingKey {
                    key,
                    policy: self.policy(next),
                });
            }
        }
        Snapshot::new(keys)
    }
}

impl fmt::Debug for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Chain")
            .field("rotate", &self.rotate)
            .field("epoch", &self.epoch)
            .field("previous", &self.previous.as_ref().map(|k| *k.name()))
            .finish_non_exhaustive()
    }
}

/// The contents of a seed file: the interval, an epoch and that epoch's chain secret.
/// The secret is wiped when dropped (every copy) and never shown by `Debug`.
#[derive(Clone)]
pub struct Seed {
    rotate: NonZeroU64,
    epoch: u64,
    secret: Secret,
}

impl Seed {
    /// A seed from its parts; refuses a secret of one repeated byte, and an epoch whose start
    /// does not fit in 64-bit Unix time.
    pub fn new(rotate: NonZeroU64, epoch: u64, secret: &[u8; SECRET_LEN]) -> Result<Seed, SeedError> {
        let at = Location::new("<memory>");
        if epoch.checked_mul(rotate.get()).is_none() {
            return Err(SeedError::TooLate { at });
        }
        if is_repeated_byte(secret) {
            return Err(SeedError::WeakSecret { at });
        }
        Ok(Seed {
            rotate,
            epoch,
            secret: Secret(*secret),
        })
    }

    /// A fresh seed with a random secret, at the epoch holding `now`.
    pub fn generate(rotate: NonZeroU64, now: UnixTime) -> Result<Seed, getrandom::Error> {
        Ok(Seed {
            rotate,
            epoch: epoch_of(now, rotate),
            secret: Secret::random()?,
        })
    }

    /// Reads and parses the seed file at `path`.
    pub fn load(path: &Path) -> Result<Seed, SeedError> {
        let data = super::format::read_secret_file(path).map_err(|source| SeedError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let origin = path.display().to_string();
        let text = std::str::from_utf8(&data).map_err(|_| SeedError::NotText {
            at: Location::new(origin.clone()),
        })?;
        Seed::parse(text, &origin)
    }

    /// Parses a seed file's text; `origin` names it in errors (`origin:line: problem`).
    /// Errors never quote the secret.
    pub fn parse(text: &str, origin: &str) -> Result<Seed, SeedError> {
        let file = Location::new(origin);
        let mut rotate: Option<(NonZeroU64, Location)> = None;
        let mut epoch: Option<(u64, Location)> = None;
        let mut secret: Option<Secret> = None;
        for (index, line) in text.lines().enumerate() {
            let at = file.at_line(index + 1);
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                return Err(SeedError::BadLine { at });
            };
            let (key, value) = (key.trim(), value.trim());
            let (name, taken) = match key {
                "rotate" => ("rotate", rotate.is_some()),
                "epoch" => ("epoch", epoch.is_some()),
                "secret" => ("secret", secret.is_some()),
                _ => {
                    return Err(SeedError::UnknownKey {
                        at,
                        key: showable_key(key),
                    });
                }
            };
            if taken {
                return Err(SeedError::Duplicate { at, key: name });
            }
            match name {
                "rotate" => {
                    let n = parse_digits(value).and_then(NonZeroU64::new);
                    rotate = Some((n.ok_or_else(|| SeedError::BadRotate { at: at.clone() })?, at));
                }
                "epoch" => {
                    let n = parse_digits(value).ok_or_else(|| SeedError::BadEpoch { at: at.clone() })?;
                    epoch = Some((n, at));
                }
                _ => secret = Some(decode_secret(value, at)?),
            }
        }
        let missing = |key| SeedError::Missing { at: file.clone(), key };
        let (rotate, _) = rotate.ok_or_else(|| missing("rotate"))?;
        let (epoch, epoch_at) = epoch.ok_or_else(|| missing("epoch"))?;
        let secret = secret.ok_or_else(|| missing("secret"))?;
        if epoch.checked_mul(rotate.get()).is_none() {
            return Err(SeedError::TooLate { at: epoch_at });
        }
        Ok(Seed { rotate, epoch, secret })
    }

    /// The rotation interval, in seconds.
    pub fn rotate_secs(&self) -> NonZeroU64 {
        self.rotate
    }

    /// The epoch whose secret the seed holds.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The seed as the text of a seed file (see the module documentation).
    pub fn to_text(&self) -> Zeroizing<String> {
        // Sized up front so the string never reallocates and leaves a copy behind.
        let mut out = Zeroizing::new(String::with_capacity(160));
        out.push_str(SEED_HEADER);
        out.push_str("\nrotate = ");
        out.push_str(&self.rotate.to_string());
        out.push_str("\nepoch = ");
        out.push_str(&self.epoch.to_string());
        out.push_str("\nsecret = ");
        base64::engine::general_purpose::STANDARD.encode_string(&self.secret.0, &mut out);
        out.push('\n');
        out
    }

    /// The same chain `by` epochs later: the result does not contain this seed's secret, so
    /// it cannot give the keys of the epochs skipped. Costs `by` HMAC computations; the epoch
    /// stops at the last one whose start fits in 64-bit Unix time.
    pub fn advanced(&self, by: u64) -> Seed {
        let last = u64::MAX / self.rotate;
        let target = self.epoch.saturating_add(by).min(last).max(self.epoch);
        let mut secret = self.secret.clone();
        for _ in self.epoch..target {
            secret = secret.step();
        }
        Seed {
            rotate: self.rotate,
            epoch: target,
            secret,
        }
    }
}

impl fmt::Debug for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Seed")
            .field("rotate", &self.rotate)
            .field("epoch", &self.epoch)
            .finish_non_exhaustive()
    }
}

/// A whole number written with ASCII digits only (no sign, no spaces).
fn parse_digits(value: &str) -> Option<u64> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

fn decode_secret(value: &str, at: Location) -> Result<Secret, SeedError> {
    let raw = Zeroizing::new(
        base64::engine::general_purpose::STANDARD
            .decode(value)
            .map_err(|_| SeedError::BadBase64 { at: at.clone() })?,
    );
    let mut secret = Secret([0; SECRET_LEN]);
    if raw.len() != SECRET_LEN {
        return Err(SeedError::SecretLength { at, found: raw.len() });
    }
    secret.0.copy_from_slice(&raw);
    if is_repeated_byte(&secret.0) {
        return Err(SeedError::WeakSecret { at });
    }
    Ok(secret)
}

/// An unknown key is quoted only if it looks like a misspelt key, never if it could be part
/// of a pasted secret.
fn showable_key(key: &str) -> Option<String> {
    let plain = !key.is_empty() && key.len() <= 16 && key.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    plain.then(|| key.to_owned())
}

fn show_key(key: &Option<String>) -> String {
    key.as_ref().map(|k| format!(" `{k}`")).unwrap_or_default()
}

/// Why a seed was refused. Messages name the place (`origin:line`) and never the secret.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The file could not be read.
    #[error("{path}: cannot read: {source}", path = .path.display())]
    Io {
        /// The seed file.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The file is not UTF-8 text.
    #[error("{at}: not a seed file: not UTF-8 text")]
    NotText {
        /// The file.
        at: Location,
    },
    /// A line that is neither `key = value`, a comment nor blank.
    #[error("{at}: expected `key = value`, a `#` comment or a blank line")]
    BadLine {
        /// Where.
        at: Location,
    },
    /// A key other than `rotate`, `epoch` and `secret`.
    #[error("{at}: unknown key{}; a seed file has only `rotate`, `epoch` and `secret`", show_key(.key))]
    UnknownKey {
        /// Where.
        at: Location,
        /// The key, if it is safe to show (a short lowercase word).
        key: Option<String>,
    },
    /// A key given twice.
    #[error("{at}: `{key}` is given twice")]
    Duplicate {
        /// Where the second one is.
        at: Location,
        /// Which key.
        key: &'static str,
    },
    /// A required key is absent.
    #[error("{at}: `{key}` is missing; a seed file needs `rotate`, `epoch` and `secret`")]
    Missing {
        /// The file.
        at: Location,
        /// Which key.
        key: &'static str,
    },
    /// `rotate` is not a whole number of seconds greater than 0.
    #[error("{at}: `rotate` must be a whole number of seconds greater than 0")]
    BadRotate {
        /// Where.
        at: Location,
    },
    /// `epoch` is not a whole number.
    #[error("{at}: `epoch` must be a whole number")]
    BadEpoch {
        /// Where.
        at: Location,
    },
    /// `epoch · rotate` does not fit in 64-bit Unix time.
    #[error("{at}: `epoch` times `rotate` is past the end of 64-bit Unix time")]
    TooLate {
        /// Where the epoch is.
        at: Location,
    },
    /// `secret` is not standard base64.
    #[error("{at}: `secret` is not valid base64")]
    BadBase64 {
        /// Where.
        at: Location,
    },
    /// `secret` is not 32 bytes.
    #[error("{at}: `secret` must be 32 bytes, found {found}")]
    SecretLength {
        /// Where.
        at: Location,
        /// How many bytes it decodes to.
        found: usize,
    },
    /// `secret` is one byte repeated.
    #[error("{at}: `secret` is a single repeated byte (all zero?); generate seeds from a random source")]
    WeakSecret {
        /// Where.
        at: Location,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ticket::error::TicketError;
    use crate::ticket::key::KeyName;

    const I: u64 = 3600;

    fn rotate(secs: u64) -> NonZeroU64 {
        NonZeroU64::new(secs).unwrap()
    }

    fn counting() -> [u8; 32] {
        std::array::from_fn(|i| i as u8)
    }

    fn seed(epoch: u64) -> Seed {
        Seed::new(rotate(I), epoch, &counting()).unwrap()
    }

    /// Name, HMAC key, AES key and policy of every key in the ring.
    fn ring(snap: &Snapshot) -> Vec<(KeyName, Vec<u8>, Vec<u8>, KeyPolicy)> {
        snap.keys()
            .iter()
            .map(|k| {
                (
                    *k.key.name(),
                    k.key.hmac_key().to_vec(),
                    k.key.aes_key().to_vec(),
                    k.policy,
                )
            })
            .collect()
    }

    fn encrypting(snap: &Snapshot, now: UnixTime) -> KeyName {
        *snap.encrypting(now).unwrap().key.name()
    }

    fn key_of(epoch: u64) -> TicketKey {
        let mut secret = Secret(counting());
        for _ in 5..epoch {
            secret = secret.step();
        }
        secret.ticket_key().unwrap()
    }

    // Cross-checked with Python's hmac/hashlib:
    // python3 -c 'import hmac,hashlib;H=lambda k,m:hmac.new(k,m,hashlib.sha256).digest();L=b"tlsext-shim chain v1 ";s=bytes(range(32));print(H(s,L+b"name")[:16].hex(),H(H(s,L+b"step"),L+b"name")[:16].hex(),H(s,L+b"hmac").hex(),H(s,L+b"aes").hex())'
    #[test]
    fn test_vector() {
        let mut chain = Chain::from_seed(seed(5));
        let snap = chain.snapshot(5 * I);
        assert_eq!(snap.len(), 2, "no key of epoch 4 right after from_seed");
        assert_eq!(encrypting(&snap, 5 * I).to_hex(), "b8fb2691f304f5a008779e3f67259b46");
        let five = &snap.keys()[0].key;
        assert_eq!(
            crate::ticket::key::hex(five.hmac_key()),
            "0096c75b04fc2ba98f6ba53e0154d00ad1209f5d16e28c4bf95f6d681dcf4e9a"
        );
        assert_eq!(
            crate::ticket::key::hex(five.aes_key()),
            "80deba1b381c345e146649cc2ed29d32ed48af7ff39058a3c4d05a7e707a4403"
        );
        assert_eq!(five.size(), crate::ticket::KeySize::Aes256);
        assert_eq!(snap.keys()[1].key.name().to_hex(), "b403aa3b196bbb3906175055ecb537ca");
        let snap = chain.snapshot(6 * I);
        assert_eq!(encrypting(&snap, 6 * I).to_hex(), "b403aa3b196bbb3906175055ecb537ca");
        assert_eq!(snap.keys()[0].key.name().to_hex(), "b8fb2691f304f5a008779e3f67259b46");
        assert_eq!(snap.keys()[2].key.name().to_hex(), "ef318603229c774ca3a056157092cce9");
    }

    #[test]
    fn chains_from_one_seed_agree_stepping_or_jumping() {
        let mut stepper = Chain::from_seed(seed(5));
        let mut jumper = Chain::from_seed(seed(5));
        for t in (6 * I..40 * I).step_by(1800).chain([40 * I - 1, 40 * I, 40 * I + 1]) {
            let stepped = stepper.snapshot(t);
            assert_eq!(stepped.len(), 3, "at {t}");
            assert_eq!(stepper.held_epoch(), t / I);
            // A fresh chain jumping straight from the seed's epoch, and one jumping in
            // irregular strides, agree with the one that went through every epoch.
            let fresh = Chain::from_seed(seed(5)).snapshot(t);
            assert_eq!(ring(&fresh), ring(&stepped), "at {t}");
            if t % (7 * 1800) == 0 {
                assert_eq!(ring(&jumper.snapshot(t)), ring(&stepped), "at {t}");
            }
            let names: Vec<_> = stepped.keys().iter().map(|k| *k.key.name()).collect();
            let epoch = t / I;
            let expected: Vec<_> = (epoch - 1..=epoch + 1).map(|e| *key_of(e).name()).collect();
            assert_eq!(names, expected, "at {t}");
        }
    }

    #[test]
    fn an_advanced_seed_agrees_from_its_epoch_on() {
        let original = seed(5);
        let advanced = original.advanced(1);
        assert_eq!((advanced.epoch(), advanced.rotate_secs()), (6, rotate(I)));
        assert_ne!(*advanced.to_text(), *original.to_text());
        assert_eq!(*original.advanced(0).to_text(), *original.to_text());
        assert_eq!(*original.advanced(3).to_text(), *advanced.advanced(2).to_text());

        let mut old = Chain::from_seed(seed(5));
        let mut new = Chain::from_seed(advanced);
        let first = new.snapshot(6 * I);
        let first_old = old.snapshot(6 * I);
        assert_eq!(
            ring(&first),
            ring(&first_old)[1..],
            "no key of epoch 5 in the advanced seed"
        );
        for t in (6 * I + 1..20 * I).step_by(977) {
            let (got, want) = (ring(&new.snapshot(t)), ring(&old.snapshot(t)));
            let skip = usize::from(t < 7 * I);
            assert_eq!(got, want[skip..], "at {t}");
        }
        // Advancing saturates at the last epoch that fits in Unix time.
        let far = Seed::new(rotate(u64::MAX / 2), 1, &counting())
            .unwrap()
            .advanced(u64::MAX);
        assert_eq!(far.epoch(), 2);
    }

    #[test]
    fn windows_at_epoch_boundaries() {
        let k = 10;
        for t in [k * I - 1, k * I, k * I + 1] {
            let mut chain = Chain::from_seed(seed(5));
            let snap = chain.snapshot(t);
            let e = t / I;
            let policies: Vec<_> = snap.keys().iter().map(|k| k.policy).collect();
            let window = |from, until| Window { from, until };
            let expected: Vec<_> = (e - 1..=e + 1)
                .map(|n| KeyPolicy {
                    encrypt: Some(window(n * I, (n + 1) * I)),
                    decrypt: window((n - 1) * I, (n + 2) * I),
                })
                .collect();
            assert_eq!(policies, expected, "at {t}");
            assert_eq!(encrypting(&snap, t), *key_of(e).name(), "at {t}");
            assert_eq!(chain.epoch(t), e);
            assert_eq!(chain.next_rotation(t), (e + 1) * I);
        }
        let chain = Chain::from_seed(seed(5));
        assert_eq!(chain.next_rotation(k * I - 1), k * I);
        assert_eq!(chain.next_rotation(k * I), (k + 1) * I);
        assert_eq!(chain.policy(0).decrypt, Window { from: 0, until: 2 * I });
        let end = chain.policy(u64::MAX);
        assert_eq!(end.decrypt.until, u64::MAX);
        assert_eq!(end.encrypt.unwrap().from, u64::MAX);
    }

    #[test]
    fn the_encrypting_key_changes_exactly_at_the_boundary() {
        let k = 12;
        let mut chain = Chain::from_seed(seed(5));
        let before = chain.snapshot(k * I - 1);
        assert_eq!(encrypting(&before, k * I - 1), *key_of(k - 1).name());
        // The same snapshot, used past the boundary, already hands over to the staged key.
        assert_eq!(encrypting(&before, k * I), *key_of(k).name());
        let at = chain.snapshot(k * I);
        assert_eq!(encrypting(&at, k * I), *key_of(k).name());
        assert_eq!(encrypting(&at, (k + 1) * I - 1), *key_of(k).name());
        assert_eq!(encrypting(&at, (k + 1) * I), *key_of(k + 1).name());
        assert!(at.encrypting((k + 2) * I).is_none());
    }

    #[test]
    fn the_previous_key_decrypts_for_one_more_epoch() {
        let e = 20;
        let prev = *key_of(e - 1).name();
        let mut chain = Chain::from_seed(seed(5));
        let snap = chain.snapshot(e * I + 5);
        let found = snap.find(&prev.0, e * I + 5).unwrap();
        assert!(found.renew);
        assert_eq!(found.decrypt_left, Some(I - 5));
        assert!(snap.find(&prev.0, (e + 1) * I - 1).is_ok());
        assert_eq!(snap.find(&prev.0, (e + 1) * I).err(), Some(TicketError::ExpiredKey));
        let next = chain.snapshot((e + 1) * I);
        assert_eq!(next.find(&prev.0, (e + 1) * I).err(), Some(TicketError::UnknownKey));
        // The staged key already decrypts, and asks for renewal.
        let staged = *key_of(e + 2).name();
        assert!(next.find(&staged.0, (e + 1) * I).unwrap().renew);
    }

    #[test]
    fn random_chains_and_clocks_that_step_back() {
        let mut a = Chain::new_random(rotate(60), 6000).unwrap();
        let mut b = Chain::new_random(rotate(60), 6000).unwrap();
        assert_eq!(a.held_epoch(), 100);
        let (sa, sb) = (a.snapshot(6000), b.snapshot(6000));
        assert_eq!(sa.len(), 2, "no previous key after new_random");
        assert_ne!(encrypting(&sa, 6000), encrypting(&sb, 6000));
        assert_eq!(a.advance_to(6059), 0);
        assert_eq!(a.advance_to(6060), 1);
        assert_eq!(a.snapshot(6060).len(), 3);
        assert_eq!(a.advance_to(6000), 0, "never backward");
        assert_eq!(a.held_epoch(), 101);
        // Stepped back into the previous epoch: the previous key still encrypts.
        let back = a.snapshot(6030);
        assert_eq!(a.held_epoch(), 101);
        assert_eq!(encrypting(&back, 6030), encrypting(&sa, 6000));
        assert!(back.encrypting(5999).is_none());
        assert_eq!(a.advance_to(6000 + 60 * 10), 9);
        assert_eq!(a.snapshot(6600).len(), 3, "a jump keeps the previous key");
    }

    #[test]
    fn seed_text_round_trips() {
        let s = seed(40913);
        let text = s.to_text();
        let b64 = base64::engine::general_purpose::STANDARD.encode(counting());
        assert_eq!(
            *text,
            format!("# tlsext-shim seed v1\nrotate = 3600\nepoch = 40913\nsecret = {b64}\n")
        );
        let back = Seed::parse(&text, "s").unwrap();
        assert_eq!(*back.to_text(), *text);
        let loose = format!("\r\n  # hi\r\n\tsecret={b64}  \r\nepoch=40913\r\n\r\nrotate   =   3600\r\n");
        assert_eq!(*Seed::parse(&loose, "s").unwrap().to_text(), *text);
        let dir = std::env::temp_dir().join(format!("tlsext-shim-chain-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("seed");
        std::fs::write(&path, text.as_bytes()).unwrap();
        assert_eq!(*Seed::load(&path).unwrap().to_text(), *text);
        std::fs::write(&path, b"\xff\xfe").unwrap();
        let err = Seed::load(&path).unwrap_err().to_string();
        assert_eq!(err, format!("{}: not a seed file: not UTF-8 text", path.display()));
        std::fs::remove_file(&path).unwrap();
        let err = Seed::load(&path).unwrap_err().to_string();
        assert!(err.starts_with(&format!("{}: cannot read: ", path.display())), "{err}");
        let _ = std::fs::remove_dir(&dir);
    }

    #[test]
    fn seed_parse_errors() {
        let b64 = base64::engine::general_purpose::STANDARD.encode(counting());
        let good = format!("rotate = 60\nepoch = 7\nsecret = {b64}\n");
        assert!(Seed::parse(&good, "s").is_ok());
        let err = |text: &str| Seed::parse(text, "/etc/seed").unwrap_err().to_string();
        let with = |line: &str| err(&format!("# c\n{line}\n{good}"));
        let cases: &[(String, &str)] = &[
            (
                with("rotate 60"),
                "/etc/seed:2: expected `key = value`, a `#` comment or a blank line",
            ),
            (
                with("rotation = 60"),
                "/etc/seed:2: unknown key `rotation`; a seed file has only `rotate`, `epoch` and `secret`",
            ),
            (
                with("Rotate = 60"),
                "/etc/seed:2: unknown key; a seed file has only `rotate`, `epoch` and `secret`",
            ),
            (
                with(&b64),
                "/etc/seed:2: unknown key; a seed file has only `rotate`, `epoch` and `secret`",
            ),
            (with("epoch = 7"), "/etc/seed:4: `epoch` is given twice"),
            (
                err("rotate = 60\nepoch = 7\n"),
                "/etc/seed: `secret` is missing; a seed file needs `rotate`, `epoch` and `secret`",
            ),
            (
                err(&format!("epoch = 7\nsecret = {b64}")),
                "/etc/seed: `rotate` is missing; a seed file needs `rotate`, `epoch` and `secret`",
            ),
            (
                err(""),
                "/etc/seed: `rotate` is missing; a seed file needs `rotate`, `epoch` and `secret`",
            ),
            (
                err(&format!("rotate = 1\nsecret = {b64}")),
                "/etc/seed: `epoch` is missing; a seed file needs `rotate`, `epoch` and `secret`",
            ),
            (
                err(&format!("rotate = 0\nepoch = 7\nsecret = {b64}")),
                "/etc/seed:1: `rotate` must be a whole number of seconds greater than 0",
            ),
            (
                err("rotate = 12h"),
                "/etc/seed:1: `rotate` must be a whole number of seconds greater than 0",
            ),
            (
                err("rotate = +5"),
                "/etc/seed:1: `rotate` must be a whole number of seconds greater than 0",
            ),
            (
                err("rotate ="),
                "/etc/seed:1: `rotate` must be a whole number of seconds greater than 0",
            ),
            (
                err("rotate = 99999999999999999999"),
                "/etc/seed:1: `rotate` must be a whole number of seconds greater than 0",
            ),
            (err("epoch = -1"), "/etc/seed:1: `epoch` must be a whole number"),
            (
                err(&format!("rotate = 4294967296\nepoch = 4294967296\nsecret = {b64}")),
                "/etc/seed:2: `epoch` times `rotate` is past the end of 64-bit Unix time",
            ),
            (err("secret = not base64!"), "/etc/seed:1: `secret` is not valid base64"),
            (err("secret = AAECAw"), "/etc/seed:1: `secret` is not valid base64"),
            (
                err("secret = AAECAw=="),
                "/etc/seed:1: `secret` must be 32 bytes, found 4",
            ),
            (
                err(&format!(
                    "secret = {}",
                    base64::engine::general_purpose::STANDARD.encode([0u8; 32])
                )),
                "/etc/seed:1: `secret` is a single repeated byte (all zero?); generate seeds from a random source",
            ),
        ];
        for (got, want) in cases {
            assert_eq!(got, want);
            assert!(!got.contains(&b64[..20]), "{got}");
        }
        assert!(matches!(
            Seed::new(rotate(2), u64::MAX, &counting()),
            Err(SeedError::TooLate { .. })
        ));
        assert!(matches!(
            Seed::new(rotate(2), 1, &[7; 32]),
            Err(SeedError::WeakSecret { .. })
        ));
    }

    #[test]
    fn generated_seeds_start_now_and_differ() {
        let a = Seed::generate(rotate(43200), 1_767_225_600).unwrap();
        let b = Seed::generate(rotate(43200), 1_767_225_600).unwrap();
        assert_eq!(a.epoch(), 1_767_225_600 / 43200);
        assert_eq!(a.rotate_secs(), rotate(43200));
        assert_ne!(*a.to_text(), *b.to_text());
        let back = Seed::parse(&a.to_text(), "a").unwrap();
        let t = 1_767_225_600 + 100;
        assert_eq!(
            ring(&Chain::from_seed(back).snapshot(t)),
            ring(&Chain::from_seed(a).snapshot(t))
        );
    }

    #[test]
    fn debug_never_shows_secrets() {
        let s = seed(5);
        let shown = format!("{s:?} {:?}", Chain::from_seed(seed(5)));
        assert_eq!(
            shown,
            "Seed { rotate: 3600, epoch: 5, .. } Chain { rotate: 3600, epoch: 5, previous: None, .. }"
        );
        let mut chain = Chain::from_seed(s);
        chain.advance_to(6 * I);
        let shown = format!("{chain:?}");
        assert!(shown.contains("KeyName(b8fb2691f304f5a008779e3f67259b46)"), "{shown}");
        assert_eq!(format!("{:?}", Secret(counting())), "Secret(..)");
    }

    #[test]
    fn repeated_derived_parts_are_fixed_deterministically() {
        let mut part = [0xAAu8; 16];
        unrepeat(&mut part);
        assert_eq!(part[15], 0xAB);
        assert!(!is_repeated_byte(&part));
        let mut fine: [u8; 4] = [1, 2, 3, 4];
        unrepeat(&mut fine);
        assert_eq!(fine, [1, 2, 3, 4]);
        let mut empty: [u8; 0] = [];
        unrepeat(&mut empty);
    }
}
