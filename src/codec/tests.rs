//! ClientHello tests: real captured hellos, framing, every prefix, every extension type in a
//! hello, duplicates, and a deterministic mutation run.

use super::*;

/// Real first records, captured by `fixtures/capture.sh`.
const OPENSSL_TLS10: &[u8] = include_bytes!("fixtures/openssl_tls10.bin");
const OPENSSL_TLS12: &[u8] = include_bytes!("fixtures/openssl_tls12.bin");
const OPENSSL_TLS13: &[u8] = include_bytes!("fixtures/openssl_tls13.bin");
const OPENSSL_TLS12_TICKET: &[u8] = include_bytes!("fixtures/openssl_tls12_ticket.bin");
const OPENSSL_TLS13_PSK: &[u8] = include_bytes!("fixtures/openssl_tls13_psk.bin");
const CURL: &[u8] = include_bytes!("fixtures/curl.bin");
const GNUTLS: &[u8] = include_bytes!("fixtures/gnutls.bin");

const FIXTURES: [(&str, &[u8]); 7] = [
    ("openssl_tls10", OPENSSL_TLS10),
    ("openssl_tls12", OPENSSL_TLS12),
    ("openssl_tls13", OPENSSL_TLS13),
    ("openssl_tls12_ticket", OPENSSL_TLS12_TICKET),
    ("openssl_tls13_psk", OPENSSL_TLS13_PSK),
    ("curl", CURL),
    ("gnutls", GNUTLS),
];

fn what(r: Result<ClientHello<'_>, Error>) -> &'static str {
    match r {
        Err(Error::Malformed { what, .. }) => what,
        other => panic!("expected Malformed, got {other:?}"),
    }
}

fn unsupported(r: Result<ClientHello<'_>, Error>) -> &'static str {
    match r {
        Err(Error::Unsupported { what }) => what,
        other => panic!("expected Unsupported, got {other:?}"),
    }
}

/// The handshake message inside a single-record fixture.
fn handshake_of(record: &[u8]) -> &[u8] {
    record.get(5..).unwrap()
}

fn types(hello: &ClientHello<'_>) -> Vec<u16> {
    hello.extensions().map(|e| e.typ).collect()
}

fn alpn<'a>(hello: &ClientHello<'a>) -> Vec<&'a [u8]> {
    hello.alpn().unwrap().iter().collect()
}

/// Every strict prefix answers `NeedMore(n)` with `n` a true lower bound (exact once the
/// header giving the length is in), and the whole input parses.
fn parse_any(b: &[u8]) -> Result<(), Error> {
    ClientHello::parse(b).map(drop)
}

fn parse_rec(b: &[u8]) -> Result<(), Error> {
    ClientHello::parse_record(b).map(drop)
}

fn parse_hs(b: &[u8]) -> Result<(), Error> {
    ClientHello::parse_handshake(b).map(drop)
}

fn every_prefix_needs_more(full: &[u8], parse: fn(&[u8]) -> Result<(), Error>) {
    parse(full).unwrap();
    let header = if full.first() == Some(&CONTENT_TYPE_HANDSHAKE) {
        5
    } else {
        4
    };
    for n in 0..full.len() {
        let prefix = full.get(..n).unwrap();
        match parse(prefix) {
            Err(Error::NeedMore(more)) => {
                assert!(more >= 1 && n + more <= full.len(), "prefix {n}: NeedMore({more})");
                if n >= header {
                    assert_eq!(n + more, full.len(), "prefix {n}");
                }
            }
            other => panic!("prefix {n} of {}: {other:?}", full.len()),
        }
    }
}

#[test]
fn fixtures_round_trip_byte_for_byte() {
    for (name, record) in FIXTURES {
        let hello = ClientHello::parse(record).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(ClientHello::parse_record(record), Ok(hello));
        assert_eq!(ClientHello::parse_record_prefix(record), Ok((hello, record.len())));
        assert_eq!(ClientHello::parse_handshake(handshake_of(record)), Ok(hello));
        assert_eq!(ClientHello::parse(handshake_of(record)), Ok(hello));
        let mut out = vec![];
        hello.encode_record(0x0301, &mut out).unwrap();
        assert_eq!(out, record, "{name}");
        out.clear();
        hello.encode(&mut out).unwrap();
        assert_eq!(out, handshake_of(record), "{name}");
    }
}

