//! Typed views of the ClientHello extensions the shim reads, and their encoders.
//!
//! Each view is made by `parse`, which validates the whole extension body and allocates
//! nothing; its iterators then walk the validated bytes. `encode` writes an extension body from
//! values, checking lengths only, so tests can also build bodies the parser refuses.

use super::{Error, Reader, What, Writer, first_sighting};

/// Extension type numbers (IANA "TLS ExtensionType Values").
pub mod ext_type {
    /// `server_name`, RFC 6066.
    pub const SERVER_NAME: u16 = 0;
    /// `status_request`, RFC 6066.
    pub const STATUS_REQUEST: u16 = 5;
    /// `supported_groups`, RFC 8422 / RFC 8446.
    pub const SUPPORTED_GROUPS: u16 = 10;
    /// `ec_point_formats`, RFC 8422.
    pub const EC_POINT_FORMATS: u16 = 11;
    /// `signature_algorithms`, RFC 8446.
    pub const SIGNATURE_ALGORITHMS: u16 = 13;
    /// `application_layer_protocol_negotiation`, RFC 7301.
    pub const ALPN: u16 = 16;
    /// `padding`, RFC 7685.
    pub const PADDING: u16 = 21;
    /// `encrypt_then_mac`, RFC 7366.
    pub const ENCRYPT_THEN_MAC: u16 = 22;
    /// `extended_master_secret`, RFC 7627.
    pub const EXTENDED_MASTER_SECRET: u16 = 23;
    /// `session_ticket`, RFC 5077.
    pub const SESSION_TICKET: u16 = 35;
    /// `pre_shared_key`, RFC 8446; must be the last extension of a ClientHello.
    pub const PRE_SHARED_KEY: u16 = 41;
    /// `early_data`, RFC 8446.
    pub const EARLY_DATA: u16 = 42;
    /// `supported_versions`, RFC 8446.
    pub const SUPPORTED_VERSIONS: u16 = 43;
    /// `cookie`, RFC 8446.
    pub const COOKIE: u16 = 44;
    /// `psk_key_exchange_modes`, RFC 8446.
    pub const PSK_KEY_EXCHANGE_MODES: u16 = 45;
    /// `key_share`, RFC 8446.
    pub const KEY_SHARE: u16 = 51;
    /// `renegotiation_info`, RFC 5746.
    pub const RENEGOTIATION_INFO: u16 = 0xff01;

    /// Whether `v` is a GREASE value (RFC 8701: `0x0A0A`, `0x1A1A`, ... `0xFAFA`), used by
    /// clients as extension types, versions, groups and cipher suites to keep servers tolerant.
    pub const fn is_grease(v: u16) -> bool {
        v & 0x0f0f == 0x0a0a && v >> 8 == v & 0xff
    }
}

/// The error texts of one kind of [`U16List`].
pub(super) struct U16ListWhat {
    short: &'static str,
    trailing: &'static str,
    empty: &'static str,
    odd: &'static str,
}

/// Error texts for a `U16List` parsed on its own.
const U16_LIST: U16ListWhat = U16ListWhat {
    short: "u16 list: length past end",
    trailing: "u16 list: trailing bytes",
    empty: "u16 list: empty list",
    odd: "u16 list: odd list length",
};

/// Error texts for `signature_algorithms`.
pub(super) const SIGNATURE_ALGORITHMS: U16ListWhat = U16ListWhat {
    short: "signature_algorithms: list length past end",
    trailing: "signature_algorithms: trailing bytes after list",
    empty: "signature_algorithms: empty list",
    odd: "signature_algorithms: odd list length",
};

/// Error texts for `supported_groups`.
pub(super) const SUPPORTED_GROUPS: U16ListWhat = U16ListWhat {
    short: "supported_groups: list length past end",
    trailing: "supported_groups: trailing bytes after list",
    empty: "supported_groups: empty list",
    odd: "supported_groups: odd list length",
};

