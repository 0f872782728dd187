//! libssl's own functions, resolved once.
//!
//! This library exports functions with libssl's names (the preload layer). Calling
//! `openssl_sys::SSL_CTX_ctrl` from inside it would resolve to our own export and recurse,
//! so every libssl function we also export is called through this table. Each symbol is
//! resolved with `dlsym(RTLD_NEXT, ..)`; when libssl was loaded before us (or late, by
//! `dlopen`) that finds nothing and we ask the already-loaded `libssl.so.3` directly.

use std::ffi::{CStr, c_char, c_int, c_long, c_void};

use once_cell::sync::Lazy;
use openssl_sys::{EVP_CIPHER_CTX, EVP_MAC_CTX, SSL, SSL_CTX, SSL_METHOD};

/// `SSL_CTX_set_tlsext_ticket_key_evp_cb`'s callback type.
pub type TicketKeyEvpCb = unsafe extern "C" fn(
    s: *mut SSL,
    key_name: *mut u8,
    iv: *mut u8,
    cctx: *mut EVP_CIPHER_CTX,
    hctx: *mut EVP_MAC_CTX,
    enc: c_int,
) -> c_int;

/// `SSL_CTX_set_client_hello_cb`'s callback type.
pub type ClientHelloCb = unsafe extern "C" fn(s: *mut SSL, al: *mut c_int, arg: *mut c_void) -> c_int;

type SetTicketKeyEvpCb = unsafe extern "C" fn(*mut SSL_CTX, Option<TicketKeyEvpCb>) -> c_int;
type CtxNew = unsafe extern "C" fn(*const SSL_METHOD) -> *mut SSL_CTX;
type CtxNewEx = unsafe extern "C" fn(*mut c_void, *const c_char, *const SSL_METHOD) -> *mut SSL_CTX;
type SetClientHelloCb = unsafe extern "C" fn(*mut SSL_CTX, Option<ClientHelloCb>, *mut c_void);
type SetSessionTicketCb = unsafe extern "C" fn(
    *mut SSL_CTX,
    Option<super::outcome::GenCb>,
    Option<super::outcome::DecCb>,
    *mut c_void,
) -> c_int;
type CtxCtrl = unsafe extern "C" fn(*mut SSL_CTX, c_int, c_long, *mut c_void) -> c_long;
type CtxCallbackCtrl = unsafe extern "C" fn(*mut SSL_CTX, c_int, Option<unsafe extern "C" fn()>) -> c_long;

/// The real libssl functions that this library also exports.
pub struct Real {
    /// `SSL_CTX_new`.
    pub ctx_new: Option<CtxNew>,
    /// `SSL_CTX_new_ex`.
    pub ctx_new_ex: Option<CtxNewEx>,
    /// `SSL_CTX_set_client_hello_cb`.
    pub set_client_hello_cb: Option<SetClientHelloCb>,
    /// `SSL_CTX_set_session_ticket_cb`.
    pub set_session_ticket_cb: Option<SetSessionTicketCb>,
    /// `SSL_CTX_set_tlsext_ticket_key_evp_cb`.
    pub set_ticket_key_evp_cb: Option<SetTicketKeyEvpCb>,
    /// `SSL_CTX_ctrl`.
    pub ctx_ctrl: Option<CtxCtrl>,
    /// `SSL_CTX_callback_ctrl`.
    pub ctx_callback_ctrl: Option<CtxCallbackCtrl>,
}

/// Finds libssl's definition of `name`, never ours.
fn resolve(name: &CStr) -> *mut c_void {
    // SAFETY: RTLD_NEXT is a valid pseudo-handle and `name` is NUL-terminated.
    let sym = unsafe { libc::dlsym(libc::RTLD_NEXT, name.as_ptr()) };
    if !sym.is_null() {
        return sym;
    }
    // SAFETY: the library name is NUL-terminated; RTLD_NOLOAD never loads anything new.
    let handle = unsafe { libc::dlopen(c"libssl.so.3".as_ptr(), libc::RTLD_NOLOAD | libc::RTLD_LAZY) };
    if handle.is_null() {
        return std::ptr::null_mut();
    }
    // SAFETY: `handle` is a live handle from dlopen and `name` is NUL-terminated.
    let sym = unsafe { libc::dlsym(handle, name.as_ptr()) };
    // SAFETY: balances the dlopen above; libssl stays loaded because it was already loaded.
    unsafe { libc::dlclose(handle) };
    sym
}

macro_rules! real_fn {
    ($name:literal, $ty:ty) => {{
        let sym = resolve($name);
        if sym.is_null() {
            None
        } else {
            // SAFETY: `sym` is libssl's exported function of that name, whose C prototype
            // is `$ty` (OpenSSL 3 ABI).
            Some(unsafe { std::mem::transmute::<*mut c_void, $ty>(sym) })
        }
    }};
}

static REAL: Lazy<Real> = Lazy::new(|| Real {
    ctx_new: real_fn!(c"SSL_CTX_new", CtxNew),
    ctx_new_ex: real_fn!(c"SSL_CTX_new_ex", CtxNewEx),
    set_client_hello_cb: real_fn!(c"SSL_CTX_set_client_hello_cb", SetClientHelloCb),
    set_session_ticket_cb: real_fn!(c"SSL_CTX_set_session_ticket_cb", SetSessionTicketCb),
    set_ticket_key_evp_cb: real_fn!(c"SSL_CTX_set_tlsext_ticket_key_evp_cb", SetTicketKeyEvpCb),
    ctx_ctrl: real_fn!(c"SSL_CTX_ctrl", CtxCtrl),
    ctx_callback_ctrl: real_fn!(c"SSL_CTX_callback_ctrl", CtxCallbackCtrl),
});

/// The table, resolved on first use.
pub fn real() -> &'static Real {
    &REAL
}
