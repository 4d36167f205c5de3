//! The filesystem silo: one file per block at `<root>/<2 hex>/<64 hex>`.
//! A write goes to a temporary file in the same folder, is renamed over the
//! final name, so a reader sees either the old or the new block, never a
//! torn one. With [`Durability::EveryWrite`] the file and its folder are
//! fsynced before the write returns; with [`Durability::OnSync`] writes
//! reach the disk at the next [`Silo::sync`] (one `syncfs`), the way a local
//! file system makes data durable at `fsync`. Blocks of 512 KiB or
//! more (content chunks) are written with direct I/O, past the page cache
//! ([`disk::create_direct`]). Usage is one sum in memory,
//! counted by scanning at open (which also deletes temporary files left by
//! a crash) and kept up to date by each write and erase, which read the size
//! of the file they replace or remove from the disk: nothing is kept per
//! block, so a silo of millions of blocks costs no memory. Listing scans the
//! folder. The root holds the silo's marker, checked before anything else
//! ([`identity`]). Writes and erases queue for a few blocking threads
//! ([`Changes`]): a burst of small writes (a flush of many nodes) costs one
//! hand-off to a blocking thread, not one each, and small writes (what an
//! `fsync` waits for) go ahead of content chunks and erases. The files of replaced
//! and erased blocks are kept, emptied, for the next blocks ([`Spares`]).

mod identity;

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::fs::{self, File};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::runtime::disk;

use super::{Address, BatchFuture, SetMode, Silo, SiloError, SiloFuture, SiloId, check_capacity, check_mode};

pub use identity::{check_erasable, create};

/// Blocking threads that may take queued writes and erases at once: two,
/// so a large block being written does not hold up the small ones behind it.
const CHANGERS: usize = 2;

/// Blocks at least this large (content chunks) are written with direct
/// I/O ([`disk::create_direct`]); smaller ones (headers, folders, small
/// files, and the patches of small writes, which compaction soon reads
/// back) go through the page cache, where a later read finds them. At
/// 128 KiB, the patch of 32 random 4 KiB writes went to the disk and came
/// back from it: fio read 2.8 GiB from the disk for 1 GiB written, 1.9
/// GiB at 512 KiB.
const DIRECT_MIN: usize = 512 << 10;

/// Suffix of temporary files and spares; their names also start with a dot.
const TEMP_SUFFIX: &str = ".tmp";
/// Spare files kept at most per shard folder ([`Spare`]); past that,
/// erased blocks' files are deleted.
const SPARES_PER_SHARD: usize = 8;
/// File in the root that the serving process holds an exclusive lock on.
const LOCK_FILE: &str = ".lock";

/// When writes become durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Each write is fsynced (file and folder) before it returns.
    EveryWrite,
    /// Writes are durable after the next [`Silo::sync`].
    OnSync,
}

/// A silo storing one file per block under a root folder.
#[derive(Debug, Clone)]
pub struct FilesystemSilo {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    name: String,
    root: PathBuf,
    capacity: Option<u64>,
    /// Usage and the keys being changed. Writes and erases run to the end
    /// on a blocking thread, so usage matches the disk even if the caller
    /// stops waiting.
    index: Mutex<Index>,
    /// Copy of `index.usage`, readable without waiting for a write.
    usage: AtomicU64,
    /// Makes temporary file names unique within this process.
    temp_counter: AtomicU64,
    /// Makes temporary file names unique across the processes that served
    /// this folder (spares outlive them): the time of opening.
    temp_generation: u64,
    /// Reads under way, for [`Spares`].
    readers: Mutex<Readers>,
    /// Files of replaced and erased blocks, kept for the next blocks.
    spares: Mutex<Spares>,
    /// Replaced blocks' files are kept (`RENAME_EXCHANGE`): until the
    /// file system refuses it once.
    exchange: std::sync::atomic::AtomicBool,
    /// Exclusive lock on the root's lock file, released when dropped: two
    /// processes writing one folder would each miscount usage. Also the
    /// handle `syncfs` is called on.
    lock: File,
    /// When writes become durable.
    durability: Durability,
    /// Writes happened since the last sync.
    unsynced: std::sync::atomic::AtomicBool,
    /// Large blocks are written with direct I/O: until the file system
    /// refuses it once.
    direct: std::sync::atomic::AtomicBool,
    /// Writes and erases waiting for a blocking thread (shared with the
    /// threads, which hold the silo only while they run one).
    changes: Arc<Mutex<Changes>>,
}

/// A write or erase for a blocking thread, which runs it to the end (so
/// usage matches the disk even if the caller stops waiting); what it
/// returns sends the caller its result, called once the thread no longer
/// holds the silo (a caller that drops the silo and opens it again at once
/// must find its lock released).
type Change = Box<dyn FnOnce(&Inner) -> Box<dyn FnOnce() + Send> + Send>;

/// Which queue a change waits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lane {
    /// Writes below [`DIRECT_MIN`]: headers, folders, small files and
    /// patches, what a `close` or an `fsync` waits for.
    Small,
    /// Content chunks and erases: the bulk of a large write, of a
    /// compaction, of a background removal.
    Bulk,
}

/// Small changes a blocking thread takes in a row while bulk ones wait:
/// a steady stream of small writes slows the bulk down, never stops it.
const SMALL_STREAK: usize = 8;

/// Queued writes and erases, and how many blocking threads take them.
#[derive(Default)]
struct Changes {
    queue: Lanes<Change>,
    changers: usize,
}

/// Two queues of changes by key. Small writes go ahead of bulk changes
/// queued before them (within [`SMALL_STREAK`]): an `fsync` after a few
/// random writes used to wait behind the megabytes a compaction had
/// queued (fio: 1 ms mean, 10 ms p99 of queueing per write of the silo,
/// 0.24 ms mean with the lanes). Changes of one key keep their order: a
/// change joins the lane where a change of its key already waits.
struct Lanes<T> {
    small: VecDeque<(Address, T)>,
    bulk: VecDeque<(Address, T)>,
    /// The lane of every key with a queued change, and how many it has.
    keys: HashMap<Address, (Lane, usize)>,
    /// Small changes taken in a row while bulk ones waited.
    streak: usize,
}

impl<T> Default for Lanes<T> {
    fn default() -> Self {
        Lanes { small: VecDeque::new(), bulk: VecDeque::new(), keys: HashMap::new(), streak: 0 }
    }
}

impl<T> Lanes<T> {
    fn len(&self) -> usize {
        self.small.len() + self.bulk.len()
    }

    fn push(&mut self, key: Address, lane: Lane, change: T) {
        let entry = self.keys.entry(key).or_insert((lane, 0));
        entry.1 += 1;
        match entry.0 {
            Lane::Small => self.small.push_back((key, change)),
            Lane::Bulk => self.bulk.push_back((key, change)),
        }
    }