/// The body of a non-empty list of `u16`s (an even number of bytes), else `Malformed` with
/// `empty` or `odd` at the list's start. Shared with the ClientHello's `cipher_suites`.
pub(super) fn check_u16s<'a>(list: Reader<'a>, empty: &'static str, odd: &'static str) -> Result<&'a [u8], Error> {
    let malformed = |what| Error::Malformed {
        what,
        offset: list.offset(),
    };
    if list.is_empty() {
        return Err(malformed(empty));
    }
    if list.remaining() & 1 != 0 {
        return Err(malformed(odd));
    }
    Ok(list.rest())
}

/// Iterator over big-endian `u16`s in a byte slice.
#[derive(Debug, Clone)]
pub struct U16Iter<'a>(&'a [u8]);

impl<'a> U16Iter<'a> {
    /// Iterates over `bytes` two at a time; an odd last byte is ignored.
    pub const fn new(bytes: &'a [u8]) -> Self {
        Self(bytes)
    }
}

impl Iterator for U16Iter<'_> {
    type Item = u16;

    #[inline]
    fn next(&mut self) -> Option<u16> {
        let (&v, rest) = self.0.split_first_chunk::<2>()?;
        self.0 = rest;
        Some(u16::from_be_bytes(v))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.0.len() / 2;
        (n, Some(n))
    }
}

impl ExactSizeIterator for U16Iter<'_> {}

/// A non-empty list of `u16` code points with a two-byte length prefix: the body of
/// `signature_algorithms` (RFC 8446 4.2.3) and `supported_groups` (RFC 8446 4.2.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct U16List<'a> {
    list: &'a [u8],
}

impl<'a> U16List<'a> {
    /// Parses an extension body: `u16 values<2..2^16-2>`.
    pub fn parse(data: &'a [u8]) -> Result<Self, Error> {
        Self::read_as(Reader::new(data), &U16_LIST)
    }

    pub(super) fn read_as(mut r: Reader<'a>, what: &U16ListWhat) -> Result<Self, Error> {
        let list = r.sub_u16().what(what.short)?;
        r.finish().what(what.trailing)?;
        let list = check_u16s(list, what.empty, what.odd)?;
        Ok(Self { list })
    }

    /// The values, in order.
    pub fn iter(&self) -> U16Iter<'a> {
        U16Iter(self.list)
    }

    /// The list body without its length prefix.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.list
    }

    /// How many values there are.
    pub const fn len(&self) -> usize {
        self.list.len() / 2
    }

    /// Always false for a parsed list (the parser refuses empty ones).
    pub const fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Whether `v` is in the list.
    pub fn contains(&self, v: u16) -> bool {
        self.iter().any(|x| x == v)
    }

    /// Writes an extension body holding `values`.
    pub fn encode(values: &[u16], out: &mut Vec<u8>) -> Result<(), Error> {
        Writer::new(out).u16_prefixed("u16 list", |w| {
            values.iter().for_each(|&v| w.u16(v));
            Ok(())
        })
    }
}

impl<'a> IntoIterator for U16List<'a> {
    type Item = u16;
    type IntoIter = U16Iter<'a>;

    fn into_iter(self) -> U16Iter<'a> {
        self.iter()
    }
}

/// One entry of a `server_name` list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerName<'a> {
    /// The name type; [`ServerName::HOST_NAME`] is the only one defined.
    pub name_type: u8,
    /// The name as sent (for a host name: ASCII, not normalised).
    pub name: &'a [u8],
}

impl ServerName<'_> {
    /// The `host_name` name type.
    pub const HOST_NAME: u8 = 0;
}

/// The body of a ClientHello's `server_name` extension (RFC 6066 section 3).
///
/// The parser requires a non-empty list, non-empty names, at most one name per name type, and
/// `host_name` entries of ASCII without NUL. It does not normalise or check host-name syntax;
/// that is `crate::sni::HostName`'s job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerNameList<'a> {
    list: &'a [u8],
}

impl<'a> ServerNameList<'a> {
    /// Parses an extension body: `ServerName server_name_list<1..2^16-1>`.
    pub fn parse(data: &'a [u8]) -> Result<Self, Error> {
        Self::read(Reader::new(data))
    }

