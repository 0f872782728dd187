//! What the shim keeps on each `SSL_CTX`, in OpenSSL's ex_data, freed with the context.

use std::ffi::{c_int, c_long, c_void};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use arc_swap::ArcSwapOption;
use once_cell::sync::Lazy;
use openssl_sys::{CRYPTO_EX_DATA, SSL_CTX};

use crate::ticket::KeyRing;

use super::outcome::{DecCb, GenCb};
use super::real::ClientHelloCb;
use super::sni::SniRouter;
use super::{outcome, real, sni, ticket_cb};

/// `CRYPTO_EX_INDEX_SSL_CTX`.
const CRYPTO_EX_INDEX_SSL_CTX: c_int = 1;

/// Per-context state. Created once per context, never replaced, freed by OpenSSL's
/// ex_data free callback when the context is freed.
#[derive(Default)]
pub struct CtxState {
    /// The ring whose keys seal and open this context's tickets.
    pub ring: ArcSwapOption<KeyRing>,
    /// Whether the log already said that the application's own ticket keys are set aside.
    pub app_tickets_noted: std::sync::atomic::AtomicBool,
    /// SNI routing, when configured for this context.
    pub sni: ArcSwapOption<SniRouter>,
    /// The application's servername callback (a function pointer, 0 for none).
    app_servername_cb: AtomicUsize,
    /// The application's ClientHello callback and its argument (an address).
    app_client_hello: ArcSwapOption<(ClientHelloCb, usize)>,
    /// The application's session-ticket callbacks (generate, decrypt) and their argument.
    app_session_ticket: ArcSwapOption<(Option<GenCb>, Option<DecCb>, usize)>,
    /// Whether the shim's ClientHello callback is installed (the application's is chained).
    pub client_hello_hooked: std::sync::atomic::AtomicBool,
    /// Whether the shim's session-ticket callbacks are installed (the application's chained).
    pub session_ticket_hooked: std::sync::atomic::AtomicBool,
}

impl CtxState {
    /// Records the application's servername callback (OpenSSL keeps its argument).
    pub fn set_app_servername(&self, cb: Option<ServernameCb>) {
        self.app_servername_cb
            .store(cb.map_or(0, |f| f as usize), Ordering::Release);
    }

    /// The application's servername callback.
    pub fn app_servername(&self) -> Option<ServernameCb> {
        let raw = self.app_servername_cb.load(Ordering::Acquire);
        // SAFETY: non-zero values were stored from a `ServernameCb` by `set_app_servername`.
        (raw != 0).then(|| unsafe { std::mem::transmute::<usize, ServernameCb>(raw) })
    }

    /// Records the application's ClientHello callback and argument.
    pub fn set_app_client_hello(&self, cb: Option<ClientHelloCb>, arg: *mut c_void) {
        self.app_client_hello.store(cb.map(|f| Arc::new((f, arg as usize))));
    }

    /// Records the application's session-ticket callbacks and argument.
    pub fn set_app_session_ticket(&self, gen_cb: Option<GenCb>, dec_cb: Option<DecCb>, arg: *mut c_void) {
        self.app_session_ticket
            .store((gen_cb.is_some() || dec_cb.is_some()).then(|| Arc::new((gen_cb, dec_cb, arg as usize))));
    }

    /// The application's session-ticket callbacks and argument.
    pub fn app_session_ticket(&self) -> Option<(Option<GenCb>, Option<DecCb>, *mut c_void)> {
        self.app_session_ticket
            .load()
            .as_ref()
            .map(|p| (p.0, p.1, p.2 as *mut c_void))
    }

    /// The application's ClientHello callback and argument.
    pub fn app_client_hello(&self) -> Option<(ClientHelloCb, *mut c_void)> {
        self.app_client_hello.load().as_ref().map(|p| (p.0, p.1 as *mut c_void))
    }
}

/// The servername callback type (`SSL_CTX_set_tlsext_servername_callback`).
pub type ServernameCb = unsafe extern "C" fn(*mut openssl_sys::SSL, *mut c_int, *mut c_void) -> c_int;

unsafe extern "C" fn free_state(
    _parent: *mut c_void,
    ptr: *mut c_void,
    _ad: *mut CRYPTO_EX_DATA,
    _idx: c_int,
    _argl: c_long,
    _argp: *mut c_void,
) {
    if ptr.is_null() {
        return;
    }
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: non-NULL values in this slot are only ever set by `ctx_state` from
        // `Box::into_raw`, and OpenSSL calls this exactly once when the context dies.
        drop(unsafe { Box::from_raw(ptr.cast::<CtxState>()) });
    });
}

static CTX_INDEX: Lazy<c_int> = Lazy::new(|| super::sys::new_ex_index(CRYPTO_EX_INDEX_SSL_CTX, free_state));

/// The shim's state on `ctx`, if it has any.
///
/// # Safety
/// `ctx` is a live `SSL_CTX`. The reference is valid until the context is freed.
pub unsafe fn ctx_state<'a>(ctx: *const SSL_CTX) -> Option<&'a CtxState> {
    if ctx.is_null() || *CTX_INDEX < 0 {
        return None;
    }
    // SAFETY: `ctx` is live (caller) and the index is ours.
    let p = unsafe { openssl_sys::SSL_CTX_get_ex_data(ctx, *CTX_INDEX) };
    // SAFETY: non-NULL values in our slot are `Box<CtxState>` pointers that live as long as
    // the context.
    unsafe { p.cast::<CtxState>().as_ref() }
}

