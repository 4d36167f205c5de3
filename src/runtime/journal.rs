//! The asynchronous write-back journal behind `volume run --async`: a
//! [`Consensus`] decorator that validates each store or removal against the
//! latest known version (its own pending one, else the inner consensus), so
//! refusals and conflicts still reach the caller at once, then appends it to
//! an on-disk journal (one durable file per operation, see [`record`]) and
//! returns. A background task pushes operations to the inner consensus in
//! sequence order, retrying transient failures with backoff, deleting each
//! file only once the inner consensus accepted it and moving refused ones to
//! `rejected/`. Reads see pending writes first. Opening a journal replays
//! what a killed process left, so acknowledged writes survive `kill -9`.
//!
//! Limits: whether a pending removal erased a content block is remembered
//! in memory only, so after a restart a second, different tombstone for it
//! conflicts instead of being a no-op. Each operation keeps the version it
//! was built on, so a conflict at replay (another writer changed the block
//! meanwhile) is handed to a [`ConflictResolver`] — the file system replays
//! the change as intents on the winner's version — and only an operation no
//! resolver can apply moves to `rejected/`.

mod record;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, VecDeque};
use std::fs::{DirBuilder, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

pub use record::{FORMAT_VERSION, OperationKind, OperationSummary, RejectedOperation};

use super::block::{Address, Block, BlockError, Tombstone};
use super::consensus::{
    ConflictResolver, Consensus, ConsensusError, ConsensusFuture, Expect, Fetched, ReadLevel, Usage, check_expectation,
};
use super::silo::SiloError;
use record::io_at;

/// What went wrong opening or reading a journal folder.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The operating system refused a file operation.
    #[error("journal {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    /// An operation file does not decode or fails its checksum.
    #[error("journal operation file {} is corrupt: {why}", path.display())]
    Corrupt { path: PathBuf, why: String },
    /// An operation file was written by an incompatible build.
    #[error(
        "journal operation file {} has format version {found} (this build reads version {supported})",
        path.display()
    )]
    UnsupportedFormat { path: PathBuf, found: u8, supported: u8 },
    /// Another journal in this or another process serves the folder.
    #[error("journal folder {} is in use by another process", path.display())]
    Busy { path: PathBuf },
    /// A block could not be encoded into an operation.
    #[error("cannot journal block {address}: {why}")]
    Encode { address: Address, why: String },
}

impl From<JournalError> for ConsensusError {
    fn from(e: JournalError) -> Self {
        match e {
            JournalError::Io { path, source } => SiloError::Io { path, source }.into(),
            JournalError::Encode { address, why } => {
                BlockError::Malformed { why: format!("cannot journal block {address}: {why}") }.into()
            }
            JournalError::Corrupt { ref path, .. }
            | JournalError::UnsupportedFormat { ref path, .. }
            | JournalError::Busy { ref path } => {
                SiloError::Io { path: path.clone(), source: io::Error::other(e.to_string()) }.into()
            }
        }
    }
}

/// Retry pacing for operations the inner consensus could not take yet.
#[derive(Debug, Clone, Copy)]
pub struct JournalOptions {
    /// Delay after the first failure; attempt `n` waits `n` times this.
    pub retry_base: Duration,
    /// Longest delay between attempts.
    pub retry_max: Duration,
}

impl Default for JournalOptions {
    fn default() -> Self {
        JournalOptions { retry_base: Duration::from_millis(200), retry_max: Duration::from_secs(20) }
    }
}

/// The journal's state, for `infinit journal stat` and monitoring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalStats {
    /// Operations not yet accepted by the inner consensus.
    pub pending_operations: usize,
    /// Encoded size of their blocks.
    pub pending_bytes: u64,
    /// When the oldest pending operation was journaled.
    pub oldest: Option<SystemTime>,
    /// Operations the inner consensus refused since the journal was opened.
    pub rejected: Vec<RejectedOperation>,
    /// The inner consensus's last transient failure, while it keeps failing.
    pub last_error: Option<String>,
}