    fn pop(&mut self) -> Option<T> {
        let small_first = !self.small.is_empty() && (self.bulk.is_empty() || self.streak < SMALL_STREAK);
        let (key, change) = if small_first {
            self.streak = if self.bulk.is_empty() { 0 } else { self.streak + 1 };
            self.small.pop_front()?
        } else {
            self.streak = 0;
            self.bulk.pop_front()?
        };
        if let std::collections::hash_map::Entry::Occupied(mut e) = self.keys.entry(key) {
            e.get_mut().1 -= 1;
            if e.get().1 == 0 {
                e.remove();
            }
        }
        Some(change)
    }
}

impl std::fmt::Debug for Changes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Changes")
            .field("small", &self.queue.small.len())
            .field("bulk", &self.queue.bulk.len())
            .field("changers", &self.changers)
            .finish()
    }
}

#[derive(Debug, Default)]
struct Index {
    /// Bytes of every block file.
    usage: u64,
    /// Bytes of writes under way, counted against the capacity.
    reserved: u64,
    /// Keys being written or erased: one change of a key at a time, so the
    /// size read from its file before the change is the one it replaces.
    busy: HashSet<Address>,
}

/// Reads under way, by the epoch they started in. A spare retired at epoch
/// `e` may still be open in a read of an epoch up to `e` (the read opened
/// the block's path before the spare left it), never in a later one.
#[derive(Debug, Default)]
struct Readers {
    /// The epoch reads starting now belong to.
    epoch: u64,
    /// How many reads of each epoch are under way.
    running: BTreeMap<u64, usize>,
}

/// A read under way, counted in [`Readers`] while alive.
struct Reading<'a> {
    readers: &'a Mutex<Readers>,
    epoch: u64,
}

impl Drop for Reading<'_> {
    fn drop(&mut self) {
        let mut readers = lock(self.readers);
        if let Some(count) = readers.running.get_mut(&self.epoch) {
            *count -= 1;
            if *count == 0 {
                readers.running.remove(&self.epoch);
            }
        }
    }
}

/// The spares of each shard folder (a block's file is swapped only with a
/// spare in its own folder: a crash then cannot leave one file under two
/// names in two folders).
#[derive(Debug)]
struct Spares {
    /// By shard: the first byte of the addresses.
    by_shard: Vec<VecDeque<Spare>>,
    /// How many are not emptied yet.
    unemptied: usize,
}

impl Default for Spares {
    fn default() -> Self {
        Spares { by_shard: (0..=u8::MAX).map(|_| VecDeque::new()).collect(), unemptied: 0 }
    }
}

/// The file of a replaced or erased block, kept to be written again as
/// another block instead of deleted. ext4 without a journal (these VMs'
/// disks) skips, one by one, every inode freed in the last minutes each
/// time it allocates one: with one inode freed per replaced block, a
/// silo spent a quarter of its CPU there during an untar. So a replaced
/// block's file is swapped with the new one (`RENAME_EXCHANGE`), an
/// erased one renamed, and the old file becomes a spare: emptied once no
/// read that may have opened it is under way, then written as a new
/// block. Spares are temporary files for everything else (listing, a
/// crash); at open, the temporary files found become spares.
#[derive(Debug)]
struct Spare {
    path: PathBuf,
    /// The epoch of [`Readers`] it was retired in.
    retired: u64,
    /// Truncated to nothing: no read may still see its content.
    emptied: bool,
}

/// Marks a key busy in the index while alive.
struct Claim<'a> {
    inner: &'a Inner,
    key: Address,
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        self.inner.index().busy.remove(&self.key);
    }
}

impl FilesystemSilo {
    /// Open the silo `name` at `root` (made by [`create`], whose id is
    /// `id`), checking its marker and scanning its blocks; every write is
    /// durable when it returns.
    pub async fn open(
        name: &str,
        root: impl Into<PathBuf>,
        id: Option<SiloId>,
        capacity: Option<u64>,
    ) -> Result<Self, SiloError> {
        Self::open_with(name, root, id, capacity, Durability::EveryWrite).await
    }

    /// [`FilesystemSilo::open`] with a choice of durability. A missing
    /// folder, or one without this silo's marker, is refused with
    /// [`SiloError::NotThisSilo`], except the folder of a silo made before
    /// markers existed (`id` is `None`) that holds blocks: it gets a marker.
    pub async fn open_with(
        name: &str,
        root: impl Into<PathBuf>,
        id: Option<SiloId>,
        capacity: Option<u64>,
        durability: Durability,
    ) -> Result<Self, SiloError> {
        let root = root.into();
        let scan_root = root.clone();
        let silo = name.to_owned();
        let (index, spares, lock) = blocking(&root, move || {
            // Refusals come before the lock, which would write in the folder.
            let adopt = identity::check(&silo, &scan_root, id)?;
            let lock = lock_root(&scan_root)?;
            if let Some(marker) = adopt {
                identity::write_marker(&scan_root, &marker)?;
            }
            disk::spread_subfolders(&scan_root);
            let (index, spares) = usage_at_open(&scan_root)?;
            Ok((index, spares, lock))
        })
        .await?;
        let opened = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        Ok(FilesystemSilo {
            inner: Arc::new(Inner {
                name: name.to_owned(),
                usage: AtomicU64::new(index.usage),
                root,
                capacity,
                index: Mutex::new(index),
                temp_counter: AtomicU64::new(0),
                temp_generation: opened.as_nanos() as u64,
                readers: Mutex::default(),
                spares: Mutex::new(spares),
                exchange: std::sync::atomic::AtomicBool::new(true),
                lock,
                durability,
                unsynced: std::sync::atomic::AtomicBool::new(false),
                direct: std::sync::atomic::AtomicBool::new(true),
                changes: Arc::default(),
            }),
        })
    }

    /// The folder holding the blocks.
    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    /// The file holding `key`'s block.
    pub fn block_path(&self, key: &Address) -> PathBuf {
        self.inner.block_path(key)
    }
}

