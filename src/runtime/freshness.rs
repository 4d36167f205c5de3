//! The freshness floor: the highest version this node has seen of each
//! mutable block (a tombstone's version counts as a version of the block it
//! removes), so that an older version returned later, by a storage node or a
//! restored bucket rolling a block back, is refused as a [`Rollback`].
//!
//! On a file, the floors live in a redb table: a floor is the higher of
//! the table's and one queued in memory and not written yet, and a bounded
//! cache of the floors used lately (two generations per shard of the
//! address space, [`CACHE_ENTRIES`] in all) answers most reads without
//! touching the file, so memory stays flat however many blocks the node
//! has seen (a million blocks would take 100 MB as a map). Raised floors are
//! queued and written in batches by a background thread (every
//! [`FlushPolicy::batch`] raised floors or every [`FlushPolicy::every`]),
//! with non-durable commits, plus a durable commit at most every
//! [`FlushPolicy::durable_every`]; a queued floor leaves the queue only once
//! its batch is committed, so no read ever falls between queue and file.
//! [`FreshnessFloor::sync`] writes what is still queued and commits durably.
//! A floor kept in memory only (tests, memory silos) is a plain map.
//!
//! Crash semantics: every observation made before the last successful
//! `sync()` survives `kill -9` (and power loss, as far as `fsync` holds);
//! observations after it may be lost, in practice those of the last
//! `durable_every`. After a crash the floor of a block can therefore only be
//! *lower* than the highest version seen, never higher: only observed
//! versions are written and a floor only rises, so a recovered floor never
//! refuses a version this node saw. A clean drop writes and commits
//! everything. The file is locked: a second open, in this or another process,
//! fails with [`FreshnessError::Locked`]. A corrupt file is reported as
//! [`FreshnessError::Corrupt`], never trusted and never a panic.
//!
//! Floors are never forgotten: removing one would re-open the window for a
//! rollback, so there is deliberately no way to lower or drop a floor.
//!
//! Collected tombstones: a node may erase a tombstone from its silo once the
//! grace period has passed, but only after [`FreshnessFloor::collect`] has
//! durably recorded, in a second table, that the address was removed at
//! that version. The floor then answers for the tombstone: the address reads
//! as removed ([`FreshnessFloor::collected`]), not as a block the silo lost,
//! and a replayed older block is still a rollback.

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use redb::{Database, DatabaseError, Durability, ReadableDatabase, ReadableTable, TableDefinition};

use super::block::Address;

/// Block address → highest version seen.
const FLOORS: TableDefinition<&[u8; 32], u64> = TableDefinition::new("freshness_floor_v1");
/// Block address → version of its tombstone, erased from the silo since.
const COLLECTED: TableDefinition<&[u8; 32], u64> = TableDefinition::new("collected_tombstones_v1");

/// Number of independently locked parts of the address space.
const SHARDS: usize = 64;

/// Floors of a file-backed floor kept in memory, at most (about 60 bytes
/// each): the blocks a node works on at a time, not every block it has seen.
const CACHE_ENTRIES: usize = 65_536;

/// redb's page cache: the B-tree pages of the floors read lately and of
/// the batches written (the kernel's page cache holds the rest of the file).
const CACHE_BYTES: usize = 4 << 20;

/// A block was offered at a version older than one already seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("block {address}: version {got} is older than version {floor} already seen (rollback refused)")]
pub struct Rollback {
    /// The block rolled back.
    pub address: Address,
    /// The highest version seen of it.
    pub floor: u64,
    /// The older version offered.
    pub got: u64,
}

/// Why an observed version was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Older than the floor.
    #[error(transparent)]
    Rollback(#[from] Rollback),
    /// The floor could not be read: nothing is accepted unchecked.
    #[error(transparent)]
    Unreadable(#[from] FreshnessError),
}

/// What went wrong with the file holding the floors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FreshnessError {
    /// The file could not be created, opened or read.
    #[error("freshness floor {}: cannot open: {why}", path.display())]
    Open { path: PathBuf, why: String },
    /// Another floor, in this or another process, has the file open.
    #[error("freshness floor {} is already open (by another node on this state folder?)", path.display())]
    Locked { path: PathBuf },
    /// The file is not a freshness floor, or is damaged.
    #[error("freshness floor {} is corrupt: {why}", path.display())]
    Corrupt { path: PathBuf, why: String },
    /// A floor could not be read from the file.
    #[error("freshness floor {}: cannot read: {why}", path.display())]
    Read { path: PathBuf, why: String },
    /// Raised floors could not be written or committed.
    #[error("freshness floor {}: cannot write: {why}", path.display())]
    Write { path: PathBuf, why: String },
}

