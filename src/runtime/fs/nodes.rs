//! The node table: the file system's write-back cache of node blocks.
//! An operation applies its [`Intent`]s to the in-memory node at once and
//! keeps them beside it until a flush stores them — every
//! [`FLUSH_INTERVAL`], at `fsync`, and at unmount — so a burst of creates
//! rewrites its directory block once, not once per file.
//!
//! What a flush guarantees, at any crash point:
//! - a stored directory names only stored nodes: entries naming a node not
//!   stored yet are left out of the version written (and written with the
//!   next one), so new nodes reach the store before the directories that
//!   name them;
//! - intents that must follow another change wait for it (`after`): a
//!   rename's removal from the old directory follows the new entry, a link
//!   count rises before a new entry names the file and drops only after the
//!   entry is gone;
//! - removals of blocks (dead nodes, replaced chunks) wait until the change
//!   that stops referencing them is stored, so a crash can leave an
//!   unreferenced block behind but never a reference to a missing one;
//! - every store is a compare-and-swap on the version the intents were
//!   applied to; when another writer won, the current version is decoded
//!   and the intents replayed on it ([`super::intent`]);
//! - a failed store keeps the intents: nothing is dropped, the next flush
//!   tries again, and `fsync` reports the failure.
//!
//! Clean nodes are fetched again after the revalidation TTL, so changes of
//! another writer show up; clean nodes with no open file are pruned when
//! the table grows past [`KEEP_CLEAN`].

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, Weak};
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;

use super::intent::{Intent, Mode, Replayed};
use super::lease;
use super::model::{Chunk, Entry, Lease};
use super::{FileSystem, FsError, FsResult, Node, NodeKind, lock, shard};
use crate::runtime::block::{AccessList, AclBlock, Address, Block, ContentBlock, Tombstone};
use crate::runtime::consensus::{ConsensusError, Expect, Fetched, ReadLevel};

/// How often dirty nodes are written without being asked.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(250);
/// Clean nodes kept in memory before the table prunes them.
const KEEP_CLEAN: usize = 20_000;
/// New nodes acknowledged but not stored before creates wait for a flush:
/// what a stop (or a crash) has to store stays bounded.
pub const MAX_BACKLOG: usize = 4096;
/// Nodes stored concurrently within one flush.
const PARALLEL_STORES: usize = 64;
/// Attempts at one store while the consensus reports a retryable error.
const STORE_ATTEMPTS: u32 = 3;
/// Shards of a directory fetched or stored concurrently.
const PARALLEL_SHARDS: usize = 16;
/// Blocks removed concurrently by one round of removals.
const PARALLEL_REMOVALS: usize = 16;
/// How long a replaced shard outlives the version of its directory that
/// named it (see [`Doomed::Shard`]).
const SHARD_GRACE: Duration = Duration::from_secs(2);
/// Reads of a directory whose shards keep being replaced under the reader.
const READ_ATTEMPTS: u32 = 6;

/// The entries of one shard, with its digest.
type ShardRead = (BTreeMap<String, Entry>, [u8; 32]);

/// A node as read, with the digests of a sharded directory's shards.
type Loaded = (Node, Vec<[u8; 32]>);

/// "Intent `seq` of node `address` is stored."
pub(super) type Dep = (Address, u64);

/// An intent not stored yet.
#[derive(Debug)]
struct Pending {
    seq: u64,
    intent: Intent,
    /// Stored only after these.
    after: Vec<Dep>,
    /// A namespace change whose caller waits for it (write-through): on a
    /// conflict it is re-checked as at the call and, if it no longer
    /// holds, dropped and its error handed to the caller.
    strict: bool,
}

/// A change another writer made, seen by this one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The node's attributes or content changed.
    Node(Address),
    /// This name in this directory appeared, vanished or names another node.
    Entry(Address, String),
}

/// What is stored of a node.
#[derive(Debug, Clone)]
enum Base {
    /// Nothing yet: the salt that fixes its address, and the access list
    /// it starts with (its parent's).
    New([u8; 32], AccessList),
    /// This version.
    Stored(Box<AclBlock>),
}

/// One node in memory.
#[derive(Debug)]
struct Slot {
    base: Base,
    /// The current state: `base` with every pending intent applied.
    node: Node,
    pending: Vec<Pending>,
    /// When `base` was last known to be the latest version.
    checked: Instant,
    /// The last block this table tried to store, to recognise its own
    /// write in a conflict after an indeterminate outcome.
    attempt: Option<Box<AclBlock>>,
    /// Subdirectories of a directory node (for its link count), kept up to
    /// date by each change so `stat` does not count them.
    subdirs: u32,
    /// The lease of the stored version of a directory (`base`), if any.
    lease: Option<Lease>,
    /// The digests of the shards of the stored version of a sharded
    /// directory (by index, as `node`'s shard list): a shard whose new
    /// content has the same digest is not written again.
    digests: Vec<[u8; 32]>,
    /// A store of this file's content began (see [`FileSystem::content_began`]).
    began_content: bool,
}

/// How many entries of directory `node` are directories.
fn count_subdirs(node: &Node) -> u32 {
    match node {
        Node::Directory { entries, .. } => entries.values().filter(|e| e.kind == NodeKind::Directory).count() as u32,
        _ => 0,
    }
}

/// How many of `names` in directory `node` are directories.
fn named_subdirs(node: &Node, names: &[&str]) -> u32 {
    match node {
        Node::Directory { entries, .. } => {
            names.iter().filter(|n| entries.get(**n).is_some_and(|e| e.kind == NodeKind::Directory)).count() as u32
        }
        _ => 0,
    }
}

impl Slot {
    fn is_new(&self) -> bool {
        matches!(self.base, Base::New(..))
    }

    /// The pending change numbered `seq`, if it is not stored yet. The
    /// list is in sequence order (numbers are drawn and changes appended
    /// under the table's lock, and nothing reorders it), so a directory
    /// with thousands of changes waiting is searched, not walked: `rm` of
    /// a large directory checks one such change per deleted file.
    fn pending_change(&self, seq: u64) -> Option<&Pending> {
        self.pending.binary_search_by_key(&seq, |p| p.seq).ok().map(|i| &self.pending[i])
    }
}

/// The node table: slots boxed, so the table's own array (sized for twice
/// the nodes at worst) holds a pointer per node, not a whole slot.
type Slots = HashMap<Address, Box<Slot>>;

/// Something to remove once the changes that stop referencing it are stored.
#[derive(Debug, Clone, Copy)]
enum Doomed {
    Node(Address),
    Chunk(Address),
    /// A shard a newer version of its directory replaced: removed from
    /// the instant given, so a reader of the version before it (another
    /// mount, fetching the shards it names) still finds it.
    Shard(Address, Instant),
}

/// Nodes in memory, clean and dirty, and pending removals.
#[derive(Debug, Default)]
pub struct NodeTable {
    slots: Mutex<Slots>,
    doomed: Mutex<Vec<(Doomed, Vec<Dep>)>>,
    /// Chunk uploads of files closed or destroyed while they were under
    /// way: each is removed once it lands, after the changes named.
    landing: Mutex<Vec<(Upload, Vec<Dep>)>>,
    /// Nodes destroyed before they were ever stored: never name them.
    unborn: Mutex<HashSet<Address>>,
    /// Strict intents dropped at a conflict, by sequence: the error their
    /// waiting caller gets.
    refused: Mutex<HashMap<u64, FsError>>,
    seq: AtomicU64,
    /// New nodes not stored yet: creates wait for a flush past [`MAX_BACKLOG`].
    backlog: AtomicUsize,
    /// The table size at which clean nodes are next pruned.
    prune_at: AtomicUsize,
    /// One flush at a time.
    flushing: tokio::sync::Mutex<()>,
    /// Unmounting: replaced shards go at once.
    pub(super) draining: std::sync::atomic::AtomicBool,
}

/// A chunk upload under way.
pub(super) type Upload = tokio::task::JoinHandle<FsResult<Chunk>>;

/// Whether every change `deps` names is stored. Exactly that change: an
/// earlier intent kept back (an entry naming a node not stored yet) does
/// not hold up what depends on a later one. (A node leaves the table with
/// pending changes only if it was never stored: nothing waits for those.)
fn satisfied(slots: &Slots, deps: &[Dep]) -> bool {
    deps.iter().all(|(address, seq)| slots.get(address).is_none_or(|slot| slot.pending_change(*seq).is_none()))
}

