//! The operator CLI, `tlsext-shim`: generate, rotate, advance and check ticket keys, inspect
//! tickets, check the configuration file and summarise the metrics files.
//!
//! Every command prints its result on standard output; a command that cannot do what it was
//! asked prints one line on standard error, `tlsext-shim: error: <file>[:<line>]: <problem>;
//! <what to do>`, and exits with:
//!
//! | code | meaning |
//! |---|---|
//! | 0 | done; for checks: usable (warnings, if any, are printed) |
//! | 1 | a problem was found: the key file, seed, session or config is not usable, no key opens the ticket, or a change was refused as unsafe |
//! | 2 | usage: bad arguments (as for every clap error) |
//! | 3 | the change could not be made: a file could not be written, renamed or removed, or the random source failed; the files are as they were, except that a rotation whose new key is in place may have left old keys behind |
//!
//! No unsafe code here: the X.509 checks of `config check` call [`crate::openssl::vhost`], the
//! one place that talks to libcrypto.
#![forbid(unsafe_code)]

/// Writes a line to the command's output; a closed pipe is not worth an error.
macro_rules! say {
    ($out:expr) => {{
        let _ = writeln!($out);
    }};
    ($out:expr, $($arg:tt)*) => {{
        let _ = writeln!($out, $($arg)*);
    }};
}

mod ciphers;
mod config_check;
mod fsutil;
mod inspect;
mod keys;
mod session;
mod stats;
mod time;

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// How a command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// 0: done, or usable.
    Ok = 0,
    /// 1: a problem was found in what was checked, or a change was refused.
    Problem = 1,
    /// 2: bad command line.
    Usage = 2,
    /// 3: the change could not be made (I/O, random source).
    Failed = 3,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e as u8)
    }
}

/// A command that could not do what it was asked: the exit code and one line saying why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError {
    /// The exit code.
    pub exit: Exit,
    /// One line: where, what, and what to do.
    pub message: String,
}

impl CliError {
    /// Exit 1.
    pub fn problem(message: impl fmt::Display) -> CliError {
        CliError {
            exit: Exit::Problem,
            message: message.to_string(),
        }
    }

    /// Exit 2.
    pub fn usage(message: impl fmt::Display) -> CliError {
        CliError {
            exit: Exit::Usage,
            message: message.to_string(),
        }
    }

    /// Exit 3.
    pub fn failed(message: impl fmt::Display) -> CliError {
        CliError {
            exit: Exit::Failed,
            message: message.to_string(),
        }
    }

    /// Exit 1: `<path>: cannot read: <why>`.
    pub fn cannot_read(path: &Path, why: impl fmt::Display) -> CliError {
        CliError::problem(format!("{}: cannot read: {why}", path.display()))
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// What a command returns: its exit code when it ran to the end (a check may end with
/// [`Exit::Problem`] after printing its report).
pub type Outcome = Result<Exit, CliError>;

/// Manage TLS session-ticket keys for servers running with the tlsext-shim preload.
///
/// Exit codes: 0 ok (usable); 1 problem found or unsafe change refused; 2 usage error;
/// 3 the change could not be made (I/O, random source).
#[derive(Debug, Parser)]
#[command(name = "tlsext-shim", version, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generate, rotate, advance and check ticket keys and seed files.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Look inside session tickets.
    #[command(subcommand)]
    Ticket(TicketCommand),
    /// Validate the TOML configuration file.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Summarise the metrics files of preloaded servers (TLSEXT_SHIM_METRICS).
    Stats(StatsArgs),
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Write fresh keys (0600, atomically) in a server's format, or a new seed file.
    Gen(GenArgs),
    /// Add a new encrypting key to a key directory or HAProxy key file, retire old ones.
    Rotate(RotateArgs),
    /// Move a seed file forward one epoch (or to --to-epoch), erasing the old secret.
    Advance(AdvanceArgs),
    /// Check a key file, key directory or seed file; exit 0 only when it is usable.
    Check(CheckArgs),
}

#[derive(Debug, Subcommand)]
enum TicketCommand {
    /// Open a ticket with the given keys and show the session inside.
    Inspect(InspectArgs),
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Validate the file: keys, values, key sources, vhost names, certificates.
    Check(ConfigCheckArgs),
}

/// The layouts `keys gen` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum GenFormat {
    /// nginx ssl_session_ticket_key, 80 raw bytes (AES-256)
    Nginx80,
    /// nginx ssl_session_ticket_key, 48 raw bytes (AES-128)
    Nginx48,
    /// HAProxy tls-ticket-keys, 3 base64 lines of 80-byte keys
    Haproxy80,
    /// HAProxy tls-ticket-keys, 3 base64 lines of 48-byte keys
    Haproxy48,
    /// OpenSSL SSL_CTX_set_tlsext_ticket_keys, 80 raw bytes
    Openssl,
    /// a tlsext-shim seed file (TLSEXT_SHIM_TICKET_KEYS=seed:PATH)
    Seed,
}

