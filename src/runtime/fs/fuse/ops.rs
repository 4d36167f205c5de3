//! The kernel's requests, one method each: resolve the inode, run the
//! operation on the file system, answer with attributes or an errno.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt as _;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use fuser::{
    Errno, FileHandle, FileType, Filesystem, FopenFlags, Generation, INodeNo, InitFlags, LockOwner, OpenFlags,
    RenameFlags, ReplyAttr, ReplyCreate, ReplyData, ReplyDirectory, ReplyEmpty, ReplyEntry, ReplyOpen, ReplyStatfs,
    ReplyWrite, ReplyXattr, Request, TimeOrNow, WriteFlags,
};

use super::{DirHandles, FuseVolume, Listing, ReadAhead, TTL, attr, errno, kind_of, name_of, to_time};
use crate::runtime::fs::error::libc_errno;
use crate::runtime::fs::{FileSystem, FsError, NodeKind, SetAttr, Stat, Time, lock};

/// Entries `readdirplus` prepares per reply (a reply rarely holds more).
const READDIRPLUS_BATCH: usize = 512;

/// What a listing shows of a child that cannot be read.
fn unreadable_stat(kind: NodeKind) -> Stat {
    let epoch = Time::default();
    Stat { kind, size: 0, nlink: 1, mode: 0, uid: 0, gid: 0, atime: epoch, mtime: epoch, ctime: epoch, rdev: 0 }
}