/// How many pending intents up to sequence `barrier` the table holds.
fn pending_up_to(slots: &Slots, barrier: u64) -> usize {
    slots.values().map(|s| s.pending.iter().filter(|p| p.seq <= barrier).count()).sum()
}

/// How many leading pending intents of `slot` may be stored now.
fn ready_prefix(slots: &Slots, slot: &Slot) -> usize {
    slot.pending.iter().take_while(|p| satisfied(slots, &p.after)).count()
}

/// The shards a directory node names.
fn shards_named(node: &Node) -> Vec<Address> {
    match node {
        Node::Directory { shards, .. } => shards.iter().map(|c| c.address).collect(),
        _ => Vec::new(),
    }
}

/// A node with intents ready to store, and whether it is new.
type Ready = (bool, Address);

/// What a version of a sharded directory stores in each shard.
enum ShardPlan {
    /// The shard of the stored version, unchanged.
    Keep(Chunk, [u8; 32]),
    /// A new shard: its plaintext and digest.
    New(Vec<u8>, [u8; 32]),
}

/// The node block a fetch of `address` found: a removed node is gone
/// (`ENOENT`), a missing one or another kind of block is damage (`EIO`).
fn node_block(address: Address, fetched: Fetched) -> FsResult<AclBlock> {
    match fetched {
        Fetched::Found(Block::Acl(b)) => Ok(b),
        Fetched::Found(other) => Err(FsError::Corrupt(format!("{address} is a {} block, not a node", other.kind()))),
        Fetched::Removed(_) | Fetched::Collected { .. } => Err(FsError::NotFound),
        Fetched::Absent => Err(FsError::Corrupt(format!("node {address} is missing from the store"))),
    }
}

/// Whether the table's copy of a node can be used as it is.
#[derive(Debug, Clone, Copy)]
enum Check {
    /// It has pending changes, or was checked within the revalidation TTL.
    Current,
    /// It must be fetched; the version held, if any (a fetch of no newer
    /// version need not be decoded).
    Fetch(Option<u64>),
}

/// What [`FileSystem::prepare`] found.
enum Prep {
    /// A version to store.
    Ready(Box<Prepared>),
    /// It needs the entries of these shards of the stored version first.
    NeedBase(BTreeSet<usize>),
}

/// A version of a node ready to be signed and stored.
struct Prepared {
    base: Base,
    /// The node to store; a sharded directory's entries are in `shards`,
    /// and its shard list is filled once they are sealed.
    state: Node,
    /// The shards of a sharded directory, by index (empty otherwise).
    shards: Vec<ShardPlan>,
    /// Shards of the stored version that the new one no longer names.
    replaced: Vec<Address>,
    /// The last intent it includes.
    last_seq: u64,
    /// Nodes named by included intents but left out (not stored yet).
    hidden: HashSet<Address>,
    /// The directory lease it carries.
    lease: Option<Lease>,
}

impl FileSystem {
    /// Fetch and decode the node at `address`, a sharded directory with
    /// the entries of its shards: a removed node is gone (`ENOENT`), a
    /// missing one is damage (`EIO`). `None` for a node no newer than
    /// version `known`. A shard that cannot be read is read again with the
    /// latest version of its directory (another writer may have replaced
    /// and removed it meanwhile).
    async fn fetch_node(&self, address: Address, known: Option<u64>) -> FsResult<(AclBlock, Option<Loaded>)> {
        let mut failed: Option<(u64, FsError)> = None;
        for attempt in 0.. {
            let block = node_block(address, self.store.fetch(address, ReadLevel::Latest).await?)?;
            if let Some((version, e)) = failed.take()
                && block.version == version
            {
                return Err(e);
            }
            if known.is_some_and(|v| block.version <= v) {
                // Nothing new: no need to decrypt it again.
                return Ok((block, None));
            }
            match self.decode_node(address, &block).await {
                Ok(loaded) => return Ok((block, Some(loaded))),
                Err(e) if attempt + 1 < READ_ATTEMPTS => failed = Some((block.version, e)),
                Err(e) => return Err(e),
            }
        }
        unreachable!("the loop returns")
    }

    /// Decode `block`, the node at `address`, reading a sharded
    /// directory's shards.
    async fn decode_node(&self, address: Address, block: &AclBlock) -> FsResult<Loaded> {
        let mut node = Node::decode(&block.read(&self.keys)?)?;
        let known = self.known_shards(address, &node);
        let digests = self.load_shards(address, &mut node, known).await?;
        Ok((node, digests))
    }

    /// The shards of directory `node` (the node at `address`, as stored)
    /// that the table already holds: those its stored version names too,
    /// which no pending change touches.
    fn known_shards(&self, address: Address, node: &Node) -> HashMap<usize, ShardRead> {
        let mut known = HashMap::new();
        let Node::Directory { shards: new, .. } = node else { return known };
        let slots = lock(&self.nodes.slots);
        let Some(slot) = slots.get(&address) else { return known };
        let Node::Directory { shards: old, entries, .. } = &slot.node else { return known };
        let count = new.len();
        if count == 0 || old.len() != count || slot.digests.len() != count {
            return known;
        }
        let touched: HashSet<usize> =
            slot.pending.iter().flat_map(|p| p.intent.entry_names()).map(|n| shard::index(n, count)).collect();
        known.extend(
            (0..count)
                .filter(|i| new[*i].address == old[*i].address && !touched.contains(i))
                .map(|i| (i, (BTreeMap::new(), slot.digests[i]))),
        );
        if !known.is_empty() {
            for (name, entry) in entries {
                if let Some((part, _)) = known.get_mut(&shard::index(name, count)) {
                    part.insert(name.clone(), *entry);
                }
            }
        }
        known
    }

    /// Read every shard of directory `node` (at `dir`) into its entries,
    /// but those `known` gives; their digests, by index.
    async fn load_shards(
        &self,
        dir: Address,
        node: &mut Node,
        mut known: HashMap<usize, ShardRead>,
    ) -> FsResult<Vec<[u8; 32]>> {
        let Node::Directory { entries, shards, .. } = node else { return Ok(Vec::new()) };
        let count = shards.len();
        let missing: Vec<(usize, Chunk)> =
            shards.iter().copied().enumerate().filter(|(i, _)| !known.contains_key(i)).collect();
        known.extend(self.read_shards(dir, count, missing).await?);
        let mut digests = Vec::with_capacity(count);
        for index in 0..count {
            let (part, digest) = known.remove(&index).expect("every shard is known or fetched");
            entries.extend(part);
            digests.push(digest);
        }
        Ok(digests)
    }

    /// Read shards `which` (index and reference) of the `count` of
    /// directory `dir`, several at once.
    async fn read_shards(
        &self,
        dir: Address,
        count: usize,
        which: Vec<(usize, Chunk)>,
    ) -> FsResult<Vec<(usize, ShardRead)>> {
        let read: Vec<(usize, FsResult<ShardRead>)> = futures_util::stream::iter(which)
            .map(|(index, chunk)| async move { (index, self.read_shard(dir, index, count, chunk).await) })
            .buffer_unordered(PARALLEL_SHARDS)
            .collect()
            .await;
        read.into_iter().map(|(index, result)| result.map(|r| (index, r))).collect()
    }

    /// Fetch, decrypt and decode shard `index` of `count` of directory `dir`.
    async fn read_shard(&self, dir: Address, index: usize, count: usize, chunk: Chunk) -> FsResult<ShardRead> {
        match self.store.fetch(chunk.address, ReadLevel::Any).await? {
            Fetched::Found(Block::Content(block)) => shard::open(dir, index, count, &chunk, block.data()),
            Fetched::Found(other) => Err(FsError::Corrupt(format!(
                "shard {index} ({}) of directory {dir} is a {} block",
                chunk.address,
                other.kind()
            ))),
            Fetched::Absent | Fetched::Removed(_) | Fetched::Collected { .. } => {
                Err(FsError::Corrupt(format!("shard {index} ({}) of directory {dir} is missing", chunk.address)))
            }
        }
    }

    /// Whether the node at `address` must be fetched before use.
    fn check(&self, address: Address) -> Check {
        match lock(&self.nodes.slots).get(&address) {
            Some(slot) if !slot.pending.is_empty() || slot.checked.elapsed() < self.revalidate => Check::Current,
            Some(slot) => Check::Fetch(match &slot.base {
                Base::Stored(b) => Some(b.version),
                Base::New(..) => None,
            }),
            None => Check::Fetch(None),
        }
    }

