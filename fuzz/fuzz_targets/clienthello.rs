//! `ClientHello::parse` on arbitrary bytes (record or handshake form): never panics, and a hello
//! it accepts
//! - re-encodes byte for byte (handshake form with `encode`, record form with `encode_record`),
//!   and the re-encoding parses to the same hello;
//! - answers `NeedMore` for a proper prefix of itself (the peeking contract);
//! - has typed extension views that walk to the end without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tlsext_shim::codec::{ClientHello, Error, HANDSHAKE_CLIENT_HELLO};

fn walk(hello: &ClientHello<'_>) {
    let _ = hello.highest_version();
    let _ = hello.cipher_suites().count();
    for e in hello.extensions() {
        std::hint::black_box(e.typ);
    }
    if let Some(sni) = hello.server_name() {
        let _ = sni.iter().count();
    }
    let _ = hello.host_name();
    let _ = hello.session_ticket();
    if let Some(alpn) = hello.alpn() {
        let _ = alpn.iter().count();
    }
    if let Some(v) = hello.supported_versions() {
        let _ = v.iter().count();
        let _ = v.highest();
    }
    if let Some(l) = hello.signature_algorithms() {
        let _ = l.iter().count();
    }
    if let Some(l) = hello.supported_groups() {
        let _ = l.iter().count();
    }
    if let Some(l) = hello.key_shares() {
        let _ = l.iter().count();
    }
    if let Some(psk) = hello.pre_shared_key() {
        assert_eq!(psk.identities().count(), psk.binders().count());
    }
}

fuzz_target!(|data: &[u8]| {
    // The peeking entry point: whatever follows the first record is left alone.
    if let Ok((hello, used)) = ClientHello::parse_record_prefix(data) {
        assert!(used <= data.len());
        assert_eq!(ClientHello::parse_record(&data[..used]), Ok(hello));
    }
    let Ok(hello) = ClientHello::parse(data) else { return };
    walk(&hello);

    let mut out = Vec::new();
    if data[0] == HANDSHAKE_CLIENT_HELLO {
        hello.encode(&mut out).expect("a parsed hello encodes");
    } else {
        let record_version = u16::from_be_bytes([data[1], data[2]]);
        hello
            .encode_record(record_version, &mut out)
            .expect("a parsed hello encodes");
    }
    assert_eq!(out.as_slice(), data, "re-encoding differs from the input");
    assert_eq!(ClientHello::parse(&out), Ok(hello));

    // A proper prefix is a valid prefix cut short: NeedMore, never Malformed.
    for cut in [data.len() - 1, data.len() / 2, data.len() / 3] {
        match ClientHello::parse(&data[..cut]) {
            Err(Error::NeedMore(n)) => assert!(n >= 1),
            other => panic!("prefix of {cut}/{} bytes: {other:?}", data.len()),
        }
    }
});
