//! A TOML document as a tree whose keys and values remember where they were written.
//!
//! `toml::Spanned<T>` would do, except that toml gives no span to tables it creates
//! implicitly (`[sni]` when only `[[sni.vhost]]` is written, `a` in `a.b = 1`), and
//! `Spanned` then fails to deserialize. [`Key`] and [`Node`] speak the same protocol as
//! `Spanned` (the struct name and field names below, shared by serde_spanned 0.6 and 1.x) but
//! accept a plain value too, leaving the span empty; [`Node::offset`] then falls back to the
//! first span inside.

use std::fmt;
use std::ops::Range;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

const SPANNED_NAME: &str = "$__serde_spanned_private_Spanned";
const SPANNED_START: &str = "$__serde_spanned_private_start";
const SPANNED_END: &str = "$__serde_spanned_private_end";
const SPANNED_VALUE: &str = "$__serde_spanned_private_value";
const SPANNED_FIELDS: &[&str] = &[SPANNED_START, SPANNED_END, SPANNED_VALUE];
/// How toml hands a datetime to `deserialize_any`: a map with this one key.
const DATETIME_FIELD: &str = "$__toml_private_datetime";

/// A table key and where it was written.
#[derive(Debug)]
pub(super) struct Key {
    /// Byte range in the document, when toml knows it.
    pub span: Option<Range<usize>>,
    /// The key, unquoted.
    pub name: String,
}

/// A value and where it was written.
#[derive(Debug)]
pub(super) struct Node {
    /// Byte range in the document, when toml knows it.
    pub span: Option<Range<usize>>,
    /// The value.
    pub value: Raw,
}

/// A TOML value. Only what the settings need is kept of scalars other than strings,
/// integers and booleans.
#[derive(Debug)]
pub(super) enum Raw {
    String(String),
    Integer(i64),
    Float,
    Boolean(bool),
    Datetime,
    Array(Vec<Node>),
    Table(Vec<(Key, Node)>),
}

impl Raw {
    /// The value's type with its article, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Raw::String(_) => "a string",
            Raw::Integer(_) => "an integer",
            Raw::Float => "a float",
            Raw::Boolean(_) => "a boolean",
            Raw::Datetime => "a datetime",
            Raw::Array(_) => "an array",
            Raw::Table(_) => "a table",
        }
    }
}

impl Node {
    /// Byte offset of the value, or of the first thing inside it that has one.
    pub fn offset(&self) -> Option<usize> {
        if let Some(span) = &self.span {
            return Some(span.start);
        }
        match &self.value {
            Raw::Array(items) => items.iter().find_map(Node::offset),
            Raw::Table(entries) => entries.iter().find_map(|(k, v)| k.offset(v)),
            _ => None,
        }
    }
}

impl Key {
    /// Byte offset of the key, or else of its value.
    pub fn offset(&self, value: &Node) -> Option<usize> {
        self.span.as_ref().map(|s| s.start).or_else(|| value.offset())
    }
}

/// Parses `text` into its root table.
pub(super) fn parse(text: &str) -> Result<Vec<(Key, Node)>, toml::de::Error> {
    match toml::from_str::<Raw>(text)? {
        Raw::Table(entries) => Ok(entries),
        // toml always hands over the document as a table.
        _ => Ok(Vec::new()),
    }
}

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawVisitor)
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_struct(SPANNED_NAME, SPANNED_FIELDS, NodeVisitor)
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_struct(SPANNED_NAME, SPANNED_FIELDS, KeyVisitor)
    }
}