    pub(super) fn read(mut r: Reader<'a>) -> Result<Self, Error> {
        let mut list = r.sub_u16().what("server_name: list length past end")?;
        r.finish().what("server_name: trailing bytes after list")?;
        if list.is_empty() {
            return Err(Error::Malformed {
                what: "server_name: empty list",
                offset: list.offset(),
            });
        }
        let raw = list.rest();
        let mut seen = [0u64; 4];
        while !list.is_empty() {
            let at = list.offset();
            let name_type = list.u8()?;
            let name = list.sub_u16().what("server_name: name length past end")?;
            let malformed = |what| Err(Error::Malformed { what, offset: at });
            if name.is_empty() {
                return malformed("server_name: empty name");
            }
            if !first_sighting(&mut seen, usize::from(name_type)) {
                return malformed("server_name: two names of the same type");
            }
            if name_type == ServerName::HOST_NAME && !name.rest().iter().all(|&b| b.is_ascii() && b != 0) {
                return malformed("server_name: host_name not ASCII or contains NUL");
            }
        }
        Ok(Self { list: raw })
    }

    /// The entries, in order.
    pub fn iter(&self) -> ServerNameIter<'a> {
        ServerNameIter(Reader::new(self.list))
    }

    /// The `host_name` entry, if any, as sent (ASCII, not normalised).
    pub fn host_name(&self) -> Option<&'a str> {
        self.iter()
            .find(|n| n.name_type == ServerName::HOST_NAME)
            .and_then(|n| core::str::from_utf8(n.name).ok())
    }

    /// Writes an extension body holding `names`.
    pub fn encode(names: &[ServerName<'_>], out: &mut Vec<u8>) -> Result<(), Error> {
        Writer::new(out).u16_prefixed("server_name list", |w| {
            names.iter().try_for_each(|n| {
                w.u8(n.name_type);
                w.u16_vec("server name", n.name)
            })
        })
    }

    /// Writes an extension body holding the single `host_name` entry `host`.
    pub fn encode_host_name(host: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        Self::encode(
            &[ServerName {
                name_type: ServerName::HOST_NAME,
                name: host,
            }],
            out,
        )
    }
}

impl<'a> IntoIterator for ServerNameList<'a> {
    type Item = ServerName<'a>;
    type IntoIter = ServerNameIter<'a>;

    fn into_iter(self) -> ServerNameIter<'a> {
        self.iter()
    }
}

/// Iterator over the entries of a [`ServerNameList`].
#[derive(Debug, Clone)]
pub struct ServerNameIter<'a>(Reader<'a>);

impl<'a> Iterator for ServerNameIter<'a> {
    type Item = ServerName<'a>;

    fn next(&mut self) -> Option<ServerName<'a>> {
        let mut r = self.0;
        let name_type = r.u8().ok()?;
        let name = r.sub_u16().ok()?.rest();
        self.0 = r;
        Some(ServerName { name_type, name })
    }
}

/// The body of a ClientHello's ALPN extension (RFC 7301): a non-empty list of non-empty
/// protocol names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlpnList<'a> {
    list: &'a [u8],
}

impl<'a> AlpnList<'a> {
    /// Parses an extension body: `ProtocolName protocol_name_list<2..2^16-1>`.
    pub fn parse(data: &'a [u8]) -> Result<Self, Error> {
        Self::read(Reader::new(data))
    }

    pub(super) fn read(mut r: Reader<'a>) -> Result<Self, Error> {
        let mut list = r.sub_u16().what("alpn: list length past end")?;
        r.finish().what("alpn: trailing bytes after list")?;
        if list.is_empty() {
            return Err(Error::Malformed {
                what: "alpn: empty list",
                offset: list.offset(),
            });
        }
        let raw = list.rest();
        while !list.is_empty() {
            let name = list.sub_u8().what("alpn: protocol name length past end")?;
            if name.is_empty() {
                return Err(Error::Malformed {
                    what: "alpn: empty protocol name",
                    offset: name.offset(),
                });
            }
        }
        Ok(Self { list: raw })
    }

