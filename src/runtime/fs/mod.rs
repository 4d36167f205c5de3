//! The file system on blocks. The volume's root directory is found through a
//! named block; every node (directory, file, symlink) is an
//! access-controlled block whose data is the encoded [`model::Node`]; file
//! content lives in encrypted immutable content blocks of `block_size`
//! bytes, small files inline in their header. Every change is a
//! read-modify-write of one block at its next version: when another writer
//! won, the change (the *intent*) is replayed on the current version.
//!
//! Nodes are named by their block [`Address`]; `fuse.rs` maps addresses to
//! inode numbers.

pub mod check;
pub mod error;
pub mod file;
pub mod fuse;
mod intent;
mod lease;
pub mod merge;
pub mod model;
pub mod mountpoint;
mod nodes;
pub mod patch;
pub mod shard;

pub use nodes::Change;

#[cfg(test)]
mod safety_tests;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

pub use error::FsError;
use file::OpenFile;
use intent::{Attributes, Intent};
pub use model::{Entry, Meta, Node, NodeKind, Time};
use nodes::Dep;

use super::block::{Address, Block, NamedBlock};
use super::consensus::{Consensus, Expect, Fetched, ReadLevel};
use crate::crypto::{KeyPair, PublicKey};

/// Result type of file system operations.
pub type FsResult<T> = Result<T, FsError>;

/// Longest file name, as on most POSIX file systems.
pub const NAME_MAX: usize = 255;

/// Nodes read in one batch by [`FileSystem::prefetch`]: few enough that
/// a listing's batches keep both cores and the disk busy, many enough
/// that a batch's hand-offs cost little next to its reads.
const PREFETCH_CHUNK: usize = 8;

/// Attribute changes requested by `setattr`.
#[derive(Debug, Clone, Default)]
pub struct SetAttr {
    /// New permission bits.
    pub mode: Option<u32>,
    /// New owner.
    pub uid: Option<u32>,
    /// New group.
    pub gid: Option<u32>,
    /// New size (truncate or extend with zeros).
    pub size: Option<u64>,
    /// New access time.
    pub atime: Option<Time>,
    /// New modification time.
    pub mtime: Option<Time>,
    /// Drop the privileges a change of owner or content takes away
    /// (see [`Attributes::drop_privileges`]).
    pub drop_privileges: bool,
}

/// What `stat` shows of a node.
#[derive(Debug, Clone, Copy)]
pub struct Stat {
    /// Directory, file or symlink.
    pub kind: NodeKind,
    /// Size in bytes.
    pub size: u64,
    /// Number of names (directories: 2 + subdirectories).
    pub nlink: u32,
    /// Permission bits.
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Access time.
    pub atime: Time,
    /// Modification time.
    pub mtime: Time,
    /// Change time.
    pub ctime: Time,
    /// Device number of a device node.
    pub rdev: u64,
}

/// Statistics for `statfs`.
#[derive(Debug, Clone, Copy)]
pub struct FsStats {
    /// Bytes stored.
    pub used: u64,
    /// Bytes offered, if limited.
    pub capacity: Option<u64>,
    /// Bytes of the capacity kept from file content (`df` does not show
    /// them as available).
    pub reserved: u64,
    /// The volume's block size.
    pub block_size: u64,
}