/// When queued floors are written to the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlushPolicy {
    /// Write as soon as this many raised floors are queued.
    pub batch: usize,
    /// Write what is queued at least this often.
    pub every: Duration,
    /// Make the written batches durable at least this often (one `fsync`).
    pub durable_every: Duration,
}

impl Default for FlushPolicy {
    fn default() -> Self {
        FlushPolicy { batch: 8192, every: Duration::from_millis(100), durable_every: Duration::from_secs(1) }
    }
}

/// The highest version seen of each mutable block, kept in memory and, when
/// opened on a file, persisted in batches.
pub struct FreshnessFloor {
    floors: Arc<Floors>,
    /// The background writer, joined on drop.
    writer: Option<JoinHandle<()>>,
}

/// The floors in memory and, for a file-backed floor, its store.
struct Floors {
    shards: Box<[Mutex<Shard>]>,
    store: Option<Store>,
    /// Entries of a shard's young generation before it turns old.
    young_max: usize,
}

/// What is known of one block's floor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Known {
    /// Highest version seen.
    floor: Option<u64>,
    /// Removed, and its tombstone (at version `floor`) collected.
    collected: bool,
}

#[derive(Default)]
struct Shard {
    /// Floors used lately; in memory only, every floor (the authority).
    young: HashMap<Address, Known>,
    /// The generation before `young` (file-backed only): a floor used again
    /// moves back to `young`, the rest is dropped at the next turn.
    old: HashMap<Address, Known>,
    /// Floors raised and not committed to the file yet (file-backed only):
    /// above the file's, and kept until the batch writing them commits.
    queued: HashMap<Address, u64>,
}

/// The redb file and the background writer's signals.
struct Store {
    path: PathBuf,
    policy: FlushPolicy,
    /// The file, read without `disk`'s lock (redb reads never wait for a writer).
    db: Arc<Database>,
    /// Serialises batches: `sync` waits for a batch the writer is committing.
    disk: Mutex<Disk>,
    /// Number of entries in the shards' `queued` maps.
    queued: AtomicUsize,
    /// Set on drop to stop the writer.
    stop: Mutex<bool>,
    wake: Condvar,
}

