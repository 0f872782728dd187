//! Result codes and the per-thread last error message.

use std::cell::RefCell;
use std::ffi::{CString, c_char};

use crate::ticket::{KeyError, TicketError};

/// What a `tlsext_*` call did. The numbers are part of the ABI: they never change and are
/// never reused.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum tlsext_result {
    /// Success.
    TLSEXT_RESULT_OK = 0,
    /// A required pointer argument was NULL.
    TLSEXT_RESULT_NULL_PARAMETER = 1,
    /// A bug inside the library was caught before it could reach the caller.
    TLSEXT_RESULT_PANIC = 2,
    /// An argument is out of range or not valid UTF-8 where text is required.
    TLSEXT_RESULT_INVALID_ARGUMENT = 3,
    /// A file or directory could not be read.
    TLSEXT_RESULT_IO = 4,
    /// A key has the wrong length for its format.
    TLSEXT_RESULT_BAD_KEY_SIZE = 5,
    /// A line of a HAProxy key file is not valid base64.
    TLSEXT_RESULT_BAD_BASE64 = 6,
    /// Keys of different sizes in one source.
    TLSEXT_RESULT_MIXED_KEY_SIZES = 7,
    /// A key part is a single repeated byte (all zero, say).
    TLSEXT_RESULT_WEAK_KEY = 8,
    /// Two keys share one name.
    TLSEXT_RESULT_DUPLICATE_KEY_NAME = 9,
    /// The source holds no key, or too few for its format.
    TLSEXT_RESULT_EMPTY_RING = 10,
    /// The content matches no supported key layout.
    TLSEXT_RESULT_UNRECOGNIZED_FORMAT = 11,
    /// The output buffer is too small; `*out_len` holds the size needed.
    TLSEXT_RESULT_BUFFER_TOO_SMALL = 12,
    /// No key in the ring has the ticket's key name.
    TLSEXT_RESULT_TICKET_UNKNOWN_KEY = 13,
    /// The ticket's MAC does not match.
    TLSEXT_RESULT_TICKET_BAD_MAC = 14,
    /// The ticket's length is impossible.
    TLSEXT_RESULT_TICKET_MALFORMED = 15,
    /// The ticket's key is past its decrypt window.
    TLSEXT_RESULT_TICKET_EXPIRED_KEY = 16,
    /// The operating system's random source failed.
    TLSEXT_RESULT_RANDOM_FAILED = 17,
    /// libssl refused or could not be found.
    TLSEXT_RESULT_OPENSSL = 18,
    /// The plaintext is larger than a ticket may hold (0xFF00 bytes).
    TLSEXT_RESULT_TOO_LARGE = 19,
    /// The MAC matched but the padding is invalid.
    TLSEXT_RESULT_TICKET_BAD_PADDING = 20,
    /// The ring has no key that may encrypt.
    TLSEXT_RESULT_NO_ENCRYPTING_KEY = 21,
    /// A host name or name pattern is invalid, or already served by another vhost.
    TLSEXT_RESULT_BAD_NAME = 22,
    /// A certificate or private key cannot be used (unreadable, malformed, not matching).
    TLSEXT_RESULT_CERTIFICATE = 23,
    /// The input is a valid start of a ClientHello: read more bytes and try again.
    TLSEXT_RESULT_NEED_MORE = 24,
    /// The input is not a valid ClientHello.
    TLSEXT_RESULT_MALFORMED = 25,
    /// The requested item is not present (e.g. no server_name extension).
    TLSEXT_RESULT_NOT_FOUND = 26,
}

use tlsext_result::*;

impl tlsext_result {
    fn as_str(self) -> &'static std::ffi::CStr {
        match self {
            TLSEXT_RESULT_OK => c"ok",
            TLSEXT_RESULT_NULL_PARAMETER => c"a required argument is NULL",
            TLSEXT_RESULT_PANIC => c"internal error (panic caught)",
            TLSEXT_RESULT_INVALID_ARGUMENT => c"invalid argument",
            TLSEXT_RESULT_IO => c"cannot read the key source",
            TLSEXT_RESULT_BAD_KEY_SIZE => c"key has the wrong size for its format",
            TLSEXT_RESULT_BAD_BASE64 => c"invalid base64",
            TLSEXT_RESULT_MIXED_KEY_SIZES => c"keys of different sizes",
            TLSEXT_RESULT_WEAK_KEY => c"weak key (a single repeated byte)",
            TLSEXT_RESULT_DUPLICATE_KEY_NAME => c"duplicate key name",
            TLSEXT_RESULT_EMPTY_RING => c"no keys (or too few for the format)",
            TLSEXT_RESULT_UNRECOGNIZED_FORMAT => c"unrecognized key format",
            TLSEXT_RESULT_BUFFER_TOO_SMALL => c"output buffer too small",
            TLSEXT_RESULT_TICKET_UNKNOWN_KEY => c"ticket key name not in the ring",
            TLSEXT_RESULT_TICKET_BAD_MAC => c"ticket MAC mismatch",
            TLSEXT_RESULT_TICKET_MALFORMED => c"malformed ticket",
            TLSEXT_RESULT_TICKET_EXPIRED_KEY => c"ticket key expired",
            TLSEXT_RESULT_RANDOM_FAILED => c"random source failed",
            TLSEXT_RESULT_OPENSSL => c"OpenSSL call failed",
            TLSEXT_RESULT_TOO_LARGE => c"input too large for a ticket",
            TLSEXT_RESULT_TICKET_BAD_PADDING => c"ticket padding invalid",
            TLSEXT_RESULT_NO_ENCRYPTING_KEY => c"no encrypting key in the ring",
            TLSEXT_RESULT_BAD_NAME => c"invalid or duplicate host name",
            TLSEXT_RESULT_CERTIFICATE => c"certificate or key unusable",
            TLSEXT_RESULT_NEED_MORE => c"need more bytes",
            TLSEXT_RESULT_MALFORMED => c"malformed ClientHello",
            TLSEXT_RESULT_NOT_FOUND => c"not present",
        }
    }
}