#[test]
fn fixtures_every_prefix_needs_more() {
    for (_, record) in FIXTURES {
        every_prefix_needs_more(record, parse_rec);
        every_prefix_needs_more(record, parse_any);
        every_prefix_needs_more(handshake_of(record), parse_hs);
        every_prefix_needs_more(handshake_of(record), parse_any);
    }
}

#[test]
fn fixtures_trailing_byte_refused() {
    for (_, record) in FIXTURES {
        let mut long = record.to_vec();
        long.push(0x16);
        assert_eq!(what(ClientHello::parse(&long)), "trailing bytes after the record");
        assert_eq!(
            ClientHello::parse_record_prefix(&long).map(|(_, n)| n),
            Ok(record.len())
        );
        let mut long = handshake_of(record).to_vec();
        long.push(0);
        assert_eq!(
            what(ClientHello::parse(&long)),
            "trailing bytes after the ClientHello message"
        );
    }
}

#[test]
fn openssl_tls10() {
    let h = ClientHello::parse(OPENSSL_TLS10).unwrap();
    assert_eq!(h.legacy_version(), 0x0301);
    assert_eq!(h.highest_version(), 0x0301);
    assert_eq!(h.host_name(), Some("legacy.example.com"));
    assert!(h.alpn().is_none() && h.supported_versions().is_none());
    assert_eq!(h.session_ticket(), Some(&[][..]));
    assert!(h.cipher_suites().len() > 1);
    assert_eq!(h.compression_methods(), [0]);
}

#[test]
fn openssl_tls12() {
    let h = ClientHello::parse(OPENSSL_TLS12).unwrap();
    assert_eq!(h.legacy_version(), 0x0303);
    assert_eq!(h.highest_version(), 0x0303);
    assert_eq!(h.host_name(), Some("www.example.com"));
    assert_eq!(alpn(&h), [&b"h2"[..], b"http/1.1"]);
    assert_eq!(h.session_ticket(), Some(&[][..]));
    assert!(h.supported_versions().is_none() && h.pre_shared_key().is_none());
    assert!(h.signature_algorithms().unwrap().contains(0x0804));
    assert!(h.supported_groups().unwrap().contains(0x001d));
    assert!(h.key_shares().is_none());
}

#[test]
fn openssl_tls13() {
    let h = ClientHello::parse(OPENSSL_TLS13).unwrap();
    assert_eq!(h.legacy_version(), 0x0303);
    assert_eq!(h.highest_version(), 0x0304);
    assert_eq!(h.session_id().len(), 32);
    assert_eq!(h.host_name(), Some("www.example.com"));
    assert_eq!(alpn(&h), [&b"h2"[..], b"http/1.1"]);
    let versions: Vec<u16> = h.supported_versions().unwrap().iter().collect();
    assert_eq!(versions, [0x0304]);
    let shares: Vec<_> = h.key_shares().unwrap().iter().collect();
    assert_eq!(shares.len(), 1);
    assert_eq!(
        shares.first().map(|s| (s.group, s.key_exchange.len())),
        Some((0x001d, 32))
    );
    let suites: Vec<u16> = h.cipher_suites().collect();
    assert_eq!(suites, [0x1302, 0x1303, 0x1301, 0x00ff]);
    assert!(h.pre_shared_key().is_none());
}

#[test]
fn openssl_tls12_ticket() {
    let h = ClientHello::parse(OPENSSL_TLS12_TICKET).unwrap();
    assert_eq!(h.host_name(), Some("www.example.com"));
    let ticket = h.session_ticket().unwrap();
    assert!(ticket.len() > 32, "ticket of {} bytes", ticket.len());
    assert_eq!(h.session_id().len(), 32);
    assert!(h.pre_shared_key().is_none());
}

#[test]
fn openssl_tls13_psk() {
    let h = ClientHello::parse(OPENSSL_TLS13_PSK).unwrap();
    assert_eq!(h.host_name(), Some("www.example.com"));
    assert_eq!(alpn(&h), [&b"h2"[..]]);
    assert_eq!(h.highest_version(), 0x0304);
    let psk = h.pre_shared_key().unwrap();
    assert_eq!(psk.identity_count(), 1);
    assert!(psk.identities().all(|id| id.identity.len() > 32));
    assert!(psk.binders().all(|b| b.len() == 32 || b.len() == 48));
    assert_eq!(types(&h).last(), Some(&ext_type::PRE_SHARED_KEY));
}

