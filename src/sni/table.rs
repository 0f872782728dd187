//! The vhost table: patterns to values, looked up by the name a client sent.

use std::collections::HashMap;

use super::host::NameBuf;
use super::{Error, HostName, Pattern};

/// Maps host-name patterns to values (vhost indexes or ids).
///
/// Exact names and wildcard suffixes are kept in two hash maps. [`VhostTable::lookup`] costs
/// two hash lookups at most, whatever the number of names, and allocates nothing.
#[derive(Debug, Clone)]
pub struct VhostTable<T> {
    exact: HashMap<HostName, T>,
    wildcard: HashMap<HostName, T>,
}

impl<T> Default for VhostTable<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> VhostTable<T> {
    /// An empty table.
    pub fn new() -> Self {
        Self {
            exact: HashMap::new(),
            wildcard: HashMap::new(),
        }
    }

    /// An empty table with room for `exact` exact names and `wildcards` wildcard patterns.
    pub fn with_capacity(exact: usize, wildcards: usize) -> Self {
        Self {
            exact: HashMap::with_capacity(exact),
            wildcard: HashMap::with_capacity(wildcards),
        }
    }

    /// Adds `pattern`; refuses a pattern already present, naming it in the error.
    pub fn insert(&mut self, pattern: Pattern, value: T) -> Result<(), Error> {
        if self.get(&pattern).is_some() {
            return Err(Error::DuplicatePattern {
                pattern: pattern.to_string(),
            });
        }
        match pattern {
            Pattern::Exact(name) => self.exact.insert(name, value),
            Pattern::Wildcard(suffix) => self.wildcard.insert(suffix, value),
        };
        Ok(())
    }

    /// Parses `pattern` (see [`Pattern::new`]) and adds it.
    pub fn insert_str(&mut self, pattern: &str, value: T) -> Result<(), Error> {
        self.insert(Pattern::new(pattern)?, value)
    }

    /// The value stored for exactly this pattern (no matching).
    pub fn get(&self, pattern: &Pattern) -> Option<&T> {
        match pattern {
            Pattern::Exact(name) => self.exact.get(name),
            Pattern::Wildcard(suffix) => self.wildcard.get(suffix),
        }
    }

    /// Removes a pattern; returns its value.
    pub fn remove(&mut self, pattern: &Pattern) -> Option<T> {
        match pattern {
            Pattern::Exact(name) => self.exact.remove(name),
            Pattern::Wildcard(suffix) => self.wildcard.remove(suffix),
        }
    }

    /// The value for the name a client sent (`&str` or raw `server_name` bytes): the exact
    /// match if any, else the wildcard covering its first label, else `None`. The name is
    /// normalised on a stack buffer first; a name that is not a valid host name matches nothing.
    pub fn lookup(&self, name: impl AsRef<[u8]>) -> Option<&T> {
        let name = NameBuf::new(name.as_ref()).ok()?;
        self.lookup_normalised(name.as_str())
    }

    /// Like [`VhostTable::lookup`], for a name already normalised.
    pub fn lookup_host(&self, name: &HostName) -> Option<&T> {
        self.lookup_normalised(name.as_str())
    }

    fn lookup_normalised(&self, name: &str) -> Option<&T> {
        if let Some(v) = self.exact.get(name) {
            return Some(v);
        }
        let (_, parent) = name.split_once('.')?;
        self.wildcard.get(parent)
    }