impl Filesystem for FuseVolume {
    fn init(&mut self, _req: &Request, config: &mut fuser::KernelConfig) -> std::io::Result<()> {
        // Read ahead up to a whole chunk; the kernel caps it at what it allows.
        let wanted = self.fs.block_size().min(1 << 20) as u32;
        if let Err(max) = config.set_max_readahead(wanted) {
            let _ = config.set_max_readahead(max);
        }
        // `ls -l` gets names and attributes in one round trip per batch.
        let _ = config.add_capabilities(InitFlags::FUSE_DO_READDIRPLUS | InitFlags::FUSE_READDIRPLUS_AUTO);
        // Set-ID bits and file capabilities are dropped here on chown,
        // write and truncate, not by the kernel, which would otherwise ask
        // for the attributes before every chown. It still asks for
        // `security.capability` before every write (FUSE file systems
        // never get `SB_NOSEC`): a trace of an untar shows one
        // `GETXATTR` per `write`.
        let _ = config.add_capabilities(InitFlags::FUSE_HANDLE_KILLPRIV_V2);
        Ok(())
    }

    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        let dir = resolve!(self, reply, parent);
        let name = check!(reply, name_of(name));
        let fs = self.fs.clone();
        self.entry_job(reply, async move { Ok(fs.lookup(dir, &name).await?.address) });
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        let address = resolve!(self, reply, ino);
        let fs = self.fs.clone();
        self.serve(async move {
            match fs.stat(address).await {
                Ok(node) => reply.attr(&TTL, &attr(ino.0, &node, fs.block_size())),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn setattr(
        &self,
        req: &Request,
        ino: INodeNo,
        mode: Option<u32>,
        uid: Option<u32>,
        gid: Option<u32>,
        size: Option<u64>,
        atime: Option<TimeOrNow>,
        mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        _fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<fuser::BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        let address = resolve!(self, reply, ino);
        check!(reply, self.writable());
        // What the kernel asks with `FATTR_KILL_SUIDGID` (which fuser does
        // not pass on): always on a change of owner, on a truncation when
        // the caller lacks `CAP_FSETID` (here: is not root).
        let drop_privileges = uid.is_some() || gid.is_some() || (size.is_some() && req.uid() != 0);
        let change =
            SetAttr { mode, uid, gid, size, atime: atime.map(to_time), mtime: mtime.map(to_time), drop_privileges };
        let fs = self.fs.clone();
        self.serve(async move {
            match fs.setattr(address, change).await {
                Ok(node) => reply.attr(&TTL, &attr(ino.0, &node, fs.block_size())),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn readlink(&self, _req: &Request, ino: INodeNo, reply: ReplyData) {
        let address = resolve!(self, reply, ino);
        let fs = self.fs.clone();
        self.serve(async move {
            match fs.readlink(address).await {
                Ok(target) => reply.data(&target),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn mknod(&self, req: &Request, parent: INodeNo, name: &OsStr, mode: u32, umask: u32, rdev: u32, reply: ReplyEntry) {
        const S_IFMT: u32 = 0o170000;
        let kind = match mode & S_IFMT {
            0 | 0o100000 => NodeKind::File,
            0o010000 => NodeKind::Fifo,
            0o140000 => NodeKind::Socket,
            0o020000 => NodeKind::CharDevice,
            0o060000 => NodeKind::BlockDevice,
            _ => return reply.error(Errno::from_i32(libc_errno::EINVAL)),
        };
        let dir = resolve!(self, reply, parent);
        check!(reply, self.writable());
        let name = check!(reply, name_of(name));
        let (fs, uid, gid) = (self.fs.clone(), req.uid(), req.gid());
        let mode = mode & !umask & 0o7777;
        self.entry_job(reply, async move {
            match kind {
                NodeKind::File => fs.create(dir, &name, mode, uid, gid).await,
                special => fs.mknod(dir, &name, special, mode, u64::from(rdev), uid, gid).await,
            }
        });
    }

    fn mkdir(&self, req: &Request, parent: INodeNo, name: &OsStr, mode: u32, umask: u32, reply: ReplyEntry) {
        let dir = resolve!(self, reply, parent);
        check!(reply, self.writable());
        let name = check!(reply, name_of(name));
        let (fs, uid, gid) = (self.fs.clone(), req.uid(), req.gid());
        self.entry_job(reply, async move { fs.mkdir(dir, &name, mode & !umask, uid, gid).await });
    }

    fn unlink(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        let dir = resolve!(self, reply, parent);
        check!(reply, self.writable());
        let name = check!(reply, name_of(name));
        let fs = self.fs.clone();
        self.empty_job(reply, async move { fs.unlink(dir, &name).await });
    }

    fn rmdir(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        let dir = resolve!(self, reply, parent);
        check!(reply, self.writable());
        let name = check!(reply, name_of(name));
        let fs = self.fs.clone();
        self.empty_job(reply, async move { fs.rmdir(dir, &name).await });
    }

    fn symlink(&self, req: &Request, parent: INodeNo, link_name: &OsStr, target: &Path, reply: ReplyEntry) {
        let dir = resolve!(self, reply, parent);
        check!(reply, self.writable());
        let name = check!(reply, name_of(link_name));
        let target = target.as_os_str().as_bytes().to_vec();
        let (fs, uid, gid) = (self.fs.clone(), req.uid(), req.gid());
        self.entry_job(reply, async move { fs.symlink(dir, &name, &target, uid, gid).await });
    }

    fn rename(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        newparent: INodeNo,
        newname: &OsStr,
        flags: RenameFlags,
        reply: ReplyEmpty,
    ) {
        let dir = resolve!(self, reply, parent);
        let newdir = resolve!(self, reply, newparent);
        check!(reply, self.writable());
        if flags.contains(RenameFlags::RENAME_EXCHANGE) || flags.contains(RenameFlags::RENAME_WHITEOUT) {
            return reply.error(Errno::from_i32(libc_errno::EINVAL));
        }
        let noreplace = flags.contains(RenameFlags::RENAME_NOREPLACE);
        let name = check!(reply, name_of(name));
        let newname = check!(reply, name_of(newname));
        let fs = self.fs.clone();
        self.empty_job(reply, async move { fs.rename(dir, &name, newdir, &newname, noreplace).await });
    }

    fn link(&self, _req: &Request, ino: INodeNo, newparent: INodeNo, newname: &OsStr, reply: ReplyEntry) {
        let address = resolve!(self, reply, ino);
        let newdir = resolve!(self, reply, newparent);
        check!(reply, self.writable());
        let name = check!(reply, name_of(newname));
        let fs = self.fs.clone();
        self.entry_job(reply, async move {
            fs.link(address, newdir, &name).await?;
            Ok(address)
        });
    }

    fn open(&self, _req: &Request, ino: INodeNo, flags: OpenFlags, reply: ReplyOpen) {
        let address = resolve!(self, reply, ino);
        const O_ACCMODE: i32 = 3;
        const O_TRUNC: i32 = 0o1000;
        let raw = flags.0;
        let writing = raw & O_ACCMODE != 0 || raw & O_TRUNC != 0;
        if writing {
            check!(reply, self.writable());
        }
        let fs = self.fs.clone();
        self.serve(async move {
            match fs.open_file(address).await {
                Ok(()) => reply.opened(FileHandle(0), FopenFlags::empty()),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn read(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        let address = resolve!(self, reply, ino);
        let fs = self.fs.clone();
        self.serve(async move {
            match fs.read(address, offset, size).await {
                Ok(data) => reply.data(&data),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn write(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        data: &[u8],
        write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        let address = resolve!(self, reply, ino);
        check!(reply, self.writable());
        let data = data.to_vec();
        let fs = self.fs.clone();
        let drop_privileges = write_flags.contains(WriteFlags::FUSE_WRITE_KILL_SUIDGID);
        self.serve(async move {
            let written = match fs.write(address, offset, &data).await {
                Ok(n) if drop_privileges => fs.drop_privileges(address).await.map(|()| n),
                other => other,
            };
            match written {
                Ok(n) => reply.written(n),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn flush(&self, _req: &Request, ino: INodeNo, _fh: FileHandle, _lock_owner: LockOwner, reply: ReplyEmpty) {
        let address = resolve!(self, reply, ino);
        let fs = self.fs.clone();
        self.empty_job(reply, async move { fs.flush(address).await });
    }

    fn fallocate(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        length: u64,
        mode: i32,
        reply: ReplyEmpty,
    ) {
        const FALLOC_FL_KEEP_SIZE: i32 = 1;
        let address = resolve!(self, reply, ino);
        check!(reply, self.writable());
        if mode & !FALLOC_FL_KEEP_SIZE != 0 {
            // Punching holes, zeroing or collapsing ranges: not yet.
            return reply.error(Errno::from_i32(libc_errno::EOPNOTSUPP));
        }
        let fs = self.fs.clone();
        let keep_size = mode & FALLOC_FL_KEEP_SIZE != 0;
        self.empty_job(reply, async move { fs.allocate(address, offset, length, keep_size).await });
    }

    fn release(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        _flush: bool,
        reply: ReplyEmpty,
    ) {
        let address = resolve!(self, reply, ino);
        let fs = self.fs.clone();
        self.empty_job(reply, async move { fs.release(address).await });
    }

    fn fsync(&self, _req: &Request, ino: INodeNo, _fh: FileHandle, _datasync: bool, reply: ReplyEmpty) {
        let address = resolve!(self, reply, ino);
        let fs = self.fs.clone();
        self.empty_job(reply, async move { fs.sync(Some(address)).await });
    }

    fn opendir(&self, _req: &Request, _ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        let fh = {
            let mut dirs = lock(&self.dirs);
            dirs.next += 1;
            let fh = dirs.next;
            dirs.open.insert(fh, None);
            fh
        };
        reply.opened(FileHandle(fh), FopenFlags::empty());
    }

    fn releasedir(&self, _req: &Request, _ino: INodeNo, fh: FileHandle, _flags: OpenFlags, reply: ReplyEmpty) {
        let mut dirs = lock(&self.dirs);
        dirs.open.remove(&fh.0);
        // Loading ahead for nobody: stop it (what it loaded stays).
        if let Some(ahead) = dirs.ahead.remove(&fh.0) {
            ahead.task.abort();
        }
        drop(dirs);
        reply.ok();
    }

    fn readdir(&self, _req: &Request, ino: INodeNo, fh: FileHandle, offset: u64, mut reply: ReplyDirectory) {
        let address = resolve!(self, reply, ino);
        let fs = self.fs.clone();
        let inodes = self.inodes.clone();
        let dirs = self.dirs.clone();
        self.serve(async move {
            let listing = match FuseVolume::listing(&fs, &dirs, address, fh.0, offset).await {
                Ok(l) => l,
                Err(e) => return reply.error(errno(&e)),
            };
            let dots = [(".", FileType::Directory, ino.0), ("..", FileType::Directory, ino.0)];
            for (i, (name, kind, child)) in dots.into_iter().enumerate().skip(offset as usize) {
                if reply.add(INodeNo(child), (i + 1) as u64, kind, name) {
                    return reply.ok();
                }
            }
            let first = (offset as usize).saturating_sub(2);
            for (i, (name, entry)) in listing.iter().enumerate().skip(first) {
                let child = lock(&inodes).ino(entry.address);
                if reply.add(INodeNo(child), (i + 3) as u64, kind_of(entry.kind), name) {
                    break;
                }
            }
            reply.ok();
        });
    }

    fn readdirplus(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        mut reply: fuser::ReplyDirectoryPlus,
    ) {
        let address = resolve!(self, reply, ino);
        let fs = self.fs.clone();
        let inodes = self.inodes.clone();
        let dirs = self.dirs.clone();
        self.serve(async move {
            let listing = match FuseVolume::listing(&fs, &dirs, address, fh.0, offset).await {
                Ok(l) => l,
                Err(e) => return reply.error(errno(&e)),
            };
            let own = match fs.stat(address).await {
                Ok(s) => s,
                Err(e) => return reply.error(errno(&e)),
            };
            let block_size = fs.block_size();
            for (i, name) in [".", ".."].into_iter().enumerate().skip(offset as usize) {
                if reply.add(ino, i as u64 + 1, name, &TTL, &attr(ino.0, &own, block_size), Generation(0)) {
                    return reply.ok();
                }
            }
            let first = (offset as usize).saturating_sub(2).min(listing.len());
            load_entries(&fs, &dirs, fh.0, &listing, first).await;
            for (index, (name, entry)) in listing.iter().enumerate().skip(first).take(READDIRPLUS_BATCH) {
                // A child that cannot be read is still listed (with no cached
                // attributes): the listing never hides an entry, and the
                // access itself reports EIO.
                let (stat, ttl) = match fs.stat(entry.address).await {
                    Ok(stat) => (stat, TTL),
                    Err(e) => {
                        tracing::warn!("{name:?} in a listed directory cannot be read: {e}");
                        (unreadable_stat(entry.kind), std::time::Duration::ZERO)
                    }
                };
                let child = lock(&inodes).ino(entry.address);
                let attr = attr(child, &stat, block_size);
                if reply.add(INodeNo(child), index as u64 + 3, name, &ttl, &attr, Generation(0)) {
                    // Not sent: a number no lookup holds would never be forgotten.
                    lock(&inodes).forget(child, 0);
                    break;
                }
                // The kernel holds a lookup on every entry it was given.
                lock(&inodes).looked_up_ino(child);
            }
            reply.ok();
        });
    }

    fn forget(&self, _req: &Request, ino: INodeNo, nlookup: u64) {
        if let Some(address) = lock(&self.inodes).forget(ino.0, nlookup) {
            self.fs.forget(address);
        }
    }

    fn fsyncdir(&self, _req: &Request, _ino: INodeNo, _fh: FileHandle, _datasync: bool, reply: ReplyEmpty) {
        let fs = self.fs.clone();
        self.empty_job(reply, async move { fs.sync(None).await });
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        let fs = self.fs.clone();
        self.serve(async move {
            match fs.statfs().await {
                Ok(stats) => {
                    let bsize = 4096u64;
                    // Unlimited silos report 1 PiB so tools see free space.
                    let capacity = stats.capacity.unwrap_or(1 << 50);
                    let total = capacity / bsize;
                    let free = capacity.saturating_sub(stats.used) / bsize;
                    // Like ext4's reserved blocks: free, but not for file content.
                    let available = capacity.saturating_sub(stats.used).saturating_sub(stats.reserved) / bsize;
                    reply.statfs(
                        total,
                        free,
                        available,
                        0,
                        0,
                        bsize as u32,
                        crate::runtime::fs::NAME_MAX as u32,
                        bsize as u32,
                    );
                }
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn setxattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        name: &OsStr,
        value: &[u8],
        flags: i32,
        _position: u32,
        reply: ReplyEmpty,
    ) {
        const XATTR_CREATE: i32 = 1;
        const XATTR_REPLACE: i32 = 2;
        let address = resolve!(self, reply, ino);
        check!(reply, self.writable());
        let name = check!(reply, name_of(name));
        let value = value.to_vec();
        let fs = self.fs.clone();
        self.empty_job(reply, async move {
            fs.setxattr(address, &name, &value, flags & XATTR_CREATE != 0, flags & XATTR_REPLACE != 0).await
        });
    }

    fn getxattr(&self, _req: &Request, ino: INodeNo, name: &OsStr, size: u32, reply: ReplyXattr) {
        let address = resolve!(self, reply, ino);
        let name = check!(reply, name_of(name));
        let fs = self.fs.clone();
        self.serve(async move {
            match fs.getxattr(address, &name).await {
                Ok(value) => xattr_reply(reply, size, &value),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn listxattr(&self, _req: &Request, ino: INodeNo, size: u32, reply: ReplyXattr) {
        let address = resolve!(self, reply, ino);
        let fs = self.fs.clone();
        self.serve(async move {
            match fs.listxattr(address).await {
                Ok(names) => {
                    let mut buf = Vec::new();
                    for n in names {
                        buf.extend_from_slice(n.as_bytes());
                        buf.push(0);
                    }
                    xattr_reply(reply, size, &buf);
                }
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn removexattr(&self, _req: &Request, ino: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        let address = resolve!(self, reply, ino);
        check!(reply, self.writable());
        let name = check!(reply, name_of(name));
        let fs = self.fs.clone();
        self.empty_job(reply, async move { fs.removexattr(address, &name).await });
    }

    fn access(&self, _req: &Request, _ino: INodeNo, _mask: fuser::AccessFlags, reply: ReplyEmpty) {
        // `default_permissions` makes the kernel check modes itself.
        reply.ok();
    }

    fn create(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        _flags: i32,
        reply: ReplyCreate,
    ) {
        let dir = resolve!(self, reply, parent);
        check!(reply, self.writable());
        let name = check!(reply, name_of(name));
        let (fs, uid, gid) = (self.fs.clone(), req.uid(), req.gid());
        let inodes = self.inodes.clone();
        self.serve(async move {
            let result = async {
                let address = fs.create(dir, &name, mode & !umask, uid, gid).await?;
                fs.open_file(address).await?;
                let node = fs.stat(address).await?;
                Ok::<_, FsError>((address, node))
            }
            .await;
            match result {
                Ok((address, node)) => {
                    let ino = lock(&inodes).looked_up(address);
                    let attr = attr(ino, &node, fs.block_size());
                    reply.created(&TTL, &attr, Generation(0), FileHandle(0), FopenFlags::empty());
                }
                Err(e) => reply.error(errno(&e)),
            }
        });
    }
}

/// Load the nodes of the entries of `listing` (read through directory
/// handle `fh`) that a `readdirplus` reply from entry `first` on may hold,
/// so that their `stat`s are found in memory: in batched reads side by
/// side, and the next entries' meanwhile, in the background, while the
/// kernel consumes this reply.
async fn load_entries(fs: &Arc<FileSystem>, dirs: &Mutex<DirHandles>, fh: u64, listing: &Listing, first: usize) {
    let this = first..(first + READDIRPLUS_BATCH).min(listing.len());
    let ahead = lock(dirs).ahead.remove(&fh);
    if let Some(ahead) = ahead
        && ahead.range.start < this.end
        && this.start < ahead.range.end
    {
        // Some of these are loading already: fetching them again would cost more than waiting.
        let _ = ahead.task.await;
    }
    let addresses: Vec<_> = listing[this.clone()].iter().map(|(_, entry)| entry.address).collect();
    fs.prefetch(&addresses).await;
    let next = this.end..(this.end + READDIRPLUS_BATCH).min(listing.len());
    if next.is_empty() {
        return;
    }
    let (fs, listing, range) = (fs.clone(), listing.clone(), next.clone());
    let task = tokio::spawn(async move {
        let addresses: Vec<_> = listing[range].iter().map(|(_, entry)| entry.address).collect();
        fs.prefetch(&addresses).await;
    });
    let mut dirs = lock(dirs);
    // (The read-ahead of a handle released meanwhile finishes alone.)
    if dirs.open.contains_key(&fh)
        && let Some(old) = dirs.ahead.insert(fh, ReadAhead { range: next, task })
    {
        old.task.abort();
    }
}

fn xattr_reply(reply: ReplyXattr, size: u32, value: &[u8]) {
    if size == 0 {
        reply.size(value.len() as u32);
    } else if value.len() > size as usize {
        reply.error(Errno::from_i32(libc_errno::ERANGE));
    } else {
        reply.data(value);
    }
}
