//! libssl's own names, exported by this library. Each forwards to the real function (see
//! [`crate::openssl::real`]) and adds the shim's part only when the shim is configured; a
//! panic in the shim's part is caught and the call behaves as plain OpenSSL.

use std::ffi::{c_char, c_int, c_long, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};

use openssl_sys::{SSL_CTX, SSL_METHOD};

use crate::openssl::ctx::ServernameCb;
use crate::openssl::outcome::{DecCb, GenCb};
use crate::openssl::real::{self, ClientHelloCb, TicketKeyEvpCb};
use crate::openssl::{ctx_state, use_keyring, use_sni};

use super::shim;

/// `SSL_CTRL_SET_TLSEXT_SERVERNAME_CB`.
pub(super) const CTRL_SET_TLSEXT_SERVERNAME_CB: c_int = 53;
/// `SSL_CTRL_SET_TLSEXT_TICKET_KEYS`.
const CTRL_SET_TLSEXT_TICKET_KEYS: c_int = 59;
/// `SSL_CTRL_SET_TLSEXT_TICKET_KEY_CB`.
pub(super) const CTRL_SET_TLSEXT_TICKET_KEY_CB: c_int = 72;

/// Runs the shim's part of an export; a panic in it is caught and `fallback` returned, so the
/// export goes on as plain OpenSSL.
fn guarded<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(fallback)
}

/// Sets up the shim's part of a context libssl just created.
///
/// # Safety
/// `ctx` is NULL or a live context no other thread knows yet.
unsafe fn after_ctx_new(ctx: *mut SSL_CTX) {
    if ctx.is_null() {
        return;
    }
    guarded((), || {
        #[cfg(feature = "test-panic")]
        crate::openssl::ticket_cb::test_panic_point("ctx_new");
        let Some(shim) = shim() else { return };
        if let Some(router) = &shim.sni {
            // SAFETY: `ctx` is live (caller); a second call for the same context is harmless.
            if unsafe { ctx_state(ctx) }.is_none_or(|st| st.sni.load().is_none())
                // SAFETY: as above.
                && unsafe { use_sni(ctx, router.clone()) }.is_err()
            {
                log_error!("could not install SNI routing on a context; it keeps the server's own");
            }
        }
        let Some(tickets) = shim.tickets.as_ref() else { return };
        // SAFETY: `ctx` is live (caller). `SSL_CTX_new` may reach us twice for one context
        // (through `SSL_CTX_new_ex`); the second time finds the ring already there.
        if unsafe { ctx_state(ctx) }.is_some_and(|st| st.ring.load().is_some()) {
            return;
        }
        // SAFETY: as above.
        if unsafe { use_keyring(ctx, tickets.ring().clone()) }.is_err() {
            log_error!("could not install the ticket-key callback; this context keeps OpenSSL's own ticket keys");
        }
    });
}

/// Whether the shim manages the tickets of `ctx`; if so, says once per context that the
/// application's own `what` is set aside.
///
/// # Safety
/// `ctx` is NULL or a live context.
unsafe fn managed_tickets(ctx: *const SSL_CTX, what: &str) -> bool {
    guarded(false, || {
        // SAFETY: `ctx` is NULL or live (caller).
        let Some(state) = (unsafe { ctx_state(ctx) }) else {
            return false;
        };
        if state.ring.load().is_none() {
            return false;
        }
        if !state.app_tickets_noted.swap(true, std::sync::atomic::Ordering::Relaxed) {
            crate::log::notice(format_args!(
                "the application set its own {what}; the shim's managed keys serve this context's tickets"
            ));
        }
        true
    })
}

/// `SSL_CTX_new`: libssl's, plus the shim's ticket keys when configured.
///
/// # Safety
/// As for OpenSSL's `SSL_CTX_new`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_CTX_new(method: *const SSL_METHOD) -> *mut SSL_CTX {
    let Some(f) = real::real().ctx_new else {
        return std::ptr::null_mut();
    };
    // SAFETY: forwards the caller's arguments to libssl's own function.
    let ctx = unsafe { f(method) };
    // SAFETY: `ctx` is NULL or the new context.
    unsafe { after_ctx_new(ctx) };
    ctx
}

/// `SSL_CTX_new_ex`: libssl's, plus the shim's ticket keys when configured.
///
/// # Safety
/// As for OpenSSL's `SSL_CTX_new_ex`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_CTX_new_ex(
    libctx: *mut c_void,
    propq: *const c_char,
    method: *const SSL_METHOD,
) -> *mut SSL_CTX {
    let Some(f) = real::real().ctx_new_ex else {
        return std::ptr::null_mut();
    };
    // SAFETY: forwards the caller's arguments to libssl's own function.
    let ctx = unsafe { f(libctx, propq, method) };
    // SAFETY: `ctx` is NULL or the new context.
    unsafe { after_ctx_new(ctx) };
    ctx
}

