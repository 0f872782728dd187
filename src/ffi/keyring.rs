//! `tlsext_keyring`: a reference-counted ring of ticket keys.

use std::ffi::{CStr, c_char};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::Arc;

use crate::ticket::{self, KeyError, KeyFormat, KeyRing, Location, ring};

use super::result::{fail, key_error, tlsext_result, tlsext_result::*};

/// A ring of session-ticket keys: one key encrypts new tickets, the others only open
/// existing ones. Reference counted: every `SSL_CTX` it is attached to holds its own
/// reference, so the caller may free its handle at any time. Changes made through the
/// handle are seen at once by every context using it, even mid-traffic.
pub struct tlsext_keyring {
    _private: [u8; 0],
}

/// The layout of a key file or key bytes.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum tlsext_key_format {
    /// Raw 48 or 80 bytes are nginx's layout; text is HAProxy's; anything else is refused.
    TLSEXT_KEY_FORMAT_AUTO = 0,
    /// nginx `ssl_session_ticket_key`: raw 48 bytes (name, AES-128 key, HMAC key) or 80
    /// bytes (name, HMAC key, AES-256 key). A directory holds one such key per file.
    TLSEXT_KEY_FORMAT_NGINX = 1,
    /// HAProxy `tls-ticket-keys`: one base64 key per line (name, AES key, HMAC key), at
    /// least three; the second-to-last encrypts and the last is the staged next key.
    TLSEXT_KEY_FORMAT_HAPROXY = 2,
    /// OpenSSL `SSL_CTX_set_tlsext_ticket_keys`: raw 80 bytes, name, HMAC key, AES key.
    TLSEXT_KEY_FORMAT_OPENSSL = 3,
}

impl From<tlsext_key_format> for KeyFormat {
    fn from(f: tlsext_key_format) -> Self {
        match f {
            tlsext_key_format::TLSEXT_KEY_FORMAT_AUTO => KeyFormat::Auto,
            tlsext_key_format::TLSEXT_KEY_FORMAT_NGINX => KeyFormat::Nginx,
            tlsext_key_format::TLSEXT_KEY_FORMAT_HAPROXY => KeyFormat::Haproxy,
            tlsext_key_format::TLSEXT_KEY_FORMAT_OPENSSL => KeyFormat::Openssl,
        }
    }
}

/// Checks a format value that came from C before it becomes a Rust enum.
fn format_from_c(f: tlsext_key_format) -> Result<KeyFormat, tlsext_result> {
    // SAFETY: the enum is repr(C), an int; the bits are inspected before being trusted.
    let raw = unsafe { std::mem::transmute::<tlsext_key_format, u32>(f) };
    if raw > 3 {
        return Err(fail(
            TLSEXT_RESULT_INVALID_ARGUMENT,
            format_args!("unknown key format {raw}"),
        ));
    }
    Ok(f.into())
}

/// Borrows the ring behind a handle.
///
/// # Safety
/// `ring` is non-NULL and comes from `tlsext_keyring_new`, not yet freed.
pub(crate) unsafe fn ring_ref<'a>(ring: *const tlsext_keyring) -> &'a KeyRing {
    // SAFETY: handles are `Arc::into_raw` of a `KeyRing` (caller's contract).
    unsafe { &*ring.cast::<KeyRing>() }
}

/// A new reference to the ring behind a handle.
///
/// # Safety
/// As for [`ring_ref`].
pub(crate) unsafe fn ring_arc(ring: *const tlsext_keyring) -> Arc<KeyRing> {
    let p = ring.cast::<KeyRing>();
    // SAFETY: `p` came from `Arc::into_raw` and its count is at least one (caller).
    unsafe { Arc::increment_strong_count(p) };
    // SAFETY: the increment above gives this Arc its own count.
    unsafe { Arc::from_raw(p) }
}

/// Creates an empty ring (it seals and opens nothing until keys are loaded) and stores its
/// handle in `*out`.
///
/// # Safety
/// `out` is NULL or points to writable storage for one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tlsext_keyring_new(out: *mut *mut tlsext_keyring) -> tlsext_result {
    ffi_boundary!({
        let out = try_ref!(out, "out");
        let ring = Arc::into_raw(Arc::new(KeyRing::new()))
            .cast_mut()
            .cast::<tlsext_keyring>();
        // SAFETY: `out` is non-NULL and writable (caller).
        unsafe { out.write(ring) };
        TLSEXT_RESULT_OK
    })
}

/// Drops the caller's reference to `ring`. Contexts using the ring keep it alive. NULL is a
/// no-op.
///
/// # Safety
/// `ring` is NULL or a handle from `tlsext_keyring_new` that the caller has not freed yet;
/// it must not be used after this call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tlsext_keyring_free(ring: *mut tlsext_keyring) {
    if ring.is_null() {
        return;
    }
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: `ring` came from `Arc::into_raw` and this releases the caller's count.
        drop(unsafe { Arc::from_raw(ring.cast_const().cast::<KeyRing>()) });
    });
}