#[test]
fn curl() {
    let h = ClientHello::parse(CURL).unwrap();
    assert_eq!(h.host_name(), Some("www.example.org"));
    let protocols = h.alpn().unwrap();
    assert!(protocols.contains(b"h2") && protocols.contains(b"http/1.1"));
    let versions = h.supported_versions().unwrap();
    assert!(versions.contains(0x0304) && versions.contains(0x0303));
    // padding is kept raw, in order
    assert_eq!(types(&h).last(), Some(&ext_type::PADDING));
    assert!(h.extension(ext_type::PADDING).is_some());
}

#[test]
fn gnutls() {
    let h = ClientHello::parse(GNUTLS).unwrap();
    assert_eq!(h.host_name(), Some("www.example.net"));
    assert_eq!(alpn(&h), [&b"h2"[..], b"http/1.1"]);
    assert!(h.supported_versions().unwrap().contains(0x0304));
    assert!(h.key_shares().unwrap().iter().count() >= 1);
    assert_eq!(h.extension(ext_type::RENEGOTIATION_INFO), Some(&[0][..]));
    assert_eq!(types(&h), [5, 10, 11, 13, 16, 22, 23, 35, 51, 43, 0xff01, 0, 45, 28]);
}

fn full_builder() -> ClientHelloBuilder {
    ClientHelloBuilder::new()
        .random([7; 32])
        .session_id(&[1; 32])
        .cipher_suites(&[0x1301, 0x1302, 0xc02f])
        .server_name("www.example.com")
        .alpn(&[b"h2", b"http/1.1"])
        .supported_versions(&[0x0a0a, 0x0304, 0x0303])
        .signature_algorithms(&[0x0403, 0x0804])
        .supported_groups(&[0x001d, 0x0017])
        .key_shares(&[KeyShareEntry {
            group: 0x001d,
            key_exchange: &[9; 32],
        }])
        .session_ticket(b"opaque ticket")
        .extension(0x4469, b"unknown")
        .pre_shared_key(
            &[PskIdentity {
                identity: b"resumption ticket",
                obfuscated_ticket_age: 12345,
            }],
            &[&[0xb1; 32]],
        )
}

#[test]
fn builder_round_trip() {
    let record = full_builder().to_record().unwrap();
    let h = ClientHello::parse(&record).unwrap();
    assert_eq!(h.random(), &[7; 32]);
    assert_eq!(h.session_id(), [1; 32]);
    assert_eq!(h.cipher_suites().collect::<Vec<_>>(), [0x1301, 0x1302, 0xc02f]);
    assert_eq!(h.cipher_suites_raw(), [0x13, 1, 0x13, 2, 0xc0, 0x2f]);
    assert_eq!(h.host_name(), Some("www.example.com"));
    assert_eq!(alpn(&h), [&b"h2"[..], b"http/1.1"]);
    assert_eq!(h.highest_version(), 0x0304);
    assert_eq!(
        h.signature_algorithms().unwrap().iter().collect::<Vec<_>>(),
        [0x0403, 0x0804]
    );
    assert_eq!(h.supported_groups().unwrap().iter().collect::<Vec<_>>(), [0x1d, 0x17]);
    assert_eq!(h.key_shares().unwrap().iter().count(), 1);
    assert_eq!(h.session_ticket(), Some(&b"opaque ticket"[..]));
    assert_eq!(h.extension(0x4469), Some(&b"unknown"[..]));
    let psk = h.pre_shared_key().unwrap();
    assert_eq!(
        psk.identities().collect::<Vec<_>>(),
        [PskIdentity {
            identity: b"resumption ticket",
            obfuscated_ticket_age: 12345
        }]
    );
    assert_eq!(types(&h), [0, 16, 43, 13, 10, 51, 35, 0x4469, 41]);
    let mut out = vec![];
    h.encode_record(0x0301, &mut out).unwrap();
    assert_eq!(out, record);
    every_prefix_needs_more(&record, parse_any);
    every_prefix_needs_more(handshake_of(&record), parse_any);
}

