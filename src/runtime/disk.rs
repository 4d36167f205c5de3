//! Local-disk helpers shared by the filesystem silo and the write-back
//! journal: durable folder changes, the lock that keeps two processes
//! from serving one folder, read-ahead hints, and writes that bypass the
//! page cache.

use std::fs::{File, TryLockError};
use std::io::{self, Write as _};
use std::os::fd::AsRawFd as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Alignment direct I/O asks of buffers, offsets and lengths: the largest
/// logical block size disks use.
const DIRECT_ALIGN: usize = 4096;
/// Aligned copy buffers kept between direct writes (as many as the
/// filesystem silo has writing threads), and the size of each at most.
const DIRECT_KEPT: usize = 2;
const DIRECT_KEPT_BYTES: usize = (4 << 20) + DIRECT_ALIGN;

/// Where direct writes copy their data (direct I/O needs an aligned
/// buffer), kept so that their pages are not faulted in at every write.
/// Shared, not per thread: any of the runtime's many blocking threads may
/// write, and a buffer each would hold megabytes per thread.
static DIRECT_BUFFERS: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

/// Create `path`, which must not exist, holding `bytes`: their whole 4 KiB
/// pages written with direct I/O (`O_DIRECT`: from memory to the disk
/// without a copy in the page cache) and the rest as usual. For large
/// blocks nothing reads back soon, filling the page cache costs more CPU
/// than everything else a node does with them (the kernel finds, zeroes
/// and charges a fresh page per 4 KiB), and their cached pages only push
/// out the small blocks worth keeping. The data is on the disk when this
/// returns (not yet durable: the file's size and extents are metadata,
/// made durable by an fsync). `Ok(None)` when the file system does not do
/// direct I/O (tmpfs before Linux 6.6, some FUSE file systems): the caller
/// writes it the usual way. On `Ok(None)` or an error nothing is left at
/// `path`.
pub fn create_direct(path: &Path, bytes: &[u8]) -> io::Result<Option<File>> {
    let written = open_direct(File::options().write(true).create_new(true), path, bytes);
    if !matches!(written, Ok(Some(_))) {
        let _ = std::fs::remove_file(path);
    }
    written
}

/// [`create_direct`] into the existing file at `path`, whose content it
/// replaces. On `Ok(None)` or an error the file is left there, its content
/// undefined.
pub fn rewrite_direct(path: &Path, bytes: &[u8]) -> io::Result<Option<File>> {
    open_direct(File::options().write(true).truncate(true), path, bytes)
}

