//! Watching a key source for changes: a key file or key directory, checked by the identity
//! of what is there (device, inode, size, modification time of the path and, for a
//! directory, of each entry), so that in-place rewrites, atomic replaces (`mv`, editors), keys
//! added to or removed from a directory and Kubernetes Secret volume updates (a `..data`
//! symlink swap, which changes the inode every key file resolves to) are all seen.
//!
//! A source that fails to parse keeps nothing: the caller keeps its last good keys. Each
//! distinct failing state is reported once.

use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};

use super::error::KeyError;
use super::format::{self, KeyFormat, ParsedKeys};

/// The identity of one file as seen by `stat` (following symlinks).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileId {
    /// Device.
    pub dev: u64,
    /// Inode.
    pub ino: u64,
    /// Size in bytes.
    pub size: u64,
    /// Modification time, nanoseconds since the epoch.
    pub mtime_ns: i128,
}

impl FileId {
    fn of(meta: &std::fs::Metadata) -> Self {
        FileId {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
        }
    }
}

/// What a key source looks like at one moment; equal signatures mean nothing changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Signature {
    /// The path could not be examined (missing, permission denied, ...).
    Unreadable(String),
    /// A regular file.
    File(FileId),
    /// A directory and its visible entries, by name.
    Dir(FileId, Vec<(std::ffi::OsString, Option<FileId>)>),
}

impl Signature {
    /// Examines `path` now.
    pub fn of(path: &Path) -> Signature {
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) => return Signature::Unreadable(e.kind().to_string()),
        };
        if !meta.is_dir() {
            return Signature::File(FileId::of(&meta));
        }
        let mut entries = Vec::new();
        match std::fs::read_dir(path) {
            Ok(iter) => {
                for entry in iter.flatten() {
                    let name = entry.file_name();
                    if format::is_hidden(&name) {
                        continue;
                    }
                    let id = std::fs::metadata(entry.path()).ok().map(|m| FileId::of(&m));
                    entries.push((name, id));
                }
            }
            Err(e) => return Signature::Unreadable(e.kind().to_string()),
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        Signature::Dir(FileId::of(&meta), entries)
    }
}

/// What one look at a source found.
#[derive(Debug)]
pub enum Poll {
    /// Same as last time.
    Unchanged,
    /// New keys, parsed and checked.
    Loaded(ParsedKeys),
    /// The source changed but cannot be used; the caller keeps its keys. Reported once per
    /// failing state.
    Failed(KeyError),
    /// Still failing in the same way as already reported.
    StillFailing,
}

/// A key file or directory and what was last seen there.
#[derive(Debug)]
pub struct FileSource {
    path: PathBuf,
    format: KeyFormat,
    last: Option<Signature>,
    failing: bool,
}

impl FileSource {
    /// A source not yet looked at: the first poll loads it.
    pub fn new(path: PathBuf, format: KeyFormat) -> Self {
        FileSource {
            path,
            format,
            last: None,
            failing: false,
        }
    }