/// A handshake-form hello written by hand, so it can break rules the builder keeps: raw
/// `cipher_suites` bytes and, if given, an extension block (raw, without its length prefix).
fn hand_hello(cipher_suites: &[u8], block: Option<&[u8]>) -> Vec<u8> {
    let mut out = vec![];
    let mut w = Writer::new(&mut out);
    w.u8(1);
    w.u24_prefixed("hello", |w| {
        w.u16(0x0303);
        w.bytes(&[0; 32]);
        w.u8_vec("sid", &[])?;
        w.u16_vec("cs", cipher_suites)?;
        w.u8_vec("comp", &[0])?;
        block.map_or(Ok(()), |b| w.u16_vec("ext", b))
    })
    .unwrap();
    out
}

/// A hello whose extension block is exactly `block` (raw, without its length prefix).
fn hello_with_block(block: &[u8]) -> Vec<u8> {
    hand_hello(&[0x13, 0x01], Some(block))
}

fn ext(typ: u16, claimed_len: usize, data: &[u8]) -> Vec<u8> {
    let mut v = typ.to_be_bytes().to_vec();
    v.extend_from_slice(&u16::try_from(claimed_len).unwrap().to_be_bytes());
    v.extend_from_slice(data);
    v
}

/// For one extension type with a valid body: it parses in a hello (and every prefix of that
/// hello needs more); a trailing byte in its body, a body cut short by one byte (for structured
/// types) and an extension length running past the block are refused.
fn check_extension_in_hello(typ: u16, body: &[u8], structured: bool) {
    let hs = hello_with_block(&ext(typ, body.len(), body));
    let h = ClientHello::parse(&hs).unwrap();
    assert_eq!(h.extension(typ), Some(body));
    every_prefix_needs_more(&hs, parse_any);

    let mut long = body.to_vec();
    long.push(0);
    let hs = hello_with_block(&ext(typ, long.len(), &long));
    assert_eq!(structured, ClientHello::parse(&hs).is_err(), "trailing byte in {typ}");
    if structured {
        assert!(what(ClientHello::parse(&hs)).contains("trailing"), "{typ}");
    }

    if let Some(short) = body.split_last().map(|(_, s)| s) {
        let hs = hello_with_block(&ext(typ, short.len(), short));
        assert_eq!(structured, ClientHello::parse(&hs).is_err(), "truncated {typ}");
    }

    // The extension claims one byte more than the block holds.
    let hs = hello_with_block(&ext(typ, body.len() + 1, body));
    assert_eq!(what(ClientHello::parse(&hs)), "extension length past end");
    // A lone byte after the last extension.
    let mut block = ext(typ, body.len(), body);
    block.push(0);
    let expected = if typ == ext_type::PRE_SHARED_KEY {
        "pre_shared_key is not the last extension"
    } else {
        "truncated extension header"
    };
    assert_eq!(what(ClientHello::parse(&hello_with_block(&block))), expected);
}

fn body(encode: impl FnOnce(&mut Vec<u8>) -> Result<(), Error>) -> Vec<u8> {
    let mut out = vec![];
    encode(&mut out).unwrap();
    out
}

#[test]
fn every_extension_type_in_a_hello() {
    let sni = body(|b| ServerNameList::encode_host_name(b"a.example", b));
    check_extension_in_hello(ext_type::SERVER_NAME, &sni, true);
    let alpn = body(|b| AlpnList::encode(&[b"h2", b"x"], b));
    check_extension_in_hello(ext_type::ALPN, &alpn, true);
    let versions = body(|b| SupportedVersions::encode(&[0x0304, 0x0303], b));
    check_extension_in_hello(ext_type::SUPPORTED_VERSIONS, &versions, true);
    let list = body(|b| U16List::encode(&[0x0403, 0x0804], b));
    check_extension_in_hello(ext_type::SIGNATURE_ALGORITHMS, &list, true);
    check_extension_in_hello(ext_type::SUPPORTED_GROUPS, &list, true);
    let shares = body(|b| {
        KeyShareList::encode(
            &[KeyShareEntry {
                group: 29,
                key_exchange: &[1; 32],
            }],
            b,
        )
    });
    check_extension_in_hello(ext_type::KEY_SHARE, &shares, true);
    let psk = body(|b| {
        PreSharedKey::encode(
            &[PskIdentity {
                identity: &[5; 40],
                obfuscated_ticket_age: 1,
            }],
            &[&[6; 32]],
            b,
        )
    });
    check_extension_in_hello(ext_type::PRE_SHARED_KEY, &psk, true);
    // Opaque bodies: any length is valid, so only the framing can be wrong.
    check_extension_in_hello(ext_type::SESSION_TICKET, b"ticket bytes", false);
    check_extension_in_hello(ext_type::SESSION_TICKET, b"", false);
    check_extension_in_hello(0x1234, b"whatever", false);
}

