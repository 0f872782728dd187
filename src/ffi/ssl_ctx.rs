//! Attaching the shim's objects to an OpenSSL `SSL_CTX`.

use openssl_sys::SSL_CTX;

use super::keyring::{ring_arc, tlsext_keyring};
use super::result::{fail, tlsext_result, tlsext_result::*};

/// Makes `ring` seal and open the session tickets of the server context `ctx`: installs an
/// EVP ticket-key callback (`SSL_CTX_set_tlsext_ticket_key_evp_cb`) driven by the ring.
/// New tickets use the ring's encrypting key and a fresh IV; a ticket whose key is not in the
/// ring (or expired) gets a full handshake; one opened by a decrypt-only key, and every TLS
/// 1.3 resumption, gets a fresh ticket. The context keeps its own reference to the ring, so
/// the caller may free its handle; later changes to the ring apply at once. Attaching again
/// replaces the ring. If the application switches contexts with `SSL_set_SSL_CTX` (SNI),
/// attach the ring to those contexts too.
///
/// For its statistics (`tlsext_stats_snapshot`) the shim also installs a ClientHello callback
/// and session-ticket callbacks on `ctx`; install your own (`SSL_CTX_set_client_hello_cb`,
/// `SSL_CTX_set_session_ticket_cb`) after this call and they are kept and called, with their
/// own arguments, from the shim's, whose answers they decide.
///
/// # Safety
/// `ctx` is a live `SSL_CTX` that no other thread is configuring; `ring` is a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tlsext_ssl_ctx_use_keyring(ctx: *mut SSL_CTX, ring: *mut tlsext_keyring) -> tlsext_result {
    ffi_boundary!({
        let ctx = try_ref!(ctx, "ctx");
        let ring = try_ref!(ring, "ring");
        // SAFETY: `ring` is a live handle (caller).
        let ring = unsafe { ring_arc(ring) };
        // SAFETY: `ctx` is live and not configured concurrently (caller).
        match unsafe { crate::openssl::use_keyring(ctx, ring) } {
            Ok(()) => TLSEXT_RESULT_OK,
            Err(_) => fail(TLSEXT_RESULT_OPENSSL, "libssl refused the ticket-key callback"),
        }
    })
}