struct Disk {
    /// Some commits since the last durable one were non-durable.
    unsynced: bool,
    last_durable: Instant,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section leaves its data consistent: keep going after a panic.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl FreshnessFloor {
    /// A floor kept in memory only (tests, memory silos).
    pub fn in_memory() -> Self {
        FreshnessFloor { floors: Arc::new(Floors::new(None, usize::MAX)), writer: None }
    }

    /// Open the floor stored at `path` (created if absent), with the default policy.
    pub fn open(path: &Path) -> Result<Self, FreshnessError> {
        Self::open_with(path, FlushPolicy::default())
    }

    /// Open the floor stored at `path` (created if absent).
    pub fn open_with(path: &Path, policy: FlushPolicy) -> Result<Self, FreshnessError> {
        Self::open_with_cache(path, policy, CACHE_ENTRIES, CACHE_BYTES)
    }

    /// [`FreshnessFloor::open_with`], keeping at most about `cache_entries`
    /// floors in memory and `cache_bytes` of the file's pages.
    fn open_with_cache(
        path: &Path,
        policy: FlushPolicy,
        cache_entries: usize,
        cache_bytes: usize,
    ) -> Result<Self, FreshnessError> {
        let db = open_database(path, cache_bytes)?;
        let floors = Arc::new(Floors::new(
            Some(Store {
                path: path.to_owned(),
                policy,
                db: Arc::new(db),
                disk: Mutex::new(Disk { unsynced: false, last_durable: Instant::now() }),
                queued: AtomicUsize::new(0),
                stop: Mutex::new(false),
                wake: Condvar::new(),
            }),
            (cache_entries / SHARDS / 2).max(1),
        ));
        let background = Arc::clone(&floors);
        let writer = std::thread::Builder::new()
            .name("infinit-freshness".into())
            .spawn(move || background.write_in_background())
            .map_err(|e| FreshnessError::Open {
                path: path.to_owned(),
                why: format!("cannot start the writer thread: {e}"),
            })?;
        Ok(FreshnessFloor { floors, writer: Some(writer) })
    }

    /// The highest version seen of `address`, if any.
    pub fn floor(&self, address: &Address) -> Result<Option<u64>, FreshnessError> {
        let mut shard = lock(self.floors.shard(address));
        Ok(self.floors.known(&mut shard, address)?.floor)
    }

    /// A version of `address` was observed (fetched and validated, or
    /// stored): refuse it as a rollback if below the floor, else raise the
    /// floor to it. An equal version is accepted.
    pub fn observe(&self, address: Address, version: u64) -> Result<(), Refusal> {
        let mut shard = lock(self.floors.shard(&address));
        let known = self.floors.known(&mut shard, &address)?;
        if let Some(floor) = known.floor {
            if version < floor {
                return Err(Refusal::Rollback(Rollback { address, floor, got: version }));
            }
            if version == floor {
                return Ok(());
            }
        }
        shard.young.insert(address, Known { floor: Some(version), ..known });
        if let Some(store) = &self.floors.store
            && shard.queued.insert(address, version).is_none()
        {
            let queued = store.queued.fetch_add(1, Ordering::Relaxed) + 1;
            if queued == store.policy.batch.max(1) {
                store.wake.notify_one();
            }
        }
        Ok(())
    }

    /// Make every observation so far durable (a no-op in memory).
    pub fn sync(&self) -> Result<(), FreshnessError> {
        match &self.floors.store {
            None => Ok(()),
            Some(store) => self.floors.write_batch(store, Durability::Immediate, &[]),
        }
    }

    /// Every block with a floor, and its floor, in address order (for
    /// `infinit volume check`; reads the whole file).
    pub fn snapshot(&self) -> Result<Vec<(Address, u64)>, FreshnessError> {
        let Some(store) = &self.floors.store else {
            let mut all: Vec<(Address, u64)> = self
                .floors
                .shards
                .iter()
                .flat_map(|s| lock(s).young.iter().filter_map(|(a, k)| Some((*a, k.floor?))).collect::<Vec<_>>())
                .collect();
            all.sort_unstable();
            return Ok(all);
        };
        let read = |why: String| FreshnessError::Read { path: store.path.clone(), why };
        let mut all = std::collections::BTreeMap::new();
        {
            let txn = store.db.begin_read().map_err(|e| read(e.to_string()))?;
            for definition in [FLOORS, COLLECTED] {
                let table = txn.open_table(definition).map_err(|e| read(e.to_string()))?;
                for entry in table.iter().map_err(|e| read(e.to_string()))? {
                    let (address, version) = entry.map_err(|e| read(e.to_string()))?;
                    let floor = all.entry(Address(*address.value())).or_insert(0);
                    *floor = version.value().max(*floor);
                }
            }
        }
        for shard in self.floors.shards.iter() {
            for (address, version) in lock(shard).queued.iter() {
                let floor = all.entry(*address).or_insert(0);
                *floor = (*version).max(*floor);
            }
        }
        Ok(all.into_iter().collect())
    }

    /// The tombstones removing these blocks (address, tombstone version) are
    /// about to be erased from the silo: raise their floors to at least that
    /// version and record them as collected, durably, before returning. Only
    /// then may the silo forget them. On an error nothing is recorded as
    /// collected and the tombstones must stay.
    pub fn collect(&self, removed: &[(Address, u64)]) -> Result<(), FreshnessError> {
        for &(address, version) in removed {
            match self.observe(address, version) {
                // A higher floor (impossible after a removal, but harmless) stays.
                Ok(()) | Err(Refusal::Rollback(_)) => {}
                Err(Refusal::Unreadable(e)) => return Err(e),
            }
        }
        if let Some(store) = &self.floors.store {
            self.floors.write_batch(store, Durability::Immediate, removed)?;
        }
        for &(address, _) in removed {
            let mut shard = lock(self.floors.shard(&address));
            let known = self.floors.known(&mut shard, &address)?;
            shard.young.insert(address, Known { collected: true, ..known });
        }
        Ok(())
    }

    /// If `address` was removed and its tombstone collected, the
    /// tombstone's version.
    pub fn collected(&self, address: &Address) -> Result<Option<u64>, FreshnessError> {
        let mut shard = lock(self.floors.shard(address));
        let known = self.floors.known(&mut shard, address)?;
        Ok(known.floor.filter(|_| known.collected))
    }

    /// Number of blocks with a floor (reads the whole file).
    pub fn count(&self) -> Result<usize, FreshnessError> {
        Ok(self.snapshot()?.len())
    }

    /// The file holding the floors, if any.
    pub fn path(&self) -> Option<&Path> {
        self.floors.store.as_ref().map(|s| s.path.as_path())
    }
}

impl std::fmt::Debug for FreshnessFloor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FreshnessFloor").field("path", &self.path()).finish()
    }
}