#[test]
fn semantic_errors_inside_a_hello_are_reported_with_offsets() {
    let empty_name = body(|b| ServerNameList::encode_host_name(b"", b));
    let hs = hello_with_block(&ext(0, empty_name.len(), &empty_name));
    // handshake header 4 + version 2 + random 32 + sid 1 + cs 4 + comp 2 + block len 2
    // + extension header 4 + list length 2 = 53: where the entry starts.
    assert_eq!(
        ClientHello::parse(&hs),
        Err(Error::Malformed {
            what: "server_name: empty name",
            offset: 53
        })
    );
}

#[test]
fn duplicate_extensions_refused() {
    for typ in [23u16, 35, 63, 64, 0xff01, 0x0a0a] {
        let mut block = ext(typ, 0, &[]);
        block.extend(ext(typ, 0, &[]));
        let hs = hello_with_block(&block);
        assert_eq!(
            ClientHello::parse(&hs),
            Err(Error::DuplicateExtension { typ, offset: 51 }),
            "{typ}"
        );
    }
    // Many distinct high types: past the 32 fast slots, the bitmap pass takes over.
    let mut block = vec![];
    for typ in 1000u16..1100 {
        block.extend(ext(typ, 1, &[0]));
    }
    assert_eq!(
        ClientHello::parse(&hello_with_block(&block))
            .unwrap()
            .extensions()
            .count(),
        100
    );
    for dup in [1000u16, 1031, 1032, 1099] {
        let mut with_dup = block.clone();
        with_dup.extend(ext(dup, 0, &[]));
        assert!(matches!(
            ClientHello::parse(&hello_with_block(&with_dup)),
            Err(Error::DuplicateExtension { typ, .. }) if typ == dup
        ));
    }
    // The builder does not check, so duplicates can be built.
    let hs = ClientHelloBuilder::new()
        .server_name("a.example")
        .server_name("b.example")
        .to_handshake()
        .unwrap();
    assert!(matches!(
        ClientHello::parse(&hs),
        Err(Error::DuplicateExtension { typ: 0, .. })
    ));
}

#[test]
fn first_sighting_marks_once_and_ignores_values_past_the_bitmap() {
    let mut words = [0u64; 2];
    for v in [0, 63, 64, 127] {
        assert!(first_sighting(&mut words, v), "{v}");
        assert!(!first_sighting(&mut words, v), "{v}");
    }
    assert_eq!(words, [1 | 1 << 63, 1 | 1 << 63]);
    assert!(first_sighting(&mut words, 128) && first_sighting(&mut words, 128));
}

#[test]
fn pre_shared_key_must_be_last() {
    let ids = [PskIdentity {
        identity: b"t",
        obfuscated_ticket_age: 0,
    }];
    let hs = ClientHelloBuilder::new()
        .pre_shared_key(&ids, &[&[0; 32]])
        .server_name("a.example")
        .to_handshake()
        .unwrap();
    assert_eq!(
        what(ClientHello::parse(&hs)),
        "pre_shared_key is not the last extension"
    );
    let hs = ClientHelloBuilder::new()
        .server_name("a.example")
        .pre_shared_key(&ids, &[&[0; 32]])
        .to_handshake()
        .unwrap();
    assert_eq!(
        ClientHello::parse(&hs)
            .unwrap()
            .pre_shared_key()
            .unwrap()
            .identity_count(),
        1
    );
}

