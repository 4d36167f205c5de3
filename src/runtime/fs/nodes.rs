//! The node table: the file system's write-back cache of node blocks.
//! Changes apply to the in-memory node at once and reach the network in
//! batches — every [`FLUSH_INTERVAL`], at `fsync`, when a file is closed
//! (its own header) and at unmount — so a burst of creates rewrites its
//! directory block once, not once per file. Removals wait for the batch
//! that stops referencing what they remove, so a crash can leave an
//! unreferenced block behind but never a reference to a missing one.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, Weak};
use std::time::Duration;

use super::{FileSystem, FsError, FsResult, Node, lock};
use crate::runtime::block::{AccessList, AclBlock, Address, Block, Tombstone};
use crate::runtime::consensus::ConsensusError;

/// How often dirty nodes are written without being asked.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(250);

/// A node whose latest state may not be stored yet.
#[derive(Debug)]
struct Entry {
    /// The last version stored; for a new node, its salt (the block is
    /// built at the first flush, with the content it has then).
    block: Stored,
    /// The current state.
    node: Node,
    /// Changes since the block: the node must be written.
    dirty: bool,
    /// Bumped at every change, to tell whether a flush saw the last one.
    change: u64,
}

/// What is stored of a node.
#[derive(Debug, Clone)]
enum Stored {
    /// Nothing yet: the salt that fixes its address.
    New([u8; 32]),
    /// This version.
    Version(Box<AclBlock>),
}

impl Entry {
    fn is_new(&self) -> bool {
        matches!(self.block, Stored::New(_))
    }
}

/// Something to remove once the batch that stops referencing it is stored.
#[derive(Debug, Clone, Copy)]
enum Doomed {
    Node(Address),
    Chunk(Address),
}

/// Nodes in memory, clean and dirty, and pending removals.
#[derive(Debug, Default)]
pub struct NodeTable {
    entries: Mutex<HashMap<Address, Entry>>,
    doomed: Mutex<Vec<Doomed>>,
    changes: AtomicU64,
    /// One flush at a time.
    flushing: tokio::sync::Mutex<()>,
}

impl FileSystem {
    /// Make sure the node at `address` is in the table.
    async fn ensure_loaded(&self, address: Address) -> FsResult<()> {
        if lock(&self.nodes.entries).contains_key(&address) {
            return Ok(());
        }
        let block = match self.store.fetch(address).await? {
            Some(Block::Acl(b)) => b,
            Some(other) => return Err(FsError::Corrupt(format!("{address} is a {} block, not a node", other.kind()))),
            None => return Err(FsError::NotFound),
        };
        let node = Node::decode(&block.read(&self.keys)?)?;
        lock(&self.nodes.entries).entry(address).or_insert(Entry {
            block: Stored::Version(Box::new(block)),
            node,
            dirty: false,
            change: 0,
        });
        Ok(())
    }

    /// Look at the node at `address` without copying it.
    pub(super) async fn view<R>(&self, address: Address, f: impl FnOnce(&Node) -> R) -> FsResult<R> {
        self.ensure_loaded(address).await?;
        let entries = lock(&self.nodes.entries);
        let entry = entries.get(&address).ok_or(FsError::NotFound)?;
        Ok(f(&entry.node))
    }

    /// A copy of the node at `address`.
    pub(super) async fn load_node(&self, address: Address) -> FsResult<Node> {
        self.view(address, Node::clone).await
    }

    /// Apply `change` to the node at `address`; it is stored with the next
    /// batch. `change` must check before it mutates: an error leaves the
    /// node as it was.
    pub(super) async fn modify<R>(
        &self,
        address: Address,
        change: impl FnOnce(&mut Node) -> FsResult<R>,
    ) -> FsResult<R> {
        self.ensure_loaded(address).await?;
        let mut entries = lock(&self.nodes.entries);
        let entry = entries.get_mut(&address).ok_or(FsError::NotFound)?;
        let result = change(&mut entry.node)?;
        entry.dirty = true;
        entry.change = self.nodes.changes.fetch_add(1, Ordering::Relaxed) + 1;
        Ok(result)
    }

    /// Make a new node; it is stored with the next batch (before any
    /// directory that names it, since new nodes are written first).
    pub(super) fn create_node(&self, node: Node) -> FsResult<Address> {
        let salt = AclBlock::new_salt()?;
        let address = Address::acl(&self.keys.public(), &salt);
        let change = self.nodes.changes.fetch_add(1, Ordering::Relaxed) + 1;
        lock(&self.nodes.entries).insert(address, Entry { block: Stored::New(salt), node, dirty: true, change });
        Ok(address)
    }

