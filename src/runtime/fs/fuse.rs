//! The FUSE binding: the only file that knows `fuser`. Kernel requests name
//! inodes; this maps them to node addresses, runs each operation on the
//! tokio runtime from one of fuser's four threads (running it in place
//! rather than handing it to a worker halves the latency of the many small
//! metadata operations) and answers with POSIX error numbers.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt as _;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use fuser::{
    Config, Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags, Generation, INodeNo, InitFlags, LockOwner,
    MountOption, OpenFlags, RenameFlags, ReplyAttr, ReplyCreate, ReplyData, ReplyDirectory, ReplyEmpty, ReplyEntry,
    ReplyOpen, ReplyStatfs, ReplyWrite, ReplyXattr, Request, SessionUnmounter, TimeOrNow, WriteFlags,
};

use super::error::libc_errno;
use super::{FileSystem, FsError, NodeKind, SetAttr, Stat, Time, lock};
use crate::runtime::block::Address;

/// How long the kernel may cache attributes and entries.
const TTL: Duration = Duration::from_secs(1);
const EROFS: i32 = 30;

/// Inode numbers handed to the kernel, and the node each one names.
#[derive(Debug, Default)]
struct Inodes {
    by_ino: HashMap<u64, Address>,
    by_address: HashMap<Address, u64>,
    next: u64,
}

impl Inodes {
    fn ino(&mut self, address: Address) -> u64 {
        if let Some(&ino) = self.by_address.get(&address) {
            return ino;
        }
        self.next += 1;
        let ino = self.next;
        self.by_ino.insert(ino, address);
        self.by_address.insert(address, ino);
        ino
    }
}

/// Options of a mount.
#[derive(Debug, Clone, Default)]
pub struct MountSettings {
    /// Refuse every change.
    pub readonly: bool,
    /// Extra `-o` options given by the user.
    pub fuse_options: Vec<String>,
    /// Name shown in the mount table.
    pub fsname: String,
}

/// The kernel-facing side of a mounted volume.
#[derive(Debug)]
pub struct FuseVolume {
    fs: Arc<FileSystem>,
    runtime: tokio::runtime::Handle,
    inodes: Arc<Mutex<Inodes>>,
    readonly: bool,
}

/// A live mount; dropping it does not unmount (call [`Mounted::unmount`]).
pub struct Mounted {
    session: std::thread::JoinHandle<std::io::Result<()>>,
    unmounter: SessionUnmounter,
    mountpoint: std::path::PathBuf,
}

impl std::fmt::Debug for Mounted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Mounted")
    }
}

impl Mounted {
    /// Serve until the volume is unmounted from outside (`fusermount -u`)
    /// or a stop is asked (`stop` completes). A first stop unmounts if
    /// nothing uses the mount; if it is busy, `busy` is told and serving
    /// goes on; the next stop detaches the mount lazily (it disappears at
    /// once; open files get errors) and serving ends soon after.
    pub async fn serve_until<S, F>(self, mut stop: S, busy: impl Fn(&std::io::Error)) -> std::io::Result<()>
    where
        S: FnMut() -> F,
        F: std::future::Future<Output = ()>,
    {
        let Mounted { session, mut unmounter, mountpoint } = self;
        let joined = tokio::task::spawn_blocking(move || {
            session.join().unwrap_or_else(|_| Err(std::io::Error::other("the FUSE session thread panicked")))
        });
        tokio::pin!(joined);
        let mut asked = 0;
        loop {
            tokio::select! {
                ended = &mut joined => return ended.map_err(std::io::Error::other)?,
                () = stop() => {
                    asked += 1;
                    // fuser forgets the mount after a failed attempt: the
                    // second stop detaches it ourselves.
                    let attempt = if asked == 1 { unmounter.unmount() } else { Err(std::io::Error::other("forced")) };
                    match attempt {
                        Ok(()) => return joined.await.map_err(std::io::Error::other)?,
                        Err(e) if asked == 1 => busy(&e),
                        Err(_) => {
                            detach(&mountpoint)?;
                            // Open handles keep the session alive: stop waiting after a moment.
                            return match tokio::time::timeout(std::time::Duration::from_secs(5), joined).await {
                                Ok(ended) => ended.map_err(std::io::Error::other)?,
                                Err(_) => Ok(()),
                            };
                        }
                    }
                }
            }
        }
    }
}

