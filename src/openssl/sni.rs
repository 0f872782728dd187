//! SNI routing: the vhost is chosen in the ClientHello callback from our own parse of the raw
//! server_name extension (tickets are decrypted before the servername callback runs), its
//! certificate is applied to the connection, and the choice is remembered on the `SSL` so the
//! ticket-key callback seals and opens with that vhost's own keys.
//!
//! Each vhost's ticket keys are derived from the context's ring and the vhost's first name
//! ([`crate::ticket::TicketKey::derive`]): every server sharing the key files agrees on them,
//! and a ticket issued under one vhost never resumes under another, nor without SNI.
//! Connections that keep the server's own certificate use the ring's keys unchanged.

use std::ffi::{c_int, c_long, c_void};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::{ArcSwap, ArcSwapOption};
use once_cell::sync::Lazy;
use openssl_sys::{CRYPTO_EX_DATA, SSL};

use crate::codec::ServerNameList;
use crate::metrics::RateLimit;
use crate::sni::{Pattern, VhostTable};
use crate::ticket::source::Signature;
use crate::ticket::{KeyRing, Snapshot};

use super::ctx::ctx_state;
use super::sys;
use super::vhost::Certs;

/// `CRYPTO_EX_INDEX_SSL`.
const CRYPTO_EX_INDEX_SSL: c_int = 0;
/// `TLSEXT_TYPE_server_name`.
const EXT_SERVER_NAME: std::ffi::c_uint = 0;
/// `SSL_AD_UNRECOGNIZED_NAME`.
const AD_UNRECOGNIZED_NAME: c_int = 112;
/// `SSL_TLSEXT_ERR_OK`.
const TLSEXT_ERR_OK: c_int = 0;
/// `SSL_TLSEXT_ERR_NOACK`.
const TLSEXT_ERR_NOACK: c_int = 3;

/// The files a vhost's certificate came from, watched for changes.
struct CertFiles {
    cert: PathBuf,
    key: PathBuf,
    seen: (Signature, Signature),
}

/// One virtual host: its names, its certificate and its ticket keys.
pub struct Vhost {
    /// The first name as configured (normalised); it labels the vhost's derived keys.
    pub label: String,
    /// Its position in the router (and its slot in the metrics).
    pub index: usize,
    /// Every name, as configured.
    pub names: Vec<String>,
    certs: ArcSwap<Certs>,
    files: Option<Mutex<CertFiles>>,
    derived: ArcSwapOption<(u64, Arc<Snapshot>)>,
}

impl Vhost {
    fn new(index: usize, names: Vec<String>, certs: Certs, files: Option<(PathBuf, PathBuf)>) -> Result<Vhost, String> {
        let first = names.first().ok_or("a vhost needs at least one name")?;
        let label = Pattern::new(first)
            .map_err(|e| format!("name {first:?}: {e}"))?
            .to_string();
        let files = files.map(|(cert, key)| {
            let seen = (Signature::of(&cert), Signature::of(&key));
            Mutex::new(CertFiles { cert, key, seen })
        });
        Ok(Vhost {
            label,
            index,
            names,
            certs: ArcSwap::from_pointee(certs),
            files,
            derived: ArcSwapOption::empty(),
        })
    }

    /// The vhost's ticket keys for the base ring `base` as it is now.
    pub fn keys(&self, base: &KeyRing) -> Arc<Snapshot> {
        let base = base.load();
        if let Some(d) = self.derived.load().as_ref().filter(|d| d.0 == base.generation()) {
            return Arc::clone(&d.1);
        }
        let derived = Arc::new(base.derive(self.label.as_bytes()));
        self.derived
            .store(Some(Arc::new((base.generation(), Arc::clone(&derived)))));
        derived
    }

    /// Reloads the certificate if its files changed; keeps the last good one on error.
    fn maybe_reload(&self) {
        let Some(files) = &self.files else { return };
        let Ok(mut f) = files.try_lock() else { return };
        let now = (Signature::of(&f.cert), Signature::of(&f.key));
        if now == f.seen {
            return;
        }
        f.seen = now;
        match Certs::load(&f.cert, &f.key) {
            Ok(c) => {
                log_info!("vhost {}: certificate reloaded from {}", self.label, f.cert.display());
                self.certs.store(Arc::new(c));
                crate::metrics::global().cert_reload(true);
            }
            Err(e) => {
                log_error!("vhost {}: {e}; keeping the certificate loaded before", self.label);
                crate::metrics::global().cert_reload(false);
            }
        }
    }
}

