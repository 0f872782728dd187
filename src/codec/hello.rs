//! The ClientHello message: framing, parsing, validation, encoding and a builder.

use super::ext::{
    self, AlpnList, KeyShareEntry, KeyShareList, PreSharedKey, PskIdentity, ServerNameList, SupportedVersions, U16Iter,
    U16List, ext_type,
};
use super::{Error, Reader, What, Writer, first_sighting};

/// TLS record content type `handshake`.
pub const CONTENT_TYPE_HANDSHAKE: u8 = 22;
/// Handshake message type `client_hello`.
pub const HANDSHAKE_CLIENT_HELLO: u8 = 1;
/// The largest plaintext record payload (2^14 bytes).
pub const MAX_RECORD_PAYLOAD: usize = 16_384;
/// The largest ClientHello body any valid client can send: every vector at its maximum length.
/// A handshake header announcing more is refused at once rather than waited for.
pub const MAX_CLIENT_HELLO_BODY: usize = 2 + 32 + (1 + 32) + (2 + 65_534) + (1 + 255) + (2 + 65_535);

const RECORD_HEADER: usize = 5;
const HANDSHAKE_HEADER: usize = 4;

fn malformed(what: &'static str, offset: usize) -> Error {
    Error::Malformed { what, offset }
}

/// One extension, as sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extension<'a> {
    /// The extension type (see [`ext_type`]).
    pub typ: u16,
    /// The extension body, without its type and length.
    pub data: &'a [u8],
}

/// Iterator over the extensions of a [`ClientHello`], in the order the client sent them.
#[derive(Debug, Clone)]
pub struct Extensions<'a>(Reader<'a>);

impl<'a> Iterator for Extensions<'a> {
    type Item = Extension<'a>;

    #[inline]
    fn next(&mut self) -> Option<Extension<'a>> {
        let mut r = self.0;
        let typ = r.u16().ok()?;
        let data = r.sub_u16().ok()?.rest();
        self.0 = r;
        Some(Extension { typ, data })
    }
}

/// A parsed, fully validated ClientHello that borrows from the input.
///
/// Made by [`ClientHello::parse`] and its variants; see the [module docs](super) for what is
/// checked. The extension block is kept raw and walked on demand, so parsing allocates nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientHello<'a> {
    legacy_version: u16,
    random: &'a [u8; 32],
    session_id: &'a [u8],
    cipher_suites: &'a [u8],
    compression_methods: &'a [u8],
    extensions: Option<&'a [u8]>,
}

/// Checks the record header bytes present in `buf`; returns the payload length once all five
/// are in.
fn record_header(buf: &[u8]) -> Result<usize, Error> {
    match buf.first() {
        None | Some(&CONTENT_TYPE_HANDSHAKE) => {}
        Some(b) if b & 0x80 != 0 => {
            return Err(Error::Unsupported {
                what: "SSLv2-compatible ClientHello",
            });
        }
        Some(_) => return Err(malformed("not a handshake record", 0)),
    }
    if buf.get(1).is_some_and(|&major| major != 3) {
        return Err(malformed("record version is not 3.x", 1));
    }
    let Some(&[_, _, _, hi, lo]) = buf.first_chunk::<RECORD_HEADER>() else {
        return Err(Error::NeedMore(RECORD_HEADER.saturating_sub(buf.len())));
    };
    let len = usize::from(u16::from_be_bytes([hi, lo]));
    if len == 0 {
        return Err(malformed("empty handshake record", 3));
    }
    if len > MAX_RECORD_PAYLOAD {
        return Err(malformed("record longer than 2^14 bytes", 3));
    }
    Ok(len)
}

