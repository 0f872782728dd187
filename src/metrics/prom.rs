//! The Prometheus text exposition format (version 0.0.4): rendering a [`Snapshot`] with
//! `# HELP` and `# TYPE` lines, and parsing such text back.
//!
//! Every series has a `pid` label first. Metric names:
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `tlsext_shim_handshakes_total` | counter | |
//! | `tlsext_shim_tickets_issued_total` | counter | `key` (32 hex digits, or `other`) |
//! | `tlsext_shim_resumptions_total` | counter | `version` (`1.2`, `1.3`) |
//! | `tlsext_shim_ticket_renewals_total` | counter | |
//! | `tlsext_shim_ticket_refusals_total` | counter | `reason` |
//! | `tlsext_shim_ticket_age_seconds` | histogram | `le` |
//! | `tlsext_shim_vhost_handshakes_total` | counter | `vhost` |
//! | `tlsext_shim_vhost_resumptions_total` | counter | `vhost` |
//! | `tlsext_shim_vhost_strict_refusals_total` | counter | `vhost` |
//! | `tlsext_shim_key_reloads_total` | counter | `result` (`ok`, `failed`) |
//! | `tlsext_shim_cert_reloads_total` | counter | `result` |
//! | `tlsext_shim_last_write_timestamp_seconds` | gauge | |

use std::fmt::{self, Write as _};

use super::{AGE_BOUNDS, AGE_BUCKETS, OTHER, Refusal, Snapshot, Tls, VhostCounts};
use crate::ticket::{KeyName, UnixTime};

/// `tlsext_shim_handshakes_total`.
pub const HANDSHAKES: &str = "tlsext_shim_handshakes_total";
/// `tlsext_shim_tickets_issued_total`.
pub const ISSUED: &str = "tlsext_shim_tickets_issued_total";
/// `tlsext_shim_resumptions_total`.
pub const RESUMED: &str = "tlsext_shim_resumptions_total";
/// `tlsext_shim_ticket_renewals_total`.
pub const RENEWED: &str = "tlsext_shim_ticket_renewals_total";
/// `tlsext_shim_ticket_refusals_total`.
pub const REFUSED: &str = "tlsext_shim_ticket_refusals_total";
/// `tlsext_shim_ticket_age_seconds` (a histogram: `_bucket`, `_sum`, `_count`).
pub const AGE: &str = "tlsext_shim_ticket_age_seconds";
/// `tlsext_shim_vhost_handshakes_total`.
pub const VHOST_HANDSHAKES: &str = "tlsext_shim_vhost_handshakes_total";
/// `tlsext_shim_vhost_resumptions_total`.
pub const VHOST_RESUMED: &str = "tlsext_shim_vhost_resumptions_total";
/// `tlsext_shim_vhost_strict_refusals_total`.
pub const VHOST_STRICT: &str = "tlsext_shim_vhost_strict_refusals_total";
/// `tlsext_shim_key_reloads_total`.
pub const KEY_RELOADS: &str = "tlsext_shim_key_reloads_total";
/// `tlsext_shim_cert_reloads_total`.
pub const CERT_RELOADS: &str = "tlsext_shim_cert_reloads_total";
/// `tlsext_shim_last_write_timestamp_seconds`.
pub const WRITTEN: &str = "tlsext_shim_last_write_timestamp_seconds";

/// Escapes a label value: backslash, double quote and line feed.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

struct Out {
    text: String,
    pid: String,
}

impl Out {
    fn header(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.text, "# HELP {name} {help}");
        let _ = writeln!(self.text, "# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, label: Option<(&str, &str)>, value: impl fmt::Display) {
        let _ = write!(self.text, "{name}{{pid=\"{}\"", self.pid);
        if let Some((k, v)) = label {
            let _ = write!(self.text, ",{k}=\"{}\"", escape(v));
        }
        let _ = writeln!(self.text, "}} {value}");
    }
}

