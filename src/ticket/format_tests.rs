//! Every layout, every byte order and every refusal, with its message.

use std::io::Write as _;

use base64::Engine as _;

use super::*;

fn parts(size: KeySize, seed: u8) -> ([u8; 16], Vec<u8>, Vec<u8>) {
    let n = size.secret_len();
    let mut name = [0u8; 16];
    for (i, b) in name.iter_mut().enumerate() {
        *b = seed.wrapping_add(i as u8);
    }
    let hmac = (0..n)
        .map(|i| 0x40u8.wrapping_add(seed).wrapping_add(i as u8))
        .collect();
    let aes = (0..n)
        .map(|i| 0x80u8.wrapping_add(seed).wrapping_add(i as u8))
        .collect();
    (name, hmac, aes)
}

fn cat(chunks: &[&[u8]]) -> Vec<u8> {
    chunks.concat()
}

fn mem() -> Location {
    Location::new("mem")
}

#[test]
fn each_layout_yields_the_same_key_parts() {
    for size in [KeySize::Aes128, KeySize::Aes256] {
        let (name, hmac, aes) = parts(size, 1);
        let nginx = if size == KeySize::Aes128 {
            cat(&[&name, &aes, &hmac])
        } else {
            cat(&[&name, &hmac, &aes])
        };
        let haproxy = cat(&[&name, &aes, &hmac]);
        let k = decode_key(&haproxy, Layout::Haproxy, &mem()).unwrap();
        assert_eq!(
            (k.hmac_key(), k.aes_key()),
            (&hmac[..], &aes[..]),
            "HAProxy order {size:?}"
        );
        assert_eq!(&*encode_key(&k, Layout::Haproxy), &haproxy[..]);
        let mut cases = vec![
            (KeyFormat::Nginx, nginx.clone()),
            (KeyFormat::Auto, nginx.clone()),
            (
                KeyFormat::Haproxy,
                [1u8, 2, 3]
                    .iter()
                    .map(|&s| {
                        let (n, h, a) = parts(size, s);
                        base64::engine::general_purpose::STANDARD.encode(cat(&[&n, &a, &h])) + "\n"
                    })
                    .collect::<String>()
                    .into_bytes(),
            ),
        ];
        if size == KeySize::Aes256 {
            cases.push((KeyFormat::Openssl, cat(&[&name, &hmac, &aes])));
        }
        for (format, data) in cases {
            let parsed = parse(&data, format, &mem()).unwrap();
            let key = &parsed.keys[0];
            assert_eq!(key.name().0, name, "{format:?}");
            assert_eq!(key.hmac_key(), &hmac[..], "{format:?} {size:?}");
            assert_eq!(key.aes_key(), &aes[..], "{format:?} {size:?}");
            assert_eq!(key.size(), size);
            // And encoding gives back the same bytes.
            let layout = match format {
                KeyFormat::Haproxy => Layout::Haproxy,
                KeyFormat::Openssl => Layout::Openssl,
                _ => Layout::Nginx,
            };
            if format != KeyFormat::Haproxy {
                assert_eq!(&*encode_key(key, layout), &data[..]);
            }
        }
    }
}

#[test]
fn haproxy_ring_order_and_round_trip() {
    let keys: Vec<TicketKey> = (0..4).map(|_| TicketKey::generate(KeySize::Aes256).unwrap()).collect();
    let text = encode_haproxy(&keys);
    let parsed = parse(text.as_bytes(), KeyFormat::Auto, &mem()).unwrap();
    assert_eq!(parsed.keys.len(), 4);
    assert_eq!(parsed.encrypt, 2, "the second-to-last line encrypts");
    for (a, b) in parsed.keys.iter().zip(&keys) {
        assert_eq!(a.name(), b.name());
        assert_eq!(a.aes_key(), b.aes_key());
    }
    let with_comments = format!("# keys\n\n{}", &*text).replace('\n', "\r\n");
    assert_eq!(
        parse(with_comments.as_bytes(), KeyFormat::Haproxy, &mem())
            .unwrap()
            .keys
            .len(),
        4
    );
}

fn err(data: &[u8], format: KeyFormat) -> String {
    parse(data, format, &Location::new("/etc/k")).unwrap_err().to_string()
}