/// Checks the handshake header bytes present in `hs` (found at `offset` in the input); returns
/// the body length once all four are in.
fn handshake_header(hs: &[u8], offset: usize) -> Result<Option<usize>, Error> {
    match hs.first() {
        None | Some(&HANDSHAKE_CLIENT_HELLO) => {}
        Some(_) => return Err(malformed("handshake message is not a ClientHello", offset)),
    }
    let Some(&[_, a, b, c]) = hs.first_chunk::<HANDSHAKE_HEADER>() else {
        return Ok(None);
    };
    let len = usize::try_from(u32::from_be_bytes([0, a, b, c])).unwrap_or(usize::MAX);
    if len > MAX_CLIENT_HELLO_BODY {
        return Err(malformed(
            "ClientHello length beyond any valid ClientHello",
            offset.saturating_add(1),
        ));
    }
    Ok(Some(len))
}

impl<'a> ClientHello<'a> {
    /// Parses a ClientHello in record form (first byte 22) or handshake form (first byte 1).
    ///
    /// The input must hold exactly one record or one handshake message. An empty input answers
    /// `NeedMore(4)`; a first byte with the high bit set (an SSLv2-compatible hello) is
    /// `Unsupported`.
    pub fn parse(buf: &'a [u8]) -> Result<Self, Error> {
        match buf.first() {
            None => Err(Error::NeedMore(HANDSHAKE_HEADER)),
            Some(&HANDSHAKE_CLIENT_HELLO) => Self::parse_handshake(buf),
            Some(_) => Self::parse_record(buf),
        }
    }

    /// Parses a ClientHello carried in exactly one TLS record; bytes after the record are
    /// refused (see [`ClientHello::parse_record_prefix`] to allow them).
    pub fn parse_record(buf: &'a [u8]) -> Result<Self, Error> {
        let (hello, used) = Self::parse_record_prefix(buf)?;
        if used != buf.len() {
            return Err(malformed("trailing bytes after the record", used));
        }
        Ok(hello)
    }

    /// Parses a ClientHello from the first TLS record in `buf` and returns it with the record's
    /// length; whatever follows the record (early data, the next record) is left alone. This is
    /// the entry point for bytes peeked from a socket.
    ///
    /// A ClientHello fragmented over several records is `Unsupported`, answered as soon as the
    /// handshake header in the first record shows it.
    pub fn parse_record_prefix(buf: &'a [u8]) -> Result<(Self, usize), Error> {
        let len = record_header(buf)?;
        let mut r = Reader::new(buf);
        r.take(RECORD_HEADER)?;
        let present = r.rest();
        let in_record = present.split_at_checked(len).map_or(present, |(p, _)| p);
        if len < HANDSHAKE_HEADER {
            return Err(Error::Unsupported {
                what: "ClientHello fragmented over several records",
            });
        }
        if let Some(body_len) = handshake_header(in_record, RECORD_HEADER)? {
            let message_len = body_len.saturating_add(HANDSHAKE_HEADER);
            if message_len > len {
                return Err(Error::Unsupported {
                    what: "ClientHello fragmented over several records",
                });
            }
            if message_len < len {
                return Err(malformed(
                    "record holds more than the ClientHello",
                    RECORD_HEADER.saturating_add(message_len),
                ));
            }
        }
        if present.len() < len {
            return Err(Error::NeedMore(len.saturating_sub(present.len())));
        }
        let mut payload = r.sub(len)?;
        payload.take(HANDSHAKE_HEADER)?;
        let hello = Self::parse_body(payload)?;
        Ok((hello, RECORD_HEADER.saturating_add(len)))
    }

    /// Parses a bare handshake message (type 1, 24-bit length, body), as OpenSSL hands it out;
    /// bytes after the message are refused.
    pub fn parse_handshake(buf: &'a [u8]) -> Result<Self, Error> {
        let Some(len) = handshake_header(buf, 0)? else {
            return Err(Error::NeedMore(HANDSHAKE_HEADER.saturating_sub(buf.len())));
        };
        let mut r = Reader::new(buf);
        r.take(HANDSHAKE_HEADER)?;
        if r.remaining() < len {
            return Err(Error::NeedMore(len.saturating_sub(r.remaining())));
        }
        let body = r.sub(len)?;
        if !r.is_empty() {
            return Err(malformed("trailing bytes after the ClientHello message", r.offset()));
        }
        Self::parse_body(body)
    }

