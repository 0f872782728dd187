//! The TOML config file, walked key by key so every error can name its key and line.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::duration::DurationError;
use super::env::{choice, duration, key_source_str};
use super::error::{Error, Problem, quote};
use super::raw::{self, Key, Node, Raw};
use super::{
    KeyFormat, KeySource, LogLevel, LogSettings, LogTarget, MetricsSettings, Settings, SniSettings, TicketSettings,
    VhostSettings,
};

const ROOT_KEYS: &str = "tickets, log, metrics, sni";
const TICKETS_KEYS: &str = "keys, format, rotate, reload_interval, lifetime";
const LOG_KEYS: &str = "level, to";
const METRICS_KEYS: &str = "dir, interval";
const SNI_KEYS: &str = "strict, vhost";
const VHOST_KEYS: &str = "names, cert, key";

/// Overrides `settings` with the TOML document `text`, read from `path`.
pub(super) fn apply(settings: &mut Settings, path: &Path, text: &str) -> Result<(), Error> {
    let root = raw::parse(text).map_err(|e| Error::Syntax {
        path: path.to_path_buf(),
        line: line_of(text, e.span().map(|s| s.start)),
        message: one_line(e.message()),
    })?;
    let file = File {
        path,
        base: path.parent().unwrap_or(Path::new("")),
        text,
    };
    file.root(settings, &root)
}

/// 1-based line of byte `offset` in `text`; line 1 when unknown.
fn line_of(text: &str, offset: Option<usize>) -> usize {
    let bytes = text.as_bytes();
    let before = offset.and_then(|o| bytes.get(..o)).unwrap_or_default();
    before.iter().filter(|&&b| b == b'\n').count() + 1
}

/// The parser's message with its lines joined.
fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// `parent.name`, with `name` quoted unless it is a bare TOML key.
fn join(parent: &str, name: &str) -> String {
    let bare = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    let name = if bare { name.to_owned() } else { quote(name) };
    if parent.is_empty() {
        name
    } else {
        format!("{parent}.{name}")
    }
}

/// The document being read.
struct File<'a> {
    path: &'a Path,
    /// Directory that relative paths are resolved against.
    base: &'a Path,
    text: &'a str,
}

/// A key being read: its dotted path and where it is.
struct At {
    key: String,
    offset: Option<usize>,
}

impl At {
    fn entry(parent: &str, key: &Key, value: &Node) -> At {
        At {
            key: join(parent, &key.name),
            offset: key.offset(value),
        }
    }

    fn element(parent: &At, index: usize, value: &Node) -> At {
        At {
            key: format!("{}[{index}]", parent.key),
            offset: value.offset().or(parent.offset),
        }
    }
}

