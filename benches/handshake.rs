//! Benchmark 2, in isolation: the work libssl's ticket code does per ticket around the key
//! choice, with the shim's EVP callback (`ticket_key_evp_cb`, called directly) and with
//! OpenSSL 3.0's default path (no callback: the same libcrypto calls in the same order as
//! `construct_stateless_ticket` / `tls_decrypt_ticket` in OpenSSL 3.0.19: fetch AES-256-CBC,
//! `RAND_bytes_ex` for the IV, `EVP_EncryptInit_ex` / `EVP_DecryptInit_ex` with the key,
//! `EVP_MAC_init` with the HMAC key and digest name, free the cipher).
//!
//! Each operation starts from fresh contexts, as libssl's do (`EVP_CIPHER_CTX_new`, and
//! `EVP_MAC_fetch("HMAC")` + `EVP_MAC_CTX_new` as in `ssl_hmac_new`), made outside the
//! measured function. `c-tests/bench/bench_handshake.c` measures the same inside real
//! handshakes.
//!
//! `TLSEXT_BENCH_COUNT=N` skips criterion and runs each operation N times through the
//! non-inlined `ticket_op_*` functions, for callgrind (`--toggle-collect='*ticket_op_*'`).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::ffi::c_int;
use std::hint::black_box;
use std::ptr;
use std::sync::Arc;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group};
use openssl_sys as ffi;
use tlsext_shim::openssl::ticket_cb::{hmac_sha256_params, ticket_key_evp_cb};
use tlsext_shim::ticket::{KeyRing, KeySize, TicketKey};

struct Fixture {
    ssl: *mut ffi::SSL,
    name: [u8; 16],
    hmac: [u8; 32],
    aes: [u8; 32],
    iv: [u8; 16],
}

impl Fixture {
    fn new() -> Self {
        let key = TicketKey::generate(KeySize::Aes256).unwrap();
        let ring = KeyRing::new();
        ring.add_key(key.clone()).unwrap();
        // SAFETY: plain OpenSSL calls; results checked.
        let ssl = unsafe {
            let ctx = ffi::SSL_CTX_new(ffi::TLS_server_method());
            assert!(!ctx.is_null());
            tlsext_shim::openssl::use_keyring(ctx, Arc::new(ring)).unwrap();
            let ssl = ffi::SSL_new(ctx);
            assert!(!ssl.is_null());
            ssl
        };
        let mut f = Fixture {
            ssl,
            name: key.name().0,
            hmac: [0; 32],
            aes: [0; 32],
            iv: [7; 16],
        };
        f.hmac.copy_from_slice(key.hmac_key());
        f.aes.copy_from_slice(key.aes_key());
        f
    }
}

/// The contexts libssl makes for each ticket before the key choice.
struct Contexts {
    cctx: *mut ffi::EVP_CIPHER_CTX,
    hctx: *mut ffi::EVP_MAC_CTX,
}

impl Contexts {
    fn new() -> Self {
        // SAFETY: plain OpenSSL calls; as `ssl_hmac_new` does.
        unsafe {
            let mac = ffi::EVP_MAC_fetch(ptr::null_mut(), c"HMAC".as_ptr(), ptr::null());
            let hctx = ffi::EVP_MAC_CTX_new(mac);
            ffi::EVP_MAC_free(mac);
            let cctx = ffi::EVP_CIPHER_CTX_new();
            assert!(!hctx.is_null() && !cctx.is_null());
            Contexts { cctx, hctx }
        }
    }
}

impl Drop for Contexts {
    fn drop(&mut self) {
        // SAFETY: made by `new`, freed once.
        unsafe {
            ffi::EVP_CIPHER_CTX_free(self.cctx);
            ffi::EVP_MAC_CTX_free(self.hctx);
        }
    }
}

#[inline(never)]
fn ticket_op_issue_shim(f: &Fixture, c: &Contexts) -> c_int {
    let mut name = [0u8; 16];
    let mut iv = [0u8; 16];
    // SAFETY: the callback's contract: a live SSL whose context uses a ring, 16-byte name and
    // IV buffers, fresh live contexts.
    unsafe { ticket_key_evp_cb(f.ssl, name.as_mut_ptr(), iv.as_mut_ptr(), c.cctx, c.hctx, 1) }
}