    /// Forget the node at `address` and remove its blocks after the next batch.
    pub(super) fn destroy(&self, address: Address) {
        lock(&self.open).remove(&address);
        let mut entries = lock(&self.nodes.entries);
        let Some(entry) = entries.remove(&address) else {
            lock(&self.nodes.doomed).push(Doomed::Node(address));
            return;
        };
        let chunks: Vec<Address> = match &entry.node {
            Node::File { chunks, .. } => chunks.iter().flatten().map(|c| c.address).collect(),
            _ => Vec::new(),
        };
        if entry.is_new() && chunks.is_empty() {
            // Never stored and owns nothing stored: nothing to remove.
            return;
        }
        if entry.is_new() {
            // Its content blocks are stored, and only a stored header can
            // authorize their removal: the next batch stores it first.
            entries.insert(address, entry);
        }
        drop(entries);
        let mut doomed = lock(&self.nodes.doomed);
        doomed.extend(chunks.into_iter().map(Doomed::Chunk));
        doomed.push(Doomed::Node(address));
    }

    /// Remove a content block after the next batch (which no longer references it).
    pub(super) fn remove_chunk(&self, address: Address) {
        lock(&self.nodes.doomed).push(Doomed::Chunk(address));
    }

    /// Store the node at `address` now if it changed (a file at close).
    pub(super) async fn flush_node(&self, address: Address) -> FsResult<()> {
        let _flushing = self.nodes.flushing.lock().await;
        self.write_entry(address).await
    }

    /// Store every changed node, then carry out the removals they allow.
    pub async fn flush_metadata(&self) -> FsResult<()> {
        let _flushing = self.nodes.flushing.lock().await;
        // Removals registered now were registered after the changes that
        // unreference them, so this batch includes those changes.
        let doomed = std::mem::take(&mut *lock(&self.nodes.doomed));
        let mut batch: Vec<(bool, Address)> =
            lock(&self.nodes.entries).iter().filter(|(_, e)| e.dirty).map(|(a, e)| (!e.is_new(), *a)).collect();
        // New nodes first: a directory must never name a block not stored yet.
        batch.sort();
        for (_, address) in batch {
            if let Err(e) = self.write_entry(address).await {
                lock(&self.nodes.doomed).splice(0..0, doomed);
                return Err(e);
            }
        }
        let mut refused = None;
        for (i, item) in doomed.iter().enumerate() {
            let done = match *item {
                Doomed::Chunk(address) => self.store.remove(Tombstone::sign(&self.keys, address, 1)).await,
                Doomed::Node(address) => {
                    lock(&self.nodes.entries).remove(&address);
                    match self.store.fetch(address).await {
                        Ok(Some(block)) => self.store.remove(Tombstone::for_block(&self.keys, &block)).await,
                        Ok(None) => Ok(()),
                        Err(e) => Err(e),
                    }
                }
            };
            match done {
                Ok(()) => {}
                // The silo may recover (I/O, full): try again with the next batch.
                Err(e @ ConsensusError::Silo(_)) => {
                    lock(&self.nodes.doomed).extend_from_slice(&doomed[i..]);
                    return Err(e.into());
                }
                // A refusal will not change: keep going, report it once.
                Err(e) => refused = Some(e),
            }
        }
        match refused {
            Some(e) => Err(FsError::Storage(format!("a removal was refused, the block stays: {e}"))),
            None => Ok(()),
        }
    }

    /// Write one entry if dirty (caller holds the flushing lock).
    async fn write_entry(&self, address: Address) -> FsResult<()> {
        let snapshot = {
            let entries = lock(&self.nodes.entries);
            match entries.get(&address) {
                Some(e) if e.dirty => Some((e.block.clone(), e.node.encode()?, e.change)),
                _ => None,
            }
        };
        let Some((block, encoded, change)) = snapshot else { return Ok(()) };
        let next = match block {
            Stored::New(salt) => AclBlock::create_at(&self.keys, salt, AccessList::default(), &encoded)?,
            Stored::Version(block) => block.write(&self.keys, &encoded)?,
        };
        match self.store.store(Block::Acl(next.clone())).await {
            Ok(()) => {}
            Err(e) if e.is_conflict() => {
                // Only this process writes its volume's blocks today; a
                // concurrent writer means the data must not be overwritten.
                return Err(FsError::Storage(format!(
                    "{address} was changed by another writer; this change was not stored"
                )));
            }
            Err(e) => return Err(e.into()),
        }
        let mut entries = lock(&self.nodes.entries);
        if let Some(entry) = entries.get_mut(&address) {
            entry.block = Stored::Version(Box::new(next));
            entry.dirty = entry.change != change;
        }
        Ok(())
    }

    /// Flush dirty nodes every [`FLUSH_INTERVAL`] while `fs` lives.
    pub fn spawn_flusher(fs: Weak<FileSystem>) {
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(FLUSH_INTERVAL).await;
                let Some(fs) = fs.upgrade() else { break };
                if let Err(e) = fs.flush_metadata().await {
                    *lock(&fs.last_error) = Some(e.to_string());
                }
            }
        });
    }
}
