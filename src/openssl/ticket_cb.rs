//! The ticket-key callback: OpenSSL asks it for a key to seal a new ticket (`enc == 1`) or
//! for the key named in a ticket it received (`enc == 0`).
//!
//! Contract (openssl-hooks.md section 2): return 1 to issue or accept, 2 to accept and issue
//! a fresh ticket, 0 for no ticket / unknown key (full handshake), negative for a fatal error.

use std::ffi::{c_int, c_long, c_uint};
use std::sync::atomic::{AtomicU64, Ordering};

use once_cell::sync::{Lazy, OnceCell};
use openssl_sys::{EVP_CIPHER, EVP_CIPHER_CTX, EVP_MAC_CTX, OSSL_PARAM, SSL};

use super::sys::{
    EVP_CIPHER_fetch, EVP_DecryptInit_ex, EVP_EncryptInit_ex, SSL_SESSION_get_timeout, SSL_SESSION_set_timeout,
    SSL_get_SSL_CTX, SSL_get_session, SSL_version,
};

use crate::ticket::{KeySize, TicketKey, ring};

use super::ctx::ctx_state;
use super::outcome::{KeyLookup, note_lookup};

const TLS1_3_VERSION: c_int = 0x0304;

/// Work the preload layer does first on every ticket operation (a lazy key-source check).
static BEFORE_TICKET: OnceCell<fn()> = OnceCell::new();
/// A cap on ticket lifetimes in seconds, 0 for none.
static LIFETIME_CAP: AtomicU64 = AtomicU64::new(0);

/// Registers a `pthread_atfork` child handler that tells the sealer's IV generators about every
/// fork (so IVs need no system call per ticket and never repeat across processes); the first
/// call registers it, later calls do nothing. Runs when the library is loaded, and again (for
/// builds where that constructor was not linked in) before the callback's first IV.
pub fn watch_forks() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    extern "C" fn child() {
        crate::ticket::seal::note_fork();
    }
    ONCE.call_once(|| {
        // SAFETY: registers a handler that only bumps an atomic counter (async-signal-safe);
        // the handler is code of this library, which is never unloaded while it can fork.
        if unsafe { libc::pthread_atfork(None, None, Some(child)) } == 0 {
            crate::ticket::seal::forks_are_watched();
        }
    });
}

/// Runs [`watch_forks`] when the library is loaded, so that `tlsext_ticket_seal` callers get
/// the syscall-free IV path too.
#[used]
#[unsafe(link_section = ".init_array")]
static WATCH_FORKS_AT_LOAD: extern "C" fn() = {
    extern "C" fn at_load() {
        // A panic must not unwind into the dynamic loader.
        let _ = std::panic::catch_unwind(watch_forks);
    }
    at_load
};

/// Registers `hook` to run at the start of every ticket operation (first caller wins).
pub fn set_before_ticket_hook(hook: fn()) {
    let _ = BEFORE_TICKET.set(hook);
}

/// Caps the lifetime of issued tickets at `secs` (0: no cap beyond the session timeout).
pub fn set_lifetime_cap(secs: u64) {
    LIFETIME_CAP.store(secs, Ordering::Relaxed);
}

/// Lowers the session's timeout, which OpenSSL sends as the ticket's lifetime hint, to the
/// encrypting key's remaining decrypt life and the configured cap.
///
/// # Safety
/// `s` is the live connection being handshaken.
unsafe fn apply_lifetime(s: *mut SSL, decrypt_left: Option<u64>) {
    let cap = LIFETIME_CAP.load(Ordering::Relaxed);
    let limit = match (decrypt_left, cap) {
        (None, 0) => return,
        (Some(left), 0) => left,
        (None, cap) => cap,
        (Some(left), cap) => left.min(cap),
    };
    // SAFETY: `s` is live (caller).
    let session = unsafe { SSL_get_session(s) };
    if session.is_null() {
        return;
    }
    // SAFETY: `session` is the connection's live session.
    let current = unsafe { SSL_SESSION_get_timeout(session) };
    let limit = c_long::try_from(limit.max(1)).unwrap_or(c_long::MAX);
    if current > limit {
        // SAFETY: as above.
        unsafe { SSL_SESSION_set_timeout(session, limit) };
    }
}
const OSSL_PARAM_UTF8_STRING: c_uint = 4;
const OSSL_PARAM_UNMODIFIED: usize = usize::MAX;

