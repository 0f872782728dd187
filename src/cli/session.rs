//! A minimal reader of OpenSSL's DER `SSL_SESSION` (`ssl/ssl_asn1.c`), for the client's saved
//! session (`openssl s_client -sess_out`, which holds the ticket) and for the server's session
//! inside an opened ticket. Only what `ticket inspect` shows is kept; the master key is
//! skipped and never copied.
//!
//! ```text
//! SSL_SESSION_ASN1 ::= SEQUENCE {
//!     version INTEGER (1), ssl_version INTEGER, cipher OCTET STRING (2 bytes),
//!     session_id OCTET STRING, master_key OCTET STRING,
//!     time [1] INTEGER, timeout [2] INTEGER, peer [3] Certificate,
//!     session_id_context [4], verify_result [5], tlsext_hostname [6] OCTET STRING,
//!     psk_identity_hint [7], psk_identity [8], tlsext_tick_lifetime_hint [9] INTEGER,
//!     tlsext_tick [10] OCTET STRING, comp_id [11], srp_username [12], flags [13],
//!     tlsext_tick_age_add [14], max_early_data [15] INTEGER, alpn_selected [16] OCTET STRING,
//!     ... }                                  -- every [n] is EXPLICIT and OPTIONAL
//! ```

use base64::Engine as _;

use crate::codec::{self, Reader};

/// What a session says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Session {
    /// Protocol version (`0x0304` for TLS 1.3).
    pub version: u16,
    /// Cipher suite id.
    pub cipher: u16,
    /// When the session was made, Unix time.
    pub time: Option<i64>,
    /// Its lifetime, seconds.
    pub timeout: Option<i64>,
    /// The SNI host name.
    pub host_name: Option<String>,
    /// The ticket lifetime hint the server sent, seconds.
    pub ticket_lifetime_hint: Option<i64>,
    /// The ticket (client sessions).
    pub ticket: Option<Vec<u8>>,
    /// Early data allowed, bytes.
    pub max_early_data: Option<i64>,
    /// The ALPN protocol chosen.
    pub alpn: Option<Vec<u8>>,
}

/// Why bytes are not a session.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not an SSL_SESSION: {what} at byte {offset}")]
pub struct DerError {
    /// What is wrong.
    pub what: &'static str,
    /// Where.
    pub offset: usize,
}

fn err(what: &'static str, offset: usize) -> DerError {
    DerError { what, offset }
}

impl From<codec::Error> for DerError {
    fn from(e: codec::Error) -> Self {
        match e {
            codec::Error::Malformed { what, offset } => err(what, offset),
            _ => err("truncated", 0),
        }
    }
}

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const OCTET_STRING: u8 = 0x04;
/// Context-specific, constructed: `[n]` EXPLICIT is `0xA0 | n`.
const EXPLICIT: u8 = 0xA0;

/// One DER element: its tag and a reader over its contents.
fn element<'a>(r: &mut Reader<'a>) -> Result<(u8, Reader<'a>), DerError> {
    let at = r.offset();
    let tag = r.u8()?;
    if tag & 0x1F == 0x1F {
        return Err(err("multi-byte tag", at));
    }
    let first = r.u8()?;
    let len = match first {
        0..=0x7F => usize::from(first),
        0x81..=0x84 => {
            let mut len = 0usize;
            for &b in r.take(usize::from(first & 0x7F))? {
                len = (len << 8) | usize::from(b);
            }
            len
        }
        _ => return Err(err("indefinite or oversized length", at + 1)),
    };
    Ok((tag, r.sub(len)?))
}

fn expect<'a>(r: &mut Reader<'a>, want: u8, what: &'static str) -> Result<Reader<'a>, DerError> {
    let at = r.offset();
    let (tag, body) = element(r)?;
    if tag != want {
        return Err(err(what, at));
    }
    Ok(body)
}

