//! `tlsext_sni_router`: name-based virtual hosts for a server context.

use std::ffi::{CStr, c_char};
use std::os::unix::ffi::OsStrExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use openssl_sys::SSL_CTX;

use crate::openssl::sni::SniRouter;
use crate::openssl::vhost::Certs;

use super::result::{fail, tlsext_result, tlsext_result::*};

/// A table of virtual hosts: names (exact, or `*.example.com` matching exactly one
/// left-most label), each with a certificate chain and key. Reference counted: every
/// `SSL_CTX` using it keeps its own reference.
pub struct tlsext_sni_router {
    _private: [u8; 0],
}

/// # Safety
/// `r` is a live, non-NULL handle from `tlsext_sni_router_new`.
unsafe fn router_ref<'a>(r: *const tlsext_sni_router) -> &'a SniRouter {
    // SAFETY: handles are `Arc::into_raw` of a `SniRouter` (caller).
    unsafe { &*r.cast::<SniRouter>() }
}

/// Reads `names_len` C strings.
///
/// # Safety
/// `names` points to `names_len` pointers, each NULL or NUL-terminated.
unsafe fn read_names(names: *const *const c_char, names_len: usize) -> Result<Vec<String>, tlsext_result> {
    if names_len == 0 {
        return Err(fail(TLSEXT_RESULT_BAD_NAME, "a vhost needs at least one name"));
    }
    // SAFETY: `names` points to `names_len` readable pointers (caller).
    let ptrs = unsafe { std::slice::from_raw_parts(names, names_len) };
    let mut out = Vec::with_capacity(names_len);
    for (i, &p) in ptrs.iter().enumerate() {
        if p.is_null() {
            return Err(super::result::null_parameter("names[i]"));
        }
        // SAFETY: non-NULL and NUL-terminated (caller).
        let s = unsafe { CStr::from_ptr(p) }.to_str();
        match s {
            Ok(s) => out.push(s.to_string()),
            Err(_) => return Err(fail(TLSEXT_RESULT_BAD_NAME, format_args!("names[{i}] is not UTF-8"))),
        }
    }
    Ok(out)
}

/// # Safety
/// `p` is non-NULL and NUL-terminated.
unsafe fn path(p: *const c_char) -> PathBuf {
    // SAFETY: caller's contract.
    Path::new(std::ffi::OsStr::from_bytes(unsafe { CStr::from_ptr(p) }.to_bytes())).to_path_buf()
}

fn add(router: &SniRouter, names: Vec<String>, certs: Certs, files: Option<(PathBuf, PathBuf)>) -> tlsext_result {
    match router.add(names, certs, files) {
        Ok(()) => TLSEXT_RESULT_OK,
        Err(e) => fail(TLSEXT_RESULT_BAD_NAME, e),
    }
}

/// Creates an empty router and stores its handle in `*out`.
///
/// # Safety
/// `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tlsext_sni_router_new(out: *mut *mut tlsext_sni_router) -> tlsext_result {
    ffi_boundary!({
        let out = try_ref!(out, "out");
        let r = Arc::into_raw(Arc::new(SniRouter::default()))
            .cast_mut()
            .cast::<tlsext_sni_router>();
        // SAFETY: `out` is non-NULL and writable (caller).
        unsafe { out.write(r) };
        TLSEXT_RESULT_OK
    })
}

/// Drops the caller's reference; contexts using the router keep it alive. NULL is a no-op.
///
/// # Safety
/// `router` is NULL or a live handle, not used after this call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tlsext_sni_router_free(router: *mut tlsext_sni_router) {
    if router.is_null() {
        return;
    }
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: the handle is `Arc::into_raw`; this releases the caller's count.
        drop(unsafe { Arc::from_raw(router.cast_const().cast::<SniRouter>()) });
    });
}