#[test]
fn refusals_name_the_source_line_and_problem() {
    let (name, hmac, aes) = parts(KeySize::Aes256, 3);
    let good = cat(&[&name, &hmac, &aes]);
    assert_eq!(
        err(&good[..50], KeyFormat::Nginx),
        "/etc/k: a nginx key is 48 or 80 bytes, found 50 bytes"
    );
    assert_eq!(
        err(&good[..48], KeyFormat::Openssl),
        "/etc/k: a OpenSSL key is 80 bytes, found 48 bytes"
    );
    assert!(err(&[0xFF; 50], KeyFormat::Auto).contains("50 bytes of binary data"));
    assert_eq!(err(b"", KeyFormat::Auto), "/etc/k: no keys found");
    assert_eq!(err(b"", KeyFormat::Nginx), "/etc/k: no keys found");
    assert_eq!(
        err(&[0; 80], KeyFormat::Nginx),
        "/etc/k: the key name is a single repeated byte (all zero?); generate keys from a random source"
    );
    let zero_hmac = cat(&[&name, &[0; 32], &aes]);
    assert!(err(&zero_hmac, KeyFormat::Nginx).contains("the HMAC key is a single repeated byte"));
    let same_aes = cat(&[&name, &hmac, &[7; 32]]);
    assert!(err(&same_aes, KeyFormat::Openssl).contains("the AES key is a single repeated byte"));

    let b64 = |d: &[u8]| base64::engine::general_purpose::STANDARD.encode(d);
    let l1 = b64(&cat(&[&parts(KeySize::Aes256, 1).0, &aes, &hmac]));
    let l2 = b64(&cat(&[&parts(KeySize::Aes256, 2).0, &aes, &hmac]));
    let l3 = b64(&cat(&[&parts(KeySize::Aes256, 3).0, &aes, &hmac]));
    let short = b64(&cat(&[&parts(KeySize::Aes128, 4).0, &aes[..16], &hmac[..16]]));
    assert_eq!(
        err(format!("{l1}\n{l2}\n!!!notbase64\n").as_bytes(), KeyFormat::Haproxy),
        "/etc/k:3: not valid base64"
    );
    assert_eq!(
        err(format!("{l1}\n\n{short}\n{l2}\n").as_bytes(), KeyFormat::Haproxy),
        "/etc/k:3: key is 48 bytes but the first key is 80 bytes; all keys must be the same size"
    );
    assert_eq!(
        err(format!("{l1}\n{l2}\n{l1}\n").as_bytes(), KeyFormat::Haproxy),
        format!(
            "/etc/k: key name {} appears twice",
            KeyName(parts(KeySize::Aes256, 1).0)
        )
    );
    assert!(err(format!("{l1}\n{l2}\n").as_bytes(), KeyFormat::Haproxy).contains("at least 3 keys"));
    assert!(err(b"\n# nothing\n", KeyFormat::Haproxy).contains("no keys"));
    assert_eq!(
        err(format!("{}\n", b64(&[1; 20])).as_bytes(), KeyFormat::Haproxy),
        "/etc/k:1: a HAProxy key is 48 or 80 bytes, found 20 bytes"
    );
    assert!(parse(format!("{l1}\n{l2}\n{l3}\n").as_bytes(), KeyFormat::Haproxy, &mem()).is_ok());
}

#[test]
fn no_error_message_contains_key_bytes() {
    let (name, hmac, aes) = parts(KeySize::Aes256, 9);
    let bad = cat(&[&name, &hmac, &aes, &[1]]);
    let msg = err(&bad, KeyFormat::Nginx);
    assert!(!msg.contains(&crate::ticket::key::hex(&hmac[..4])));
    assert!(!msg.contains(&crate::ticket::key::hex(&aes[..4])));
}

fn write(dir: &Path, name: &str, data: &[u8]) {
    let mut f = std::fs::File::create(dir.join(name)).unwrap();
    f.write_all(data).unwrap();
}