/// The names → vhosts table and the strict switch.
pub struct SniRouter {
    table: ArcSwap<(VhostTable<usize>, Vec<Arc<Vhost>>)>,
    /// Serialises `add`: readers never take it.
    writer: Mutex<()>,
    strict: AtomicBool,
    /// When the certificate files are looked at again.
    reload: RateLimit,
}

impl Default for SniRouter {
    fn default() -> Self {
        SniRouter::new(1000)
    }
}

impl SniRouter {
    /// An empty router; certificate files are re-checked at most every `reload_interval_ms`.
    pub fn new(reload_interval_ms: u64) -> Self {
        SniRouter {
            table: ArcSwap::from_pointee((VhostTable::new(), Vec::new())),
            writer: Mutex::new(()),
            strict: AtomicBool::new(false),
            reload: RateLimit::new(reload_interval_ms),
        }
    }

    /// Strict mode: an unknown or missing name ends the handshake with `unrecognized_name`.
    pub fn set_strict(&self, strict: bool) {
        self.strict.store(strict, Ordering::Relaxed);
    }

    /// Adds a vhost serving `certs` for `names` (exact names or `*.example.com`); refused
    /// (nothing changes) if a name is invalid or already taken.
    pub fn add(&self, names: Vec<String>, certs: Certs, files: Option<(PathBuf, PathBuf)>) -> Result<(), String> {
        let _writer = self.writer.lock().map_err(|_| "router lock poisoned".to_string())?;
        let current = self.table.load_full();
        let index = current.1.len();
        let vhost = Arc::new(Vhost::new(index, names, certs, files)?);
        // Copy-on-write: only the new names are inserted; a refusal leaves the live table as it was.
        let mut table = current.0.clone();
        for name in &vhost.names {
            let pattern = Pattern::new(name).map_err(|e| format!("vhost {}: name {name:?}: {e}", vhost.label))?;
            table
                .insert(pattern, index)
                .map_err(|e| format!("vhost {}: {e}", vhost.label))?;
        }
        let mut vhosts = current.1.clone();
        vhosts.push(vhost);
        self.table.store(Arc::new((table, vhosts)));
        Ok(())
    }

    /// Number of vhosts.
    pub fn len(&self) -> usize {
        self.table.load().1.len()
    }

    /// Whether there is no vhost.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The vhost serving the wire name `name`, if any.
    pub fn lookup(&self, name: &[u8]) -> Option<Arc<Vhost>> {
        let t = self.table.load();
        t.0.lookup(name).and_then(|&i| t.1.get(i)).cloned()
    }

    /// Whether a ticket key named `name`, unknown to the connection's own keys (those of
    /// `current`, or the base ring's when `None`), belongs to the base ring or to another
    /// vhost whose keys were derived in this process: a ticket presented under the wrong name.
    pub fn issued_elsewhere(&self, name: &[u8; 16], current: Option<&Vhost>, base: &KeyRing, now: u64) -> bool {
        let known = |snap: &Snapshot| snap.find(name, now).is_ok();
        if current.is_some() && known(&base.load()) {
            return true;
        }
        let generation = base.load().generation();
        self.table
            .load()
            .1
            .iter()
            .filter(|v| current.is_none_or(|c| !std::ptr::eq(c, v.as_ref())))
            .any(|v| {
                v.derived
                    .load()
                    .as_ref()
                    .is_some_and(|d| d.0 == generation && known(&d.1))
            })
    }

    fn maybe_reload(&self) {
        if !self.reload.try_acquire(super::now_ms()) {
            return;
        }
        for v in self.table.load().1.iter() {
            v.maybe_reload();
        }
    }
}

unsafe extern "C" fn free_choice(
    _parent: *mut c_void,
    ptr: *mut c_void,
    _ad: *mut CRYPTO_EX_DATA,
    _idx: c_int,
    _argl: c_long,
    _argp: *mut c_void,
) {
    if !ptr.is_null() {
        let _ = std::panic::catch_unwind(|| {
            // SAFETY: non-NULL values in this slot are `Arc::into_raw` of a `Vhost`, released
            // exactly once here (when the SSL is freed) or in `set_choice`.
            drop(unsafe { Arc::from_raw(ptr.cast_const().cast::<Vhost>()) });
        });
    }
}