/// The shim's state on `ctx`, created on first use.
///
/// # Safety
/// `ctx` is a live `SSL_CTX`, not being configured concurrently by another thread (as for
/// every OpenSSL setter).
pub unsafe fn ctx_state_or_create<'a>(ctx: *mut SSL_CTX) -> Option<&'a CtxState> {
    // SAFETY: forwarded contract.
    if let Some(state) = unsafe { ctx_state(ctx) } {
        return Some(state);
    }
    if *CTX_INDEX < 0 {
        return None;
    }
    let raw = Box::into_raw(Box::<CtxState>::default());
    // SAFETY: `ctx` is live; on success OpenSSL owns `raw` and frees it via `free_state`.
    if unsafe { openssl_sys::SSL_CTX_set_ex_data(ctx, *CTX_INDEX, raw.cast()) } != 1 {
        // SAFETY: OpenSSL did not take it; we still own `raw`.
        drop(unsafe { Box::from_raw(raw) });
        return None;
    }
    // SAFETY: `raw` is now owned by the context and lives until it is freed.
    unsafe { raw.as_ref() }
}

/// Errors of [`use_keyring`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachError {
    /// libssl's setter could not be found or refused.
    OpenSsl,
}

/// Makes `ring` seal and open the tickets of `ctx`: installs the EVP ticket-key callback
/// with libssl's real setter, and keeps a reference to the ring on the context.
///
/// # Safety
/// `ctx` is a live `SSL_CTX` not being configured concurrently by another thread.
pub unsafe fn use_keyring(ctx: *mut SSL_CTX, ring: Arc<KeyRing>) -> Result<(), AttachError> {
    // SAFETY: forwarded contract.
    let state = unsafe { ctx_state_or_create(ctx) }.ok_or(AttachError::OpenSsl)?;
    let set = real::real().set_ticket_key_evp_cb.ok_or(AttachError::OpenSsl)?;
    state.ring.store(Some(ring));
    // SAFETY: `ctx` is live and the callback has the prototype libssl expects.
    if unsafe { set(ctx, Some(ticket_cb::ticket_key_evp_cb)) } != 1 {
        state.ring.store(None);
        return Err(AttachError::OpenSsl);
    }
    // Statistics: every offered ticket's fate and every ClientHello. Failing to install them
    // costs only the counters.
    // SAFETY: `ctx` is live; `state` is its own.
    unsafe { hook_session_tickets(ctx, state) };
    // SAFETY: as above.
    unsafe { hook_client_hello(ctx, state) };
    Ok(())
}

/// Installs the shim's session-ticket callbacks (once per context).
///
/// # Safety
/// `ctx` is live and `state` is its state.
unsafe fn hook_session_tickets(ctx: *mut SSL_CTX, state: &CtxState) {
    if state.session_ticket_hooked.load(Ordering::Acquire) {
        return;
    }
    if let Some(set) = real::real().set_session_ticket_cb {
        // SAFETY: `ctx` is live; the callbacks have libssl's prototypes; no argument.
        if unsafe { set(ctx, Some(outcome::gen_cb), Some(outcome::dec_cb), std::ptr::null_mut()) } == 1 {
            state.session_ticket_hooked.store(true, Ordering::Release);
        }
    }
}

/// Installs the shim's ClientHello callback (once per context); it routes by SNI when a
/// router is attached and always hands unrouted connections to the application's callback.
///
/// # Safety
/// `ctx` is live and `state` is its state.
unsafe fn hook_client_hello(ctx: *mut SSL_CTX, state: &CtxState) {
    if state.client_hello_hooked.swap(true, Ordering::AcqRel) {
        return;
    }
    match real::real().set_client_hello_cb {
        // SAFETY: `ctx` is live; the callback has libssl's prototype; the argument is unused.
        Some(set) => unsafe { set(ctx, Some(sni::client_hello_cb), std::ptr::null_mut()) },
        None => state.client_hello_hooked.store(false, Ordering::Release),
    }
}

/// Routes this context's connections by SNI with `router`: installs the shim's ClientHello
/// and servername callbacks with libssl's real setters. Callbacks the application installs
/// afterwards (through this library's exports) are kept and called for names the shim does
/// not serve.
///
/// # Safety
/// `ctx` is a live `SSL_CTX` not being configured concurrently by another thread.
pub unsafe fn use_sni(ctx: *mut SSL_CTX, router: Arc<SniRouter>) -> Result<(), AttachError> {
    // SAFETY: forwarded contract.
    let state = unsafe { ctx_state_or_create(ctx) }.ok_or(AttachError::OpenSsl)?;
    let r = real::real();
    let (Some(_), Some(cb_ctrl)) = (r.set_client_hello_cb, r.ctx_callback_ctrl) else {
        return Err(AttachError::OpenSsl);
    };
    if state.ring.load().is_none() {
        // Vhost tickets are bound through the shim's ticket callback: without a ring of the
        // application's, use a random key of this context's own (like OpenSSL's default).
        let ring = KeyRing::new();
        let key =
            crate::ticket::TicketKey::generate(crate::ticket::KeySize::Aes256).map_err(|_| AttachError::OpenSsl)?;
        ring.add_key(key).map_err(|_| AttachError::OpenSsl)?;
        // SAFETY: forwarded contract.
        unsafe { use_keyring(ctx, Arc::new(ring)) }?;
    }
    state.sni.store(Some(router));
    // SAFETY: `ctx` is live; `state` is its own.
    unsafe { hook_client_hello(ctx, state) };
    // SAFETY: cmd 53 stores a servername callback of this prototype.
    let fp = unsafe { std::mem::transmute::<ServernameCb, unsafe extern "C" fn()>(sni::servername_cb) };
    // SAFETY: `ctx` is live.
    if unsafe { cb_ctrl(ctx, 53, Some(fp)) } != 1 {
        state.sni.store(None);
        return Err(AttachError::OpenSsl);
    }
    Ok(())
}