#[test]
fn hello_body_rules() {
    let b = ClientHelloBuilder::new;
    assert_eq!(
        what(ClientHello::parse(&b().legacy_version(0x0202).to_handshake().unwrap())),
        "legacy_version is not 3.x"
    );
    assert_eq!(
        unsupported(ClientHello::parse(&b().legacy_version(0x0300).to_handshake().unwrap())),
        "SSL 3.0 ClientHello"
    );
    assert_eq!(
        what(ClientHello::parse(&b().session_id(&[0; 33]).to_handshake().unwrap())),
        "session_id longer than 32 bytes"
    );
    assert_eq!(
        what(ClientHello::parse(&b().cipher_suites(&[]).to_handshake().unwrap())),
        "no cipher suites"
    );
    assert_eq!(
        what(ClientHello::parse(
            &b().compression_methods(&[]).to_handshake().unwrap()
        )),
        "no compression methods"
    );

    // Odd cipher suite length, built by hand.
    let hs = hand_hello(&[0x13, 0x01, 0x13], None);
    assert_eq!(
        ClientHello::parse(&hs),
        Err(Error::Malformed {
            what: "odd cipher_suites length",
            offset: 4 + 2 + 32 + 1 + 2
        })
    );

    // A byte after the extension block, and a lone byte where the block would be.
    let mut hs = ClientHelloBuilder::new()
        .server_name("x.example")
        .to_handshake()
        .unwrap();
    hs.push(0);
    if let Some(len) = hs.get_mut(3) {
        *len += 1;
    }
    assert_eq!(what(ClientHello::parse(&hs)), "trailing bytes after extensions");
    let mut hs = ClientHelloBuilder::new().to_handshake().unwrap();
    hs.push(0);
    if let Some(len) = hs.get_mut(3) {
        *len += 1;
    }
    assert_eq!(what(ClientHello::parse(&hs)), "extensions length past end");
    // Body ends in the middle of the random.
    let hs = [1, 0, 0, 3, 3, 3, 0];
    assert_eq!(what(ClientHello::parse(&hs)), "truncated random");
}

#[test]
fn tls10_without_extensions_and_empty_block() {
    let hs = ClientHelloBuilder::new().legacy_version(0x0301).to_record().unwrap();
    let h = ClientHello::parse(&hs).unwrap();
    assert_eq!(h.extensions_raw(), None);
    assert_eq!(h.extensions().count(), 0);
    assert_eq!(h.host_name(), None);
    assert_eq!(h.highest_version(), 0x0301);
    let mut out = vec![];
    h.encode_record(0x0301, &mut out).unwrap();
    assert_eq!(out, hs);
    every_prefix_needs_more(&hs, parse_any);

    let hs = ClientHelloBuilder::new().empty_extensions().to_record().unwrap();
    let h = ClientHello::parse(&hs).unwrap();
    assert_eq!(h.extensions_raw(), Some(&[][..]));
    let mut out = vec![];
    h.encode_record(0x0301, &mut out).unwrap();
    assert_eq!(out, hs);
}

#[test]
fn framing_errors() {
    assert_eq!(ClientHello::parse(&[]), Err(Error::NeedMore(4)));
    assert_eq!(ClientHello::parse_record(&[]), Err(Error::NeedMore(5)));
    assert_eq!(ClientHello::parse_handshake(&[]), Err(Error::NeedMore(4)));
    assert_eq!(
        unsupported(ClientHello::parse(&[0x80, 0x2e, 1])),
        "SSLv2-compatible ClientHello"
    );
    assert_eq!(what(ClientHello::parse(&[0x17])), "not a handshake record");
    assert_eq!(what(ClientHello::parse(&[0x16, 2])), "record version is not 3.x");
    assert_eq!(what(ClientHello::parse(&[0x16, 3, 1, 0, 0])), "empty handshake record");
    assert_eq!(
        what(ClientHello::parse(&[0x16, 3, 1, 0x40, 1])),
        "record longer than 2^14 bytes"
    );
    assert_eq!(ClientHello::parse(&[0x16, 3, 1, 0x40, 0]), Err(Error::NeedMore(16384)));
    assert_eq!(
        unsupported(ClientHello::parse(&[0x16, 3, 1, 0, 3, 1, 0, 0])),
        "ClientHello fragmented over several records"
    );
    // A server hello or other handshake message in the record is refused at its first byte.
    assert_eq!(
        what(ClientHello::parse(&[0x16, 3, 1, 0, 100, 2])),
        "handshake message is not a ClientHello"
    );
    assert_eq!(
        what(ClientHello::parse_handshake(&[2])),
        "handshake message is not a ClientHello"
    );
    // The handshake length must match the record length.
    assert_eq!(
        what(ClientHello::parse(&[0x16, 3, 1, 0, 100, 1, 0, 0, 50])),
        "record holds more than the ClientHello"
    );
    assert_eq!(
        unsupported(ClientHello::parse(&[0x16, 3, 1, 0, 100, 1, 0, 0, 97])),
        "ClientHello fragmented over several records"
    );
    assert_eq!(
        ClientHello::parse(&[0x16, 3, 1, 0, 100, 1, 0, 0, 96]),
        Err(Error::NeedMore(96))
    );
    // A handshake length no ClientHello can have.
    assert_eq!(
        what(ClientHello::parse_handshake(&[1, 0x03, 0, 0])),
        "ClientHello length beyond any valid ClientHello"
    );
    assert_eq!(ClientHello::parse_handshake(&[1, 0, 1, 0]), Err(Error::NeedMore(256)));
}

