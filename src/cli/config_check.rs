//! `config check`: the TOML file as the shim would read it, plus what the shim would find
//! when it starts: key sources, the metrics directory, vhost names and certificates.

use std::io::Write;
use std::path::Path;

use super::fsutil::permission_warnings;
use super::keys::{Source, load_source};
use super::time::human;
use super::{CliError, Exit, Outcome, SourceFormat};
use crate::config::{ENV_VARS, KeyFormat, KeySource, Settings};
use crate::openssl::vhost::{VhostFinding, check_vhost_files};
use crate::sni::{Pattern, VhostTable};

/// Findings, in the order they were made.
#[derive(Default)]
struct Report {
    errors: Vec<String>,
    warnings: Vec<String>,
}

fn source_format(f: KeyFormat) -> SourceFormat {
    match f {
        KeyFormat::Auto => SourceFormat::Auto,
        KeyFormat::Nginx => SourceFormat::Nginx,
        KeyFormat::Haproxy => SourceFormat::Haproxy,
        KeyFormat::Openssl => SourceFormat::Openssl,
    }
}

/// `config check`.
pub(crate) fn check(file: &Path, out: &mut dyn Write) -> Outcome {
    let shown = file.display();
    let text = std::fs::read_to_string(file).map_err(|e| CliError::cannot_read(file, e))?;
    let settings = match Settings::from_toml(file, &text) {
        Ok(s) => s,
        Err(e) => {
            say!(out, "error: {e}");
            say!(
                out,
                "{shown}: not valid; the shim would stay inactive (the server runs as plain OpenSSL)"
            );
            return Ok(Exit::Problem);
        }
    };
    let mut r = Report::default();
    tickets(file, &settings, &mut r, out);
    say!(
        out,
        "{shown}: log: level {}, to {}",
        settings.log.level.as_str(),
        settings.log.to.as_str()
    );
    metrics(file, &settings, &mut r, out);
    vhosts(file, &settings, &mut r, out);
    for var in ENV_VARS {
        if std::env::var_os(var).is_some() {
            say!(
                out,
                "note: {var} is set in this environment; at run time it overrides the file"
            );
        }
    }
    for w in &r.warnings {
        say!(out, "warning: {w}");
    }
    for e in &r.errors {
        say!(out, "error: {e}");
    }
    if r.errors.is_empty() {
        match r.warnings.len() {
            0 => say!(out, "{shown}: ok"),
            n => say!(out, "{shown}: ok, {n} warning(s)"),
        }
        Ok(Exit::Ok)
    } else {
        say!(out, "{shown}: {} error(s)", r.errors.len());
        Ok(Exit::Problem)
    }
}

fn tickets(file: &Path, settings: &Settings, r: &mut Report, out: &mut dyn Write) {
    let shown = file.display();
    let t = &settings.tickets;
    match &t.keys {
        KeySource::None if !settings.sni.vhosts.is_empty() => say!(
            out,
            "{shown}: tickets: auto, since vhosts are defined and tickets.keys is not set: a new random key every {} \
             in each server process (not shared between servers)",
            human(t.rotate.as_secs())
        ),
        KeySource::None => say!(out, "{shown}: tickets: left to OpenSSL (tickets.keys is not set)"),
        KeySource::Auto => say!(
            out,
            "{shown}: tickets: auto, a new random key every {} in each server process (not shared between servers)",
            human(t.rotate.as_secs())
        ),
        KeySource::Path(path) | KeySource::Seed(path) => {
            let format = if matches!(t.keys, KeySource::Seed(_)) {
                SourceFormat::Seed
            } else {
                source_format(t.format)
            };
            match load_source(path, format) {
                Ok(Source::Keys { parsed, .. }) => {
                    let encrypting = parsed.keys.get(parsed.encrypt).map(|k| k.name().to_hex());
                    say!(
                        out,
                        "{shown}: tickets: {} key(s) from {}, key {} encrypts; checked every {}",
                        parsed.keys.len(),
                        path.display(),
                        encrypting.unwrap_or_default(),
                        human(t.reload_interval.as_secs())
                    );
                }
                Ok(Source::Seed(seed)) => {
                    let rotate = seed.rotate_secs().get();
                    let current = crate::ticket::ring::now() / rotate;
                    if seed.epoch() > current {
                        r.errors.push(format!(
                            "{shown}: tickets.keys: {}: the seed's epoch {} is in the future (now {current}); no key \
                             would encrypt until then",
                            path.display(),
                            seed.epoch()
                        ));
                    }
                    say!(
                        out,
                        "{shown}: tickets: seed {}, rotate {} (the seed's interval wins over tickets.rotate)",
                        path.display(),
                        human(rotate)
                    );
                }
                Err(e) => r.errors.push(format!(
                    "{shown}: tickets.keys: {e}; at start the shim would log this and turn tickets off"
                )),
            }
            r.warnings.extend(permission_warnings(path));
        }
    }
    if let Some(lifetime) = t.lifetime {
        say!(
            out,
            "{shown}: tickets: lifetime hint capped at {}",
            human(lifetime.as_secs())
        );
    }
}