impl Inner {
    /// Run `work` on a blocking thread, after the writes and erases queued
    /// before it (up to [`CHANGERS`] at once); a thread is handed work only
    /// when none is taking it already, or a backlog waits.
    async fn queued(
        self: &Arc<Self>,
        key: Address,
        lane: Lane,
        work: impl FnOnce(&Inner) -> Result<(), SiloError> + Send + 'static,
    ) -> Result<(), SiloError> {
        let (done, result) = tokio::sync::oneshot::channel();
        let change: Change = Box::new(move |inner: &Inner| {
            // A panic is this change's failure, not the end of the queue.
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(inner)))
                .unwrap_or_else(|_| Err(inner.io_failure("a write or erase panicked")));
            Box::new(move || {
                let _ = done.send(outcome);
            })
        });
        let start = {
            let mut changes = lock(&self.changes);
            changes.queue.push(key, lane, change);
            let start = changes.changers == 0 || (changes.changers < CHANGERS && changes.queue.len() > 1);
            changes.changers += usize::from(start);
            start
        };
        if start {
            let (queue, silo) = (self.changes.clone(), Arc::downgrade(self));
            tokio::task::spawn_blocking(move || Inner::take_changes(&queue, &silo));
        }
        result.await.unwrap_or_else(|_| Err(self.io_failure("the silo stopped before the write or erase ran")))
    }

    /// A blocking thread's loop: run queued changes until none is left (or
    /// the silo is gone: nobody waits for them then).
    fn take_changes(queue: &Mutex<Changes>, silo: &std::sync::Weak<Inner>) {
        loop {
            let next = {
                let mut changes = lock(queue);
                let next = changes.queue.pop();
                if next.is_none() {
                    changes.changers -= 1;
                }
                next
            };
            let Some(change) = next else { return };
            let Some(inner) = silo.upgrade() else { return };
            let deliver = change(&inner);
            drop(inner);
            deliver();
        }
    }

    fn io_failure(&self, why: &str) -> SiloError {
        SiloError::Io { path: self.root.clone(), source: io::Error::other(why.to_owned()) }
    }

    fn shard(&self, key: &Address) -> PathBuf {
        self.root.join(&key.to_hex()[..2])
    }

    fn block_path(&self, key: &Address) -> PathBuf {
        self.shard(key).join(key.to_hex())
    }

    fn index(&self) -> MutexGuard<'_, Index> {
        // The index is only changed after the disk operation it records
        // succeeded, so a lock poisoned by a panic still holds valid data.
        lock(&self.index)
    }

    /// Wait until no other write or erase of `key` is under way, then mark it busy.
    fn claim(&self, key: Address) -> Claim<'_> {
        loop {
            let mut index = self.index();
            if index.busy.insert(key) {
                return Claim { inner: self, key };
            }
            drop(index);
            std::thread::sleep(std::time::Duration::from_micros(200));
        }
    }

    /// The size of `key`'s block file, if there is one.
    fn stored_size(&self, key: &Address) -> Result<Option<u64>, SiloError> {
        let path = self.block_path(key);
        match fs::symlink_metadata(&path) {
            Ok(metadata) => Ok(Some(metadata.len())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(SiloError::Io { path, source: e }),
        }
    }

    fn set_blocking(&self, key: Address, bytes: &[u8], mode: SetMode) -> Result<(), SiloError> {
        let new = bytes.len() as u64;
        // The key is claimed for the whole change (writes of different keys
        // run in parallel); capacity is checked and reserved under the
        // index lock, the file written without it, usage recorded under it.
        let _claim = self.claim(key);
        let old = self.stored_size(&key)?;
        check_mode(key, mode, old.is_some())?;
        let replaces = old.is_some();
        let old = old.unwrap_or(0);
        {
            let mut index = self.index();
            check_capacity(&self.name, self.capacity, index.usage + index.reserved, old, new)?;
            index.reserved += new;
        }
        let written = self.write_block(key, bytes, replaces);
        let mut index = self.index();
        index.reserved -= new;
        written?;
        index.usage = index.usage - old + new;
        self.usage.store(index.usage, Ordering::Relaxed);
        drop(index);
        self.settle(&self.shard(&key))
    }

    /// Write `bytes` as the block file of `key`: into a spare or a new
    /// temporary file, then moved over the block's path. If the block
    /// `replaces` one, the two files are swapped and the old one becomes a
    /// spare.
    fn write_block(&self, key: Address, bytes: &[u8], replaces: bool) -> Result<(), SiloError> {
        let shard = self.shard(&key);
        if !shard.is_dir() {
            fs::create_dir_all(&shard).map_err(io_at(&shard))?;
            if self.durability == Durability::EveryWrite {
                sync_dir(&self.root)?;
            }
        }
        let (temp, spare) = match self.take_spare(&key) {
            Some(spare) => (spare, true),
            None => (self.temp_path(&shard, &key), false),
        };
        let path = self.block_path(&key);
        let written = self.write_block_file(&temp, bytes, spare).and_then(|()| {
            if replaces && self.exchange.load(Ordering::Relaxed) {
                match disk::exchange(&temp, &path) {
                    Ok(true) => {
                        self.retire(&key, temp.clone());
                        return Ok(());
                    }
                    Ok(false) => {
                        self.exchange.store(false, Ordering::Relaxed);
                        tracing::debug!(
                            "{} cannot swap files: replaced blocks' files are deleted",
                            self.root.display()
                        );
                    }
                    // Gone behind our back: the new block takes its place.
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(SiloError::Io { path: path.clone(), source: e }),
                }
            }
            fs::rename(&temp, &path).map_err(io_at(&path))
        });
        if written.is_err() {
            let _ = fs::remove_file(&temp);
        }
        written
    }

    /// A new temporary file's path in `shard`, for `key`.
    fn temp_path(&self, shard: &Path, key: &Address) -> PathBuf {
        let counter = self.temp_counter.fetch_add(1, Ordering::Relaxed);
        let (process, generation) = (std::process::id(), self.temp_generation);
        shard.join(format!(".{}.{process}-{generation:x}-{counter}{TEMP_SUFFIX}", key.to_hex()))
    }

    /// Write `bytes` into `path`, durable now or at the next sync: a new
    /// file, or the `spare` there.
    fn write_block_file(&self, path: &Path, bytes: &[u8], spare: bool) -> Result<(), SiloError> {
        let mut direct = None;
        if bytes.len() >= DIRECT_MIN && self.direct.load(Ordering::Relaxed) {
            direct = match spare {
                true => disk::rewrite_direct(path, bytes),
                false => disk::create_direct(path, bytes),
            }
            .map_err(io_at(path))?;
            if direct.is_none() && self.direct.swap(false, Ordering::Relaxed) {
                tracing::debug!("{} refuses direct I/O: large blocks go through the page cache", self.root.display());
            }
        }
        let sync = self.durability == Durability::EveryWrite;
        match direct {
            Some(file) => settle_file(path, &file, sync),
            None => write_file(path, bytes, sync, spare),
        }
    }

    /// Count a read under way until the returned guard is dropped: a spare
    /// it may have opened is not written meanwhile.
    fn reading(&self) -> Reading<'_> {
        let mut readers = lock(&self.readers);
        let epoch = readers.epoch;
        *readers.running.entry(epoch).or_default() += 1;
        Reading { readers: &self.readers, epoch }
    }

    /// Keep the file at `path` in `key`'s shard folder, no longer any
    /// block's, as a spare (or delete it when there are enough).
    fn retire(&self, key: &Address, path: PathBuf) {
        let retired = {
            let mut readers = lock(&self.readers);
            readers.epoch += 1;
            readers.epoch - 1
        };
        // Usually no read is under way: the spare is emptied at once, and
        // only the ones a read held back wait for `empty_spares`.
        let emptied = Self::unread(self.oldest_read(), retired);
        let mut spares = lock(&self.spares);
        let shard = &mut spares.by_shard[usize::from(key.0[0])];
        if shard.len() >= SPARES_PER_SHARD || (emptied && !empty(&path)) {
            drop(spares);
            let _ = fs::remove_file(&path);
            return;
        }
        shard.push_back(Spare { path, retired, emptied });
        spares.unemptied += usize::from(!emptied);
        drop(spares);
        self.empty_spares();
    }

    /// Whether `key`'s shard folder has room for one more spare.
    fn spare_room(&self, key: &Address) -> bool {
        lock(&self.spares).by_shard[usize::from(key.0[0])].len() < SPARES_PER_SHARD
    }

    /// Whether no read under way may have opened a spare retired at `retired`.
    fn unread(oldest_read: Option<u64>, retired: u64) -> bool {
        oldest_read.is_none_or(|oldest| oldest > retired)
    }

    /// The oldest epoch of the reads under way.
    fn oldest_read(&self) -> Option<u64> {
        lock(&self.readers).running.keys().next().copied()
    }

    /// A spare in `key`'s shard folder that no read may still be reading,
    /// to be written as a block.
    fn take_spare(&self, key: &Address) -> Option<PathBuf> {
        let oldest = self.oldest_read();
        let mut spares = lock(&self.spares);
        let shard = &mut spares.by_shard[usize::from(key.0[0])];
        if !Self::unread(oldest, shard.front()?.retired) {
            return None;
        }
        let spare = shard.pop_front()?;
        spares.unemptied -= usize::from(!spare.emptied);
        Some(spare.path)
    }

    /// Truncate the spares no read may still be reading: the space of the
    /// blocks they held is free. One that cannot be is deleted.
    fn empty_spares(&self) {
        let oldest = self.oldest_read();
        let mut spares = lock(&self.spares);
        if spares.unemptied == 0 {
            return;
        }
        let mut emptied = 0;
        for shard in &mut spares.by_shard {
            shard.retain_mut(|spare| {
                if spare.emptied || !Self::unread(oldest, spare.retired) {
                    return true;
                }
                emptied += 1;
                spare.emptied = empty(&spare.path);
                if !spare.emptied {
                    let _ = fs::remove_file(&spare.path);
                }
                spare.emptied
            });
        }
        spares.unemptied -= emptied;
    }

    /// Make a change to `dir` durable now, or at the next sync.
    fn settle(&self, dir: &Path) -> Result<(), SiloError> {
        match self.durability {
            Durability::EveryWrite => sync_dir(dir),
            Durability::OnSync => {
                self.unsynced.store(true, Ordering::Release);
                Ok(())
            }
        }
    }

    fn sync_blocking(&self) -> Result<(), SiloError> {
        self.empty_spares();
        if !self.unsynced.swap(false, Ordering::AcqRel) {
            return Ok(());
        }
        use std::os::fd::AsRawFd as _;
        // SAFETY: `syncfs` only reads the descriptor, which `self.lock` keeps
        // open for the duration of the call.
        let result = unsafe { libc::syncfs(self.lock.as_raw_fd()) };
        if result != 0 {
            self.unsynced.store(true, Ordering::Release);
            return Err(SiloError::Io { path: self.root.clone(), source: io::Error::last_os_error() });
        }
        Ok(())
    }

    fn erase_blocking(&self, key: Address) -> Result<(), SiloError> {
        let _claim = self.claim(key);
        let Some(size) = self.stored_size(&key)? else {
            return Err(SiloError::NotFound { key });
        };
        let path = self.block_path(&key);
        let spare = self.spare_room(&key).then(|| self.temp_path(&self.shard(&key), &key));
        let erased = match &spare {
            Some(spare) => fs::rename(&path, spare),
            None => fs::remove_file(&path),
        };
        match erased {
            Ok(()) => {
                if let Some(spare) = spare {
                    self.retire(&key, spare);
                }
            }
            // Removed behind our back between the two calls: not ours to count.
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(SiloError::NotFound { key }),
            Err(e) => return Err(SiloError::Io { path, source: e }),
        }
        let mut index = self.index();
        index.usage = index.usage.saturating_sub(size);
        self.usage.store(index.usage, Ordering::Relaxed);
        drop(index);
        self.settle(&self.shard(&key))
    }

    /// Every block of at most `max` bytes and its size, in address order,
    /// by scanning the folder.
    fn list_blocking(&self, max: u64) -> Result<Vec<(Address, u64)>, SiloError> {
        let mut blocks = Vec::new();
        scan(
            &self.root,
            |_| {},
            |address, size| {
                if size <= max {
                    blocks.push((address, size));
                }
            },
        )?;
        blocks.sort_unstable();
        Ok(blocks)
    }
}

