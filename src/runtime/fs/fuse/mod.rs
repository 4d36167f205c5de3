//! The FUSE binding: the only module that knows `fuser` (`ops.rs` holds the
//! request handlers, this file the mount and its life cycle). Kernel requests name
//! inodes; this maps them to node addresses, runs each operation on the
//! tokio runtime from one of fuser's four threads (running it in place
//! rather than handing it to a worker halves the latency of the many small
//! metadata operations) and answers with POSIX error numbers.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fuser::{
    Config, Errno, FileAttr, FileType, Generation, INodeNo, MountOption, ReplyEmpty, ReplyEntry, SessionUnmounter,
    TimeOrNow,
};

use super::error::libc_errno;
use super::{FileSystem, FsError, NodeKind, Stat, Time, lock};
use crate::runtime::block::Address;

/// How long the kernel may cache attributes and entries.
const TTL: Duration = Duration::from_secs(1);
const EROFS: i32 = 30;

/// Inode numbers handed to the kernel, the node each one names, and how
/// many lookups the kernel holds on it (released by `forget`, after which
/// the number and the node's memory are freed).
///
/// The kernel keeps an inode for every file it has seen until memory is
/// short, so this table holds millions of entries on a large volume: it
/// is one slot of 40 bytes per inode (number = position + 1, freed
/// numbers reused) and a reverse index of slot numbers hashed by address:
/// 50–100 bytes per inode where two std maps took 100–200.
#[derive(Debug, Default)]
struct Inodes {
    /// Inode `n` is `slots[n - 1]`; a free slot has no lookups and is in `free`.
    slots: Vec<Inode>,
    /// Slots of the inodes, by address.
    by_address: hashbrown::HashTable<u64>,
    /// Free slots, reused first.
    free: Vec<u64>,
}

#[derive(Debug, Clone, Copy)]
struct Inode {
    address: Address,
    /// Lookups the kernel holds; `FREE` for a free slot.
    lookups: u64,
}

/// `Inode::lookups` of a free slot.
const FREE: u64 = u64::MAX;

/// The hash of an address in the reverse index: addresses are BLAKE3
/// outputs, so any eight bytes of one are evenly spread.
fn address_hash(address: &Address) -> u64 {
    let mut bytes = [0; 8];
    bytes.copy_from_slice(&address.0[..8]);
    u64::from_le_bytes(bytes)
}

impl Inodes {
    /// The slot of `address`, if it has an inode number.
    fn slot(&self, address: &Address) -> Option<u64> {
        self.by_address.find(address_hash(address), |&s| self.slots[s as usize].address == *address).copied()
    }

    /// The inode number of `address`, if it has one.
    fn known(&self, address: &Address) -> Option<u64> {
        self.slot(address).map(|slot| slot + 1)
    }

    /// The inode number of `address`, without counting a lookup.
    fn ino(&mut self, address: Address) -> u64 {
        let slot = match self.slot(&address) {
            Some(slot) => slot,
            None => self.insert(address),
        };
        slot + 1
    }