/// A write-back journal in front of an inner consensus.
#[derive(Debug)]
pub struct AsyncJournal {
    shared: Arc<Shared>,
    /// Serialises validate-then-append, as the inner consensus does.
    writes: tokio::sync::Mutex<()>,
    worker: JoinHandle<()>,
    /// Exclusive lock on the folder, released when the journal is dropped.
    _lock: File,
}

#[derive(Debug)]
struct Shared {
    dir: PathBuf,
    inner: Arc<dyn Consensus>,
    options: JournalOptions,
    state: Mutex<State>,
    /// Wakes the worker when an operation is queued.
    queued: Notify,
    /// Number of pending operations, for [`AsyncJournal::flush`].
    pending: watch::Sender<usize>,
    /// Re-applies a journaled change that lost a race at replay.
    resolver: Mutex<Option<Arc<dyn ConflictResolver>>>,
}

#[derive(Debug, Default)]
struct State {
    queue: VecDeque<OperationSummary>,
    latest: HashMap<Address, Latest>,
    pending_bytes: u64,
    next_sequence: u64,
    rejected: Vec<RejectedOperation>,
    last_error: Option<String>,
}

/// The newest pending operation on an address.
#[derive(Debug, Clone, Copy)]
struct Latest {
    sequence: u64,
    /// A removal of a content block: the inner consensus will hold nothing.
    erases: bool,
}

/// What a reader sees for an address with pending operations.
enum Pending {
    /// No pending operation: ask the inner consensus.
    None,
    /// The newest pending block (a tombstone for a removal).
    Block(Box<Block>),
    /// A pending removal after which nothing is stored at all.
    Erased,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // Every critical section leaves the state consistent: keep going after a panic.
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// Run blocking file work off the async threads.
async fn blocking<T, F>(dir: &Path, work: F) -> Result<T, JournalError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, JournalError> + Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| JournalError::Io { path: dir.to_owned(), source: io::Error::other(e) })?
}

/// Whether retrying can help: refusals, conflicts and corruption are final.
fn is_transient(error: &ConsensusError) -> bool {
    error.is_retryable()
}

impl AsyncJournal {
    /// Open (creating it if needed) the journal in `dir` over `inner`, and
    /// start pushing its pending operations, if any, in order.
    pub async fn open(dir: &Path, inner: Arc<dyn Consensus>) -> Result<Arc<Self>, JournalError> {
        Self::open_with(dir, inner, JournalOptions::default()).await
    }

    /// [`AsyncJournal::open`] with explicit retry pacing.
    pub async fn open_with(
        dir: &Path,
        inner: Arc<dyn Consensus>,
        options: JournalOptions,
    ) -> Result<Arc<Self>, JournalError> {
        let dir = dir.to_owned();
        let scan_dir = dir.clone();
        let (lock_file, state) = blocking(&dir, move || load(&scan_dir)).await?;
        let (pending, _) = watch::channel(state.queue.len());
        let shared = Arc::new(Shared {
            dir,
            inner,
            options,
            state: Mutex::new(state),
            queued: Notify::new(),
            pending,
            resolver: Mutex::new(None),
        });
        let worker = tokio::spawn(run(shared.clone()));
        Ok(Arc::new(AsyncJournal { shared, writes: tokio::sync::Mutex::new(()), worker, _lock: lock_file }))
    }

