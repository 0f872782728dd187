//! One Prometheus text file per process, for node_exporter's textfile collector.
//!
//! [`Metrics::write_textfile`] writes `DIR/tlsext_shim_<pid>.prom` through a hidden temporary
//! file in the same directory and a rename, so a reader sees the old file or the new one,
//! never half of one (the collector reads only `*.prom`, and the temporary name does not end
//! so). It then deletes the `tlsext_shim_<pid>.prom` files of processes that no longer exist
//! (no `/proc/<pid>`), such as nginx workers replaced by a reload. The directory must be
//! writable by the server's worker user and belong to one PID namespace (one host or one
//! container): a process in another namespace would look dead and lose its file.
//!
//! [`maybe_write`] is what the handshake path calls: it writes at most once per interval,
//! decided by a compare-and-swap on the next due time, so among concurrent handshakes exactly
//! one does the write and the others pay one atomic load.

use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::{Metrics, global};
use crate::ticket::UnixTime;

/// Prefix of every metrics file name.
pub const FILE_PREFIX: &str = "tlsext_shim_";
/// Suffix of every metrics file name.
pub const FILE_SUFFIX: &str = ".prom";

/// The file name of process `pid`: `tlsext_shim_<pid>.prom`.
pub fn file_name(pid: u32) -> String {
    format!("{FILE_PREFIX}{pid}{FILE_SUFFIX}")
}

/// The pid in a metrics file name, if `name` is one.
pub fn pid_of(name: &str) -> Option<u32> {
    let digits = name.strip_prefix(FILE_PREFIX)?.strip_suffix(FILE_SUFFIX)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Whether process `pid` exists (in this PID namespace).
pub fn process_exists(pid: u32) -> bool {
    Path::new("/proc").join(pid.to_string()).exists()
}

impl Metrics {
    /// Writes this process's counters to `dir/tlsext_shim_<pid>.prom` atomically, then
    /// deletes the files of processes that have exited. Returns the file written.
    pub fn write_textfile(&self, dir: &Path, pid: u32, now: UnixTime) -> io::Result<PathBuf> {
        let path = write_text(dir, pid, &self.snapshot().to_prometheus(pid, now))?;
        remove_stale(dir, pid, process_exists);
        Ok(path)
    }
}

fn write_text(dir: &Path, pid: u32, text: &str) -> io::Result<PathBuf> {
    let path = dir.join(file_name(pid));
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!(".{}.{seq}.tmp", file_name(pid)));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        std::fs::rename(&tmp, &path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map(|()| path)
}

/// Deletes the metrics files in `dir`, other than `own`'s, whose process `alive` says is
/// gone; returns how many. Failures (a file already gone, no permission) are ignored.
pub fn remove_stale(dir: &Path, own: u32, alive: impl Fn(u32) -> bool) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(pid_of) else {
            continue;
        };
        if pid != own && !alive(pid) && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// "At most once per interval", lock-free: the next due time in an atomic. The unit is the
/// caller's: seconds for the metrics file, milliseconds for the lazy file checks on the
/// handshake path; `now` is always passed in.
#[derive(Debug)]
pub struct RateLimit {
    interval: u64,
    next_due: AtomicU64,
}

impl RateLimit {
    /// Due at once, then every `interval` (at least 1).
    pub const fn new(interval: u64) -> RateLimit {
        RateLimit {
            interval: if interval == 0 { 1 } else { interval },
            next_due: AtomicU64::new(0),
        }
    }

    /// True for exactly one caller per interval: the first to see that `now` is due moves
    /// the due time to `now + interval`. A clock that steps back leaves it waiting until the
    /// old due time.
    pub fn try_acquire(&self, now: UnixTime) -> bool {
        let due = self.next_due.load(Ordering::Relaxed);
        if now < due {
            return false;
        }
        self.next_due
            .compare_exchange(
                due,
                now.saturating_add(self.interval),
                Ordering::Relaxed,
                Ordering::Relaxed,
            )
            .is_ok()
    }
}

struct Textfile {
    dir: PathBuf,
    limit: RateLimit,
}

static TEXTFILE: OnceLock<Textfile> = OnceLock::new();

/// Turns on the metrics file in `dir`, written at most once per `interval` (rounded up to
/// whole seconds, at least 1). Only the first call counts; returns whether it was this one.
pub fn configure_textfile(dir: PathBuf, interval: Duration) -> bool {
    let secs = interval
        .as_secs()
        .saturating_add(u64::from(interval.subsec_nanos() > 0));
    TEXTFILE
        .set(Textfile {
            dir,
            limit: RateLimit::new(secs),
        })
        .is_ok()
}

/// Writes the global counters if a metrics directory is configured and the interval has
/// passed: `None` when nothing was due, otherwise the result of the write (the caller logs a
/// failure; the next attempt comes one interval later).
pub fn maybe_write(now: UnixTime) -> Option<io::Result<PathBuf>> {
    let t = TEXTFILE.get()?;
    if !t.limit.try_acquire(now) {
        return None;
    }
    Some(global().write_textfile(&t.dir, std::process::id(), now))
}

#[cfg(test)]
pub(super) fn write_text_for_test(dir: &Path, pid: u32, text: &str) -> io::Result<PathBuf> {
    write_text(dir, pid, text)
}
