//! Process-wide counters of what the shim does, for monitoring.
//!
//! One [`Metrics`] per process ([`global`]); the handshake path bumps its counters with
//! relaxed atomic adds (no lock, no allocation). A [`Snapshot`] is a plain copy of every
//! counter; it renders as Prometheus text ([`Snapshot::to_prometheus`]) and parses back
//! ([`Snapshot::from_prometheus`], for `tlsext-shim stats`).
//!
//! With `TLSEXT_SHIM_METRICS=DIR` the preload layer calls [`maybe_write`] from the handshake
//! path; at most once per interval it writes `DIR/tlsext_shim_<pid>.prom` through a temporary
//! file and a rename, and deletes the files of processes that have exited (see
//! [`textfile`]). Every series carries a `pid` label, so node_exporter's textfile collector,
//! which merges all files of the directory, never sees one series twice.
//!
//! Fixed capacities keep the handshake path allocation-free: tickets issued are counted per
//! key name for the first [`KEY_SLOTS`] names seen (later names share the `other` series), and
//! per-vhost counters exist for vhost indexes below [`VHOST_SLOTS`] (the others share
//! `other`).
#![forbid(unsafe_code)]

mod keys;
pub mod prom;
pub mod textfile;

use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::ticket::{KeyName, TicketError};

pub use prom::{ParseError, Sample};
pub use textfile::{RateLimit, configure_textfile, file_name, maybe_write};

use keys::KeyCounts;

/// How many key names get a series of their own.
pub const KEY_SLOTS: usize = 64;
/// How many vhosts get series of their own.
pub const VHOST_SLOTS: usize = 64;
/// Upper bounds (seconds, inclusive) of the ticket-age histogram buckets; a last bucket,
/// `+Inf`, takes the rest.
pub const AGE_BOUNDS: [u64; 9] = [60, 300, 900, 3600, 14400, 43200, 86400, 172800, 604800];
/// Number of ticket-age buckets, `+Inf` included.
pub const AGE_BUCKETS: usize = AGE_BOUNDS.len() + 1;

/// The protocol version of a resumption.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tls {
    /// TLS 1.2 (RFC 5077 ticket).
    V12,
    /// TLS 1.3 (PSK from a ticket).
    V13,
}

impl Tls {
    /// Both versions.
    pub const ALL: [Tls; 2] = [Tls::V12, Tls::V13];

    /// The `version` label value: `1.2` or `1.3`.
    pub fn as_str(self) -> &'static str {
        match self {
            Tls::V12 => "1.2",
            Tls::V13 => "1.3",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Why an offered ticket was not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Refusal {
    /// No key has the ticket's key name (retired, or from another fleet).
    UnknownKey,
    /// The key exists but is past its decrypt window.
    Expired,
    /// The MAC or the padding did not check out: tampered, or a same-named different key.
    BadMacOrPadding,
    /// Too short, or not whole cipher blocks.
    Malformed,
    /// The ticket was issued for another vhost.
    OtherVhost,
}

impl Refusal {
    /// Every reason, in the order the metrics list them.
    pub const ALL: [Refusal; 5] = [
        Refusal::UnknownKey,
        Refusal::Expired,
        Refusal::BadMacOrPadding,
        Refusal::Malformed,
        Refusal::OtherVhost,
    ];

    /// The `reason` label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::UnknownKey => "unknown_key",
            Refusal::Expired => "expired",
            Refusal::BadMacOrPadding => "bad_mac_or_padding",
            Refusal::Malformed => "malformed",
            Refusal::OtherVhost => "other_vhost",
        }
    }

    /// The reason called `name` (a label value), if there is one.
    pub fn from_name(name: &str) -> Option<Refusal> {
        Refusal::ALL.into_iter().find(|r| r.as_str() == name)
    }

