//! `tlsext_client_hello`: a parsed ClientHello, for proxies that route on SNI (or ALPN)
//! without terminating TLS.

use crate::codec::{ClientHello, Error};

use super::result::{fail, tlsext_result, tlsext_result::*};

/// A validated ClientHello (a copy of the bytes; the parse itself allocates nothing).
pub struct tlsext_client_hello {
    _private: [u8; 0],
}

self_cell::self_cell!(
    /// The handle's copy of the bytes and the hello parsed from it once (the getters read the
    /// parse instead of parsing again).
    struct Hello {
        owner: Vec<u8>,
        #[covariant]
        dependent: ClientHello,
    }
);

impl Hello {
    fn parsed(&self) -> Option<ClientHello<'_>> {
        Some(*self.borrow_dependent())
    }
}

/// # Safety
/// `h` is a live, non-NULL handle.
unsafe fn hello<'a>(h: *const tlsext_client_hello) -> &'a Hello {
    // SAFETY: handles are `Box::into_raw` of a `Hello` (caller).
    unsafe { &*h.cast::<Hello>() }
}

/// # Safety
/// `buf` is NULL with `len` 0, or points to `len` readable bytes.
unsafe fn bytes<'a>(buf: *const u8, len: usize) -> &'a [u8] {
    if buf.is_null() || len == 0 {
        return &[];
    }
    // SAFETY: caller's contract.
    unsafe { std::slice::from_raw_parts(buf, len) }
}

/// Parses a ClientHello given as a TLS record (as read from a socket: content type 22) or as a
/// bare handshake message (type 1), TLS 1.0 to 1.3. Returns `TLSEXT_RESULT_NEED_MORE` when
/// the bytes are a valid start cut short (read more and call again;
/// `tlsext_client_hello_bytes_needed` says at least how many), `TLSEXT_RESULT_MALFORMED`
/// (with the reason and offset in `tlsext_last_error_message()`) when they can never be one.
/// Duplicate extensions, bad lengths and trailing bytes are malformed. On success `*out` owns
/// a copy of the hello; free it with `tlsext_client_hello_free`.
///
/// # Safety
/// `buf` points to `len` readable bytes; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tlsext_client_hello_parse(
    buf: *const u8,
    len: usize,
    out: *mut *mut tlsext_client_hello,
) -> tlsext_result {
    ffi_boundary!({
        let out = try_ref!(out, "out");
        if buf.is_null() && len != 0 {
            return super::result::null_parameter("buf");
        }
        // SAFETY: caller's contract.
        let input = unsafe { bytes(buf, len) };
        // Parsed in place first, so that the many NEED_MORE answers of a partial read copy
        // nothing; a complete hello is copied and parsed once more, into the handle.
        match ClientHello::parse(input).and_then(|_| Hello::try_new(input.to_vec(), |b| ClientHello::parse(b))) {
            Ok(hello) => {
                let h = Box::into_raw(Box::new(hello)).cast::<tlsext_client_hello>();
                // SAFETY: `out` is non-NULL and writable (caller).
                unsafe { out.write(h) };
                TLSEXT_RESULT_OK
            }
            Err(Error::NeedMore(n)) => fail(TLSEXT_RESULT_NEED_MORE, format_args!("need at least {n} more bytes")),
            Err(e) => fail(TLSEXT_RESULT_MALFORMED, e),
        }
    })
}

/// For input that `tlsext_client_hello_parse` answers with `TLSEXT_RESULT_NEED_MORE`: at
/// least how many more bytes are needed (exact once the record or handshake header is in);
/// 0 for a complete or malformed hello.
///
/// # Safety
/// `buf` points to `len` readable bytes (or is NULL with `len` 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tlsext_client_hello_bytes_needed(buf: *const u8, len: usize) -> usize {
    if buf.is_null() && len != 0 {
        return 0;
    }
    std::panic::catch_unwind(|| {
        // SAFETY: caller's contract.
        match ClientHello::parse(unsafe { bytes(buf, len) }) {
            Err(Error::NeedMore(n)) => n,
            _ => 0,
        }
    })
    .unwrap_or(0)
}

/// Frees a parsed hello. NULL is a no-op.
///
/// # Safety
/// `hello` is NULL or a live handle, not used after this call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tlsext_client_hello_free(hello: *mut tlsext_client_hello) {
    if hello.is_null() {
        return;
    }
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: handles are `Box::into_raw` of a `Hello`, freed once.
        drop(unsafe { Box::from_raw(hello.cast::<Hello>()) });
    });
}

/// The host_name of the server_name extension, as sent (not NUL-terminated, not normalised):
/// `*name` points into the hello and stays valid until it is freed. `TLSEXT_RESULT_NOT_FOUND`
/// when the client sent no host name.
///
/// # Safety
/// `hello` is a live handle; `name` and `name_len` are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tlsext_client_hello_server_name(
    hello: *const tlsext_client_hello,
    name: *mut *const u8,
    name_len: *mut usize,
) -> tlsext_result {
    ffi_boundary!({
        let hello = try_ref!(hello, "hello");
        let name = try_ref!(name, "name");
        let name_len = try_ref!(name_len, "name_len");
        // SAFETY: `hello` is a live handle (caller).
        match unsafe { self::hello(hello) }.parsed().and_then(|h| h.host_name()) {
            // SAFETY: both outputs are writable (caller).
            Some(n) => unsafe { write_bytes(n.as_bytes(), name, name_len) },
            None => fail(TLSEXT_RESULT_NOT_FOUND, "the client sent no host name"),
        }
    })
}