impl Silo for FilesystemSilo {
    fn name(&self) -> &str {
        &self.inner.name
    }

    fn get(&self, key: Address) -> SiloFuture<'_, Vec<u8>> {
        Box::pin(async move {
            let path = self.inner.block_path(&key);
            let _reading = self.inner.reading();
            tokio::fs::read(&path).await.map_err(|source| read_failure(key, path, source))
        })
    }

    fn get_head(&self, key: Address, len: usize) -> SiloFuture<'_, Vec<u8>> {
        let path = self.inner.block_path(&key);
        let inner = self.inner.clone();
        Box::pin(async move {
            blocking(&self.inner.root, move || {
                use std::io::Read as _;
                let _reading = inner.reading();
                let mut bytes = Vec::with_capacity(len.min(4096));
                // Without read-ahead: the head of a 1 MiB chunk cost 40 KiB of reads with it.
                let read = File::open(&path).and_then(|file| {
                    disk::read_at_random(&file);
                    file.take(len as u64).read_to_end(&mut bytes)
                });
                read.map(|_| bytes).map_err(|source| read_failure(key, path, source))
            })
            .await
        })
    }

    fn get_many(&self, keys: Vec<Address>) -> BatchFuture<'_, Vec<u8>> {
        // One blocking task for them all: a hand-off per key costs more
        // than reading a small block whose pages are cached.
        let inner = self.inner.clone();
        Box::pin(async move {
            let count = keys.len();
            let read = tokio::task::spawn_blocking(move || {
                let _reading = inner.reading();
                // Open them all and ask for their pages first: blocks not
                // in memory are then read from the disk side by side, not
                // one after the other.
                let opened: Vec<_> = keys
                    .into_iter()
                    .map(|key| {
                        let path = inner.block_path(&key);
                        let file = File::open(&path);
                        if let Ok(file) = &file {
                            disk::will_need(file);
                        }
                        (key, path, file)
                    })
                    .collect();
                opened
                    .into_iter()
                    .map(|(key, path, file)| read_whole(file).map_err(|source| read_failure(key, path, source)))
                    .collect()
            })
            .await;
            read.unwrap_or_else(|e| {
                let why = e.to_string();
                let failed = || SiloError::Io { path: self.inner.root.clone(), source: io::Error::other(why.clone()) };
                (0..count).map(|_| Err(failed())).collect()
            })
        })
    }

    fn set(&self, key: Address, bytes: Vec<u8>, mode: SetMode) -> SiloFuture<'_, ()> {
        let lane = if bytes.len() < DIRECT_MIN { Lane::Small } else { Lane::Bulk };
        Box::pin(self.inner.queued(key, lane, move |inner| inner.set_blocking(key, &bytes, mode)))
    }

    fn sync(&self) -> SiloFuture<'_, ()> {
        let inner = self.inner.clone();
        Box::pin(async move { blocking(&self.inner.root, move || inner.sync_blocking()).await })
    }

    fn erase(&self, key: Address) -> SiloFuture<'_, ()> {
        Box::pin(self.inner.queued(key, Lane::Bulk, move |inner| inner.erase_blocking(key)))
    }

    fn list(&self) -> SiloFuture<'_, Vec<Address>> {
        let inner = self.inner.clone();
        Box::pin(async move {
            let blocks = blocking(&self.inner.root, move || inner.list_blocking(u64::MAX)).await?;
            Ok(blocks.into_iter().map(|(address, _)| address).collect())
        })
    }

    fn list_sized(&self) -> SiloFuture<'_, Vec<(Address, u64)>> {
        let inner = self.inner.clone();
        Box::pin(async move { blocking(&self.inner.root, move || inner.list_blocking(u64::MAX)).await })
    }

    fn list_up_to(&self, max: u64) -> SiloFuture<'_, Vec<(Address, u64)>> {
        let inner = self.inner.clone();
        Box::pin(async move { blocking(&self.inner.root, move || inner.list_blocking(max)).await })
    }

    fn usage(&self) -> u64 {
        self.inner.usage.load(Ordering::Relaxed)
    }

    fn capacity(&self) -> Option<u64> {
        self.inner.capacity
    }
}

