//! Sealing and opening tickets in OpenSSL's format:
//! `key_name(16) | IV(16) | AES-CBC-PKCS#7(plaintext) | HMAC-SHA256(32)`, the MAC over
//! everything before it. AES-256 for 80-byte keys, AES-128 for 48-byte keys.

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::error::TicketError;
use super::key::{KeyName, KeySize, NAME_LEN, TicketKey};
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

/// Length of the ticket that sealing `plaintext_len` bytes produces.
pub const fn sealed_len(plaintext_len: usize) -> usize {
    NAME_LEN + IV_LEN + (plaintext_len / BLOCK + 1) * BLOCK + MAC_LEN
}

/// An opened ticket.
#[derive(Debug)]
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

type HmacSha256 = Hmac<Sha256>;

fn mac(key: &TicketKey, data: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail; keep the match total anyway.
    let mut m = match HmacSha256::new_from_slice(key.hmac_key()) {
        Ok(m) => m,
        Err(_) => HmacSha256::new(&Default::default()),
    };
    m.update(data);
    m
}

/// Seals `plaintext` under the key that encrypts at `now`, with a fresh random IV.
pub fn seal(snapshot: &Snapshot, plaintext: &[u8], now: UnixTime) -> Result<Vec<u8>, TicketError> {
    let key = &snapshot.encrypting(now).ok_or(TicketError::NoEncryptingKey)?.key;
    let mut iv = [0u8; IV_LEN];
    getrandom::fill(&mut iv).map_err(|_| TicketError::Random)?;
    seal_with(key, &iv, plaintext)
}

/// Seals `plaintext` under `key` with the given IV (which must never repeat for a key).
pub fn seal_with(key: &TicketKey, iv: &[u8; IV_LEN], plaintext: &[u8]) -> Result<Vec<u8>, TicketError> {
    if plaintext.len() > MAX_PLAINTEXT {
        return Err(TicketError::TooLarge);
    }
    let total = sealed_len(plaintext.len());
    let mut out = vec![0u8; total];
    let (head, body) = out.split_at_mut(NAME_LEN + IV_LEN);
    head[..NAME_LEN].copy_from_slice(&key.name().0);
    head[NAME_LEN..].copy_from_slice(iv);
    let (ct, _) = body.split_at_mut(total - NAME_LEN - IV_LEN - MAC_LEN);
    ct[..plaintext.len()].copy_from_slice(plaintext);
    let written = match key.size() {
        KeySize::Aes128 => cbc::Encryptor::<aes::Aes128>::new_from_slices(key.aes_key(), iv)
            .map_err(|_| TicketError::NoEncryptingKey)?
            .encrypt_padded_mut::<Pkcs7>(ct, plaintext.len())
            .map(|c| c.len()),
        KeySize::Aes256 => cbc::Encryptor::<aes::Aes256>::new_from_slices(key.aes_key(), iv)
            .map_err(|_| TicketError::NoEncryptingKey)?
            .encrypt_padded_mut::<Pkcs7>(ct, plaintext.len())
            .map(|c| c.len()),
    }
    .map_err(|_| TicketError::TooLarge)?;
    debug_assert_eq!(written, ct.len());
    let mac_at = total - MAC_LEN;
    let tag = mac(key, &out[..mac_at]).finalize().into_bytes();
    out[mac_at..].copy_from_slice(&tag);
    Ok(out)
}

/// Opens a ticket with whichever key of `snapshot` it names, if that key may decrypt at
/// `now`. The MAC is checked in constant time before anything is decrypted.
pub fn open(snapshot: &Snapshot, ticket: &[u8], now: UnixTime) -> Result<Opened, TicketError> {
    if ticket.len() < MIN_TICKET || (ticket.len() - NAME_LEN - IV_LEN - MAC_LEN) % BLOCK != 0 {
        return Err(TicketError::Malformed);
    }
    let (signed, tag) = ticket.split_at(ticket.len() - MAC_LEN);
    let (name, rest) = signed.split_at(NAME_LEN);
    let (iv, ct) = rest.split_at(IV_LEN);
    let name: &[u8; NAME_LEN] = name.try_into().map_err(|_| TicketError::Malformed)?;
    let found = snapshot.find(name, now)?;
    let key = found.key;
    mac(key, signed).verify_slice(tag).map_err(|_| TicketError::BadMac)?;
    let mut buf = Zeroizing::new(ct.to_vec());
    let len = match key.size() {
        KeySize::Aes128 => cbc::Decryptor::<aes::Aes128>::new_from_slices(key.aes_key(), iv)
            .map_err(|_| TicketError::Malformed)?
            .decrypt_padded_mut::<Pkcs7>(&mut buf)
            .map(|p| p.len()),
        KeySize::Aes256 => cbc::Decryptor::<aes::Aes256>::new_from_slices(key.aes_key(), iv)
            .map_err(|_| TicketError::Malformed)?
            .decrypt_padded_mut::<Pkcs7>(&mut buf)
            .map(|p| p.len()),
    }
    .map_err(|_| TicketError::BadPadding)?;
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
