//! `tlsext_stats`: the shim's counters for this process, copied into a caller-owned struct.

use crate::metrics::{self, AGE_BUCKETS, Refusal};

use super::result::{tlsext_result, tlsext_result::*};

/// The shim's counters for this process (all since it started), as
/// `tlsext_stats_snapshot` copies them. Per-key and per-vhost counters are in the metrics
/// files (`TLSEXT_SHIM_METRICS`); this struct holds the totals.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct tlsext_stats {
    /// Handshakes that reached the shim.
    pub handshakes: u64,
    /// Session tickets issued (all keys).
    pub tickets_issued: u64,
    /// Sessions resumed from a ticket with TLS 1.2.
    pub resumptions_tls12: u64,
    /// Sessions resumed from a ticket with TLS 1.3.
    pub resumptions_tls13: u64,
    /// Tickets re-issued because the key that opened them no longer encrypts.
    pub renewals: u64,
    /// Tickets refused: no key has their key name.
    pub refused_unknown_key: u64,
    /// Tickets refused: the key is past its decrypt window.
    pub refused_expired: u64,
    /// Tickets refused: MAC or padding mismatch.
    pub refused_bad_mac_or_padding: u64,
    /// Tickets refused: malformed.
    pub refused_malformed: u64,
    /// Tickets refused: issued for another vhost.
    pub refused_other_vhost: u64,
    /// Ticket age at resumption: resumptions per bucket (not cumulative), upper bounds in
    /// seconds 60, 300, 900, 3600, 14400, 43200, 86400, 172800, 604800, and the rest.
    pub ticket_age_buckets: [u64; 10],
    /// Sum of the ticket ages at resumption, seconds.
    pub ticket_age_sum: u64,
    /// Successful reloads of the ticket-key source.
    pub key_reloads_ok: u64,
    /// Failed reloads of the ticket-key source (the last good keys stayed).
    pub key_reloads_failed: u64,
    /// Successful certificate reloads.
    pub cert_reloads_ok: u64,
    /// Failed certificate reloads.
    pub cert_reloads_failed: u64,
}

const _: () = assert!(AGE_BUCKETS == 10, "tlsext_stats.ticket_age_buckets has 10 entries");

impl From<&metrics::Snapshot> for tlsext_stats {
    fn from(s: &metrics::Snapshot) -> Self {
        tlsext_stats {
            handshakes: s.handshakes,
            tickets_issued: s.issued(),
            resumptions_tls12: s.resumed_tls12,
            resumptions_tls13: s.resumed_tls13,
            renewals: s.renewed,
            refused_unknown_key: s.refusals(Refusal::UnknownKey),
            refused_expired: s.refusals(Refusal::Expired),
            refused_bad_mac_or_padding: s.refusals(Refusal::BadMacOrPadding),
            refused_malformed: s.refusals(Refusal::Malformed),
            refused_other_vhost: s.refusals(Refusal::OtherVhost),
            ticket_age_buckets: s.ticket_age.buckets,
            ticket_age_sum: s.ticket_age.sum,
            key_reloads_ok: s.key_reloads_ok,
            key_reloads_failed: s.key_reloads_failed,
            cert_reloads_ok: s.cert_reloads_ok,
            cert_reloads_failed: s.cert_reloads_failed,
        }
    }
}

/// Copies this process's counters into `*out`. Each counter is exact; counters read during
/// traffic may be a few events apart from one another.
///
/// # Safety
/// `out` points to a writable `tlsext_stats`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tlsext_stats_snapshot(out: *mut tlsext_stats) -> tlsext_result {
    ffi_boundary!({
        let out = try_ref!(out, "out");
        let stats = tlsext_stats::from(&metrics::global().snapshot());
        // SAFETY: `out` is non-NULL and points to a writable tlsext_stats (caller's contract);
        // `write` does not read the possibly uninitialised old value.
        unsafe { out.write(stats) };
        TLSEXT_RESULT_OK
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_are_copied_and_null_is_refused() {
        metrics::global().renewed();
        metrics::global().ticket_age(100);
        let mut out = std::mem::MaybeUninit::<tlsext_stats>::uninit();
        // SAFETY: `out` is writable.
        assert_eq!(unsafe { tlsext_stats_snapshot(out.as_mut_ptr()) }, TLSEXT_RESULT_OK);
        // SAFETY: written on success.
        let s = unsafe { out.assume_init() };
        assert!(s.renewals >= 1);
        assert!(s.ticket_age_buckets[1] >= 1);
        assert!(s.ticket_age_sum >= 100);
        // SAFETY: NULL is checked before any write.
        let null = unsafe { tlsext_stats_snapshot(std::ptr::null_mut()) };
        assert_eq!(null, TLSEXT_RESULT_NULL_PARAMETER);
    }
}