/// Run blocking file work off the async threads; it completes even if the
/// awaiting future is dropped.
async fn blocking<T, F>(root: &Path, work: F) -> Result<T, SiloError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, SiloError> + Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| SiloError::Io { path: root.to_owned(), source: io::Error::other(e) })?
}

/// The content of `file` (a block: a page or a few; no `stat` for its size).
fn read_whole(file: io::Result<File>) -> io::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut bytes = Vec::with_capacity(4096);
    file?.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// What a failed read of `key`'s file at `path` means.
fn read_failure(key: Address, path: PathBuf, source: io::Error) -> SiloError {
    match source.kind() {
        io::ErrorKind::NotFound => SiloError::NotFound { key },
        _ => SiloError::Io { path, source },
    }
}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> SiloError + '_ {
    move |source| SiloError::Io { path: path.to_owned(), source }
}

/// Create `path` (which must not exist) holding `bytes`, or replace the
/// content of the `existing` file there, durable now (`sync`) or at the
/// next sync.
fn write_file(path: &Path, bytes: &[u8], sync: bool, existing: bool) -> Result<(), SiloError> {
    let mut file = match existing {
        true => File::options().write(true).truncate(true).open(path),
        false => File::create_new(path),
    }
    .map_err(io_at(path))?;
    file.write_all(bytes).map_err(io_at(path))?;
    settle_file(path, &file, sync)
}

/// Make a written file durable now (`sync`), or start writing it back.
fn settle_file(path: &Path, file: &File, sync: bool) -> Result<(), SiloError> {
    if sync {
        file.sync_all().map_err(io_at(path))?;
    } else {
        use std::os::fd::AsRawFd as _;
        // Start writing back now, without waiting, so a later sync finds
        // little left to do. Only a hint: a failure is not an error.
        // SAFETY: the descriptor stays open (`file`) for the duration of the call.
        unsafe { libc::sync_file_range(file.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE) };
    }
    Ok(())
}

/// Take the exclusive lock that marks `root` as served by this process.
fn lock_root(root: &Path) -> Result<File, SiloError> {
    disk::lock_folder(root, LOCK_FILE).map_err(|e| match e {
        disk::LockError::Busy => SiloError::Busy { path: root.to_owned() },
        disk::LockError::Io(path, source) => SiloError::Io { path, source },
    })
}

/// Make renames and removals in `dir` durable.
fn sync_dir(dir: &Path) -> Result<(), SiloError> {
    disk::sync_dir(dir).map_err(io_at(dir))
}

/// The shard folders under `root`, with their names.
fn shards(root: &Path) -> Result<Vec<(String, PathBuf)>, SiloError> {
    let mut out = Vec::new();
    for shard in fs::read_dir(root).map_err(io_at(root))? {
        let shard = shard.map_err(io_at(root))?;
        let path = shard.path();
        let Ok(name) = shard.file_name().into_string() else {
            continue;
        };
        let is_shard = name.len() == 2 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if is_shard && path.is_dir() {
            out.push((name, path));
        }
    }
    Ok(out)
}

/// The address of the block file `file_name` in shard `shard_name`, if it is one.
fn block_address(shard_name: &str, file_name: &str) -> Option<Address> {
    let address = Address::from_hex(file_name)?;
    (address.to_hex() == file_name && file_name.starts_with(shard_name)).then_some(address)
}

/// Call `found` with each block under `root` and its size, and
/// `temporary` with each temporary file's path (writes under way, spares,
/// or what a crash left), ignoring anything else.
fn scan(root: &Path, mut temporary: impl FnMut(PathBuf), mut found: impl FnMut(Address, u64)) -> Result<(), SiloError> {
    for (shard_name, shard_path) in shards(root)? {
        for entry in fs::read_dir(&shard_path).map_err(io_at(&shard_path))? {
            let entry = entry.map_err(io_at(&shard_path))?;
            let file_name = entry.file_name();
            let Some(file_name) = file_name.to_str() else {
                continue;
            };
            if file_name.starts_with('.') && file_name.ends_with(TEMP_SUFFIX) {
                temporary(entry.path());
                continue;
            }
            let Some(address) = block_address(&shard_name, file_name) else {
                continue;
            };
            let metadata = match entry.metadata() {
                Ok(metadata) => metadata,
                // Erased while listing.
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(SiloError::Io { path: entry.path(), source: e }),
            };
            if metadata.is_file() {
                found(address, metadata.len());
            }
        }
    }
    Ok(())
}

/// Count the bytes of the blocks under `root`; the temporary files left
/// (by a crash, or spares of the last run) become spares, emptied, or are
/// deleted past [`SPARES_PER_SHARD`].
fn usage_at_open(root: &Path) -> Result<(Index, Spares), SiloError> {
    let mut index = Index::default();
    let mut leftovers = Vec::new();
    scan(root, |path| leftovers.push(path), |_, size| index.usage += size)?;
    let mut spares = Spares::default();
    for path in leftovers {
        let shard = path.parent().and_then(|shard| shard.file_name()).and_then(|name| name.to_str());
        let shard = shard.and_then(|name| u8::from_str_radix(name, 16).ok()).map(usize::from);
        let regular = fs::symlink_metadata(&path).is_ok_and(|metadata| metadata.is_file());
        if let Some(shard) = shard.filter(|&shard| regular && spares.by_shard[shard].len() < SPARES_PER_SHARD)
            && empty(&path)
        {
            spares.by_shard[shard].push_back(Spare { path, retired: 0, emptied: true });
            continue;
        }
        match fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(SiloError::Io { path, source: e }),
            _ => {}
        }
    }
    Ok((index, spares))
}