    fn parse_body(mut r: Reader<'a>) -> Result<Self, Error> {
        let at = r.offset();
        let legacy_version = r.u16().what("truncated legacy_version")?;
        if legacy_version >> 8 != 3 {
            return Err(malformed("legacy_version is not 3.x", at));
        }
        if legacy_version < 0x0301 {
            return Err(Error::Unsupported {
                what: "SSL 3.0 ClientHello",
            });
        }
        let random = r.array::<32>().what("truncated random")?;
        let session_id = r.sub_u8().what("session_id length past end")?;
        if session_id.remaining() > 32 {
            return Err(malformed("session_id longer than 32 bytes", session_id.offset()));
        }
        let cipher_suites = r.sub_u16().what("cipher_suites length past end")?;
        let cipher_suites = ext::check_u16s(cipher_suites, "no cipher suites", "odd cipher_suites length")?;
        let compression = r.sub_u8().what("compression_methods length past end")?;
        if compression.is_empty() {
            return Err(malformed("no compression methods", compression.offset()));
        }
        let extensions = if r.is_empty() {
            None
        } else {
            let block = r.sub_u16().what("extensions length past end")?;
            r.finish().what("trailing bytes after extensions")?;
            check_extensions(block)?;
            Some(block.rest())
        };
        Ok(Self {
            legacy_version,
            random,
            session_id: session_id.rest(),
            cipher_suites,
            compression_methods: compression.rest(),
            extensions,
        })
    }

    /// `legacy_version`: `0x0303` for TLS 1.2 and 1.3 hellos, `0x0301` for TLS 1.0.
    pub const fn legacy_version(&self) -> u16 {
        self.legacy_version
    }

    /// The highest version offered: the highest non-GREASE `supported_versions` entry if the
    /// extension is present, else `legacy_version`.
    pub fn highest_version(&self) -> u16 {
        self.supported_versions()
            .and_then(|v| v.highest())
            .unwrap_or(self.legacy_version)
    }

