//! One ticket key: a 16-byte name, an HMAC-SHA256 key and an AES key.

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

/// Length of a key name, the first 16 bytes of every ticket.
pub const NAME_LEN: usize = 16;

/// The public name of a ticket key. Not secret: it travels in every ticket and is what
/// logs, metrics and the CLI show (in hex).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyName(pub [u8; NAME_LEN]);

impl KeyName {
    /// The name as 32 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }
}

impl fmt::Display for KeyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for KeyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyName({self})")
    }
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The cipher strength of a key: its AES and HMAC keys are both this long.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeySize {
    /// AES-128-CBC with a 16-byte HMAC key: the 48-byte key files.
    Aes128,
    /// AES-256-CBC with a 32-byte HMAC key: the 80-byte key files (OpenSSL's default).
    Aes256,
}

impl KeySize {
    /// Length of the AES key and of the HMAC key, in bytes.
    pub const fn secret_len(self) -> usize {
        match self {
            KeySize::Aes128 => 16,
            KeySize::Aes256 => 32,
        }
    }

    /// Length of a whole key file entry: name, HMAC key and AES key.
    pub const fn file_len(self) -> usize {
        NAME_LEN + 2 * self.secret_len()
    }

    /// The size whose file entry is `len` bytes long, if any.
    pub const fn from_file_len(len: usize) -> Option<KeySize> {
        match len {
            48 => Some(KeySize::Aes128),
            80 => Some(KeySize::Aes256),
            _ => None,
        }
    }
}

/// Which part of a key a problem is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyPart {
    /// The 16-byte name.
    Name,
    /// The HMAC-SHA256 key.
    Hmac,
    /// The AES key.
    Aes,
}

impl fmt::Display for KeyPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyPart::Name => "key name",
            KeyPart::Hmac => "HMAC key",
            KeyPart::Aes => "AES key",
        })
    }
}

/// Why a key's parts were refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartError {
    /// The HMAC and AES keys are not both 16 or both 32 bytes.
    Size,
    /// A part is one byte repeated (all zero, say): guessable.
    Weak(KeyPart),
}

/// A session-ticket key. The secret parts are wiped when it is dropped and never shown by
/// `Debug`.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct TicketKey {
    #[zeroize(skip)]
    name: KeyName,
    #[zeroize(skip)]
    size: KeySize,
    hmac: [u8; 32],
    aes: [u8; 32],
}

impl TicketKey {
    /// Builds a key from its parts; `hmac` and `aes` must both be 16 or both 32 bytes, and
    /// no part may be a single repeated byte.
    pub fn from_parts(name: &[u8; NAME_LEN], hmac: &[u8], aes: &[u8]) -> Result<Self, PartError> {
        let size = match (hmac.len(), aes.len()) {
            (16, 16) => KeySize::Aes128,
            (32, 32) => KeySize::Aes256,
            _ => return Err(PartError::Size),
        };
        for (part, bytes) in [(KeyPart::Name, &name[..]), (KeyPart::Hmac, hmac), (KeyPart::Aes, aes)] {
            if is_repeated_byte(bytes) {
                return Err(PartError::Weak(part));
            }
        }
        let mut key = TicketKey {
            name: KeyName(*name),
            size,
            hmac: [0; 32],
            aes: [0; 32],
        };
        if let (Some(h), Some(a)) = (key.hmac.get_mut(..hmac.len()), key.aes.get_mut(..aes.len())) {
            h.copy_from_slice(hmac);
            a.copy_from_slice(aes);
        }
        Ok(key)
    }

    /// A fresh key from the operating system's random source.
    pub fn generate(size: KeySize) -> Result<Self, getrandom::Error> {
        loop {
            let mut buf = zeroize::Zeroizing::new([0u8; 80]);
            getrandom::fill(&mut buf[..])?;
            let n = size.secret_len();
            let (name, rest) = buf.split_at(NAME_LEN);
            let (hmac, rest) = rest.split_at(n);
            let name: &[u8; NAME_LEN] = name.try_into().unwrap_or(&[0; NAME_LEN]);
            if let Ok(key) = TicketKey::from_parts(name, hmac, &rest[..n]) {
                return Ok(key);
            }
        }
    }