/// Replaces the ring's keys with those read from `path` in `format`. `path` may be a key
/// file, or a directory in which every regular, non-hidden file is one raw key (ordered by
/// file name; the last one encrypts). On any error the ring keeps its keys and
/// `tlsext_last_error_message()` names the file, the line and the problem.
///
/// # Safety
/// `ring` is a live handle; `path` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tlsext_keyring_load_file(
    ring: *mut tlsext_keyring,
    path: *const c_char,
    format: tlsext_key_format,
) -> tlsext_result {
    ffi_boundary!({
        let ring = try_ref!(ring, "ring");
        let path = try_ref!(path, "path");
        let format = match format_from_c(format) {
            Ok(f) => f,
            Err(r) => return r,
        };
        // SAFETY: `path` is non-NULL and NUL-terminated (caller).
        let path = Path::new(std::ffi::OsStr::from_bytes(unsafe { CStr::from_ptr(path) }.to_bytes()));
        // SAFETY: `ring` is a live handle (caller).
        match unsafe { ring_ref(ring) }.load_path(path, format) {
            Ok(()) => TLSEXT_RESULT_OK,
            Err(e) => key_error(&e),
        }
    })
}

/// Adds one key, given as bytes in `format` (nginx or OpenSSL raw bytes, or a HAProxy
/// base64 line or raw HAProxy-ordered bytes), as the encrypting key; the keys already in the
/// ring become decrypt-only, so tickets they sealed still resume and are renewed.
///
/// # Safety
/// `ring` is a live handle; `key` is NULL or points to `key_len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tlsext_keyring_add_key(
    ring: *mut tlsext_keyring,
    key: *const u8,
    key_len: usize,
    format: tlsext_key_format,
) -> tlsext_result {
    ffi_boundary!({
        let ring = try_ref!(ring, "ring");
        let key = try_ref!(key, "key");
        let format = match format_from_c(format) {
            Ok(f) => f,
            Err(r) => return r,
        };
        // SAFETY: `key` points to `key_len` readable bytes (caller).
        let bytes = unsafe { std::slice::from_raw_parts(key, key_len) };
        match decode_one(bytes, format) {
            // SAFETY: `ring` is a live handle (caller).
            Ok(k) => match unsafe { ring_ref(ring) }.add_key(k) {
                Ok(()) => TLSEXT_RESULT_OK,
                Err(e) => key_error(&e),
            },
            Err(e) => key_error(&e),
        }
    })
}

fn decode_one(bytes: &[u8], format: KeyFormat) -> Result<ticket::TicketKey, KeyError> {
    let at = Location::new("key argument");
    let layout = match format {
        KeyFormat::Auto | KeyFormat::Nginx => ticket::Layout::Nginx,
        KeyFormat::Openssl => ticket::Layout::Openssl,
        KeyFormat::Haproxy => {
            if ticket::KeySize::from_file_len(bytes.len()).is_none() {
                use base64::Engine as _;
                let text = std::str::from_utf8(bytes).map_err(|_| KeyError::BadBase64 { at: at.clone() })?;
                let raw = zeroize::Zeroizing::new(
                    base64::engine::general_purpose::STANDARD
                        .decode(text.trim())
                        .map_err(|_| KeyError::BadBase64 { at: at.clone() })?,
                );
                return ticket::format::decode_key(&raw, ticket::Layout::Haproxy, &at);
            }
            ticket::Layout::Haproxy
        }
    };
    ticket::format::decode_key(bytes, layout, &at)
}

/// Number of keys in the ring (0 for NULL).
///
/// # Safety
/// `ring` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tlsext_keyring_len(ring: *const tlsext_keyring) -> usize {
    if ring.is_null() {
        return 0;
    }
    // SAFETY: `ring` is a live handle (caller).
    std::panic::catch_unwind(|| unsafe { ring_ref(ring) }.len()).unwrap_or(0)
}

/// Writes the 16-byte name of the key that encrypts now into `out`.
///
/// # Safety
/// `ring` is a live handle; `out` is NULL or points to 16 writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tlsext_keyring_encrypting_key_name(
    ring: *const tlsext_keyring,
    out: *mut u8,
) -> tlsext_result {
    ffi_boundary!({
        let ring = try_ref!(ring, "ring");
        let out = try_ref!(out, "out");
        // SAFETY: `ring` is a live handle (caller).
        let snap = unsafe { ring_ref(ring) }.snapshot();
        match snap.encrypting(ring::now()) {
            Some(k) => {
                // SAFETY: `out` points to 16 writable bytes (caller).
                unsafe { std::ptr::copy_nonoverlapping(k.key.name().0.as_ptr(), out, 16) };
                TLSEXT_RESULT_OK
            }
            None => fail(TLSEXT_RESULT_NO_ENCRYPTING_KEY, "the ring has no encrypting key"),
        }
    })
}
