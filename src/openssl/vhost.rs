//! A vhost's certificate, chain and private key, loaded through libcrypto and applied to a
//! connection with `SSL_use_cert_and_key` (the context, its options and its session-id
//! context stay as they are).

use std::ffi::{c_int, c_void};
use std::path::Path;

use openssl_sys::{EVP_PKEY, OPENSSL_STACK, SSL, SSL_CTX, X509};

use super::sys;

/// `X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS`.
const NO_PARTIAL_WILDCARDS: std::ffi::c_uint = 0x4;

/// A certificate, its chain and its key; the OpenSSL objects are reference counted and only
/// read after loading, so one `Certs` serves any number of connections on any thread.
pub struct Certs {
    leaf: *mut X509,
    key: *mut EVP_PKEY,
    /// The intermediates (not the leaf), owned.
    chain: *mut OPENSSL_STACK,
}

// SAFETY: X509, EVP_PKEY and the stack are never modified after loading; OpenSSL's reference
// counts are atomic, so sharing and freeing from any thread is sound.
unsafe impl Send for Certs {}
// SAFETY: as above.
unsafe impl Sync for Certs {}

impl Drop for Certs {
    fn drop(&mut self) {
        // SAFETY: we own one reference to each object and to every certificate on the stack.
        unsafe {
            free_chain(self.chain);
            sys::X509_free(self.leaf);
            sys::EVP_PKEY_free(self.key);
        }
    }
}

/// # Safety
/// `chain` is NULL or a stack of X509 we own a reference to each of.
unsafe fn free_chain(chain: *mut OPENSSL_STACK) {
    if chain.is_null() {
        return;
    }
    // SAFETY: `chain` is a live stack (caller).
    let n = unsafe { sys::OPENSSL_sk_num(chain) };
    for i in 0..n {
        // SAFETY: `i` is in range; every element is an X509 we own a reference to.
        unsafe { sys::X509_free(sys::OPENSSL_sk_value(chain, i).cast()) };
    }
    // SAFETY: the elements were released above.
    unsafe { sys::OPENSSL_sk_free(chain) };
}

/// libcrypto's queued errors as one line, and the queue cleared.
fn openssl_error() -> String {
    let mut out = Vec::new();
    loop {
        // SAFETY: reads this thread's error queue.
        let e = unsafe { sys::ERR_get_error() };
        if e == 0 {
            break;
        }
        let mut buf = [0u8; 256];
        // SAFETY: `buf` has room for 256 bytes, NUL included.
        unsafe { sys::ERR_error_string_n(e, buf.as_mut_ptr().cast(), buf.len()) };
        let text = std::ffi::CStr::from_bytes_until_nul(&buf).map(|c| c.to_string_lossy().into_owned());
        out.push(text.unwrap_or_default());
    }
    if out.is_empty() {
        "no detail from OpenSSL".into()
    } else {
        out.join("; ")
    }
}

/// The largest PEM file read (a certificate bundle or a key).
const MAX_PEM_FILE: u64 = 1024 * 1024;