fn integer(body: Reader<'_>) -> Result<i64, DerError> {
    let bytes = body.rest();
    if bytes.is_empty() || bytes.len() > 9 {
        return Err(err("integer of unsupported length", body.offset()));
    }
    let negative = bytes.first().is_some_and(|b| b & 0x80 != 0);
    let mut v: i128 = if negative { -1 } else { 0 };
    for &b in bytes {
        v = (v << 8) | i128::from(b);
    }
    i64::try_from(v).map_err(|_| err("integer out of range", body.offset()))
}

/// Parses a DER `SSL_SESSION`.
pub fn parse(der: &[u8]) -> Result<Session, DerError> {
    let mut top = Reader::new(der);
    let mut r = expect(&mut top, SEQUENCE, "expected a SEQUENCE")?;
    top.finish()?;
    let at = r.offset();
    if integer(expect(&mut r, INTEGER, "expected the format version")?)? != 1 {
        return Err(err("unknown format version", at));
    }
    let at = r.offset();
    let version = u16::try_from(integer(expect(&mut r, INTEGER, "expected the protocol version")?)?)
        .map_err(|_| err("protocol version out of range", at))?;
    let cipher = expect(&mut r, OCTET_STRING, "expected the cipher")?;
    let cipher = match cipher.rest() {
        [a, b] | [_, a, b] => u16::from_be_bytes([*a, *b]),
        _ => return Err(err("cipher is not 2 bytes", cipher.offset())),
    };
    expect(&mut r, OCTET_STRING, "expected the session id")?;
    expect(&mut r, OCTET_STRING, "expected the master key")?;
    let mut s = Session {
        version,
        cipher,
        ..Session::default()
    };
    while !r.is_empty() {
        let at = r.offset();
        let (tag, mut outer) = element(&mut r)?;
        if tag & 0xE0 != EXPLICIT {
            return Err(err("expected an [n] field", at));
        }
        let inner_at = outer.offset();
        let (inner_tag, inner) = element(&mut outer)?;
        outer.finish()?;
        let int = |want_tag: u8| {
            if want_tag != INTEGER {
                return Err(err("expected an INTEGER", inner_at));
            }
            integer(inner)
        };
        let octets = |want_tag: u8| {
            if want_tag != OCTET_STRING {
                return Err(err("expected an OCTET STRING", inner_at));
            }
            Ok(inner.rest().to_vec())
        };
        match tag & 0x1F {
            1 => s.time = Some(int(inner_tag)?),
            2 => s.timeout = Some(int(inner_tag)?),
            6 => s.host_name = Some(String::from_utf8_lossy(&octets(inner_tag)?).into_owned()),
            9 => s.ticket_lifetime_hint = Some(int(inner_tag)?),
            10 => s.ticket = Some(octets(inner_tag)?),
            15 => s.max_early_data = Some(int(inner_tag)?),
            16 => s.alpn = Some(octets(inner_tag)?),
            _ => {}
        }
    }
    Ok(s)
}

/// The PEM label `openssl s_client -sess_out` and `openssl sess_id` write.
pub const PEM_LABEL: &str = "SSL SESSION PARAMETERS";