    /// The client random.
    pub const fn random(&self) -> &'a [u8; 32] {
        self.random
    }

    /// `legacy_session_id`, 0 to 32 bytes.
    pub const fn session_id(&self) -> &'a [u8] {
        self.session_id
    }

    /// The cipher suites, in the client's order.
    pub fn cipher_suites(&self) -> U16Iter<'a> {
        U16Iter::new(self.cipher_suites)
    }

    /// The cipher suite list without its length prefix (an even number of bytes, at least 2).
    pub const fn cipher_suites_raw(&self) -> &'a [u8] {
        self.cipher_suites
    }

    /// The compression methods (at least one byte).
    pub const fn compression_methods(&self) -> &'a [u8] {
        self.compression_methods
    }

    /// The extension block without its length prefix; `None` if the hello has none (possible
    /// before TLS 1.3), `Some(&[])` for an empty block.
    pub const fn extensions_raw(&self) -> Option<&'a [u8]> {
        self.extensions
    }

    /// The extensions, in order.
    pub fn extensions(&self) -> Extensions<'a> {
        Extensions(Reader::new(self.extensions.unwrap_or_default()))
    }

    /// The body of the extension of type `typ`, if present.
    pub fn extension(&self, typ: u16) -> Option<&'a [u8]> {
        self.extensions().find(|e| e.typ == typ).map(|e| e.data)
    }

    /// The typed view of extension `typ`, if present. A parsed hello has validated the body
    /// with the same view, so `parse` cannot fail here.
    fn typed<T>(&self, typ: u16, parse: impl FnOnce(&'a [u8]) -> Result<T, Error>) -> Option<T> {
        self.extension(typ).and_then(|d| parse(d).ok())
    }

    /// The `server_name` extension.
    pub fn server_name(&self) -> Option<ServerNameList<'a>> {
        self.typed(ext_type::SERVER_NAME, ServerNameList::parse)
    }

    /// The `host_name` from the `server_name` extension, as sent (ASCII, not normalised).
    pub fn host_name(&self) -> Option<&'a str> {
        self.server_name().and_then(|s| s.host_name())
    }

    /// The `session_ticket` extension body: empty when the client asks for a ticket, the ticket
    /// when it offers one.
    pub fn session_ticket(&self) -> Option<&'a [u8]> {
        self.extension(ext_type::SESSION_TICKET)
    }

    /// The ALPN extension.
    pub fn alpn(&self) -> Option<AlpnList<'a>> {
        self.typed(ext_type::ALPN, AlpnList::parse)
    }

    /// The `supported_versions` extension.
    pub fn supported_versions(&self) -> Option<SupportedVersions<'a>> {
        self.typed(ext_type::SUPPORTED_VERSIONS, SupportedVersions::parse)
    }

    /// The `signature_algorithms` extension.
    pub fn signature_algorithms(&self) -> Option<U16List<'a>> {
        self.typed(ext_type::SIGNATURE_ALGORITHMS, U16List::parse)
    }

    /// The `supported_groups` extension.
    pub fn supported_groups(&self) -> Option<U16List<'a>> {
        self.typed(ext_type::SUPPORTED_GROUPS, U16List::parse)
    }

    /// The `key_share` extension.
    pub fn key_shares(&self) -> Option<KeyShareList<'a>> {
        self.typed(ext_type::KEY_SHARE, KeyShareList::parse)
    }

    /// The `pre_shared_key` extension (always the last one).
    pub fn pre_shared_key(&self) -> Option<PreSharedKey<'a>> {
        self.typed(ext_type::PRE_SHARED_KEY, PreSharedKey::parse)
    }

    /// Appends the hello as a handshake message; a parsed hello comes out byte for byte.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        write_hello(
            out,
            self.legacy_version,
            self.random,
            self.session_id,
            self.cipher_suites,
            self.compression_methods,
            self.extensions,
        )
    }

    /// Appends the hello as handshake records with the given record-layer version (clients
    /// send `0x0301`), split over several records if it is longer than 2^14 bytes.
    pub fn encode_record(&self, record_version: u16, out: &mut Vec<u8>) -> Result<(), Error> {
        let mut message = Vec::new();
        self.encode(&mut message)?;
        write_records(record_version, &message, out)
    }
}

/// Validates an extension block: structure, duplicates, `pre_shared_key` last, and the inner
/// structure of the extensions with a typed view.
fn check_extensions(mut r: Reader<'_>) -> Result<(), Error> {
    let all = r;
    let mut low = [0u64; 1];
    let mut high = [0u16; 32];
    let mut n_high = 0usize;
    let mut overflow = false;
    while !r.is_empty() {
        let at = r.offset();
        let typ = r.u16().what("truncated extension header")?;
        let data = r.sub_u16().what("extension length past end")?;
        if typ < 64 {
            if !first_sighting(&mut low, usize::from(typ)) {
                return Err(Error::DuplicateExtension { typ, offset: at });
            }
        } else if !overflow {
            let seen = high.get(..n_high).unwrap_or(&high);
            if seen.contains(&typ) {
                return Err(Error::DuplicateExtension { typ, offset: at });
            }
            match high.get_mut(n_high) {
                Some(slot) => {
                    *slot = typ;
                    n_high = n_high.saturating_add(1);
                }
                None => overflow = true,
            }
        }
        if typ == ext_type::PRE_SHARED_KEY && !r.is_empty() {
            return Err(malformed("pre_shared_key is not the last extension", at));
        }
        check_known(typ, data)?;
    }
    if overflow {
        check_duplicates_bitmap(all)?;
    }
    Ok(())
}

/// The exact duplicate check for hellos with more than 32 extensions of type 64 or more: one
/// bit per possible type, 8 KiB on the stack, only on this rare path.
#[inline(never)]
fn check_duplicates_bitmap(mut r: Reader<'_>) -> Result<(), Error> {
    let mut seen = [0u64; 1024];
    while !r.is_empty() {
        let at = r.offset();
        let typ = r.u16()?;
        r.sub_u16()?;
        if !first_sighting(&mut seen, usize::from(typ)) {
            return Err(Error::DuplicateExtension { typ, offset: at });
        }
    }
    Ok(())
}