/// The layouts `keys check` and `ticket inspect` read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum SourceFormat {
    /// detect: seed file, raw nginx key, HAProxy lines, or a key directory
    #[default]
    Auto,
    /// raw 48- or 80-byte nginx keys (a file, or a directory of them)
    Nginx,
    /// HAProxy tls-ticket-keys base64 lines
    Haproxy,
    /// raw 80-byte OpenSSL keys (a file, or a directory of them)
    Openssl,
    /// a tlsext-shim seed file
    Seed,
}

#[derive(Debug, Args)]
struct GenArgs {
    /// Key layout.
    #[arg(long, value_enum)]
    format: GenFormat,
    /// Write to FILE (mode 0600, atomically) instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Rotation interval of a new seed file (s, m, h or d suffix; default 12h).
    #[arg(long, value_name = "DURATION")]
    rotate: Option<String>,
}

#[derive(Debug, Args)]
struct RotateArgs {
    /// A key directory or a HAProxy key file.
    path: PathBuf,
    /// How many keys to keep besides the new one (directory: at least 1; HAProxy: at
    /// least 2, the newest of them being the encrypting key).
    #[arg(long, value_name = "N", default_value_t = 2)]
    keep: usize,
}

#[derive(Debug, Args)]
struct AdvanceArgs {
    /// The seed file.
    seed: PathBuf,
    /// Advance to this epoch instead of one epoch forward.
    #[arg(long, value_name = "E")]
    to_epoch: Option<u64>,
    /// Advance to epoch(now)-1, the newest epoch that is safe, or do nothing if the seed is
    /// there already (for timers).
    #[arg(long, conflicts_with = "to_epoch")]
    latest: bool,
    /// Advance past epoch(now)-1 anyway (servers loading the file then reject tickets their
    /// peers issued in the previous epoch).
    #[arg(long)]
    force: bool,
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// A key file, key directory or seed file.
    path: PathBuf,
    /// Layout of the keys.
    #[arg(long, value_enum, default_value_t = SourceFormat::Auto)]
    format: SourceFormat,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("input").required(true).args(["ticket", "sess_in"]))]
struct InspectArgs {
    /// The keys: a key file, key directory or seed file.
    #[arg(long, value_name = "PATH")]
    keys: PathBuf,
    /// Layout of the keys.
    #[arg(long, value_enum, default_value_t = SourceFormat::Auto)]
    format: SourceFormat,
    /// The ticket, in hex or base64.
    #[arg(value_name = "TICKET_HEX_OR_BASE64")]
    ticket: Option<String>,
    /// A session saved by `openssl s_client -sess_out FILE` (PEM or DER).
    #[arg(long, value_name = "FILE")]
    sess_in: Option<PathBuf>,
    /// The ticket came from this vhost ([[sni.vhost]] with this first name): open it with
    /// that vhost's keys, derived from the given ones.
    #[arg(long, value_name = "NAME")]
    vhost: Option<String>,
}

#[derive(Debug, Args)]
struct ConfigCheckArgs {
    /// The TOML file (what TLSEXT_SHIM_CONFIG names).
    file: PathBuf,
}

#[derive(Debug, Args)]
struct StatsArgs {
    /// The metrics directory (default: $TLSEXT_SHIM_METRICS).
    dir: Option<PathBuf>,
}

/// Runs a parsed command line, printing results to `out`.
pub fn run(cli: Cli, out: &mut dyn Write) -> Outcome {
    match cli.command {
        Command::Keys(KeysCommand::Gen(a)) => keys::generate(a.format, a.output.as_deref(), a.rotate.as_deref(), out),
        Command::Keys(KeysCommand::Rotate(a)) => keys::rotate(&a.path, a.keep, out),
        Command::Keys(KeysCommand::Advance(a)) => keys::advance(&a.seed, a.to_epoch, a.latest, a.force, out),
        Command::Keys(KeysCommand::Check(a)) => keys::check(&a.path, a.format, out),
        Command::Ticket(TicketCommand::Inspect(a)) => inspect::inspect(
            &a.keys,
            a.format,
            a.vhost.as_deref(),
            a.ticket.as_deref(),
            a.sess_in.as_deref(),
            out,
        ),
        Command::Config(ConfigCommand::Check(a)) => config_check::check(&a.file, out),
        Command::Stats(a) => stats::stats(a.dir, out),
    }
}

/// The `tlsext-shim` program: parses `std::env::args`, runs, reports.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { Exit::Usage } else { Exit::Ok }.into();
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let result = run(cli, &mut out);
    let _ = out.flush();
    match result {
        Ok(exit) => exit.into(),
        Err(e) => {
            eprintln!("tlsext-shim: error: {}", e.message);
            e.exit.into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn inspect_needs_exactly_one_ticket_source() {
        assert!(Cli::try_parse_from(["tlsext-shim", "ticket", "inspect", "--keys", "k"]).is_err());
        assert!(
            Cli::try_parse_from([
                "tlsext-shim",
                "ticket",
                "inspect",
                "--keys",
                "k",
                "abcd",
                "--sess-in",
                "s"
            ])
            .is_err()
        );
        assert!(Cli::try_parse_from(["tlsext-shim", "ticket", "inspect", "--keys", "k", "abcd"]).is_ok());
    }
}