#[inline(never)]
fn ticket_op_issue_openssl(f: &Fixture, c: &Contexts) -> c_int {
    let mut name = [0u8; 16];
    let mut iv = [0u8; 16];
    let params = hmac_sha256_params();
    // SAFETY: OpenSSL 3.0's default issue path, on fresh live contexts.
    unsafe {
        let cipher = ffi::EVP_CIPHER_fetch(ptr::null_mut(), c"AES-256-CBC".as_ptr(), ptr::null());
        let ok = !cipher.is_null()
            && ffi::EVP_CIPHER_get_iv_length(cipher) == 16
            && ffi::RAND_bytes(iv.as_mut_ptr(), 16) == 1
            && ffi::EVP_EncryptInit_ex(c.cctx, cipher, ptr::null_mut(), f.aes.as_ptr(), iv.as_ptr()) == 1
            && ffi::EVP_MAC_init(c.hctx, f.hmac.as_ptr(), 32, params.as_ptr()) == 1;
        ffi::EVP_CIPHER_free(cipher);
        name.copy_from_slice(&f.name);
        black_box(&name);
        c_int::from(ok)
    }
}

#[inline(never)]
fn ticket_op_decrypt_shim(f: &Fixture, c: &Contexts) -> c_int {
    let mut name = f.name;
    let mut iv = f.iv;
    // SAFETY: as for `ticket_op_issue_shim`; the name and IV are a ticket's.
    unsafe { ticket_key_evp_cb(f.ssl, name.as_mut_ptr(), iv.as_mut_ptr(), c.cctx, c.hctx, 0) }
}

#[inline(never)]
fn ticket_op_decrypt_openssl(f: &Fixture, c: &Contexts) -> c_int {
    let params = hmac_sha256_params();
    // SAFETY: OpenSSL 3.0's default decrypt path, on fresh live contexts.
    unsafe {
        let cipher = ffi::EVP_CIPHER_fetch(ptr::null_mut(), c"AES-256-CBC".as_ptr(), ptr::null());
        let ok = !cipher.is_null()
            && ffi::EVP_MAC_init(c.hctx, f.hmac.as_ptr(), 32, params.as_ptr()) == 1
            && ffi::EVP_DecryptInit_ex(c.cctx, cipher, ptr::null_mut(), f.aes.as_ptr(), f.iv.as_ptr()) == 1;
        ffi::EVP_CIPHER_free(cipher);
        c_int::from(ok)
    }
}

type Op = fn(&Fixture, &Contexts) -> c_int;

const OPS: [(&str, &str, Op); 4] = [
    ("ticket_issue", "shim_callback", ticket_op_issue_shim),
    ("ticket_issue", "openssl_default", ticket_op_issue_openssl),
    ("ticket_decrypt", "shim_callback", ticket_op_decrypt_shim),
    ("ticket_decrypt", "openssl_default", ticket_op_decrypt_openssl),
];

fn bench(c: &mut Criterion) {
    let f = Fixture::new();
    for (group, name, op) in OPS {
        assert!(op(&f, &Contexts::new()) >= 1, "{group}/{name} failed");
    }
    for group in ["ticket_issue", "ticket_decrypt"] {
        let mut g = c.benchmark_group(group);
        for (_, name, op) in OPS.iter().filter(|o| o.0 == group) {
            g.bench_function(*name, |b| {
                b.iter_batched_ref(Contexts::new, |cx| op(&f, cx), BatchSize::SmallInput)
            });
        }
        g.finish();
    }
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(40)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
}

criterion_group! { name = benches; config = config(); targets = bench }

fn main() {
    if let Ok(n) = std::env::var("TLSEXT_BENCH_COUNT") {
        let n: usize = n.parse().unwrap();
        let f = Fixture::new();
        for (group, name, op) in OPS {
            for _ in 0..n {
                let cx = Contexts::new();
                assert!(op(&f, &cx) >= 1, "{group}/{name} failed");
            }
        }
        println!("METRIC ticket_op_count {n} operations");
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