/// Reads the rest of a span protocol map whose first key (`first`) has been read.
fn read_spanned<'de, M, T>(first: &str, mut map: M) -> Result<(Range<usize>, T), M::Error>
where
    M: MapAccess<'de>,
    T: Deserialize<'de>,
{
    let (mut start, mut end, mut value) = (None, None, None);
    let mut key = Some(first.to_owned());
    while let Some(name) = key {
        match name.as_str() {
            SPANNED_START => start = Some(map.next_value::<usize>()?),
            SPANNED_END => end = Some(map.next_value::<usize>()?),
            SPANNED_VALUE => value = Some(map.next_value::<T>()?),
            other => return Err(de::Error::unknown_field(other, SPANNED_FIELDS)),
        }
        key = map.next_key::<String>()?;
    }
    match (start, end, value) {
        (Some(start), Some(end), Some(value)) => Ok((start..end, value)),
        _ => Err(de::Error::custom("incomplete span")),
    }
}

/// Reads table entries after `first`, the first key, has been read.
fn read_table<'de, M: MapAccess<'de>>(first: Key, mut map: M) -> Result<Raw, M::Error> {
    let mut entries = vec![(first, map.next_value::<Node>()?)];
    while let Some(key) = map.next_key::<Key>()? {
        let value = map.next_value::<Node>()?;
        entries.push((key, value));
    }
    Ok(Raw::Table(entries))
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Raw;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a TOML value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Raw, E> {
        Ok(Raw::Boolean(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Raw, E> {
        Ok(Raw::Integer(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Raw, E> {
        // toml integers are i64; a larger one is out of range for every setting anyway.
        Ok(Raw::Integer(i64::try_from(v).unwrap_or(i64::MAX)))
    }

    fn visit_f64<E>(self, _: f64) -> Result<Raw, E> {
        Ok(Raw::Float)
    }

    fn visit_str<E>(self, v: &str) -> Result<Raw, E> {
        Ok(Raw::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Raw, E> {
        Ok(Raw::String(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Raw, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Raw::Array(items))
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Raw, M::Error> {
        match map.next_key::<Key>()? {
            None => Ok(Raw::Table(Vec::new())),
            Some(key) if key.span.is_none() && key.name == DATETIME_FIELD => {
                map.next_value::<IgnoredAny>()?;
                Ok(Raw::Datetime)
            }
            Some(key) => read_table(key, map),
        }
    }
}

struct NodeVisitor;

impl NodeVisitor {
    fn plain(value: Raw) -> Node {
        Node { span: None, value }
    }
}

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a TOML value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        RawVisitor.visit_bool(v).map(Self::plain)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        RawVisitor.visit_i64(v).map(Self::plain)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        RawVisitor.visit_u64(v).map(Self::plain)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        RawVisitor.visit_f64(v).map(Self::plain)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        RawVisitor.visit_str(v).map(Self::plain)
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
        RawVisitor.visit_string(v).map(Self::plain)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Node, A::Error> {
        RawVisitor.visit_seq(seq).map(Self::plain)
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Node, M::Error> {
        match map.next_key::<Key>()? {
            None => Ok(Self::plain(Raw::Table(Vec::new()))),
            Some(key) if key.span.is_none() && key.name == SPANNED_START => {
                let (span, value) = read_spanned::<M, Raw>(&key.name, map)?;
                Ok(Node {
                    span: Some(span),
                    value,
                })
            }
            Some(key) if key.span.is_none() && key.name == DATETIME_FIELD => {
                map.next_value::<IgnoredAny>()?;
                Ok(Self::plain(Raw::Datetime))
            }
            Some(key) => read_table(key, map).map(Self::plain),
        }
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a TOML key")
    }

    fn visit_str<E>(self, v: &str) -> Result<Key, E> {
        Ok(Key {
            span: None,
            name: v.to_owned(),
        })
    }

    fn visit_string<E>(self, v: String) -> Result<Key, E> {
        Ok(Key { span: None, name: v })
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Key, M::Error> {
        match map.next_key::<String>()? {
            Some(first) => {
                let (span, name) = read_spanned::<M, String>(&first, map)?;
                Ok(Key { span: Some(span), name })
            }
            None => Err(de::Error::custom("incomplete span")),
        }
    }
}
