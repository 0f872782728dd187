//! Files the way key material needs them: written atomically with a chosen mode and owner,
//! and checked for loose permissions.

use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{self, Write as _};
use std::os::unix::fs::{MetadataExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::Path;

use crate::ticket::key::hex;

/// Mode and owner of a file about to be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Perms {
    /// Permission bits (`0o600`).
    pub mode: u32,
    /// `(uid, gid)` to give the file, if not the writer's own.
    pub owner: Option<(u32, u32)>,
}

impl Perms {
    /// `0600`, owned by whoever writes.
    pub const PRIVATE: Perms = Perms {
        mode: 0o600,
        owner: None,
    };

    /// The mode and owner of the existing file at `path`.
    pub fn of(path: &Path) -> io::Result<Perms> {
        let meta = fs::metadata(path)?;
        Ok(Perms {
            mode: meta.mode() & 0o7777,
            owner: Some((meta.uid(), meta.gid())),
        })
    }
}

/// Replaces `path` with `data` so that readers see the old contents or the new, never a
/// mix: writes a hidden temporary file in the same directory (created `0600`, so the key is
/// never readable by others, then given `perms`), flushes it to disk, renames it over `path`
/// and flushes the directory. On failure the temporary file is removed and `path` is as it
/// was.
pub fn write_atomic(path: &Path, data: &[u8], perms: Perms) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
    let mut tag = [0u8; 4];
    getrandom::fill(&mut tag).map_err(|e| io::Error::other(e.to_string()))?;
    let tmp = dir.join(format!(".{}.{}.tmp", name.to_string_lossy(), hex(&tag)));
    let mut file = OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp)?;
    let result = (|| {
        file.write_all(data)?;
        if let Some((uid, gid)) = perms.owner {
            let meta = file.metadata()?;
            if (meta.uid(), meta.gid()) != (uid, gid) {
                std::os::unix::fs::fchown(&file, Some(uid), Some(gid)).map_err(|e| {
                    io::Error::new(
                        e.kind(),
                        format!("cannot give the new file the owner {uid}:{gid} of the old one ({e}); run as root or as that user"),
                    )
                })?;
            }
        }
        file.set_permissions(Permissions::from_mode(perms.mode))?;
        file.sync_all()?;
        fs::rename(&tmp, path)?;
        // The rename is durable once the directory is flushed; failing that is not worth an
        // error (the file is in place).
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Warnings about who can read or change the key file or directory at `path`.
pub fn permission_warnings(path: &Path) -> Vec<String> {
    let Ok(meta) = fs::metadata(path) else {
        return Vec::new();
    };
    let mode = meta.mode() & 0o777;
    let shown = path.display();
    let mut out = Vec::new();
    if meta.is_dir() {
        if mode & 0o002 != 0 {
            out.push(format!(
                "{shown}: directory mode {mode:04o} lets anyone add or replace keys; run chmod o-w on it"
            ));
        }
        return out;
    }
    let who = match (mode & 0o040 != 0, mode & 0o004 != 0) {
        (_, true) => Some("everyone"),
        (true, false) => Some("the group"),
        _ => None,
    };
    if let Some(who) = who {
        out.push(format!(
            "{shown}: mode {mode:04o} lets {who} read the key; run chmod 600 on it (or 640 if the server reads it through its group)"
        ));
    }
    if mode & 0o022 != 0 {
        out.push(format!(
            "{shown}: mode {mode:04o} lets others change the key; run chmod go-w on it"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn temp(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tlsext-shim-fsutil-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn atomic_writes_set_the_mode_and_leave_no_temporary_file() {
        let dir = temp("atomic");
        let path = dir.join("k");
        write_atomic(&path, b"one", Perms::PRIVATE).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().mode() & 0o777, 0o600);
        write_atomic(
            &path,
            b"two",
            Perms {
                mode: 0o640,
                owner: None,
            },
        )
        .unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(Perms::of(&path).unwrap().mode, 0o640);
        let own = Perms::of(&path).unwrap();
        write_atomic(&path, b"three", own).unwrap();
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        assert!(write_atomic(&dir.join("missing/k"), b"x", Perms::PRIVATE).is_err());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn loose_permissions_are_reported() {
        let dir = temp("perms");
        let f = dir.join("k");
        fs::write(&f, "x").unwrap();
        for (mode, count, needle) in [
            (0o600, 0, ""),
            (0o640, 1, "the group"),
            (0o644, 1, "everyone"),
            (0o666, 2, "change"),
        ] {
            fs::set_permissions(&f, Permissions::from_mode(mode)).unwrap();
            let w = permission_warnings(&f);
            assert_eq!(w.len(), count, "{mode:o}: {w:?}");
            assert!(w.join(" ").contains(needle), "{w:?}");
        }
        fs::set_permissions(&dir, Permissions::from_mode(0o777)).unwrap();
        assert_eq!(permission_warnings(&dir).len(), 1);
        fs::remove_dir_all(&dir).unwrap();
    }
}