/// Truncate the file at `path` to nothing; whether it could be.
fn empty(path: &Path) -> bool {
    File::options().write(true).truncate(true).open(path).is_ok()
}

/// Lock `mutex`, poisoned or not: the index and the queue of changes are
/// never left half-changed by a panic (see where they are changed).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::super::conformance;
    use super::super::marker::MARKER_NAME;
    use super::*;
    use std::time::Duration;

    fn key(n: u8) -> Address {
        Address([n; 32])
    }

    fn drain(lanes: &mut Lanes<&'static str>) -> Vec<&'static str> {
        std::iter::from_fn(|| lanes.pop()).collect()
    }

    #[test]
    fn small_writes_go_ahead_of_bulk_changes_but_one_key_keeps_its_order() {
        let mut lanes = Lanes::default();
        lanes.push(key(1), Lane::Bulk, "chunk 1");
        lanes.push(key(2), Lane::Bulk, "erase 2");
        lanes.push(key(3), Lane::Small, "header 3");
        // Key 2 waits in the bulk lane: its small write stays behind its erase.
        lanes.push(key(2), Lane::Small, "rewrite 2");
        lanes.push(key(4), Lane::Small, "patch 4");
        assert_eq!(lanes.len(), 5);
        assert_eq!(drain(&mut lanes), ["header 3", "patch 4", "chunk 1", "erase 2", "rewrite 2"]);
        assert!(lanes.keys.is_empty(), "every key's count went back to nothing: {:?}", lanes.keys);
        // And the other way round: a bulk change of a key with a small one
        // waiting joins the small lane, after it.
        lanes.push(key(5), Lane::Bulk, "chunk 5");
        lanes.push(key(6), Lane::Small, "header 6");
        lanes.push(key(6), Lane::Bulk, "erase 6");
        assert_eq!(drain(&mut lanes), ["header 6", "erase 6", "chunk 5"]);
    }

    #[test]
    fn a_stream_of_small_writes_lets_a_bulk_change_through() {
        let mut lanes = Lanes::default();
        lanes.push(key(0), Lane::Bulk, "bulk");
        for n in 1..=20 {
            lanes.push(key(n), Lane::Small, "small");
        }
        let order = drain(&mut lanes);
        let at = order.iter().position(|c| *c == "bulk").unwrap();
        assert_eq!(at, SMALL_STREAK, "{order:?}");
        // With nothing bulk waiting, small ones do not build up a streak.
        for n in 1..=20 {
            lanes.push(key(n), Lane::Small, "small");
        }
        for _ in 0..20 {
            assert_eq!(lanes.pop(), Some("small"));
        }
        lanes.push(key(30), Lane::Bulk, "bulk");
        lanes.push(key(31), Lane::Small, "small");
        assert_eq!(drain(&mut lanes), ["small", "bulk"]);
    }

    /// Create the silo `name` in `root`, then open it.
    async fn new_silo(name: &str, root: &Path, capacity: Option<u64>) -> FilesystemSilo {
        let id = create(name, root).unwrap();
        FilesystemSilo::open(name, root, Some(id), capacity).await.unwrap()
    }

    /// Every file under `root`, relative, as strings.
    fn files(root: &Path) -> Vec<String> {
        let mut out = Vec::new();
        for shard in fs::read_dir(root).unwrap() {
            let shard = shard.unwrap();
            if shard.path().is_dir() {
                for entry in fs::read_dir(shard.path()).unwrap() {
                    let entry = entry.unwrap();
                    out.push(format!(
                        "{}/{}",
                        shard.file_name().to_string_lossy(),
                        entry.file_name().to_string_lossy()
                    ));
                }
            } else {
                out.push(shard.file_name().to_string_lossy().into_owned());
            }
        }
        out.sort();
        out
    }

    /// The temporary files (spares) under `root` that hold data.
    fn temporary_data(root: &Path) -> Vec<String> {
        let holds_data = |f: &String| fs::metadata(root.join(f)).map(|m| m.len()).unwrap_or(0) > 0;
        files(root).into_iter().filter(|f| f.ends_with(TEMP_SUFFIX) && holds_data(f)).collect()
    }

    /// The files under `root` but temporary ones (spares).
    fn blocks_and_marker(root: &Path) -> Vec<String> {
        files(root).into_iter().filter(|f| !f.ends_with(TEMP_SUFFIX)).collect()
    }

    fn inode(path: &Path) -> u64 {
        use std::os::unix::fs::MetadataExt as _;
        fs::metadata(path).unwrap().ino()
    }

    /// An address in the shard folder of `key(n)`, distinct from it.
    fn neighbour(n: u8) -> Address {
        let mut bytes = [n; 32];
        bytes[31] = n.wrapping_add(1);
        Address(bytes)
    }

    /// The files of replaced and erased blocks are not deleted: they are
    /// kept, emptied, in their shard folder, and the next blocks written
    /// there are written into them (no inode freed, none allocated).
    #[tokio::test]
    async fn replaced_and_erased_blocks_leave_their_files_to_the_next_blocks() {
        let dir = tempfile::tempdir().unwrap();
        let silo = new_silo("disk", dir.path(), None).await;
        silo.set(key(1), vec![1; 5000], SetMode::Insert).await.unwrap();
        let first = inode(&silo.block_path(&key(1)));
        silo.set(key(1), vec![2; 3000], SetMode::Update).await.unwrap();
        let second = inode(&silo.block_path(&key(1)));
        assert_ne!(first, second, "a replaced block is written into another file, never over itself");
        assert!(temporary_data(dir.path()).is_empty(), "the replaced block's file was not emptied");
        silo.set(neighbour(1), vec![3; 100], SetMode::Insert).await.unwrap();
        assert_eq!(inode(&silo.block_path(&neighbour(1))), first, "the next block did not reuse the spare");
        silo.erase(key(1)).await.unwrap();
        silo.set(key(1), vec![4; 10], SetMode::Insert).await.unwrap();
        assert_eq!(inode(&silo.block_path(&key(1))), second, "an erased block's file was not reused");
        assert_eq!(silo.get(key(1)).await.unwrap(), vec![4; 10]);
        assert_eq!(silo.get(neighbour(1)).await.unwrap(), vec![3; 100]);
        assert_eq!(silo.usage(), 110);
        assert_eq!(silo.list().await.unwrap(), vec![key(1), neighbour(1)]);
    }

    /// A read that may have opened a block's file keeps that file from
    /// being emptied or written as another block until it ends: it reads
    /// the block it opened, whole.
    #[tokio::test]
    async fn a_read_under_way_keeps_the_file_it_opened_whole() {
        let dir = tempfile::tempdir().unwrap();
        let silo = new_silo("disk", dir.path(), None).await;
        silo.set(key(1), vec![1; 5000], SetMode::Insert).await.unwrap();
        let reading = silo.inner.reading();
        let opened = File::open(silo.block_path(&key(1))).unwrap();
        silo.set(key(1), vec![2; 3000], SetMode::Update).await.unwrap();
        silo.set(neighbour(1), vec![3; 100], SetMode::Insert).await.unwrap();
        silo.sync().await.unwrap();
        assert_eq!(read_whole(Ok(opened)).unwrap(), vec![1; 5000], "the file being read was changed");
        assert_eq!(temporary_data(dir.path()).len(), 1, "the old file is kept whole while read");
        drop(reading);
        silo.sync().await.unwrap();
        assert!(temporary_data(dir.path()).is_empty(), "the old file was not emptied once read");
        assert_eq!(silo.get(key(1)).await.unwrap(), vec![2; 3000]);
        assert_eq!(silo.get(neighbour(1)).await.unwrap(), vec![3; 100]);
    }

    /// Writes and erases queue for two blocking threads: a burst of them
    /// lands whole, with usage exact; a write whose caller stopped waiting
    /// still runs to the end; the silo opens again at once after its last
    /// change (no thread keeps its lock).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_burst_of_queued_changes_lands_whole_and_releases_the_silo() {
        let root = tempfile::tempdir().unwrap();
        let id = create("burst", root.path()).unwrap();
        let silo = Arc::new(FilesystemSilo::open("burst", root.path(), Some(id), None).await.unwrap());
        let mut tasks = Vec::new();
        for n in 0..=255u8 {
            let silo = silo.clone();
            tasks.push(tokio::spawn(async move {
                silo.set(key(n), vec![n; usize::from(n) * 97 + 1], SetMode::Insert).await?;
                if n % 3 == 0 { silo.erase(key(n)).await } else { Ok(()) }
            }));
        }
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        let kept = (0..=255u8).filter(|n| n % 3 != 0);
        assert_eq!(silo.usage(), kept.clone().map(|n| u64::from(n) * 97 + 1).sum::<u64>());
        for n in kept {
            assert_eq!(silo.get(key(n)).await.unwrap(), vec![n; usize::from(n) * 97 + 1]);
        }
        // A caller that gives up at once: the write still lands.
        let gone = silo.set(key(0), vec![7; 5000], SetMode::Insert);
        drop(tokio::time::timeout(Duration::ZERO, gone).await);
        let wait = std::time::Instant::now();
        while silo.get(key(0)).await.is_err() {
            assert!(wait.elapsed() < Duration::from_secs(10), "an abandoned write never landed");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        silo.set(key(1), vec![1; 10], SetMode::Upsert).await.unwrap();
        drop(silo);
        let again = FilesystemSilo::open("burst", root.path(), Some(id), None).await.unwrap();
        assert_eq!(again.get(key(1)).await.unwrap(), vec![1; 10]);
    }

    /// A chunk-sized block goes to the disk past the page cache, a small
    /// one through it; both read back whole, count in usage and survive
    /// reopening, in both durability modes, with no temporary file left.
    #[tokio::test]
    async fn large_blocks_skip_the_page_cache_and_read_back_whole() {
        let large: Vec<u8> = (0..(1 << 20) + 40).map(|i: u32| (i % 251) as u8).collect();
        for durability in [Durability::EveryWrite, Durability::OnSync] {
            let dir = tempfile::tempdir().unwrap();
            let id = create("disk", dir.path()).unwrap();
            let silo = FilesystemSilo::open_with("disk", dir.path(), Some(id), None, durability).await.unwrap();
            silo.set(key(1), large.clone(), SetMode::Insert).await.unwrap();
            silo.set(key(2), vec![2; 1000], SetMode::Insert).await.unwrap();
            silo.set(key(1), large[1..].to_vec(), SetMode::Update).await.unwrap();
            silo.sync().await.unwrap();
            if silo.inner.direct.load(Ordering::Relaxed) {
                let cached = disk::cached_pages(&silo.inner.block_path(&key(1)));
                assert!(cached <= 1, "{durability:?}: {cached} pages of the large block are cached");
            }
            assert_eq!(disk::cached_pages(&silo.inner.block_path(&key(2))), 1, "{durability:?}: small block");
            assert_eq!(silo.get(key(1)).await.unwrap(), large[1..]);
            assert_eq!(silo.usage(), large.len() as u64 - 1 + 1000);
            drop(silo);
            let again = FilesystemSilo::open_with("disk", dir.path(), Some(id), None, durability).await.unwrap();
            assert_eq!(again.get(key(1)).await.unwrap(), large[1..]);
            assert_eq!(again.get(key(2)).await.unwrap(), vec![2; 1000]);
            assert_eq!(again.usage(), large.len() as u64 - 1 + 1000);
            assert!(temporary_data(dir.path()).is_empty(), "{:?}", files(dir.path()));
        }
    }

    /// A disk that fills up (a 1 MiB tmpfs, mounted for the test): the
    /// write that does not fit fails with the disk's error, large
    /// (direct I/O) or small, and leaves no temporary file; what was
    /// stored reads back whole, usage counts only what is stored, and
    /// once space is freed writes succeed again.
    #[tokio::test]
    async fn a_full_disk_fails_the_write_that_does_not_fit_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=1m", "infinit-test", &dir.path().display().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            assert!(std::env::var_os("CI").is_none(), "CI: cannot mount a tmpfs (run as root)");
            eprintln!("cannot mount a tmpfs here (not root?): nothing to check");
            return;
        }
        struct Unmount<'a>(&'a Path);
        impl Drop for Unmount<'_> {
            fn drop(&mut self) {
                let _ = std::process::Command::new("umount").arg(self.0).status();
            }
        }
        let _unmount = Unmount(dir.path());
        let root = dir.path().join("silo");
        let id = create("full", &root).unwrap();
        let silo = FilesystemSilo::open_with("full", &root, Some(id), None, Durability::OnSync).await.unwrap();
        let large: Vec<u8> = (0..600 << 10).map(|i: u32| (i % 253) as u8).collect();
        silo.set(key(1), large.clone(), SetMode::Insert).await.unwrap();
        silo.set(key(2), vec![2; 1000], SetMode::Insert).await.unwrap();
        let full = |k: u8, e: Result<(), SiloError>| match e {
            Err(SiloError::Io { source, .. }) => {
                assert_eq!(source.raw_os_error(), Some(libc::ENOSPC), "block {k}: {source}")
            }
            other => panic!("block {k} on a full disk: {other:?}"),
        };
        // A second large block (written with direct I/O) does not fit.
        full(3, silo.set(key(3), large.clone(), SetMode::Insert).await);
        // Small blocks (through the page cache) until one does not fit.
        let mut k = 10;
        loop {
            match silo.set(key(k), vec![k; 100_000], SetMode::Insert).await {
                Ok(()) => k += 1,
                failed => break full(k, failed),
            }
            assert!(k < 20, "1 MiB held more than ten blocks of 100 KB");
        }
        assert!(files(&root).iter().all(|f| !f.contains(TEMP_SUFFIX)), "{:?}", files(&root));
        for gone in [3, k] {
            assert!(matches!(silo.get(key(gone)).await, Err(SiloError::NotFound { .. })), "block {gone}");
        }
        let used = large.len() as u64 + 1000 + u64::from(k - 10) * 100_000;
        assert_eq!(silo.usage(), used);
        assert_eq!(silo.get(key(1)).await.unwrap(), large);
        assert_eq!(silo.get(key(2)).await.unwrap(), vec![2; 1000]);
        silo.sync().await.unwrap();
        // Space freed: the write that failed now fits.
        silo.erase(key(1)).await.unwrap();
        silo.set(key(3), large.clone(), SetMode::Insert).await.unwrap();
        assert_eq!(silo.get(key(3)).await.unwrap(), large);
        assert_eq!(silo.usage(), used);
        for small in 10..k {
            assert_eq!(silo.get(key(small)).await.unwrap(), vec![small; 100_000]);
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn filesystem_silo_passes_the_conformance_suite() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let unlimited = Arc::new(new_silo("disk", a.path(), None).await);
        let limited = Arc::new(new_silo("small", b.path(), Some(conformance::LIMIT)).await);
        conformance::run(unlimited.clone(), limited.clone()).await;
        // Spares are emptied once no read may still be reading them.
        unlimited.sync().await.unwrap();
        limited.sync().await.unwrap();
        for dir in [a.path(), b.path()] {
            assert_eq!(temporary_data(dir), Vec::<String>::new(), "temporary files holding data");
        }
    }

    #[tokio::test]
    async fn blocks_live_in_sharded_files_named_by_address_without_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let silo = new_silo("disk", dir.path(), None).await;
        let address = Address::content(None, b"block");
        silo.set(address, b"v1".to_vec(), SetMode::Insert).await.unwrap();
        silo.set(address, b"v2".to_vec(), SetMode::Update).await.unwrap();
        silo.set(key(0xab), b"other".to_vec(), SetMode::Upsert).await.unwrap();
        let hex = address.to_hex();
        let expected = {
            let mut v = vec![
                LOCK_FILE.to_owned(),
                MARKER_NAME.to_owned(),
                format!("{}/{hex}", &hex[..2]),
                format!("ab/{}", "ab".repeat(32)),
            ];
            v.sort();
            v
        };
        assert_eq!(blocks_and_marker(dir.path()), expected);
        // The file of v1 is kept, empty, as a spare.
        let spares: Vec<_> = files(dir.path()).into_iter().filter(|f| f.ends_with(TEMP_SUFFIX)).collect();
        assert!(spares.len() == 1 && spares[0].starts_with(&hex[..2]), "{spares:?}");
        assert!(temporary_data(dir.path()).is_empty());
        assert_eq!(fs::read(silo.block_path(&address)).unwrap(), b"v2");
    }

    #[tokio::test]
    async fn blocks_and_usage_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let id = create("disk", dir.path()).unwrap();
        {
            let silo = FilesystemSilo::open("disk", dir.path(), Some(id), None).await.unwrap();
            silo.set(key(1), vec![1; 10], SetMode::Insert).await.unwrap();
            silo.set(key(2), vec![2; 20], SetMode::Insert).await.unwrap();
            silo.set(key(3), vec![3; 30], SetMode::Insert).await.unwrap();
            silo.erase(key(2)).await.unwrap();
        }
        let silo = FilesystemSilo::open("disk", dir.path(), Some(id), Some(50)).await.unwrap();
        assert_eq!(silo.list().await.unwrap(), vec![key(1), key(3)]);
        assert_eq!(silo.usage(), 40);
        assert_eq!(silo.get(key(3)).await.unwrap(), vec![3; 30]);
        assert!(matches!(silo.set(key(1), vec![0; 1], SetMode::Insert).await, Err(SiloError::Exists { .. })));
        // Capacity counts what was already on disk.
        assert!(matches!(
            silo.set(key(4), vec![4; 11], SetMode::Insert).await,
            Err(SiloError::Full { needed: 11, free: 10, .. })
        ));
        silo.set(key(4), vec![4; 10], SetMode::Insert).await.unwrap();
    }

    #[tokio::test]
    async fn open_empties_crash_leftovers_and_ignores_foreign_files() {
        let dir = tempfile::tempdir().unwrap();
        let hex = key(0xab).to_hex();
        fs::create_dir_all(dir.path().join("ab")).unwrap();
        fs::write(dir.path().join("ab").join(&hex), b"kept").unwrap();
        fs::write(dir.path().join("ab").join(format!(".{hex}.1-0{TEMP_SUFFIX}")), b"torn").unwrap();
        fs::write(dir.path().join("ab").join(hex.to_uppercase()), b"not canonical").unwrap();
        fs::write(dir.path().join("ab").join(key(0x12).to_hex()), b"wrong shard").unwrap();
        fs::write(dir.path().join("README"), b"operator notes").unwrap();
        // A leftover that is a link is removed, never followed.
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("target"), b"not the silo's").unwrap();
        let link = dir.path().join("ab").join(format!(".{hex}.2-0{TEMP_SUFFIX}"));
        std::os::unix::fs::symlink(outside.path().join("target"), &link).unwrap();
        // More leftovers in one folder than it keeps as spares.
        fs::create_dir_all(dir.path().join("cd")).unwrap();
        for n in 0..SPARES_PER_SHARD + 3 {
            fs::write(dir.path().join("cd").join(format!(".{}.1-{n}{TEMP_SUFFIX}", key(0xcd).to_hex())), b"x").unwrap();
        }
        // A folder made before markers existed: adopted for its block.
        let silo = FilesystemSilo::open("disk", dir.path(), None, None).await.unwrap();
        assert_eq!(silo.list().await.unwrap(), vec![key(0xab)]);
        assert_eq!(silo.usage(), 4);
        assert!(temporary_data(dir.path()).is_empty(), "a torn temporary file kept its data");
        assert!(fs::symlink_metadata(&link).is_err(), "the link was kept");
        assert_eq!(fs::read(outside.path().join("target")).unwrap(), b"not the silo's");
        let kept =
            |shard: &str| files(dir.path()).iter().filter(|f| f.starts_with(shard) && f.ends_with(TEMP_SUFFIX)).count();
        assert_eq!((kept("ab/"), kept("cd/")), (1, SPARES_PER_SHARD));
        assert!(dir.path().join("README").exists());
    }

    #[tokio::test]
    async fn a_folder_is_served_by_one_silo_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let first = new_silo("disk", dir.path(), None).await;
        match FilesystemSilo::open("disk", dir.path(), None, None).await {
            Err(SiloError::Busy { path }) => assert_eq!(path, dir.path()),
            other => panic!("expected the folder to be busy, got {other:?}"),
        }
        drop(first);
        FilesystemSilo::open("disk", dir.path(), None, None).await.unwrap();
    }

    #[tokio::test]
    async fn unusable_root_is_an_io_error_naming_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plain-file");
        fs::write(&file, b"").unwrap();
        match FilesystemSilo::open("disk", &file, None, None).await {
            Err(SiloError::Io { path, .. }) => assert_eq!(path, file),
            other => panic!("expected an I/O error, got {other:?}"),
        }
    }
}
