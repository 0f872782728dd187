//! The OpenSSL-named exports that make `LD_PRELOAD=libtlsext_shim.so` (or linking this
//! library before `-lssl`) work on unmodified servers, and the per-process state behind them.
//!
//! With no `TLSEXT_SHIM_*` setting every export forwards to libssl and nothing else happens
//! (passthrough). Configured, each new `SSL_CTX` gets the shim's ticket-key callback driven
//! by one process-wide key ring, which follows its source lazily on the handshake path (no
//! thread: nginx forks its workers after creating its contexts).

#[cfg(feature = "dropin")]
pub mod dropin;
/// cbindgen:ignore
pub mod exports;
mod tickets;

use std::sync::Arc;

use once_cell::sync::OnceCell;

use crate::config::{LogLevel, Settings};

pub use tickets::TicketManager;

/// What the shim does in this process: nothing (`None`) or this.
pub struct Shim {
    /// The settings in force.
    pub settings: Settings,
    /// Ticket keys, when configured.
    pub tickets: Option<Arc<TicketManager>>,
}

static SHIM: OnceCell<Option<Shim>> = OnceCell::new();

/// The shim's state, set up on first use from the environment and the config file.
pub fn shim() -> Option<&'static Shim> {
    SHIM.get_or_init(init).as_ref()
}

fn init() -> Option<Shim> {
    let settings = match Settings::from_process_env() {
        Ok(s) => s,
        Err(e) => {
            // The log is not configured yet: say it on stderr, whatever the level.
            crate::log::init(LogLevel::Error, crate::config::LogTarget::Stderr);
            log_error!("configuration refused, the shim stays inactive: {e}");
            return None;
        }
    };
    if !settings.is_active() {
        return None;
    }
    crate::log::init(settings.log.level, settings.log.to);
    let tickets = TicketManager::from_settings(&settings.tickets).map(Arc::new);
    if let Some(t) = &tickets {
        crate::openssl::ticket_cb::set_lifetime_cap(settings.tickets.lifetime.map_or(0, |d| d.as_secs().max(1)));
        crate::openssl::ticket_cb::set_before_ticket_hook(poll_tickets);
        crate::log::notice(format_args!("active; ticket keys: {}", t.describe()));
    }
    Some(Shim { settings, tickets })
}

fn poll_tickets() {
    if let Some(t) = shim().and_then(|s| s.tickets.as_ref()) {
        t.maybe_poll();
    }
}
