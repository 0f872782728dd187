//! Exact and wildcard host-name patterns.

use core::fmt;
use core::str::FromStr;

use super::{Error, HostName, MAX_HOST_NAME_LEN};

/// A vhost name pattern: an exact host name, or `*.suffix` matching exactly one left-most label
/// in front of `suffix` (RFC 6125 style; see the [module docs](super) for how this differs from
/// nginx).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Pattern {
    /// Matches this name only.
    Exact(HostName),
    /// `*.suffix`: matches `label.suffix` for any single label; holds `suffix`, which has at
    /// least two labels.
    Wildcard(HostName),
}

impl Pattern {
    /// Parses and normalises a pattern: `www.example.com`, `*.example.com`, `*.Example.COM.`.
    pub fn new(pattern: &str) -> Result<Self, Error> {
        let Some(rest) = pattern.strip_prefix('*') else {
            if pattern.contains('*') {
                return Err(Error::MisplacedWildcard);
            }
            return HostName::new(pattern).map(Pattern::Exact);
        };
        let Some(suffix) = rest.strip_prefix('.') else {
            return Err(if rest.is_empty() {
                Error::WildcardTooBroad
            } else {
                Error::MisplacedWildcard
            });
        };
        if suffix.contains('*') {
            return Err(Error::MisplacedWildcard);
        }
        if suffix.is_empty() || suffix == "." {
            return Err(Error::WildcardTooBroad);
        }
        let suffix = HostName::new(suffix).map_err(|e| match e {
            Error::TooLong { len } => Error::TooLong {
                len: len.saturating_add(2),
            },
            other => other.shifted(2),
        })?;
        let len = suffix.as_str().len().saturating_add(2);
        if len > MAX_HOST_NAME_LEN {
            return Err(Error::TooLong { len });
        }
        if suffix.label_count() < 2 {
            return Err(Error::WildcardTooBroad);
        }
        Ok(Pattern::Wildcard(suffix))
    }

    /// Whether this is a wildcard pattern.
    pub fn is_wildcard(&self) -> bool {
        matches!(self, Pattern::Wildcard(_))
    }

    /// Whether `name` matches: equal to an exact pattern, or exactly one label in front of a
    /// wildcard's suffix.
    pub fn matches(&self, name: &HostName) -> bool {
        match self {
            Pattern::Exact(exact) => exact == name,
            Pattern::Wildcard(suffix) => name.parent() == Some(suffix.as_str()),
        }
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pattern::Exact(name) => write!(f, "{name}"),
            Pattern::Wildcard(suffix) => write!(f, "*.{suffix}"),
        }
    }
}

impl FromStr for Pattern {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Self::new(s)
    }
}

impl From<HostName> for Pattern {
    fn from(name: HostName) -> Self {
        Pattern::Exact(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Pattern {
        Pattern::new(s).unwrap()
    }

    fn h(s: &str) -> HostName {
        HostName::new(s).unwrap()
    }

    #[test]
    fn parses_and_normalises() {
        assert_eq!(p("WWW.Example.com."), Pattern::Exact(h("www.example.com")));
        assert_eq!(p("*.Example.COM."), Pattern::Wildcard(h("example.com")));
        assert_eq!(p("*.example.com").to_string(), "*.example.com");
        assert_eq!(p("a.example.com").to_string(), "a.example.com");
        assert!(p("*.a.b.example").is_wildcard());
        assert!(!p("a.b").is_wildcard());
        assert_eq!("*.x.y".parse::<Pattern>(), Ok(Pattern::Wildcard(h("x.y"))));
        assert_eq!(Pattern::from(h("x.y")), p("x.y"));
    }

    #[test]
    fn refuses_broad_and_misplaced_wildcards() {
        for s in ["*", "*.", "*.com", "*.com.", "*.localhost", "*.."] {
            let e = Pattern::new(s).unwrap_err();
            assert!(
                e == Error::WildcardTooBroad || matches!(e, Error::EmptyLabel { .. }),
                "{s}: {e:?}"
            );
        }
        assert_eq!(Pattern::new("*"), Err(Error::WildcardTooBroad));
        assert_eq!(Pattern::new("*.com"), Err(Error::WildcardTooBroad));
        for s in [
            "a*.example.com",
            "*a.example.com",
            "a.*.example.com",
            "*.*.example.com",
            "example.*",
            "**.example.com",
        ] {
            assert_eq!(Pattern::new(s), Err(Error::MisplacedWildcard), "{s}");
        }
    }

    #[test]
    fn suffix_errors_point_into_the_pattern() {
        assert_eq!(Pattern::new("*.a..b"), Err(Error::EmptyLabel { offset: 4 }));
        assert_eq!(
            Pattern::new("*.a_b.c"),
            Err(Error::InvalidChar { byte: b'_', offset: 3 })
        );
        assert_eq!(Pattern::new("*.192.0.2.1"), Err(Error::IpLiteral));
        assert_eq!(Pattern::new(""), Err(Error::Empty));
        let l63 = "a".repeat(63);
        let suffix251 = format!("{l63}.{l63}.{l63}.{}", "a".repeat(59));
        assert!(Pattern::new(&format!("*.{suffix251}")).is_ok());
        assert_eq!(
            Pattern::new(&format!("*.{suffix251}a")),
            Err(Error::TooLong { len: 254 })
        );
        assert_eq!(
            Pattern::new(&format!("*.{suffix251}aaa")),
            Err(Error::TooLong { len: 256 })
        );
    }

    #[test]
    fn wildcard_matches_exactly_one_label() {
        let w = p("*.example.com");
        assert!(w.matches(&h("a.example.com")));
        assert!(w.matches(&h("A.EXAMPLE.COM.")));
        assert!(!w.matches(&h("example.com")));
        assert!(!w.matches(&h("a.b.example.com")));
        assert!(!w.matches(&h("a.example.org")));
        assert!(!w.matches(&h("aexample.com")));
        let e = p("a.example.com");
        assert!(e.matches(&h("A.example.com.")));
        assert!(!e.matches(&h("b.example.com")));
    }
}