/// Runs `f` on a memory BIO holding the whole of the PEM file `path`. The file is opened once,
/// without blocking, and must be a regular file (a FIFO at the path must not hang the server);
/// its bytes (a private key, possibly) are wiped when `f` returns.
fn with_pem<T>(path: &Path, f: impl FnOnce(*mut openssl_sys::BIO) -> T) -> Result<T, String> {
    use std::io::Read as _;
    let file =
        crate::ticket::format::open_regular(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let mut data = zeroize::Zeroizing::new(Vec::new());
    file.take(MAX_PEM_FILE + 1)
        .read_to_end(&mut data)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let len = c_int::try_from(data.len())
        .ok()
        .filter(|&n| u64::try_from(n).is_ok_and(|n| n <= MAX_PEM_FILE))
        .ok_or_else(|| format!("{}: larger than {MAX_PEM_FILE} bytes: not a PEM file", path.display()))?;
    // SAFETY: a read-only BIO over `data`, which outlives it (freed below).
    let bio = unsafe { sys::BIO_new_mem_buf(data.as_ptr().cast(), len) };
    if bio.is_null() {
        return Err(format!("{}: cannot read: {}", path.display(), openssl_error()));
    }
    let out = f(bio);
    // SAFETY: `bio` came from BIO_new_mem_buf and is freed once.
    unsafe { sys::BIO_free(bio) };
    Ok(out)
}

/// Reads every PEM certificate in `path`, leaf first.
fn read_certs(path: &Path) -> Result<Vec<*mut X509>, String> {
    let certs = with_pem(path, |bio| {
        let mut certs = Vec::new();
        loop {
            // SAFETY: `bio` is live; no password callback is needed for certificates.
            let x = unsafe {
                sys::PEM_read_bio_X509(bio, std::ptr::null_mut(), std::ptr::null_mut(), std::ptr::null_mut())
            };
            if x.is_null() {
                break;
            }
            certs.push(x);
        }
        // SAFETY: reading stops with "no start line" at the end of the file; that is not an
        // error.
        unsafe { sys::ERR_clear_error() };
        certs
    })?;
    if certs.is_empty() {
        return Err(format!("{}: no PEM certificate found", path.display()));
    }
    Ok(certs)
}

impl Certs {
    /// Loads a PEM chain (leaf first) and a PEM private key, and checks that they match.
    pub fn load(cert: &Path, key: &Path) -> Result<Certs, String> {
        let mut certs = read_certs(cert)?.into_iter();
        let leaf = certs.next().unwrap_or(std::ptr::null_mut());
        // SAFETY: creates an empty stack.
        let chain = unsafe { sys::OPENSSL_sk_new_null() };
        let mut out = Certs {
            leaf,
            key: std::ptr::null_mut(),
            chain,
        };
        for x in certs {
            // SAFETY: `chain` is live; on success it holds our reference to `x`.
            if out.chain.is_null() || unsafe { sys::OPENSSL_sk_push(out.chain, x.cast::<c_void>()) } == 0 {
                // SAFETY: `x` was not taken by the stack.
                unsafe { sys::X509_free(x) };
            }
        }
        out.key = with_pem(key, |bio| {
            // SAFETY: `bio` is live; an encrypted key fails (no password callback).
            unsafe {
                sys::PEM_read_bio_PrivateKey(bio, std::ptr::null_mut(), std::ptr::null_mut(), std::ptr::null_mut())
            }
        })?;
        if out.key.is_null() {
            return Err(format!(
                "{}: no usable PEM private key: {}",
                key.display(),
                openssl_error()
            ));
        }
        // SAFETY: both objects are live.
        if unsafe { sys::X509_check_private_key(out.leaf, out.key) } != 1 {
            let _ = openssl_error();
            return Err(format!(
                "{}: the private key does not match the certificate {}",
                key.display(),
                cert.display()
            ));
        }
        Ok(out)
    }

    /// Takes the certificate, chain and key an existing context serves.
    ///
    /// # Safety
    /// `ctx` is a live `SSL_CTX`.
    pub unsafe fn from_ctx(ctx: *const SSL_CTX) -> Result<Certs, String> {
        // SAFETY: `ctx` is live (caller).
        let leaf = unsafe { sys::SSL_CTX_get0_certificate(ctx) };
        // SAFETY: as above.
        let key = unsafe { sys::SSL_CTX_get0_privatekey(ctx) };
        if leaf.is_null() || key.is_null() {
            return Err("the SSL_CTX has no certificate and key".into());
        }
        // SAFETY: take our own references to the context's objects.
        unsafe {
            sys::X509_up_ref(leaf);
            sys::EVP_PKEY_up_ref(key);
        }
        // SAFETY: creates an empty stack.
        let chain = unsafe { sys::OPENSSL_sk_new_null() };
        let certs = Certs { leaf, key, chain };
        let mut ctx_chain: *mut OPENSSL_STACK = std::ptr::null_mut();
        if let Some(ctrl) = super::real::real().ctx_ctrl {
            // SAFETY: SSL_CTRL_GET_CHAIN_CERTS (115) stores a borrowed stack pointer.
            unsafe { ctrl(ctx.cast_mut(), 115, 0, (&raw mut ctx_chain).cast()) };
        }
        if !ctx_chain.is_null() && !certs.chain.is_null() {
            // SAFETY: `ctx_chain` is the context's live stack of X509.
            let n = unsafe { sys::OPENSSL_sk_num(ctx_chain) };
            for i in 0..n {
                // SAFETY: `i` is in range.
                let x = unsafe { sys::OPENSSL_sk_value(ctx_chain, i) }.cast::<X509>();
                // SAFETY: take a reference for our stack; give it back if the push fails.
                unsafe {
                    sys::X509_up_ref(x);
                    if sys::OPENSSL_sk_push(certs.chain, x.cast::<c_void>()) == 0 {
                        sys::X509_free(x);
                    }
                }
            }
        }
        Ok(certs)
    }

    /// Whether the leaf certificate covers `pattern` (a host name, or `*.rest`, checked with a
    /// probe label in place of `*`).
    pub fn covers(&self, pattern: &str) -> bool {
        let probe = match pattern.strip_prefix("*.") {
            Some(rest) => format!("tlsext-shim-probe.{rest}"),
            None => pattern.to_string(),
        };
        // SAFETY: `leaf` is live; the name is passed with its length; no peername out.
        unsafe {
            sys::X509_check_host(
                self.leaf,
                probe.as_ptr().cast(),
                probe.len(),
                NO_PARTIAL_WILDCARDS,
                std::ptr::null_mut(),
            ) == 1
        }
    }

    /// Whole days until the leaf certificate expires (negative once it has).
    pub fn days_left(&self) -> Option<i32> {
        // SAFETY: `leaf` is live; the returned time is borrowed from it.
        let not_after = unsafe { sys::X509_get0_notAfter(self.leaf) };
        let (mut days, mut secs): (c_int, c_int) = (0, 0);
        // SAFETY: NULL `from` means now; both outputs are writable.
        (unsafe { sys::ASN1_TIME_diff(&mut days, &mut secs, std::ptr::null(), not_after) } == 1).then_some(days)
    }

    /// Serves this certificate, chain and key on one connection.
    ///
    /// # Safety
    /// `ssl` is a live connection in its handshake (a ClientHello callback).
    pub unsafe fn apply(&self, ssl: *mut SSL) -> bool {
        // SAFETY: live objects; OpenSSL takes its own references (override = 1 replaces what
        // the connection had).
        unsafe { sys::SSL_use_cert_and_key(ssl, self.leaf, self.key, self.chain, 1) == 1 }
    }
}

/// What `config check` and the loader report about one vhost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VhostFinding {
    /// The files cannot be used (unreadable, no certificate, key mismatch).
    Error(String),
    /// A name the certificate does not cover.
    NameNotCovered(String),
    /// The certificate expires within 30 days (or has expired): days left.
    ExpiresSoon(i32),
}

