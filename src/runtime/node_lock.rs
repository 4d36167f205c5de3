//! The lock a running node holds in its state folder (`node.lock`), with
//! the pid and what it serves written inside: whoever wants to remove that
//! state (unlink, delete, purge) can tell that a node still runs — whatever
//! kind of silo it uses, mounted or not — and say which process it is.

use std::io::{Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};

use super::disk::{self, LockError};

/// Name of the lock file inside a node's state folder.
pub const LOCK_FILE: &str = "node.lock";

/// Why the lock could not be taken or probed.
#[derive(Debug, thiserror::Error)]
pub enum NodeLockError {
    /// Another process runs the node.
    #[error("already running on this device ({holder})")]
    Running {
        /// What the running process wrote: its pid and what it serves.
        holder: String,
    },
    /// The lock file could not be opened, locked or written.
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
}

/// Held while a node runs; released when dropped (or when the process dies).
/// A node that never got to write its state leaves nothing behind: the lock
/// file and the folders made for it go when it is dropped.
#[derive(Debug)]
pub struct NodeLock {
    _file: std::fs::File,
    dir: PathBuf,
    /// The folders `acquire` created, deepest first.
    created: Vec<PathBuf>,
}

impl NodeLock {
    /// Take the lock of the node whose state lives in `dir` (created if
    /// missing), recording this process and `what` it serves.
    pub fn acquire(dir: &Path, what: &str) -> Result<NodeLock, NodeLockError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| NodeLockError::Io { path, source }
        };
        let created: Vec<PathBuf> = dir.ancestors().take_while(|a| !a.exists()).map(Path::to_path_buf).collect();
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let mut file = match disk::lock_folder(dir, LOCK_FILE) {
            Ok(file) => file,
            Err(LockError::Busy) => return Err(NodeLockError::Running { holder: read_holder(&dir.join(LOCK_FILE)) }),
            Err(LockError::Io(path, source)) => return Err(NodeLockError::Io { path, source }),
        };
        let path = dir.join(LOCK_FILE);
        file.set_len(0).map_err(io(&path))?;
        file.rewind().map_err(io(&path))?;
        writeln!(file, "pid {}: {what}", std::process::id()).map_err(io(&path))?;
        Ok(NodeLock { _file: file, dir: dir.to_path_buf(), created })
    }

    /// Whether a node holds the lock in `dir`: what it wrote if so. Probing
    /// creates nothing; a folder or lock file that does not exist means no node.
    pub fn holder(dir: &Path) -> Result<Option<String>, NodeLockError> {
        let path = dir.join(LOCK_FILE);
        let file = match std::fs::OpenOptions::new().write(true).open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(NodeLockError::Io { path, source }),
        };
        match file.try_lock() {
            Ok(()) => Ok(None),
            Err(std::fs::TryLockError::WouldBlock) => Ok(Some(read_holder(&path))),
            Err(std::fs::TryLockError::Error(source)) => Err(NodeLockError::Io { path, source }),
        }
    }
}

impl Drop for NodeLock {
    fn drop(&mut self) {
        // Still held here, so no other node can be starting in this folder.
        let only_the_lock = std::fs::read_dir(&self.dir)
            .map(|entries| entries.filter_map(Result::ok).all(|e| e.file_name() == LOCK_FILE))
            .unwrap_or(false);
        if !only_the_lock {
            return;
        }
        let _ = std::fs::remove_file(self.dir.join(LOCK_FILE));
        for dir in &self.created {
            if std::fs::remove_dir(dir).is_err() {
                break;
            }
        }
    }
}

/// The first line of a held lock file, or a stand-in if it cannot be read.
fn read_holder(path: &Path) -> String {
    let mut text = String::new();
    let read = std::fs::File::open(path).and_then(|mut f| f.read_to_string(&mut text));
    match read.ok().and(text.lines().next()) {
        Some(line) if !line.trim().is_empty() => line.trim().to_string(),
        _ => "another process".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_names_its_holder_and_is_free_again_once_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("networks/alice/alice/home");
        assert!(NodeLock::holder(&state).unwrap().is_none());
        assert!(!state.exists(), "probing creates nothing");
        let lock = NodeLock::acquire(&state, "infinit network run alice/home").unwrap();
        let holder = NodeLock::holder(&state).unwrap().expect("held");
        assert_eq!(holder, format!("pid {}: infinit network run alice/home", std::process::id()));
        assert!(matches!(NodeLock::acquire(&state, "again"), Err(NodeLockError::Running { .. })));
        drop(lock);
        assert!(NodeLock::holder(&state).unwrap().is_none());
        assert!(!dir.path().join("networks").exists(), "a node that wrote nothing leaves nothing");
        let lock = NodeLock::acquire(&state, "second run").unwrap();
        std::fs::write(state.join("freshness.redb"), b"state").unwrap();
        drop(lock);
        assert!(state.join(LOCK_FILE).is_file(), "a node's state stays, lock file included");
        assert!(NodeLock::holder(&state).unwrap().is_none());
    }
}
