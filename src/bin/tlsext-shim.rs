//! `tlsext-shim`: the operator CLI (see `tlsext-shim --help` and docs/operations.md).

fn main() -> std::process::ExitCode {
    tlsext_shim::cli::main()
}