    /// The protocol names, in the client's order of preference.
    pub fn iter(&self) -> AlpnIter<'a> {
        AlpnIter(Reader::new(self.list))
    }

    /// Whether `protocol` is offered.
    pub fn contains(&self, protocol: &[u8]) -> bool {
        self.iter().any(|p| p == protocol)
    }

    /// Writes an extension body holding `protocols`.
    pub fn encode(protocols: &[&[u8]], out: &mut Vec<u8>) -> Result<(), Error> {
        Writer::new(out).u16_prefixed("alpn list", |w| {
            protocols.iter().try_for_each(|p| w.u8_vec("alpn protocol name", p))
        })
    }
}

impl<'a> IntoIterator for AlpnList<'a> {
    type Item = &'a [u8];
    type IntoIter = AlpnIter<'a>;

    fn into_iter(self) -> AlpnIter<'a> {
        self.iter()
    }
}

/// Iterator over the protocol names of an [`AlpnList`].
#[derive(Debug, Clone)]
pub struct AlpnIter<'a>(Reader<'a>);

impl<'a> Iterator for AlpnIter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let mut r = self.0;
        let name = r.sub_u8().ok()?.rest();
        self.0 = r;
        Some(name)
    }
}

/// The body of a ClientHello's `supported_versions` extension (RFC 8446 4.2.1, client form):
/// `ProtocolVersion versions<2..254>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SupportedVersions<'a> {
    list: &'a [u8],
}

impl<'a> SupportedVersions<'a> {
    /// Parses a ClientHello's extension body.
    pub fn parse(data: &'a [u8]) -> Result<Self, Error> {
        Self::read(Reader::new(data))
    }

    pub(super) fn read(mut r: Reader<'a>) -> Result<Self, Error> {
        let list = r.sub_u8().what("supported_versions: list length past end")?;
        r.finish().what("supported_versions: trailing bytes after list")?;
        let list = check_u16s(
            list,
            "supported_versions: empty list",
            "supported_versions: odd list length",
        )?;
        Ok(Self { list })
    }

    /// The versions, in the client's order of preference (GREASE values included).
    pub fn iter(&self) -> U16Iter<'a> {
        U16Iter(self.list)
    }

    /// Whether `version` (e.g. `0x0304` for TLS 1.3) is offered.
    pub fn contains(&self, version: u16) -> bool {
        self.iter().any(|v| v == version)
    }

    /// The highest version offered, GREASE values ignored.
    pub fn highest(&self) -> Option<u16> {
        self.iter().filter(|&v| !ext_type::is_grease(v)).max()
    }

    /// Writes a ClientHello's extension body holding `versions`.
    pub fn encode(versions: &[u16], out: &mut Vec<u8>) -> Result<(), Error> {
        Writer::new(out).u8_prefixed("supported_versions list", |w| {
            versions.iter().for_each(|&v| w.u16(v));
            Ok(())
        })
    }
}

impl<'a> IntoIterator for SupportedVersions<'a> {
    type Item = u16;
    type IntoIter = U16Iter<'a>;

    fn into_iter(self) -> U16Iter<'a> {
        self.iter()
    }
}

/// One offered key share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyShareEntry<'a> {
    /// The named group.
    pub group: u16,
    /// The public key, non-empty.
    pub key_exchange: &'a [u8],
}

/// The body of a ClientHello's `key_share` extension (RFC 8446 4.2.8, client form):
/// `KeyShareEntry client_shares<0..2^16-1>`, each with a non-empty key.
///
/// The list may be empty (a client that wants a HelloRetryRequest). Duplicate groups, which
/// RFC 8446 forbids but only lets servers check, are not looked for: that check costs
/// quadratic time on hostile input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyShareList<'a> {
    list: &'a [u8],
}

impl<'a> KeyShareList<'a> {
    /// Parses a ClientHello's extension body.
    pub fn parse(data: &'a [u8]) -> Result<Self, Error> {
        Self::read(Reader::new(data))
    }

