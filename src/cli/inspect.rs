//! `ticket inspect`: opens a ticket with the given keys and shows the session inside.

use std::io::Write;
use std::path::Path;

use base64::Engine as _;

use super::keys::{Source, load_source, seed_key};
use super::time::{human, iso};
use super::{CliError, Exit, Outcome, SourceFormat, ciphers, session};
use crate::sni::Pattern;
use crate::ticket::key::NAME_LEN;
use crate::ticket::ring::now;
use crate::ticket::{KeyName, KeyPolicy, RingKey, Snapshot, TicketError, open};

/// The ticket bytes of a hex or base64 argument (whitespace ignored).
fn decode_ticket(arg: &str) -> Result<Vec<u8>, CliError> {
    let t: String = arg.chars().filter(|c| !c.is_whitespace()).collect();
    if !t.is_empty() && t.len() % 2 == 0 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
        let mut out = Vec::with_capacity(t.len() / 2);
        for i in (0..t.len()).step_by(2) {
            let byte = t.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok());
            out.push(byte.ok_or_else(|| CliError::usage("TICKET is not valid hex"))?);
        }
        return Ok(out);
    }
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(&t).ok())
        .ok_or_else(|| CliError::usage("TICKET is neither hex nor base64"))
}

/// Whether a session that times out at `at` (its time plus its timeout) is refused at `now`:
/// OpenSSL resumes it until `now - time > timeout`, so through the second `at` itself.
fn has_expired(at: u64, now: u64) -> bool {
    at < now
}

/// The ticket in a saved client session, and the session itself.
fn ticket_from_session(path: &Path) -> Result<(Vec<u8>, session::Session), CliError> {
    let shown = path.display();
    let data = std::fs::read(path).map_err(|e| CliError::cannot_read(path, e))?;
    let der = session::der_from_file(&data).ok_or_else(|| {
        CliError::problem(format!(
            "{shown}: not a session file: expected the PEM block \"{}\" that `openssl s_client -sess_out` writes, or \
             its DER",
            session::PEM_LABEL
        ))
    })?;
    let s = session::parse(&der).map_err(|e| CliError::problem(format!("{shown}: {e}")))?;
    match &s.ticket {
        Some(t) if !t.is_empty() => Ok((t.clone(), s)),
        _ => Err(CliError::problem(format!(
            "{shown}: the session holds no ticket: the server sent none (tickets off, or a session-ID session)"
        ))),
    }
}

