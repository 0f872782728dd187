//! The shim's log: one line per event, to the server's standard error or to syslog
//! (`/dev/log`), never key material (keys are named by their 16-byte name in hex).
#![forbid(unsafe_code)]

use std::io::Write as _;
use std::sync::atomic::{AtomicU8, Ordering};

use crate::config::{LogLevel, LogTarget};

static LEVEL: AtomicU8 = AtomicU8::new(LogLevel::Warn as u8);
static TARGET: AtomicU8 = AtomicU8::new(0);

/// Sets the level and destination for the rest of the process.
pub fn init(level: LogLevel, target: LogTarget) {
    LEVEL.store(level as u8, Ordering::Relaxed);
    TARGET.store(matches!(target, LogTarget::Syslog) as u8, Ordering::Relaxed);
}

/// Whether a message at `level` would be written.
pub fn enabled(level: LogLevel) -> bool {
    level != LogLevel::Off && level as u8 <= LEVEL.load(Ordering::Relaxed)
}

/// Writes one line at `level`, if enabled.
pub fn write(level: LogLevel, msg: std::fmt::Arguments<'_>) {
    if enabled(level) {
        emit(level, level.as_str(), msg);
    }
}

/// Writes one line tagged `notice` that is shown at the default level (warn) and above:
/// for the few lines an operator should always see, such as the startup line.
pub fn notice(msg: std::fmt::Arguments<'_>) {
    if enabled(LogLevel::Warn) {
        emit(LogLevel::Info, "notice", msg);
    }
}

fn emit(level: LogLevel, tag: &str, msg: std::fmt::Arguments<'_>) {
    let pid = std::process::id();
    if TARGET.load(Ordering::Relaxed) == 1 {
        // RFC 3164 over the local socket: facility daemon (3), the level's severity.
        let severity = match level {
            LogLevel::Error => 3,
            LogLevel::Warn => 4,
            LogLevel::Info => 6,
            LogLevel::Off | LogLevel::Debug => 7,
        };
        let line = format!("<{}>tlsext-shim[{pid}]: {tag}: {msg}", 3 * 8 + severity);
        if let Ok(sock) = std::os::unix::net::UnixDatagram::unbound() {
            if sock.send_to(line.as_bytes(), "/dev/log").is_ok() {
                return;
            }
        }
    }
    // One write call per line, so lines from several processes do not interleave.
    let line = format!("tlsext-shim[{pid}]: {tag}: {msg}\n");
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// Logs at `$level`. The level is checked before the arguments are evaluated, so a disabled
/// line (a `log_debug!` on the handshake path) costs one atomic load and nothing more.
#[doc(hidden)]
#[macro_export]
macro_rules! __log_at {
    ($level:ident, $($t:tt)*) => {
        if $crate::log::enabled($crate::config::LogLevel::$level) {
            $crate::log::write($crate::config::LogLevel::$level, format_args!($($t)*))
        }
    };
}
/// Logs at error level.
#[macro_export]
macro_rules! log_error { ($($t:tt)*) => { $crate::__log_at!(Error, $($t)*) } }
/// Logs at warn level.
#[macro_export]
macro_rules! log_warn { ($($t:tt)*) => { $crate::__log_at!(Warn, $($t)*) } }
/// Logs at info level.
#[macro_export]
macro_rules! log_info { ($($t:tt)*) => { $crate::__log_at!(Info, $($t)*) } }
/// Logs at debug level.
#[macro_export]
macro_rules! log_debug { ($($t:tt)*) => { $crate::__log_at!(Debug, $($t)*) } }

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_filter_in_order() {
        init(LogLevel::Info, LogTarget::Stderr);
        assert!(enabled(LogLevel::Error) && enabled(LogLevel::Info));
        assert!(!enabled(LogLevel::Debug) && !enabled(LogLevel::Off));
        init(LogLevel::Off, LogTarget::Stderr);
        assert!(!enabled(LogLevel::Error));
        let mut evaluated = false;
        log_error!("{}", {
            evaluated = true;
            "never shown"
        });
        assert!(!evaluated, "a disabled line does not evaluate its arguments");
        init(LogLevel::Warn, LogTarget::Stderr);
    }
}
