//! Configuration errors. Each says where (file and line and key, or variable) and what.

use std::path::PathBuf;

use super::duration::DurationError;

/// Longest value quoted in a message, in characters; longer values are cut.
const MAX_QUOTED: usize = 64;

/// Why the settings could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A `TLSEXT_SHIM_*` environment variable has a bad value.
    #[error("environment variable {var}: {problem}")]
    Env {
        /// The variable's name.
        var: &'static str,
        /// What is wrong with it.
        problem: Problem,
    },
    /// A key in the config file has a bad value, or is not a known key.
    #[error("{path}:{line}: key `{key}`: {problem}", path = .path.display())]
    Key {
        /// The config file.
        path: PathBuf,
        /// 1-based line of the key (or of the value, for an array element).
        line: usize,
        /// Dotted path of the key, with array indexes: `sni.vhost[1].cert`.
        key: String,
        /// What is wrong with it.
        problem: Problem,
    },
    /// The config file is not valid TOML.
    #[error("{path}:{line}: invalid TOML: {message}", path = .path.display())]
    Syntax {
        /// The config file.
        path: PathBuf,
        /// 1-based line where the parser stopped.
        line: usize,
        /// The parser's description, on one line.
        message: String,
    },
    /// The config file named by `TLSEXT_SHIM_CONFIG` could not be read.
    #[error("{path} (TLSEXT_SHIM_CONFIG): cannot read: {source}", path = .path.display())]
    Read {
        /// The config file.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
}

/// What is wrong with one setting.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// A duration that does not parse, or zero where that is refused.
    #[error("invalid duration {value}: {reason}")]
    Duration {
        /// The value as given, quoted.
        value: String,
        /// Why it was refused.
        reason: DurationError,
    },
    /// A keyword that is not one of the allowed ones.
    #[error("invalid value {value}; expected one of: {expected}")]
    Choice {
        /// The value as given, quoted.
        value: String,
        /// The allowed values, comma separated.
        expected: String,
    },
    /// An empty string where a path is required.
    #[error("path must not be empty")]
    EmptyPath,
    /// `seed:` with nothing after it.
    #[error("`seed:` must be followed by the seed file's path")]
    EmptySeedPath,
    /// A value that must be text is not valid UTF-8.
    #[error("value is not valid UTF-8")]
    NotUtf8,
    /// A key the file format does not have.
    #[error("unknown key; expected one of: {expected}")]
    UnknownKey {
        /// The keys allowed here, comma separated.
        expected: &'static str,
    },
    /// A value of the wrong TOML type.
    #[error("expected {expected}, found {found}")]
    WrongType {
        /// The type wanted, with its article: `a string`.
        expected: &'static str,
        /// The type found, with its article: `an integer`.
        found: &'static str,
    },
    /// A required key is absent.
    #[error("missing required key `{0}`")]
    MissingKey(&'static str),
    /// A vhost whose `names` list is empty.
    #[error("`names` must list at least one host name")]
    EmptyNames,
    /// A problem inside a vhost, named by its first host name.
    #[error("vhost {first_name}: {problem}")]
    InVhost {
        /// The vhost's first name, quoted.
        first_name: String,
        /// What is wrong.
        problem: Box<Problem>,
    },
}

impl Problem {
    /// A [`Problem::Duration`] quoting `value`.
    pub(super) fn duration(value: &str, reason: DurationError) -> Problem {
        Problem::Duration {
            value: quote(value),
            reason,
        }
    }

    /// A [`Problem::Choice`] quoting `value` and listing `names`.
    pub(super) fn choice(value: &str, names: impl IntoIterator<Item = &'static str>) -> Problem {
        Problem::Choice {
            value: quote(value),
            expected: names.into_iter().collect::<Vec<_>>().join(", "),
        }
    }

    /// This problem inside the vhost whose first name is `first_name`.
    pub(super) fn in_vhost(self, first_name: &str) -> Problem {
        Problem::InVhost {
            first_name: quote(first_name),
            problem: Box::new(self),
        }
    }
}

/// `value` in double quotes with control characters and quotes escaped, cut to
/// [`MAX_QUOTED`] characters.
pub(super) fn quote(value: &str) -> String {
    match value.char_indices().nth(MAX_QUOTED) {
        Some((cut, _)) => format!("{:?}...", value.get(..cut).unwrap_or_default()),
        None => format!("{value:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_escapes_and_cuts() {
        assert_eq!(quote("12x"), r#""12x""#);
        assert_eq!(quote("a\"b\n"), r#""a\"b\n""#);
        let long = "é".repeat(100);
        assert_eq!(quote(&long), format!("\"{}\"...", "é".repeat(MAX_QUOTED)));
        assert_eq!(
            quote(&"é".repeat(MAX_QUOTED)),
            format!("\"{}\"", "é".repeat(MAX_QUOTED))
        );
    }
}
