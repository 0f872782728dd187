//! What happened to each ticket a client offered, seen through OpenSSL's session-ticket
//! callbacks (`SSL_CTX_set_session_ticket_cb`): resumed (and how old the ticket was), or
//! refused and why. The ticket-key callback notes what it found for the key name in a
//! thread-local, because OpenSSL reports a bad MAC, bad padding or a bad session with the same
//! status as an unknown key; the decrypt callback, which runs right after on the same thread,
//! tells them apart.
//!
//! The application's own session-ticket callbacks (installed through this library's export)
//! are called from ours with their own argument, and their answers win.

use std::cell::Cell;
use std::ffi::{c_int, c_void};

use openssl_sys::{SSL, SSL_SESSION};

/// `SSL_CTX_generate_session_ticket_fn`.
pub type GenCb = unsafe extern "C" fn(s: *mut SSL, arg: *mut c_void) -> c_int;
/// `SSL_CTX_decrypt_session_ticket_fn`.
pub type DecCb = unsafe extern "C" fn(
    s: *mut SSL,
    ss: *mut SSL_SESSION,
    keyname: *const u8,
    keyname_len: usize,
    status: c_int,
    arg: *mut c_void,
) -> c_int;

const TICKET_FATAL_ERR_MALLOC: c_int = 0;
const TICKET_FATAL_ERR_OTHER: c_int = 1;
const TICKET_NONE: c_int = 2;
const TICKET_EMPTY: c_int = 3;
const TICKET_NO_DECRYPT: c_int = 4;
const TICKET_SUCCESS: c_int = 5;
const TICKET_SUCCESS_RENEW: c_int = 6;
const RETURN_ABORT: c_int = 0;
const RETURN_IGNORE: c_int = 1;
const RETURN_IGNORE_RENEW: c_int = 2;
const RETURN_USE: c_int = 3;
const RETURN_USE_RENEW: c_int = 4;

/// What the ticket-key callback found for the last offered ticket on this thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyLookup {
    /// A key of this connection's ring has the ticket's name.
    Found,
    /// No key has it.
    Unknown,
    /// No key of this connection's ring has it, but another vhost's (or the default) does.
    OtherVhost,
    /// The key exists but is past its decrypt window.
    Expired,
}

/// Why an offered ticket did not resume.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// See [`KeyLookup`].
    Lookup(KeyLookup),
    /// The key was found but the MAC, the padding or the session inside did not check out.
    BadTicket,
    /// Too short to hold a key name (OpenSSL did not ask for a key).
    Malformed,
}

/// One offered ticket's fate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The session resumes; `renew` when a fresh ticket will be issued.
    Resumed {
        /// A fresh ticket follows.
        renew: bool,
        /// Seconds since the session was created.
        age: u64,
    },
    /// Refused: full handshake.
    Refused(Refused),
}

thread_local! {
    static LAST_LOOKUP: Cell<Option<KeyLookup>> = const { Cell::new(None) };
}

/// Notes what the ticket-key callback found (called on the handshake's thread).
pub fn note_lookup(found: KeyLookup) {
    let _ = LAST_LOOKUP.try_with(|c| c.set(Some(found)));
}

fn take_lookup() -> Option<KeyLookup> {
    LAST_LOOKUP.try_with(Cell::take).ok().flatten()
}

/// Classifies OpenSSL's status for one offered ticket; `None` when there was no ticket.
pub fn classify(status: c_int, age: u64) -> Option<Outcome> {
    let lookup = take_lookup();
    match status {
        TICKET_SUCCESS => Some(Outcome::Resumed { renew: false, age }),
        TICKET_SUCCESS_RENEW => Some(Outcome::Resumed { renew: true, age }),
        TICKET_NO_DECRYPT => Some(Outcome::Refused(match lookup {
            Some(KeyLookup::Found) => Refused::BadTicket,
            Some(other) => Refused::Lookup(other),
            None => Refused::Malformed,
        })),
        TICKET_FATAL_ERR_MALLOC | TICKET_FATAL_ERR_OTHER => Some(Outcome::Refused(Refused::BadTicket)),
        _ => None,
    }
}

/// OpenSSL's own choice when no decrypt callback is installed, as a callback answer.
pub fn default_return(status: c_int) -> c_int {
    match status {
        TICKET_SUCCESS => RETURN_USE,
        TICKET_SUCCESS_RENEW => RETURN_USE_RENEW,
        TICKET_EMPTY | TICKET_NO_DECRYPT => RETURN_IGNORE_RENEW,
        TICKET_NONE => RETURN_IGNORE,
        _ => RETURN_ABORT,
    }
}