    /// A new inode for `address` (which has none), with no lookup yet.
    fn insert(&mut self, address: Address) -> u64 {
        let inode = Inode { address, lookups: 0 };
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = inode;
                slot
            }
            None => {
                self.slots.push(inode);
                self.slots.len() as u64 - 1
            }
        };
        let slots = &self.slots;
        self.by_address.insert_unique(address_hash(&address), slot, |&s| address_hash(&slots[s as usize].address));
        slot
    }

    /// The slot of inode number `ino`, if it is in use.
    fn live(&mut self, ino: u64) -> Option<&mut Inode> {
        let index = usize::try_from(ino.checked_sub(1)?).ok()?;
        self.slots.get_mut(index).filter(|i| i.lookups != FREE)
    }

    /// The inode number of `address`, handed to the kernel in an entry reply.
    fn looked_up(&mut self, address: Address) -> u64 {
        let ino = self.ino(address);
        self.looked_up_ino(ino);
        ino
    }

    /// One more lookup of inode `ino` (a `readdirplus` entry).
    fn looked_up_ino(&mut self, ino: u64) {
        if let Some(inode) = self.live(ino) {
            inode.lookups += 1;
        }
    }

    /// The kernel dropped `n` lookups of `ino`; the node it named once none is left.
    fn forget(&mut self, ino: u64, n: u64) -> Option<Address> {
        let inode = self.live(ino)?;
        inode.lookups = inode.lookups.saturating_sub(n);
        if inode.lookups > 0 || ino == 1 {
            return None;
        }
        inode.lookups = FREE;
        let address = inode.address;
        let slot = ino - 1;
        if let Ok(entry) = self.by_address.find_entry(address_hash(&address), |&s| s == slot) {
            entry.remove();
        }
        self.free.push(slot);
        Some(address)
    }

    /// The node inode `ino` names.
    fn address(&self, ino: u64) -> Option<Address> {
        let index = usize::try_from(ino.checked_sub(1)?).ok()?;
        self.slots.get(index).filter(|i| i.lookups != FREE).map(|i| i.address)
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

/// A directory's entries as listed when a reading of it started (at
/// offset 0): the kernel reads a large directory in many small replies,
/// each resuming at an offset into this one listing, so a listing costs
/// one copy of the entries, not one per reply.
type Listing = Arc<Vec<(String, super::Entry)>>;

/// Open directory handles and the listing each one reads.
#[derive(Debug, Default)]
struct DirHandles {
    next: u64,
    open: HashMap<u64, Option<Listing>>,
    /// The nodes of the next entries of a `readdirplus` listing, loading
    /// while the kernel consumes the reply before (by handle).
    ahead: HashMap<u64, ReadAhead>,
}

/// Entries `range` of a listing, whose nodes a task is loading.
#[derive(Debug)]
struct ReadAhead {
    range: std::ops::Range<usize>,
    task: tokio::task::JoinHandle<()>,
}

/// The kernel-facing side of a mounted volume.
#[derive(Debug)]
pub struct FuseVolume {
    fs: Arc<FileSystem>,
    runtime: tokio::runtime::Handle,
    inodes: Arc<Mutex<Inodes>>,
    dirs: Arc<Mutex<DirHandles>>,
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

/// Drop what the kernel caches of nodes other writers changed, from a
/// thread of its own (a notification sent from a request handler could
/// wait on that very handler).
fn invalidate_on_changes(
    notifier: fuser::Notifier,
    inodes: Arc<Mutex<Inodes>>,
    mut changes: tokio::sync::mpsc::UnboundedReceiver<super::Change>,
) {
    std::thread::spawn(move || {
        while let Some(change) = changes.blocking_recv() {
            let (address, name) = match &change {
                super::Change::Node(a) => (*a, None),
                super::Change::Entry(a, n) => (*a, Some(n)),
            };
            let Some(ino) = lock(&inodes).known(&address) else { continue };
            // The kernel may not know the inode or name any more: nothing to drop.
            let _ = match name {
                None => notifier.inval_inode(INodeNo(ino), 0, 0),
                Some(name) => notifier.inval_entry(INodeNo(ino), OsStr::new(name)),
            };
        }
    });
}

/// Mount `fs` on `mountpoint`.
pub fn mount(
    fs: Arc<FileSystem>,
    runtime: tokio::runtime::Handle,
    mountpoint: &Path,
    settings: &MountSettings,
) -> std::io::Result<Mounted> {
    let mut inodes = Inodes::default();
    // The root is inode 1, with the one lookup the kernel never forgets.
    inodes.looked_up(fs.root());
    let volume = FuseVolume {
        fs,
        runtime,
        inodes: Arc::new(Mutex::new(inodes)),
        dirs: Arc::default(),
        readonly: settings.readonly,
    };
    let mut options = vec![
        MountOption::FSName(settings.fsname.clone()),
        MountOption::Subtype("infinit".into()),
        MountOption::DefaultPermissions,
        MountOption::NoAtime,
    ];
    if settings.readonly {
        options.push(MountOption::RO);
    }
    // Other users reach the volume when root mounts it (as GlusterFS
    // mounts do) or when `allow_other` is asked; the kernel then checks
    // permissions (`default_permissions`), and fuser must not refuse them.
    let asked_other = settings.fuse_options.iter().any(|o| o == "allow_other");
    // SAFETY: geteuid has no preconditions and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    options.extend(
        settings.fuse_options.iter().filter(|o| o.as_str() != "allow_other").map(|o| MountOption::CUSTOM(o.clone())),
    );
    let mut config = Config::default();
    if asked_other || root {
        // (fuser adds the `allow_other` mount option for this ACL.)
        config.acl = fuser::SessionACL::All;
    }
    config.mount_options = options;
    config.n_threads = Some(4);
    let changes = volume.fs.watch_changes();
    let watched = volume.inodes.clone();
    let mut session = fuser::Session::new(volume, mountpoint, &config)?;
    invalidate_on_changes(session.notifier(), watched, changes);
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
        NodeKind::Fifo => FileType::NamedPipe,
        NodeKind::Socket => FileType::Socket,
        NodeKind::CharDevice => FileType::CharDevice,
        NodeKind::BlockDevice => FileType::BlockDevice,
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
        rdev: stat.rdev as u32,
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
        lock(&self.inodes).address(ino.0).ok_or(Errno::from_i32(libc_errno::ENOENT))
    }

    /// The listing directory handle `fh` reads from `offset` on: taken
    /// afresh at offset 0 (an open or a `rewinddir`), kept for the rest.
    async fn listing(
        fs: &FileSystem,
        dirs: &Mutex<DirHandles>,
        dir: Address,
        fh: u64,
        offset: u64,
    ) -> Result<Listing, FsError> {
        if offset > 0
            && let Some(Some(listing)) = lock(dirs).open.get(&fh)
        {
            return Ok(listing.clone());
        }
        let listing = Arc::new(fs.readdir(dir).await?);
        if let Some(slot) = lock(dirs).open.get_mut(&fh) {
            *slot = Some(listing.clone());
        }
        Ok(listing)
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
                    let ino = lock(&inodes).looked_up(address);
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

mod ops;

#[cfg(test)]
mod tests {
    use super::*;

    fn address(i: u32) -> Address {
        Address::content(None, &i.to_le_bytes())
    }

    #[test]
    fn an_address_keeps_its_inode_number_until_the_kernel_forgets_every_lookup() {
        let mut inodes = Inodes::default();
        assert_eq!(inodes.looked_up(address(0)), 1, "the root is inode 1");
        let a = inodes.looked_up(address(1));
        assert_eq!(inodes.looked_up(address(1)), a, "a second lookup names the same inode");
        let b = inodes.looked_up(address(2));
        assert_ne!(a, b);
        assert_eq!(inodes.address(a), Some(address(1)));
        assert_eq!(inodes.forget(a, 1), None, "one lookup is still held");
        assert_eq!(inodes.known(&address(1)), Some(a));
        assert_eq!(inodes.forget(a, 1), Some(address(1)));
        assert_eq!(inodes.address(a), None, "a forgotten number names nothing");
        assert_eq!(inodes.known(&address(1)), None);
        assert_eq!(inodes.forget(a, 1), None, "a second forget of a free number is ignored");
        // The freed number is reused, for another address; the others are untouched.
        assert_eq!(inodes.looked_up(address(3)), a);
        assert_eq!(inodes.address(a), Some(address(3)));
        assert_eq!(inodes.address(b), Some(address(2)));
        assert_eq!(inodes.known(&address(2)), Some(b));
        assert_eq!(inodes.forget(1, 5), None, "the root is never forgotten");
        assert_eq!(inodes.address(1), Some(address(0)));
        assert_eq!(inodes.address(0), None);
        assert_eq!(inodes.address(u64::MAX), None);
    }

    #[test]
    fn many_inodes_come_and_go_and_each_address_finds_its_own() {
        let mut inodes = Inodes::default();
        inodes.looked_up(address(0));
        let numbers: Vec<u64> = (1..20_000).map(|i| inodes.looked_up(address(i))).collect();
        for (i, &ino) in (1..20_000).zip(&numbers) {
            if i % 2 == 0 {
                assert_eq!(inodes.forget(ino, 1), Some(address(i)));
            }
        }
        for (i, &ino) in (1..20_000).zip(&numbers) {
            let expected = (i % 2 == 1).then_some(ino);
            assert_eq!(inodes.known(&address(i)), expected, "address {i}");
        }
        // New addresses fill the 9,999 freed numbers before the table grows.
        let before = inodes.slots.len();
        for i in 20_000..29_999 {
            inodes.looked_up(address(i));
        }
        assert_eq!(inodes.slots.len(), before);
        for i in 20_000..29_999 {
            let ino = inodes.known(&address(i)).unwrap();
            assert_eq!(inodes.address(ino), Some(address(i)));
        }
    }
}
