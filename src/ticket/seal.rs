//! Sealing and opening tickets in OpenSSL's format:
//! `key_name(16) | IV(16) | AES-CBC-PKCS#7(plaintext) | HMAC-SHA256(32)`, the MAC over
//! everything before it. AES-256 for 80-byte keys, AES-128 for 48-byte keys.
//!
//! # Cost per ticket
//!
//! - **IVs** come from [`fresh_iv`]: a per-thread AES-256-CTR generator seeded from `getrandom`,
//!   so a ticket costs one AES block instead of a system call. It is fork-aware: it reseeds
//!   when the process id changes, or, once [`forks_are_watched`] has been called (the
//!   `openssl` module registers a `pthread_atfork` handler that calls [`note_fork`] in every
//!   child), when the fork epoch changes, which costs no system call at all.
//! - **Keys** are prepared once per thread: each thread keeps the last two keys it used with
//!   their HMAC pads already hashed and their AES round keys expanded. A prepared key is found
//!   by comparing all of the key's bytes (name and both secrets) in constant time, so a key
//!   replaced by another with the same name is never mistaken for it. The copies are dropped
//!   when the thread uses other keys or exits.
//! - Sealing feeds the MAC each 64 bytes of ciphertext as soon as they are encrypted, and
//!   opening decrypts alongside the MAC (keeping the result only if the MAC checks), so the
//!   SHA-256 and AES units work side by side.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use aes::cipher::block_padding::NoPadding;
use aes::cipher::generic_array::GenericArray;
use aes::cipher::{BlockDecrypt, BlockEncrypt, KeyInit};
use aes::{Aes128Dec, Aes128Enc, Aes256Dec, Aes256Enc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::error::TicketError;
use super::key::{KeyName, KeySize, NAME_LEN, TicketKey, same_secret};
use super::ring::{Snapshot, UnixTime};

/// Length of the IV.
pub const IV_LEN: usize = 16;
/// Length of the MAC.
pub const MAC_LEN: usize = 32;
/// OpenSSL refuses sessions whose DER is longer than this.
pub const MAX_PLAINTEXT: usize = 0xFF00;
const BLOCK: usize = 16;
/// The shortest ticket: name, IV, one block, MAC.
pub const MIN_TICKET: usize = NAME_LEN + IV_LEN + BLOCK + MAC_LEN;
/// SHA-256's block: the MAC is fed in pieces of this size while sealing.
const SHA_BLOCK: usize = 64;

/// Length of the ticket that sealing `plaintext_len` bytes produces.
pub const fn sealed_len(plaintext_len: usize) -> usize {
    NAME_LEN + IV_LEN + (plaintext_len / BLOCK + 1) * BLOCK + MAC_LEN
}

/// An opened ticket. `Debug` shows the plaintext's length only: for OpenSSL it holds the
/// session's master secret.
pub struct Opened {
    /// The sealed bytes (for OpenSSL, a DER `SSL_SESSION`).
    pub plaintext: Zeroizing<Vec<u8>>,
    /// The key that opened it.
    pub key_name: KeyName,
    /// Whether the opening key no longer encrypts, so the ticket should be re-issued.
    pub renew: bool,
    /// Seconds the opening key may still decrypt, if limited.
    pub decrypt_left: Option<u64>,
}

impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opened")
            .field("plaintext_len", &self.plaintext.len())
            .field("key_name", &self.key_name)
            .field("renew", &self.renew)
            .field("decrypt_left", &self.decrypt_left)
            .finish()
    }
}

type HmacSha256 = Hmac<Sha256>;

// ---------------------------------------------------------------------------------------------
// IVs
// ---------------------------------------------------------------------------------------------

/// Bumped in every child process by [`note_fork`].
static FORK_EPOCH: AtomicU64 = AtomicU64::new(0);
/// Whether [`note_fork`] is known to run in every child (see [`forks_are_watched`]).
static FORKS_WATCHED: AtomicBool = AtomicBool::new(false);
/// IVs a generator hands out before it reseeds from `getrandom`.
const RESEED_AFTER: u32 = 1 << 20;

/// Tells the IV generators that this process is a fresh child of `fork()`: every thread's
/// generator reseeds from `getrandom` before its next IV, so parent and child never share an IV
/// sequence. Meant for a `pthread_atfork` child handler (it only bumps an atomic counter).
pub fn note_fork() {
    FORK_EPOCH.fetch_add(1, Ordering::AcqRel);
}