/// Lazily unmount `path` (MNT_DETACH): it leaves the namespace at once.
fn detach(path: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt as _;
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes()).map_err(std::io::Error::other)?;
    // SAFETY: `c_path` is a valid NUL-terminated string that outlives the call.
    if unsafe { libc::umount2(c_path.as_ptr(), libc::MNT_DETACH) } == 0 {
        return Ok(());
    }
    let status = std::process::Command::new("fusermount3").args(["-u", "-z"]).arg(path).status()?;
    if status.success() { Ok(()) } else { Err(std::io::Error::other("fusermount3 -u -z failed")) }
}

/// Mount `fs` on `mountpoint`.
pub fn mount(
    fs: Arc<FileSystem>,
    runtime: tokio::runtime::Handle,
    mountpoint: &Path,
    settings: &MountSettings,
) -> std::io::Result<Mounted> {
    let mut inodes = Inodes { next: 1, ..Default::default() };
    inodes.by_ino.insert(1, fs.root());
    inodes.by_address.insert(fs.root(), 1);
    let volume = FuseVolume { fs, runtime, inodes: Arc::new(Mutex::new(inodes)), readonly: settings.readonly };
    let mut options = vec![
        MountOption::FSName(settings.fsname.clone()),
        MountOption::Subtype("infinit".into()),
        MountOption::DefaultPermissions,
        MountOption::NoAtime,
    ];
    if settings.readonly {
        options.push(MountOption::RO);
    }
    options.extend(settings.fuse_options.iter().map(|o| MountOption::CUSTOM(o.clone())));
    let mut config = Config::default();
    config.mount_options = options;
    config.n_threads = Some(4);
    let mut session = fuser::Session::new(volume, mountpoint, &config)?;
    // Run the session on our own thread rather than `spawn()`: spawning
    // moves the mount out of reach of the unmounter.
    let unmounter = session.unmount_callable();
    let session = std::thread::Builder::new().name("infinit-fuse".into()).spawn(move || session.run())?;
    Ok(Mounted { session, unmounter, mountpoint: mountpoint.to_path_buf() })
}

fn errno(e: &FsError) -> Errno {
    Errno::from_i32(e.errno())
}

fn kind_of(kind: NodeKind) -> FileType {
    match kind {
        NodeKind::Directory => FileType::Directory,
        NodeKind::File => FileType::RegularFile,
        NodeKind::Symlink => FileType::Symlink,
    }
}

fn attr(ino: u64, stat: &Stat, block_size: u64) -> FileAttr {
    FileAttr {
        ino: INodeNo(ino),
        size: stat.size,
        blocks: stat.size.div_ceil(512),
        atime: stat.atime.to_system(),
        mtime: stat.mtime.to_system(),
        ctime: stat.ctime.to_system(),
        crtime: stat.ctime.to_system(),
        kind: kind_of(stat.kind),
        perm: (stat.mode & 0o7777) as u16,
        nlink: stat.nlink,
        uid: stat.uid,
        gid: stat.gid,
        rdev: 0,
        blksize: block_size.min(1 << 20) as u32,
        flags: 0,
    }
}

fn to_time(t: TimeOrNow) -> Time {
    match t {
        TimeOrNow::Now => Time::now(),
        TimeOrNow::SpecificTime(s) => Time::from_system(s),
    }
}

fn name_of(name: &OsStr) -> Result<String, Errno> {
    name.to_str().map(str::to_string).ok_or(Errno::from_i32(libc_errno::EINVAL))
}

impl FuseVolume {
    fn address(&self, ino: INodeNo) -> Result<Address, Errno> {
        lock(&self.inodes).by_ino.get(&ino.0).copied().ok_or(Errno::from_i32(libc_errno::ENOENT))
    }

    fn writable(&self) -> Result<(), Errno> {
        if self.readonly { Err(Errno::from_i32(EROFS)) } else { Ok(()) }
    }

    /// Run `job` on the runtime, from this fuser thread; it owns the reply.
    fn serve<F>(&self, job: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        self.runtime.block_on(job);
    }