    pub(super) fn read(mut r: Reader<'a>) -> Result<Self, Error> {
        let mut list = r.sub_u16().what("key_share: list length past end")?;
        r.finish().what("key_share: trailing bytes after list")?;
        let raw = list.rest();
        while !list.is_empty() {
            list.u16().what("key_share: truncated entry")?;
            let key = list.sub_u16().what("key_share: key length past end")?;
            if key.is_empty() {
                return Err(Error::Malformed {
                    what: "key_share: empty key_exchange",
                    offset: key.offset(),
                });
            }
        }
        Ok(Self { list: raw })
    }

    /// The offered shares, in order.
    pub fn iter(&self) -> KeyShareIter<'a> {
        KeyShareIter(Reader::new(self.list))
    }

    /// Writes a ClientHello's extension body holding `shares`.
    pub fn encode(shares: &[KeyShareEntry<'_>], out: &mut Vec<u8>) -> Result<(), Error> {
        Writer::new(out).u16_prefixed("key_share list", |w| {
            shares.iter().try_for_each(|s| {
                w.u16(s.group);
                w.u16_vec("key_exchange", s.key_exchange)
            })
        })
    }
}

impl<'a> IntoIterator for KeyShareList<'a> {
    type Item = KeyShareEntry<'a>;
    type IntoIter = KeyShareIter<'a>;

    fn into_iter(self) -> KeyShareIter<'a> {
        self.iter()
    }
}

/// Iterator over the entries of a [`KeyShareList`].
#[derive(Debug, Clone)]
pub struct KeyShareIter<'a>(Reader<'a>);

impl<'a> Iterator for KeyShareIter<'a> {
    type Item = KeyShareEntry<'a>;

    fn next(&mut self) -> Option<KeyShareEntry<'a>> {
        let mut r = self.0;
        let group = r.u16().ok()?;
        let key_exchange = r.sub_u16().ok()?.rest();
        self.0 = r;
        Some(KeyShareEntry { group, key_exchange })
    }
}

/// One PSK identity offered for resumption.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PskIdentity<'a> {
    /// The identity: for resumption, the ticket the server issued. Non-empty.
    pub identity: &'a [u8],
    /// The ticket age plus the server's `ticket_age_add`, modulo 2^32.
    pub obfuscated_ticket_age: u32,
}

/// The body of a ClientHello's `pre_shared_key` extension (RFC 8446 4.2.11):
/// `PskIdentity identities<7..2^16-1>; PskBinderEntry binders<33..2^16-1>`.
///
/// The parser requires at least one identity, non-empty identities, binders of 32 to 255 bytes,
/// and as many binders as identities. [`ClientHello::parse`](super::ClientHello::parse) also
/// requires the extension to be the last one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreSharedKey<'a> {
    identities: &'a [u8],
    binders: &'a [u8],
    count: usize,
}

impl<'a> PreSharedKey<'a> {
    /// Parses a ClientHello's extension body.
    pub fn parse(data: &'a [u8]) -> Result<Self, Error> {
        Self::read(Reader::new(data))
    }

    pub(super) fn read(mut r: Reader<'a>) -> Result<Self, Error> {
        let mut ids = r.sub_u16().what("pre_shared_key: identities length past end")?;
        let mut binders = r.sub_u16().what("pre_shared_key: binders length past end")?;
        r.finish().what("pre_shared_key: trailing bytes after binders")?;
        let (ids_raw, binders_raw) = (ids.rest(), binders.rest());
        if ids.is_empty() {
            return Err(Error::Malformed {
                what: "pre_shared_key: no identities",
                offset: ids.offset(),
            });
        }
        let mut count = 0usize;
        while !ids.is_empty() {
            let id = ids.sub_u16().what("pre_shared_key: identity length past end")?;
            if id.is_empty() {
                return Err(Error::Malformed {
                    what: "pre_shared_key: empty identity",
                    offset: id.offset(),
                });
            }
            ids.u32().what("pre_shared_key: truncated obfuscated_ticket_age")?;
            count = count.saturating_add(1);
        }
        let mut binder_count = 0usize;
        while !binders.is_empty() {
            let at = binders.offset();
            let b = binders.sub_u8().what("pre_shared_key: binder length past end")?;
            if b.remaining() < 32 {
                return Err(Error::Malformed {
                    what: "pre_shared_key: binder shorter than 32 bytes",
                    offset: at,
                });
            }
            binder_count = binder_count.saturating_add(1);
        }
        if binder_count != count {
            return Err(Error::Malformed {
                what: "pre_shared_key: binder count differs from identity count",
                offset: binders.offset(),
            });
        }
        Ok(Self {
            identities: ids_raw,
            binders: binders_raw,
            count,
        })
    }

