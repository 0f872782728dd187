//! `stats`: a summary of the `tlsext_shim_<pid>.prom` files in the metrics directory.

use std::io::Write;
use std::path::PathBuf;

use super::time::human;
use super::{CliError, Exit, Outcome};
use crate::config::ENV_METRICS;
use crate::metrics::prom::Parsed;
use crate::metrics::textfile::pid_of;
use crate::metrics::{Refusal, Snapshot};
use crate::ticket::ring::now;

/// `resumed / handshakes` as a percentage, or `-` without handshakes.
fn rate(resumed: u64, handshakes: u64) -> String {
    if handshakes == 0 {
        "-".to_owned()
    } else {
        format!("{:.1}%", resumed as f64 * 100.0 / handshakes as f64)
    }
}

/// `stats`.
pub(crate) fn stats(dir: Option<PathBuf>, out: &mut dyn Write) -> Outcome {
    let dir = match dir.or_else(|| {
        std::env::var_os(ENV_METRICS)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    }) {
        Some(d) => d,
        None => {
            return Err(CliError::usage(format!(
                "give the metrics directory (the server's {ENV_METRICS}) as DIR or in {ENV_METRICS}"
            )));
        }
    };
    let shown = dir.display();
    let entries = std::fs::read_dir(&dir).map_err(|e| CliError::cannot_read(&dir, e))?;
    let mut files: Vec<(u32, PathBuf)> = entries
        .flatten()
        .filter_map(|e| {
            let pid = e.file_name().to_str().and_then(pid_of)?;
            Some((pid, e.path()))
        })
        .collect();
    files.sort();
    let mut exit = Exit::Ok;
    let mut procs: Vec<(u32, Parsed)> = Vec::new();
    for (pid, path) in files {
        let parsed = std::fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|text| Snapshot::from_prometheus(&text).map_err(|e| e.to_string()));
        match parsed {
            Ok(p) => procs.push((pid, p)),
            Err(e) => {
                eprintln!("tlsext-shim: error: {}: {e}; skipped", path.display());
                exit = Exit::Problem;
            }
        }
    }
    if procs.is_empty() {
        return Err(CliError::problem(format!(
            "{shown}: no tlsext_shim_<pid>.prom files: run the server with {ENV_METRICS}={shown}; a process writes its \
             file after its first handshake"
        )));
    }
    let now = now();
    let mut total = Snapshot::default();
    say!(out, "{shown}: {} process(es)", procs.len());
    say!(out);
    say!(
        out,
        "{:<10} {:>10} {:>9} {:>8} {:>8} {:>7} {:>8} {:>8} {:>8} {:>9}",
        "PID",
        "HANDSHAKES",
        "RESUMED",
        "TLS1.2",
        "TLS1.3",
        "RATE",
        "ISSUED",
        "RENEWED",
        "REFUSED",
        "WRITTEN"
    );
    let row = |out: &mut dyn Write, label: &str, s: &Snapshot, written: &str| {
        say!(
            out,
            "{label:<10} {:>10} {:>9} {:>8} {:>8} {:>7} {:>8} {:>8} {:>8} {:>9}",
            s.handshakes,
            s.resumed(),
            s.resumed_tls12,
            s.resumed_tls13,
            rate(s.resumed(), s.handshakes),
            s.issued(),
            s.renewed,
            s.refused_total(),
            written
        );
    };
    for (pid, p) in &procs {
        let written = p
            .written_at
            .map_or_else(|| "-".to_owned(), |t| format!("{} ago", human(now.saturating_sub(t))));
        row(out, &pid.to_string(), &p.snapshot, &written);
        total.merge(&p.snapshot);
    }
    row(out, "all", &total, "");
    if !total.vhosts.is_empty() {
        say!(out);
        say!(
            out,
            "{:<32} {:>10} {:>9} {:>7} {:>15}",
            "VHOST",
            "HANDSHAKES",
            "RESUMED",
            "RATE",
            "STRICT REFUSED"
        );
        for v in &total.vhosts {
            say!(
                out,
                "{:<32} {:>10} {:>9} {:>7} {:>15}",
                v.name,
                v.handshakes,
                v.resumed,
                rate(v.resumed, v.handshakes),
                v.strict_refusals
            );
        }
    }
    say!(out);
    say!(out, "{:<32} {:>10}", "REFUSED TICKETS", "COUNT");
    for why in Refusal::ALL {
        say!(out, "{:<32} {:>10}", why.as_str(), total.refusals(why));
    }
    if !total.tickets_issued.is_empty() || total.tickets_issued_other > 0 {
        say!(out);
        say!(out, "{:<32} {:>10}", "TICKETS ISSUED BY KEY", "COUNT");
        for (name, n) in &total.tickets_issued {
            say!(out, "{:<32} {:>10}", name.to_hex(), n);
        }
        if total.tickets_issued_other > 0 {
            say!(out, "{:<32} {:>10}", "other", total.tickets_issued_other);
        }
    }
    say!(out);
    say!(
        out,
        "key reloads: {} ok, {} failed; certificate reloads: {} ok, {} failed",
        total.key_reloads_ok,
        total.key_reloads_failed,
        total.cert_reloads_ok,
        total.cert_reloads_failed
    );
    let age = &total.ticket_age;
    if age.count() > 0 {
        say!(
            out,
            "ticket age at resumption: {} resumptions, mean {}",
            age.count(),
            human(age.sum / age.count())
        );
    }
    Ok(exit)
}