fn check_known(typ: u16, data: Reader<'_>) -> Result<(), Error> {
    match typ {
        ext_type::SERVER_NAME => ServerNameList::read(data).map(drop),
        ext_type::ALPN => AlpnList::read(data).map(drop),
        ext_type::SUPPORTED_VERSIONS => SupportedVersions::read(data).map(drop),
        ext_type::SIGNATURE_ALGORITHMS => U16List::read_as(data, &ext::SIGNATURE_ALGORITHMS).map(drop),
        ext_type::SUPPORTED_GROUPS => U16List::read_as(data, &ext::SUPPORTED_GROUPS).map(drop),
        ext_type::KEY_SHARE => KeyShareList::read(data).map(drop),
        ext_type::PRE_SHARED_KEY => PreSharedKey::read(data).map(drop),
        _ => Ok(()),
    }
}

fn write_hello(
    out: &mut Vec<u8>,
    legacy_version: u16,
    random: &[u8; 32],
    session_id: &[u8],
    cipher_suites: &[u8],
    compression_methods: &[u8],
    extensions: Option<&[u8]>,
) -> Result<(), Error> {
    let mut w = Writer::new(out);
    w.u8(HANDSHAKE_CLIENT_HELLO);
    w.u24_prefixed("ClientHello", |w| {
        w.u16(legacy_version);
        w.bytes(random);
        w.u8_vec("session_id", session_id)?;
        w.u16_vec("cipher_suites", cipher_suites)?;
        w.u8_vec("compression_methods", compression_methods)?;
        match extensions {
            Some(block) => w.u16_vec("extensions", block),
            None => Ok(()),
        }
    })
}

fn write_records(record_version: u16, message: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
    let mut w = Writer::new(out);
    for fragment in message.chunks(MAX_RECORD_PAYLOAD) {
        w.u8(CONTENT_TYPE_HANDSHAKE);
        w.u16(record_version);
        w.u16_vec("record", fragment)?;
    }
    Ok(())
}

/// Builds ClientHellos, mainly for tests.
///
/// Starts as a TLS 1.2 hello (`legacy_version` 0x0303, zero random, empty session id, cipher
/// suites `TLS_AES_128_GCM_SHA256` and `TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`, null
/// compression, no extension block). Extensions are written in the order they are added and
/// are not checked for duplicates or semantics, so invalid hellos can be built on purpose. An
/// encoding error (a vector too long for its prefix) is kept and returned by `encode`.
#[derive(Debug, Clone)]
pub struct ClientHelloBuilder {
    legacy_version: u16,
    random: [u8; 32],
    session_id: Vec<u8>,
    cipher_suites: Vec<u8>,
    compression_methods: Vec<u8>,
    extensions: Option<Vec<u8>>,
    error: Option<Error>,
}

impl Default for ClientHelloBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl ClientHelloBuilder {
    /// A minimal TLS 1.2 hello without extensions.
    pub fn new() -> Self {
        Self {
            legacy_version: 0x0303,
            random: [0; 32],
            session_id: Vec::new(),
            cipher_suites: vec![0x13, 0x01, 0xc0, 0x2f],
            compression_methods: vec![0],
            extensions: None,
            error: None,
        }
    }

    fn fail(mut self, e: Error) -> Self {
        self.error.get_or_insert(e);
        self
    }

    /// Sets `legacy_version`.
    pub fn legacy_version(mut self, v: u16) -> Self {
        self.legacy_version = v;
        self
    }

    /// Sets the client random.
    pub fn random(mut self, random: [u8; 32]) -> Self {
        self.random = random;
        self
    }

    /// Sets `legacy_session_id`.
    pub fn session_id(mut self, id: &[u8]) -> Self {
        self.session_id = id.to_vec();
        self
    }

    /// Sets the cipher suites.
    pub fn cipher_suites(mut self, suites: &[u16]) -> Self {
        self.cipher_suites = suites.iter().flat_map(|s| s.to_be_bytes()).collect();
        self
    }