    /// The reason a ticket-opening error counts as; `None` for errors that are not about
    /// the ticket (no encrypting key, random source failure, oversized session).
    pub fn from_ticket_error(e: TicketError) -> Option<Refusal> {
        match e {
            TicketError::UnknownKey => Some(Refusal::UnknownKey),
            TicketError::ExpiredKey => Some(Refusal::Expired),
            TicketError::BadMac | TicketError::BadPadding => Some(Refusal::BadMacOrPadding),
            TicketError::Malformed => Some(Refusal::Malformed),
            TicketError::TooLarge | TicketError::NoEncryptingKey | TicketError::Random => None,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The bucket of the ticket-age histogram that `secs` falls into.
pub fn age_bucket(secs: u64) -> usize {
    AGE_BOUNDS
        .iter()
        .position(|&bound| secs <= bound)
        .unwrap_or(AGE_BOUNDS.len())
}

/// Per-vhost counters, indexed by vhost, the last slot being `other`.
struct VhostCounters {
    handshakes: [AtomicU64; VHOST_SLOTS + 1],
    resumed: [AtomicU64; VHOST_SLOTS + 1],
    strict_refusals: [AtomicU64; VHOST_SLOTS + 1],
}

/// Every counter of one process. All methods are lock-free and never allocate, except
/// [`Metrics::register_vhosts`] and [`Metrics::snapshot`].
pub struct Metrics {
    handshakes: AtomicU64,
    issued: KeyCounts,
    resumed: [AtomicU64; Tls::ALL.len()],
    renewed: AtomicU64,
    refused: [AtomicU64; Refusal::ALL.len()],
    age: [AtomicU64; AGE_BUCKETS],
    age_sum: AtomicU64,
    vhosts: VhostCounters,
    vhost_names: RwLock<Vec<String>>,
    key_reloads: [AtomicU64; 2],
    cert_reloads: [AtomicU64; 2],
}

static GLOBAL: Metrics = Metrics::new();

/// This process's counters.
pub fn global() -> &'static Metrics {
    &GLOBAL
}

fn slot(idx: usize) -> usize {
    idx.min(VHOST_SLOTS)
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// All counters at zero, no vhost registered.
    pub const fn new() -> Metrics {
        Metrics {
            handshakes: AtomicU64::new(0),
            issued: KeyCounts::new(),
            resumed: [const { AtomicU64::new(0) }; Tls::ALL.len()],
            renewed: AtomicU64::new(0),
            refused: [const { AtomicU64::new(0) }; Refusal::ALL.len()],
            age: [const { AtomicU64::new(0) }; AGE_BUCKETS],
            age_sum: AtomicU64::new(0),
            vhosts: VhostCounters {
                handshakes: [const { AtomicU64::new(0) }; VHOST_SLOTS + 1],
                resumed: [const { AtomicU64::new(0) }; VHOST_SLOTS + 1],
                strict_refusals: [const { AtomicU64::new(0) }; VHOST_SLOTS + 1],
            },
            vhost_names: RwLock::new(Vec::new()),
            key_reloads: [const { AtomicU64::new(0) }; 2],
            cert_reloads: [const { AtomicU64::new(0) }; 2],
        }
    }

    /// One handshake seen (a ClientHello reached the shim).
    pub fn handshake(&self) {
        self.handshakes.fetch_add(1, Relaxed);
    }

    /// One ticket sealed with the key named `name`.
    pub fn ticket_issued(&self, name: &KeyName) {
        self.issued.add(name);
    }

    /// One session resumed from a ticket.
    pub fn resumed(&self, tls: Tls) {
        self.resumed[tls.index()].fetch_add(1, Relaxed);
    }

    /// One ticket opened by a key that no longer encrypts, so it is re-issued.
    pub fn renewed(&self) {
        self.renewed.fetch_add(1, Relaxed);
    }

    /// One offered ticket refused.
    pub fn refused(&self, why: Refusal) {
        self.refused[why.index()].fetch_add(1, Relaxed);
    }

    /// The age, in seconds, of a ticket that resumed a session (now minus the session's
    /// creation time).
    pub fn ticket_age(&self, secs: u64) {
        self.age[age_bucket(secs)].fetch_add(1, Relaxed);
        self.age_sum.fetch_add(secs, Relaxed);
    }

    /// One handshake routed to vhost `idx` (its index in the configuration).
    pub fn vhost_handshake(&self, idx: usize) {
        self.vhosts.handshakes[slot(idx)].fetch_add(1, Relaxed);
    }

    /// One resumption on vhost `idx`.
    pub fn vhost_resumed(&self, idx: usize) {
        self.vhosts.resumed[slot(idx)].fetch_add(1, Relaxed);
    }

    /// One handshake ended by strict SNI on vhost `idx` (use the index the caller reserves
    /// for "no vhost" when the name matched none).
    pub fn strict_refusal(&self, idx: usize) {
        self.vhosts.strict_refusals[slot(idx)].fetch_add(1, Relaxed);
    }

    /// One reload of the ticket-key source, successful or not.
    pub fn key_reload(&self, ok: bool) {
        self.key_reloads[usize::from(!ok)].fetch_add(1, Relaxed);
    }

    /// One reload of a vhost certificate, successful or not.
    pub fn cert_reload(&self, ok: bool) {
        self.cert_reloads[usize::from(!ok)].fetch_add(1, Relaxed);
    }

    /// Names the vhosts by index: `names[i]` is the `vhost` label of vhost `i`. Counters are
    /// kept by index, so call it again with the same order after a reload.
    pub fn register_vhosts(&self, names: &[String]) {
        let mut guard = self.vhost_names.write().unwrap_or_else(|e| e.into_inner());
        *guard = names.iter().take(VHOST_SLOTS).cloned().collect();
    }

    /// A copy of every counter. Counters are read one by one, so a snapshot taken during
    /// traffic may mix values a few events apart; each counter on its own is exact.
    pub fn snapshot(&self) -> Snapshot {
        let load = |a: &AtomicU64| a.load(Relaxed);
        let (tickets_issued, tickets_issued_other) = self.issued.snapshot();
        let names = self.vhost_names.read().unwrap_or_else(|e| e.into_inner());
        // Registered slots always, the others (unregistered indexes, then `other`) only once
        // they counted something.
        let mut vhosts = Vec::new();
        for i in 0..=VHOST_SLOTS {
            let (handshakes, resumed, strict_refusals) = (
                load(&self.vhosts.handshakes[i]),
                load(&self.vhosts.resumed[i]),
                load(&self.vhosts.strict_refusals[i]),
            );
            let name = match names.get(i) {
                Some(name) => name.clone(),
                None if handshakes == 0 && resumed == 0 && strict_refusals == 0 => continue,
                None if i == VHOST_SLOTS => OTHER.to_owned(),
                None => format!("#{i}"),
            };
            vhosts.push(VhostCounts {
                name,
                handshakes,
                resumed,
                strict_refusals,
            });
        }
        Snapshot {
            handshakes: load(&self.handshakes),
            tickets_issued,
            tickets_issued_other,
            resumed_tls12: load(&self.resumed[Tls::V12.index()]),
            resumed_tls13: load(&self.resumed[Tls::V13.index()]),
            renewed: load(&self.renewed),
            refused: self.refused.each_ref().map(load),
            ticket_age: Histogram {
                buckets: self.age.each_ref().map(load),
                sum: load(&self.age_sum),
            },
            vhosts,
            key_reloads_ok: load(&self.key_reloads[0]),
            key_reloads_failed: load(&self.key_reloads[1]),
            cert_reloads_ok: load(&self.cert_reloads[0]),
            cert_reloads_failed: load(&self.cert_reloads[1]),
        }
    }
}

/// The label value of the series that collects what has no slot of its own.
pub const OTHER: &str = "other";

/// The ticket-age histogram: a count per bucket (not cumulative) and the sum of all ages.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Histogram {
    /// Resumptions per bucket of [`AGE_BOUNDS`], the last one `+Inf`.
    pub buckets: [u64; AGE_BUCKETS],
    /// Sum of all ages, seconds.
    pub sum: u64,
}

impl Histogram {
    /// Number of observations.
    pub fn count(&self) -> u64 {
        self.buckets.iter().fold(0u64, |a, &b| a.saturating_add(b))
    }
}

/// The counters of one vhost.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VhostCounts {
    /// The `vhost` label: the registered name, `#<index>` when none was registered, or
    /// `other` for indexes without a slot.
    pub name: String,
    /// Handshakes routed to it.
    pub handshakes: u64,
    /// Resumptions on it.
    pub resumed: u64,
    /// Handshakes ended by strict SNI.
    pub strict_refusals: u64,
}