    /// A key derived from this one for `label` (a vhost's first name): the same size and a
    /// distinct name, so tickets sealed under one label never open under another, while every
    /// server holding the same base key derives the same keys.
    ///
    /// Construction: with `ikm = hmac_key || aes_key` and `info = label`,
    /// `part(tag) = HMAC-SHA256(ikm, "tlsext-shim vhost v1 " || tag || 0x00 || info)`; the name is
    /// the first 16 bytes of `part("name")`, the HMAC and AES keys the first 16 or 32 bytes of
    /// `part("hmac")` and `part("aes")`. A part that came out as one repeated byte (2^-120
    /// odds) has its last byte flipped.
    pub fn derive(&self, label: &[u8]) -> TicketKey {
        use hmac::{Hmac, Mac};
        let mut ikm = zeroize::Zeroizing::new([0u8; 64]);
        let n = self.size.secret_len();
        ikm[..n].copy_from_slice(self.hmac_key());
        ikm[n..2 * n].copy_from_slice(self.aes_key());
        // Keyed once; each part continues from a copy of the keyed state.
        let keyed = Hmac::<sha2::Sha256>::new_from_slice(&ikm[..2 * n]).ok();
        let part = |tag: &[u8], out: &mut [u8]| {
            if let Some(mut m) = keyed.clone() {
                m.update(b"tlsext-shim vhost v1 ");
                m.update(tag);
                m.update(&[0]);
                m.update(label);
                let mut digest = m.finalize().into_bytes();
                let len = out.len();
                out.copy_from_slice(&digest[..len]);
                digest.as_mut_slice().zeroize();
            }
            unrepeat(out);
        };
        let mut key = TicketKey {
            name: KeyName([0; NAME_LEN]),
            size: self.size,
            hmac: [0; 32],
            aes: [0; 32],
        };
        part(b"name", &mut key.name.0);
        part(b"hmac", &mut key.hmac[..n]);
        part(b"aes", &mut key.aes[..n]);
        key
    }

    /// The key's public name.
    pub fn name(&self) -> &KeyName {
        &self.name
    }

    /// AES-128 or AES-256.
    pub fn size(&self) -> KeySize {
        self.size
    }

    /// The HMAC-SHA256 key (16 or 32 bytes).
    pub fn hmac_key(&self) -> &[u8] {
        self.hmac.get(..self.size.secret_len()).unwrap_or(&[])
    }

    /// The AES key (16 or 32 bytes).
    pub fn aes_key(&self) -> &[u8] {
        self.aes.get(..self.size.secret_len()).unwrap_or(&[])
    }
}

/// The OR of the XORs of two byte strings' bytes: zero when they are equal. No data-dependent
/// branch, and on fixed-size arrays it compiles to a few vector instructions (subtle's
/// byte-by-byte `ct_eq` on slices costs several times as much, and this runs for every ticket).
#[inline]
fn xor_or(a: &[u8], b: &[u8]) -> u8 {
    a.iter().zip(b).fold(0, |acc, (x, y)| acc | (x ^ y))
}

/// Whether `a` and `b` hold the same bytes, in constant time for equal lengths (the length is
/// public): for MAC tags and key caches.
#[inline]
pub fn same_secret(a: &[u8], b: &[u8]) -> subtle::Choice {
    use subtle::ConstantTimeEq as _;
    subtle::Choice::from(u8::from(a.len() == b.len())) & xor_or(a, b).ct_eq(&0)
}

/// Same size, name and secrets. The secrets are compared without a data-dependent branch; the
/// size is public.
impl subtle::ConstantTimeEq for TicketKey {
    #[inline]
    fn ct_eq(&self, other: &Self) -> subtle::Choice {
        // Unused tails of `hmac` and `aes` are zero in every key, so whole arrays compare.
        let diff =
            xor_or(&self.name.0, &other.name.0) | xor_or(&self.hmac, &other.hmac) | xor_or(&self.aes, &other.aes);
        subtle::Choice::from(u8::from(self.size == other.size)) & diff.ct_eq(&0)
    }
}

impl fmt::Debug for TicketKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TicketKey")
            .field("name", &self.name)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

/// Whether `bytes` is one byte repeated (or empty): a guessable key part.
pub(crate) fn is_repeated_byte(bytes: &[u8]) -> bool {
    match bytes.split_first() {
        Some((first, rest)) => rest.iter().all(|b| b == first),
        None => true,
    }
}