impl File<'_> {
    fn error(&self, at: &At, problem: Problem) -> Error {
        Error::Key {
            path: self.path.to_path_buf(),
            line: line_of(self.text, at.offset),
            key: at.key.clone(),
            problem,
        }
    }

    fn wrong_type(&self, at: &At, expected: &'static str, found: &Node) -> Error {
        self.error(
            at,
            Problem::WrongType {
                expected,
                found: found.value.kind(),
            },
        )
    }

    fn unknown(&self, at: &At, expected: &'static str) -> Error {
        self.error(at, Problem::UnknownKey { expected })
    }

    fn root(&self, settings: &mut Settings, entries: &[(Key, Node)]) -> Result<(), Error> {
        for (key, value) in entries {
            let at = At::entry("", key, value);
            match key.name.as_str() {
                "tickets" => self.tickets(&mut settings.tickets, &at, value)?,
                "log" => self.log(&mut settings.log, &at, value)?,
                "metrics" => self.metrics(&mut settings.metrics, &at, value)?,
                "sni" => self.sni(&mut settings.sni, &at, value)?,
                _ => return Err(self.unknown(&at, ROOT_KEYS)),
            }
        }
        Ok(())
    }

    fn tickets(&self, tickets: &mut TicketSettings, at: &At, node: &Node) -> Result<(), Error> {
        for (key, value) in self.table(at, node)? {
            let at = At::entry(&at.key, key, value);
            match key.name.as_str() {
                "keys" => tickets.keys = self.key_source(&at, value)?,
                "format" => tickets.format = self.choice(&at, value, &KeyFormat::ALL, KeyFormat::as_str)?,
                "rotate" => tickets.rotate = self.duration(&at, value, true)?,
                "reload_interval" => tickets.reload_interval = self.duration(&at, value, false)?,
                "lifetime" => tickets.lifetime = Some(self.duration(&at, value, false)?),
                _ => return Err(self.unknown(&at, TICKETS_KEYS)),
            }
        }
        Ok(())
    }

    fn log(&self, log: &mut LogSettings, at: &At, node: &Node) -> Result<(), Error> {
        for (key, value) in self.table(at, node)? {
            let at = At::entry(&at.key, key, value);
            match key.name.as_str() {
                "level" => log.level = self.choice(&at, value, &LogLevel::ALL, LogLevel::as_str)?,
                "to" => log.to = self.choice(&at, value, &LogTarget::ALL, LogTarget::as_str)?,
                _ => return Err(self.unknown(&at, LOG_KEYS)),
            }
        }
        Ok(())
    }

    fn metrics(&self, metrics: &mut MetricsSettings, at: &At, node: &Node) -> Result<(), Error> {
        for (key, value) in self.table(at, node)? {
            let at = At::entry(&at.key, key, value);
            match key.name.as_str() {
                "dir" => {
                    let dir = self.string(&at, value)?;
                    metrics.dir = (!dir.is_empty()).then(|| self.base.join(dir));
                }
                "interval" => metrics.interval = self.duration(&at, value, false)?,
                _ => return Err(self.unknown(&at, METRICS_KEYS)),
            }
        }
        Ok(())
    }

    fn sni(&self, sni: &mut SniSettings, at: &At, node: &Node) -> Result<(), Error> {
        for (key, value) in self.table(at, node)? {
            let at = At::entry(&at.key, key, value);
            match key.name.as_str() {
                "strict" => match value.value {
                    Raw::Boolean(strict) => sni.strict = strict,
                    _ => return Err(self.wrong_type(&at, "a boolean", value)),
                },
                "vhost" => {
                    let Raw::Array(items) = &value.value else {
                        return Err(self.wrong_type(&at, "an array of tables", value));
                    };
                    sni.vhosts = items
                        .iter()
                        .enumerate()
                        .map(|(index, item)| self.vhost(&At::element(&at, index, item), item))
                        .collect::<Result<_, _>>()?;
                }
                _ => return Err(self.unknown(&at, SNI_KEYS)),
            }
        }
        Ok(())
    }

    /// One `[[sni.vhost]]`. Once its names are known, problems name it by the first.
    fn vhost(&self, at: &At, node: &Node) -> Result<VhostSettings, Error> {
        let entries = self.table(at, node)?;
        let mut names = None;
        for (key, value) in entries.iter().filter(|(key, _)| key.name == "names") {
            names = Some(self.names(&At::entry(&at.key, key, value), value)?);
        }
        let names = names.ok_or_else(|| self.error(at, Problem::MissingKey("names")))?;
        let first = names.first().map(String::as_str).unwrap_or_default();
        let in_vhost = |problem: Problem| self.error(at, problem.in_vhost(first));
        let (mut cert, mut private_key) = (None, None);
        for (key, value) in entries {
            let at = At::entry(&at.key, key, value);
            let wrap = |error: Error| match error {
                Error::Key {
                    path,
                    line,
                    key,
                    problem,
                } => Error::Key {
                    path,
                    line,
                    key,
                    problem: problem.in_vhost(first),
                },
                other => other,
            };
            match key.name.as_str() {
                "names" => {}
                "cert" => cert = Some(self.path(&at, value).map_err(wrap)?),
                "key" => private_key = Some(self.path(&at, value).map_err(wrap)?),
                _ => return Err(wrap(self.unknown(&at, VHOST_KEYS))),
            }
        }
        Ok(VhostSettings {
            cert: cert.ok_or_else(|| in_vhost(Problem::MissingKey("cert")))?,
            key: private_key.ok_or_else(|| in_vhost(Problem::MissingKey("key")))?,
            names,
        })
    }

    fn names(&self, at: &At, node: &Node) -> Result<Vec<String>, Error> {
        let Raw::Array(items) = &node.value else {
            return Err(self.wrong_type(at, "an array of strings", node));
        };
        if items.is_empty() {
            return Err(self.error(at, Problem::EmptyNames));
        }
        items
            .iter()
            .enumerate()
            .map(|(index, item)| self.string(&At::element(at, index, item), item).map(str::to_owned))
            .collect()
    }

    fn table<'n>(&self, at: &At, node: &'n Node) -> Result<&'n [(Key, Node)], Error> {
        match &node.value {
            Raw::Table(entries) => Ok(entries),
            _ => Err(self.wrong_type(at, "a table", node)),
        }
    }

    fn string<'n>(&self, at: &At, node: &'n Node) -> Result<&'n str, Error> {
        match &node.value {
            Raw::String(s) => Ok(s),
            _ => Err(self.wrong_type(at, "a string", node)),
        }
    }

    /// A non-empty path, resolved against the file's directory.
    fn path(&self, at: &At, node: &Node) -> Result<PathBuf, Error> {
        match self.string(at, node)? {
            "" => Err(self.error(at, Problem::EmptyPath)),
            path => Ok(self.base.join(path)),
        }
    }

    fn key_source(&self, at: &At, node: &Node) -> Result<KeySource, Error> {
        let value = self.string(at, node)?;
        key_source_str(value, |path| self.base.join(path)).map_err(|p| self.error(at, p))
    }

    fn choice<T: Copy>(&self, at: &At, node: &Node, all: &[T], name: fn(T) -> &'static str) -> Result<T, Error> {
        let value = self.string(at, node)?;
        choice(value, all, name).map_err(|p| self.error(at, p))
    }

    /// A duration string (`"12h"`) or a whole number of seconds; zero is refused when
    /// `nonzero`.
    fn duration(&self, at: &At, node: &Node, nonzero: bool) -> Result<Duration, Error> {
        let secs = match &node.value {
            Raw::String(s) => return duration(s, nonzero).map_err(|p| self.error(at, p)),
            Raw::Integer(n) => *n,
            _ => return Err(self.wrong_type(at, "a duration string or an integer", node)),
        };
        let problem = |reason| self.error(at, Problem::duration(&secs.to_string(), reason));
        match u64::try_from(secs) {
            Err(_) => Err(problem(DurationError::Negative)),
            Ok(0) if nonzero => Err(problem(DurationError::Zero)),
            Ok(secs) => Ok(Duration::from_secs(secs)),
        }
    }
}