/// AES-128-CBC and AES-256-CBC, fetched once per process (OpenSSL's own ticket path
/// fetches its cipher for every ticket).
struct Ciphers {
    aes128: *const EVP_CIPHER,
    aes256: *const EVP_CIPHER,
}

// SAFETY: fetched EVP_CIPHER objects are immutable, reference-counted and documented as
// shareable between threads.
unsafe impl Send for Ciphers {}
// SAFETY: as above.
unsafe impl Sync for Ciphers {}

static CIPHERS: Lazy<Ciphers> = Lazy::new(|| {
    // SAFETY: NULL library context and properties mean the defaults; names are NUL-terminated.
    let aes128 = unsafe { EVP_CIPHER_fetch(std::ptr::null_mut(), c"AES-128-CBC".as_ptr(), std::ptr::null()) };
    // SAFETY: as above.
    let aes256 = unsafe { EVP_CIPHER_fetch(std::ptr::null_mut(), c"AES-256-CBC".as_ptr(), std::ptr::null()) };
    Ciphers { aes128, aes256 }
});

fn cipher(size: KeySize) -> *const EVP_CIPHER {
    match size {
        KeySize::Aes128 => CIPHERS.aes128,
        KeySize::Aes256 => CIPHERS.aes256,
    }
}

/// A key's cipher contexts, keyed once (AES key schedule done) for encryption and for
/// decryption. A ticket's context is a copy of one of them with only the IV set, which skips
/// the key schedule and OpenSSL's engine lookup of `EVP_*Init_ex` with a cipher.
struct CipherTemplate {
    /// The key, to recognise it by.
    key: TicketKey,
    enc: *mut EVP_CIPHER_CTX,
    dec: *mut EVP_CIPHER_CTX,
}

impl CipherTemplate {
    /// Keys both contexts with `key`; `None` if OpenSSL fails.
    fn new(key: &TicketKey) -> Option<Self> {
        // SAFETY: a plain allocation; NULL is handled by `Drop` and checked below.
        let enc = unsafe { openssl_sys::EVP_CIPHER_CTX_new() };
        // SAFETY: as above.
        let dec = unsafe { openssl_sys::EVP_CIPHER_CTX_new() };
        let t = CipherTemplate {
            key: key.clone(),
            enc,
            dec,
        };
        if t.enc.is_null() || t.dec.is_null() {
            return None;
        }
        let k = key.aes_key().as_ptr();
        let c = cipher(key.size());
        // SAFETY: fresh contexts; the cipher was fetched once; the key has the cipher's length;
        // no IV yet (each ticket sets its own).
        let ok = unsafe { EVP_EncryptInit_ex(t.enc, c, std::ptr::null_mut(), k, std::ptr::null()) } == 1
            // SAFETY: as above.
            && unsafe { EVP_DecryptInit_ex(t.dec, c, std::ptr::null_mut(), k, std::ptr::null()) } == 1;
        ok.then_some(t)
    }

    /// Whether this is `key` (same size, name and secrets, compared in constant time).
    fn is(&self, key: &TicketKey) -> bool {
        use subtle::ConstantTimeEq as _;
        self.key.ct_eq(key).into()
    }
}

impl Drop for CipherTemplate {
    fn drop(&mut self) {
        // SAFETY: contexts made by `new`, freed once; OpenSSL wipes the key schedule; NULL is
        // a no-op.
        unsafe {
            openssl_sys::EVP_CIPHER_CTX_free(self.enc);
            openssl_sys::EVP_CIPHER_CTX_free(self.dec);
        }
    }
}

thread_local! {
    /// The last two keys this thread used, most recent first. Per thread, so no lock: a copy
    /// only reads its template, but OpenSSL does not promise that for concurrent copies.
    static CIPHER_TEMPLATES: std::cell::RefCell<[Option<CipherTemplate>; 2]> =
        const { std::cell::RefCell::new([None, None]) };
}