/// Loads a vhost's files and checks them: key matches certificate, every name covered,
/// expiry more than 30 days away.
pub fn check_vhost_files(names: &[String], cert: &Path, key: &Path) -> (Option<Certs>, Vec<VhostFinding>) {
    match Certs::load(cert, key) {
        Err(e) => (None, vec![VhostFinding::Error(e)]),
        Ok(c) => {
            let mut findings: Vec<VhostFinding> = names
                .iter()
                .filter(|n| !c.covers(n))
                .map(|n| VhostFinding::NameNotCovered(n.clone()))
                .collect();
            if let Some(days) = c.days_left().filter(|&d| d < 30) {
                findings.push(VhostFinding::ExpiresSoon(days));
            }
            (Some(c), findings)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Certs;

    fn err(r: Result<Certs, String>) -> String {
        match r {
            Ok(_) => panic!("loaded"),
            Err(e) => e,
        }
    }

    #[test]
    fn refuses_fifos_oversized_and_empty_pem_files_by_name() {
        let dir = std::env::temp_dir().join(format!("tlsext-vhost-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("cert.fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let e = err(Certs::load(&fifo, &fifo));
        assert!(e.contains("cert.fifo") && e.contains("not a regular file"), "{e}");
        let big = dir.join("big.pem");
        std::fs::write(&big, vec![b'A'; 1024 * 1024 + 1]).unwrap();
        let e = err(Certs::load(&big, &big));
        assert!(e.contains("big.pem") && e.contains("larger than"), "{e}");
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, b"").unwrap();
        let e = err(Certs::load(&empty, &empty));
        assert!(e.contains("empty.pem") && e.contains("no PEM certificate"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