/// Declares that [`note_fork`] runs in every child from now on (a `pthread_atfork` handler is
/// registered), so the generators compare a counter instead of asking the kernel for the
/// process id before each IV. Until then they check the process id every time.
pub fn forks_are_watched() {
    FORKS_WATCHED.store(true, Ordering::Release);
}

/// What a generator was seeded under; a different value means "reseed first".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stamp {
    Epoch(u64),
    Pid(u32),
}

fn current_stamp() -> Stamp {
    if FORKS_WATCHED.load(Ordering::Acquire) {
        Stamp::Epoch(FORK_EPOCH.load(Ordering::Acquire))
    } else {
        Stamp::Pid(std::process::id())
    }
}

/// AES-256 in counter mode under a random key from a random start: outputs never repeat within
/// a seed and cannot be predicted without the key. IVs are public (they travel in the ticket);
/// what matters is that they are unpredictable and unique.
struct IvGen {
    aes: Aes256Enc,
    counter: u128,
    stamp: Stamp,
    left: u32,
}

impl IvGen {
    fn seeded(stamp: Stamp) -> Result<Self, TicketError> {
        let mut seed = Zeroizing::new([0u8; 48]);
        getrandom::fill(&mut seed[..]).map_err(|_| TicketError::Random)?;
        let (key, start) = seed.split_at(32);
        let aes = Aes256Enc::new_from_slice(key).map_err(|_| TicketError::Random)?;
        let mut counter = [0u8; 16];
        counter.copy_from_slice(start);
        Ok(IvGen {
            aes,
            counter: u128::from_ne_bytes(counter),
            stamp,
            left: RESEED_AFTER,
        })
    }

    /// The next IV, reseeding first when the stamp moved or the budget is spent.
    fn next(&mut self, stamp: Stamp) -> Result<[u8; IV_LEN], TicketError> {
        if self.stamp != stamp || self.left == 0 {
            *self = IvGen::seeded(stamp)?;
        }
        self.left -= 1;
        let mut block = GenericArray::from(self.counter.to_be_bytes());
        self.counter = self.counter.wrapping_add(1);
        self.aes.encrypt_block(&mut block);
        Ok(block.into())
    }
}

thread_local! {
    static IV_GEN: RefCell<Option<IvGen>> = const { RefCell::new(None) };
}