/// A copy of every counter of one process.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Handshakes seen.
    pub handshakes: u64,
    /// Tickets issued per key name, in the order the names were first seen.
    pub tickets_issued: Vec<(KeyName, u64)>,
    /// Tickets issued with keys that got no slot.
    pub tickets_issued_other: u64,
    /// TLS 1.2 resumptions.
    pub resumed_tls12: u64,
    /// TLS 1.3 resumptions.
    pub resumed_tls13: u64,
    /// Tickets re-issued because the key that opened them no longer encrypts.
    pub renewed: u64,
    /// Refused tickets, indexed like [`Refusal::ALL`].
    pub refused: [u64; Refusal::ALL.len()],
    /// Ticket age at resumption.
    pub ticket_age: Histogram,
    /// Per-vhost counters: registered vhosts in order, then unregistered indexes that
    /// counted something, then `other` if it counted something.
    pub vhosts: Vec<VhostCounts>,
    /// Successful reloads of the ticket-key source.
    pub key_reloads_ok: u64,
    /// Failed reloads of the ticket-key source (the last good keys stayed).
    pub key_reloads_failed: u64,
    /// Successful certificate reloads.
    pub cert_reloads_ok: u64,
    /// Failed certificate reloads.
    pub cert_reloads_failed: u64,
}

