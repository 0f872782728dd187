//! `config::Settings::from_toml` on arbitrary text: never panics; errors name the file.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use tlsext_shim::config::Settings;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match Settings::from_toml(Path::new("/etc/tlsext-shim/shim.toml"), text) {
        Ok(settings) => {
            let _ = settings.is_active();
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(
                msg.contains("/etc/tlsext-shim/shim.toml"),
                "error does not name the file: {msg}"
            );
        }
    }
});