    /// Make sure the node at `address` is in the table and, if it has no
    /// pending change, no older than the revalidation TTL.
    async fn ensure_loaded(&self, address: Address) -> FsResult<()> {
        let Check::Fetch(mut known) = self.check(address) else { return Ok(()) };
        loop {
            let fetched = self.fetch_node(address, known).await;
            match self.install(address, fetched) {
                Some(result) => return result,
                // Pruned while it was fetched: read it whole.
                None => known = None,
            }
        }
    }

    /// Those of `addresses` whose nodes must be fetched before use.
    pub(super) fn to_fetch(&self, addresses: &[Address]) -> Vec<Address> {
        addresses.iter().copied().filter(|a| matches!(self.check(*a), Check::Fetch(_))).collect()
    }

    /// Load the nodes at `addresses` that are not current in the table
    /// with one batched fetch ([`crate::runtime::consensus::Consensus::fetch_many`]),
    /// each fetched block validated below and decoded here as
    /// [`FileSystem::fetch_node`] does. Best effort: a node that fails
    /// here is left out, and its next access fetches it alone (retrying a
    /// directory whose shards changed underneath) and reports the error.
    pub(super) async fn preload(&self, addresses: &[Address]) {
        let wanted: Vec<(Address, Option<u64>)> = addresses
            .iter()
            .filter_map(|&a| match self.check(a) {
                Check::Fetch(known) => Some((a, known)),
                Check::Current => None,
            })
            .collect();
        if wanted.is_empty() {
            return;
        }
        let fetched = self.store.fetch_many(wanted.iter().map(|(a, _)| *a).collect(), ReadLevel::Latest).await;
        for ((address, known), fetched) in wanted.into_iter().zip(fetched) {
            let Ok(block) = fetched.map_err(FsError::from).and_then(|f| node_block(address, f)) else { continue };
            let loaded = if known.is_some_and(|v| block.version <= v) {
                None
            } else {
                match self.decode_node(address, &block).await {
                    Ok(loaded) => Some(loaded),
                    Err(_) => continue,
                }
            };
            // A node pruned meanwhile (`None`) is fetched again at its next access.
            let _ = self.install(address, Ok((block, loaded)));
        }
    }

    /// Put what a fetch of the node at `address` found in the table.
    /// `None` if the table dropped the node meanwhile and the fetch
    /// skipped decoding a version it held: fetch it whole.
    fn install(&self, address: Address, fetched: FsResult<(AclBlock, Option<Loaded>)>) -> Option<FsResult<()>> {
        let mut slots = lock(&self.nodes.slots);
        match (fetched, slots.get_mut(&address)) {
            (Ok((_, None)), Some(slot)) => slot.checked = Instant::now(),
            (Ok((block, Some((node, digests)))), Some(slot)) => {
                let newer = match &slot.base {
                    Base::Stored(b) => block.version > b.version,
                    Base::New(..) => false,
                };
                if newer && slot.pending.is_empty() {
                    slot.base = Base::Stored(Box::new(block));
                    slot.lease = lease::of(&node);
                    slot.digests = digests;
                    let old = std::mem::replace(&mut slot.node, node);
                    slot.subdirs = count_subdirs(&slot.node);
                    self.changed(address, &old, &slot.node);
                }
                slot.checked = Instant::now();
            }
            (Ok((_, None)), None) => return None,
            (Ok((block, Some((node, digests)))), None) => {
                if slots.len() >= self.nodes.prune_at.load(Ordering::Relaxed).max(KEEP_CLEAN) {
                    self.prune(&mut slots);
                    // Dirty nodes cannot go: do not sort the table again at every load.
                    self.nodes.prune_at.store(slots.len() + KEEP_CLEAN / 2, Ordering::Relaxed);
                }
                slots.insert(
                    address,
                    Box::new(Slot {
                        base: Base::Stored(Box::new(block)),
                        subdirs: count_subdirs(&node),
                        lease: lease::of(&node),
                        node,
                        pending: Vec::new(),
                        checked: Instant::now(),
                        attempt: None,
                        digests,
                        began_content: false,
                    }),
                );
            }
            (Err(FsError::NotFound), Some(slot)) if slot.pending.is_empty() && !slot.is_new() => {
                // Another writer removed it.
                slots.remove(&address);
                return Some(Err(FsError::NotFound));
            }
            // Keep serving what is known while the store cannot answer.
            (Err(_), Some(_)) => {}
            (Err(e), None) => return Some(Err(e)),
        }
        Some(Ok(()))
    }

    /// Tell the watcher (the kernel's caches) that another writer changed
    /// the node at `address` from `old` to `new`: the node, and each name
    /// of a directory that appeared, vanished or now names another node.
    fn changed(&self, address: Address, old: &Node, new: &Node) {
        let watcher = lock(&self.watcher);
        let Some(tx) = watcher.as_ref() else { return };
        let _ = tx.send(Change::Node(address));
        if let (Node::Directory { entries: before, .. }, Node::Directory { entries: after, .. }) = (old, new) {
            let gone = before.iter().filter(|(n, e)| after.get(*n) != Some(e)).map(|(n, _)| n);
            let came = after.keys().filter(|n| !before.contains_key(*n));
            for name in gone.chain(came) {
                let _ = tx.send(Change::Entry(address, name.clone()));
            }
        }
    }