impl Snapshot {
    /// The snapshot as Prometheus text, every series labelled `pid="<pid>"`, with the gauge
    /// `tlsext_shim_last_write_timestamp_seconds` set to `now`.
    pub fn to_prometheus(&self, pid: u32, now: UnixTime) -> String {
        let mut o = Out {
            text: String::with_capacity(4096),
            pid: pid.to_string(),
        };
        o.header(HANDSHAKES, "counter", "TLS handshakes that reached the shim.");
        o.sample(HANDSHAKES, None, self.handshakes);
        o.header(
            ISSUED,
            "counter",
            "Session tickets issued, by the name (hex) of the key that sealed them.",
        );
        for (name, n) in &self.tickets_issued {
            o.sample(ISSUED, Some(("key", &name.to_hex())), n);
        }
        if self.tickets_issued_other > 0 {
            o.sample(ISSUED, Some(("key", OTHER)), self.tickets_issued_other);
        }
        o.header(RESUMED, "counter", "Sessions resumed from a ticket, by TLS version.");
        o.sample(RESUMED, Some(("version", Tls::V12.as_str())), self.resumed_tls12);
        o.sample(RESUMED, Some(("version", Tls::V13.as_str())), self.resumed_tls13);
        o.header(
            RENEWED,
            "counter",
            "Tickets re-issued because the key that opened them no longer encrypts.",
        );
        o.sample(RENEWED, None, self.renewed);
        o.header(REFUSED, "counter", "Offered tickets that were refused, by reason.");
        for why in Refusal::ALL {
            o.sample(REFUSED, Some(("reason", why.as_str())), self.refusals(why));
        }
        o.header(AGE, "histogram", "Age of the ticket at resumption, seconds.");
        let bucket = format!("{AGE}_bucket");
        let mut cumulative = 0u64;
        for (i, n) in self.ticket_age.buckets.iter().enumerate() {
            cumulative = cumulative.saturating_add(*n);
            let le = AGE_BOUNDS.get(i).map_or_else(|| "+Inf".to_owned(), u64::to_string);
            o.sample(&bucket, Some(("le", &le)), cumulative);
        }
        o.sample(&format!("{AGE}_sum"), None, self.ticket_age.sum);
        o.sample(&format!("{AGE}_count"), None, self.ticket_age.count());
        type Get = fn(&VhostCounts) -> u64;
        let vhost_metrics: [(&str, &str, Get); 3] = [
            (VHOST_HANDSHAKES, "Handshakes routed to each vhost.", |v| v.handshakes),
            (VHOST_RESUMED, "Resumptions on each vhost.", |v| v.resumed),
            (
                VHOST_STRICT,
                "Handshakes ended by strict SNI (unknown or missing server name).",
                |v| v.strict_refusals,
            ),
        ];
        for (name, help, get) in vhost_metrics {
            o.header(name, "counter", help);
            for v in &self.vhosts {
                o.sample(name, Some(("vhost", &v.name)), get(v));
            }
        }
        o.header(KEY_RELOADS, "counter", "Reloads of the ticket-key source, by result.");
        o.sample(KEY_RELOADS, Some(("result", "ok")), self.key_reloads_ok);
        o.sample(KEY_RELOADS, Some(("result", "failed")), self.key_reloads_failed);
        o.header(CERT_RELOADS, "counter", "Reloads of vhost certificates, by result.");
        o.sample(CERT_RELOADS, Some(("result", "ok")), self.cert_reloads_ok);
        o.sample(CERT_RELOADS, Some(("result", "failed")), self.cert_reloads_failed);
        o.header(WRITTEN, "gauge", "When this file was written, Unix time.");
        o.sample(WRITTEN, None, now);
        o.text
    }

    /// Reads text written by [`Snapshot::to_prometheus`] back. Unknown metrics are ignored
    /// (files from a newer version still read); malformed lines are errors.
    pub fn from_prometheus(text: &str) -> Result<Parsed, ParseError> {
        let mut p = Parsed::default();
        let mut cumulative = [None::<u64>; AGE_BUCKETS];
        for s in parse(text)? {
            if p.pid.is_none() {
                p.pid = s.label("pid").and_then(|v| v.parse().ok());
            }
            let n = s.count();
            let snap = &mut p.snapshot;
            let vhost = |snap: &mut Snapshot| -> Option<usize> {
                let name = s.label("vhost")?;
                if let Some(i) = snap.vhosts.iter().position(|v| v.name == name) {
                    return Some(i);
                }
                snap.vhosts.push(VhostCounts {
                    name: name.to_owned(),
                    ..VhostCounts::default()
                });
                Some(snap.vhosts.len() - 1)
            };
            match s.name.as_str() {
                HANDSHAKES => snap.handshakes = n,
                ISSUED => match s.label("key") {
                    Some(OTHER) => snap.tickets_issued_other = n,
                    Some(hex) => {
                        let name = parse_key_name(hex).ok_or_else(|| ParseError {
                            line: s.line,
                            problem: format!("key label {hex:?} is not 32 hex digits"),
                        })?;
                        snap.tickets_issued.push((name, n));
                    }
                    None => {}
                },
                RESUMED => match s.label("version") {
                    Some("1.2") => snap.resumed_tls12 = n,
                    Some("1.3") => snap.resumed_tls13 = n,
                    _ => {}
                },
                RENEWED => snap.renewed = n,
                REFUSED => {
                    if let Some(why) = s.label("reason").and_then(Refusal::from_name) {
                        snap.refused[why.index()] = n;
                    }
                }
                KEY_RELOADS | CERT_RELOADS => {
                    let cert = s.name == CERT_RELOADS;
                    match (cert, s.label("result")) {
                        (false, Some("ok")) => snap.key_reloads_ok = n,
                        (false, Some("failed")) => snap.key_reloads_failed = n,
                        (true, Some("ok")) => snap.cert_reloads_ok = n,
                        (true, Some("failed")) => snap.cert_reloads_failed = n,
                        _ => {}
                    }
                }
                VHOST_HANDSHAKES => {
                    if let Some(i) = vhost(snap) {
                        snap.vhosts[i].handshakes = n;
                    }
                }
                VHOST_RESUMED => {
                    if let Some(i) = vhost(snap) {
                        snap.vhosts[i].resumed = n;
                    }
                }
                VHOST_STRICT => {
                    if let Some(i) = vhost(snap) {
                        snap.vhosts[i].strict_refusals = n;
                    }
                }
                WRITTEN => p.written_at = Some(n),
                name => match name.strip_prefix(AGE) {
                    Some("_sum") => snap.ticket_age.sum = n,
                    Some("_bucket") => {
                        let le = s.label("le").unwrap_or_default();
                        let i = if le == "+Inf" {
                            Some(AGE_BOUNDS.len())
                        } else {
                            AGE_BOUNDS.iter().position(|b| b.to_string() == le)
                        };
                        match i {
                            Some(i) => cumulative[i] = Some(n),
                            None => {
                                return Err(ParseError {
                                    line: s.line,
                                    problem: format!("histogram bucket le={le:?} is not one of this version's bounds"),
                                });
                            }
                        }
                    }
                    _ => {}
                },
            }
        }
        let mut below = 0u64;
        for (i, c) in cumulative.iter().enumerate() {
            if let Some(c) = c {
                p.snapshot.ticket_age.buckets[i] = c.saturating_sub(below);
                below = *c;
            }
        }
        Ok(p)
    }
}

