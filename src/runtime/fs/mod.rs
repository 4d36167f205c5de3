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

pub mod error;
pub mod file;
pub mod fuse;
pub mod model;
pub mod mountpoint;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

pub use error::FsError;
use file::OpenFile;
pub use model::{Entry, Meta, Node, NodeKind, Time};

use super::block::{AccessList, AclBlock, Address, Block, NamedBlock, Tombstone};
use super::consensus::Consensus;
use crate::crypto::KeyPair;

/// Result type of file system operations.
pub type FsResult<T> = Result<T, FsError>;

/// Longest file name, as on most POSIX file systems.
pub const NAME_MAX: usize = 255;
/// How many times a change is replayed after losing a race before giving up.
const MAX_REPLAYS: usize = 64;

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
    /// Last version seen of each node block, decoded.
    cache: Mutex<HashMap<Address, (AclBlock, Node)>>,
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
            cache: Mutex::new(HashMap::new()),
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
                let root = fs.create_node(Node::Directory { meta, entries: Default::default() }).await?;
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

    /// Store a new node and return its address.
    async fn create_node(&self, node: Node) -> FsResult<Address> {
        let block = AclBlock::create(&self.keys, AccessList::default(), &node.encode()?)?;
        let address = block.address();
        self.store.store(Block::Acl(block.clone())).await?;
        lock(&self.cache).insert(address, (block, node));
        Ok(address)
    }

    /// The current block and node at `address`.
    async fn load(&self, address: Address) -> FsResult<(AclBlock, Node)> {
        if let Some(hit) = lock(&self.cache).get(&address) {
            return Ok(hit.clone());
        }
        self.load_fresh(address).await
    }

    async fn load_fresh(&self, address: Address) -> FsResult<(AclBlock, Node)> {
        let block = match self.store.fetch(address).await? {
            Some(Block::Acl(b)) => b,
            Some(other) => {
                return Err(FsError::Corrupt(format!("{address} is a {} block, not a node", other.kind())));
            }
            None => return Err(FsError::NotFound),
        };
        let node = Node::decode(&block.read(&self.keys)?)?;
        let mut cache = lock(&self.cache);
        let newer = cache.get(&address).is_none_or(|(b, _)| b.version <= block.version);
        if newer {
            cache.insert(address, (block.clone(), node.clone()));
        }
        Ok((block, node))
    }

    /// The node at `address`.
    pub async fn node(&self, address: Address) -> FsResult<Node> {
        let (_, mut node) = self.load(address).await?;
        if let Node::File { size, .. } = &mut node
            && let Some(open) = lock(&self.open).get(&address)
        {
            *size = open.size;
        }
        Ok(node)
    }

    /// Apply `change` to the node at `address` and store the next version,
    /// replaying it on the current version when another writer won.
    async fn modify<R>(&self, address: Address, mut change: impl FnMut(&mut Node) -> FsResult<R>) -> FsResult<R> {
        let mut fresh = false;
        for _ in 0..MAX_REPLAYS {
            let (block, mut node) = if fresh { self.load_fresh(address).await? } else { self.load(address).await? };
            let result = change(&mut node)?;
            let next = block.write(&self.keys, &node.encode()?)?;
            match self.store.store(Block::Acl(next.clone())).await {
                Ok(()) => {
                    lock(&self.cache).insert(address, (next, node));
                    return Ok(result);
                }
                Err(e) if e.is_conflict() => {
                    lock(&self.cache).remove(&address);
                    fresh = true;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(FsError::Storage(format!("{address}: too many concurrent changes")))
    }

    /// Remove a node's block (and, for files, its content blocks).
    async fn destroy(&self, address: Address) -> FsResult<()> {
        let (block, node) = self.load_fresh(address).await?;
        if let Node::File { chunks, .. } = &node {
            for chunk in chunks.iter().flatten() {
                self.remove_chunk(chunk.address).await?;
            }
        }
        lock(&self.open).remove(&address);
        self.store.remove(Tombstone::sign(&self.keys, address, block.version + 1)).await?;
        lock(&self.cache).remove(&address);
        Ok(())
    }

    /// Remove an immutable content block that no header references any more.
    async fn remove_chunk(&self, address: Address) -> FsResult<()> {
        self.store.remove(Tombstone::sign(&self.keys, address, 1)).await?;
        Ok(())
    }

    /// The entry `name` in directory `dir`.
    pub async fn lookup(&self, dir: Address, name: &str) -> FsResult<Entry> {
        if name.len() > NAME_MAX {
            return Err(FsError::NameTooLong);
        }
        match self.load(dir).await?.1 {
            Node::Directory { entries, .. } => entries.get(name).copied().ok_or(FsError::NotFound),
            _ => Err(FsError::NotDirectory),
        }
    }

    /// Every entry of directory `dir`, sorted by name.
    pub async fn readdir(&self, dir: Address) -> FsResult<Vec<(String, Entry)>> {
        match self.load(dir).await?.1 {
            Node::Directory { entries, .. } => Ok(entries.into_iter().collect()),
            _ => Err(FsError::NotDirectory),
        }
    }

    /// Create `node` under `name` in `dir`.
    async fn insert(&self, dir: Address, name: &str, node: Node) -> FsResult<Address> {
        check_name(name)?;
        match self.load(dir).await?.1 {
            Node::Directory { entries, .. } if entries.contains_key(name) => {
                return Err(FsError::Exists);
            }
            Node::Directory { .. } => {}
            _ => return Err(FsError::NotDirectory),
        }
        let kind = node.kind();
        let address = self.create_node(node).await?;
        let inserted = self
            .modify(dir, |parent| {
                let Node::Directory { entries, meta } = parent else {
                    return Err(FsError::NotDirectory);
                };
                if entries.contains_key(name) {
                    return Err(FsError::Exists);
                }
                entries.insert(name.to_string(), Entry { address, kind });
                let now = Time::now();
                meta.mtime = now;
                meta.ctime = now;
                Ok(())
            })
            .await;
        if let Err(e) = inserted {
            // Lost a race for the name: do not leak the new block.
            let _ = self.destroy(address).await;
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
        match self.load(address).await?.1 {
            Node::Symlink { target, .. } => Ok(target),
            _ => Err(FsError::Invalid("not a symbolic link".into())),
        }
    }

    /// Add a hard link `newname` in `newdir` to the file at `address`.
    pub async fn link(&self, address: Address, newdir: Address, newname: &str) -> FsResult<()> {
        check_name(newname)?;
        let kind = self.load(address).await?.1.kind();
        if kind == NodeKind::Directory {
            return Err(FsError::NotPermitted("hard links to directories".into()));
        }
        if let Node::Directory { entries, .. } = self.load(newdir).await?.1 {
            if entries.contains_key(newname) {
                return Err(FsError::Exists);
            }
        } else {
            return Err(FsError::NotDirectory);
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
            .modify(newdir, |parent| {
                let Node::Directory { entries, meta } = parent else {
                    return Err(FsError::NotDirectory);
                };
                if entries.contains_key(newname) {
                    return Err(FsError::Exists);
                }
                entries.insert(newname.to_string(), Entry { address, kind });
                meta.mtime = Time::now();
                meta.ctime = meta.mtime;
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
                self.destroy(address).await?;
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
        self.modify(dir, |parent| {
            let Node::Directory { entries, meta } = parent else {
                return Err(FsError::NotDirectory);
            };
            match entries.get(name) {
                Some(e) if e.address == entry.address => {}
                _ => return Err(FsError::NotFound),
            }
            entries.remove(name);
            meta.mtime = Time::now();
            meta.ctime = meta.mtime;
            Ok(())
        })
        .await?;
        self.drop_link(entry.address).await
    }

    /// Remove an empty directory.
    pub async fn rmdir(&self, dir: Address, name: &str) -> FsResult<()> {
        let entry = self.lookup(dir, name).await?;
        if entry.kind != NodeKind::Directory {
            return Err(FsError::NotDirectory);
        }
        if let Node::Directory { entries, .. } = self.load_fresh(entry.address).await?.1
            && !entries.is_empty()
        {
            return Err(FsError::NotEmpty);
        }
        self.modify(dir, |parent| {
            let Node::Directory { entries, meta } = parent else {
                return Err(FsError::NotDirectory);
            };
            match entries.get(name) {
                Some(e) if e.address == entry.address => {}
                _ => return Err(FsError::NotFound),
            }
            entries.remove(name);
            meta.mtime = Time::now();
            meta.ctime = meta.mtime;
            Ok(())
        })
        .await?;
        self.destroy(entry.address).await
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
                    if let Node::Directory { entries, .. } = self.load_fresh(t.address).await?.1
                        && !entries.is_empty()
                    {
                        return Err(FsError::NotEmpty);
                    }
                }
                (false, false) => {}
            }
        }
        let replaced = target.map(|t| t.address);
        let put = |entries: &mut std::collections::BTreeMap<String, Entry>| -> FsResult<()> {
            match (entries.get(newname), replaced) {
                (None, _) => {}
                (Some(e), Some(r)) if e.address == r => {}
                _ => return Err(FsError::Exists),
            }
            entries.insert(newname.to_string(), source);
            Ok(())
        };
        if dir == newdir {
            self.modify(dir, |parent| {
                let Node::Directory { entries, meta } = parent else {
                    return Err(FsError::NotDirectory);
                };
                match entries.get(name) {
                    Some(e) if e.address == source.address => {}
                    _ => return Err(FsError::NotFound),
                }
                entries.remove(name);
                put(entries)?;
                meta.mtime = Time::now();
                meta.ctime = meta.mtime;
                Ok(())
            })
            .await?;
        } else {
            self.modify(newdir, |parent| {
                let Node::Directory { entries, meta } = parent else {
                    return Err(FsError::NotDirectory);
                };
                put(entries)?;
                meta.mtime = Time::now();
                meta.ctime = meta.mtime;
                Ok(())
            })
            .await?;
            self.modify(dir, |parent| {
                let Node::Directory { entries, meta } = parent else {
                    return Err(FsError::NotDirectory);
                };
                if entries.get(name).is_some_and(|e| e.address == source.address) {
                    entries.remove(name);
                }
                meta.mtime = Time::now();
                meta.ctime = meta.mtime;
                Ok(())
            })
            .await?;
        }
        if let Some(old) = replaced {
            if target.is_some_and(|t| t.kind == NodeKind::Directory) {
                self.destroy(old).await?;
            } else {
                self.drop_link(old).await?;
            }
        }
        Ok(())
    }

    /// Change attributes; a size change truncates or extends the file.
    pub async fn setattr(&self, address: Address, change: SetAttr) -> FsResult<Node> {
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
        self.node(address).await
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
        self.load(address).await?.1.meta().xattrs.get(name).cloned().ok_or(FsError::NoAttribute)
    }

    /// Names of the extended attributes.
    pub async fn listxattr(&self, address: Address) -> FsResult<Vec<String>> {
        Ok(self.load(address).await?.1.meta().xattrs.keys().cloned().collect())
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
