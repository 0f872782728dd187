//! `ticket::format::parse` on arbitrary bytes, in the format named by the first byte
//! (0 auto, 1 nginx, 2 haproxy, 3 openssl): never panics; accepted keys are well formed
//! (the encrypting index is in range, no two keys share a name, no weak part), raw layouts
//! re-encode to the input, and no error message quotes the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tlsext_shim::ticket::format::{self, Layout};
use tlsext_shim::ticket::{KeyFormat, KeySize, Location};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, file)) = data.split_first() else {
        return;
    };
    let fmt = KeyFormat::ALL[usize::from(selector) % KeyFormat::ALL.len()];
    let at = Location::new("fuzz.key");
    match format::parse(file, fmt, &at) {
        Ok(parsed) => {
            assert!(!parsed.keys.is_empty());
            assert!(parsed.encrypt < parsed.keys.len());
            for (i, k) in parsed.keys.iter().enumerate() {
                assert!(
                    parsed.keys[..i].iter().all(|o| o.name() != k.name()),
                    "duplicate key name accepted"
                );
                let _ = format!("{k:?}");
            }
            let layout = match fmt {
                KeyFormat::Openssl => Some(Layout::Openssl),
                KeyFormat::Nginx => Some(Layout::Nginx),
                KeyFormat::Auto if KeySize::from_file_len(file.len()).is_some() => Some(Layout::Nginx),
                _ => None,
            };
            if let Some(layout) = layout {
                assert_eq!(parsed.keys.len(), 1);
                assert_eq!(format::encode_key(&parsed.keys[0], layout).as_slice(), file);
            }
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.starts_with("fuzz.key"), "error does not name the source: {msg}");
            // Key material is never echoed: the first 16 bytes (a key name, or the start of a
            // key), when they hold a control byte no message could contain, do not show up.
            if let Some(head) = file.get(..16)
                && head
                    .iter()
                    .any(|&b| (b < 0x20 && !b.is_ascii_whitespace()) || b == 0x7f)
            {
                assert!(
                    !msg.as_bytes().windows(16).any(|w| w == head),
                    "error quotes the input: {msg}"
                );
            }
        }
    }
});
