//! Sealing and opening tickets in OpenSSL's format with a key ring.

use crate::ticket::{self, ring};

use super::keyring::{ring_ref, tlsext_keyring};
use super::result::{fail, ticket_error, tlsext_result, tlsext_result::*};

/// What `tlsext_ticket_open_ex` tells about an opened ticket.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct tlsext_ticket_info {
    /// The name of the key that opened the ticket.
    pub key_name: [u8; 16],
    /// True when that key no longer encrypts: re-issue the ticket under the current key.
    pub renew: bool,
}

/// The length of the ticket that sealing `in_len` bytes produces:
/// 16 (name) + 16 (IV) + the padded ciphertext + 32 (MAC).
#[unsafe(no_mangle)]
pub extern "C" fn tlsext_ticket_sealed_len(in_len: usize) -> usize {
    ticket::sealed_len(in_len.min(usize::MAX / 2))
}

/// Borrows `(ptr, len)` as a slice; NULL is allowed only with length 0.
///
/// # Safety
/// `ptr` is NULL or points to `len` readable bytes.
unsafe fn input<'a>(ptr: *const u8, len: usize) -> Option<&'a [u8]> {
    if ptr.is_null() {
        return (len == 0).then_some(&[][..]);
    }
    // SAFETY: `ptr` points to `len` readable bytes (caller).
    Some(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Copies `data` to `(out, out_cap)` and its length to `*out_len`, or reports the size needed.
///
/// # Safety
/// `out` is NULL or points to `out_cap` writable bytes; `out_len` is writable.
unsafe fn output(data: &[u8], out: *mut u8, out_cap: usize, out_len: *mut usize) -> tlsext_result {
    if out.is_null() && out_cap != 0 {
        return super::result::null_parameter("out");
    }
    // SAFETY: `out_len` is non-NULL and writable (checked by the callers, caller's contract).
    unsafe { out_len.write(data.len()) };
    if data.len() > out_cap || (out.is_null() && !data.is_empty()) {
        return fail(
            TLSEXT_RESULT_BUFFER_TOO_SMALL,
            format_args!("output buffer holds {out_cap} bytes, {} needed", data.len()),
        );
    }
    if !data.is_empty() {
        // SAFETY: `out` has room for `data.len()` bytes (checked above; caller).
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), out, data.len()) };
    }
    TLSEXT_RESULT_OK
}

/// Seals `in` into a ticket with the ring's encrypting key and a fresh random IV, in
/// OpenSSL's format (so a DER `SSL_SESSION` sealed here is a ticket OpenSSL servers using the
/// same key accept). Needs `tlsext_ticket_sealed_len(in_len)` bytes of output; with less,
/// returns `TLSEXT_RESULT_BUFFER_TOO_SMALL`, sets `*out_len` to the size needed and writes
/// nothing else (`out` may be NULL with `out_cap` 0 to ask).
///
/// # Safety
/// `ring` is a live handle; `in` points to `in_len` readable bytes (or is NULL with
/// `in_len` 0); `out` points to `out_cap` writable bytes or is NULL; `out_len` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tlsext_ticket_seal(
    ring: *const tlsext_keyring,
    r#in: *const u8,
    in_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> tlsext_result {
    ffi_boundary!({
        let ring = try_ref!(ring, "ring");
        let out_len = try_ref!(out_len, "out_len");
        // SAFETY: caller's contract.
        let Some(plaintext) = (unsafe { input(r#in, in_len) }) else {
            return super::result::null_parameter("in");
        };
        if plaintext.len() > ticket::seal::MAX_PLAINTEXT {
            return ticket_error(ticket::TicketError::TooLarge);
        }
        if out.is_null() && out_cap != 0 {
            return super::result::null_parameter("out");
        }
        let needed = ticket::sealed_len(plaintext.len());
        if needed > out_cap || out.is_null() {
            // SAFETY: `out_len` is non-NULL and writable (caller).
            unsafe { out_len.write(needed) };
            return fail(
                TLSEXT_RESULT_BUFFER_TOO_SMALL,
                format_args!("output buffer holds {out_cap} bytes, {needed} needed"),
            );
        }
        // SAFETY: `ring` is a live handle (caller).
        let snap = unsafe { ring_ref(ring) }.snapshot();
        match ticket::seal(&snap, plaintext, ring::now()) {
            // SAFETY: `out` has `out_cap` writable bytes and `out_len` is writable (caller).
            Ok(sealed) => unsafe { output(&sealed, out, out_cap, out_len) },
            Err(e) => ticket_error(e),
        }
    })
}

/// Opens a ticket sealed by any key of the ring (in OpenSSL's format), checking its MAC in
/// constant time. On success the plaintext goes to `out`; with too small a buffer,
/// `TLSEXT_RESULT_BUFFER_TOO_SMALL` and the size needed in `*out_len`.
///
/// # Safety
/// As for `tlsext_ticket_seal`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tlsext_ticket_open(
    ring: *const tlsext_keyring,
    r#in: *const u8,
    in_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> tlsext_result {
    // SAFETY: forwarded contract; a NULL info is allowed.
    unsafe { tlsext_ticket_open_ex(ring, r#in, in_len, out, out_cap, out_len, std::ptr::null_mut()) }
}

/// As `tlsext_ticket_open`, and also tells which key opened the ticket and whether it
/// should be renewed, in `*info` (which may be NULL).
///
/// # Safety
/// As for `tlsext_ticket_seal`; `info` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tlsext_ticket_open_ex(
    ring: *const tlsext_keyring,
    r#in: *const u8,
    in_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
    info: *mut tlsext_ticket_info,
) -> tlsext_result {
    ffi_boundary!({
        let ring = try_ref!(ring, "ring");
        let out_len = try_ref!(out_len, "out_len");
        // SAFETY: caller's contract.
        let Some(sealed) = (unsafe { input(r#in, in_len) }) else {
            return super::result::null_parameter("in");
        };
        // SAFETY: `ring` is a live handle (caller).
        let snap = unsafe { ring_ref(ring) }.snapshot();
        let opened = match ticket::open(&snap, sealed, ring::now()) {
            Ok(o) => o,
            Err(e) => return ticket_error(e),
        };
        // SAFETY: `out`/`out_cap`/`out_len` per the caller's contract.
        let r = unsafe { output(&opened.plaintext, out, out_cap, out_len) };
        if r == TLSEXT_RESULT_OK && !info.is_null() {
            let i = tlsext_ticket_info {
                key_name: opened.key_name.0,
                renew: opened.renew,
            };
            // SAFETY: `info` is non-NULL and writable (caller).
            unsafe { info.write(i) };
        }
        r
    })
}