/// Sets up libssl's fresh `cctx` to encrypt (`enc`) or decrypt with `key` and `iv`: a copy of
/// the key's template with the IV set, or (if that cannot be had) a plain keyed init.
///
/// # Safety
/// `cctx` is the live, unused cipher context libssl handed to the callback; `iv` points to 16
/// readable bytes.
unsafe fn init_cipher(cctx: *mut EVP_CIPHER_CTX, key: &TicketKey, iv: *const u8, enc: bool) -> bool {
    let copied = CIPHER_TEMPLATES.try_with(|cell| {
        let mut slots = cell.try_borrow_mut().ok()?;
        if !slots[0].as_ref().is_some_and(|t| t.is(key)) {
            if !slots[1].as_ref().is_some_and(|t| t.is(key)) {
                slots[1] = Some(CipherTemplate::new(key)?);
            }
            slots.swap(0, 1);
        }
        let t = slots[0].as_ref()?;
        let from = if enc { t.enc } else { t.dec };
        // SAFETY: `from` is a keyed context owned by this thread's cache; `cctx` is live.
        Some(unsafe { openssl_sys::EVP_CIPHER_CTX_copy(cctx, from) } == 1)
    });
    if let Ok(Some(true)) = copied {
        // Only the IV: the key schedule came with the copy.
        // SAFETY: `cctx` now holds a keyed context of the right direction; `iv` has 16 bytes.
        return unsafe {
            openssl_sys::EVP_CipherInit_ex(
                cctx,
                std::ptr::null(),
                std::ptr::null_mut(),
                std::ptr::null(),
                iv,
                c_int::from(enc),
            )
        } == 1;
    }
    let k = key.aes_key().as_ptr();
    let c = cipher(key.size());
    // SAFETY: live context from libssl; the cipher was fetched once; key and IV are the
    // cipher's lengths.
    unsafe {
        if enc {
            EVP_EncryptInit_ex(cctx, c, std::ptr::null_mut(), k, iv) == 1
        } else {
            EVP_DecryptInit_ex(cctx, c, std::ptr::null_mut(), k, iv) == 1
        }
    }
}

/// The parameters that make an HMAC `EVP_MAC_CTX` use SHA-256, the digest of OpenSSL's ticket
/// MAC: `{"digest": "SHA256"}`, END-terminated. The strings are static, so the array may be
/// kept and passed anywhere.
pub fn hmac_sha256_params() -> [OSSL_PARAM; 2] {
    [
        OSSL_PARAM {
            key: c"digest".as_ptr(),
            data_type: OSSL_PARAM_UTF8_STRING,
            data: c"SHA256".as_ptr().cast_mut().cast(),
            data_size: 6,
            return_size: OSSL_PARAM_UNMODIFIED,
        },
        OSSL_PARAM {
            key: std::ptr::null(),
            data_type: 0,
            data: std::ptr::null_mut(),
            data_size: 0,
            return_size: 0,
        },
    ]
}

/// Keys the MAC context with `key`'s HMAC-SHA256 key.
///
/// `EVP_MAC_init` with the key as an argument, as OpenSSL's own ticket code does: the provider
/// then has only the digest name to look up in the parameters.
///
/// # Safety
/// `hctx` is the live `EVP_MAC_CTX` OpenSSL handed to the callback.
unsafe fn key_mac(hctx: *mut EVP_MAC_CTX, key: &TicketKey) -> bool {
    let hmac = key.hmac_key();
    let params = hmac_sha256_params();
    // SAFETY: `hctx` is live (caller); the parameter array is END-terminated with static
    // strings; the key outlives the call, which copies it.
    unsafe { openssl_sys::EVP_MAC_init(hctx, hmac.as_ptr(), hmac.len(), params.as_ptr()) == 1 }
}

/// Test only (feature `test-panic`): panics when `TLSEXT_SHIM_TEST_PANIC` names `point`
/// (`ticket_cb`, `ctx_new`), so tests can prove that every hook's panic boundary holds.
#[cfg(feature = "test-panic")]
pub fn test_panic_point(point: &str) {
    if std::env::var("TLSEXT_SHIM_TEST_PANIC").is_ok_and(|v| v == point) {
        panic!("TLSEXT_SHIM_TEST_PANIC={point}");
    }
}

/// The EVP ticket-key callback installed on contexts that use a key ring.
///
/// # Safety
/// Called by libssl with the arguments of its contract: `key_name` points to 16 bytes and
/// `iv` to `EVP_MAX_IV_LENGTH` bytes, writable when `enc == 1`, readable otherwise.
pub unsafe extern "C" fn ticket_key_evp_cb(
    s: *mut SSL,
    key_name: *mut u8,
    iv: *mut u8,
    cctx: *mut EVP_CIPHER_CTX,
    hctx: *mut EVP_MAC_CTX,
    enc: c_int,
) -> c_int {
    // A panic must not unwind into libssl: answer "no ticket" / "unknown key" instead.
    std::panic::catch_unwind(|| {
        // SAFETY: forwarded contract of this callback.
        unsafe { ticket_key(s, key_name, iv, cctx, hctx, enc) }
    })
    .unwrap_or(0)
}