/// A mounted volume's file system. Its `Debug` shows the volume, not the
/// user's keys, nodes, open files or decrypted chunks.
pub struct FileSystem {
    store: Arc<dyn Consensus>,
    keys: KeyPair,
    block_size: u64,
    root: Address,
    /// Nodes in memory, written back in batches.
    nodes: nodes::NodeTable,
    /// The last background flush failure, reported at the next `fsync`.
    last_error: Mutex<Option<String>>,
    /// Files with open handles or unflushed writes.
    open: Mutex<HashMap<Address, OpenFile>>,
    /// Recently decrypted file chunks and decoded patches.
    chunks: Mutex<file::ChunkCache>,
    /// How much a file keeps in patches before it is compacted.
    patch_bounds: patch::Bounds,
    /// One compaction at a time: each holds up to a merge's worth of
    /// decoded patches, and they are bound by the processor anyway.
    compacting: tokio::sync::Semaphore,
    /// Whether flushes may leave compactions to the background compactor
    /// (set when the flusher starts, which runs it).
    background_compaction: std::sync::atomic::AtomicBool,
    /// Files whose flushes left their compaction to the background.
    compactions: Mutex<std::collections::BTreeSet<Address>>,
    /// Held while the background compactor works: an unmount waits for it.
    compactor: tokio::sync::Mutex<()>,
    /// Whether a background compactor task is running.
    compactor_busy: std::sync::atomic::AtomicBool,
    /// Tests: a background compaction signals `at_install` once its work
    /// is done, then waits for `install_gate` before recording it, so a
    /// test can change the file in between.
    #[cfg(test)]
    at_install: tokio::sync::Notify,
    #[cfg(test)]
    install_gate: tokio::sync::Mutex<()>,
    /// Serialises content operations on each file (its buffers are shared
    /// state); operations on different files run side by side.
    io: Mutex<HashMap<Address, Arc<tokio::sync::Mutex<()>>>>,
    /// Group commit of `fsync`: requests made, and the last request a
    /// completed sync covered.
    syncs: SyncGate,
    /// How long a clean node is trusted before it is fetched again.
    revalidate: std::time::Duration,
    /// `close` stores the metadata batch before it returns.
    durable_close: bool,
    /// Namespace operations return once their directory change is stored,
    /// unless this mount holds the directory's lease.
    write_through: bool,
    /// This mount, as a lease holder (random).
    mount_id: [u8; 16],
    /// When large directories are stored in shards.
    shard_policy: shard::Policy,
    /// Directories other writers contended for lately: no lease on them
    /// before the instant given.
    contended: Mutex<HashMap<Address, std::time::Instant>>,
    /// Where changes by other writers are announced (the FUSE binding).
    watcher: Mutex<Option<tokio::sync::mpsc::UnboundedSender<nodes::Change>>>,
}

impl std::fmt::Debug for FileSystem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileSystem")
            .field("store", &self.store)
            .field("user", &self.keys.public())
            .field("block_size", &self.block_size)
            .field("root", &self.root)
            .field("open_files", &lock(&self.open).len())
            .field("revalidate", &self.revalidate)
            .field("durable_close", &self.durable_close)
            .field("write_through", &self.write_through)
            .finish_non_exhaustive()
    }
}

/// How long a clean node is trusted by default before it is fetched again,
/// so a change by another writer shows within about this delay.
pub const REVALIDATE: std::time::Duration = std::time::Duration::from_secs(1);

/// Group commit: concurrent `fsync`s share one sync of the store. A sync
/// covers every request made before it started.
#[derive(Debug, Default)]
struct SyncGate {
    requested: std::sync::atomic::AtomicU64,
    covered: std::sync::atomic::AtomicU64,
    running: tokio::sync::Mutex<()>,
}

