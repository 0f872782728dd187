//! The `TLSEXT_SHIM_*` environment variables, laid over the defaults or the file.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::time::Duration;

use super::duration::{DurationError, parse_duration};
use super::error::{Error, Problem};
use super::{KeyFormat, KeySource, LogLevel, LogTarget, Settings};

/// Ticket key source: a key file or directory, `auto` or `seed:PATH`; empty for none.
pub const ENV_TICKET_KEYS: &str = "TLSEXT_SHIM_TICKET_KEYS";
/// Key file layout: `auto`, `nginx`, `haproxy` or `openssl`.
pub const ENV_TICKET_KEY_FORMAT: &str = "TLSEXT_SHIM_TICKET_KEY_FORMAT";
/// Rotation period for `auto` and `seed:` keys.
pub const ENV_TICKET_ROTATE: &str = "TLSEXT_SHIM_TICKET_ROTATE";
/// Cap on the ticket lifetime hint.
pub const ENV_TICKET_LIFETIME: &str = "TLSEXT_SHIM_TICKET_LIFETIME";
/// How often key files are checked for changes.
pub const ENV_RELOAD_INTERVAL: &str = "TLSEXT_SHIM_RELOAD_INTERVAL";
/// Log level: `off`, `error`, `warn`, `info` or `debug`.
pub const ENV_LOG: &str = "TLSEXT_SHIM_LOG";
/// Log destination: `stderr` or `syslog`.
pub const ENV_LOG_TO: &str = "TLSEXT_SHIM_LOG_TO";
/// Metrics directory; empty for none.
pub const ENV_METRICS: &str = "TLSEXT_SHIM_METRICS";
/// How often metrics are written.
pub const ENV_METRICS_INTERVAL: &str = "TLSEXT_SHIM_METRICS_INTERVAL";
/// Path of the TOML config file; empty for none.
pub const ENV_CONFIG: &str = "TLSEXT_SHIM_CONFIG";

/// Every variable the shim reads.
pub const ENV_VARS: [&str; 10] = [
    ENV_TICKET_KEYS,
    ENV_TICKET_KEY_FORMAT,
    ENV_TICKET_ROTATE,
    ENV_TICKET_LIFETIME,
    ENV_RELOAD_INTERVAL,
    ENV_LOG,
    ENV_LOG_TO,
    ENV_METRICS,
    ENV_METRICS_INTERVAL,
    ENV_CONFIG,
];

