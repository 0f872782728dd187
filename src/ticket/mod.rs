//! Session-ticket keys, the key ring and its policy, key-file formats, and the sealer.
//!
//! Pure Rust: nothing here knows about C or libssl.
#![forbid(unsafe_code)]

pub mod chain;
pub mod error;
pub mod format;
pub mod key;
pub mod ring;
pub mod seal;
pub mod source;

pub use chain::{Chain, Seed, SeedError};
pub use error::{KeyError, Location, TicketError};
pub use format::{KeyFormat, Layout, ParsedKeys};
pub use key::{KeyName, KeySize, TicketKey};
pub use ring::{Found, KeyPolicy, KeyRing, RingKey, Snapshot, UnixTime, Window};
pub use seal::{Opened, open, seal, sealed_len};