/// A static, human-readable description of `r`; never NULL (an unknown value gives
/// "unknown result").
#[unsafe(no_mangle)]
pub extern "C" fn tlsext_result_str(r: tlsext_result) -> *const c_char {
    // The value may come from C as any integer: compare numerically before trusting it.
    // SAFETY: tlsext_result is repr(C) (an int); reading it as u32 inspects the bits only.
    let raw = unsafe { std::mem::transmute::<tlsext_result, u32>(r) };
    if raw > TLSEXT_RESULT_NOT_FOUND as u32 {
        return c"unknown result".as_ptr();
    }
    r.as_str().as_ptr()
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

/// Records `msg` as this thread's last error.
pub fn set_last_error(msg: &str) {
    let c = CString::new(msg.replace('\0', " ")).unwrap_or_default();
    let _ = LAST_ERROR.try_with(|e| *e.borrow_mut() = c);
}

/// Records the failure and returns its code.
pub fn fail(code: tlsext_result, msg: impl std::fmt::Display) -> tlsext_result {
    set_last_error(&msg.to_string());
    code
}

/// The result for a NULL `name` argument.
pub fn null_parameter(name: &str) -> tlsext_result {
    fail(TLSEXT_RESULT_NULL_PARAMETER, format_args!("argument `{name}` is NULL"))
}

/// Detail of this thread's last failed call: one line naming the file, line or argument
/// and the problem; "" if none. Never contains key material. The pointer is valid until
/// the next `tlsext_*` call on this thread.
#[unsafe(no_mangle)]
pub extern "C" fn tlsext_last_error_message() -> *const c_char {
    LAST_ERROR.try_with(|e| e.borrow().as_ptr()).unwrap_or(c"".as_ptr())
}

impl From<&KeyError> for tlsext_result {
    fn from(e: &KeyError) -> Self {
        match e {
            KeyError::Io { .. } => TLSEXT_RESULT_IO,
            KeyError::BadSize { .. } => TLSEXT_RESULT_BAD_KEY_SIZE,
            KeyError::BadBase64 { .. } => TLSEXT_RESULT_BAD_BASE64,
            KeyError::MixedSizes { .. } => TLSEXT_RESULT_MIXED_KEY_SIZES,
            KeyError::Weak { .. } => TLSEXT_RESULT_WEAK_KEY,
            KeyError::DuplicateName { .. } => TLSEXT_RESULT_DUPLICATE_KEY_NAME,
            KeyError::Empty { .. } | KeyError::TooFewHaproxyKeys { .. } => TLSEXT_RESULT_EMPTY_RING,
            KeyError::Unrecognized { .. } => TLSEXT_RESULT_UNRECOGNIZED_FORMAT,
            KeyError::Unsupported { .. } => TLSEXT_RESULT_INVALID_ARGUMENT,
            KeyError::Random(_) => TLSEXT_RESULT_RANDOM_FAILED,
        }
    }
}

impl From<TicketError> for tlsext_result {
    fn from(e: TicketError) -> Self {
        match e {
            TicketError::Malformed => TLSEXT_RESULT_TICKET_MALFORMED,
            TicketError::UnknownKey => TLSEXT_RESULT_TICKET_UNKNOWN_KEY,
            TicketError::ExpiredKey => TLSEXT_RESULT_TICKET_EXPIRED_KEY,
            TicketError::BadMac => TLSEXT_RESULT_TICKET_BAD_MAC,
            TicketError::BadPadding => TLSEXT_RESULT_TICKET_BAD_PADDING,
            TicketError::TooLarge => TLSEXT_RESULT_TOO_LARGE,
            TicketError::NoEncryptingKey => TLSEXT_RESULT_NO_ENCRYPTING_KEY,
            TicketError::Random => TLSEXT_RESULT_RANDOM_FAILED,
        }
    }
}

/// Maps a key error to its code and records its message.
pub fn key_error(e: &KeyError) -> tlsext_result {
    fail(e.into(), e)
}

/// Maps a ticket error to its code and records its message.
pub fn ticket_error(e: TicketError) -> tlsext_result {
    fail(e.into(), e)
}