/// The shim's variables picked out of an environment; the last value of a name counts.
pub(super) struct Vars(BTreeMap<&'static str, OsString>);

impl Vars {
    /// Keeps the variables named in [`ENV_VARS`].
    pub fn collect<K, V>(env: impl IntoIterator<Item = (K, V)>) -> Vars
    where
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        let mut vars = BTreeMap::new();
        for (name, value) in env {
            if let Some(known) = ENV_VARS.into_iter().find(|known| OsStr::new(known) == name.as_ref()) {
                vars.insert(known, value.as_ref().to_owned());
            }
        }
        Vars(vars)
    }

    /// The value of `name`, if set.
    pub fn get(&self, name: &str) -> Option<&OsStr> {
        self.0.get(name).map(OsString::as_os_str)
    }

    /// Overrides `settings` with every variable that is set, checking them in [`ENV_VARS`]
    /// order.
    pub fn apply(&self, settings: &mut Settings) -> Result<(), Error> {
        let tickets = &mut settings.tickets;
        if let Some(value) = self.get(ENV_TICKET_KEYS) {
            tickets.keys = key_source(value).map_err(at(ENV_TICKET_KEYS))?;
        }
        if let Some(value) = self.text(ENV_TICKET_KEY_FORMAT)? {
            tickets.format = choice(value, &KeyFormat::ALL, |f| f.as_str()).map_err(at(ENV_TICKET_KEY_FORMAT))?;
        }
        if let Some(value) = self.text(ENV_TICKET_ROTATE)? {
            tickets.rotate = duration(value, true).map_err(at(ENV_TICKET_ROTATE))?;
        }
        if let Some(value) = self.text(ENV_TICKET_LIFETIME)? {
            tickets.lifetime = Some(duration(value, false).map_err(at(ENV_TICKET_LIFETIME))?);
        }
        if let Some(value) = self.text(ENV_RELOAD_INTERVAL)? {
            tickets.reload_interval = duration(value, false).map_err(at(ENV_RELOAD_INTERVAL))?;
        }
        if let Some(value) = self.text(ENV_LOG)? {
            settings.log.level = choice(value, &LogLevel::ALL, |l| l.as_str()).map_err(at(ENV_LOG))?;
        }
        if let Some(value) = self.text(ENV_LOG_TO)? {
            settings.log.to = choice(value, &LogTarget::ALL, |t| t.as_str()).map_err(at(ENV_LOG_TO))?;
        }
        if let Some(value) = self.get(ENV_METRICS) {
            settings.metrics.dir = (!value.is_empty()).then(|| PathBuf::from(value));
        }
        if let Some(value) = self.text(ENV_METRICS_INTERVAL)? {
            settings.metrics.interval = duration(value, false).map_err(at(ENV_METRICS_INTERVAL))?;
        }
        Ok(())
    }

    /// The value of `name` as text, if set.
    fn text(&self, name: &'static str) -> Result<Option<&str>, Error> {
        match self.get(name) {
            None => Ok(None),
            Some(value) => value.to_str().map(Some).ok_or_else(|| at(name)(Problem::NotUtf8)),
        }
    }
}

/// Makes a problem with variable `var` into an [`Error`].
fn at(var: &'static str) -> impl Fn(Problem) -> Error {
    move |problem| Error::Env { var, problem }
}

/// Parses a key source given as text; `path` turns the path part into a [`PathBuf`].
pub(super) fn key_source_str(value: &str, path: impl Fn(&str) -> PathBuf) -> Result<KeySource, Problem> {
    if value.is_empty() {
        Ok(KeySource::None)
    } else if value == "auto" {
        Ok(KeySource::Auto)
    } else if let Some(seed) = value.strip_prefix("seed:") {
        match seed {
            "" => Err(Problem::EmptySeedPath),
            seed => Ok(KeySource::Seed(path(seed))),
        }
    } else {
        Ok(KeySource::Path(path(value)))
    }
}

/// Parses a key source from the environment, where paths need not be UTF-8.
fn key_source(value: &OsStr) -> Result<KeySource, Problem> {
    if let Some(text) = value.to_str() {
        return key_source_str(text, |path| PathBuf::from(path));
    }
    let seed = b"seed:".as_slice();
    if !value.as_encoded_bytes().starts_with(seed) {
        return Ok(KeySource::Path(PathBuf::from(value)));
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let rest = value.as_bytes().get(seed.len()..).unwrap_or_default();
        // Not UTF-8, so not empty.
        Ok(KeySource::Seed(PathBuf::from(OsStr::from_bytes(rest))))
    }
    #[cfg(not(unix))]
    {
        Err(Problem::NotUtf8)
    }
}

/// One of `all`, by the name `name` gives it.
pub(super) fn choice<T: Copy>(value: &str, all: &[T], name: impl Fn(T) -> &'static str) -> Result<T, Problem> {
    all.iter()
        .copied()
        .find(|&item| name(item) == value)
        .ok_or_else(|| Problem::choice(value, all.iter().map(|&item| name(item))))
}

/// A duration given as text; zero is refused when `nonzero`.
pub(super) fn duration(value: &str, nonzero: bool) -> Result<Duration, Problem> {
    match parse_duration(value) {
        Ok(d) if nonzero && d.is_zero() => Err(Problem::duration(value, DurationError::Zero)),
        Ok(d) => Ok(d),
        Err(reason) => Err(Problem::duration(value, reason)),
    }
}
