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
pub mod model;
pub mod mountpoint;
mod nodes;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

pub use error::FsError;
use file::OpenFile;
pub use model::{Entry, Meta, Node, NodeKind, Time};

use super::block::{Address, Block, NamedBlock};
use super::consensus::Consensus;
use crate::crypto::KeyPair;

/// Result type of file system operations.
pub type FsResult<T> = Result<T, FsError>;

/// Longest file name, as on most POSIX file systems.
pub const NAME_MAX: usize = 255;

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
}

/// Statistics for `statfs`.
#[derive(Debug, Clone, Copy)]
pub struct FsStats {
    /// Bytes stored.
    pub used: u64,
    /// Bytes offered, if limited.
    pub capacity: Option<u64>,
    /// The volume's block size.
    pub block_size: u64,
}

/// A mounted volume's file system.
#[derive(Debug)]
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
    /// Recently decrypted file chunks.
    chunks: Mutex<file::ChunkCache>,
    /// Serialises file content operations (buffers are shared state).
    io: tokio::sync::Mutex<()>,
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
        let mut fs = FileSystem {
            store,
            keys,
            block_size: block_size.max(4096),
            root: Address([0; 32]),
            nodes: nodes::NodeTable::default(),
            last_error: Mutex::new(None),
            open: Mutex::new(HashMap::new()),
            chunks: Mutex::new(file::ChunkCache::default()),
            io: tokio::sync::Mutex::new(()),
        };
        let name = root_name(volume);
        let named = Address::named(&fs.keys.public(), &name);
        match fs.store.fetch(named).await? {
            Some(Block::Named(pointer)) => fs.root = pointer.target,
            Some(other) => {
                return Err(FsError::Corrupt(format!("volume root pointer is a {} block", other.kind())));
            }
            None if allow_root_creation => {
                let mut meta = Meta::new(0o755, 0, 0);
                meta.mode = 0o755;
                let root = fs.create_node(Node::Directory { meta, entries: Default::default() })?;
                fs.flush_node(root).await?;
                fs.store.store(Block::Named(NamedBlock::create(&fs.keys, &name, root))).await?;
                fs.root = root;
            }
            None => return Err(FsError::NotFound),
        }
        Ok(fs)
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

    /// What `stat` shows of the node at `address`, without copying a
    /// directory's entries.
    pub async fn stat(&self, address: Address) -> FsResult<Stat> {
        let mut stat = self
            .view(address, |node| {
                let (size, nlink) = match node {
                    Node::Directory { entries, .. } => {
                        (4096, 2 + entries.values().filter(|e| e.kind == NodeKind::Directory).count() as u32)
                    }
                    Node::File { size, nlink, .. } => (*size, *nlink),
                    Node::Symlink { target, nlink, .. } => (target.len() as u64, *nlink),
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
                }
            })
            .await?;
        if stat.kind == NodeKind::File
            && let Some(open) = lock(&self.open).get(&address)
        {
            stat.size = open.size;
        }
        Ok(stat)
    }

    /// Change the entries of directory `dir` (and its modification time).
    async fn modify_entries<R>(
        &self,
        dir: Address,
        change: impl FnOnce(&mut std::collections::BTreeMap<String, Entry>) -> FsResult<R>,
    ) -> FsResult<R> {
        self.modify(dir, |node| {
            let Node::Directory { entries, meta } = node else {
                return Err(FsError::NotDirectory);
            };
            let result = change(entries)?;
            let now = Time::now();
            meta.mtime = now;
            meta.ctime = now;
            Ok(result)
        })
        .await
    }

    /// Remove `name` from `dir` if it still names `address`.
    async fn remove_entry(&self, dir: Address, name: &str, address: Address) -> FsResult<()> {
        self.modify_entries(dir, |entries| match entries.get(name) {
            Some(e) if e.address == address => {
                entries.remove(name);
                Ok(())
            }
            _ => Err(FsError::NotFound),
        })
        .await
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

    /// The entry `name` in directory `dir`.
    pub async fn lookup(&self, dir: Address, name: &str) -> FsResult<Entry> {
        if name.len() > NAME_MAX {
            return Err(FsError::NameTooLong);
        }
        self.entries(dir, |entries| entries.get(name).copied()).await?.ok_or(FsError::NotFound)
    }

    /// Every entry of directory `dir`, sorted by name.
    pub async fn readdir(&self, dir: Address) -> FsResult<Vec<(String, Entry)>> {
        self.entries(dir, |entries| entries.iter().map(|(n, e)| (n.clone(), *e)).collect()).await
    }

    /// Create `node` under `name` in `dir`.
    async fn insert(&self, dir: Address, name: &str, node: Node) -> FsResult<Address> {
        check_name(name)?;
        if self.entries(dir, |entries| entries.contains_key(name)).await? {
            return Err(FsError::Exists);
        }
        let kind = node.kind();
        let address = self.create_node(node)?;
        let inserted = self
            .modify_entries(dir, |entries| {
                if entries.contains_key(name) {
                    return Err(FsError::Exists);
                }
                entries.insert(name.to_string(), Entry { address, kind });
                Ok(())
            })
            .await;
        if let Err(e) = inserted {
            // Lost a race for the name: do not leak the new block.
            self.destroy(address);
            return Err(e);
        }
        Ok(address)
    }

    /// Create a directory.
    pub async fn mkdir(&self, dir: Address, name: &str, mode: u32, uid: u32, gid: u32) -> FsResult<Address> {
        self.insert(dir, name, Node::Directory { meta: Meta::new(mode, uid, gid), entries: Default::default() }).await
    }

    /// Create an empty regular file.
    pub async fn create(&self, dir: Address, name: &str, mode: u32, uid: u32, gid: u32) -> FsResult<Address> {
        let node =
            Node::File { meta: Meta::new(mode, uid, gid), nlink: 1, size: 0, inline: Vec::new(), chunks: Vec::new() };
        self.insert(dir, name, node).await
    }

    /// Create a symbolic link.
    pub async fn symlink(&self, dir: Address, name: &str, target: &[u8], uid: u32, gid: u32) -> FsResult<Address> {
        self.insert(dir, name, Node::Symlink { meta: Meta::new(0o777, uid, gid), nlink: 1, target: target.to_vec() })
            .await
    }

    /// The target of a symbolic link.
    pub async fn readlink(&self, address: Address) -> FsResult<Vec<u8>> {
        match self.load_node(address).await? {
            Node::Symlink { target, .. } => Ok(target),
            _ => Err(FsError::Invalid("not a symbolic link".into())),
        }
    }

    /// Add a hard link `newname` in `newdir` to the file at `address`.
    pub async fn link(&self, address: Address, newdir: Address, newname: &str) -> FsResult<()> {
        check_name(newname)?;
        let kind = self.view(address, Node::kind).await?;
        if kind == NodeKind::Directory {
            return Err(FsError::NotPermitted("hard links to directories".into()));
        }
        if self.entries(newdir, |entries| entries.contains_key(newname)).await? {
            return Err(FsError::Exists);
        }
        self.modify(address, |node| {
            match node {
                Node::File { nlink, meta, .. } | Node::Symlink { nlink, meta, .. } => {
                    *nlink += 1;
                    meta.ctime = Time::now();
                }
                Node::Directory { .. } => {
                    return Err(FsError::NotPermitted("hard links to directories".into()));
                }
            }
            Ok(())
        })
        .await?;
        let inserted = self
            .modify_entries(newdir, |entries| {
                if entries.contains_key(newname) {
                    return Err(FsError::Exists);
                }
                entries.insert(newname.to_string(), Entry { address, kind });
                Ok(())
            })
            .await;
        if let Err(e) = inserted {
            self.drop_link(address).await?;
            return Err(e);
        }
        Ok(())
    }

    /// One fewer name points at `address`: destroy it when none is left and
    /// no handle is open (else at the last release).
    async fn drop_link(&self, address: Address) -> FsResult<()> {
        let remaining = self
            .modify(address, |node| match node {
                Node::File { nlink, meta, .. } | Node::Symlink { nlink, meta, .. } => {
                    *nlink = nlink.saturating_sub(1);
                    meta.ctime = Time::now();
                    Ok(*nlink)
                }
                Node::Directory { .. } => Ok(0),
            })
            .await?;
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
                self.destroy(address);
            }
        }
        Ok(())
    }

    /// Remove a non-directory entry.
    pub async fn unlink(&self, dir: Address, name: &str) -> FsResult<()> {
        let entry = self.lookup(dir, name).await?;
        if entry.kind == NodeKind::Directory {
            return Err(FsError::IsDirectory);
        }
        self.remove_entry(dir, name, entry.address).await?;
        self.drop_link(entry.address).await
    }

    /// Remove an empty directory.
    pub async fn rmdir(&self, dir: Address, name: &str) -> FsResult<()> {
        let entry = self.lookup(dir, name).await?;
        if entry.kind != NodeKind::Directory {
            return Err(FsError::NotDirectory);
        }
        if !self.entries(entry.address, |entries| entries.is_empty()).await? {
            return Err(FsError::NotEmpty);
        }
        self.remove_entry(dir, name, entry.address).await?;
        self.destroy(entry.address);
        Ok(())
    }

    /// Rename `name` in `dir` to `newname` in `newdir`, replacing a
    /// compatible existing target. Atomic within one directory.
    pub async fn rename(
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
                    if !self.entries(t.address, |entries| entries.is_empty()).await? {
                        return Err(FsError::NotEmpty);
                    }
                }
                (false, false) => {}
            }
        }
        let replaced = target.map(|t| t.address);
        // The target must still be what was checked above (nothing, or `replaced`).
        let target_unchanged = |entries: &std::collections::BTreeMap<String, Entry>| -> FsResult<()> {
            match (entries.get(newname), replaced) {
                (None, _) => Ok(()),
                (Some(e), Some(r)) if e.address == r => Ok(()),
                _ => Err(FsError::Exists),
            }
        };
        if dir == newdir {
            self.modify_entries(dir, |entries| {
                match entries.get(name) {
                    Some(e) if e.address == source.address => {}
                    _ => return Err(FsError::NotFound),
                }
                target_unchanged(entries)?;
                entries.remove(name);
                entries.insert(newname.to_string(), source);
                Ok(())
            })
            .await?;
        } else {
            self.modify_entries(newdir, |entries| {
                target_unchanged(entries)?;
                entries.insert(newname.to_string(), source);
                Ok(())
            })
            .await?;
            self.modify_entries(dir, |entries| {
                if entries.get(name).is_some_and(|e| e.address == source.address) {
                    entries.remove(name);
                }
                Ok(())
            })
            .await?;
        }
        if let Some(old) = replaced {
            if target.is_some_and(|t| t.kind == NodeKind::Directory) {
                self.destroy(old);
            } else {
                self.drop_link(old).await?;
            }
        }
        Ok(())
    }

    /// Change attributes; a size change truncates or extends the file.
    pub async fn setattr(&self, address: Address, change: SetAttr) -> FsResult<Stat> {
        if let Some(size) = change.size {
            self.truncate(address, size).await?;
        }
        let now = Time::now();
        self.modify(address, |node| {
            let meta = node.meta_mut();
            if let Some(mode) = change.mode {
                meta.mode = mode & 0o7777;
            }
            if let Some(uid) = change.uid {
                meta.uid = uid;
            }
            if let Some(gid) = change.gid {
                meta.gid = gid;
            }
            if let Some(t) = change.atime {
                meta.atime = t;
            }
            if let Some(t) = change.mtime {
                meta.mtime = t;
            }
            meta.ctime = now;
            Ok(())
        })
        .await?;
        self.stat(address).await
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
        self.modify(address, |node| {
            let meta = node.meta_mut();
            let exists = meta.xattrs.contains_key(name);
            if create && exists {
                return Err(FsError::Exists);
            }
            if replace && !exists {
                return Err(FsError::NoAttribute);
            }
            meta.xattrs.insert(name.to_string(), value.to_vec());
            meta.ctime = Time::now();
            Ok(())
        })
        .await
    }

    /// Read extended attribute `name`.
    pub async fn getxattr(&self, address: Address, name: &str) -> FsResult<Vec<u8>> {
        self.view(address, |node| node.meta().xattrs.get(name).cloned()).await?.ok_or(FsError::NoAttribute)
    }

    /// Names of the extended attributes.
    pub async fn listxattr(&self, address: Address) -> FsResult<Vec<String>> {
        self.view(address, |node| node.meta().xattrs.keys().cloned().collect()).await
    }

    /// Remove extended attribute `name`.
    pub async fn removexattr(&self, address: Address, name: &str) -> FsResult<()> {
        self.modify(address, |node| {
            let meta = node.meta_mut();
            meta.xattrs.remove(name).ok_or(FsError::NoAttribute)?;
            meta.ctime = Time::now();
            Ok(())
        })
        .await
    }

    /// Space used and offered.
    pub async fn statfs(&self) -> FsResult<FsStats> {
        let usage = self.store.usage().await?;
        Ok(FsStats { used: usage.used, capacity: usage.capacity, block_size: self.block_size })
    }
}