    /// How many identities (and binders) there are; at least one.
    pub const fn identity_count(&self) -> usize {
        self.count
    }

    /// The identities, in order.
    pub fn identities(&self) -> PskIdentityIter<'a> {
        PskIdentityIter(Reader::new(self.identities))
    }

    /// The binders, in the order of the identities.
    pub fn binders(&self) -> BinderIter<'a> {
        BinderIter(Reader::new(self.binders))
    }

    /// Writes a ClientHello's extension body. Binders are not computed: pass the bytes to write.
    pub fn encode(identities: &[PskIdentity<'_>], binders: &[&[u8]], out: &mut Vec<u8>) -> Result<(), Error> {
        let mut w = Writer::new(out);
        w.u16_prefixed("psk identities", |w| {
            identities.iter().try_for_each(|id| {
                w.u16_vec("psk identity", id.identity)?;
                w.u32(id.obfuscated_ticket_age);
                Ok(())
            })
        })?;
        w.u16_prefixed("psk binders", |w| {
            binders.iter().try_for_each(|b| w.u8_vec("psk binder", b))
        })
    }
}

/// Iterator over the identities of a [`PreSharedKey`].
#[derive(Debug, Clone)]
pub struct PskIdentityIter<'a>(Reader<'a>);

impl<'a> Iterator for PskIdentityIter<'a> {
    type Item = PskIdentity<'a>;

    fn next(&mut self) -> Option<PskIdentity<'a>> {
        let mut r = self.0;
        let identity = r.sub_u16().ok()?.rest();
        let obfuscated_ticket_age = r.u32().ok()?;
        self.0 = r;
        Some(PskIdentity {
            identity,
            obfuscated_ticket_age,
        })
    }
}

/// Iterator over the binders of a [`PreSharedKey`].
#[derive(Debug, Clone)]
pub struct BinderIter<'a>(Reader<'a>);