    /// Sets the compression methods.
    pub fn compression_methods(mut self, methods: &[u8]) -> Self {
        self.compression_methods = methods.to_vec();
        self
    }

    /// Writes an extension block even if no extension is added (an empty block).
    pub fn empty_extensions(mut self) -> Self {
        self.extensions.get_or_insert_with(Vec::new);
        self
    }

    /// Appends an extension with a raw body.
    pub fn extension(mut self, typ: u16, data: &[u8]) -> Self {
        let block = self.extensions.get_or_insert_with(Vec::new);
        let mut w = Writer::new(block);
        w.u16(typ);
        match w.u16_vec("extension", data) {
            Ok(()) => self,
            Err(e) => self.fail(e),
        }
    }

    fn typed(self, typ: u16, encode: impl FnOnce(&mut Vec<u8>) -> Result<(), Error>) -> Self {
        let mut body = Vec::new();
        match encode(&mut body) {
            Ok(()) => self.extension(typ, &body),
            Err(e) => self.fail(e),
        }
    }

    /// Appends a `server_name` extension with one `host_name`.
    pub fn server_name(self, host: &str) -> Self {
        self.typed(ext_type::SERVER_NAME, |b| {
            ServerNameList::encode_host_name(host.as_bytes(), b)
        })
    }

    /// Appends a `session_ticket` extension (empty to ask for a ticket).
    pub fn session_ticket(self, ticket: &[u8]) -> Self {
        self.extension(ext_type::SESSION_TICKET, ticket)
    }

    /// Appends an ALPN extension.
    pub fn alpn(self, protocols: &[&[u8]]) -> Self {
        self.typed(ext_type::ALPN, |b| AlpnList::encode(protocols, b))
    }

    /// Appends a `supported_versions` extension.
    pub fn supported_versions(self, versions: &[u16]) -> Self {
        self.typed(ext_type::SUPPORTED_VERSIONS, |b| SupportedVersions::encode(versions, b))
    }

    /// Appends a `signature_algorithms` extension.
    pub fn signature_algorithms(self, schemes: &[u16]) -> Self {
        self.typed(ext_type::SIGNATURE_ALGORITHMS, |b| U16List::encode(schemes, b))
    }

    /// Appends a `supported_groups` extension.
    pub fn supported_groups(self, groups: &[u16]) -> Self {
        self.typed(ext_type::SUPPORTED_GROUPS, |b| U16List::encode(groups, b))
    }

    /// Appends a `key_share` extension.
    pub fn key_shares(self, shares: &[KeyShareEntry<'_>]) -> Self {
        self.typed(ext_type::KEY_SHARE, |b| KeyShareList::encode(shares, b))
    }

    /// Appends a `pre_shared_key` extension (add it last to build a valid hello).
    pub fn pre_shared_key(self, identities: &[PskIdentity<'_>], binders: &[&[u8]]) -> Self {
        self.typed(ext_type::PRE_SHARED_KEY, |b| {
            PreSharedKey::encode(identities, binders, b)
        })
    }

    /// Appends the hello as a handshake message.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        if let Some(e) = self.error {
            return Err(e);
        }
        write_hello(
            out,
            self.legacy_version,
            &self.random,
            &self.session_id,
            &self.cipher_suites,
            &self.compression_methods,
            self.extensions.as_deref(),
        )
    }

    /// Appends the hello as handshake records, split at 2^14 bytes.
    pub fn encode_record(&self, record_version: u16, out: &mut Vec<u8>) -> Result<(), Error> {
        let mut message = Vec::new();
        self.encode(&mut message)?;
        write_records(record_version, &message, out)
    }

    /// The hello as a handshake message.
    pub fn to_handshake(&self) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        self.encode(&mut out)?;
        Ok(out)
    }

    /// The hello as records with record version `0x0301`, as clients send it.
    pub fn to_record(&self) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        self.encode_record(0x0301, &mut out)?;
        Ok(out)
    }
}
