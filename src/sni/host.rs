//! Validated, normalised host names.

use core::borrow::Borrow;
use core::fmt;
use core::hash::{Hash, Hasher};
use core::str::FromStr;

use super::Error;

/// The longest host name, in bytes, without a trailing dot.
pub const MAX_HOST_NAME_LEN: usize = 253;
/// The longest label, in bytes.
pub const MAX_LABEL_LEN: usize = 63;

/// A host name normalised into a stack buffer: what a lookup uses instead of allocating.
pub(super) struct NameBuf {
    buf: [u8; MAX_HOST_NAME_LEN],
    len: usize,
}

impl NameBuf {
    /// Validates `input` and stores it lowercased, without its trailing dot.
    pub(super) fn new(input: &[u8]) -> Result<Self, Error> {
        let mut buf = [0u8; MAX_HOST_NAME_LEN];
        let name = input.strip_suffix(b".").unwrap_or(input);
        if name.is_empty() {
            return Err(Error::Empty);
        }
        if name.first() == Some(&b'[') || name.contains(&b':') {
            return Err(Error::IpLiteral);
        }
        if name.len() > MAX_HOST_NAME_LEN {
            return Err(Error::TooLong { len: name.len() });
        }
        let check_label = |start: usize, end: usize| {
            let len = end.saturating_sub(start);
            if len == 0 {
                Err(Error::EmptyLabel { offset: start })
            } else if len > MAX_LABEL_LEN {
                Err(Error::LabelTooLong { offset: start, len })
            } else {
                Ok(())
            }
        };
        let mut label_start = 0;
        let mut last_label_numeric = true;
        for (i, (&b, dst)) in name.iter().zip(buf.iter_mut()).enumerate() {
            match b {
                b'.' => {
                    check_label(label_start, i)?;
                    label_start = i.saturating_add(1);
                    last_label_numeric = true;
                }
                b'0'..=b'9' => {}
                b'a'..=b'z' | b'A'..=b'Z' | b'-' => last_label_numeric = false,
                _ => return Err(Error::InvalidChar { byte: b, offset: i }),
            }
            *dst = b.to_ascii_lowercase();
        }
        check_label(label_start, name.len())?;
        if last_label_numeric {
            return Err(Error::IpLiteral);
        }
        Ok(Self { buf, len: name.len() })
    }

    /// The normalised name.
    pub(super) fn as_str(&self) -> &str {
        // Only ASCII was written, so this never fails.
        self.buf
            .get(..self.len)
            .and_then(|b| core::str::from_utf8(b).ok())
            .unwrap_or_default()
    }
}

/// A valid host name, normalised: ASCII lowercase, without a trailing dot.
///
/// See the [module docs](super) for the rules. Compares, hashes and borrows as its normalised
/// `str`, so it can key a `HashMap` queried with `&str`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct HostName(Box<str>);

impl HostName {
    /// Validates and normalises `name`.
    pub fn new(name: &str) -> Result<Self, Error> {
        Self::from_bytes(name.as_bytes())
    }

    /// Validates and normalises `name` as sent on the wire (e.g. a `server_name` entry).
    pub fn from_bytes(name: &[u8]) -> Result<Self, Error> {
        NameBuf::new(name).map(|n| Self(n.as_str().into()))
    }

    /// The normalised name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The labels, left to right.
    pub fn labels(&self) -> core::str::Split<'_, char> {
        self.0.split('.')
    }

    /// How many labels the name has.
    pub fn label_count(&self) -> usize {
        self.labels().count()
    }

    /// The name without its first label (`example.com` for `www.example.com`); `None` for a
    /// single-label name.
    pub fn parent(&self) -> Option<&str> {
        self.0.split_once('.').map(|(_, parent)| parent)
    }
}

impl fmt::Debug for HostName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for HostName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// Must hash exactly like `str`, because of `Borrow<str>`.
impl Hash for HostName {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl Borrow<str> for HostName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for HostName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for HostName {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Self::new(s)
    }
}

impl TryFrom<&str> for HostName {
    type Error = Error;

    fn try_from(s: &str) -> Result<Self, Error> {
        Self::new(s)
    }
}

impl TryFrom<&[u8]> for HostName {
    type Error = Error;