impl<'a> Iterator for BinderIter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let mut r = self.0;
        let b = r.sub_u8().ok()?.rest();
        self.0 = r;
        Some(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn malformed(r: Result<impl core::fmt::Debug, Error>) -> &'static str {
        match r {
            Err(Error::Malformed { what, .. }) => what,
            other => panic!("expected Malformed, got {other:?}"),
        }
    }

    /// Every strict prefix and every one-byte extension of a valid body is refused.
    fn refuses_truncation_and_trailing(body: &[u8], parse: impl Fn(&[u8]) -> Result<(), Error>) {
        parse(body).unwrap();
        for n in 0..body.len() {
            let prefix = body.get(..n).unwrap();
            malformed(parse(prefix));
        }
        let mut long = body.to_vec();
        long.push(0);
        malformed(parse(&long));
    }

    #[test]
    fn grease() {
        assert!(ext_type::is_grease(0x0a0a));
        assert!(ext_type::is_grease(0xfafa));
        assert!(!ext_type::is_grease(0x0a1a));
        assert!(!ext_type::is_grease(0x0303));
    }

    #[test]
    fn server_name_round_trip() {
        let names = [
            ServerName {
                name_type: 0,
                name: b"Example.COM.",
            },
            ServerName {
                name_type: 7,
                name: &[0xff, 0],
            },
        ];
        let mut body = vec![];
        ServerNameList::encode(&names, &mut body).unwrap();
        let list = ServerNameList::parse(&body).unwrap();
        assert_eq!(list.iter().collect::<Vec<_>>(), names);
        assert_eq!(list.host_name(), Some("Example.COM."));
        refuses_truncation_and_trailing(&body, |b| ServerNameList::parse(b).map(drop));

        let mut body = vec![];
        ServerNameList::encode_host_name(b"a.example", &mut body).unwrap();
        assert_eq!(body, b"\x00\x0c\x00\x00\x09a.example");
    }

    #[test]
    fn server_name_rules() {
        let enc = |names: &[ServerName<'_>]| {
            let mut body = vec![];
            ServerNameList::encode(names, &mut body).unwrap();
            body
        };
        let host = |name| ServerName { name_type: 0, name };
        assert_eq!(malformed(ServerNameList::parse(&enc(&[]))), "server_name: empty list");
        assert_eq!(
            malformed(ServerNameList::parse(&enc(&[host(b"")]))),
            "server_name: empty name"
        );
        assert_eq!(
            malformed(ServerNameList::parse(&enc(&[host(b"a"), host(b"b")]))),
            "server_name: two names of the same type"
        );
        let other = |name| ServerName { name_type: 200, name };
        assert_eq!(
            malformed(ServerNameList::parse(&enc(&[other(b"a"), other(b"b")]))),
            "server_name: two names of the same type"
        );
        assert_eq!(
            malformed(ServerNameList::parse(&enc(&[host("é".as_bytes())]))),
            "server_name: host_name not ASCII or contains NUL"
        );
        assert_eq!(
            malformed(ServerNameList::parse(&enc(&[host(b"a\0b")]))),
            "server_name: host_name not ASCII or contains NUL"
        );
        // Non-host_name types are opaque; no host name then.
        let list = enc(&[other(&[0xc3, 0xa9])]);
        assert_eq!(ServerNameList::parse(&list).unwrap().host_name(), None);
        assert_eq!(
            ServerNameList::parse(&[]),
            Err(Error::Malformed {
                what: "server_name: list length past end",
                offset: 0
            })
        );
    }

    #[test]
    fn alpn_round_trip_and_rules() {
        let protos: [&[u8]; 2] = [b"h2", b"http/1.1"];
        let mut body = vec![];
        AlpnList::encode(&protos, &mut body).unwrap();
        let list = AlpnList::parse(&body).unwrap();
        assert_eq!(list.iter().collect::<Vec<_>>(), protos);
        assert!(list.contains(b"h2") && !list.contains(b"h3"));
        refuses_truncation_and_trailing(&body, |b| AlpnList::parse(b).map(drop));

        let mut body = vec![];
        AlpnList::encode(&[], &mut body).unwrap();
        assert_eq!(malformed(AlpnList::parse(&body)), "alpn: empty list");
        let mut body = vec![];
        AlpnList::encode(&[b"h2", b""], &mut body).unwrap();
        assert_eq!(malformed(AlpnList::parse(&body)), "alpn: empty protocol name");
        let mut body = vec![];
        assert!(AlpnList::encode(&[&[b'x'; 256]], &mut body).is_err());
    }

    #[test]
    fn supported_versions_round_trip_and_rules() {
        let versions = [0x7a7a, 0x0304, 0x0303];
        let mut body = vec![];
        SupportedVersions::encode(&versions, &mut body).unwrap();
        assert_eq!(body, [6, 0x7a, 0x7a, 3, 4, 3, 3]);
        let list = SupportedVersions::parse(&body).unwrap();
        assert_eq!(list.iter().collect::<Vec<_>>(), versions);
        assert!(list.contains(0x0304) && !list.contains(0x0302));
        assert_eq!(list.highest(), Some(0x0304));
        refuses_truncation_and_trailing(&body, |b| SupportedVersions::parse(b).map(drop));

        assert_eq!(
            malformed(SupportedVersions::parse(&[0])),
            "supported_versions: empty list"
        );
        assert_eq!(
            malformed(SupportedVersions::parse(&[3, 3, 4, 3])),
            "supported_versions: odd list length"
        );
        assert!(SupportedVersions::encode(&[0x0304; 128], &mut body).is_err());
    }

    #[test]
    fn u16_lists_round_trip_and_rules() {
        let values = [0x0403, 0x0804, 0x0401];
        let mut body = vec![];
        U16List::encode(&values, &mut body).unwrap();
        let list = U16List::parse(&body).unwrap();
        assert_eq!(list.iter().collect::<Vec<_>>(), values);
        assert_eq!(list.len(), 3);
        assert!(!list.is_empty());
        assert!(list.contains(0x0804));
        assert_eq!(list.as_bytes(), body.get(2..).unwrap());
        assert_eq!(list.into_iter().len(), 3);
        refuses_truncation_and_trailing(&body, |b| U16List::parse(b).map(drop));
        for what in [&SIGNATURE_ALGORITHMS, &SUPPORTED_GROUPS, &U16_LIST] {
            let parse = |b: &[u8]| U16List::read_as(Reader::new(b), what).map(drop);
            refuses_truncation_and_trailing(&body, parse);
            assert_eq!(malformed(parse(&[0, 0])), what.empty);
            assert_eq!(malformed(parse(&[0, 3, 0, 1, 2])), what.odd);
        }
    }

    #[test]
    fn key_share_round_trip_and_rules() {
        let shares = [
            KeyShareEntry {
                group: 0x001d,
                key_exchange: &[1; 32],
            },
            KeyShareEntry {
                group: 0x0017,
                key_exchange: &[4; 65],
            },
        ];
        let mut body = vec![];
        KeyShareList::encode(&shares, &mut body).unwrap();
        let list = KeyShareList::parse(&body).unwrap();
        assert_eq!(list.iter().collect::<Vec<_>>(), shares);
        refuses_truncation_and_trailing(&body, |b| KeyShareList::parse(b).map(drop));

        // An empty list is allowed (the client asks for a HelloRetryRequest).
        assert_eq!(KeyShareList::parse(&[0, 0]).unwrap().iter().count(), 0);
        let mut body = vec![];
        KeyShareList::encode(
            &[KeyShareEntry {
                group: 29,
                key_exchange: &[],
            }],
            &mut body,
        )
        .unwrap();
        assert_eq!(malformed(KeyShareList::parse(&body)), "key_share: empty key_exchange");
    }

    #[test]
    fn pre_shared_key_round_trip_and_rules() {
        let ids = [
            PskIdentity {
                identity: b"ticket-one",
                obfuscated_ticket_age: 0xdead_beef,
            },
            PskIdentity {
                identity: b"t2",
                obfuscated_ticket_age: 7,
            },
        ];
        let binders: [&[u8]; 2] = [&[0xaa; 32], &[0xbb; 48]];
        let mut body = vec![];
        PreSharedKey::encode(&ids, &binders, &mut body).unwrap();
        let psk = PreSharedKey::parse(&body).unwrap();
        assert_eq!(psk.identity_count(), 2);
        assert_eq!(psk.identities().collect::<Vec<_>>(), ids);
        assert_eq!(psk.binders().collect::<Vec<_>>(), binders);
        refuses_truncation_and_trailing(&body, |b| PreSharedKey::parse(b).map(drop));

        let check = |ids: &[PskIdentity<'_>], binders: &[&[u8]]| {
            let mut body = vec![];
            PreSharedKey::encode(ids, binders, &mut body).unwrap();
            malformed(PreSharedKey::parse(&body))
        };
        let one = PskIdentity {
            identity: b"x",
            obfuscated_ticket_age: 0,
        };
        let empty = PskIdentity {
            identity: b"",
            obfuscated_ticket_age: 0,
        };
        assert_eq!(check(&[], &[]), "pre_shared_key: no identities");
        assert_eq!(check(&[empty], &[&[0; 32]]), "pre_shared_key: empty identity");
        assert_eq!(
            check(&[one], &[&[0; 31]]),
            "pre_shared_key: binder shorter than 32 bytes"
        );
        assert_eq!(
            check(&[one], &[]),
            "pre_shared_key: binder count differs from identity count"
        );
        assert_eq!(
            check(&[one], &[&[0; 32], &[0; 32]]),
            "pre_shared_key: binder count differs from identity count"
        );
    }
}
