//! The shim's settings: `TLSEXT_SHIM_*` environment variables over an optional TOML file.
//!
//! The file is named by `TLSEXT_SHIM_CONFIG`; every variable that is set overrides the
//! file's value for the same setting. The core, [`Settings::load`], reads neither the process
//! environment nor the file system itself: the variables and a file reader are parameters, so
//! tests hand in what they like. [`Settings::from_process_env`] is the thin wrapper the shim
//! uses at start-up.
//!
//! Every error names where it comes from: `FILE:LINE: key `tickets.rotate`: ...` for the
//! file, `environment variable TLSEXT_SHIM_TICKET_ROTATE: ...` for the environment. Messages
//! quote only key names and the offending value, never other file contents.
//!
//! Empty values: an empty `TLSEXT_SHIM_TICKET_KEYS` or `TLSEXT_SHIM_METRICS` (or `keys = ""`,
//! `dir = ""` in the file) switches the feature off, overriding the file; an empty
//! `TLSEXT_SHIM_CONFIG` means no file; an empty duration or keyword is an error.
//!
//! Relative paths in the file are resolved against the file's directory; relative paths in
//! the environment are left as they are (relative to the server's working directory).

#![forbid(unsafe_code)]

mod duration;
mod env;
mod error;
mod file;
mod raw;

#[cfg(test)]
mod tests;

use std::ffi::OsStr;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use duration::{DurationError, parse_duration};
pub use env::{
    ENV_CONFIG, ENV_LOG, ENV_LOG_TO, ENV_METRICS, ENV_METRICS_INTERVAL, ENV_RELOAD_INTERVAL, ENV_TICKET_KEY_FORMAT,
    ENV_TICKET_KEYS, ENV_TICKET_LIFETIME, ENV_TICKET_ROTATE, ENV_VARS,
};
pub use error::{Error, Problem};

/// Default for [`TicketSettings::rotate`]: 12 hours.
pub const DEFAULT_ROTATE: Duration = Duration::from_secs(12 * 60 * 60);
/// Default for [`TicketSettings::reload_interval`]: 1 second.
pub const DEFAULT_RELOAD_INTERVAL: Duration = Duration::from_secs(1);
/// Default for [`MetricsSettings::interval`]: 10 seconds.
pub const DEFAULT_METRICS_INTERVAL: Duration = Duration::from_secs(10);

/// Where the ticket keys come from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum KeySource {
    /// The shim leaves session tickets to OpenSSL (the variable is unset or empty).
    #[default]
    None,
    /// A key file, or a directory of key files, watched for changes.
    Path(PathBuf),
    /// Random keys made in memory and rotated every [`TicketSettings::rotate`]; not shared
    /// between processes.
    Auto,
    /// Keys derived from the secret seed in this file, rotated on a fixed schedule, so every
    /// server with the same seed agrees on them.
    Seed(PathBuf),
}

pub use crate::ticket::KeyFormat;

/// How much the shim logs. Ordered: `Off < Error < Warn < Info < Debug`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// Nothing.
    Off,
    /// Failures only.
    Error,
    /// Failures and suspicious conditions.
    #[default]
    Warn,
    /// Also key loads, rotations and reloads.
    Info,
    /// Also per-connection decisions. Never key material.
    Debug,
}

impl LogLevel {
    /// Every level, quietest first.
    pub const ALL: [LogLevel; 5] = [
        LogLevel::Off,
        LogLevel::Error,
        LogLevel::Warn,
        LogLevel::Info,
        LogLevel::Debug,
    ];

    /// The lowercase name used in configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Off => "off",
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
        }
    }

    /// The level called `name` (exact lowercase), if there is one.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == name)
    }
}

/// Where log lines go.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogTarget {
    /// The server's standard error.
    #[default]
    Stderr,
    /// syslog(3).
    Syslog,
}

impl LogTarget {
    /// Every target.
    pub const ALL: [LogTarget; 2] = [LogTarget::Stderr, LogTarget::Syslog];

    /// The lowercase name used in configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            LogTarget::Stderr => "stderr",
            LogTarget::Syslog => "syslog",
        }
    }

    /// The target called `name` (exact lowercase), if there is one.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