fn metrics(file: &Path, settings: &Settings, r: &mut Report, out: &mut dyn Write) {
    let shown = file.display();
    let Some(dir) = &settings.metrics.dir else {
        say!(out, "{shown}: metrics: off (metrics.dir is not set)");
        return;
    };
    say!(
        out,
        "{shown}: metrics: {}/tlsext_shim_<pid>.prom every {}",
        dir.display(),
        human(settings.metrics.interval.as_secs())
    );
    if !dir.is_dir() {
        r.warnings.push(format!(
            "{shown}: metrics.dir: {} is not a directory; no metrics are written until it exists",
            dir.display()
        ));
        return;
    }
    let probe = dir.join(format!(".tlsext-shim-check-{}", std::process::id()));
    match std::fs::File::create(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
        }
        Err(e) => r.warnings.push(format!(
            "{shown}: metrics.dir: {}: this user cannot create files there ({e}); the server's worker user must",
            dir.display()
        )),
    }
}

fn vhosts(file: &Path, settings: &Settings, r: &mut Report, out: &mut dyn Write) {
    let shown = file.display();
    let sni = &settings.sni;
    if sni.vhosts.is_empty() {
        say!(out, "{shown}: sni: no vhosts");
        return;
    }
    say!(
        out,
        "{shown}: sni: {} vhost(s), strict {}",
        sni.vhosts.len(),
        if sni.strict { "on" } else { "off" }
    );
    let mut table = VhostTable::new();
    for (i, v) in sni.vhosts.iter().enumerate() {
        let field = format!("sni.vhost[{i}]");
        for name in &v.names {
            let pattern = match Pattern::new(name) {
                Ok(p) => p,
                Err(e) => {
                    r.errors.push(format!("{shown}: {field}.names: {name:?}: {e}"));
                    continue;
                }
            };
            if let Some(j) = table.get(&pattern) {
                r.errors.push(format!(
                    "{shown}: {field}.names: {pattern} is also a name of sni.vhost[{j}]; a name belongs to one vhost"
                ));
                continue;
            }
            let _ = table.insert(pattern, i);
        }
        let (_, findings) = check_vhost_files(&v.names, &v.cert, &v.key);
        let mut ok = true;
        for f in findings {
            match f {
                VhostFinding::Error(e) => {
                    ok = false;
                    r.errors.push(format!("{shown}: {field}: {e}"));
                }
                VhostFinding::NameNotCovered(name) => {
                    ok = false;
                    r.errors.push(format!(
                        "{shown}: {field}: the certificate {} does not cover {name} (no matching subjectAltName); \
                         add the name to the certificate or move it to another vhost",
                        v.cert.display()
                    ));
                }
                VhostFinding::ExpiresSoon(days) if days < 0 => {
                    ok = false;
                    r.errors.push(format!(
                        "{shown}: {field}: the certificate {} expired {} day(s) ago; renew it",
                        v.cert.display(),
                        -days
                    ));
                }
                VhostFinding::ExpiresSoon(days) => r.warnings.push(format!(
                    "{shown}: {field}: the certificate {} expires in {days} day(s); renew it",
                    v.cert.display()
                )),
            }
        }
        r.warnings.extend(permission_warnings(&v.key));
        say!(
            out,
            "{shown}: {field}: {} ({}){}",
            v.names.join(", "),
            v.cert.display(),
            if ok { "" } else { ": see the errors below" }
        );
    }
}