    /// The path watched.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Looks at the source; loads it if it changed since the last look.
    pub fn poll(&mut self) -> Poll {
        let sig = Signature::of(&self.path);
        if self.last.as_ref() == Some(&sig) {
            return if self.failing {
                Poll::StillFailing
            } else {
                Poll::Unchanged
            };
        }
        let result = format::load_path(&self.path, self.format);
        // A writer may still be busy: take the signature again, and if it moved, look again
        // next time rather than trusting (or reporting) what was read in between - a rotation
        // deleting a key while it was being listed is not an error.
        let after = Signature::of(&self.path);
        if after != sig {
            self.last = None;
            return if self.failing {
                Poll::StillFailing
            } else {
                Poll::Unchanged
            };
        }
        self.last = Some(sig);
        match result {
            Ok(keys) => {
                self.failing = false;
                Poll::Loaded(keys)
            }
            Err(e) => {
                self.failing = true;
                Poll::Failed(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ticket::format::{Layout, encode_key};
    use crate::ticket::key::{KeySize, TicketKey};

    fn tempdir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("tlsext-source-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn key_bytes() -> (TicketKey, Vec<u8>) {
        let k = TicketKey::generate(KeySize::Aes256).unwrap();
        let b = encode_key(&k, Layout::Nginx).to_vec();
        (k, b)
    }

    fn loaded(p: Poll) -> ParsedKeys {
        match p {
            Poll::Loaded(k) => k,
            other => panic!("expected Loaded, got {other:?}"),
        }
    }

    #[test]
    fn file_changes_are_seen_and_failures_keep_nothing() {
        let d = tempdir("file");
        let f = d.join("ticket.key");
        let (k1, b1) = key_bytes();
        std::fs::write(&f, &b1).unwrap();
        let mut src = FileSource::new(f.clone(), KeyFormat::Auto);
        assert_eq!(loaded(src.poll()).keys[0].name(), k1.name());
        assert!(matches!(src.poll(), Poll::Unchanged));
        // In-place rewrite with a new key of the same size.
        let (k2, b2) = key_bytes();
        std::fs::write(&f, &b2).unwrap();
        assert_eq!(loaded(src.poll()).keys[0].name(), k2.name());
        // Atomic replace (rename over).
        let (k3, b3) = key_bytes();
        std::fs::write(d.join("tmp"), &b3).unwrap();
        std::fs::rename(d.join("tmp"), &f).unwrap();
        assert_eq!(loaded(src.poll()).keys[0].name(), k3.name());
        // Half-written: reported once, then quiet until it changes.
        std::fs::write(&f, &b3[..40]).unwrap();
        let Poll::Failed(e) = src.poll() else {
            panic!("expected Failed")
        };
        assert!(e.to_string().contains("40 bytes"), "{e}");
        assert!(matches!(src.poll(), Poll::StillFailing));
        std::fs::write(&f, &b3).unwrap();
        assert_eq!(loaded(src.poll()).keys[0].name(), k3.name());
        // Deleted.
        std::fs::remove_file(&f).unwrap();
        let Poll::Failed(e) = src.poll() else {
            panic!("expected Failed")
        };
        assert!(e.to_string().contains("ticket.key: cannot read"), "{e}");
        assert!(matches!(src.poll(), Poll::StillFailing));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn directory_changes_and_symlink_swaps_are_seen() {
        let d = tempdir("dir");
        let keys = d.join("keys");
        std::fs::create_dir(&keys).unwrap();
        // Kubernetes Secret volume layout: keys/k -> ..data/k, ..data -> ..v1
        std::fs::create_dir(keys.join("..v1")).unwrap();
        let (k1, b1) = key_bytes();
        std::fs::write(keys.join("..v1/10.key"), &b1).unwrap();
        std::os::unix::fs::symlink("..v1", keys.join("..data")).unwrap();
        std::os::unix::fs::symlink("..data/10.key", keys.join("10.key")).unwrap();
        let mut src = FileSource::new(keys.clone(), KeyFormat::Nginx);
        assert_eq!(loaded(src.poll()).keys[0].name(), k1.name());
        assert!(matches!(src.poll(), Poll::Unchanged));
        // New version with different content under the same file name; swap ..data atomically.
        std::fs::create_dir(keys.join("..v2")).unwrap();
        let (k2, b2) = key_bytes();
        std::fs::write(keys.join("..v2/10.key"), &b2).unwrap();
        std::os::unix::fs::symlink("..v2", keys.join("..data_tmp")).unwrap();
        std::fs::rename(keys.join("..data_tmp"), keys.join("..data")).unwrap();
        assert_eq!(loaded(src.poll()).keys[0].name(), k2.name());
        // A key added to the directory sorts last and encrypts.
        let (k3, b3) = key_bytes();
        std::fs::write(keys.join("20.key"), &b3).unwrap();
        let p = loaded(src.poll());
        assert_eq!(p.keys.len(), 2);
        assert_eq!(p.keys[p.encrypt].name(), k3.name());
        // Garbage dropped in: failure, keys kept by the caller.
        std::fs::write(keys.join("30.key"), b"garbage").unwrap();
        assert!(matches!(src.poll(), Poll::Failed(_)));
        std::fs::remove_file(keys.join("30.key")).unwrap();
        assert_eq!(loaded(src.poll()).keys.len(), 2);
        std::fs::remove_dir_all(&d).unwrap();
    }
}