    fn try_from(s: &[u8]) -> Result<Self, Error> {
        Self::from_bytes(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> String {
        HostName::new(s).unwrap().to_string()
    }

    fn err(s: &str) -> Error {
        HostName::new(s).unwrap_err()
    }

    #[test]
    fn normalises_case_and_one_trailing_dot() {
        assert_eq!(ok("www.example.com"), "www.example.com");
        assert_eq!(ok("WWW.Example.COM"), "www.example.com");
        assert_eq!(ok("www.example.com."), "www.example.com");
        assert_eq!(ok("Www.Example.Com."), "www.example.com");
        assert_eq!(ok("localhost"), "localhost");
        assert_eq!(ok("xn--bcher-kva.example"), "xn--bcher-kva.example");
        assert_eq!(ok("-edge-.example"), "-edge-.example");
        assert_eq!(ok("0-9.a1"), "0-9.a1");
        assert_eq!(ok("123.example"), "123.example");
        assert_eq!(HostName::from_bytes(b"A.B").unwrap().as_str(), "a.b");
        assert_eq!(format!("{:?}", HostName::new("A.b").unwrap()), "\"a.b\"");
    }

    #[test]
    fn refuses_empty() {
        assert_eq!(err(""), Error::Empty);
        assert_eq!(err("."), Error::Empty);
    }

    #[test]
    fn refuses_ip_literals() {
        for s in [
            "192.0.2.1",
            "192.0.2.1.",
            "127.1",
            "3232235777",
            "999.999.999.999",
            "host.123",
            "::1",
            "[::1]",
            "2001:db8::1",
            "[192.0.2.1]",
            "example.com:443",
        ] {
            assert_eq!(err(s), Error::IpLiteral, "{s}");
        }
    }

    #[test]
    fn refuses_empty_labels() {
        assert_eq!(err(".example.com"), Error::EmptyLabel { offset: 0 });
        assert_eq!(err("a..b"), Error::EmptyLabel { offset: 2 });
        assert_eq!(err("example.com.."), Error::EmptyLabel { offset: 12 });
    }

    #[test]
    fn label_and_name_lengths() {
        let l63 = "a".repeat(63);
        assert_eq!(ok(&format!("{l63}.example")).len(), 71);
        assert_eq!(
            err(&format!("x.{}a.example", l63)),
            Error::LabelTooLong { offset: 2, len: 64 }
        );
        assert_eq!(err(&format!("{}a", l63)), Error::LabelTooLong { offset: 0, len: 64 });
        // 4 labels of 63 + 3 dots = 255; trim to exactly 253.
        let n253 = format!("{l63}.{l63}.{l63}.{}", "a".repeat(61));
        assert_eq!(n253.len(), 253);
        assert_eq!(ok(&n253), n253);
        assert_eq!(ok(&format!("{n253}.")), n253);
        assert_eq!(err(&format!("{n253}a")), Error::TooLong { len: 254 });
        assert_eq!(err(&format!("{n253}a.")), Error::TooLong { len: 254 });
        assert_eq!(err(&"a".repeat(100_000)), Error::TooLong { len: 100_000 });
    }

    #[test]
    fn refuses_bad_characters() {
        for (s, byte, offset) in [
            ("a_b.example", b'_', 1),
            ("*.example.com", b'*', 0),
            ("a b.example", b' ', 1),
            ("a/b", b'/', 1),
            ("a[b.example", b'[', 1),
            ("caf\u{e9}.example", 0xc3, 3),
            ("a\0.example", 0, 1),
        ] {
            assert_eq!(err(s), Error::InvalidChar { byte, offset }, "{s:?}");
        }
        assert_eq!(
            HostName::from_bytes(&[b'a', 0xff]),
            Err(Error::InvalidChar { byte: 0xff, offset: 1 })
        );
    }

    #[test]
    fn labels_and_parent() {
        let h: HostName = "a.b.example.com".parse().unwrap();
        assert_eq!(h.labels().collect::<Vec<_>>(), ["a", "b", "example", "com"]);
        assert_eq!(h.label_count(), 4);
        assert_eq!(h.parent(), Some("b.example.com"));
        assert_eq!(HostName::new("localhost").unwrap().parent(), None);
        assert_eq!(HostName::try_from("x.y").unwrap().as_ref(), "x.y");
        assert_eq!(HostName::try_from(&b"x.y"[..]).unwrap().as_ref(), "x.y");
    }
}