/// Session-ticket key management.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TicketSettings {
    /// Where keys come from; [`KeySource::None`] leaves tickets to OpenSSL.
    pub keys: KeySource,
    /// The layout of key files, for [`KeySource::Path`].
    pub format: KeyFormat,
    /// How often a new key starts encrypting, for [`KeySource::Auto`] and
    /// [`KeySource::Seed`]. Never zero.
    pub rotate: Duration,
    /// How often key files are checked for changes.
    pub reload_interval: Duration,
    /// Cap on the ticket lifetime hint sent to clients; `None` uses the session timeout.
    pub lifetime: Option<Duration>,
}

impl Default for TicketSettings {
    fn default() -> Self {
        TicketSettings {
            keys: KeySource::None,
            format: KeyFormat::Auto,
            rotate: DEFAULT_ROTATE,
            reload_interval: DEFAULT_RELOAD_INTERVAL,
            lifetime: None,
        }
    }
}

/// Logging.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogSettings {
    /// The most detailed level written.
    pub level: LogLevel,
    /// Where lines go.
    pub to: LogTarget,
}

/// Counters written to files for monitoring.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricsSettings {
    /// The directory the counters are written to; `None` writes none.
    pub dir: Option<PathBuf>,
    /// How often they are written.
    pub interval: Duration,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        MetricsSettings {
            dir: None,
            interval: DEFAULT_METRICS_INTERVAL,
        }
    }
}

/// One virtual host: the names it answers to and its certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VhostSettings {
    /// Host names as written (`*.example.com` allowed); not validated here. Never empty.
    pub names: Vec<String>,
    /// PEM certificate chain, leaf first.
    pub cert: PathBuf,
    /// PEM private key.
    pub key: PathBuf,
}

/// SNI routing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SniSettings {
    /// When true, a missing or unknown server name ends the handshake with an
    /// `unrecognized_name` alert (fail closed); otherwise the server's own certificate is used.
    pub strict: bool,
    /// Virtual hosts, in file order.
    pub vhosts: Vec<VhostSettings>,
}

/// Everything the shim is configured with.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    /// Session-ticket keys.
    pub tickets: TicketSettings,
    /// Logging.
    pub log: LogSettings,
    /// Metrics files.
    pub metrics: MetricsSettings,
    /// SNI routing.
    pub sni: SniSettings,
    /// The file the settings were read from, if any.
    pub config_path: Option<PathBuf>,
}

impl Settings {
    /// Reads the settings from environment variables `env` and, when `TLSEXT_SHIM_CONFIG` is
    /// set and not empty, from the TOML file it names, read with `read_file`. Variables
    /// override the file; variables other than `TLSEXT_SHIM_*` are ignored, and when a name
    /// repeats the last value counts.
    pub fn load<K, V>(
        env: impl IntoIterator<Item = (K, V)>,
        read_file: impl FnOnce(&Path) -> io::Result<String>,
    ) -> Result<Settings, Error>
    where
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        let vars = env::Vars::collect(env);
        let mut settings = match vars.get(ENV_CONFIG).filter(|p| !p.is_empty()) {
            Some(path) => {
                let path = PathBuf::from(path);
                let text = read_file(&path).map_err(|source| Error::Read {
                    path: path.clone(),
                    source,
                })?;
                Settings::from_toml(&path, &text)?
            }
            None => Settings::default(),
        };
        vars.apply(&mut settings)?;
        Ok(settings)
    }

    /// [`Settings::load`] with this process's environment and file system.
    pub fn from_process_env() -> Result<Settings, Error> {
        // Opened as the key files are: without blocking, regular files only (a FIFO at the
        // configured path must not hang the server at startup).
        Settings::load(std::env::vars_os(), |path| {
            use std::io::Read as _;
            let mut text = String::new();
            crate::ticket::format::open_regular(path)?.read_to_string(&mut text)?;
            Ok(text)
        })
    }

    /// The defaults overridden by the TOML document `text`, read from `path`. `path` names the
    /// file in errors, relative paths in it are resolved against its directory, and it becomes
    /// [`Settings::config_path`].
    pub fn from_toml(path: &Path, text: &str) -> Result<Settings, Error> {
        let mut settings = Settings::default();
        file::apply(&mut settings, path, text)?;
        settings.config_path = Some(path.to_path_buf());
        Ok(settings)
    }

    /// True when the shim has anything to do: ticket keys are managed or vhosts are defined.
    pub fn is_active(&self) -> bool {
        self.tickets.keys != KeySource::None || !self.sni.vhosts.is_empty()
    }
}