    /// Reply to an entry-creating operation with the new node's attributes.
    fn entry_job(
        &self,
        reply: ReplyEntry,
        make: impl std::future::Future<Output = Result<Address, FsError>> + Send + 'static,
    ) {
        let fs = self.fs.clone();
        let inodes = self.inodes.clone();
        self.serve(async move {
            let result = async {
                let address = make.await?;
                let node = fs.stat(address).await?;
                Ok::<_, FsError>((address, node))
            }
            .await;
            match result {
                Ok((address, node)) => {
                    let ino = lock(&inodes).ino(address);
                    reply.entry(&TTL, &attr(ino, &node, fs.block_size()), Generation(0));
                }
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn empty_job(
        &self,
        reply: ReplyEmpty,
        job: impl std::future::Future<Output = Result<(), FsError>> + Send + 'static,
    ) {
        self.serve(async move {
            match job.await {
                Ok(()) => reply.ok(),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }
}

macro_rules! resolve {
    ($self:ident, $reply:ident, $ino:expr) => {
        match $self.address($ino) {
            Ok(a) => a,
            Err(e) => return $reply.error(e),
        }
    };
}

macro_rules! check {
    ($reply:ident, $result:expr) => {
        match $result {
            Ok(v) => v,
            Err(e) => return $reply.error(e),
        }
    };
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
        _req: &Request,
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
        let change = SetAttr { mode, uid, gid, size, atime: atime.map(to_time), mtime: mtime.map(to_time) };
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

    fn mknod(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        _rdev: u32,
        reply: ReplyEntry,
    ) {
        const S_IFMT: u32 = 0o170000;
        const S_IFREG: u32 = 0o100000;
        if mode & S_IFMT != S_IFREG && mode & S_IFMT != 0 {
            return reply.error(Errno::from_i32(libc_errno::EPERM));
        }
        let dir = resolve!(self, reply, parent);
        check!(reply, self.writable());
        let name = check!(reply, name_of(name));
        let (fs, uid, gid) = (self.fs.clone(), req.uid(), req.gid());
        self.entry_job(reply, async move { fs.create(dir, &name, mode & !umask, uid, gid).await });
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
        _write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        let address = resolve!(self, reply, ino);
        check!(reply, self.writable());
        let data = data.to_vec();
        let fs = self.fs.clone();
        self.serve(async move {
            match fs.write(address, offset, &data).await {
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

    fn readdir(&self, _req: &Request, ino: INodeNo, _fh: FileHandle, offset: u64, mut reply: ReplyDirectory) {
        let address = resolve!(self, reply, ino);
        let fs = self.fs.clone();
        let inodes = self.inodes.clone();
        self.serve(async move {
            let entries = match fs.readdir(address).await {
                Ok(e) => e,
                Err(e) => return reply.error(errno(&e)),
            };
            let mut all: Vec<(u64, FileType, String)> =
                vec![(ino.0, FileType::Directory, ".".into()), (ino.0, FileType::Directory, "..".into())];
            {
                let mut inodes = lock(&inodes);
                for (name, entry) in entries {
                    all.push((inodes.ino(entry.address), kind_of(entry.kind), name));
                }
            }
            for (i, (child, kind, name)) in all.into_iter().enumerate().skip(offset as usize) {
                if reply.add(INodeNo(child), (i + 1) as u64, kind, &name) {
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
        _fh: FileHandle,
        offset: u64,
        mut reply: fuser::ReplyDirectoryPlus,
    ) {
        let address = resolve!(self, reply, ino);
        let fs = self.fs.clone();
        let inodes = self.inodes.clone();
        self.serve(async move {
            let entries = match fs.readdir(address).await {
                Ok(e) => e,
                Err(e) => return reply.error(errno(&e)),
            };
            let own = match fs.stat(address).await {
                Ok(s) => s,
                Err(e) => return reply.error(errno(&e)),
            };
            let mut all: Vec<(u64, String, Stat)> = vec![(ino.0, ".".into(), own), (ino.0, "..".into(), own)];
            for (name, entry) in entries.into_iter().skip((offset as usize).saturating_sub(2)) {
                match fs.stat(entry.address).await {
                    Ok(stat) => {
                        let child = lock(&inodes).ino(entry.address);
                        all.push((child, name, stat));
                    }
                    Err(e) => return reply.error(errno(&e)),
                }
                if all.len() >= 512 {
                    break;
                }
            }
            let first = offset.min(2) as usize;
            for (i, (child, name, stat)) in all.into_iter().enumerate().skip(first) {
                let next = if i < 2 { i as u64 + 1 } else { offset.max(2) + (i as u64 - 2) + 1 };
                if reply.add(INodeNo(child), next, &name, &TTL, &attr(child, &stat, fs.block_size()), Generation(0)) {
                    break;
                }
            }
            reply.ok();
        });
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
                    reply.statfs(total, free, free, 0, 0, bsize as u32, super::NAME_MAX as u32, bsize as u32);
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
                    let ino = lock(&inodes).ino(address);
                    let attr = attr(ino, &node, fs.block_size());
                    reply.created(&TTL, &attr, Generation(0), FileHandle(0), FopenFlags::empty());
                }
                Err(e) => reply.error(errno(&e)),
            }
        });
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