/// Counts one offered ticket's fate in the process metrics.
fn record(s: *mut SSL, outcome: Outcome) {
    use crate::metrics::{Refusal, Tls, global};
    let m = global();
    match outcome {
        Outcome::Resumed { renew, age } => {
            // SAFETY: `s` is the live connection OpenSSL passed to the callback.
            let tls = if unsafe { super::sys::SSL_version(s) } == 0x0304 {
                Tls::V13
            } else {
                Tls::V12
            };
            m.resumed(tls);
            m.ticket_age(age);
            if renew {
                m.renewed();
            }
            // SAFETY: as above.
            let slot = unsafe { super::sni::metrics_slot(s) };
            m.vhost_resumed(slot);
        }
        Outcome::Refused(r) => m.refused(match r {
            Refused::Lookup(KeyLookup::Unknown | KeyLookup::Found) => Refusal::UnknownKey,
            Refused::Lookup(KeyLookup::Expired) => Refusal::Expired,
            Refused::Lookup(KeyLookup::OtherVhost) => Refusal::OtherVhost,
            Refused::BadTicket => Refusal::BadMacOrPadding,
            Refused::Malformed => Refusal::Malformed,
        }),
    }
}

/// The decrypt callback installed on managed contexts: counts the outcome, then answers as
/// the application's own callback does, or as OpenSSL does without one.
///
/// # Safety
/// Called by libssl with a live connection and session.
pub unsafe extern "C" fn dec_cb(
    s: *mut SSL,
    ss: *mut SSL_SESSION,
    keyname: *const u8,
    keyname_len: usize,
    status: c_int,
    _arg: *mut c_void,
) -> c_int {
    // Our own argument is unused (NULL); the application's is kept in the context state.
    let _ = std::panic::catch_unwind(|| {
        let age = if ss.is_null() {
            0
        } else {
            // SAFETY: `ss` is the live decrypted session.
            let created = unsafe { super::sys::SSL_SESSION_get_time(ss) };
            crate::ticket::ring::now().saturating_sub(u64::try_from(created).unwrap_or(0))
        };
        if let Some(o) = classify(status, age) {
            record(s, o);
        }
    });
    // SAFETY: `s` is live; its context outlives it.
    let app = unsafe { super::ctx::ctx_state(super::sys::SSL_get_SSL_CTX(s)) }.and_then(|st| st.app_session_ticket());
    match app {
        // SAFETY: the application's callback with the argument it registered.
        Some((_, Some(dec), app_arg)) => unsafe { dec(s, ss, keyname, keyname_len, status, app_arg) },
        _ => default_return(status),
    }
}

/// The generate callback installed on managed contexts: the application's own, if any.
///
/// # Safety
/// Called by libssl with a live connection.
pub unsafe extern "C" fn gen_cb(s: *mut SSL, _arg: *mut c_void) -> c_int {
    // SAFETY: `s` is live; its context outlives it.
    let app = unsafe { super::ctx::ctx_state(super::sys::SSL_get_SSL_CTX(s)) }.and_then(|st| st.app_session_ticket());
    match app {
        // SAFETY: the application's callback with the argument it registered.
        Some((Some(gen_fn), _, app_arg)) => unsafe { gen_fn(s, app_arg) },
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_told_apart_by_the_key_lookup() {
        note_lookup(KeyLookup::Found);
        assert_eq!(
            classify(TICKET_NO_DECRYPT, 0),
            Some(Outcome::Refused(Refused::BadTicket))
        );
        note_lookup(KeyLookup::Unknown);
        assert_eq!(
            classify(TICKET_NO_DECRYPT, 0),
            Some(Outcome::Refused(Refused::Lookup(KeyLookup::Unknown)))
        );
        assert_eq!(
            classify(TICKET_NO_DECRYPT, 0),
            Some(Outcome::Refused(Refused::Malformed)),
            "the note is consumed"
        );
        note_lookup(KeyLookup::Found);
        assert_eq!(
            classify(TICKET_SUCCESS_RENEW, 42),
            Some(Outcome::Resumed { renew: true, age: 42 })
        );
        assert_eq!(classify(TICKET_EMPTY, 0), None);
        assert_eq!(classify(TICKET_NONE, 0), None);
    }

    #[test]
    fn the_default_answers_keep_openssl_behaviour() {
        assert_eq!(default_return(TICKET_SUCCESS), RETURN_USE);
        assert_eq!(default_return(TICKET_SUCCESS_RENEW), RETURN_USE_RENEW);
        assert_eq!(default_return(TICKET_NO_DECRYPT), RETURN_IGNORE_RENEW);
        assert_eq!(default_return(TICKET_EMPTY), RETURN_IGNORE_RENEW);
        assert_eq!(default_return(TICKET_NONE), RETURN_IGNORE);
        assert_eq!(default_return(TICKET_FATAL_ERR_OTHER), RETURN_ABORT);
    }
}
