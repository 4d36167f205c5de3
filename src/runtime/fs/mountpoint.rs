//! Preparing a mountpoint: it must be an empty folder (created if missing,
//! with any missing parents, and all of them removed again at exit); a stale FUSE mount left by a killed process
//! is detected and cleaned; a live mount is refused.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Why a mountpoint cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MountpointError {
    #[error("mountpoint \"{0}\" is not a directory")]
    NotADirectory(PathBuf),
    #[error("mountpoint \"{0}\" is not empty")]
    NotEmpty(PathBuf),
    #[error("mountpoint \"{0}\" is already mounted (another infinit volume run?)")]
    AlreadyMounted(PathBuf),
    #[error("mountpoint \"{path}\": a stale mount could not be cleaned: {why}")]
    Stale { path: PathBuf, why: String },
    #[error("mountpoint \"{path}\": {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("FUSE is not available: /dev/fuse is missing (install fuse3, or load the fuse kernel module)")]
    NoFuse,
}

/// A mountpoint ready for mounting.
#[derive(Debug)]
pub struct Mountpoint {
    /// Absolute path.
    pub path: PathBuf,
    /// The folders this run created, deepest first.
    created: Vec<PathBuf>,
}

/// ENOTCONN: what stat returns on a FUSE mount whose process died.
const ENOTCONN: i32 = 107;

fn mounted(path: &Path) -> bool {
    let Ok(table) = std::fs::read_to_string("/proc/mounts") else {
        return false;
    };
    table.lines().any(|line| {
        line.split_whitespace().nth(1).is_some_and(|target| unescape(target) == path.as_os_str().to_string_lossy())
    })
}

/// /proc/mounts escapes space, tab, newline and backslash as octal.
fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let code = rest.get(i + 1..i + 4).and_then(|d| u8::from_str_radix(d, 8).ok());
        match code {
            Some(c) => {
                out.push(c as char);
                rest = &rest[i + 4..];
            }
            None => {
                out.push('\\');
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn clean_stale(path: &Path) -> Result<(), MountpointError> {
    let attempts: [(&str, &[&str]); 2] = [("fusermount3", &["-u", "-z"]), ("umount", &["-l"])];
    for (tool, args) in attempts {
        if let Ok(status) = Command::new(tool).args(args).arg(path).status()
            && status.success()
        {
            return Ok(());
        }
    }
    Err(MountpointError::Stale { path: path.to_path_buf(), why: "fusermount3 -u and umount -l both failed".into() })
}

impl Mountpoint {
    /// Check or create `path` for mounting.
    pub fn prepare(path: &Path) -> Result<Mountpoint, MountpointError> {
        if !Path::new("/dev/fuse").exists() {
            return Err(MountpointError::NoFuse);
        }
        let io = |source| MountpointError::Io { path: path.to_path_buf(), source };
        let absolute = std::path::absolute(path).map_err(io)?;
        match std::fs::metadata(&absolute) {
            Err(e) if e.raw_os_error() == Some(ENOTCONN) => clean_stale(&absolute)?,
            Ok(_) if mounted(&absolute) => return Err(MountpointError::AlreadyMounted(absolute)),
            _ => {}
        }
        match std::fs::metadata(&absolute) {
            Ok(meta) if !meta.is_dir() => Err(MountpointError::NotADirectory(absolute)),
            Ok(_) => {
                let mut entries = std::fs::read_dir(&absolute).map_err(io)?;
                if entries.next().is_some() {
                    return Err(MountpointError::NotEmpty(absolute));
                }
                Ok(Mountpoint { path: absolute, created: Vec::new() })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let created: Vec<PathBuf> =
                    absolute.ancestors().take_while(|a| !a.exists()).map(Path::to_path_buf).collect();
                let made = Mountpoint { path: absolute.clone(), created };
                if let Err(e) = std::fs::create_dir_all(&absolute) {
                    made.cleanup();
                    return Err(io(e));
                }
                Ok(made)
            }
            Err(e) => Err(io(e)),
        }
    }

    /// Remove the folders this run created (only while empty).
    pub fn cleanup(self) {
        for dir in &self.created {
            if std::fs::remove_dir(dir).is_err() {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_mounts_escapes_are_decoded() {
        assert_eq!(unescape("/mnt/a\\040b"), "/mnt/a b");
        assert_eq!(unescape("/plain"), "/plain");
    }

    #[test]
    fn files_and_non_empty_folders_are_refused() {
        if !Path::new("/dev/fuse").exists() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"x").unwrap();
        assert!(matches!(Mountpoint::prepare(&file), Err(MountpointError::NotADirectory(_))));
        assert!(matches!(Mountpoint::prepare(dir.path()), Err(MountpointError::NotEmpty(_))));
        let fresh = dir.path().join("new/mnt");
        let m = Mountpoint::prepare(&fresh).unwrap();
        assert!(fresh.is_dir());
        m.cleanup();
        assert!(!dir.path().join("new").exists(), "every folder it created is removed");
        assert!(dir.path().is_dir());
    }
}