/// The DER inside a PEM `SSL SESSION PARAMETERS` block, or the bytes themselves when they
/// already look like DER (a SEQUENCE). `None` when they are neither.
pub fn der_from_file(data: &[u8]) -> Option<Vec<u8>> {
    if data.first() == Some(&SEQUENCE) {
        return Some(data.to_vec());
    }
    let text = std::str::from_utf8(data).ok()?;
    let begin = format!("-----BEGIN {PEM_LABEL}-----");
    let end = format!("-----END {PEM_LABEL}-----");
    let body = text.split_once(&begin)?.1.split_once(&end)?.0;
    let b64: String = body.split_whitespace().collect();
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A DER element with a short-form or two-byte length.
    fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        if body.len() < 0x80 {
            out.push(body.len() as u8);
        } else {
            out.push(0x82);
            out.extend_from_slice(&(body.len() as u16).to_be_bytes());
        }
        out.extend_from_slice(body);
        out
    }

    fn explicit(n: u8, inner: Vec<u8>) -> Vec<u8> {
        tlv(0xA0 | n, &inner)
    }

    fn session(extra: &[Vec<u8>]) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend(tlv(0x02, &[1]));
        body.extend(tlv(0x02, &[3, 4]));
        body.extend(tlv(0x04, &[0x13, 0x02]));
        body.extend(tlv(0x04, &[7; 32]));
        body.extend(tlv(0x04, &[9; 48]));
        for e in extra {
            body.extend_from_slice(e);
        }
        tlv(0x30, &body)
    }

    #[test]
    fn reads_the_fields_it_needs() {
        let der = session(&[
            explicit(1, tlv(0x02, &[0x00, 0xEB, 0x13, 0x26, 0x75])),
            explicit(2, tlv(0x02, &[0x1C, 0x20])),
            explicit(3, tlv(0x30, &[0x05, 0x00])),
            explicit(6, tlv(0x04, b"example.com")),
            explicit(9, tlv(0x02, &[0x1C, 0x20])),
            explicit(10, tlv(0x04, &[0xAB; 200])),
            explicit(15, tlv(0x02, &[0])),
            explicit(16, tlv(0x04, b"h2")),
            explicit(19, tlv(0x02, &[0x1D])),
        ]);
        let s = parse(&der).unwrap();
        assert_eq!(s.version, 0x0304);
        assert_eq!(s.cipher, 0x1302);
        assert_eq!(s.time, Some(0xEB13_2675));
        assert_eq!(s.timeout, Some(7200));
        assert_eq!(s.host_name.as_deref(), Some("example.com"));
        assert_eq!(s.ticket_lifetime_hint, Some(7200));
        assert_eq!(s.ticket, Some(vec![0xAB; 200]));
        assert_eq!(s.max_early_data, Some(0));
        assert_eq!(s.alpn.as_deref(), Some(&b"h2"[..]));
        let minimal = parse(&session(&[])).unwrap();
        assert_eq!((minimal.time, minimal.ticket), (None, None));
    }

    #[test]
    fn refuses_what_is_not_a_session() {
        let good = session(&[explicit(1, tlv(0x02, &[5]))]);
        for len in 0..good.len() {
            assert!(parse(&good[..len]).is_err(), "prefix {len}");
        }
        let mut trailing = good.clone();
        trailing.push(0);
        assert!(parse(&trailing).is_err());
        assert!(parse(&session(&[tlv(0x02, &[1])])).is_err(), "untagged field");
        assert!(parse(&session(&[explicit(1, tlv(0x04, &[1]))])).is_err(), "wrong type");
        assert!(
            parse(&session(&[explicit(1, tlv(0x02, &[0; 10]))])).is_err(),
            "too long"
        );
        assert!(parse(&[0x30, 0x80, 0, 0]).is_err(), "indefinite length");
        assert_eq!(integer(Reader::new(&[0xFF])).unwrap(), -1);
        assert_eq!(integer(Reader::new(&[0x00, 0xFF])).unwrap(), 255);
    }

    #[test]
    fn pem_and_der_files() {
        let der = session(&[]);
        let b64 = base64::engine::general_purpose::STANDARD.encode(&der);
        let pem = format!(
            "-----BEGIN {PEM_LABEL}-----\n{}\n{}\n-----END {PEM_LABEL}-----\n",
            &b64[..40],
            &b64[40..]
        );
        assert_eq!(der_from_file(pem.as_bytes()), Some(der.clone()));
        assert_eq!(der_from_file(&der), Some(der));
        assert_eq!(
            der_from_file(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
            None
        );
        assert_eq!(der_from_file(b"\xff\xfe"), None);
    }
}
