//! Benchmark 3: the Rust sealer (`ticket::seal` / `ticket::open`) against OpenSSL's EVP API doing
//! the same work (AES-256-CBC + HMAC-SHA256 in OpenSSL's ticket format) on a 200-byte session.
//!
//! The EVP side is given its best ordinary shape: the cipher and MAC are fetched once, both
//! contexts are reused, and each ticket re-keys them (`EVP_EncryptInit_ex` with the key,
//! `EVP_MAC_init` with the HMAC key), which is the same per-ticket work the Rust sealer does
//! (AES key schedule and HMAC key per ticket). IVs come from `RAND_bytes` on the EVP side and from
//! the sealer's own IV generator on ours.
//!
//! `cargo bench --bench sealer`; `make bench` runs it with a short measurement time.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::ptr;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use openssl_sys as ffi;
use tlsext_shim::openssl::ticket_cb::hmac_sha256_params;
use tlsext_shim::ticket::{self, KeySize, ParsedKeys, Snapshot, TicketKey};

const PLAINTEXT_LEN: usize = 200;

/// OpenSSL's side: one fetched cipher and MAC, reused contexts.
struct Evp {
    cipher: *mut ffi::EVP_CIPHER,
    cctx: *mut ffi::EVP_CIPHER_CTX,
    mctx: *mut ffi::EVP_MAC_CTX,
    name: [u8; 16],
    aes: [u8; 32],
    hmac: [u8; 32],
}

impl Evp {
    fn new(key: &TicketKey) -> Self {
        // SAFETY: plain OpenSSL 3 calls with NUL-terminated names; results checked below.
        unsafe {
            let cipher = ffi::EVP_CIPHER_fetch(ptr::null_mut(), c"AES-256-CBC".as_ptr(), ptr::null());
            let mac = ffi::EVP_MAC_fetch(ptr::null_mut(), c"HMAC".as_ptr(), ptr::null());
            let mctx = ffi::EVP_MAC_CTX_new(mac);
            ffi::EVP_MAC_free(mac);
            let cctx = ffi::EVP_CIPHER_CTX_new();
            assert!(!cipher.is_null() && !mctx.is_null() && !cctx.is_null());
            let mut evp = Evp {
                cipher,
                cctx,
                mctx,
                name: key.name().0,
                aes: [0; 32],
                hmac: [0; 32],
            };
            evp.aes.copy_from_slice(key.aes_key());
            evp.hmac.copy_from_slice(key.hmac_key());
            // Set the digest once; later `EVP_MAC_init` calls only re-key.
            let params = hmac_sha256_params();
            assert_eq!(ffi::EVP_MAC_init(mctx, evp.hmac.as_ptr(), 32, params.as_ptr()), 1);
            evp
        }
    }

    fn mac(&self, data: &[u8], out: &mut [u8; 32]) {
        let mut len = 0usize;
        // SAFETY: live MAC context (digest set in `new`); buffers are valid for their lengths.
        unsafe {
            assert_eq!(ffi::EVP_MAC_init(self.mctx, self.hmac.as_ptr(), 32, ptr::null()), 1);
            assert_eq!(ffi::EVP_MAC_update(self.mctx, data.as_ptr(), data.len()), 1);
            assert_eq!(ffi::EVP_MAC_final(self.mctx, out.as_mut_ptr(), &mut len, 32), 1);
        }
    }

    fn seal(&self, plaintext: &[u8]) -> Vec<u8> {
        let total = ticket::sealed_len(plaintext.len());
        let mut out = vec![0u8; total];
        out[..16].copy_from_slice(&self.name);
        let (mut n1, mut n2) = (0i32, 0i32);
        // SAFETY: live contexts; `out` has room for name, IV, the padded ciphertext and the MAC.
        unsafe {
            assert_eq!(ffi::RAND_bytes(out[16..32].as_mut_ptr(), 16), 1);
            let iv = out[16..32].as_ptr();
            assert_eq!(
                ffi::EVP_EncryptInit_ex(self.cctx, self.cipher, ptr::null_mut(), self.aes.as_ptr(), iv),
                1
            );
            let ct = out[32..].as_mut_ptr();
            let len = i32::try_from(plaintext.len()).unwrap();
            assert_eq!(
                ffi::EVP_EncryptUpdate(self.cctx, ct, &mut n1, plaintext.as_ptr(), len),
                1
            );
            assert_eq!(ffi::EVP_EncryptFinal_ex(self.cctx, ct.add(n1 as usize), &mut n2), 1);
        }
        let mac_at = total - 32;
        let mut tag = [0u8; 32];
        self.mac(&out[..mac_at], &mut tag);
        out[mac_at..].copy_from_slice(&tag);
        out
    }

