//! `Seed::parse` on arbitrary text: never panics; a seed it accepts writes itself out as text
//! that parses back to the same seed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tlsext_shim::ticket::Seed;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(seed) = Seed::parse(text, "fuzz.seed") else {
        return;
    };
    let written = seed.to_text();
    let again = Seed::parse(&written, "written").expect("a written seed parses");
    assert_eq!(again.epoch(), seed.epoch());
    assert_eq!(again.rotate_secs(), seed.rotate_secs());
    assert_eq!(*again.to_text(), *written);
    let _ = format!("{seed:?}");
});