/// Adds a vhost for `names` (exact names or `*.example.com`; ASCII case and one trailing dot
/// ignored) served with the PEM certificate chain in `cert_path` (leaf first) and the PEM key
/// in `key_path`. The files are re-read when they change (checked at most once a second on the
/// handshake path; the last good certificate is kept). Refused, with nothing changed, when a
/// name is invalid or already taken (`TLSEXT_RESULT_BAD_NAME`) or the files cannot be used
/// (`TLSEXT_RESULT_CERTIFICATE`, e.g. the key does not match the certificate).
///
/// # Safety
/// `router` is a live handle; `names` points to `names_len` NUL-terminated strings; the paths
/// are NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tlsext_sni_router_add_vhost_files(
    router: *mut tlsext_sni_router,
    names: *const *const c_char,
    names_len: usize,
    cert_path: *const c_char,
    key_path: *const c_char,
) -> tlsext_result {
    ffi_boundary!({
        let router = try_ref!(router, "router");
        let names = try_ref!(names, "names");
        let cert_path = try_ref!(cert_path, "cert_path");
        let key_path = try_ref!(key_path, "key_path");
        // SAFETY: caller's contract.
        let names = match unsafe { read_names(names, names_len) } {
            Ok(n) => n,
            Err(r) => return r,
        };
        // SAFETY: non-NULL NUL-terminated strings (caller).
        let (cert, key) = unsafe { (path(cert_path), path(key_path)) };
        match Certs::load(&cert, &key) {
            // SAFETY: `router` is a live handle (caller).
            Ok(c) => add(unsafe { router_ref(router) }, names, c, Some((cert, key))),
            Err(e) => fail(TLSEXT_RESULT_CERTIFICATE, e),
        }
    })
}

/// Adds a vhost for `names` served with the certificate, chain and key already configured on
/// `ctx` (which the router does not keep; the certificate objects are shared).
///
/// # Safety
/// `router` is a live handle; `names` as for `tlsext_sni_router_add_vhost_files`; `ctx` is a
/// live `SSL_CTX`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tlsext_sni_router_add_vhost_ctx(
    router: *mut tlsext_sni_router,
    names: *const *const c_char,
    names_len: usize,
    ctx: *const SSL_CTX,
) -> tlsext_result {
    ffi_boundary!({
        let router = try_ref!(router, "router");
        let names = try_ref!(names, "names");
        let ctx = try_ref!(ctx, "ctx");
        // SAFETY: caller's contract.
        let names = match unsafe { read_names(names, names_len) } {
            Ok(n) => n,
            Err(r) => return r,
        };
        // SAFETY: `ctx` is live (caller).
        match unsafe { Certs::from_ctx(ctx) } {
            // SAFETY: `router` is a live handle (caller).
            Ok(c) => add(unsafe { router_ref(router) }, names, c, None),
            Err(e) => fail(TLSEXT_RESULT_CERTIFICATE, e),
        }
    })
}

/// Strict mode: a client naming no vhost (or no name at all) gets a fatal
/// `unrecognized_name` alert instead of the context's own certificate.
///
/// # Safety
/// `router` is a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tlsext_sni_router_set_strict(router: *mut tlsext_sni_router, strict: bool) -> tlsext_result {
    ffi_boundary!({
        let router = try_ref!(router, "router");
        // SAFETY: `router` is a live handle (caller).
        unsafe { router_ref(router) }.set_strict(strict);
        TLSEXT_RESULT_OK
    })
}

/// Number of vhosts (0 for NULL).
///
/// # Safety
/// `router` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tlsext_sni_router_len(router: *const tlsext_sni_router) -> usize {
    if router.is_null() {
        return 0;
    }
    // SAFETY: `router` is a live handle (caller).
    std::panic::catch_unwind(|| unsafe { router_ref(router) }.len()).unwrap_or(0)
}

/// Routes the connections of server context `ctx` by SNI: in the ClientHello callback the
/// vhost matching the client's server_name gets its certificate applied, and the name is
/// acknowledged. Tickets are bound to the vhost that issued them: each vhost seals and opens
/// with keys derived from the context's key ring (`tlsext_ssl_ctx_use_keyring`, needed for
/// tickets) and its first name, so a ticket never resumes under another vhost or without SNI.
/// Names no vhost serves keep the context's own certificate and go to the application's own
/// ClientHello and servername callbacks, if it installs them after this call.
///
/// # Safety
/// `ctx` is a live `SSL_CTX` no other thread is configuring; `router` is a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tlsext_ssl_ctx_use_sni(ctx: *mut SSL_CTX, router: *mut tlsext_sni_router) -> tlsext_result {
    ffi_boundary!({
        let ctx = try_ref!(ctx, "ctx");
        let router = try_ref!(router, "router");
        let p = router.cast_const().cast::<SniRouter>();
        // SAFETY: the handle is `Arc::into_raw` with a live count; take one for the context.
        let arc = unsafe {
            Arc::increment_strong_count(p);
            Arc::from_raw(p)
        };
        // SAFETY: `ctx` is live and not configured concurrently (caller).
        match unsafe { crate::openssl::use_sni(ctx, arc) } {
            Ok(()) => TLSEXT_RESULT_OK,
            Err(_) => fail(TLSEXT_RESULT_OPENSSL, "libssl refused the SNI callbacks"),
        }
    })
}
