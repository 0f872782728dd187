//! Generates the C header from the crate's sources into `$OUT_DIR/tlsext_shim.h`.
//! `tests/header.rs` fails when the committed `include/tlsext_shim.h` differs; `make header`
//! (which sets TLSEXT_SHIM_UPDATE_HEADER=1) refreshes the committed copy.

#![allow(clippy::expect_used)] // A build script reports failure by panicking.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-env-changed=TLSEXT_SHIM_UPDATE_HEADER");
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("tlsext_shim.h");
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml");
    cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen could not generate the header")
        .write_to_file(&out);
    if std::env::var_os("TLSEXT_SHIM_UPDATE_HEADER").is_some_and(|v| v == "1") {
        std::fs::copy(&out, crate_dir.join("include/tlsext_shim.h")).expect("writing include/tlsext_shim.h");
    }
}