/// Open `path` with `options` and `O_DIRECT`, then write `bytes` into it.
fn open_direct(options: &mut std::fs::OpenOptions, path: &Path, bytes: &[u8]) -> io::Result<Option<File>> {
    let refused = |e: &io::Error| e.raw_os_error() == Some(libc::EINVAL);
    let file = match options.custom_flags(libc::O_DIRECT).open(path) {
        Ok(file) => file,
        Err(e) if refused(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    match write_direct(file, bytes) {
        Ok(file) => Ok(Some(file)),
        Err(e) if refused(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Swap the files at `a` and `b`, which must both exist, in one step
/// (`renameat2` with `RENAME_EXCHANGE`): a reader of either path finds one
/// file or the other, never none. `Ok(false)` when the file system cannot
/// (some network and FUSE file systems): nothing changed.
pub fn exchange(a: &Path, b: &Path) -> io::Result<bool> {
    use std::os::unix::ffi::OsStrExt as _;
    let c_path = |path: &Path| {
        std::ffi::CString::new(path.as_os_str().as_bytes()).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
    };
    let (a, b) = (c_path(a)?, c_path(b)?);
    // SAFETY: both paths are NUL-terminated strings that outlive the call,
    // which only reads them.
    let result =
        unsafe { libc::renameat2(libc::AT_FDCWD, a.as_ptr(), libc::AT_FDCWD, b.as_ptr(), libc::RENAME_EXCHANGE) };
    if result == 0 {
        return Ok(true);
    }
    let error = io::Error::last_os_error();
    match error.raw_os_error() {
        Some(libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP) => Ok(false),
        _ => Err(error),
    }
}

/// Write `bytes` to `file`, opened with `O_DIRECT`: the whole pages from
/// an aligned copy, then the tail through the page cache.
fn write_direct(mut file: File, bytes: &[u8]) -> io::Result<File> {
    let whole = bytes.len() / DIRECT_ALIGN * DIRECT_ALIGN;
    let kept = DIRECT_BUFFERS.lock().unwrap_or_else(|e| e.into_inner()).pop();
    let mut buffer = kept.unwrap_or_default();
    let mut start = buffer.as_ptr().align_offset(DIRECT_ALIGN);
    if start.saturating_add(whole) > buffer.len() {
        buffer = vec![0; whole + DIRECT_ALIGN];
        start = buffer.as_ptr().align_offset(DIRECT_ALIGN);
    }
    let written = match buffer.get_mut(start..start + whole) {
        Some(aligned) => {
            aligned.copy_from_slice(&bytes[..whole]);
            file.write_all(aligned)
        }
        None => Err(io::Error::other("no aligned buffer")),
    };
    if buffer.len() <= DIRECT_KEPT_BYTES {
        let mut buffers = DIRECT_BUFFERS.lock().unwrap_or_else(|e| e.into_inner());
        if buffers.len() < DIRECT_KEPT {
            buffers.push(buffer);
        }
    }
    written?;
    // SAFETY: fcntl only reads and sets the open descriptor's flags;
    // `file` keeps it open for the duration of both calls.
    let flags = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETFL) };
    // SAFETY: as above.
    if flags < 0 || unsafe { libc::fcntl(file.as_raw_fd(), libc::F_SETFL, flags & !libc::O_DIRECT) } < 0 {
        return Err(io::Error::last_os_error());
    }
    file.write_all(&bytes[whole..])?;
    Ok(file)
}

/// Mark `dir` as the top of a hierarchy for ext4's allocator (the `T`
/// attribute of `chattr`): the folders made in it are spread over the
/// disk's block groups, each with room of its own, instead of packed next
/// to `dir`, where other programs' files come and go. ext4 without a
/// journal skips every inode freed in the last minutes, one by one, when
/// it picks an inode in a group; in a group where another program just
/// deleted thousands of files, each new block file cost a scan of them.
/// Only a hint: other file systems refuse it, which changes nothing.
pub fn spread_subfolders(dir: &Path) {
    /// `FS_TOPDIR_FL` of `linux/fs.h`.
    const TOPDIR: libc::c_long = 0x0002_0000;
    let Ok(folder) = File::open(dir) else { return };
    let mut flags: libc::c_long = 0;
    // SAFETY: both calls read or write one integer at the pointer, which
    // lives across them; `folder` keeps the descriptor open.
    unsafe {
        if libc::ioctl(folder.as_raw_fd(), libc::FS_IOC_GETFLAGS, &mut flags) == 0 && flags & TOPDIR == 0 {
            flags |= TOPDIR;
            let _ = libc::ioctl(folder.as_raw_fd(), libc::FS_IOC_SETFLAGS, &flags);
        }
    }
}

/// Make renames and removals in `dir` durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir).and_then(|d| d.sync_all())
}

/// Ask the kernel to start reading `file`'s pages now (they are about to
/// be read): a hint, that returns without waiting, and whose failure
/// changes nothing but speed.
pub fn will_need(file: &File) {
    // SAFETY: posix_fadvise only reads its integer arguments; the
    // descriptor is open for the duration of the call (`file` is borrowed).
    let _ = unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_WILLNEED) };
}

/// Tell the kernel that `file` is read at random: no read-ahead, so a
/// read of its first bytes does not bring in the next hundred kilobytes.
pub fn read_at_random(file: &File) {
    // SAFETY: as in `will_need`.
    let _ = unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_RANDOM) };
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

