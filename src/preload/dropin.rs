//! OpenSSL macros that C code may want as real functions: declared by `tlsext_shim.h` when
//! `TLSEXT_SHIM_DROPIN` is defined before including it, and routed through the same
//! dispatch as the macro path.

use std::ffi::{c_int, c_long, c_void};

use openssl_sys::{EVP_CIPHER_CTX, HMAC_CTX, SSL, SSL_CTX};

use super::exports;

/// OpenSSL's `SSL_CTX_set_tlsext_ticket_key_cb` macro as a real function (declared by
/// `tlsext_shim.h` when `TLSEXT_SHIM_DROPIN` is defined before including it): installs the
/// legacy ticket-key callback, exactly as `SSL_CTX_callback_ctrl(ctx, 72, cb)`. Returns 1 on
/// success.
///
/// # Safety
/// As for OpenSSL's macro: `ctx` is a live context.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_CTX_set_tlsext_ticket_key_cb(
    ctx: *mut SSL_CTX,
    cb: Option<
        unsafe extern "C" fn(
            s: *mut SSL,
            key_name: *mut u8,
            iv: *mut u8,
            cctx: *mut EVP_CIPHER_CTX,
            hctx: *mut HMAC_CTX,
            enc: c_int,
        ) -> c_int,
    >,
) -> c_long {
    // SAFETY: OpenSSL stores the pointer and calls it back with this prototype (cmd 72).
    let fp = cb.map(|cb| unsafe { std::mem::transmute::<_, unsafe extern "C" fn()>(cb) });
    // SAFETY: forwarded contract.
    unsafe { exports::SSL_CTX_callback_ctrl(ctx, exports::CTRL_SET_TLSEXT_TICKET_KEY_CB, fp) }
}

/// OpenSSL's `SSL_CTX_set_tlsext_servername_callback` macro as a real function (declared
/// by `tlsext_shim.h` when `TLSEXT_SHIM_DROPIN` is defined): installs the servername
/// callback, exactly as `SSL_CTX_callback_ctrl(ctx, 53, cb)`. Returns 1 on success.
///
/// # Safety
/// As for OpenSSL's macro: `ctx` is a live context.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn SSL_CTX_set_tlsext_servername_callback(
    ctx: *mut SSL_CTX,
    cb: Option<unsafe extern "C" fn(s: *mut SSL, al: *mut c_int, arg: *mut c_void) -> c_int>,
) -> c_long {
    // SAFETY: OpenSSL stores the pointer and calls it back with this prototype (cmd 53).
    let fp = cb.map(|cb| unsafe { std::mem::transmute::<_, unsafe extern "C" fn()>(cb) });
    // SAFETY: forwarded contract.
    unsafe { exports::SSL_CTX_callback_ctrl(ctx, exports::CTRL_SET_TLSEXT_SERVERNAME_CB, fp) }
}