/// # Safety
/// As for [`ticket_key_evp_cb`].
unsafe fn ticket_key(
    s: *mut SSL,
    key_name: *mut u8,
    iv: *mut u8,
    cctx: *mut EVP_CIPHER_CTX,
    hctx: *mut EVP_MAC_CTX,
    enc: c_int,
) -> c_int {
    #[cfg(feature = "test-panic")]
    test_panic_point("ticket_cb");
    if s.is_null() || key_name.is_null() || iv.is_null() || cctx.is_null() || hctx.is_null() {
        return 0;
    }
    if let Some(hook) = BEFORE_TICKET.get() {
        hook();
    }
    // SAFETY: `s` is the live connection being handshaken.
    let ctx = unsafe { SSL_get_SSL_CTX(s) };
    // SAFETY: `ctx` is live as long as `s` is.
    let Some(state) = (unsafe { ctx_state(ctx) }) else {
        return 0;
    };
    let Some(ring) = state.ring.load_full() else {
        return 0;
    };
    // A connection the shim routed to a vhost uses that vhost's own keys.
    // SAFETY: `s` is live.
    let vhost = unsafe { super::sni::choice(s) };
    let snapshot = match &vhost {
        Some(vhost) => vhost.keys(&ring),
        None => ring.snapshot(),
    };
    let now = ring::now();
    if enc == 1 {
        let Some(entry) = snapshot.encrypting(now) else {
            return 0;
        };
        let key = &entry.key;
        let until = entry.policy.decrypt.until;
        // SAFETY: `s` is live (contract).
        unsafe { apply_lifetime(s, (until != ring::UnixTime::MAX).then(|| until.saturating_sub(now))) };
        // SAFETY: `key_name` points to 16 writable bytes (contract).
        unsafe { std::ptr::copy_nonoverlapping(key.name().0.as_ptr(), key_name, 16) };
        // The sealer's per-thread generator: no lock and no system call per ticket
        // (OpenSSL's RAND_bytes costs more than the rest of this callback).
        watch_forks();
        let Ok(fresh) = crate::ticket::seal::fresh_iv() else {
            return -1;
        };
        // SAFETY: `iv` points to at least 16 writable bytes (contract).
        unsafe { std::ptr::copy_nonoverlapping(fresh.as_ptr(), iv, 16) };
        // SAFETY: `cctx` is libssl's fresh context; `iv` holds 16 bytes.
        if !unsafe { init_cipher(cctx, key, iv, true) } {
            return -1;
        }
        // SAFETY: `hctx` is live (contract).
        if !unsafe { key_mac(hctx, key) } {
            return -1;
        }
        crate::metrics::global().ticket_issued(key.name());
        return 1;
    }
    let mut name = [0u8; 16];
    // SAFETY: `key_name` points to the ticket's 16 name bytes (contract).
    unsafe { std::ptr::copy_nonoverlapping(key_name, name.as_mut_ptr(), 16) };
    let found = match snapshot.find(&name, now) {
        Ok(found) => found,
        Err(e) => {
            let lookup = if e == crate::ticket::TicketError::ExpiredKey {
                KeyLookup::Expired
            } else {
                let router = state.sni.load_full();
                let elsewhere = router.is_some_and(|r| r.issued_elsewhere(&name, vhost.as_deref(), &ring, now));
                if elsewhere {
                    KeyLookup::OtherVhost
                } else {
                    KeyLookup::Unknown
                }
            };
            note_lookup(lookup);
            return 0;
        }
    };
    note_lookup(KeyLookup::Found);
    let key = found.key;
    // SAFETY: `cctx` is libssl's fresh context; `iv` points into the ticket's 16 IV bytes.
    if !unsafe { init_cipher(cctx, key, iv, false) } {
        return -1;
    }
    // SAFETY: `hctx` is live (contract).
    if !unsafe { key_mac(hctx, key) } {
        return -1;
    }
    // SAFETY: `s` is live.
    let tls13 = unsafe { SSL_version(s) } == TLS1_3_VERSION;
    if found.renew || tls13 { 2 } else { 1 }
}