    fn open(&self, t: &[u8]) -> Option<Vec<u8>> {
        if t.len() < 80 || t[..16] != self.name {
            return None;
        }
        let mac_at = t.len() - 32;
        let mut tag = [0u8; 32];
        self.mac(&t[..mac_at], &mut tag);
        // SAFETY: both buffers hold 32 bytes.
        if unsafe { ffi::CRYPTO_memcmp(tag.as_ptr().cast(), t[mac_at..].as_ptr().cast(), 32) } != 0 {
            return None;
        }
        let ct = &t[32..mac_at];
        let mut out = vec![0u8; ct.len()];
        let (mut n1, mut n2) = (0i32, 0i32);
        // SAFETY: live context; `out` has room for the whole ciphertext.
        unsafe {
            let iv = t[16..32].as_ptr();
            assert_eq!(
                ffi::EVP_DecryptInit_ex(self.cctx, self.cipher, ptr::null_mut(), self.aes.as_ptr(), iv),
                1
            );
            let len = i32::try_from(ct.len()).unwrap();
            assert_eq!(
                ffi::EVP_DecryptUpdate(self.cctx, out.as_mut_ptr(), &mut n1, ct.as_ptr(), len),
                1
            );
            if ffi::EVP_DecryptFinal_ex(self.cctx, out.as_mut_ptr().add(n1 as usize), &mut n2) != 1 {
                return None;
            }
        }
        out.truncate((n1 + n2) as usize);
        Some(out)
    }
}

impl Drop for Evp {
    fn drop(&mut self) {
        // SAFETY: objects created in `new`, freed once.
        unsafe {
            ffi::EVP_CIPHER_CTX_free(self.cctx);
            ffi::EVP_MAC_CTX_free(self.mctx);
            ffi::EVP_CIPHER_free(self.cipher);
        }
    }
}

fn bench(c: &mut Criterion) {
    let key = TicketKey::generate(KeySize::Aes256).unwrap();
    let evp = Evp::new(&key);
    let snap = Snapshot::from_parsed(ParsedKeys {
        keys: vec![key],
        encrypt: 0,
    });
    let plaintext: Vec<u8> = (0..PLAINTEXT_LEN).map(|i| i as u8).collect();
    let ours = ticket::seal(&snap, &plaintext, 0).unwrap();
    let theirs = evp.seal(&plaintext);
    // Same format both ways: each opens the other's ticket.
    assert_eq!(&*ticket::open(&snap, &theirs, 0).unwrap().plaintext, &plaintext[..]);
    assert_eq!(evp.open(&ours).unwrap(), plaintext);

    let mut g = c.benchmark_group("parts");
    let k2 = TicketKey::generate(KeySize::Aes256).unwrap();
    g.bench_function("getrandom16", |b| {
        b.iter(|| {
            let mut iv = [0u8; 16];
            getrandom::fill(&mut iv).unwrap();
            iv
        })
    });
    g.bench_function("getpid", |b| b.iter(std::process::id));
    g.bench_function("seal_with", |b| {
        b.iter(|| ticket::seal::seal_with(&k2, &[7; 16], black_box(&plaintext)).unwrap())
    });
    g.bench_function("hmac240", |b| {
        b.iter(|| {
            use hmac::Mac;
            let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(k2.hmac_key()).unwrap();
            m.update(black_box(&ours[..240]));
            m.finalize()
        })
    });
    g.finish();
    let mut g = c.benchmark_group("seal_200B");
    g.bench_function("rust_sealer", |b| {
        b.iter(|| ticket::seal(&snap, black_box(&plaintext), 0).unwrap())
    });
    g.bench_function("openssl_evp", |b| b.iter(|| evp.seal(black_box(&plaintext))));
    g.finish();
    let mut g = c.benchmark_group("open_200B");
    g.bench_function("rust_sealer", |b| {
        b.iter(|| ticket::open(&snap, black_box(&ours), 0).unwrap())
    });
    g.bench_function("openssl_evp", |b| b.iter(|| evp.open(black_box(&ours)).unwrap()));
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(40)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! { name = benches; config = config(); targets = bench }
criterion_main!(benches);
