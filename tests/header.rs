//! The committed header must be what build.rs generates from the current sources.

#[test]
fn committed_header_is_current() {
    let generated = include_str!(concat!(env!("OUT_DIR"), "/tlsext_shim.h"));
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/include/tlsext_shim.h")).unwrap_or_default();
    assert!(
        generated == committed,
        "include/tlsext_shim.h is stale: run `make header` and commit the result"
    );
}