/// How many of the pages of the file at `path` are in the page cache.
#[cfg(test)]
pub(crate) fn cached_pages(path: &Path) -> usize {
    let file = File::open(path).unwrap();
    let len = usize::try_from(file.metadata().unwrap().len()).unwrap();
    assert!(len > 0, "{} is empty", path.display());
    let mut resident = vec![0u8; len.div_ceil(4096)];
    // SAFETY: a shared read-only mapping of `len` bytes (len > 0) of an
    // open file, unmapped below; mincore writes one byte per page into
    // `resident`, which holds one byte per page of `len`.
    unsafe {
        let map = libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ, libc::MAP_SHARED, file.as_raw_fd(), 0);
        assert_ne!(map, libc::MAP_FAILED);
        assert_eq!(libc::mincore(map, len, resident.as_mut_ptr()), 0);
        libc::munmap(map, len);
    }
    resident.iter().filter(|r| *r & 1 == 1).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On ext4 (these VMs), the folder gets the `T` attribute, and a folder
    /// that already has other attributes keeps them; elsewhere nothing
    /// fails.
    #[test]
    fn a_silo_root_is_marked_as_the_top_of_a_hierarchy() {
        let dir = tempfile::tempdir().unwrap();
        let flags = |path: &Path| -> Option<libc::c_long> {
            let folder = File::open(path).unwrap();
            let mut flags: libc::c_long = 0;
            // SAFETY: the call writes one integer at the pointer, which outlives it.
            let done = unsafe { libc::ioctl(folder.as_raw_fd(), libc::FS_IOC_GETFLAGS, &mut flags) };
            (done == 0).then_some(flags)
        };
        let Some(before) = flags(dir.path()) else {
            eprintln!("{} has no attributes: nothing to check", dir.path().display());
            spread_subfolders(dir.path());
            return;
        };
        spread_subfolders(dir.path());
        spread_subfolders(dir.path());
        let after = flags(dir.path()).unwrap();
        // SAFETY: statfs writes the struct, which outlives the call; the path is NUL-terminated.
        let ext4 = unsafe {
            let mut stat: libc::statfs = std::mem::zeroed();
            let path = std::ffi::CString::new(dir.path().as_os_str().as_encoded_bytes()).unwrap();
            libc::statfs(path.as_ptr(), &mut stat) == 0 && stat.f_type == 0xEF53
        };
        if ext4 {
            assert_eq!(after, before | 0x0002_0000, "the T attribute is set, and nothing else changed");
        }
    }

    #[test]
    fn direct_writes_keep_every_byte_and_skip_the_page_cache() {
        let dir = tempfile::tempdir().unwrap();
        // Sizes around the alignment, from a source that is not aligned.
        let source: Vec<u8> = (0..(1 << 20) + 9000).map(|i| (i * 7 + i / 4096) as u8).collect();
        for (n, len) in
            [DIRECT_ALIGN, 3 * DIRECT_ALIGN + 1, (1 << 20) + 40, (1 << 20) + 8999, 100].into_iter().enumerate()
        {
            let bytes = &source[1..1 + len];
            let path = dir.path().join(format!("b{n}"));
            let Some(file) = create_direct(&path, bytes).unwrap() else {
                eprintln!("no direct I/O in {}: nothing to check", dir.path().display());
                assert!(!path.exists());
                return;
            };
            drop(file);
            assert_eq!(std::fs::read(&path).unwrap(), bytes, "{len} bytes");
            assert!(create_direct(&path, bytes).is_err(), "an existing file is not replaced");
        }
        // A large block leaves at most its tail page in the page cache.
        let path = dir.path().join("cold");
        drop(create_direct(&path, &source[..(1 << 20) + 40]).unwrap().unwrap());
        let cached = cached_pages(&path);
        assert!(cached <= 1, "{cached} of 257 pages went through the page cache");
        // Where direct I/O is refused (tmpfs, in kernels before 6.6) nothing is left.
        let shm = Path::new("/dev/shm").join(format!("infinit-direct-{}", std::process::id()));
        match create_direct(&shm, &source[..3 * DIRECT_ALIGN]).unwrap() {
            Some(_) => assert_eq!(std::fs::read(&shm).unwrap(), &source[..3 * DIRECT_ALIGN]),
            None => assert!(!shm.exists()),
        }
        let _ = std::fs::remove_file(&shm);
    }
}
