//! `ticket::seal::open` against a fixed ring, and seal/open round trips. The first byte picks
//! the mode:
//! - 0: open the rest as a ticket;
//! - 1: open `name of ring key [data[1]] | rest` (reaches the MAC check);
//! - 2: as 1 with a valid HMAC appended (reaches decryption and the padding check);
//! - 3: seal the rest under ring key [data[1]] with IV data[2..18], open it back, then flip
//!   bit data[18..20] of the ticket: the flipped ticket never opens;
//! - else: `seal` with the ring's encrypting key, then open.
//!
//! The ring: an 80-byte decrypt-only key, a 48-byte key past its decrypt window, the 80-byte
//! encrypting key, a 48-byte decrypt-only key with a window that ends in 60 s.
#![no_main]

use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use sha2::Sha256;
use std::sync::LazyLock;
use tlsext_shim::ticket::seal::{MAX_PLAINTEXT, open, seal, seal_with};
use tlsext_shim::ticket::{KeyPolicy, RingKey, Snapshot, TicketError, TicketKey, UnixTime, Window};

const NOW: UnixTime = 1_700_000_000;

fn key(tag: u8, len: usize) -> TicketKey {
    let name: [u8; 16] = std::array::from_fn(|i| tag.wrapping_mul(37).wrapping_add(i as u8 * 11));
    let hmac: Vec<u8> = (0..len).map(|i| tag ^ (i as u8).wrapping_mul(7)).collect();
    let aes: Vec<u8> = (0..len).map(|i| tag.wrapping_add(i as u8).wrapping_mul(13)).collect();
    TicketKey::from_parts(&name, &hmac, &aes).expect("fixed key")
}

static RING: LazyLock<Snapshot> = LazyLock::new(|| {
    Snapshot::new(vec![
        RingKey {
            key: key(1, 32),
            policy: KeyPolicy::DECRYPT_ONLY,
        },
        RingKey {
            key: key(2, 16),
            policy: KeyPolicy {
                encrypt: None,
                decrypt: Window {
                    from: 0,
                    until: NOW - 1,
                },
            },
        },
        RingKey {
            key: key(3, 32),
            policy: KeyPolicy::ENCRYPT,
        },
        RingKey {
            key: key(4, 16),
            policy: KeyPolicy {
                encrypt: None,
                decrypt: Window {
                    from: 0,
                    until: NOW + 60,
                },
            },
        },
    ])
});

fn ring_key(i: u8) -> &'static RingKey {
    &RING.keys()[usize::from(i) % RING.len()]
}

fn usable(k: &RingKey) -> bool {
    k.policy.decrypt.contains(NOW)
}

/// Checks what `open` says about a ticket whose name is `k`'s.
fn check_named(k: &RingKey, ticket: &[u8], r: &Result<tlsext_shim::ticket::Opened, TicketError>) {
    match r {
        Ok(o) => {
            assert!(usable(k));
            assert_eq!(&o.key_name, k.key.name());
            assert_eq!(o.renew, k.policy.encrypt.is_none());
            assert!(o.plaintext.len() < ticket.len());
        }
        Err(TicketError::ExpiredKey) => assert!(!usable(k)),
        Err(TicketError::Malformed | TicketError::BadMac | TicketError::BadPadding) => {}
        Err(e) => panic!("unexpected {e:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if rest.len() > MAX_PLAINTEXT {
        return;
    }
    match mode {
        0 => {
            if let Ok(o) = open(&RING, rest, NOW) {
                panic!("opened a ticket without knowing a key: {:?}", o.key_name);
            }
        }
        1 | 2 => {
            let Some((&i, body)) = rest.split_first() else { return };
            let k = ring_key(i);
            let mut ticket = k.key.name().0.to_vec();
            ticket.extend_from_slice(body);
            if mode == 2 {
                let mut m = Hmac::<Sha256>::new_from_slice(k.key.hmac_key()).expect("any length");
                m.update(&ticket);
                ticket.extend_from_slice(&m.finalize().into_bytes());
            }
            let r = open(&RING, &ticket, NOW);
            if mode == 1 {
                assert!(r.is_err(), "opened a ticket with a forged MAC");
            }
            check_named(k, &ticket, &r);
        }
        3 => {
            if rest.len() < 19 {
                return;
            }
            let k = ring_key(rest[0]);
            let iv: [u8; 16] = rest[1..17].try_into().expect("16 bytes");
            let flip = usize::from(u16::from_be_bytes([rest[17], rest[18]]));
            let plaintext = &rest[19..];
            let ticket = seal_with(&k.key, &iv, plaintext).expect("small plaintexts seal");
            assert_eq!(ticket.len(), tlsext_shim::ticket::sealed_len(plaintext.len()));
            let r = open(&RING, &ticket, NOW);
            match &r {
                Ok(o) => assert_eq!(o.plaintext.as_slice(), plaintext),
                Err(e) => assert!(!usable(k) && *e == TicketError::ExpiredKey, "{e:?}"),
            }
            check_named(k, &ticket, &r);
            let mut bad = ticket.clone();
            let bit = flip % (bad.len() * 8);
            bad[bit / 8] ^= 1 << (bit % 8);
            match open(&RING, &bad, NOW) {
                Ok(_) => panic!("a ticket with bit {bit} flipped opened"),
                Err(TicketError::UnknownKey | TicketError::BadMac | TicketError::ExpiredKey) => {}
                Err(e) => panic!("bit {bit} flipped: unexpected {e:?}"),
            }
        }
        _ => {
            let ticket = seal(&RING, rest, NOW).expect("the ring has an encrypting key");
            let o = open(&RING, &ticket, NOW).expect("a fresh ticket opens");
            assert_eq!(o.plaintext.as_slice(), rest);
            assert!(!o.renew);
        }
    }
});