impl Drop for FreshnessFloor {
    fn drop(&mut self) {
        let Some(store) = &self.floors.store else { return };
        *lock(&store.stop) = true;
        store.wake.notify_one();
        if let Some(writer) = self.writer.take() {
            // The writer never panics on its own; if it did, the final batch below still runs.
            let _ = writer.join();
        }
        // No caller left to tell: whoever needs the error calls sync() before
        // dropping; a file damaged since open may make redb panic: not here.
        let _ = catch_unwind(AssertUnwindSafe(|| self.floors.write_batch(store, Durability::Immediate, &[])));
    }
}

impl Floors {
    fn new(store: Option<Store>, young_max: usize) -> Self {
        Floors { shards: (0..SHARDS).map(|_| Mutex::default()).collect(), store, young_max }
    }

    fn shard(&self, address: &Address) -> &Mutex<Shard> {
        // Addresses are BLAKE3 outputs: any byte spreads them evenly.
        &self.shards[usize::from(address.0[0]) % SHARDS]
    }

    /// What is known of `address`'s floor: from the cache, else from the
    /// file and the queue (then cached).
    fn known(&self, shard: &mut Shard, address: &Address) -> Result<Known, FreshnessError> {
        if let Some(known) = shard.young.get(address) {
            return Ok(*known);
        }
        let Some(store) = &self.store else {
            return Ok(Known::default());
        };
        let known = match shard.old.remove(address) {
            Some(known) => known,
            None => {
                let mut known = read_known(store, address)?;
                if let Some(&queued) = shard.queued.get(address) {
                    known.floor = Some(known.floor.map_or(queued, |f| f.max(queued)));
                }
                known
            }
        };
        if shard.young.len() >= self.young_max {
            shard.old = std::mem::take(&mut shard.young);
        }
        shard.young.insert(*address, known);
        Ok(known)
    }

    /// The background writer: a batch whenever enough floors are queued or
    /// `every` has passed, until the floor is dropped.
    fn write_in_background(&self) {
        let Some(store) = &self.store else { return };
        // A zero batch or period would spin: at least one floor, one millisecond.
        let batch = store.policy.batch.max(1);
        let every = store.policy.every.max(Duration::from_millis(1));
        loop {
            let mut stop = lock(&store.stop);
            let deadline = Instant::now() + every;
            while !*stop && store.queued.load(Ordering::Relaxed) < batch {
                let now = Instant::now();
                if now >= deadline {
                    break;
                }
                stop = store.wake.wait_timeout(stop, deadline - now).unwrap_or_else(|e| e.into_inner()).0;
            }
            if *stop {
                return;
            }
            drop(stop);
            let durability = if lock(&store.disk).last_durable.elapsed() >= store.policy.durable_every {
                Durability::Immediate
            } else {
                Durability::None
            };
            // A failed batch stays queued: the next one, or sync(), retries and reports it.
            let _ = self.write_batch(store, durability, &[]);
        }
    }

    /// Write every queued floor, with `collected` tombstones, in one
    /// transaction; the written floors leave the queue once it commits.
    fn write_batch(
        &self,
        store: &Store,
        durability: Durability,
        collected: &[(Address, u64)],
    ) -> Result<(), FreshnessError> {
        let mut disk = lock(&store.disk);
        let mut batch = Vec::new();
        for shard in self.shards.iter() {
            batch.extend(lock(shard).queued.iter().map(|(a, v)| (*a, *v)));
        }
        let durable = matches!(durability, Durability::Immediate);
        if batch.is_empty() && collected.is_empty() && !(durable && disk.unsynced) {
            if durable {
                disk.last_durable = Instant::now();
            }
            return Ok(());
        }
        // In key order, each B-tree page is visited once.
        batch.sort_unstable_by_key(|(address, _)| *address);
        write_floors(&store.db, &batch, collected, durability)
            .map_err(|why| FreshnessError::Write { path: store.path.clone(), why })?;
        if durable {
            disk.unsynced = false;
            disk.last_durable = Instant::now();
        } else {
            disk.unsynced = true;
        }
        // Written: out of the queue, unless raised again meanwhile.
        let mut written = 0;
        for (address, version) in batch {
            let mut shard = lock(self.shard(&address));
            if shard.queued.get(&address) == Some(&version) {
                shard.queued.remove(&address);
                written += 1;
            }
        }
        store.queued.fetch_sub(written, Ordering::Relaxed);
        Ok(())
    }
}

/// What the file says of `address`'s floor. redb may panic on a page
/// damaged since the file was opened: that is an unreadable floor too.
fn read_known(store: &Store, address: &Address) -> Result<Known, FreshnessError> {
    catch_unwind(AssertUnwindSafe(|| read_known_unguarded(store, address))).unwrap_or_else(|panic| {
        Err(FreshnessError::Read { path: store.path.clone(), why: panic_message(panic.as_ref()).to_owned() })
    })
}