impl Snapshot {
    /// All resumptions.
    pub fn resumed(&self) -> u64 {
        self.resumed_tls12.saturating_add(self.resumed_tls13)
    }

    /// All tickets issued.
    pub fn issued(&self) -> u64 {
        self.tickets_issued
            .iter()
            .fold(self.tickets_issued_other, |a, (_, n)| a.saturating_add(*n))
    }

    /// Refusals for `why`.
    pub fn refusals(&self, why: Refusal) -> u64 {
        self.refused[why.index()]
    }

    /// All refusals.
    pub fn refused_total(&self) -> u64 {
        self.refused.iter().fold(0u64, |a, &b| a.saturating_add(b))
    }

    /// Adds `other`'s counters to this one (for totals over processes); vhosts and key
    /// names are matched by label.
    pub fn merge(&mut self, other: &Snapshot) {
        let add = |a: &mut u64, b: u64| *a = a.saturating_add(b);
        add(&mut self.handshakes, other.handshakes);
        for (name, n) in &other.tickets_issued {
            match self.tickets_issued.iter_mut().find(|(m, _)| m == name) {
                Some((_, count)) => add(count, *n),
                None => self.tickets_issued.push((*name, *n)),
            }
        }
        add(&mut self.tickets_issued_other, other.tickets_issued_other);
        add(&mut self.resumed_tls12, other.resumed_tls12);
        add(&mut self.resumed_tls13, other.resumed_tls13);
        add(&mut self.renewed, other.renewed);
        for (a, b) in self.refused.iter_mut().zip(other.refused) {
            add(a, b);
        }
        for (a, b) in self.ticket_age.buckets.iter_mut().zip(other.ticket_age.buckets) {
            add(a, b);
        }
        add(&mut self.ticket_age.sum, other.ticket_age.sum);
        for v in &other.vhosts {
            match self.vhosts.iter_mut().find(|w| w.name == v.name) {
                Some(w) => {
                    add(&mut w.handshakes, v.handshakes);
                    add(&mut w.resumed, v.resumed);
                    add(&mut w.strict_refusals, v.strict_refusals);
                }
                None => self.vhosts.push(v.clone()),
            }
        }
        add(&mut self.key_reloads_ok, other.key_reloads_ok);
        add(&mut self.key_reloads_failed, other.key_reloads_failed);
        add(&mut self.cert_reloads_ok, other.cert_reloads_ok);
        add(&mut self.cert_reloads_failed, other.cert_reloads_failed);
    }
}

#[cfg(test)]
mod tests;