/// A fresh, unpredictable IV (see the module docs). Fails only when `getrandom` does.
pub fn fresh_iv() -> Result<[u8; IV_LEN], TicketError> {
    let stamp = current_stamp();
    let from_thread = IV_GEN.try_with(|cell| {
        let mut slot = cell.try_borrow_mut().ok()?;
        Some(match slot.as_mut() {
            Some(g) => g.next(stamp),
            None => IvGen::seeded(stamp).and_then(|mut g| {
                let iv = g.next(stamp);
                *slot = Some(g);
                iv
            }),
        })
    });
    match from_thread {
        Ok(Some(iv)) => iv,
        // The thread is exiting (its generator is gone): ask the kernel directly.
        _ => {
            let mut iv = [0u8; IV_LEN];
            getrandom::fill(&mut iv).map_err(|_| TicketError::Random)?;
            Ok(iv)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Prepared keys
// ---------------------------------------------------------------------------------------------

// Both variants are large (expanded round keys); `Prepared` values live boxed in the cache.
#[allow(clippy::large_enum_variant)]
enum Rounds {
    Aes128(Aes128Enc, Aes128Dec),
    Aes256(Aes256Enc, Aes256Dec),
}

/// A key with its HMAC pads hashed and its AES round keys expanded, and a copy of the key to
/// recognise it by.
struct Prepared {
    key: TicketKey,
    mac: HmacSha256,
    rounds: Rounds,
}

impl Prepared {
    fn new(key: &TicketKey) -> Option<Self> {
        let rounds = match key.size() {
            KeySize::Aes128 => Rounds::Aes128(
                Aes128Enc::new_from_slice(key.aes_key()).ok()?,
                Aes128Dec::new_from_slice(key.aes_key()).ok()?,
            ),
            KeySize::Aes256 => Rounds::Aes256(
                Aes256Enc::new_from_slice(key.aes_key()).ok()?,
                Aes256Dec::new_from_slice(key.aes_key()).ok()?,
            ),
        };
        Some(Prepared {
            key: key.clone(),
            mac: <HmacSha256 as Mac>::new_from_slice(key.hmac_key()).ok()?,
            rounds,
        })
    }

    /// Whether this is `key`: same size, name and secrets (compared in constant time).
    fn is(&self, key: &TicketKey) -> bool {
        self.key.ct_eq(key).into()
    }
}

thread_local! {
    /// The last two keys this thread used, most recent first.
    static PREPARED: RefCell<[Option<Box<Prepared>>; 2]> = const { RefCell::new([None, None]) };
}

/// Runs `f` with `key` prepared, from this thread's cache when it holds the key. `None` only if
/// the key's parts have impossible lengths (keys are validated when they are made).
fn with_prepared<R>(key: &TicketKey, f: impl FnOnce(&Prepared) -> R) -> Option<R> {
    let mut f = Some(f);
    let cached = PREPARED.try_with(|cell| {
        let mut slots = cell.try_borrow_mut().ok()?;
        if !slots[0].as_ref().is_some_and(|p| p.is(key)) {
            if !slots[1].as_ref().is_some_and(|p| p.is(key)) {
                slots[1] = Some(Box::new(Prepared::new(key)?));
            }
            slots.swap(0, 1);
        }
        let f = f.take()?;
        slots[0].as_deref().map(f)
    });
    match (cached, f) {
        (Ok(Some(r)), _) => Some(r),
        // No cache (thread exiting, or a failed preparation): prepare for this call only.
        (_, Some(f)) => Prepared::new(key).map(|p| f(&p)),
        (_, None) => None,
    }
}

/// CBC-encrypts `out[NAME_LEN + IV_LEN..ct_end]` in place (already padded; the IV is at
/// `out[NAME_LEN..NAME_LEN + IV_LEN]`) with the borrowed round keys, and feeds `mac` with
/// `out[..ct_end]` one SHA-256 block at a time as the ciphertext appears.
fn encrypt_and_mac<C: BlockEncrypt>(cipher: &C, out: &mut [u8], ct_end: usize, mac: &mut HmacSha256) {
    let mut fed = 0;
    let mut at = NAME_LEN + IV_LEN;
    while at < ct_end {
        let end = ((at / SHA_BLOCK + 1) * SHA_BLOCK).min(ct_end);
        while at < end {
            // Chain: this block ^= the previous ciphertext block (the IV for the first).
            let (prev, rest) = out[at - BLOCK..].split_at_mut(BLOCK);
            let block = &mut rest[..BLOCK];
            for (b, p) in block.iter_mut().zip(prev.iter()) {
                *b ^= p;
            }
            cipher.encrypt_block(GenericArray::from_mut_slice(block));
            at += BLOCK;
        }
        mac.update(&out[fed..end]);
        fed = end;
    }
}

/// Feeds `mac` with `signed` (`name | IV | ciphertext`) and, alongside, CBC-decrypts the
/// ciphertext into `buf` (which the caller discards unless the MAC checks): the two are
/// independent, so the AES and SHA-256 units overlap. Each piece is decrypted block-parallel
/// with the borrowed round keys, then chained (XOR with the previous ciphertext block, or the
/// IV). The padding is not looked at here.
fn mac_and_decrypt<C: BlockDecrypt>(cipher: &C, signed: &[u8], mac: &mut HmacSha256, buf: &mut Vec<u8>) {
    let start = NAME_LEN + IV_LEN;
    buf.resize(signed.len() - start, 0);
    let mut fed = 0;
    while fed < signed.len() {
        let end = (fed + SHA_BLOCK).min(signed.len());
        mac.update(&signed[fed..end]);
        let from = fed.max(start);
        if from < end {
            let out = &mut buf[from - start..end - start];
            // ECB over whole blocks cannot fail (the ticket's length was checked).
            if cipher.decrypt_padded_b2b::<NoPadding>(&signed[from..end], out).is_ok() {
                for (o, p) in out.iter_mut().zip(&signed[from - BLOCK..end - BLOCK]) {
                    *o ^= p;
                }
            }
        }
        fed = end;
    }
}

/// The length of `buf` without its PKCS#7 padding (1 to 16 bytes, each holding the count).
fn unpadded_len(buf: &[u8]) -> Result<usize, TicketError> {
    let pad = usize::from(*buf.last().ok_or(TicketError::BadPadding)?);
    let keep = buf.len().checked_sub(pad).ok_or(TicketError::BadPadding)?;
    if pad == 0 || pad > BLOCK || !buf[keep..].iter().all(|&b| usize::from(b) == pad) {
        return Err(TicketError::BadPadding);
    }
    Ok(keep)
}

// ---------------------------------------------------------------------------------------------
// Seal and open
// ---------------------------------------------------------------------------------------------

/// Seals `plaintext` under the key that encrypts at `now`, with a fresh random IV.
pub fn seal(snapshot: &Snapshot, plaintext: &[u8], now: UnixTime) -> Result<Vec<u8>, TicketError> {
    let key = &snapshot.encrypting(now).ok_or(TicketError::NoEncryptingKey)?.key;
    let iv = fresh_iv()?;
    seal_with(key, &iv, plaintext)
}

/// Seals `plaintext` under `key` with the given IV (which must never repeat for a key).
pub fn seal_with(key: &TicketKey, iv: &[u8; IV_LEN], plaintext: &[u8]) -> Result<Vec<u8>, TicketError> {
    if plaintext.len() > MAX_PLAINTEXT {
        return Err(TicketError::TooLarge);
    }
    let total = sealed_len(plaintext.len());
    let ct_end = total - MAC_LEN;
    let mut out = vec![0u8; total];
    let (head, body) = out.split_at_mut(NAME_LEN + IV_LEN);
    head[..NAME_LEN].copy_from_slice(&key.name().0);
    head[NAME_LEN..].copy_from_slice(iv);
    let (pt, pad) = body[..ct_end - NAME_LEN - IV_LEN].split_at_mut(plaintext.len());
    pt.copy_from_slice(plaintext);
    // PKCS#7: 1 to 16 bytes, each holding the count.
    pad.fill(pad.len() as u8);
    let tag = with_prepared(key, |p| {
        let mut mac = p.mac.clone();
        match &p.rounds {
            Rounds::Aes128(enc, _) => encrypt_and_mac(enc, &mut out, ct_end, &mut mac),
            Rounds::Aes256(enc, _) => encrypt_and_mac(enc, &mut out, ct_end, &mut mac),
        }
        mac.finalize().into_bytes()
    })
    .ok_or(TicketError::NoEncryptingKey)?;
    out[ct_end..].copy_from_slice(&tag);
    Ok(out)
}

/// Opens a ticket with whichever key of `snapshot` it names, if that key may decrypt at
/// `now`. The MAC is checked in constant time before any decrypted byte is looked at (the
/// decryption runs alongside the MAC, into a buffer that is wiped if the MAC fails).
pub fn open(snapshot: &Snapshot, ticket: &[u8], now: UnixTime) -> Result<Opened, TicketError> {
    if ticket.len() < MIN_TICKET || (ticket.len() - NAME_LEN - IV_LEN - MAC_LEN) % BLOCK != 0 {
        return Err(TicketError::Malformed);
    }
    let (signed, tag) = ticket.split_at(ticket.len() - MAC_LEN);
    let (name, rest) = signed.split_at(NAME_LEN);
    let ct = rest.get(IV_LEN..).ok_or(TicketError::Malformed)?;
    let name: &[u8; NAME_LEN] = name.try_into().map_err(|_| TicketError::Malformed)?;
    let found = snapshot.find(name, now)?;
    let key = found.key;
    let mut buf = Zeroizing::new(Vec::with_capacity(ct.len()));
    let tag_ok = with_prepared(key, |p| {
        let mut mac = p.mac.clone();
        match &p.rounds {
            Rounds::Aes128(_, dec) => mac_and_decrypt(dec, signed, &mut mac, &mut buf),
            Rounds::Aes256(_, dec) => mac_and_decrypt(dec, signed, &mut mac, &mut buf),
        }
        bool::from(same_secret(&mac.finalize().into_bytes(), tag))
    })
    .ok_or(TicketError::Malformed)?;
    // Nothing decrypted is looked at, padding included, unless the MAC checks; on failure the
    // buffer is wiped when dropped.
    if !tag_ok {
        return Err(TicketError::BadMac);
    }
    let len = unpadded_len(&buf)?;
    buf.truncate(len);
    Ok(Opened {
        plaintext: buf,
        key_name: *key.name(),
        renew: found.renew,
        decrypt_left: found.decrypt_left,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ticket::format::ParsedKeys;
    use crate::ticket::key::KeySize;
    use crate::ticket::ring::{KeyPolicy, RingKey, Window};

    fn ring(sizes: &[KeySize]) -> Snapshot {
        let keys = sizes.iter().map(|&s| TicketKey::generate(s).unwrap()).collect();
        Snapshot::from_parsed(ParsedKeys {
            keys,
            encrypt: sizes.len() - 1,
        })
    }

    #[test]
    fn round_trips_at_every_length_and_size() {
        for size in [KeySize::Aes128, KeySize::Aes256] {
            let snap = ring(&[size]);
            for len in [0usize, 1, 15, 16, 17, 200, 1000] {
                let pt: Vec<u8> = (0..len).map(|i| i as u8).collect();
                let t = seal(&snap, &pt, 0).unwrap();
                assert_eq!(t.len(), sealed_len(len));
                let o = open(&snap, &t, 0).unwrap();
                assert_eq!(&*o.plaintext, &pt);
                assert_eq!(&o.key_name, snap.keys()[0].key.name());
                assert!(!o.renew);
            }
        }
    }

    #[test]
    fn debug_never_shows_the_plaintext() {
        let snap = ring(&[KeySize::Aes128]);
        let t = seal(&snap, &[0x5A; 40], 0).unwrap();
        let shown = format!("{:?}", open(&snap, &t, 0).unwrap());
        assert!(shown.contains("plaintext_len: 40"), "{shown}");
        assert!(!shown.contains("90, 90") && !shown.contains('['), "{shown}");
    }

    #[test]
    fn ivs_are_fresh() {
        let snap = ring(&[KeySize::Aes256]);
        let a = seal(&snap, b"same", 0).unwrap();
        let b = seal(&snap, b"same", 0).unwrap();
        assert_ne!(a[16..32], b[16..32]);
        assert_ne!(a, b);
    }

    #[test]
    fn every_flipped_bit_is_refused() {
        let snap = ring(&[KeySize::Aes256]);
        let t = seal(&snap, &[0x5A; 100], 0).unwrap();
        for byte in 0..t.len() {
            for bit in 0..8 {
                let mut bad = t.clone();
                bad[byte] ^= 1 << bit;
                let err = open(&snap, &bad, 0).unwrap_err();
                let expected = if byte < NAME_LEN {
                    TicketError::UnknownKey
                } else {
                    TicketError::BadMac
                };
                assert_eq!(err, expected, "byte {byte} bit {bit}");
            }
        }
    }

    #[test]
    fn truncated_and_oversized_input_is_refused() {
        let snap = ring(&[KeySize::Aes128]);
        let t = seal(&snap, &[1; 40], 0).unwrap();
        for len in 0..t.len() {
            assert!(open(&snap, &t[..len], 0).is_err(), "prefix {len} opened");
        }
        let mut long = t.clone();
        long.push(0);
        assert_eq!(open(&snap, &long, 0).unwrap_err(), TicketError::Malformed);
        long.extend_from_slice(&[0; 15]);
        assert_eq!(open(&snap, &long, 0).unwrap_err(), TicketError::BadMac);
        assert_eq!(
            seal(&snap, &vec![0; MAX_PLAINTEXT + 1], 0).unwrap_err(),
            TicketError::TooLarge
        );
        assert!(seal(&snap, &vec![0; MAX_PLAINTEXT], 0).is_ok());
    }

    #[test]
    fn old_keys_open_and_ask_for_renewal_and_expired_keys_do_not_open() {
        let old = TicketKey::generate(KeySize::Aes256).unwrap();
        let new = TicketKey::generate(KeySize::Aes256).unwrap();
        let t = seal_with(&old, &[3; 16], b"session").unwrap();
        let snap = Snapshot::new(vec![
            RingKey {
                key: old.clone(),
                policy: KeyPolicy {
                    encrypt: None,
                    decrypt: Window { from: 0, until: 100 },
                },
            },
            RingKey {
                key: new.clone(),
                policy: KeyPolicy::ENCRYPT,
            },
        ]);
        let o = open(&snap, &t, 10).unwrap();
        assert!(o.renew);
        assert_eq!(o.decrypt_left, Some(90));
        assert_eq!(open(&snap, &t, 100).unwrap_err(), TicketError::ExpiredKey);
        let t2 = seal(&snap, b"session", 10).unwrap();
        assert_eq!(&t2[..16], &new.name().0);
        assert!(!open(&snap, &t2, 10).unwrap().renew);
        assert_eq!(
            seal(&Snapshot::default(), b"x", 0).unwrap_err(),
            TicketError::NoEncryptingKey
        );
    }

    #[test]
    fn iv_generator_reseeds_when_its_stamp_moves() {
        let mut g = IvGen::seeded(Stamp::Epoch(0)).unwrap();
        let counter = g.counter;
        let a = g.next(Stamp::Epoch(0)).unwrap();
        assert_eq!(g.counter, counter.wrapping_add(1));
        // A fork (new epoch) or a new pid: a fresh key and start, never the old sequence.
        let b = g.next(Stamp::Epoch(1)).unwrap();
        assert_ne!(g.counter, counter.wrapping_add(2));
        assert_eq!(g.stamp, Stamp::Epoch(1));
        assert_ne!(a, b);
        let c = g.next(Stamp::Pid(4242)).unwrap();
        assert_eq!(g.stamp, Stamp::Pid(4242));
        assert_ne!(b, c);
        // A spent budget reseeds too.
        g.left = 0;
        g.next(Stamp::Pid(4242)).unwrap();
        assert_eq!(g.left, RESEED_AFTER - 1);
    }

    #[test]
    fn fresh_ivs_do_not_repeat_across_a_noted_fork() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..1000 {
            assert!(seen.insert(fresh_iv().unwrap()));
        }
        note_fork();
        for _ in 0..1000 {
            assert!(seen.insert(fresh_iv().unwrap()));
        }
    }

    #[test]
    fn prepared_keys_are_recognised_by_all_their_bytes() {
        // Three keys used in turn overflow the two-entry cache; a key with the same name but
        // other secrets is never taken for the cached one.
        let keys: Vec<TicketKey> = (0..3).map(|_| TicketKey::generate(KeySize::Aes256).unwrap()).collect();
        let secret: Vec<u8> = (40..72).collect();
        let twin = TicketKey::from_parts(&keys[0].name().0, &secret, &secret).unwrap();
        let small = TicketKey::generate(KeySize::Aes128).unwrap();
        for round in 0..3 {
            for k in keys.iter().chain([&twin, &small]) {
                let t = seal_with(k, &[round; 16], b"payload").unwrap();
                let snap = Snapshot::from_parsed(ParsedKeys {
                    keys: vec![k.clone()],
                    encrypt: 0,
                });
                assert_eq!(&*open(&snap, &t, 0).unwrap().plaintext, b"payload");
            }
        }
        let t = seal_with(&keys[0], &[9; 16], b"payload").unwrap();
        let snap = Snapshot::from_parsed(ParsedKeys {
            keys: vec![twin],
            encrypt: 0,
        });
        assert_eq!(open(&snap, &t, 0).unwrap_err(), TicketError::BadMac);
    }

    #[test]
    fn bad_padding_under_a_good_mac_is_refused() {
        let key = TicketKey::generate(KeySize::Aes128).unwrap();
        assert_eq!(unpadded_len(&[]).unwrap_err(), TicketError::BadPadding);
        assert_eq!(unpadded_len(&[1, 2, 0]).unwrap_err(), TicketError::BadPadding);
        assert_eq!(unpadded_len(&[3, 2, 2]).unwrap(), 1);
        assert_eq!(unpadded_len(&[2, 1, 2]).unwrap_err(), TicketError::BadPadding);
        assert_eq!(unpadded_len(&[17; 17]).unwrap_err(), TicketError::BadPadding);
        // A ticket whose plaintext block ends in a zero byte: well sealed, badly padded.
        let mut t = vec![0u8; MIN_TICKET];
        t[..NAME_LEN].copy_from_slice(&key.name().0);
        let ct_end = MIN_TICKET - MAC_LEN;
        let enc = Aes128Enc::new_from_slice(key.aes_key()).unwrap();
        let mut mac = <HmacSha256 as Mac>::new_from_slice(key.hmac_key()).unwrap();
        encrypt_and_mac(&enc, &mut t, ct_end, &mut mac);
        let tag = mac.finalize().into_bytes();
        t[ct_end..].copy_from_slice(&tag);
        let snap = Snapshot::from_parsed(ParsedKeys {
            keys: vec![key],
            encrypt: 0,
        });
        assert_eq!(open(&snap, &t, 0).unwrap_err(), TicketError::BadPadding);
    }

    #[test]
    fn same_name_different_secret_fails_the_mac() {
        let a = TicketKey::generate(KeySize::Aes256).unwrap();
        let secret: Vec<u8> = (7..39).collect();
        let b = TicketKey::from_parts(&a.name().0, &secret, &secret).unwrap();
        let t = seal_with(&a, &[1; 16], b"hello").unwrap();
        let snap = Snapshot::from_parsed(ParsedKeys {
            keys: vec![b],
            encrypt: 0,
        });
        assert_eq!(open(&snap, &t, 0).unwrap_err(), TicketError::BadMac);
    }
}