fn read_known_unguarded(store: &Store, address: &Address) -> Result<Known, FreshnessError> {
    let read = |why: String| FreshnessError::Read { path: store.path.clone(), why };
    let txn = store.db.begin_read().map_err(|e| read(e.to_string()))?;
    let mut known = Known::default();
    for (definition, collected) in [(FLOORS, false), (COLLECTED, true)] {
        let table = txn.open_table(definition).map_err(|e| read(e.to_string()))?;
        if let Some(version) = table.get(&address.0).map_err(|e| read(e.to_string()))? {
            let version = version.value();
            known.floor = Some(known.floor.map_or(version, |f| f.max(version)));
            known.collected |= collected;
        }
    }
    Ok(known)
}

/// Write `batch` and `collected` in one transaction; a stored floor is never lowered.
fn write_floors(
    db: &Database,
    batch: &[(Address, u64)],
    collected: &[(Address, u64)],
    durability: Durability,
) -> Result<(), String> {
    let mut txn = db.begin_write().map_err(|e| e.to_string())?;
    txn.set_durability(durability).map_err(|e| e.to_string())?;
    {
        let mut table = txn.open_table(FLOORS).map_err(|e| e.to_string())?;
        for (address, version) in batch {
            let previous = table.insert(&address.0, *version).map_err(|e| e.to_string())?.map(|old| old.value());
            if let Some(previous) = previous.filter(|p| p > version) {
                table.insert(&address.0, previous).map_err(|e| e.to_string())?;
            }
        }
    }
    if !collected.is_empty() {
        let mut table = txn.open_table(COLLECTED).map_err(|e| e.to_string())?;
        for (address, version) in collected {
            table.insert(&address.0, *version).map_err(|e| e.to_string())?;
        }
    }
    txn.commit().map_err(|e| e.to_string())
}

/// Open (or create) the redb file, checking it.
fn open_database(path: &Path, cache_bytes: usize) -> Result<Database, FreshnessError> {
    // redb checks every page against its checksum at open, but it documents
    // that a plain open of a damaged file may panic, and in debug builds its
    // internal consistency checks are assertions: turn any panic while opening
    // the file into a corruption error rather than trusting it.
    match catch_unwind(AssertUnwindSafe(|| open_and_check(path, cache_bytes))) {
        Ok(result) => result,
        Err(panic) => {
            Err(FreshnessError::Corrupt { path: path.to_owned(), why: panic_message(panic.as_ref()).to_owned() })
        }
    }
}

/// What a panic of the database engine said.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("the database engine gave up reading it")
}

fn open_and_check(path: &Path, cache_bytes: usize) -> Result<Database, FreshnessError> {
    let corrupt = |why: String| FreshnessError::Corrupt { path: path.to_owned(), why };
    let db = redb::Builder::new().set_cache_size(cache_bytes).set_check_integrity_on_open(true).create(path).map_err(
        |e| match e {
            DatabaseError::DatabaseAlreadyOpen => FreshnessError::Locked { path: path.to_owned() },
            DatabaseError::Storage(redb::StorageError::Io(io)) if io.kind() == std::io::ErrorKind::InvalidData => {
                corrupt(format!("not a database file ({io})"))
            }
            DatabaseError::Storage(redb::StorageError::Corrupted(why)) => corrupt(why),
            other => FreshnessError::Open { path: path.to_owned(), why: other.to_string() },
        },
    )?;
    // Create the tables, so that reading below finds them even in a new file.
    let txn = db.begin_write().map_err(|e| FreshnessError::Open { path: path.to_owned(), why: e.to_string() })?;
    txn.open_table(FLOORS).map_err(|e| corrupt(e.to_string()))?;
    txn.open_table(COLLECTED).map_err(|e| corrupt(e.to_string()))?;
    txn.commit().map_err(|e| FreshnessError::Open { path: path.to_owned(), why: e.to_string() })?;

    // Read every entry once (without keeping them): a damaged table is
    // refused now rather than found by the first read that reaches it.
    let txn = db.begin_read().map_err(|e| FreshnessError::Open { path: path.to_owned(), why: e.to_string() })?;
    for definition in [FLOORS, COLLECTED] {
        let table = txn.open_table(definition).map_err(|e| corrupt(e.to_string()))?;
        for entry in table.iter().map_err(|e| corrupt(e.to_string()))? {
            entry.map_err(|e| corrupt(e.to_string()))?;
        }
    }
    drop(txn);
    Ok(db)
}