/// Number of ALPN protocols offered (0 without the extension or for NULL).
///
/// # Safety
/// `hello` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tlsext_client_hello_alpn_count(hello: *const tlsext_client_hello) -> usize {
    if hello.is_null() {
        return 0;
    }
    // SAFETY: `hello` is a live handle (caller).
    let h = unsafe { self::hello(hello) };
    std::panic::catch_unwind(|| h.parsed().and_then(|p| p.alpn()).map_or(0, |a| a.iter().count())).unwrap_or(0)
}

/// The `index`-th ALPN protocol offered: `*proto` points into the hello (not NUL-terminated).
/// `TLSEXT_RESULT_NOT_FOUND` past the end.
///
/// # Safety
/// `hello` is a live handle; `proto` and `proto_len` are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tlsext_client_hello_alpn(
    hello: *const tlsext_client_hello,
    index: usize,
    proto: *mut *const u8,
    proto_len: *mut usize,
) -> tlsext_result {
    ffi_boundary!({
        let hello = try_ref!(hello, "hello");
        let proto = try_ref!(proto, "proto");
        let proto_len = try_ref!(proto_len, "proto_len");
        // SAFETY: `hello` is a live handle (caller).
        match unsafe { self::hello(hello) }
            .parsed()
            .and_then(|h| h.alpn())
            .and_then(|a| a.iter().nth(index))
        {
            // SAFETY: both outputs are writable (caller).
            Some(p) => unsafe { write_bytes(p, proto, proto_len) },
            None => fail(
                TLSEXT_RESULT_NOT_FOUND,
                format_args!("no ALPN protocol at index {index}"),
            ),
        }
    })
}

/// Whether the client offered a session ticket (a non-empty session_ticket extension, or a
/// TLS 1.3 pre_shared_key).
///
/// # Safety
/// `hello` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tlsext_client_hello_has_session_ticket(hello: *const tlsext_client_hello) -> bool {
    if hello.is_null() {
        return false;
    }
    // SAFETY: `hello` is a live handle (caller).
    let h = unsafe { self::hello(hello) };
    std::panic::catch_unwind(|| {
        h.parsed()
            .is_some_and(|p| p.session_ticket().is_some_and(|t| !t.is_empty()) || p.pre_shared_key().is_some())
    })
    .unwrap_or(false)
}

/// Points `(*ptr, *len)` at `bytes` (which live in the hello) and answers OK.
///
/// # Safety
/// `ptr` and `len` are writable.
unsafe fn write_bytes(bytes: &[u8], ptr: *mut *const u8, len: *mut usize) -> tlsext_result {
    // SAFETY: writable (caller).
    unsafe {
        ptr.write(bytes.as_ptr());
        len.write(bytes.len());
    }
    TLSEXT_RESULT_OK
}

/// Copies a list of u16 into `(out, out_cap)`, or reports the count needed.
///
/// # Safety
/// `out` is NULL or has room for `out_cap` values; `out_len` is writable.
unsafe fn write_u16s(values: &[u16], out: *mut u16, out_cap: usize, out_len: *mut usize) -> tlsext_result {
    // SAFETY: writable (caller).
    unsafe { out_len.write(values.len()) };
    if values.len() > out_cap || (out.is_null() && !values.is_empty()) {
        return fail(
            TLSEXT_RESULT_BUFFER_TOO_SMALL,
            format_args!("room for {out_cap} values, {} needed", values.len()),
        );
    }
    if !values.is_empty() {
        // SAFETY: `out` has room for `values.len()` values (checked above).
        unsafe { std::ptr::copy_nonoverlapping(values.as_ptr(), out, values.len()) };
    }
    TLSEXT_RESULT_OK
}

/// A list of u16 taken from the hello, copied out as `write_u16s` does.
///
/// # Safety
/// As for `tlsext_client_hello_versions`.
unsafe fn u16_list(
    hello: *const tlsext_client_hello,
    out: *mut u16,
    out_cap: usize,
    out_len: *mut usize,
    values: impl FnOnce(&ClientHello<'_>) -> Vec<u16>,
) -> tlsext_result {
    ffi_boundary!({
        let hello = try_ref!(hello, "hello");
        let out_len = try_ref!(out_len, "out_len");
        // SAFETY: `hello` is a live handle (caller).
        let Some(h) = (unsafe { self::hello(hello) }).parsed() else {
            return TLSEXT_RESULT_MALFORMED;
        };
        // SAFETY: caller's contract.
        unsafe { write_u16s(&values(&h), out, out_cap, out_len) }
    })
}

/// The protocol versions offered, in the client's order: the supported_versions list when
/// present (GREASE values included, as sent), else the single legacy_version (0x0303 = TLS
/// 1.2). With too small a buffer, `TLSEXT_RESULT_BUFFER_TOO_SMALL` and the count in `*out_len`.
///
/// # Safety
/// `hello` is a live handle; `out` has room for `out_cap` values (or is NULL with 0);
/// `out_len` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tlsext_client_hello_versions(
    hello: *const tlsext_client_hello,
    out: *mut u16,
    out_cap: usize,
    out_len: *mut usize,
) -> tlsext_result {
    // SAFETY: forwarded contract.
    unsafe {
        u16_list(hello, out, out_cap, out_len, |h| match h.supported_versions() {
            Some(v) => v.iter().collect(),
            None => vec![h.legacy_version()],
        })
    }
}

/// The extension types in the order the client sent them.
///
/// # Safety
/// As for `tlsext_client_hello_versions`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tlsext_client_hello_extension_types(
    hello: *const tlsext_client_hello,
    out: *mut u16,
    out_cap: usize,
    out_len: *mut usize,
) -> tlsext_result {
    // SAFETY: forwarded contract.
    unsafe {
        u16_list(hello, out, out_cap, out_len, |h| {
            h.extensions().map(|e| e.typ).collect()
        })
    }
}