/// `ticket inspect`.
pub(crate) fn inspect(
    keys: &Path,
    format: SourceFormat,
    vhost: Option<&str>,
    ticket: Option<&str>,
    sess_in: Option<&Path>,
    out: &mut dyn Write,
) -> Outcome {
    let (ticket, client) = match (ticket, sess_in) {
        (Some(t), None) => (decode_ticket(t)?, None),
        (None, Some(path)) => {
            let (t, s) = ticket_from_session(path)?;
            (t, Some(s))
        }
        _ => return Err(CliError::usage("give either TICKET or --sess-in FILE")),
    };
    let Some(name) = ticket.get(..NAME_LEN).and_then(|n| <[u8; NAME_LEN]>::try_from(n).ok()) else {
        return Err(CliError::problem(format!(
            "the ticket is {} bytes, shorter than a key name: not an OpenSSL ticket",
            ticket.len()
        )));
    };
    let name = KeyName(name);
    let now = now();
    say!(out, "ticket:        {} bytes, key name {name}", ticket.len());
    if let Some(hint) = client.as_ref().and_then(|c| c.ticket_lifetime_hint) {
        say!(out, "lifetime hint: {hint}s (sent by the server with the ticket)");
    }
    let label = match vhost {
        Some(v) => Some(
            Pattern::new(v)
                .map_err(|e| CliError::usage(format!("--vhost {v:?}: {e}")))?
                .to_string(),
        ),
        None => None,
    };
    let source = load_source(keys, format)?;
    let mut seed_key_encrypts = None;
    let mut window = None;
    let (snapshot, opened_by) = match source {
        Source::Keys {
            kind,
            mut parsed,
            origins,
        } => {
            if let Some(label) = &label {
                parsed.keys = parsed.keys.iter().map(|k| k.derive(label.as_bytes())).collect();
            }
            let vhost_note = label
                .as_ref()
                .map_or_else(String::new, |l| format!("vhost {l}'s key from "));
            let opened_by = parsed.keys.iter().position(|k| k.name() == &name).map(|i| {
                let origin = origins.get(i).map_or("", String::as_str);
                format!("key {name} ({vhost_note}{origin}, {})", Source::role(kind, &parsed, i))
            });
            (Snapshot::from_parsed(parsed), opened_by)
        }
        Source::Seed(seed) => match seed_key(&seed, label.as_deref(), &name, now) {
            Some((epoch, key, policy)) => {
                seed_key_encrypts = Some(policy.encrypt.is_some_and(|w| w.contains(now)));
                window = Some((policy.decrypt.contains(now), policy.decrypt.until));
                let ring = vec![RingKey {
                    key,
                    policy: KeyPolicy::DECRYPT_ONLY,
                }];
                let vhost_note = label.as_ref().map_or_else(String::new, |l| format!("vhost {l}'s "));
                (
                    Snapshot::new(ring),
                    Some(format!("{vhost_note}key {name} of seed epoch {epoch}")),
                )
            }
            None => (Snapshot::default(), None),
        },
    };
    let opened = match open(&snapshot, &ticket, now) {
        Ok(o) => o,
        Err(e) => {
            let why = match e {
                TicketError::UnknownKey if label.is_none() => format!(
                    "no key in {} is named {name}: the ticket was sealed by a retired key or by another server's key \
                     (or for a vhost: pass --vhost with its first name)",
                    keys.display()
                ),
                TicketError::UnknownKey => format!(
                    "no key of vhost {} derived from {} is named {name}: the ticket was sealed by a retired key, by \
                     another server's key, or for another vhost",
                    label.as_deref().unwrap_or_default(),
                    keys.display()
                ),
                TicketError::BadMac => format!(
                    "key {name} in {} has the ticket's name but its MAC does not match: a different key with the same \
                     name, or a damaged ticket",
                    keys.display()
                ),
                TicketError::BadPadding => format!(
                    "key {name} in {} checks the MAC but not the padding: its AES part differs from the key that \
                     sealed the ticket",
                    keys.display()
                ),
                TicketError::Malformed => "the ticket is malformed: not name, IV, whole AES blocks and a MAC".into(),
                other => other.to_string(),
            };
            return Err(CliError::problem(why));
        }
    };
    let renew = seed_key_encrypts.map_or(opened.renew, |encrypts| !encrypts);
    say!(out, "opened by:     {}", opened_by.unwrap_or_default());
    let s = match session::parse(&opened.plaintext) {
        Ok(s) => s,
        Err(e) => {
            return Err(CliError::problem(format!(
                "the ticket opened, but what it holds is not an OpenSSL session: {e}"
            )));
        }
    };
    let protocol = ciphers::protocol(s.version).unwrap_or("unknown");
    say!(out, "protocol:      {protocol} (0x{:04x})", s.version);
    let cipher = ciphers::name(s.cipher).unwrap_or("unknown to this tool");
    say!(out, "cipher:        {cipher} (0x{:04x})", s.cipher);
    say!(out, "server name:   {}", s.host_name.as_deref().unwrap_or("(none)"));
    if let Some(alpn) = &s.alpn {
        say!(out, "alpn:          {}", String::from_utf8_lossy(alpn));
    }
    let created = s.time.and_then(|t| u64::try_from(t).ok());
    let timeout = s.timeout.and_then(|t| u64::try_from(t).ok());
    match created {
        Some(t) if t <= now => say!(out, "created:       {} ({} ago)", iso(t), human(now - t)),
        Some(t) => say!(out, "created:       {} (in the future: clocks disagree)", iso(t)),
        None => say!(out, "created:       (not recorded)"),
    }
    let expires = created.zip(timeout).map(|(c, t)| c.saturating_add(t));
    match (timeout, expires) {
        (Some(t), Some(at)) => say!(out, "timeout:       {t}s ({}), until {}", human(t), iso(at)),
        (Some(t), None) => say!(out, "timeout:       {t}s ({})", human(t)),
        _ => say!(out, "timeout:       (not recorded)"),
    }
    let expired = expires.is_some_and(|at| has_expired(at, now));
    say!(out, "expired:       {}", if expired { "yes" } else { "no" });
    let server = match window {
        _ if expired => "refuse it: the session has expired (full handshake)".to_owned(),
        Some((false, until)) => format!("refuse it: the key's decrypt window ended at {}", iso(until)),
        _ if renew => "resume it and issue a fresh ticket (the key no longer encrypts)".to_owned(),
        _ => "resume it".to_owned(),
    };
    say!(out, "server would:  {server}");
    Ok(Exit::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_decode_from_hex_and_base64() {
        assert_eq!(decode_ticket("00ff10").unwrap(), vec![0, 255, 16]);
        assert_eq!(decode_ticket("00 FF\n10").unwrap(), vec![0, 255, 16]);
        assert_eq!(decode_ticket("AP8Q").unwrap(), vec![0, 255, 16]);
        assert_eq!(decode_ticket("_-8").unwrap(), vec![0xff, 0xef]);
        assert_eq!(decode_ticket("!!").unwrap_err().exit, Exit::Usage);
    }

    #[test]
    fn sessions_expire_after_their_last_second_as_in_openssl() {
        assert!(!has_expired(1_000, 999));
        assert!(!has_expired(1_000, 1_000));
        assert!(has_expired(1_000, 1_001));
    }
}