/// The deterministic fix for a derived part that is one byte repeated: flip the last bit.
pub(crate) fn unrepeat(bytes: &mut [u8]) {
    if is_repeated_byte(bytes) {
        if let Some(last) = bytes.last_mut() {
            *last ^= 0x01;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_secrets() {
        let key = TicketKey::from_parts(&[7; 16], &[0xAB; 32], &[0xCD; 32]);
        assert_eq!(key.err(), Some(PartError::Weak(KeyPart::Name)));
        let mut name = [0u8; 16];
        name[0] = 1;
        let hmac: Vec<u8> = (0..32).collect();
        let aes: Vec<u8> = (100..132).collect();
        let key = TicketKey::from_parts(&name, &hmac, &aes).unwrap();
        let shown = format!("{key:?}");
        assert!(shown.contains("01000000000000000000000000000000"), "{shown}");
        assert!(
            !shown.contains("646566") && !shown.contains("000102") && !shown.contains('['),
            "{shown}"
        );
        assert_eq!(key.hmac_key(), &hmac[..]);
        assert_eq!(key.aes_key(), &aes[..]);
        assert_eq!(key.size(), KeySize::Aes256);
    }

    #[test]
    fn weak_and_badly_sized_parts_are_refused() {
        let name = *b"0123456789abcdef";
        let good: Vec<u8> = (0..16).collect();
        assert_eq!(
            TicketKey::from_parts(&name, &[0; 16], &good).err(),
            Some(PartError::Weak(KeyPart::Hmac))
        );
        assert_eq!(
            TicketKey::from_parts(&name, &good, &[9; 16]).err(),
            Some(PartError::Weak(KeyPart::Aes))
        );
        assert_eq!(
            TicketKey::from_parts(&name, &good, &good[..8]).err(),
            Some(PartError::Size)
        );
        let key = TicketKey::from_parts(&name, &good, &good).unwrap();
        assert_eq!(key.size(), KeySize::Aes128);
        assert_eq!(key.aes_key().len(), 16);
    }

    #[test]
    fn derived_keys_are_deterministic_distinct_and_sized() {
        let base = TicketKey::generate(KeySize::Aes128).unwrap();
        let a = base.derive(b"www.example.com");
        let a2 = base.derive(b"www.example.com");
        let b = base.derive(b"*.apps.example.com");
        assert_eq!(a.name(), a2.name());
        assert_eq!(a.aes_key(), a2.aes_key());
        assert_ne!(a.name(), b.name());
        assert_ne!(a.name(), base.name());
        assert_ne!(a.hmac_key(), base.hmac_key());
        assert_eq!(a.size(), KeySize::Aes128);
        assert_eq!(a.aes_key().len(), 16);
        // A fixed vector, cross-checked with Python:
        // import hmac,hashlib; ikm=bytes(range(32))+bytes(range(100,132))
        // hmac.new(ikm, b"tlsext-shim vhost v1 name\0a.example", hashlib.sha256).hexdigest()[:32]
        let name: [u8; 16] = std::array::from_fn(|i| i as u8 + 1);
        let hmac: Vec<u8> = (0..32).collect();
        let aes: Vec<u8> = (100..132).collect();
        let fixed = TicketKey::from_parts(&name, &hmac, &aes).unwrap();
        assert_eq!(
            fixed.derive(b"a.example").name().to_hex(),
            "cb5e360292121850eef6a7ca758545c5"
        );
    }

    #[test]
    fn same_secret_needs_every_byte_and_the_same_length() {
        let a = [7u8; 32];
        assert!(bool::from(same_secret(&a, &a)));
        for i in 0..32 {
            let mut b = a;
            b[i] ^= 0x80;
            assert!(!bool::from(same_secret(&a, &b)), "byte {i}");
        }
        assert!(!bool::from(same_secret(&a, &a[..16])), "length mismatch");
        assert!(bool::from(same_secret(&a[..20], &a[..20])), "any length");
    }

    #[test]
    fn keys_are_the_same_only_with_every_byte_and_the_size() {
        use subtle::ConstantTimeEq as _;
        let same = |a: &TicketKey, b: &TicketKey| bool::from(a.ct_eq(b));
        let name = *b"0123456789abcdef";
        let secret: Vec<u8> = (0..32).collect();
        let other: Vec<u8> = (1..33).collect();
        let key = TicketKey::from_parts(&name, &secret, &secret).unwrap();
        assert!(same(&key, &key.clone()));
        assert!(!same(&key, &TicketKey::from_parts(&name, &other, &secret).unwrap()));
        assert!(!same(&key, &TicketKey::from_parts(&name, &secret, &other).unwrap()));
        let mut renamed = name;
        renamed[15] ^= 1;
        assert!(!same(&key, &TicketKey::from_parts(&renamed, &secret, &secret).unwrap()));
        let short = TicketKey::from_parts(&name, &secret[..16], &secret[..16]).unwrap();
        assert!(!same(&key, &short));
        assert!(same(&short, &short.clone()));
    }

    #[test]
    fn derived_parts_are_never_one_repeated_byte() {
        let mut part = [0xAAu8; 16];
        unrepeat(&mut part);
        assert_eq!(part[15], 0xAB);
        assert!(!is_repeated_byte(&part));
        // Only the part as used is looked at: a 16-byte part of a longer digest.
        let mut digest = [7u8; 32];
        digest[31] = 8;
        unrepeat(&mut digest[..16]);
        assert!(!is_repeated_byte(&digest[..16]));
    }

    #[test]
    fn generated_keys_differ() {
        let a = TicketKey::generate(KeySize::Aes256).unwrap();
        let b = TicketKey::generate(KeySize::Aes256).unwrap();
        assert_ne!(a.name(), b.name());
        assert_ne!(a.aes_key(), b.aes_key());
        assert_eq!(TicketKey::generate(KeySize::Aes128).unwrap().hmac_key().len(), 16);
    }
}