    /// The pending operations in the journal folder `dir`, read without a
    /// running node (for `infinit journal stat|describe`).
    pub fn describe(dir: &Path) -> Result<Vec<OperationSummary>, JournalError> {
        let mut out = Vec::new();
        for (_, path) in record::list(dir, false)? {
            match record::read(&path) {
                Ok(op) => out.push(op.summary),
                // A running node applied and deleted it meanwhile.
                Err(JournalError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// Whether `dir` holds operations not yet applied.
    pub fn has_pending(dir: &Path) -> bool {
        dir.is_dir() && record::list(dir, false).is_ok_and(|ops| !ops.is_empty())
    }

    /// The operations in `dir/rejected/`, with the reasons they were refused.
    pub fn describe_rejected(dir: &Path) -> Result<Vec<RejectedOperation>, JournalError> {
        record::list_rejected(dir)
    }

    /// Wait until every operation journaled so far has left the journal
    /// (accepted by the inner consensus, or rejected).
    pub async fn flush(&self) {
        let mut pending = self.shared.pending.subscribe();
        // The sender lives as long as `self`: waiting cannot fail.
        let _ = pending.wait_for(|&n| n == 0).await;
    }

    /// Counters and the oldest pending operation.
    pub fn stats(&self) -> JournalStats {
        let state = lock(&self.shared.state);
        JournalStats {
            pending_operations: state.queue.len(),
            pending_bytes: state.pending_bytes,
            oldest: state.queue.front().map(|op| op.time),
            rejected: state.rejected.clone(),
            last_error: state.last_error.clone(),
        }
    }

    /// Resolve conflicts at replay with `resolver` (instead of refusing the
    /// operation): another writer's version and this one's change both stay.
    pub fn set_resolver(&self, resolver: Arc<dyn ConflictResolver>) {
        *self.shared.resolver.lock().unwrap_or_else(|e| e.into_inner()) = Some(resolver);
        self.shared.queued.notify_one();
    }

    /// The journal folder.
    pub fn dir(&self) -> &Path {
        &self.shared.dir
    }

    /// The latest version known for `address`: pending first, tombstones
    /// included, then the inner consensus (`Err` if it cannot be reached;
    /// [`ConsensusError::Removed`] if it was removed and its tombstone
    /// collected, which leaves no block to validate against).
    async fn latest(&self, address: Address) -> Result<Option<Block>, ConsensusError> {
        match self.shared.pending(address).await? {
            Pending::Block(block) => Ok(Some(*block)),
            Pending::Erased => Ok(None),
            Pending::None => match self.shared.inner.fetch(address, ReadLevel::Latest).await? {
                Fetched::Found(block) => Ok(Some(block)),
                Fetched::Removed(tombstone) => Ok(Some(Block::Tombstone(tombstone))),
                Fetched::Collected { .. } => Err(ConsensusError::Removed { address }),
                Fetched::Absent => Ok(None),
            },
        }
    }

    /// Validate and journal a store (`block`) or a removal (a tombstone).
    async fn append(&self, block: Block, expect: Expect) -> Result<(), ConsensusError> {
        let address = block.address();
        let _guard = self.writes.lock().await;
        let previous = match self.latest(address).await {
            Ok(previous) => Some(previous),
            // Offline: journal what validates alone; the inner consensus decides later.
            Err(e) if is_transient(&e) => None,
            // Removed and collected: removing it again does nothing.
            Err(ConsensusError::Removed { .. }) if matches!(block, Block::Tombstone(_)) => return Ok(()),
            Err(e) => return Err(e),
        };
        let mut erases = false;
        let kind = match (&block, &previous) {
            (_, Some(Some(previous))) if *previous == block => return Ok(()),
            (Block::Tombstone(_), Some(None)) => return Ok(()),
            (Block::Tombstone(_), Some(Some(previous))) => {
                let owner = match previous {
                    Block::Content(content) => match content.owner {
                        Some(owner) => match self.latest(owner).await {
                            Ok(owner) => owner,
                            // Unreachable, or removed and collected: the inner consensus decides.
                            Err(e) if is_transient(&e) || matches!(e, ConsensusError::Removed { .. }) => None,
                            Err(e) => return Err(e),
                        },
                        None => None,
                    },
                    _ => None,
                };
                let needs_owner = matches!(previous, Block::Content(c) if c.owner.is_some());
                if needs_owner && owner.is_none() {
                    // The owner is out of view (unreachable, or removed, which
                    // frees its content): let the inner consensus decide.
                    block.validate_alone(&address)?;
                } else {
                    block.validate_removing(&address, Some(previous), owner.as_ref())?;
                }
                erases = matches!(previous, Block::Content(_));
                OperationKind::Remove
            }
            (Block::Tombstone(_), None) => {
                block.validate_alone(&address)?;
                OperationKind::Remove
            }
            (_, Some(previous)) => {
                if check_expectation(&block, expect, previous.as_ref())? {
                    return Ok(());
                }
                block.validate(&address, previous.as_ref())?;
                match previous {
                    Some(p) if !matches!(p, Block::Tombstone(_)) => OperationKind::Update,
                    _ => OperationKind::Insert,
                }
            }
            (_, None) => {
                block.validate_alone(&address)?;
                OperationKind::Update
            }
        };
        let sequence = lock(&self.shared.state).next_sequence;
        let base = match &previous {
            Some(Some(p)) if p.is_mutable() && block.is_mutable() => Some(p),
            _ => None,
        };
        let (bytes, summary) = record::encode(sequence, kind, &block, base, SystemTime::now())?;
        let dir = self.shared.dir.clone();
        blocking(&self.shared.dir, move || record::write(&dir, sequence, &bytes)).await?;
        let mut state = lock(&self.shared.state);
        state.next_sequence = sequence + 1;
        state.pending_bytes += summary.size;
        state.latest.insert(address, Latest { sequence, erases });
        state.queue.push_back(summary);
        self.shared.pending.send_replace(state.queue.len());
        drop(state);
        self.shared.queued.notify_one();
        Ok(())
    }
}

impl Drop for AsyncJournal {
    fn drop(&mut self) {
        // Whatever was not pushed stays on disk for the next open.
        self.worker.abort();
    }
}

impl Shared {
    /// The newest pending operation on `address`, read back from its file.
    async fn pending(&self, address: Address) -> Result<Pending, ConsensusError> {
        loop {
            let Some(latest) = lock(&self.state).latest.get(&address).copied() else {
                return Ok(Pending::None);
            };
            if latest.erases {
                return Ok(Pending::Erased);
            }
            let path = self.dir.join(record::file_name(latest.sequence));
            let read_path = path.clone();
            match blocking(&self.dir, move || record::read(&read_path)).await {
                Ok(op) => return Ok(Pending::Block(Box::new(op.block))),
                // Pushed and deleted meanwhile: look again.
                Err(JournalError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {}
                Err(e @ (JournalError::Corrupt { .. } | JournalError::UnsupportedFormat { .. })) => {
                    return Err(ConsensusError::Corrupt { address, why: e.to_string() });
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// The oldest pending operation, if any.
    fn front(&self) -> Option<OperationSummary> {
        lock(&self.state).queue.front().cloned()
    }

    /// Push `op` to the inner consensus until it is accepted or refused.
    async fn push(&self, op: &OperationSummary) {
        let mut attempt: u32 = 0;
        loop {
            let path = self.dir.join(record::file_name(op.sequence));
            let outcome = match blocking(&self.dir, move || record::read(&path)).await {
                Ok(read) => match read.block {
                    Block::Tombstone(tombstone) => self.inner.remove(tombstone).await,
                    block => {
                        let expect = Expect::for_block(&block);
                        match self.inner.store(block.clone(), expect).await {
                            Err(ConsensusError::Conflict { current, .. }) => {
                                self.resolve(read.base.as_ref(), &block, *current).await
                            }
                            other => other,
                        }
                    }
                },
                Err(e @ JournalError::Io { .. }) => Err(e.into()),
                Err(e) => Err(ConsensusError::Corrupt { address: op.address, why: e.to_string() }),
            };
            let settled = match outcome {
                Ok(()) => {
                    let dir = self.dir.clone();
                    let sequence = op.sequence;
                    blocking(&self.dir, move || record::delete(&dir, sequence)).await.map(|()| None)
                }
                Err(e) if !is_transient(&e) => {
                    let why = e.to_string();
                    tracing::warn!(
                        "the journaled {} of block {} (operation {}) was refused, kept in rejected/: {why}",
                        op.kind,
                        op.address,
                        op.sequence
                    );
                    let dir = self.dir.clone();
                    let (sequence, reason) = (op.sequence, why.clone());
                    blocking(&self.dir, move || record::reject(&dir, sequence, &reason)).await.map(|()| Some(why))
                }
                Err(e) => Err(JournalError::Io { path: self.dir.clone(), source: io::Error::other(e.to_string()) }),
            };
            match settled {
                Ok(rejected) => return self.settle(op, rejected),
                Err(e) => {
                    lock(&self.state).last_error = Some(e.to_string());
                    attempt = attempt.saturating_add(1);
                    let delay = self.options.retry_base.saturating_mul(attempt);
                    tokio::time::sleep(delay.min(self.options.retry_max)).await;
                }
            }
        }
    }

    /// Store `mine`'s change on top of `current`, which won the race, if a
    /// resolver can; else report the conflict. A resolved version that
    /// loses again is a conflict: the caller retries the whole operation.
    async fn resolve(&self, base: Option<&Block>, mine: &Block, current: Block) -> Result<(), ConsensusError> {
        let resolver = self.resolver.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let merged = resolver.and_then(|r| r.resolve(base, mine, &current));
        let Some(merged) = merged else {
            return Err(ConsensusError::Conflict { address: mine.address(), current: Box::new(current) });
        };
        let expect = Expect::for_block(&merged);
        match self.inner.store(merged, expect).await {
            // Raced again: the next attempt resolves against the newer version.
            Err(ConsensusError::Conflict { address, .. }) => {
                Err(ConsensusError::Indeterminate { address, why: "another writer raced the replay; retrying".into() })
            }
            other => other,
        }
    }

    /// Take `op` off the queue once applied (or rejected, with the reason).
    fn settle(&self, op: &OperationSummary, rejected: Option<String>) {
        let mut state = lock(&self.state);
        state.queue.pop_front();
        state.pending_bytes = state.pending_bytes.saturating_sub(op.size);
        if state.latest.get(&op.address).is_some_and(|l| l.sequence == op.sequence) {
            state.latest.remove(&op.address);
        }
        state.last_error = None;
        if let Some(why) = rejected {
            state.rejected.push(RejectedOperation { operation: op.clone(), why });
        }
        self.pending.send_replace(state.queue.len());
    }
}

/// The background task: push operations in order, forever.
async fn run(shared: Arc<Shared>) {
    loop {
        match shared.front() {
            Some(op) => shared.push(&op).await,
            None => shared.queued.notified().await,
        }
    }
}

/// Create and lock `dir`, clean crash leftovers and load pending operations.
fn load(dir: &Path) -> Result<(File, State), JournalError> {
    let mut builder = DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(io_at(dir))?;
    let lock_file = super::disk::lock_folder(dir, record::LOCK_FILE).map_err(|e| match e {
        super::disk::LockError::Busy => JournalError::Busy { path: dir.to_owned() },
        super::disk::LockError::Io(path, source) => JournalError::Io { path, source },
    })?;
    let mut state = State::default();
    let mut last = 0;
    for (sequence, path) in record::list(dir, true)? {
        let op = record::read(&path)?;
        state.pending_bytes += op.summary.size;
        state.latest.insert(op.summary.address, Latest { sequence, erases: false });
        state.queue.push_back(op.summary);
        last = sequence;
    }
    let rejected = dir.join(record::REJECTED_DIR);
    if rejected.is_dir()
        && let Some((sequence, _)) = record::list(&rejected, false)?.last()
    {
        last = last.max(*sequence);
    }
    state.next_sequence = last + 1;
    Ok((lock_file, state))
}

impl Consensus for AsyncJournal {
    fn fetch(&self, address: Address, level: ReadLevel) -> ConsensusFuture<'_, Fetched> {
        Box::pin(async move {
            match self.shared.pending(address).await? {
                Pending::Erased => Ok(Fetched::Absent),
                Pending::Block(block) => Ok(Fetched::from_stored(Some(*block))),
                Pending::None => self.shared.inner.fetch(address, level).await,
            }
        })
    }

    fn store(&self, block: Block, expect: Expect) -> ConsensusFuture<'_, ()> {
        Box::pin(async move {
            if let Block::Tombstone(_) = block {
                return Err(ConsensusError::Refused(BlockError::Invalid {
                    address: block.address(),
                    why: "a tombstone is stored through remove".into(),
                }));
            }
            self.append(block, expect).await
        })
    }

    fn remove(&self, tombstone: Tombstone) -> ConsensusFuture<'_, ()> {
        Box::pin(async move { self.append(Block::Tombstone(tombstone), Expect::Absent).await })
    }

    fn usage(&self) -> ConsensusFuture<'_, Usage> {
        self.shared.inner.usage()
    }
}