fn parse_key_name(hex: &str) -> Option<KeyName> {
    // Checked here: `from_str_radix` alone would also take a sign (`+f`).
    if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(KeyName(out))
}

/// What [`Snapshot::from_prometheus`] read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    /// The `pid` label of the first series.
    pub pid: Option<u32>,
    /// `tlsext_shim_last_write_timestamp_seconds`.
    pub written_at: Option<UnixTime>,
    /// The counters.
    pub snapshot: Snapshot,
}

/// One series and its value.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// Metric name (with `_bucket`, `_sum`, `_count` for histogram series).
    pub name: String,
    /// Labels in the order written.
    pub labels: Vec<(String, String)>,
    /// The value.
    pub value: f64,
    /// 1-based line.
    pub line: usize,
}

impl Sample {
    /// The value of label `name`.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The value as a count: rounded, negative and NaN as 0, saturating.
    pub fn count(&self) -> u64 {
        if self.value.is_nan() || self.value <= 0.0 {
            0
        } else {
            // A float-to-int `as` cast saturates.
            self.value.round() as u64
        }
    }
}

/// A line that is not valid exposition text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct ParseError {
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub problem: String,
}

/// Parses Prometheus text: every sample line (comments and blank lines skipped).
pub fn parse(text: &str) -> Result<Vec<Sample>, ParseError> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let err = |problem: &str| ParseError {
            line: i + 1,
            problem: problem.to_owned(),
        };
        let name_end = line
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(line.len());
        let (name, mut rest) = line.split_at(name_end);
        if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(err("expected a metric name"));
        }
        let mut labels = Vec::new();
        if let Some(after) = rest.strip_prefix('{') {
            rest = parse_labels(after, &mut labels).map_err(&err)?;
        }
        let mut fields = rest.split_whitespace();
        let value = fields.next().ok_or_else(|| err("missing value"))?;
        let value: f64 = value.parse().map_err(|_| err("value is not a number"))?;
        if let Some(ts) = fields.next() {
            ts.parse::<i64>().map_err(|_| err("timestamp is not an integer"))?;
        }
        if fields.next().is_some() {
            return Err(err("unexpected text after the value"));
        }
        out.push(Sample {
            name: name.to_owned(),
            labels,
            value,
            line: i + 1,
        });
    }
    Ok(out)
}

/// Parses `k="v",...}` and returns what follows the `}`.
fn parse_labels<'a>(mut s: &'a str, labels: &mut Vec<(String, String)>) -> Result<&'a str, &'static str> {
    loop {
        s = s.trim_start();
        if let Some(rest) = s.strip_prefix('}') {
            return Ok(rest);
        }
        let eq = s.find('=').ok_or("label without '='")?;
        let key = s[..eq].trim();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err("bad label name");
        }
        s = s[eq + 1..]
            .trim_start()
            .strip_prefix('"')
            .ok_or("label value must be quoted")?;
        let mut value = String::new();
        let mut chars = s.char_indices();
        let end = loop {
            match chars.next() {
                None => return Err("unterminated label value"),
                Some((i, '"')) => break i,
                Some((_, '\\')) => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, c @ ('\\' | '"'))) => value.push(c),
                    _ => return Err("bad escape in label value"),
                },
                Some((_, c)) => value.push(c),
            }
        };
        labels.push((key.to_owned(), value));
        s = s[end + 1..].trim_start();
        if let Some(rest) = s.strip_prefix(',') {
            s = rest;
        } else if !s.starts_with('}') {
            return Err("expected ',' or '}' after a label");
        }
    }
}