static SSL_INDEX: Lazy<c_int> = Lazy::new(|| sys::new_ex_index(CRYPTO_EX_INDEX_SSL, free_choice));

/// Remembers on the connection which vhost it serves (`None`: the server's own certificate).
///
/// # Safety
/// `s` is a live connection.
unsafe fn set_choice(s: *mut SSL, vhost: Option<Arc<Vhost>>) {
    if *SSL_INDEX < 0 {
        return;
    }
    // SAFETY: `s` is live; the slot is ours.
    let old = unsafe { sys::SSL_get_ex_data(s, *SSL_INDEX) };
    let new = vhost.map_or(std::ptr::null_mut(), |v| Arc::into_raw(v).cast_mut().cast::<c_void>());
    // SAFETY: as above; on failure we still own `new`.
    if unsafe { sys::SSL_set_ex_data(s, *SSL_INDEX, new) } != 1 {
        free_ptr(new);
        return;
    }
    free_ptr(old);
}

fn free_ptr(p: *mut c_void) {
    if !p.is_null() {
        // SAFETY: values in our slot are `Arc::into_raw` of a `Vhost`; this one is no longer
        // stored anywhere.
        drop(unsafe { Arc::from_raw(p.cast_const().cast::<Vhost>()) });
    }
}

/// The vhost this connection serves, if the shim chose one.
///
/// # Safety
/// `s` is a live connection.
pub unsafe fn choice(s: *const SSL) -> Option<Arc<Vhost>> {
    if *SSL_INDEX < 0 {
        return None;
    }
    // SAFETY: `s` is live; the slot is ours.
    let p = unsafe { sys::SSL_get_ex_data(s, *SSL_INDEX) }
        .cast_const()
        .cast::<Vhost>();
    if p.is_null() {
        return None;
    }
    // SAFETY: the slot holds one count of this Arc for as long as the SSL lives; take another.
    unsafe { Arc::increment_strong_count(p) };
    // SAFETY: the count taken above.
    Some(unsafe { Arc::from_raw(p) })
}

/// The metrics slot of the connection: its vhost's index, or for the server's own
/// certificate the slot after the last vhost (0 without a router).
///
/// # Safety
/// `s` is a live connection.
pub unsafe fn metrics_slot(s: *const SSL) -> usize {
    // SAFETY: `s` is live.
    if let Some(v) = unsafe { choice(s) } {
        return v.index;
    }
    // SAFETY: `s` is live; its context outlives it.
    unsafe { ctx_state(sys::SSL_get_SSL_CTX(s)) }
        .and_then(|st| st.sni.load_full())
        .map_or(0, |r| r.len())
}

/// The labels of the vhosts in metrics order, then `default` for the server's own certificate.
pub fn metrics_labels(router: Option<&SniRouter>) -> Vec<String> {
    let mut labels: Vec<String> = router
        .map(|r| r.table.load().1.iter().map(|v| v.label.clone()).collect())
        .unwrap_or_default();
    labels.push("default".into());
    labels
}

/// The raw host_name the client sent, if any and well formed.
///
/// # Safety
/// `s` is a live connection inside its ClientHello callback.
unsafe fn client_host_name<'a>(s: *mut SSL) -> Option<&'a [u8]> {
    let mut p: *const u8 = std::ptr::null();
    let mut len = 0usize;
    // SAFETY: `s` is in its ClientHello callback; outputs are writable.
    if unsafe { sys::SSL_client_hello_get0_ext(s, EXT_SERVER_NAME, &mut p, &mut len) } != 1 || p.is_null() {
        return None;
    }
    // SAFETY: OpenSSL points into the ClientHello it holds for the whole callback.
    let raw = unsafe { std::slice::from_raw_parts(p, len) };
    ServerNameList::parse(raw).ok()?.host_name().map(str::as_bytes)
}