fn tempdir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("tlsext-format-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn a_directory_is_a_ring_ordered_by_name_and_the_last_encrypts() {
    let d = tempdir("dir");
    let keys: Vec<TicketKey> = (0..3).map(|_| TicketKey::generate(KeySize::Aes256).unwrap()).collect();
    write(&d, "20-b.key", &encode_key(&keys[1], Layout::Nginx));
    write(&d, "10-a.key", &encode_key(&keys[0], Layout::Nginx));
    write(&d, "30-c.key", &encode_key(&keys[2], Layout::Nginx));
    write(&d, ".hidden", b"garbage");
    std::fs::create_dir(d.join("subdir")).unwrap();
    std::os::unix::fs::symlink(d.join("30-c.key"), d.join(".link-ignored")).unwrap();
    let parsed = load_path(&d, KeyFormat::Auto).unwrap();
    let names: Vec<_> = parsed.keys.iter().map(|k| *k.name()).collect();
    assert_eq!(names, keys.iter().map(|k| *k.name()).collect::<Vec<_>>());
    assert_eq!(parsed.encrypt, 2);

    // A file of the wrong size names that file.
    write(&d, "40-d.key", &[5; 10]);
    let e = load_path(&d, KeyFormat::Nginx).unwrap_err().to_string();
    assert!(e.contains("40-d.key") && e.contains("found 10 bytes"), "{e}");
    std::fs::remove_file(d.join("40-d.key")).unwrap();
    // A 48-byte key among 80-byte keys.
    write(
        &d,
        "40-d.key",
        &encode_key(&TicketKey::generate(KeySize::Aes128).unwrap(), Layout::Nginx),
    );
    let e = load_path(&d, KeyFormat::Nginx).unwrap_err().to_string();
    assert!(e.contains("40-d.key") && e.contains("same size"), "{e}");
    std::fs::remove_file(d.join("40-d.key")).unwrap();
    // The same key twice.
    write(&d, "40-d.key", &encode_key(&keys[0], Layout::Nginx));
    let e = load_path(&d, KeyFormat::Nginx).unwrap_err().to_string();
    assert!(e.contains("40-d.key") && e.contains("appears twice"), "{e}");
    assert!(
        load_path(&d, KeyFormat::Haproxy)
            .unwrap_err()
            .to_string()
            .contains("use format nginx or openssl")
    );
    std::fs::remove_dir_all(&d).unwrap();
    let empty = tempdir("empty");
    assert!(
        load_path(&empty, KeyFormat::Auto)
            .unwrap_err()
            .to_string()
            .ends_with("no keys found")
    );
    std::fs::remove_dir_all(&empty).unwrap();
}

#[test]
fn key_files_skip_hidden_and_non_regular_entries() {
    let dir = tempdir("list");
    for name in ["b", "a", ".hidden"] {
        std::fs::write(dir.join(name), "x").unwrap();
    }
    std::fs::create_dir(dir.join("sub")).unwrap();
    std::os::unix::fs::symlink(dir.join("a"), dir.join("c")).unwrap();
    let names: Vec<_> = key_files(&dir).unwrap().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["a", "b", "c"]);
    // An entry that cannot be examined (a dangling link) is named in the error.
    std::os::unix::fs::symlink(dir.join("gone"), dir.join("d")).unwrap();
    let e = key_files(&dir).unwrap_err().to_string();
    assert!(e.contains("/d: cannot read:"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unreadable_sources_name_the_path() {
    let e = load_path(Path::new("/nonexistent/tlsext.key"), KeyFormat::Auto)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("/nonexistent/tlsext.key: cannot read:"), "{e}");
}

#[test]
fn oversized_files_and_fifos_are_refused_without_reading_them_whole_or_blocking() {
    let d = tempdir("limits");
    let big = d.join("big.key");
    std::fs::write(&big, vec![b'A'; (MAX_SECRET_FILE + 1) as usize]).unwrap();
    let e = load_path(&big, KeyFormat::Auto).unwrap_err().to_string();
    assert!(e.contains("big.key") && e.contains("larger than 65536 bytes"), "{e}");
    let fifo = d.join("fifo.key");
    let status = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(status.success());
    let e = load_path(&fifo, KeyFormat::Auto).unwrap_err().to_string();
    assert!(e.contains("fifo.key") && e.contains("not a regular file"), "{e}");
    std::fs::remove_dir_all(&d).unwrap();
}