    /// How many patterns the table holds.
    pub fn len(&self) -> usize {
        self.exact.len().saturating_add(self.wildcard.len())
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.wildcard.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(patterns: &[(&str, u32)]) -> VhostTable<u32> {
        let mut t = VhostTable::new();
        for &(p, v) in patterns {
            t.insert_str(p, v).unwrap();
        }
        t
    }

    #[test]
    fn exact_beats_wildcard() {
        let t = table(&[
            ("*.example.com", 1),
            ("www.example.com", 2),
            ("example.com", 3),
            ("*.b.example.com", 4),
        ]);
        assert_eq!(t.lookup("www.example.com"), Some(&2));
        assert_eq!(t.lookup("api.example.com"), Some(&1));
        assert_eq!(t.lookup("example.com"), Some(&3));
        assert_eq!(t.lookup("x.b.example.com"), Some(&4));
        assert_eq!(t.lookup("b.example.com"), Some(&1));
        assert_eq!(t.len(), 4);
        assert!(!t.is_empty());
    }

    #[test]
    fn wildcard_depth_is_one_label() {
        let t = table(&[("*.example.com", 1)]);
        assert_eq!(t.lookup("a.example.com"), Some(&1));
        assert_eq!(t.lookup("example.com"), None);
        assert_eq!(t.lookup("a.b.example.com"), None);
        assert_eq!(t.lookup("com"), None);
        assert_eq!(t.lookup("a.example.org"), None);
    }

    #[test]
    fn lookup_normalises_case_and_trailing_dot() {
        let t = table(&[("WWW.Example.com.", 1), ("*.Example.ORG", 2)]);
        for name in [
            "www.example.com",
            "WWW.EXAMPLE.COM",
            "www.example.com.",
            "Www.Example.Com.",
        ] {
            assert_eq!(t.lookup(name), Some(&1), "{name}");
            assert_eq!(t.lookup(name.as_bytes()), Some(&1), "{name}");
        }
        assert_eq!(t.lookup("A.example.org."), Some(&2));
        assert_eq!(t.lookup("www.example.com.."), None);
        assert_eq!(t.lookup_host(&HostName::new("WWW.example.com").unwrap()), Some(&1));
    }

    #[test]
    fn invalid_names_match_nothing() {
        let t = table(&[("*.example.com", 1), ("localhost", 2)]);
        for name in [
            &b""[..],
            b".",
            b"192.0.2.1",
            b"[::1]",
            b"a_b.example.com",
            b"\xff.example.com",
            b"a..example.com",
            b".example.com",
            b"*.example.com",
        ] {
            assert_eq!(t.lookup(name), None, "{name:?}");
        }
        assert_eq!(t.lookup("x".repeat(100_000)), None);
        assert_eq!(t.lookup("localhost"), Some(&2));
    }

    #[test]
    fn duplicates_are_refused_by_name() {
        let mut t = table(&[("www.example.com", 1), ("*.example.com", 2)]);
        assert_eq!(
            t.insert_str("WWW.example.com.", 3),
            Err(Error::DuplicatePattern {
                pattern: "www.example.com".into()
            })
        );
        let e = t.insert_str("*.EXAMPLE.com", 3).unwrap_err();
        assert_eq!(e.to_string(), "duplicate pattern *.example.com");
        assert_eq!(t.lookup("www.example.com"), Some(&1));
        assert_eq!(t.insert_str("*.", 4), Err(Error::WildcardTooBroad));
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn get_and_remove() {
        let mut t = table(&[("a.example", 1), ("*.example.com", 2)]);
        let w = Pattern::new("*.example.com").unwrap();
        assert_eq!(t.get(&w), Some(&2));
        assert_eq!(t.get(&Pattern::new("x.example.com").unwrap()), None);
        assert_eq!(t.remove(&w), Some(2));
        assert_eq!(t.lookup("x.example.com"), None);
        assert_eq!(t.remove(&Pattern::new("a.example").unwrap()), Some(1));
        assert!(t.is_empty());
        let t: VhostTable<()> = VhostTable::default();
        assert!(t.is_empty());
    }

    #[test]
    fn hundred_thousand_names() {
        const N: u32 = 100_000;
        let mut t = VhostTable::with_capacity(N as usize, 1000);
        for i in 0..N {
            t.insert_str(&format!("host{i}.zone{}.example.com", i % 1000), i)
                .unwrap();
        }
        for z in 0..1000u32 {
            t.insert_str(&format!("*.zone{z}.example.net"), N + z).unwrap();
        }
        assert_eq!(t.len(), 101_000);
        for i in 0..N {
            let name = format!("HOST{i}.zone{}.example.com.", i % 1000);
            assert_eq!(t.lookup(&name), Some(&i));
            let name = format!("anything{i}.zone{}.example.net", i % 1000);
            assert_eq!(t.lookup(&name), Some(&(N + i % 1000)));
        }
        assert_eq!(t.lookup("host0.zone1.example.com"), None);
    }
}