/// The ClientHello callback installed on contexts with a router.
///
/// # Safety
/// Called by libssl with a live connection and a writable alert.
pub unsafe extern "C" fn client_hello_cb(s: *mut SSL, al: *mut c_int, _arg: *mut c_void) -> c_int {
    let routed = std::panic::catch_unwind(|| {
        // SAFETY: forwarded contract.
        unsafe { route(s, al) }
    });
    match routed {
        Ok(Routed::Served) => 1,
        Ok(Routed::Refused) => 0,
        // Not ours (or a bug caught): the application's own callback decides, as before.
        Ok(Routed::NotOurs) | Err(_) => {
            // SAFETY: `s` is live; the application's callback gets its own argument.
            unsafe { call_app_client_hello(s, al) }
        }
    }
}

enum Routed {
    Served,
    Refused,
    NotOurs,
}

/// # Safety
/// As for [`client_hello_cb`].
unsafe fn route(s: *mut SSL, al: *mut c_int) -> Routed {
    let m = crate::metrics::global();
    m.handshake();
    // SAFETY: `s` is live; its context outlives it.
    let Some(state) = (unsafe { ctx_state(sys::SSL_get_SSL_CTX(s)) }) else {
        return Routed::NotOurs;
    };
    let Some(router) = state.sni.load_full() else {
        m.vhost_handshake(0);
        return Routed::NotOurs;
    };
    router.maybe_reload();
    // SAFETY: inside the ClientHello callback.
    let name = unsafe { client_host_name(s) };
    match name.and_then(|n| router.lookup(n)) {
        Some(vhost) => {
            // SAFETY: `s` is in its handshake.
            if !unsafe { vhost.certs.load().apply(s) } {
                log_error!(
                    "vhost {}: OpenSSL refused the certificate; serving the default one",
                    vhost.label
                );
                // SAFETY: `s` is live.
                unsafe { set_choice(s, None) };
                return Routed::NotOurs;
            }
            log_debug!(
                "SNI {:?} -> vhost {}",
                String::from_utf8_lossy(name.unwrap_or_default()),
                vhost.label
            );
            m.vhost_handshake(vhost.index);
            // SAFETY: `s` is live.
            unsafe { set_choice(s, Some(vhost)) };
            Routed::Served
        }
        None => {
            // SAFETY: `s` is live.
            unsafe { set_choice(s, None) };
            let default_slot = router.len();
            if router.strict.load(Ordering::Relaxed) {
                m.strict_refusal(default_slot);
                log_debug!("SNI {:?} refused (strict)", name.map(String::from_utf8_lossy));
                if !al.is_null() {
                    // SAFETY: `al` is writable (contract).
                    unsafe { al.write(AD_UNRECOGNIZED_NAME) };
                }
                return Routed::Refused;
            }
            m.vhost_handshake(default_slot);
            Routed::NotOurs
        }
    }
}

/// # Safety
/// `s` is a live connection in its ClientHello callback.
unsafe fn call_app_client_hello(s: *mut SSL, al: *mut c_int) -> c_int {
    // SAFETY: `s` is live; its context outlives it.
    let Some(state) = (unsafe { ctx_state(sys::SSL_get_SSL_CTX(s)) }) else {
        return 1;
    };
    match state.app_client_hello() {
        // SAFETY: the application's callback, with the argument it registered.
        Some((cb, arg)) => unsafe { cb(s, al, arg) },
        None => 1,
    }
}

/// The servername callback installed on contexts with a router: acknowledges names the shim
/// served (so OpenSSL records them in the session) and hands every other connection to the
/// application's own callback.
///
/// # Safety
/// Called by libssl with a live connection, a writable alert and the registered argument.
pub unsafe extern "C" fn servername_cb(s: *mut SSL, al: *mut c_int, arg: *mut c_void) -> c_int {
    std::panic::catch_unwind(|| {
        // SAFETY: `s` is live.
        if unsafe { choice(s) }.is_some() {
            return TLSEXT_ERR_OK;
        }
        // SAFETY: `s` is live; its context outlives it.
        let app = unsafe { ctx_state(sys::SSL_get_SSL_CTX(s)) }.and_then(|st| st.app_servername());
        match app {
            // SAFETY: the application's callback with the argument OpenSSL holds for it.
            Some(cb) => unsafe { cb(s, al, arg) },
            None => TLSEXT_ERR_NOACK,
        }
    })
    .unwrap_or(TLSEXT_ERR_NOACK)
}
