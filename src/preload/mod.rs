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

use crate::config::{KeySource, LogLevel, Settings};
use crate::openssl::sni::SniRouter;
use crate::openssl::vhost::{VhostFinding, check_vhost_files};

pub use tickets::TicketManager;

/// What the shim does in this process: nothing (`None`) or this.
pub struct Shim {
    /// The settings in force.
    pub settings: Settings,
    /// Ticket keys, when configured (always, when SNI routing is).
    pub tickets: Option<Arc<TicketManager>>,
    /// SNI routing, when vhosts are configured.
    pub sni: Option<Arc<SniRouter>>,
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
    let sni = build_router(&settings);
    let mut ticket_settings = settings.tickets.clone();
    if sni.is_some() && ticket_settings.keys == KeySource::None {
        // Tickets must be bound to their vhost, which needs keys the shim controls.
        ticket_settings.keys = KeySource::Auto;
    }
    let tickets = TicketManager::from_settings(&ticket_settings).map(Arc::new);
    if let Some(t) = &tickets {
        crate::openssl::ticket_cb::set_lifetime_cap(settings.tickets.lifetime.map_or(0, |d| d.as_secs().max(1)));
        crate::openssl::ticket_cb::set_before_ticket_hook(poll_tickets);
        crate::log::notice(format_args!("active; ticket keys: {}", t.describe()));
    }
    if let Some(r) = &sni {
        crate::log::notice(format_args!(
            "active; SNI routing for {} vhost(s){}",
            r.len(),
            if settings.sni.strict { ", strict" } else { "" }
        ));
    }
    crate::metrics::global().register_vhosts(&crate::openssl::sni::metrics_labels(sni.as_deref()));
    if let Some(dir) = &settings.metrics.dir {
        crate::metrics::configure_textfile(dir.clone(), settings.metrics.interval);
    }
    Some(Shim { settings, tickets, sni })
}

/// The vhosts of the configuration; a vhost whose files cannot be used is left out (its
/// names go to the server's own handling) with one error line naming it.
fn build_router(settings: &Settings) -> Option<Arc<SniRouter>> {
    if settings.sni.vhosts.is_empty() {
        return None;
    }
    let interval = u64::try_from(settings.tickets.reload_interval.as_millis()).unwrap_or(u64::MAX);
    let router = SniRouter::new(interval);
    router.set_strict(settings.sni.strict);
    for (i, v) in settings.sni.vhosts.iter().enumerate() {
        let which = format!("sni.vhost[{i}] ({})", v.names.first().map_or("", String::as_str));
        let (certs, findings) = check_vhost_files(&v.names, &v.cert, &v.key);
        for f in &findings {
            match f {
                VhostFinding::Error(e) => log_error!("{which}: {e}; this vhost is not served"),
                VhostFinding::NameNotCovered(n) => log_warn!("{which}: the certificate does not cover {n}"),
                VhostFinding::ExpiresSoon(d) => log_warn!("{which}: the certificate expires in {d} day(s)"),
            }
        }
        let Some(certs) = certs else { continue };
        if let Err(e) = router.add(v.names.clone(), certs, Some((v.cert.clone(), v.key.clone()))) {
            log_error!("{which}: {e}; this vhost is not served");
        }
    }
    Some(Arc::new(router))
}

fn poll_tickets() {
    if let Some(t) = shim().and_then(|s| s.tickets.as_ref()) {
        t.maybe_poll();
    }
    if let Some(Err(e)) = crate::metrics::maybe_write(crate::ticket::ring::now()) {
        log_error!("metrics: {e}");
    }
}