    /// Changes other writers make, as they are seen: for the kernel's caches.
    pub fn watch_changes(&self) -> tokio::sync::mpsc::UnboundedReceiver<Change> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        *lock(&self.watcher) = Some(tx);
        rx
    }

    /// Drop clean nodes no file handle uses, oldest checked first, down to
    /// half of [`KEEP_CLEAN`].
    fn prune(&self, slots: &mut Slots) {
        let open = lock(&self.open);
        let mut clean: Vec<(Instant, Address)> = slots
            .iter()
            .filter(|(a, s)| s.pending.is_empty() && !s.is_new() && !open.contains_key(a) && **a != self.root)
            .map(|(a, s)| (s.checked, *a))
            .collect();
        clean.sort();
        let excess = slots.len().saturating_sub(KEEP_CLEAN / 2);
        for (_, address) in clean.into_iter().take(excess) {
            slots.remove(&address);
        }
    }

    /// Drop the node at `address` from the table, whatever its state.
    fn drop_slot(&self, address: Address) {
        if lock(&self.nodes.slots).remove(&address).is_some_and(|s| s.is_new()) {
            self.nodes.backlog.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Wait while too many new nodes are not stored yet: until a flush
    /// under way has stored enough of them (creates and stores overlap),
    /// or, if none is under way, through a flush of its own.
    pub(super) async fn throttle(&self) {
        while self.nodes.backlog.load(Ordering::Relaxed) > MAX_BACKLOG {
            if self.nodes.flushing.try_lock().is_ok() {
                // A failure is the flusher's to report; this only paces creates.
                let _ = self.flush_metadata().await;
                return;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// Forget a clean node the kernel no longer refers to (FUSE `forget`).
    pub fn forget(&self, address: Address) {
        if address == self.root || lock(&self.open).contains_key(&address) {
            return;
        }
        let mut slots = lock(&self.nodes.slots);
        if slots.get(&address).is_some_and(|s| s.pending.is_empty() && !s.is_new()) {
            slots.remove(&address);
        }
    }

    /// How many nodes the table holds (for tests and monitoring).
    pub fn nodes_in_memory(&self) -> usize {
        lock(&self.nodes.slots).len()
    }

    /// Look at the node at `address` without copying it.
    pub(super) async fn view<R>(&self, address: Address, f: impl FnOnce(&Node) -> R) -> FsResult<R> {
        self.ensure_loaded(address).await?;
        let slots = lock(&self.nodes.slots);
        let slot = slots.get(&address).ok_or(FsError::NotFound)?;
        Ok(f(&slot.node))
    }

    /// Look at the node at `address` and, for a directory, its number of subdirectories.
    pub(super) async fn view_counted<R>(&self, address: Address, f: impl FnOnce(&Node, u32) -> R) -> FsResult<R> {
        self.ensure_loaded(address).await?;
        let slots = lock(&self.nodes.slots);
        let slot = slots.get(&address).ok_or(FsError::NotFound)?;
        Ok(f(&slot.node, slot.subdirs))
    }

    /// A copy of the node at `address`.
    pub(super) async fn load_node(&self, address: Address) -> FsResult<Node> {
        self.view(address, Node::clone).await
    }

    /// Apply `intent` to the node at `address` now and store it with a later
    /// flush, after the changes `after` names. Returns the change, for
    /// others to wait on. A failed precondition changes nothing.
    ///
    /// On a network (write-through), a namespace change to a directory is
    /// strict — its caller waits for it with [`FileSystem::settle`] —
    /// unless this mount holds the directory's lease; and it is refused
    /// with [`FsError::Busy`] while another mount holds it.
    pub(super) async fn change(&self, address: Address, mut intent: Intent, after: Vec<Dep>) -> FsResult<Dep> {
        self.ensure_loaded(address).await?;
        let mut slots = lock(&self.nodes.slots);
        let slot = slots.get_mut(&address).ok_or(FsError::NotFound)?;
        let namespace = self.write_through && intent.is_namespace();
        let now = lease::now_ms();
        let leased = namespace && slot.lease.is_some_and(|l| l.held_by(self.mount_id, now));
        if namespace && !leased && lease::of(&slot.node).is_some_and(|l| l.blocks(self.mount_id, now)) {
            return Err(FsError::Busy(address));
        }
        let names: Vec<String> = intent.entry_names().into_iter().map(str::to_owned).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let before = named_subdirs(&slot.node, &names);
        intent.apply(&mut slot.node, Mode::Op)?;
        slot.subdirs = if matches!(&intent, Intent::InsertEntry { entry, .. } if entry.kind == NodeKind::Directory) {
            // It may also have dropped a stale name of the same directory.
            count_subdirs(&slot.node)
        } else {
            (slot.subdirs + named_subdirs(&slot.node, &names)).saturating_sub(before)
        };
        let seq = self.nodes.seq.fetch_add(1, Ordering::Relaxed) + 1;
        let strict = namespace && !leased;
        slot.pending.push(Pending { seq, intent, after, strict });
        Ok((address, seq))
    }

    /// Make a new node in directory `parent` (none for the root), with the
    /// parent's access list; it is stored with a later flush, before any
    /// directory names it.
    pub(super) fn create_node(&self, node: Node, parent: Option<Address>) -> FsResult<Address> {
        let salt = AclBlock::new_salt()?;
        let address = Address::acl(&self.keys.public(), &salt);
        let mut slots = lock(&self.nodes.slots);
        let access = match parent.and_then(|p| slots.get(&p)).map(|s| &s.base) {
            Some(Base::Stored(block)) => block.access.clone(),
            Some(Base::New(_, access)) => access.clone(),
            None => AccessList::default(),
        };
        let seq = self.nodes.seq.fetch_add(1, Ordering::Relaxed) + 1;
        let pending =
            vec![Pending { seq, intent: Intent::Create(Box::new(node.clone())), after: Vec::new(), strict: false }];
        let subdirs = count_subdirs(&node);
        let slot = Slot {
            base: Base::New(salt, access),
            node,
            pending,
            checked: Instant::now(),
            attempt: None,
            subdirs,
            lease: None,
            digests: Vec::new(),
            began_content: false,
        };
        slots.insert(address, Box::new(slot));
        self.nodes.backlog.fetch_add(1, Ordering::Relaxed);
        Ok(address)
    }

    /// Forget the node at `address` and remove its blocks once the changes
    /// `after` names (which stop referencing it) are stored.
    pub(super) fn destroy(&self, address: Address, mut after: Vec<Dep>) {
        if let Some(open) = lock(&self.open).remove(&address) {
            self.discard(address, open);
        }
        let mut slots = lock(&self.nodes.slots);
        let Some(slot) = slots.remove(&address) else {
            drop(slots);
            lock(&self.nodes.doomed).push((Doomed::Node(address), after));
            return;
        };
        let chunks: Vec<Address> = match &slot.node {
            Node::File { chunks, patches, .. } => {
                chunks.values().map(|c| c.address).chain(patches.iter().map(|p| p.address)).collect()
            }
            _ => Vec::new(),
        };
        let waits_for_it = |deps: &[Dep]| deps.iter().any(|(a, _)| *a == address);
        let owns_doomed = lock(&self.nodes.doomed).iter().any(|(_, deps)| waits_for_it(deps))
            || lock(&self.nodes.landing).iter().any(|(_, deps)| waits_for_it(deps));
        // A store of its content may still land (a flush or an upload
        // under way): then its header is stored, to authorize the removal.
        if slot.is_new() && chunks.is_empty() && !owns_doomed && !slot.began_content {
            // Never stored and owns nothing stored: nothing to remove.
            lock(&self.nodes.unborn).insert(address);
            self.nodes.backlog.fetch_sub(1, Ordering::Relaxed);
            return;
        }
        if let Some(last) = slot.pending.last() {
            // Its pending changes are stored first, then it is removed: a new
            // node's content blocks (or discarded ones) are stored, and only a
            // stored header can authorize their removal; a stored node's
            // changes are what others wait for (a directory's removal of an
            // entry, before the node that entry named goes; a link count
            // lowered once an earlier name's removal is stored).
            after.push((address, last.seq));
            slots.insert(address, slot);
        }
        drop(slots);
        let mut doomed = lock(&self.nodes.doomed);
        doomed.extend(chunks.into_iter().map(|c| (Doomed::Chunk(c), after.clone())));
        doomed.push((Doomed::Node(address), after));
    }

    /// Record that a store of `file`'s content begins, before it does: if
    /// the file was never stored, its header must then be, before those
    /// blocks can be removed (only a stored header authorizes that), so it
    /// can no longer go unstored when it is deleted. Kept in the node
    /// table, not in the open file's state: the state is gone before the
    /// removals of what it stored are queued, and a deletion in between
    /// must still see it.
    pub(super) fn content_began(&self, file: Address) {
        if let Some(slot) = lock(&self.nodes.slots).get_mut(&file) {
            slot.began_content = true;
        }
    }

    /// Remove a content block of `file` that no header names, once `file`'s
    /// own block is stored (only a stored header can authorize the removal).
    pub(super) fn remove_unnamed_chunk(&self, file: Address, chunk: Address) {
        self.remove_chunk(chunk, self.header_stored(file));
    }

    /// Remove the chunk `upload` stores for `file` once it lands (and
    /// `file`'s own block is stored).
    pub(super) fn remove_when_landed(&self, file: Address, upload: Upload) {
        let after = self.header_stored(file);
        lock(&self.nodes.landing).push((upload, after));
    }

    /// What to wait for before `file`'s header can authorize a removal: its
    /// pending changes if it was never stored.
    fn header_stored(&self, file: Address) -> Vec<Dep> {
        match lock(&self.nodes.slots).get(&file) {
            Some(slot) if slot.is_new() => slot.pending.last().map(|p| vec![(file, p.seq)]).unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    /// Turn the uploads that landed (all of them, waiting, if `all`) into
    /// removals.
    async fn settle_landings(&self, all: bool) {
        let landed: Vec<(Upload, Vec<Dep>)> = {
            let mut landing = lock(&self.nodes.landing);
            let (done, flying) = std::mem::take(&mut *landing).into_iter().partition(|(u, _)| all || u.is_finished());
            *landing = flying;
            done
        };
        for (upload, after) in landed {
            // A failed upload stored nothing.
            if let Ok(Ok(chunk)) = upload.await {
                self.remove_chunk(chunk.address, after);
            }
        }
    }

    /// Remove a content block once the changes `after` names are stored.
    pub(super) fn remove_chunk(&self, address: Address, after: Vec<Dep>) {
        lock(&self.nodes.doomed).push((Doomed::Chunk(address), after));
    }

    /// Store every change made before the call, in dependency order, then
    /// carry out the removals they allow. Every failure is kept for a later
    /// flush. `Ok` means every change made before the call is stored:
    /// `fsync` relies on it, so a change that cannot be stored (a failed
    /// store, or a dependency that cannot be met) is an error, never
    /// silently left for later.
    pub async fn flush_metadata(&self) -> FsResult<()> {
        let _flushing = self.nodes.flushing.lock().await;
        // Changes made meanwhile may be stored too, but need not be: a
        // steady stream of them cannot keep this flush going.
        let barrier = self.nodes.seq.load(Ordering::SeqCst);
        let mut first_error = None;
        let mut left = pending_up_to(&lock(&self.nodes.slots), barrier);
        while left > 0 {
            let (new, stored): (Vec<Ready>, Vec<Ready>) = {
                let slots = lock(&self.nodes.slots);
                slots
                    .iter()
                    .filter(|(_, s)| ready_prefix(&slots, s) > 0)
                    .map(|(a, s)| (s.is_new(), *a))
                    .partition(|(new, _)| *new)
            };
            // New nodes first, so their directories can name them.
            for group in [new, stored] {
                let results: Vec<FsResult<bool>> = futures_util::stream::iter(group)
                    .map(|(_, address)| self.write_slot(address))
                    .buffer_unordered(PARALLEL_STORES)
                    .collect()
                    .await;
                for result in results {
                    if let Err(e) = result {
                        first_error.get_or_insert(e);
                    }
                }
            }
            // Each round stores at least one change of those before the
            // barrier, or nothing more can be done now.
            let now = pending_up_to(&lock(&self.nodes.slots), barrier);
            if now >= left {
                left = now;
                break;
            }
            left = now;
        }
        if left > 0 && first_error.is_none() {
            let stuck = self.stuck_change(barrier);
            self.report(&format!("write-back cannot make progress: {stuck}"));
            first_error = Some(FsError::Storage(format!("{left} changes cannot be stored yet: {stuck}")));
        }
        if let Err(e) = self.reap().await {
            first_error.get_or_insert(e);
        }
        {
            let slots = lock(&self.nodes.slots);
            if slots.values().all(|s| s.pending.is_empty()) {
                lock(&self.nodes.unborn).clear();
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// The version of the node at `address` holding its ready intents.
    /// When only some intents are ready and the stored version is a
    /// sharded directory, the version is built from the stored entries of
    /// the shards those intents touch (`base_shards`, by index; asked for
    /// with [`Prep::NeedBase`]), and the other shards are kept as stored.
    fn prepare(
        &self,
        address: Address,
        base_shards: &HashMap<usize, BTreeMap<String, Entry>>,
    ) -> FsResult<Option<Prep>> {
        let slots = lock(&self.nodes.slots);
        let Some(slot) = slots.get(&address) else { return Ok(None) };
        let k = ready_prefix(&slots, slot);
        if k == 0 {
            return Ok(None);
        }
        let stored: &[Chunk] = match &slot.node {
            Node::Directory { shards, .. } => shards,
            _ => &[],
        };
        if k == slot.pending.len()
            && !stored.is_empty()
            && let Some(prep) = self.prepare_shards_in_place(address, &slots, slot)?
        {
            return Ok(Some(prep));
        }
        let partial = k < slot.pending.len() && !stored.is_empty();
        let mut touched = BTreeSet::new();
        let mut state = if k == slot.pending.len() {
            slot.node.clone()
        } else {
            let mut state = match &slot.base {
                Base::Stored(block) => Node::decode(&block.read(&self.keys)?)?,
                Base::New(..) => slot.node.clone(),
            };
            if partial {
                // The stored block holds no entries: start from those of
                // the shards the ready intents touch.
                touched = slot.pending[..k]
                    .iter()
                    .flat_map(|p| p.intent.entry_names())
                    .map(|name| shard::index(name, stored.len()))
                    .collect();
                let missing: BTreeSet<usize> =
                    touched.iter().filter(|i| !base_shards.contains_key(i)).copied().collect();
                if !missing.is_empty() {
                    return Ok(Some(Prep::NeedBase(missing)));
                }
                if let Node::Directory { entries, .. } = &mut state {
                    for i in &touched {
                        entries.extend(base_shards[i].iter().map(|(n, e)| (n.clone(), *e)));
                    }
                }
            }
            for p in &slot.pending[..k] {
                p.intent.clone().apply(&mut state, Mode::Replay)?;
            }
            if partial && let Node::Directory { entries, .. } = &state {
                let strays: BTreeSet<usize> =
                    entries.keys().map(|n| shard::index(n, stored.len())).filter(|i| !touched.contains(i)).collect();
                if !strays.is_empty() {
                    return Ok(Some(Prep::NeedBase(touched.union(&strays).copied().collect())));
                }
            }
            state
        };
        let mut hidden = HashSet::new();
        if let Node::Directory { entries, .. } = &mut state {
            let unborn = lock(&self.nodes.unborn);
            entries.retain(|_, e| {
                let unstored = unborn.contains(&e.address) || slots.get(&e.address).is_some_and(|s| s.is_new());
                if unstored {
                    hidden.insert(e.address);
                }
                !unstored
            });
        }
        let all_in = k == slot.pending.len() && hidden.is_empty();
        let lease = if self.write_through { self.lease_to_store(address, slot, k, all_in, &mut state) } else { None };
        let (shards, replaced) = match &mut state {
            Node::Directory { entries, shards: list, .. } => {
                let count = if partial { stored.len() } else { self.shard_policy.count(entries.len(), stored.len()) };
                let groups = match count {
                    0 => BTreeMap::new(),
                    _ => shard::split(entries, count)
                        .into_iter()
                        .enumerate()
                        .filter(|(i, _)| !partial || touched.contains(i))
                        .collect(),
                };
                let planned = self.plan_shards(slot, count, &groups)?;
                if count > 0 {
                    // They are in the shards.
                    entries.clear();
                }
                list.clear();
                planned
            }
            _ => (Vec::new(), Vec::new()),
        };
        Ok(Some(Prep::Ready(Box::new(Prepared {
            base: slot.base.clone(),
            state,
            shards,
            replaced,
            last_seq: slot.pending[k - 1].seq,
            hidden,
            lease,
        }))))
    }

    /// The next version of sharded directory `slot` (at `address`) with
    /// every pending intent, its shard count unchanged, without copying its
    /// entries: only the shards the intents touch are encoded (and written
    /// if they changed). `None` if the shard count changes.
    fn prepare_shards_in_place(&self, address: Address, slots: &Slots, slot: &Slot) -> FsResult<Option<Prep>> {
        let Node::Directory { meta, entries, parent, lease: held, shards: stored } = &slot.node else {
            return Ok(None);
        };
        let count = stored.len();
        let touched: BTreeSet<usize> =
            slot.pending.iter().flat_map(|p| p.intent.entry_names()).map(|n| shard::index(n, count)).collect();
        let mut groups: BTreeMap<usize, Vec<(&String, &Entry)>> = touched.iter().map(|i| (*i, Vec::new())).collect();
        let mut hidden = HashSet::new();
        let mut left_out = 0;
        if !touched.is_empty() {
            let unborn = lock(&self.nodes.unborn);
            for (name, entry) in entries {
                if let Some(group) = groups.get_mut(&shard::index(name, count)) {
                    if unborn.contains(&entry.address) || slots.get(&entry.address).is_some_and(|s| s.is_new()) {
                        hidden.insert(entry.address);
                        left_out += 1;
                    } else {
                        group.push((name, entry));
                    }
                }
            }
        }
        if self.shard_policy.count(entries.len() - left_out, count) != count {
            return Ok(None);
        }
        let mut state = Node::Directory {
            meta: meta.clone(),
            entries: BTreeMap::new(),
            parent: *parent,
            lease: *held,
            shards: Vec::new(),
        };
        let all_in = hidden.is_empty();
        let k = slot.pending.len();
        let lease = if self.write_through { self.lease_to_store(address, slot, k, all_in, &mut state) } else { None };
        let (plan, replaced) = self.plan_shards(slot, count, &groups)?;
        Ok(Some(Prep::Ready(Box::new(Prepared {
            base: slot.base.clone(),
            state,
            shards: plan,
            replaced,
            last_seq: slot.pending[k - 1].seq,
            hidden,
            lease,
        }))))
    }

    /// The `count` shards of directory `slot`, given the entries of those
    /// that may have changed (`groups`, by index): a shard whose content is
    /// as stored, or that `groups` leaves out while the count is unchanged,
    /// is kept. Also the stored shards the plan no longer names.
    fn plan_shards(
        &self,
        slot: &Slot,
        count: usize,
        groups: &BTreeMap<usize, Vec<(&String, &Entry)>>,
    ) -> FsResult<(Vec<ShardPlan>, Vec<Address>)> {
        let stored: &[Chunk] = match &slot.node {
            Node::Directory { shards, .. } => shards,
            _ => &[],
        };
        let same_layout = count == stored.len();
        let mut plan = Vec::with_capacity(count);
        for i in 0..count {
            let digest = slot.digests.get(i).copied().unwrap_or_default();
            let as_stored = stored.get(i).copied().filter(|_| same_layout);
            let group = groups.get(&i);
            if let (Some(chunk), None) = (as_stored, group) {
                plan.push(ShardPlan::Keep(chunk, digest));
                continue;
            }
            let plain = shard::encode(group.map_or(&[][..], Vec::as_slice))?;
            let new = shard::digest(&plain);
            plan.push(match as_stored {
                Some(chunk) if new == digest => ShardPlan::Keep(chunk, digest),
                _ => ShardPlan::New(plain, new),
            });
        }
        let kept: HashSet<Address> = plan
            .iter()
            .filter_map(|p| match p {
                ShardPlan::Keep(chunk, _) => Some(chunk.address),
                ShardPlan::New(..) => None,
            })
            .collect();
        let replaced = stored.iter().map(|c| c.address).filter(|a| !kept.contains(a)).collect();
        Ok((plan, replaced))
    }

    /// The lease the next version of a directory carries, set in `state`
    /// (see [`super::lease`]): its holder renews it, or gives it up when
    /// asked or after contention once every change it answered is in this
    /// version (`all_in`); a strict namespace change to a directory no one
    /// holds takes it, unless the directory was contended lately; another
    /// mount's lease is kept, with any request for it.
    fn lease_to_store(&self, address: Address, slot: &Slot, k: usize, all_in: bool, state: &mut Node) -> Option<Lease> {
        let me = self.mount_id;
        let now = lease::now_ms();
        let field = lease::field(state)?;
        let next = match slot.lease {
            Some(held) if held.holder == me => {
                let asked = held.wanted || self.is_contended(address);
                let idle = slot.pending[..k].iter().any(|p| matches!(p.intent, Intent::ReleaseLease { .. }));
                if (asked || idle) && all_in {
                    if asked {
                        self.contend(address);
                    }
                    None
                } else {
                    Some(Lease { wanted: asked, ..lease::fresh(me, now) })
                }
            }
            Some(other) if other.blocks(me, now) => *field,
            _ => {
                let takes = slot.pending[..k].iter().any(|p| p.strict && p.intent.is_namespace());
                (takes && !self.is_contended(address)).then(|| lease::fresh(me, now))
            }
        };
        *field = next;
        next
    }

    /// Give up the leases of directories this mount stopped changing
    /// ([`lease::IDLE`]), so another writer need not wait for them to run out.
    fn release_idle_leases(&self) {
        if !self.write_through {
            return;
        }
        let now = lease::now_ms();
        let mut slots = lock(&self.nodes.slots);
        for slot in slots.values_mut() {
            let ours = slot.lease.is_some_and(|l| l.holder == self.mount_id && l.until_ms > now);
            if ours && slot.pending.is_empty() && slot.checked.elapsed() >= lease::IDLE {
                let mut intent = Intent::ReleaseLease { by: self.mount_id };
                if intent.apply(&mut slot.node, Mode::Op).is_ok() {
                    let seq = self.nodes.seq.fetch_add(1, Ordering::Relaxed) + 1;
                    slot.pending.push(Pending { seq, intent, after: Vec::new(), strict: false });
                }
            }
        }
    }

    /// Whether another writer contended for directory `address` lately.
    fn is_contended(&self, address: Address) -> bool {
        let mut contended = lock(&self.contended);
        match contended.get(&address) {
            Some(until) if *until > Instant::now() => true,
            Some(_) => {
                contended.remove(&address);
                false
            }
            None => false,
        }
    }

    /// Take no lease on directory `address` for a while.
    fn contend(&self, address: Address) {
        lock(&self.contended).insert(address, Instant::now() + lease::COOLDOWN);
    }

    /// Whether the caller of change `dep` waits for it to be stored: not a
    /// namespace change answered under this mount's lease.
    pub(super) fn waits_for(&self, dep: Dep) -> bool {
        let slots = lock(&self.nodes.slots);
        let answered = slots
            .get(&dep.0)
            .and_then(|s| s.pending_change(dep.1))
            .is_some_and(|p| !p.strict && p.intent.is_namespace());
        !answered
    }

    /// Wait until no other mount holds the lease of directory `dir`: ask
    /// its holder to give it up, then watch the directory until it has, or
    /// the lease ran out. An error after [`lease::PATIENCE`].
    pub(super) async fn await_lease(&self, dir: Address) -> FsResult<()> {
        self.contend(dir);
        let deadline = Instant::now() + lease::PATIENCE;
        let mut asked = false;
        let mut pause = Duration::from_millis(20);
        loop {
            self.refresh(dir).await?;
            let held = lock(&self.nodes.slots).get(&dir).and_then(|s| lease::of(&s.node));
            let Some(held) = held.filter(|l| l.blocks(self.mount_id, lease::now_ms())) else { return Ok(()) };
            if !asked && !held.wanted {
                let dep = self.change(dir, Intent::WantLease { by: self.mount_id }, Vec::new()).await?;
                self.commit(dep).await?;
                asked = true;
                continue;
            }
            if Instant::now() >= deadline {
                return Err(FsError::Storage(format!(
                    "directory {dir} stays held by another writer (its lease ends at {} ms since the epoch); try again",
                    held.until_ms
                )));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(200));
        }
    }

    /// Fetch the latest version of the node at `address` now, if it has no
    /// pending change.
    async fn refresh(&self, address: Address) -> FsResult<()> {
        if let Some(slot) = lock(&self.nodes.slots).get_mut(&address)
            && let Some(earlier) = Instant::now().checked_sub(self.revalidate)
        {
            slot.checked = slot.checked.min(earlier);
        }
        self.ensure_loaded(address).await
    }

    /// Store the ready intents of one node; `Ok(true)` if something was stored.
    async fn write_slot(&self, address: Address) -> FsResult<bool> {
        let mut base_shards = HashMap::new();
        for _round in 0..8 {
            let mut prepared = match self.prepare(address, &base_shards)? {
                None => return Ok(false),
                Some(Prep::NeedBase(wanted)) => {
                    if let Err(e) = self.read_base_shards(address, &wanted, &mut base_shards).await {
                        // Another writer replaced (and removed) a shard of
                        // the version this one builds on: build on its version.
                        self.catch_up(address).await.map_err(|_| e)?;
                        base_shards.clear();
                    }
                    continue;
                }
                Some(Prep::Ready(prepared)) => prepared,
            };
            // New shards first: a stored directory names only stored shards.
            let (list, digests, new) = self.store_shards(address, &prepared.shards).await?;
            if let Node::Directory { shards, .. } = &mut prepared.state {
                shards.clone_from(&list);
            }
            let encoded = prepared.state.encode()?;
            let next = match &prepared.base {
                Base::New(salt, access) => AclBlock::create_at(&self.keys, *salt, access.clone(), &encoded)?,
                Base::Stored(block) => block.write(&self.keys, &encoded)?,
            };
            if let Some(slot) = lock(&self.nodes.slots).get_mut(&address) {
                slot.attempt = Some(Box::new(next.clone()));
            }
            match self.store_retrying(&next).await {
                Ok(()) => {
                    self.stored(address, next, &prepared, list, digests);
                    return Ok(true);
                }
                Err(ConsensusError::Conflict { current, .. }) => {
                    let ours = lock(&self.nodes.slots)
                        .get(&address)
                        .and_then(|s| s.attempt.as_deref())
                        .is_some_and(|a| Block::Acl(a.clone()) == *current);
                    if ours {
                        // An earlier attempt whose outcome was unknown did land.
                        self.stored(address, next, &prepared, list, digests);
                        return Ok(true);
                    }
                    let Block::Acl(current) = *current else {
                        self.discard_shards(&new, false);
                        return Err(FsError::Corrupt(format!(
                            "{address} became a {} block, not a node",
                            current.kind()
                        )));
                    };
                    // Our new shards are unreferenced, unless an earlier
                    // attempt landed and the version that won builds on it.
                    let named = shards_named(&Node::decode(&current.read(&self.keys)?)?);
                    self.discard_shards(&new.into_iter().filter(|a| !named.contains(a)).collect::<Vec<_>>(), false);
                    match self.decode_node(address, &current).await {
                        Ok(loaded) => self.rebase(address, current, loaded),
                        // Its shards were replaced meanwhile: the latest version, then.
                        Err(_) => self.catch_up(address).await?,
                    }
                    base_shards.clear();
                }
                Err(ConsensusError::Removed { .. } | ConsensusError::Missing { .. }) => {
                    self.discard_shards(&new, false);
                    self.report(&format!(
                        "node {address} was removed by another writer; its pending changes are dropped"
                    ));
                    self.drop_slot(address);
                    return Ok(true);
                }
                Err(
                    e @ (ConsensusError::Unauthorized(_)
                    | ConsensusError::Refused(_)
                    | ConsensusError::VersionOverflow { .. }),
                ) => {
                    // Refused outright: nothing names the new shards.
                    self.discard_shards(&new, false);
                    return Err(e.into());
                }
                // (The outcome may be unknown: the new shards may be named.)
                Err(e) => return Err(e.into()),
            }
        }
        Err(FsError::Storage(format!("node {address} keeps changing under concurrent writers; will retry")))
    }

    /// Replay the pending intents of the node at `address` on its latest
    /// stored version; an error if that is the version they are built on.
    async fn catch_up(&self, address: Address) -> FsResult<()> {
        let (block, loaded) = self.fetch_node(address, None).await?;
        let loaded = match loaded {
            Some(loaded) => loaded,
            None => self.decode_node(address, &block).await?,
        };
        let known = match lock(&self.nodes.slots).get(&address).map(|s| &s.base) {
            Some(Base::Stored(b)) => Some(b.version),
            _ => None,
        };
        if known == Some(block.version) {
            return Err(FsError::Storage(format!("node {address} cannot be read whole at version {}", block.version)));
        }
        self.rebase(address, block, loaded);
        Ok(())
    }

    /// Read the shards `wanted` of the stored version of directory
    /// `address` into `into`.
    async fn read_base_shards(
        &self,
        address: Address,
        wanted: &BTreeSet<usize>,
        into: &mut HashMap<usize, BTreeMap<String, Entry>>,
    ) -> FsResult<()> {
        let stored: Vec<Chunk> = match lock(&self.nodes.slots).get(&address).map(|s| &s.node) {
            Some(Node::Directory { shards, .. }) => shards.clone(),
            _ => return Ok(()),
        };
        let count = stored.len();
        let wanted: Vec<(usize, Chunk)> = wanted.iter().filter_map(|&i| stored.get(i).map(|c| (i, *c))).collect();
        into.extend(self.read_shards(address, count, wanted).await?.into_iter().map(|(i, (part, _))| (i, part)));
        Ok(())
    }

    /// Seal and store the new shards of `plan` (directory `dir`): the shard
    /// list and digests of the version naming them, and the new shards'
    /// addresses. On a failure, those stored are removed again.
    async fn store_shards(
        &self,
        dir: Address,
        plan: &[ShardPlan],
    ) -> FsResult<(Vec<Chunk>, Vec<[u8; 32]>, Vec<Address>)> {
        let count = plan.len();
        let mut list = Vec::with_capacity(count);
        let mut digests = Vec::with_capacity(count);
        let mut blocks: Vec<ContentBlock> = Vec::new();
        for (i, item) in plan.iter().enumerate() {
            match item {
                ShardPlan::Keep(chunk, digest) => {
                    list.push(*chunk);
                    digests.push(*digest);
                }
                ShardPlan::New(plain, digest) => {
                    let (block, chunk) = shard::seal(dir, i, count, plain)?;
                    blocks.push(block);
                    list.push(chunk);
                    digests.push(*digest);
                }
            }
        }
        let new: Vec<Address> = blocks.iter().map(ContentBlock::address).collect();
        let results: Vec<Result<Address, ConsensusError>> = futures_util::stream::iter(blocks)
            .map(|block| async move {
                let address = block.address();
                self.store.store(Block::Content(block), Expect::Absent).await.map(|()| address)
            })
            .buffer_unordered(PARALLEL_SHARDS)
            .collect()
            .await;
        let mut stored = Vec::new();
        let mut failure = None;
        for result in results {
            match result {
                Ok(address) => stored.push(address),
                Err(e) => {
                    failure.get_or_insert(e);
                }
            }
        }
        if let Some(e) = failure {
            self.discard_shards(&stored, false);
            return Err(e.into());
        }
        Ok((list, digests, new))
    }

    /// Remove shards no stored directory names (nor will): those a stored
    /// version replaced after [`SHARD_GRACE`], others (never named) at once.
    fn discard_shards(&self, shards: &[Address], replaced: bool) {
        let mut doomed = lock(&self.nodes.doomed);
        for &address in shards {
            let item =
                if replaced { Doomed::Shard(address, Instant::now() + SHARD_GRACE) } else { Doomed::Chunk(address) };
            doomed.push((item, Vec::new()));
        }
    }

    /// The final sync of an unmount: replaced shards are removed now, not
    /// after their grace period.
    pub async fn sync_for_unmount(&self) -> FsResult<()> {
        self.nodes.draining.store(true, Ordering::SeqCst);
        // A background compaction under way installs its result first.
        let _compactor = self.compactor.lock().await;
        self.sync(None).await
    }

    /// Store `block`, retrying the same bytes while the outcome may change.
    async fn store_retrying(&self, block: &AclBlock) -> Result<(), ConsensusError> {
        let mut attempt = 0;
        loop {
            let block = Block::Acl(block.clone());
            let expect = Expect::for_block(&block);
            match self.store.store(block, expect).await {
                Err(e) if e.is_retryable() && attempt + 1 < STORE_ATTEMPTS => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(20 * u64::from(attempt))).await;
                }
                other => return other,
            }
        }
    }

    /// `block` holding `prepared` is stored, naming shards `list` of
    /// `digests`: it is the new base; the shards it replaced go.
    fn stored(&self, address: Address, block: AclBlock, prepared: &Prepared, list: Vec<Chunk>, digests: Vec<[u8; 32]>) {
        self.discard_shards(&prepared.replaced, true);
        let mut slots = lock(&self.nodes.slots);
        let Some(slot) = slots.get_mut(&address) else { return };
        if slot.is_new() {
            self.nodes.backlog.fetch_sub(1, Ordering::Relaxed);
        }
        slot.base = Base::Stored(Box::new(block));
        slot.lease = prepared.lease;
        slot.attempt = None;
        slot.checked = Instant::now();
        if let Node::Directory { shards, .. } = &mut slot.node {
            *shards = list;
            slot.digests = digests;
        }
        // An entry left out because its node was not stored yet stays
        // pending, unless that node was destroyed unstored: then nothing
        // will ever be stored for it, and keeping it would hold up every
        // change that waits on this one.
        let unborn = lock(&self.nodes.unborn);
        slot.pending.retain(|p| {
            p.seq > prepared.last_seq
                || p.intent.names().is_some_and(|n| prepared.hidden.contains(&n) && !unborn.contains(&n))
        });
    }

    /// A change before `barrier` still pending, and what it waits for (for
    /// the log and the error of a flush that cannot finish).
    fn stuck_change(&self, barrier: u64) -> String {
        let slots = lock(&self.nodes.slots);
        let Some((address, pending)) =
            slots.iter().find_map(|(a, s)| s.pending.iter().find(|p| p.seq <= barrier).map(|p| (a, p)))
        else {
            return "nothing".into();
        };
        let waits: Vec<String> = pending
            .after
            .iter()
            .filter(|d| !satisfied(&slots, std::slice::from_ref(d)))
            .map(|(a, seq)| format!("change {seq} of node {a}"))
            .collect();
        if waits.is_empty() {
            format!("change {} of node {address} is not stored", pending.seq)
        } else {
            format!("change {} of node {address} waits for {}", pending.seq, waits.join(", "))
        }
    }

    /// Another writer stored `current` (read as `loaded`): replay the
    /// pending intents on it.
    fn rebase(&self, address: Address, current: AclBlock, loaded: Loaded) {
        let (mut state, digests) = loaded;
        let current_lease = lease::of(&state);
        let blocked = current_lease.is_some_and(|l| l.blocks(self.mount_id, lease::now_ms()));
        let mut lost = Vec::new();
        {
            let mut slots = lock(&self.nodes.slots);
            let Some(slot) = slots.get_mut(&address) else { return };
            slot.lease = current_lease;
            slot.digests = digests;
            let mut kept = Vec::with_capacity(slot.pending.len());
            for mut p in std::mem::take(&mut slot.pending) {
                if matches!(p.intent, Intent::Create(_)) {
                    continue;
                }
                if blocked && p.strict && p.intent.is_namespace() {
                    // Another mount took the lease: its caller waits for it and tries again.
                    lock(&self.nodes.refused).insert(p.seq, FsError::Busy(address));
                    continue;
                }
                let mode = if p.strict { Mode::Op } else { Mode::Replay };
                match p.intent.apply(&mut state, mode) {
                    Ok(Replayed::Applied) => kept.push(p),
                    Ok(Replayed::Lost(why)) => {
                        lost.push(why);
                        kept.push(p);
                    }
                    // It cannot apply any more: drop it; a waiting caller gets the error.
                    Err(e) if p.strict => {
                        lock(&self.nodes.refused).insert(p.seq, e);
                    }
                    Err(e) => lost.push(format!("{e}; the change is dropped")),
                }
            }
            slot.pending = kept;
            if slot.is_new() {
                self.nodes.backlog.fetch_sub(1, Ordering::Relaxed);
            }
            slot.base = Base::Stored(Box::new(current));
            let old = std::mem::replace(&mut slot.node, state);
            slot.subdirs = count_subdirs(&slot.node);
            self.changed(address, &old, &slot.node);
            slot.checked = Instant::now();
        }
        for why in lost {
            self.report(&format!("node {address}: a change made here conflicted with another writer's: {why}"));
        }
    }

    /// Wait until the change `dep` is stored (write-through namespace
    /// operations): flushes group every change pending meanwhile. Its own
    /// refusal at a conflict (the name was taken, the entry is gone) is the
    /// caller's error.
    pub(super) async fn commit(&self, dep: Dep) -> FsResult<()> {
        for _ in 0..16 {
            if let Some(e) = lock(&self.nodes.refused).remove(&dep.1) {
                return Err(e);
            }
            if satisfied(&lock(&self.nodes.slots), &[dep]) {
                return Ok(());
            }
            let flushed = self.flush_metadata().await;
            if let Some(e) = lock(&self.nodes.refused).remove(&dep.1) {
                return Err(e);
            }
            if satisfied(&lock(&self.nodes.slots), &[dep]) {
                return Ok(());
            }
            flushed?;
        }
        Err(FsError::Storage(format!("the change to {} could not be stored yet; it will be retried", dep.0)))
    }

    /// Carry out the removals whose changes are stored, and those that the
    /// removal of a node allows in turn (what a removed directory named).
    async fn reap(&self) -> FsResult<()> {
        self.settle_landings(self.nodes.draining.load(Ordering::SeqCst)).await;
        loop {
            let (result, released) = self.reap_round().await;
            if result.is_err() || !released || lock(&self.nodes.doomed).is_empty() {
                return result;
            }
        }
    }

    /// One round of [`FileSystem::reap`]; also says whether a node's
    /// removal settled (which may let others go).
    async fn reap_round(&self) -> (FsResult<()>, bool) {
        let mut released = false;
        let ready: Vec<(Doomed, Vec<Dep>)> = {
            let slots = lock(&self.nodes.slots);
            let mut doomed = lock(&self.nodes.doomed);
            let (now, draining) = (Instant::now(), self.nodes.draining.load(Ordering::SeqCst));
            let (ready, waiting) = std::mem::take(&mut *doomed).into_iter().partition(|(item, deps)| {
                let due = match item {
                    Doomed::Shard(_, at) => *at <= now || draining,
                    Doomed::Node(_) | Doomed::Chunk(_) => true,
                };
                due && satisfied(&slots, deps)
            });
            *doomed = waiting;
            ready
        };
        let mut refused = None;
        let mut retry = Vec::new();
        // Side by side: on a network each removal is a few round trips,
        // and deleting a 1 GiB file removes 1,024 chunks.
        let done: Vec<(Doomed, Vec<Dep>, Result<(), ConsensusError>)> = futures_util::stream::iter(ready)
            .map(|(item, deps)| async move {
                let done = self.remove_doomed(&item).await;
                (item, deps, done)
            })
            .buffer_unordered(PARALLEL_REMOVALS)
            .collect()
            .await;
        for (item, deps, done) in done {
            released |= matches!((&item, &done), (Doomed::Node(_), Ok(())));
            match done {
                // (Already removed: a shard both a rebased writer and the winner let go.)
                Ok(()) | Err(ConsensusError::Removed { .. }) => {}
                // The store may recover, or the block changed meanwhile: later.
                Err(e) if e.is_retryable() || e.is_conflict() => {
                    retry.push((item, deps));
                    refused.get_or_insert(FsError::from(e));
                }
                // A refusal will not change: report it, the block stays.
                Err(e) => {
                    self.report(&format!("a removal was refused, the block stays: {e}"));
                    refused.get_or_insert(FsError::Storage(format!("a removal was refused, the block stays: {e}")));
                }
            }
        }
        lock(&self.nodes.doomed).extend(retry);
        match refused {
            Some(e) => (Err(e), released),
            None => (Ok(()), released),
        }
    }

    /// Remove one doomed block: a chunk or shard by its tombstone, a node
    /// by the tombstone of its current version (and its shards after it).
    async fn remove_doomed(&self, item: &Doomed) -> Result<(), ConsensusError> {
        match *item {
            Doomed::Chunk(address) | Doomed::Shard(address, _) => {
                self.store.remove(Tombstone::for_content(&self.keys, address)).await
            }
            Doomed::Node(address) => {
                self.drop_slot(address);
                match self.store.fetch(address, ReadLevel::Latest).await {
                    Ok(Fetched::Found(block)) => match Tombstone::for_block(&self.keys, &block) {
                        Ok(tombstone) => {
                            // A sharded directory's shards go after it.
                            let shards = match &block {
                                Block::Acl(acl) => acl
                                    .read(&self.keys)
                                    .ok()
                                    .and_then(|plain| Node::decode(&plain).ok())
                                    .map(|node| shards_named(&node))
                                    .unwrap_or_default(),
                                _ => Vec::new(),
                            };
                            let removed = self.store.remove(tombstone).await;
                            if removed.is_ok() {
                                self.discard_shards(&shards, false);
                            }
                            removed
                        }
                        Err(e) => Err(e.into()),
                    },
                    Ok(Fetched::Absent | Fetched::Removed(_) | Fetched::Collected { .. }) => Ok(()),
                    Err(e) => Err(e),
                }
            }
        }
    }

    /// Flush dirty nodes every [`FLUSH_INTERVAL`] while `fs` lives; a failure
    /// is reported at once and again to the next `fsync`.
    pub fn spawn_flusher(fs: Weak<FileSystem>) {
        if let Some(fs) = fs.upgrade() {
            fs.background_compaction.store(true, Ordering::SeqCst);
        }
        tokio::spawn(async move {
            loop {
                // A large backlog is flushed again at once: creates wait for room.
                let behind = fs.upgrade().is_some_and(|fs| fs.nodes.backlog.load(Ordering::Relaxed) > MAX_BACKLOG / 2);
                tokio::time::sleep(if behind { Duration::from_millis(10) } else { FLUSH_INTERVAL }).await;
                let Some(fs) = fs.upgrade() else { break };
                if !behind {
                    // (Behind, every lease holder is busy: no need to walk the table.)
                    fs.release_idle_leases();
                }
                if let Err(e) = fs.flush_metadata().await {
                    fs.report(&format!("write-back failed (will retry): {e}"));
                    *lock(&fs.last_error) = Some(e.to_string());
                }
                if !lock(&fs.compactions).is_empty() && !fs.compactor_busy.swap(true, Ordering::SeqCst) {
                    let fs = fs.clone();
                    tokio::spawn(async move {
                        fs.compact_waiting().await;
                        fs.compactor_busy.store(false, Ordering::SeqCst);
                    });
                }
                // Nodes created here become clean once stored: bound them
                // like nodes loaded from the store.
                let mut slots = lock(&fs.nodes.slots);
                if slots.len() > KEEP_CLEAN {
                    fs.prune(&mut slots);
                }
            }
        });
    }
}