#[test]
fn large_hello_spans_records_and_is_unsupported_there() {
    let builder = ClientHelloBuilder::new()
        .extension(ext_type::PADDING, &[0; 20_000])
        .server_name("big.example");
    let hs = builder.to_handshake().unwrap();
    assert_eq!(ClientHello::parse(&hs).unwrap().host_name(), Some("big.example"));
    every_prefix_needs_more(&hs, parse_any);
    let records = builder.to_record().unwrap();
    assert_eq!(records.len(), hs.len() + 10);
    assert_eq!(
        unsupported(ClientHello::parse(&records)),
        "ClientHello fragmented over several records"
    );
    // Known as soon as the handshake header is in.
    assert_eq!(
        unsupported(ClientHello::parse(records.get(..9).unwrap())),
        "ClientHello fragmented over several records"
    );
    assert_eq!(
        ClientHello::parse(records.get(..8).unwrap()),
        Err(Error::NeedMore(16381))
    );
}

#[test]
fn builder_errors_are_deferred() {
    let b = ClientHelloBuilder::default()
        .extension(99, &[0; 70_000])
        .server_name("ok");
    assert!(matches!(
        b.to_handshake(),
        Err(Error::TooLong { what: "extension", .. })
    ));
    let b = ClientHelloBuilder::new().alpn(&[&[0; 300]]);
    assert!(matches!(
        b.to_record(),
        Err(Error::TooLong {
            what: "alpn protocol name",
            ..
        })
    ));
}

#[test]
fn error_messages() {
    assert_eq!(Error::NeedMore(3).to_string(), "need at least 3 more bytes");
    assert_eq!(
        Error::Malformed {
            what: "server_name: empty list",
            offset: 9
        }
        .to_string(),
        "malformed ClientHello: server_name: empty list (at byte 9)"
    );
    assert_eq!(
        Error::DuplicateExtension { typ: 0, offset: 1 }.to_string(),
        "malformed ClientHello: duplicate extension type 0 (at byte 1)"
    );
}

/// Deterministic mutations of every fixture: the parser and every accessor must not panic,
/// and any hello accepted must re-encode to the same bytes.
#[test]
fn mutations_never_panic() {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for (_, record) in FIXTURES {
        for _ in 0..3000 {
            let mut m = record.to_vec();
            for _ in 0..1 + next() % 4 {
                let at = usize::try_from(next()).unwrap() % m.len().max(1);
                match next() % 4 {
                    0 => {
                        if let Some(b) = m.get_mut(at) {
                            *b ^= 1 << (next() % 8);
                        }
                    }
                    1 => {
                        if let Some(b) = m.get_mut(at) {
                            *b = (next() % 256) as u8;
                        }
                    }
                    2 => m.truncate(at),
                    _ => m.insert(at, (next() % 256) as u8),
                }
            }
            for input in [m.as_slice(), m.get(5..).unwrap_or_default()] {
                if let Ok(h) = ClientHello::parse(input) {
                    exercise(&h);
                    let mut out = vec![];
                    if input.first() == Some(&1) {
                        h.encode(&mut out).unwrap();
                    } else {
                        h.encode_record(u16::from_be_bytes([3, input.get(2).copied().unwrap()]), &mut out)
                            .unwrap();
                    }
                    assert_eq!(out, input);
                }
            }
        }
    }
}

fn exercise(h: &ClientHello<'_>) {
    let _ = (h.highest_version(), h.host_name(), h.session_ticket());
    let _ = h.extensions().count() + h.cipher_suites().count();
    let _ = h.alpn().map(|a| a.iter().count());
    let _ = h.signature_algorithms().map(|a| a.iter().count());
    let _ = h.supported_groups().map(|a| a.iter().count());
    let _ = h.key_shares().map(|a| a.iter().count());
    let _ = h.server_name().map(|a| a.iter().count());
    let _ = h.pre_shared_key().map(|p| p.identities().count() + p.binders().count());
}
