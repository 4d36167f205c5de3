//! Local-disk helpers shared by the filesystem silo and the write-back
//! journal: durable folder changes, the lock that keeps two processes
//! from serving one folder, and read-ahead hints.

use std::fs::{File, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

/// Make renames and removals in `dir` durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir).and_then(|d| d.sync_all())
}

/// Ask the kernel to start reading `file`'s pages now (they are about to
/// be read): a hint, that returns without waiting, and whose failure
/// changes nothing but speed.
pub fn will_need(file: &File) {
    use std::os::fd::AsRawFd as _;
    // SAFETY: posix_fadvise only reads its integer arguments; the
    // descriptor is open for the duration of the call (`file` is borrowed).
    let _ = unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_WILLNEED) };
}

/// Why a folder could not be locked.
#[derive(Debug)]
pub enum LockError {
    /// Another process holds it.
    Busy,
    /// The lock file could not be opened or locked.
    Io(PathBuf, io::Error),
}

/// Take the exclusive lock on `dir/name`, held until the file is dropped.
pub fn lock_folder(dir: &Path, name: &str) -> Result<File, LockError> {
    let path = dir.join(name);
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| LockError::Io(path.clone(), e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(LockError::Busy),
        Err(TryLockError::Error(e)) => Err(LockError::Io(path, e)),
    }
}