/// `SSL_CTX_ctrl`: libssl's, except that setting ticket keys (cmd 59) on a context whose
/// tickets the shim manages succeeds without replacing the managed keys.
///
/// # Safety
/// As for OpenSSL's `SSL_CTX_ctrl`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_CTX_ctrl(ctx: *mut SSL_CTX, cmd: c_int, larg: c_long, parg: *mut c_void) -> c_long {
    if cmd == CTRL_SET_TLSEXT_TICKET_KEYS
        && !parg.is_null()
        && larg == 80
        // SAFETY: `ctx` is NULL or live (caller).
        && unsafe { managed_tickets(ctx, "ticket keys (SSL_CTX_set_tlsext_ticket_keys)") }
    {
        return 1;
    }
    let Some(f) = real::real().ctx_ctrl else { return 0 };
    // SAFETY: forwards the caller's arguments to libssl's own function.
    unsafe { f(ctx, cmd, larg, parg) }
}

/// `SSL_CTX_callback_ctrl`: libssl's, except that installing a legacy ticket-key callback
/// (cmd 72) on a context whose tickets the shim manages succeeds without replacing the
/// shim's callback.
///
/// # Safety
/// As for OpenSSL's `SSL_CTX_callback_ctrl`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_CTX_callback_ctrl(
    ctx: *mut SSL_CTX,
    cmd: c_int,
    fp: Option<unsafe extern "C" fn()>,
) -> c_long {
    if cmd == CTRL_SET_TLSEXT_SERVERNAME_CB
        && guarded(false, || {
            // SAFETY: `ctx` is NULL or live (caller).
            let Some(state) = (unsafe { ctx_state(ctx) }) else {
                return false;
            };
            // SAFETY: cmd 53 carries a servername callback cast to `void (*)(void)`.
            let cb = fp.map(|f| unsafe { std::mem::transmute::<unsafe extern "C" fn(), ServernameCb>(f) });
            state.set_app_servername(cb);
            // With a router, the shim's trampoline stays installed and calls this one for names
            // it does not serve.
            state.sni.load().is_some()
        })
    {
        return 1;
    }
    if cmd == CTRL_SET_TLSEXT_TICKET_KEY_CB
        && fp.is_some()
        // SAFETY: `ctx` is NULL or live (caller).
        && unsafe { managed_tickets(ctx, "ticket-key callback (SSL_CTX_set_tlsext_ticket_key_cb)") }
    {
        return 1;
    }
    let Some(f) = real::real().ctx_callback_ctrl else {
        return 0;
    };
    // SAFETY: forwards the caller's arguments to libssl's own function.
    unsafe { f(ctx, cmd, fp) }
}

/// `SSL_CTX_set_tlsext_ticket_key_evp_cb`: libssl's, except on a context whose tickets the
/// shim manages, where it succeeds and the shim's keys keep serving.
///
/// # Safety
/// As for OpenSSL's `SSL_CTX_set_tlsext_ticket_key_evp_cb`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx: *mut SSL_CTX, cb: Option<TicketKeyEvpCb>) -> c_int {
    // SAFETY: `ctx` is NULL or live (caller).
    if cb.is_some() && unsafe { managed_tickets(ctx, "ticket-key callback (SSL_CTX_set_tlsext_ticket_key_evp_cb)") } {
        return 1;
    }
    let Some(f) = real::real().set_ticket_key_evp_cb else {
        return 0;
    };
    // SAFETY: forwards the caller's arguments to libssl's own function.
    unsafe { f(ctx, cb) }
}

/// `SSL_CTX_set_client_hello_cb`: libssl's, except on a context the shim manages, where the
/// callback is kept and called by the shim's own (for every name it does not route itself).
///
/// # Safety
/// As for OpenSSL's `SSL_CTX_set_client_hello_cb`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_CTX_set_client_hello_cb(ctx: *mut SSL_CTX, cb: Option<ClientHelloCb>, arg: *mut c_void) {
    let kept = guarded(false, || {
        // SAFETY: `ctx` is NULL or live (caller).
        let Some(state) = (unsafe { ctx_state(ctx) }) else {
            return false;
        };
        state.set_app_client_hello(cb, arg);
        // The shim's callback stays installed and calls this one for names it does not serve.
        state.client_hello_hooked.load(std::sync::atomic::Ordering::Acquire)
    });
    if kept {
        return;
    }
    if let Some(f) = real::real().set_client_hello_cb {
        // SAFETY: forwards the caller's arguments to libssl's own function.
        unsafe { f(ctx, cb, arg) }
    }
}

/// `SSL_CTX_set_session_ticket_cb`: libssl's, except on a context whose tickets the shim
/// manages, where the shim's callbacks stay installed (they count every offered ticket's fate)
/// and call these with their own argument; their answers win.
///
/// # Safety
/// As for OpenSSL's `SSL_CTX_set_session_ticket_cb`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_CTX_set_session_ticket_cb(
    ctx: *mut SSL_CTX,
    gen_cb: Option<GenCb>,
    dec_cb: Option<DecCb>,
    arg: *mut c_void,
) -> c_int {
    let kept = guarded(false, || {
        // SAFETY: `ctx` is NULL or live (caller).
        let Some(state) = (unsafe { ctx_state(ctx) }) else {
            return false;
        };
        state.set_app_session_ticket(gen_cb, dec_cb, arg);
        state.session_ticket_hooked.load(std::sync::atomic::Ordering::Acquire)
    });
    if kept {
        return 1;
    }
    let Some(f) = real::real().set_session_ticket_cb else {
        return 0;
    };
    // SAFETY: forwards the caller's arguments to libssl's own function.
    unsafe { f(ctx, gen_cb, dec_cb, arg) }
}