/// The content lock of one file, held for one operation.
struct FileIo<'a> {
    fs: &'a FileSystem,
    address: Address,
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Drop for FileIo<'_> {
    fn drop(&mut self) {
        self.guard.take();
        let mut io = lock(&self.fs.io);
        if io.get(&self.address).is_some_and(|m| Arc::strong_count(m) == 1) {
            io.remove(&self.address);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain data behind: keep going.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn check_name(name: &str) -> FsResult<()> {
    if name.len() > NAME_MAX {
        return Err(FsError::NameTooLong);
    }
    if name.is_empty() || name == "." || name == ".." || name.contains('/') || name.contains('\0') {
        return Err(FsError::Invalid(format!("invalid file name {name:?}")));
    }
    Ok(())
}

/// Name `entry` `name`, replacing the entry naming `replaces` if any.
fn insert_entry(name: &str, entry: Entry, replaces: Option<Address>) -> Intent {
    Intent::InsertEntry { name: name.to_string(), entry, replaces, time: Time::now(), stale: Vec::new() }
}

/// Remove `name` if it names `address`.
fn remove_entry(name: &str, address: Address) -> Intent {
    Intent::RemoveEntry { name: name.to_string(), address, time: Time::now() }
}

/// The named block's name for a volume's root.
fn root_name(volume: &str) -> String {
    format!("infinit/volume-root/{volume}")
}

impl FileSystem {
    /// Open volume `volume` owned by `keys`; create its root directory if it
    /// does not exist yet and `allow_root_creation` is set.
    pub async fn open(
        store: Arc<dyn Consensus>,
        keys: KeyPair,
        volume: &str,
        block_size: u64,
        allow_root_creation: bool,
    ) -> FsResult<FileSystem> {
        let owner = keys.public();
        Self::open_as(store, keys, &owner, volume, block_size, allow_root_creation).await
    }

    /// Open volume `volume` owned by `owner` as the user `keys`: the root
    /// is found under the owner's key, whoever mounts. Only the owner may
    /// create it.
    pub async fn open_as(
        store: Arc<dyn Consensus>,
        keys: KeyPair,
        owner: &PublicKey,
        volume: &str,
        block_size: u64,
        allow_root_creation: bool,
    ) -> FsResult<FileSystem> {
        let mut fs = FileSystem {
            store,
            keys,
            block_size: block_size.max(4096),
            root: Address([0; 32]),
            nodes: nodes::NodeTable::default(),
            last_error: Mutex::new(None),
            open: Mutex::new(HashMap::new()),
            chunks: Mutex::new(file::ChunkCache::default()),
            patch_bounds: patch::Bounds::for_block_size(block_size.max(4096)),
            compacting: tokio::sync::Semaphore::new(1),
            background_compaction: std::sync::atomic::AtomicBool::new(false),
            compactions: Mutex::new(std::collections::BTreeSet::new()),
            compactor: tokio::sync::Mutex::new(()),
            compactor_busy: std::sync::atomic::AtomicBool::new(false),
            #[cfg(test)]
            at_install: tokio::sync::Notify::new(),
            #[cfg(test)]
            install_gate: tokio::sync::Mutex::new(()),
            io: Mutex::new(HashMap::new()),
            syncs: SyncGate::default(),
            revalidate: REVALIDATE,
            durable_close: false,
            write_through: false,
            shard_policy: shard::Policy::default(),
            mount_id: crate::crypto::random_bytes().map_err(|e| FsError::Storage(e.to_string()))?,
            contended: Mutex::new(HashMap::new()),
            watcher: Mutex::new(None),
        };
        let name = root_name(volume);
        let named = Address::named(owner, &name);
        match fs.store.fetch(named, ReadLevel::Latest).await? {
            Fetched::Found(Block::Named(pointer)) => fs.root = pointer.target,
            Fetched::Found(other) => {
                return Err(FsError::Corrupt(format!("volume root pointer is a {} block", other.kind())));
            }
            Fetched::Removed(_) | Fetched::Collected { .. } => {
                return Err(FsError::Corrupt("the volume root pointer was removed".into()));
            }
            Fetched::Absent if allow_root_creation && *owner == fs.keys.public() => {
                let meta = Meta::new(0o755, 0, 0);
                let root = fs.create_node(
                    Node::Directory {
                        meta,
                        entries: Default::default(),
                        parent: None,
                        lease: None,
                        shards: Vec::new(),
                    },
                    None,
                )?;
                fs.flush_metadata().await?;
                let pointer = Block::Named(NamedBlock::create(&fs.keys, &name, root));
                fs.store.store(pointer, Expect::Absent).await?;
                fs.root = root;
            }
            Fetched::Absent => return Err(FsError::NotFound),
        }
        Ok(fs)
    }

    /// Trust clean nodes for `ttl` before fetching them again.
    pub fn set_revalidate(&mut self, ttl: std::time::Duration) {
        self.revalidate = ttl;
    }

    /// Make `close` store the metadata batch (the file's header and the
    /// directories naming it) before it returns: over a write-back journal,
    /// what `close` acknowledged then survives `kill -9`.
    pub fn set_durable_close(&mut self, durable: bool) {
        self.durable_close = durable;
    }

    /// Make namespace operations (create, mkdir, symlink, link, unlink,
    /// rmdir, rename) return only once their directory change is stored,
    /// grouped with whatever else is pending: with several writers on the
    /// same blocks, each caller then gets the answer a local file system
    /// gives (two creates of one name: one succeeds, the other `EEXIST`).
    /// Without it (one writer, the default) they are written back in batches.
    pub fn set_write_through(&mut self, on: bool) {
        self.write_through = on;
    }

    /// When directories are sharded (tests use small thresholds).
    pub fn set_shard_policy(&mut self, policy: shard::Policy) {
        self.shard_policy = policy;
    }

    /// Wait for `dep` when namespace operations are write-through and it
    /// was not answered under this mount's lease.
    async fn settle(&self, dep: Dep) -> FsResult<()> {
        if self.write_through && self.waits_for(dep) { self.commit(dep).await } else { Ok(()) }
    }

    /// Run the namespace operation `op` again each time a directory it
    /// touches is held by another mount, once that mount gave it up.
    async fn unless_busy<T, F, Fut>(&self, mut op: F) -> FsResult<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = FsResult<T>>,
    {
        for _ in 0..8 {
            match op().await {
                Err(FsError::Busy(dir)) => self.await_lease(dir).await?,
                other => return other,
            }
        }
        Err(FsError::Storage("the directory keeps changing hands between writers; try again".into()))
    }

    /// Report a problem of the write-back at once (the node's log, stderr),
    /// besides returning it to the next `fsync`.
    fn report(&self, what: &str) {
        tracing::warn!("{what}");
    }

    /// The root directory.
    pub fn root(&self) -> Address {
        self.root
    }

    /// The volume's block size.
    pub fn block_size(&self) -> u64 {
        self.block_size
    }

    /// The node at `address`, with the size of unflushed writes.
    pub async fn node(&self, address: Address) -> FsResult<Node> {
        let mut node = self.load_node(address).await?;
        if let Node::File { size, .. } = &mut node
            && let Some(open) = lock(&self.open).get(&address)
        {
            *size = open.size;
        }
        Ok(node)
    }

    /// Load the nodes at `addresses` (a listing's children, before their
    /// `stat`s) into memory: [`PREFETCH_CHUNK`] per batched read, the
    /// batches side by side on the runtime's workers. Nothing is reported
    /// here: a node not loaded is fetched by its own access, which
    /// reports why it failed.
    pub async fn prefetch(self: &Arc<Self>, addresses: &[Address]) {
        let wanted = self.to_fetch(addresses);
        let batches: Vec<_> = wanted
            .chunks(PREFETCH_CHUNK)
            .map(|chunk| {
                let (fs, chunk) = (self.clone(), chunk.to_vec());
                tokio::spawn(async move { fs.preload(&chunk).await })
            })
            .collect();
        for batch in batches {
            // A batch that panicked loaded less: the `stat`s load the rest.
            let _ = batch.await;
        }
    }

    /// What `stat` shows of the node at `address`, without copying a
    /// directory's entries.
    pub async fn stat(&self, address: Address) -> FsResult<Stat> {
        let mut stat = self
            .view_counted(address, |node, subdirs| {
                let (size, nlink, rdev) = match node {
                    Node::Directory { .. } => (4096, 2 + subdirs, 0),
                    Node::File { size, nlink, .. } => (*size, *nlink, 0),
                    Node::Symlink { target, nlink, .. } => (target.len() as u64, *nlink, 0),
                    Node::Special { nlink, rdev, .. } => (0, *nlink, *rdev),
                };
                let meta = node.meta();
                Stat {
                    kind: node.kind(),
                    size,
                    nlink,
                    mode: meta.mode,
                    uid: meta.uid,
                    gid: meta.gid,
                    atime: meta.atime,
                    mtime: meta.mtime,
                    ctime: meta.ctime,
                    rdev,
                }
            })
            .await?;
        if stat.kind == NodeKind::File
            && let Some(open) = lock(&self.open).get(&address)
        {
            stat.size = open.size;
            if let Some(t) = open.modified {
                stat.mtime = stat.mtime.max(t);
                stat.ctime = stat.ctime.max(t);
            }
        }
        Ok(stat)
    }

    /// Run `f` on the entries of directory `dir`.
    async fn entries<R>(
        &self,
        dir: Address,
        f: impl FnOnce(&std::collections::BTreeMap<String, Entry>) -> R,
    ) -> FsResult<R> {
        self.view(dir, |node| match node {
            Node::Directory { entries, .. } => Ok(f(entries)),
            _ => Err(FsError::NotDirectory),
        })
        .await?
    }

    /// Whether `entry` in directory `dir` is a real name, not a stale one
    /// a crashed rename left naming a directory that names another parent
    /// ([`Node::names_as_parent`]). A child that cannot be read counts as
    /// real: it is listed, and gives EIO.
    async fn is_live(&self, dir: Address, entry: &Entry) -> bool {
        entry.kind != NodeKind::Directory
            || self.view(entry.address, |node| node.names_as_parent(dir)).await.unwrap_or(true)
    }

    /// The stored entry `name` in `dir`, live or stale.
    async fn stored_entry(&self, dir: Address, name: &str) -> FsResult<Option<Entry>> {
        self.entries(dir, |entries| entries.get(name).copied()).await
    }

    /// The entry `name` in directory `dir`.
    pub async fn lookup(&self, dir: Address, name: &str) -> FsResult<Entry> {
        if name.len() > NAME_MAX {
            return Err(FsError::NameTooLong);
        }
        match self.stored_entry(dir, name).await? {
            Some(entry) if self.is_live(dir, &entry).await => Ok(entry),
            _ => Err(FsError::NotFound),
        }
    }

    /// What a new name `name` in `dir` replaces: nothing, or a stale entry
    /// a crashed rename left there; a live entry is `EEXIST`.
    async fn free_name(&self, dir: Address, name: &str) -> FsResult<Option<Address>> {
        match self.stored_entry(dir, name).await? {
            None => Ok(None),
            Some(entry) if self.is_live(dir, &entry).await => Err(FsError::Exists),
            Some(stale) => Ok(Some(stale.address)),
        }
    }

    /// Every entry of directory `dir`, sorted by name (stale ones left out).
    pub async fn readdir(&self, dir: Address) -> FsResult<Vec<(String, Entry)>> {
        use futures_util::StreamExt as _;
        let all: Vec<(String, Entry)> =
            self.entries(dir, |entries| entries.iter().map(|(n, e)| (n.clone(), *e)).collect()).await?;
        if all.iter().all(|(_, e)| e.kind != NodeKind::Directory) {
            return Ok(all);
        }
        let live: Vec<Option<(String, Entry)>> = futures_util::stream::iter(all)
            .map(|(name, entry)| async move { self.is_live(dir, &entry).await.then_some((name, entry)) })
            .buffered(16)
            .collect()
            .await;
        Ok(live.into_iter().flatten().collect())
    }

    /// Whether directory `dir` has no live entry.
    async fn is_empty_dir(&self, dir: Address) -> FsResult<bool> {
        let (files, subdirs) = self
            .entries(dir, |entries| {
                let subdirs: Vec<Entry> = entries.values().filter(|e| e.kind == NodeKind::Directory).copied().collect();
                (entries.len() - subdirs.len(), subdirs)
            })
            .await?;
        if files > 0 {
            return Ok(false);
        }
        for sub in subdirs {
            if self.is_live(dir, &sub).await {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Create `node` under `name` in `dir`.
    async fn insert(&self, dir: Address, name: &str, node: Node) -> FsResult<Address> {
        self.unless_busy(|| self.insert_once(dir, name, node.clone())).await
    }

    async fn insert_once(&self, dir: Address, name: &str, node: Node) -> FsResult<Address> {
        check_name(name)?;
        self.throttle().await;
        let stale = self.free_name(dir, name).await?;
        let kind = node.kind();
        let address = self.create_node(node, Some(dir))?;
        let entry = Entry { address, kind };
        let inserted = match self.change(dir, insert_entry(name, entry, stale), Vec::new()).await {
            Ok(dep) => self.settle(dep).await,
            Err(e) => Err(e),
        };
        if let Err(e) = inserted {
            // Lost a race for the name: do not leak the new block.
            self.destroy(address, Vec::new());
            return Err(e);
        }
        Ok(address)
    }

    /// Create a directory.
    pub async fn mkdir(&self, dir: Address, name: &str, mode: u32, uid: u32, gid: u32) -> FsResult<Address> {
        let node = Node::Directory {
            meta: Meta::new(mode, uid, gid),
            entries: Default::default(),
            parent: Some(dir),
            lease: None,
            shards: Vec::new(),
        };
        self.insert(dir, name, node).await
    }

    /// Create an empty regular file.
    pub async fn create(&self, dir: Address, name: &str, mode: u32, uid: u32, gid: u32) -> FsResult<Address> {
        let node = Node::File {
            meta: Meta::new(mode, uid, gid),
            nlink: 1,
            size: 0,
            inline: Vec::new(),
            chunks: Default::default(),
            patches: Vec::new(),
        };
        self.insert(dir, name, node).await
    }

    /// Create a symbolic link.
    pub async fn symlink(&self, dir: Address, name: &str, target: &[u8], uid: u32, gid: u32) -> FsResult<Address> {
        self.insert(dir, name, Node::Symlink { meta: Meta::new(0o777, uid, gid), nlink: 1, target: target.to_vec() })
            .await
    }

    /// Create a FIFO, socket or device node (`kind` one of the special
    /// kinds; `rdev` the device number of a device node).
    #[allow(clippy::too_many_arguments)]
    pub async fn mknod(
        &self,
        dir: Address,
        name: &str,
        kind: NodeKind,
        mode: u32,
        rdev: u64,
        uid: u32,
        gid: u32,
    ) -> FsResult<Address> {
        if !kind.is_special() {
            return Err(FsError::Invalid(format!("mknod cannot make a {kind:?}")));
        }
        let rdev = if matches!(kind, NodeKind::CharDevice | NodeKind::BlockDevice) { rdev } else { 0 };
        self.insert(dir, name, Node::Special { meta: Meta::new(mode, uid, gid), nlink: 1, kind, rdev }).await
    }

    /// The target of a symbolic link.
    pub async fn readlink(&self, address: Address) -> FsResult<Vec<u8>> {
        match self.load_node(address).await? {
            Node::Symlink { target, .. } => Ok(target),
            _ => Err(FsError::Invalid("not a symbolic link".into())),
        }
    }

    /// Add a hard link `newname` in `newdir` to the file at `address`: the
    /// link count rises (and is stored) before the new entry names it.
    pub async fn link(&self, address: Address, newdir: Address, newname: &str) -> FsResult<()> {
        self.unless_busy(|| self.link_once(address, newdir, newname)).await
    }

    async fn link_once(&self, address: Address, newdir: Address, newname: &str) -> FsResult<()> {
        check_name(newname)?;
        let kind = self.view(address, Node::kind).await?;
        if kind == NodeKind::Directory {
            return Err(FsError::NotPermitted("hard links to directories".into()));
        }
        let stale = self.free_name(newdir, newname).await?;
        let counted = self.change(address, Intent::Links { delta: 1, time: Time::now() }, Vec::new()).await?;
        let inserted =
            match self.change(newdir, insert_entry(newname, Entry { address, kind }, stale), vec![counted]).await {
                Ok(dep) => self.settle(dep).await,
                Err(e) => Err(e),
            };
        if let Err(e) = inserted {
            self.drop_link(address, Vec::new()).await?;
            return Err(e);
        }
        Ok(())
    }

    /// One fewer name points at `address` (stored after the changes `after`
    /// names): destroy it when none is left and no handle is open (else at
    /// the last release).
    async fn drop_link(&self, address: Address, after: Vec<Dep>) -> FsResult<()> {
        let remaining = match self.view(address, Node::kind).await? {
            NodeKind::Directory => 0,
            _ => {
                self.change(address, Intent::Links { delta: -1, time: Time::now() }, after.clone()).await?;
                self.view(address, |node| match node {
                    Node::File { nlink, .. } | Node::Symlink { nlink, .. } | Node::Special { nlink, .. } => *nlink,
                    Node::Directory { .. } => 0,
                })
                .await?
            }
        };
        if remaining == 0 {
            let still_open = {
                let mut open = lock(&self.open);
                match open.get_mut(&address) {
                    Some(f) if f.handles > 0 => {
                        f.unlinked = true;
                        true
                    }
                    _ => false,
                }
            };
            if !still_open {
                self.destroy(address, after);
            }
        }
        Ok(())
    }

    /// Remove a non-directory entry; the link count drops once the entry is gone.
    pub async fn unlink(&self, dir: Address, name: &str) -> FsResult<()> {
        self.unless_busy(|| self.unlink_once(dir, name)).await
    }

    async fn unlink_once(&self, dir: Address, name: &str) -> FsResult<()> {
        let entry = self.lookup(dir, name).await?;
        if entry.kind == NodeKind::Directory {
            return Err(FsError::IsDirectory);
        }
        let removed = self.change(dir, remove_entry(name, entry.address), Vec::new()).await?;
        self.settle(removed).await?;
        self.drop_link(entry.address, vec![removed]).await
    }

    /// Remove an empty directory.
    pub async fn rmdir(&self, dir: Address, name: &str) -> FsResult<()> {
        self.unless_busy(|| self.rmdir_once(dir, name)).await
    }

    async fn rmdir_once(&self, dir: Address, name: &str) -> FsResult<()> {
        let entry = self.lookup(dir, name).await?;
        if entry.kind != NodeKind::Directory {
            return Err(FsError::NotDirectory);
        }
        if !self.is_empty_dir(entry.address).await? {
            return Err(FsError::NotEmpty);
        }
        let removed = self.change(dir, remove_entry(name, entry.address), Vec::new()).await?;
        self.settle(removed).await?;
        self.destroy(entry.address, vec![removed]);
        Ok(())
    }

    /// Rename `name` in `dir` to `newname` in `newdir`, replacing a
    /// compatible existing target. Atomic within one directory; across
    /// directories the new entry is stored before the old one is removed,
    /// so a crash leaves the node in both, never in neither (a file's
    /// stored link count counts both names meanwhile).
    pub async fn rename(
        &self,
        dir: Address,
        name: &str,
        newdir: Address,
        newname: &str,
        noreplace: bool,
    ) -> FsResult<()> {
        self.unless_busy(|| self.rename_once(dir, name, newdir, newname, noreplace)).await
    }

    async fn rename_once(
        &self,
        dir: Address,
        name: &str,
        newdir: Address,
        newname: &str,
        noreplace: bool,
    ) -> FsResult<()> {
        check_name(newname)?;
        let source = self.lookup(dir, name).await?;
        let target = match self.lookup(newdir, newname).await {
            Ok(t) => Some(t),
            Err(FsError::NotFound) => None,
            Err(e) => return Err(e),
        };
        if let Some(t) = target {
            if t.address == source.address {
                return Ok(());
            }
            if noreplace {
                return Err(FsError::Exists);
            }
            match (source.kind == NodeKind::Directory, t.kind == NodeKind::Directory) {
                (true, false) => return Err(FsError::NotDirectory),
                (false, true) => return Err(FsError::IsDirectory),
                (true, true) => {
                    if !self.is_empty_dir(t.address).await? {
                        return Err(FsError::NotEmpty);
                    }
                }
                (false, false) => {}
            }
        }
        let replaced = match target {
            Some(t) => Some(t.address),
            // A stale entry a crashed rename left under the new name goes.
            None => self.stored_entry(newdir, newname).await?.map(|e| e.address),
        };
        let time = Time::now();
        let done = if dir == newdir {
            let moved = Intent::MoveEntry {
                from: name.to_string(),
                to: newname.to_string(),
                entry: source,
                replaces: replaced,
                time,
            };
            let moved = self.change(dir, moved, Vec::new()).await?;
            self.settle(moved).await?;
            moved
        } else if source.kind == NodeKind::Directory {
            // The directory's parent is the commit point: the new entry is
            // stored first (stale, so hidden, while the directory names its
            // old parent), then the parent, then the old entry (stale from
            // then on) is removed. A crash at any point leaves one name.
            let inserted = self.change(newdir, insert_entry(newname, source, replaced), Vec::new()).await?;
            // A name refused at the store (taken, or the directory held by
            // another mount) must not see the parent move.
            self.settle(inserted).await?;
            let moved = Intent::SetParent { from: dir, to: newdir, time };
            let reparented = match self.change(source.address, moved, vec![inserted]).await {
                Ok(dep) => dep,
                Err(e) => {
                    // Another writer moved it meanwhile: take the new name back.
                    if let Err(undo) = self.change(newdir, remove_entry(newname, source.address), Vec::new()).await {
                        self.report(&format!("cannot take back {newname:?} after a failed rename: {undo}"));
                    }
                    return Err(e);
                }
            };
            self.settle(reparented).await?;
            match self.remove_moved(dir, name, source.address, reparented).await {
                Ok(removed) => removed,
                // Someone removed the source meanwhile: the new name stays.
                Err(FsError::NotFound) => reparented,
                Err(e) => return Err(e),
            }
        } else {
            // A crash between the two directories leaves two names: the
            // stored count must say so, or unlinking one destroys the file
            // the other names. It rises before the new entry, like a link,
            // and drops once the old entry is gone, like an unlink.
            let counted = self.change(source.address, Intent::Links { delta: 1, time }, Vec::new()).await?;
            let inserted = match self.change(newdir, insert_entry(newname, source, replaced), vec![counted]).await {
                Ok(inserted) => match self.settle(inserted).await {
                    Ok(()) => Ok(inserted),
                    // Only a refused name never gets stored; any other
                    // failure is retried, so the count keeps both names.
                    Err(e @ (FsError::Exists | FsError::Busy(_))) => Err(e),
                    Err(e) => return Err(e),
                },
                Err(e) => Err(e),
            };
            let inserted = match inserted {
                Ok(inserted) => inserted,
                Err(e) => {
                    self.change(source.address, Intent::Links { delta: -1, time }, Vec::new()).await?;
                    return Err(e);
                }
            };
            match self.remove_moved(dir, name, source.address, inserted).await {
                Ok(removed) => self.change(source.address, Intent::Links { delta: -1, time }, vec![removed]).await?,
                // Someone unlinked the source meanwhile, dropping the count
                // for it: the new name stays, counted.
                Err(FsError::NotFound) => inserted,
                Err(e) => return Err(e),
            }
        };
        // A rename changes the renamed node's ctime too (as ext4 does).
        let touched = Intent::SetAttributes { change: Attributes::default(), time };
        match self.change(source.address, touched, vec![done]).await {
            // Removed meanwhile by another writer: nothing to touch.
            Ok(_) | Err(FsError::NotFound) => {}
            Err(e) => return Err(e),
        }
        // Only a live target loses a name (a stale entry's directory lives on).
        if let Some(t) = target {
            if t.kind == NodeKind::Directory {
                self.destroy(t.address, vec![done]);
            } else {
                self.drop_link(t.address, vec![done]).await?;
            }
        }
        Ok(())
    }

    /// Remove the old name of a node a rename moved, once the new name is
    /// stored (`after`). The new name is in place: the rename no longer
    /// starts over if the old directory is held by another mount, it waits
    /// for it.
    async fn remove_moved(&self, dir: Address, name: &str, address: Address, after: Dep) -> FsResult<Dep> {
        for _ in 0..8 {
            let removed = match self.change(dir, remove_entry(name, address), vec![after]).await {
                Ok(removed) => removed,
                Err(FsError::Busy(held)) => {
                    self.await_lease(held).await?;
                    continue;
                }
                Err(e) => return Err(e),
            };
            match self.settle(removed).await {
                Err(FsError::Busy(held)) => self.await_lease(held).await?,
                Err(e) => return Err(e),
                Ok(()) => return Ok(removed),
            }
        }
        Err(FsError::Storage(format!("the old name {name:?} of a renamed node keeps changing hands; try again")))
    }

    /// Change attributes; a size change truncates or extends the file.
    pub async fn setattr(&self, address: Address, change: SetAttr) -> FsResult<Stat> {
        if let Some(size) = change.size {
            self.truncate(address, size).await?;
        }
        let attributes = Attributes {
            mode: change.mode,
            uid: change.uid,
            gid: change.gid,
            atime: change.atime,
            mtime: change.mtime,
            drop_privileges: change.drop_privileges,
        };
        self.change(address, Intent::SetAttributes { change: attributes, time: Time::now() }, Vec::new()).await?;
        self.stat(address).await
    }

    /// After a write by a caller without `CAP_FSETID`: drop the set-user-ID
    /// bit, the set-group-ID bit of a group-executable file and the file
    /// capabilities, as the kernel does on a local file system. A file
    /// that has none of them (nearly every file) is left untouched, at the
    /// cost of a look at its cached node.
    pub async fn drop_privileges(&self, address: Address) -> FsResult<()> {
        let privileged = self.view(address, intent::holds_privileges).await?;
        if privileged {
            let change = Attributes { drop_privileges: true, ..Default::default() };
            self.change(address, Intent::SetAttributes { change, time: Time::now() }, Vec::new()).await?;
        }
        Ok(())
    }

    /// `fallocate` (mode 0 or keep-size): the file grows to cover
    /// `offset + length` unless `keep_size`, and its ctime changes. Space
    /// is not reserved ahead: blocks are allocated as they are written.
    pub async fn allocate(&self, address: Address, offset: u64, length: u64, keep_size: bool) -> FsResult<()> {
        let end = offset
            .checked_add(length)
            .ok_or_else(|| FsError::Invalid("allocation beyond the largest file size".into()))?;
        let size = self.stat(address).await?.size;
        if !keep_size && end > size {
            self.truncate(address, end).await?;
        }
        let time = Time::now();
        let attributes = Attributes { mtime: (!keep_size && end > size).then_some(time), ..Default::default() };
        self.change(address, Intent::SetAttributes { change: attributes, time }, Vec::new()).await?;
        Ok(())
    }

    /// Refuse the extended attributes this file system does not implement:
    /// POSIX ACLs (`system.*`) and SELinux labels. They are "not supported"
    /// (`EOPNOTSUPP`), not merely absent, so tools stop asking: `ls -l`
    /// then asks once per listing, not twice per file (20,000 round trips
    /// for a folder of 10,000 files otherwise).
    fn supported_xattr(name: &str) -> FsResult<()> {
        if name.starts_with("system.") || name == "security.selinux" {
            return Err(FsError::Unsupported(format!("extended attribute {name:?}")));
        }
        Ok(())
    }

    /// Set extended attribute `name`.
    pub async fn setxattr(
        &self,
        address: Address,
        name: &str,
        value: &[u8],
        create: bool,
        replace: bool,
    ) -> FsResult<()> {
        Self::supported_xattr(name)?;
        let exists = self.view(address, |node| node.meta().xattrs.contains_key(name)).await?;
        if create && exists {
            return Err(FsError::Exists);
        }
        if replace && !exists {
            return Err(FsError::NoAttribute);
        }
        let intent = Intent::SetXattr { name: name.to_string(), value: Some(value.to_vec()), time: Time::now() };
        self.change(address, intent, Vec::new()).await?;
        Ok(())
    }

    /// Read extended attribute `name`.
    pub async fn getxattr(&self, address: Address, name: &str) -> FsResult<Vec<u8>> {
        Self::supported_xattr(name)?;
        self.view(address, |node| node.meta().xattrs.get(name).cloned()).await?.ok_or(FsError::NoAttribute)
    }

    /// Names of the extended attributes.
    pub async fn listxattr(&self, address: Address) -> FsResult<Vec<String>> {
        self.view(address, |node| node.meta().xattrs.keys().cloned().collect()).await
    }

    /// Remove extended attribute `name`.
    pub async fn removexattr(&self, address: Address, name: &str) -> FsResult<()> {
        Self::supported_xattr(name)?;
        let intent = Intent::SetXattr { name: name.to_string(), value: None, time: Time::now() };
        self.change(address, intent, Vec::new()).await?;
        Ok(())
    }

    /// Space used and offered.
    pub async fn statfs(&self) -> FsResult<FsStats> {
        let usage = self.store.usage().await?;
        Ok(FsStats {
            used: usage.used,
            capacity: usage.capacity,
            reserved: usage.reserved,
            block_size: self.block_size,
        })
    }
}
