//! Consensus: how a block gets stored, fetched and removed on the network.
//! Everything above (the file system, the key-value store) sees only the
//! [`Consensus`] trait; the single-node implementation here and the
//! multi-node Paxos one implement the same contract:
//!
//! - every block is validated before it is stored and after it is fetched;
//! - `fetch` takes a [`ReadLevel`] and tells a block that was never stored
//!   ([`Fetched::Absent`]) from one that was removed ([`Fetched::Removed`]);
//!   not reaching enough replicas is [`ConsensusError::Unavailable`], never
//!   "absent", so a caller never mistakes an outage for an empty volume;
//! - `store` is a compare-and-swap on an [`Expect`]ation: a new version of a
//!   mutable block is exactly the expected one + 1, so two writers can never
//!   both win, and the loser gets [`ConsensusError::Conflict`] with the
//!   current block to replay its intent on;
//! - a removal is a signed tombstone bound to the address, version and
//!   digest of what it removes, so an old tombstone cannot be replayed on a
//!   newer version, and a removed mutable address is never reused;
//! - a tombstone is kept for a grace period, then a node may collect it
//!   once its freshness floor durably remembers the removal: the address
//!   then fetches as [`Fetched::Collected`] (removed, without the signed
//!   proof), and stores on it are still refused.
//!
//! Callers decide what to do with an error through [`ConsensusError::is_retryable`].

pub mod authorized;
pub mod faulty;
pub mod fresh;
pub mod linearizability;
pub mod paxos;
pub mod replicated;
pub mod single;

use std::future::Future;
use std::pin::Pin;

pub use authorized::{Authorized, Member, Rights as MemberRights};
pub use faulty::{Fault, FaultyConsensus, Target as FaultTarget};
pub use fresh::Fresh;
pub use single::{SingleNode, Swept, TOMBSTONE_GRACE};

use super::block::{Address, Block, BlockError, Tombstone};
use super::silo::SiloError;

/// A boxed future returned by [`Consensus`] methods.
pub type ConsensusFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, ConsensusError>> + Send + 'a>>;

/// The future of [`Consensus::fetch_many`]: one result per address.
pub type BatchFuture<'a> = Pin<Box<dyn Future<Output = Vec<Result<Fetched, ConsensusError>>> + Send + 'a>>;

/// How fresh a fetched mutable block must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadLevel {
    /// The highest version chosen (a majority read on a network).
    Latest,
    /// Any valid version a replica (or a cache) holds.
    Any,
    /// A version at least this high (read-your-writes after a store).
    AtLeast(u64),
}

impl ReadLevel {
    /// Whether a copy at `version` satisfies this level without asking further.
    pub fn accepts_cached(self, version: u64) -> bool {
        match self {
            ReadLevel::Latest => false,
            ReadLevel::Any => true,
            ReadLevel::AtLeast(floor) => version >= floor,
        }
    }
}

/// What a fetch found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// A valid block.
    Found(Block),
    /// Nothing was ever stored here (or an immutable block was collected).
    Absent,
    /// The block was removed by this tombstone.
    Removed(Tombstone),
    /// The block was removed long enough ago that its tombstone was
    /// collected; the node remembers only the tombstone's version (its
    /// freshness floor), so nothing can be stored here again.
    Collected {
        /// The collected tombstone's version.
        version: u64,
    },
}

impl Fetched {
    /// The block, if one was found.
    pub fn into_block(self) -> Option<Block> {
        match self {
            Fetched::Found(b) => Some(b),
            Fetched::Absent | Fetched::Removed(_) | Fetched::Collected { .. } => None,
        }
    }

    /// The block, if one was found.
    pub fn block(&self) -> Option<&Block> {
        match self {
            Fetched::Found(b) => Some(b),
            Fetched::Absent | Fetched::Removed(_) | Fetched::Collected { .. } => None,
        }
    }

    /// Whether the block was removed (tombstone kept or collected).
    pub fn is_removed(&self) -> bool {
        matches!(self, Fetched::Removed(_) | Fetched::Collected { .. })
    }

    /// From the raw stored block (a tombstone means removed).
    pub fn from_stored(stored: Option<Block>) -> Fetched {
        match stored {
            None => Fetched::Absent,
            Some(Block::Tombstone(t)) => Fetched::Removed(t),
            Some(b) => Fetched::Found(b),
        }
    }
}

/// What a store expects to replace: the compare of compare-and-swap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Nothing is stored at the address (a new block). Immutable blocks are
    /// always stored with this; storing an identical one again succeeds.
    Absent,
    /// The current version is exactly this one; the new block is the next.
    Version(u64),
}

impl Expect {
    /// The only expectation under which `block` can be stored: a mutable
    /// block at version `n + 1` replaces version `n`, version 1 and
    /// immutable blocks replace nothing.
    pub fn for_block(block: &Block) -> Expect {
        match block.version() {
            v if block.is_mutable() && v > 1 => Expect::Version(v - 1),
            _ => Expect::Absent,
        }
    }
}

/// Why a consensus operation failed. [`ConsensusError::is_retryable`] says
/// whether trying the same operation again may succeed.
#[derive(Debug, thiserror::Error)]
pub enum ConsensusError {
    /// The expectation did not hold: another version is current. Replay the
    /// intent on `current` and store at its version + 1.
    #[error("block {address} was changed by another writer (now at version {})", current.version())]
    Conflict { address: Address, current: Box<Block> },
    /// A new version was built on `version`, but nothing is stored.
    #[error("block {address} is missing (version {version} was expected)")]
    Missing { address: Address, version: u64 },
    /// A store or removal aimed at a block that was removed.
    #[error("block {address} was removed")]
    Removed { address: Address },
    /// The signer has no right to make this change.
    #[error("unauthorized: {0}")]
    Unauthorized(BlockError),
    /// The block was refused (malformed, bad signature, wrong version order).
    #[error(transparent)]
    Refused(BlockError),
    /// The next version would not fit in 64 bits.
    #[error("block {address} is at the last possible version ({version}) and cannot change any more")]
    VersionOverflow { address: Address, version: u64 },
    /// Too few replicas answered.
    #[error("only {reached} of the {needed} replicas needed could be reached")]
    Unavailable { reached: usize, needed: usize },
    /// The operation did not finish in time; it did not take effect.
    #[error("timed out on block {address}")]
    Timeout { address: Address },
    /// The operation may or may not have taken effect (a reply was lost).
    #[error("block {address}: the outcome is unknown ({why})")]
    Indeterminate { address: Address, why: String },
    /// A stored block does not decode or validate: it was altered at rest.
    #[error("block {address} is corrupt in the silo: {why}")]
    Corrupt { address: Address, why: String },
    /// A replica returned a version older than one already seen.
    #[error("block {address}: version {got} returned, but version {floor} was seen before (rolled back storage?)")]
    Rollback { address: Address, floor: u64, got: u64 },
    /// The silo failed (full, I/O).
    #[error(transparent)]
    Silo(#[from] SiloError),
    /// The versions this node has seen could not be read: nothing is
    /// served or stored unchecked.
    #[error(transparent)]
    Floor(#[from] crate::runtime::freshness::FreshnessError),
}

impl From<BlockError> for ConsensusError {
    fn from(e: BlockError) -> Self {
        match e {
            BlockError::Conflict(c) => {
                ConsensusError::Conflict { address: c.current.address(), current: Box::new(c.current) }
            }
            BlockError::Removed { address } => ConsensusError::Removed { address },
            e @ BlockError::Denied { .. } => ConsensusError::Unauthorized(e),
            e => ConsensusError::Refused(e),
        }
    }
}

impl ConsensusError {
    /// Whether the same operation may succeed if tried again later: the
    /// network or the silo may recover. Conflicts need a replay, not a retry;
    /// refusals, corruption and rollbacks will not change by themselves.
    pub fn is_retryable(&self) -> bool {
        match self {
            ConsensusError::Unavailable { .. }
            | ConsensusError::Timeout { .. }
            | ConsensusError::Indeterminate { .. } => true,
            ConsensusError::Silo(e) => !matches!(e, SiloError::Invalid { .. }),
            _ => false,
        }
    }

    /// The current block, if this error is a lost race.
    pub fn into_conflict(self) -> Result<Block, ConsensusError> {
        match self {
            ConsensusError::Conflict { current, .. } => Ok(*current),
            other => Err(other),
        }
    }

    /// Whether this error is a lost race.
    pub fn is_conflict(&self) -> bool {
        matches!(self, ConsensusError::Conflict { .. })
    }

    /// The current block a conflict carries, if this error is one.
    pub fn conflict_current(&self) -> Option<&Block> {
        match self {
            ConsensusError::Conflict { current, .. } => Some(current),
            _ => None,
        }
    }
}

/// Check that `block` may be stored under `expect` given `previous`, the
/// block currently stored at its address (tombstones included). Every
/// implementation runs this (against the value chosen so far), then
/// [`Block::validate`] for signatures and rights. `Ok(true)` means the
/// block is already stored: nothing to do.
pub fn check_expectation(block: &Block, expect: Expect, previous: Option<&Block>) -> Result<bool, ConsensusError> {
    let address = block.address();
    if previous == Some(block) {
        return Ok(true);
    }
    let conflict = |current: &Block| ConsensusError::Conflict { address, current: Box::new(current.clone()) };
    if !block.is_mutable() {
        return match previous {
            None | Some(Block::Tombstone(_)) => Ok(false),
            Some(current) => Err(conflict(current)),
        };
    }
    match (expect, previous) {
        (_, Some(Block::Tombstone(_))) => Err(ConsensusError::Removed { address }),
        (Expect::Absent, None) => {
            if block.version() == 1 {
                Ok(false)
            } else {
                Err(ConsensusError::Refused(BlockError::Invalid {
                    address,
                    why: format!("a new block starts at version 1, not {}", block.version()),
                }))
            }
        }
        (Expect::Absent, Some(current)) => Err(conflict(current)),
        (Expect::Version(version), None) => Err(ConsensusError::Missing { address, version }),
        (Expect::Version(v), Some(current)) => {
            if current.version() != v {
                return Err(conflict(current));
            }
            let next = v.checked_add(1).ok_or(ConsensusError::VersionOverflow { address, version: v })?;
            if block.version() != next {
                return Err(ConsensusError::Refused(BlockError::Invalid {
                    address,
                    why: format!("version {} does not follow version {v}", block.version()),
                }));
            }
            Ok(false)
        }
    }
}

/// Bytes of a stored block a removal reads first: every node, directory
/// shard and tombstone fits, a file chunk does not.
const REMOVAL_HEAD: usize = 4096;

/// What a removal read of the block stored at an address.
#[derive(Debug)]
pub(super) enum ForRemoval {
    /// Nothing is stored there.
    Absent,
    /// A content block larger than [`REMOVAL_HEAD`], as its stand-in
    /// ([`Block::content_head`]): the removal checks its owner and erases
    /// it, so its data is neither read nor hashed.
    Content(Box<Block>),
    /// The whole stored encoding, for the caller to decode.
    Whole(Vec<u8>),
}

/// Read the block stored at `address` in `silo` as far as its removal
/// needs: the first [`REMOVAL_HEAD`] bytes, and the rest only if they are
/// not the start of a content block.
pub(super) async fn read_for_removal(silo: &dyn super::silo::Silo, address: Address) -> Result<ForRemoval, SiloError> {
    let head = match silo.get_head(address, REMOVAL_HEAD + 1).await {
        Ok(head) => head,
        Err(SiloError::NotFound { .. }) => return Ok(ForRemoval::Absent),
        Err(e) => return Err(e),
    };
    if head.len() <= REMOVAL_HEAD {
        return Ok(ForRemoval::Whole(head));
    }
    if let Some(stand_in) = Block::content_head(&head, address) {
        return Ok(ForRemoval::Content(Box::new(stand_in)));
    }
    match silo.get(address).await {
        Ok(whole) => Ok(ForRemoval::Whole(whole)),
        Err(SiloError::NotFound { .. }) => Ok(ForRemoval::Absent),
        Err(e) => Err(e),
    }
}

/// Space used and offered by the nodes storing a network's blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// Bytes stored.
    pub used: u64,
    /// Bytes offered; `None` is unlimited.
    pub capacity: Option<u64>,
    /// Bytes of the capacity file content may not use (kept for the
    /// nodes and tombstones that deleting writes).
    pub reserved: u64,
}

/// Store, fetch and remove blocks with per-block agreement.
pub trait Consensus: Send + Sync + std::fmt::Debug {
    /// Fetch and validate the block at `address` at read level `level`.
    fn fetch(&self, address: Address, level: ReadLevel) -> ConsensusFuture<'_, Fetched>;

    /// Fetch and validate the blocks at `addresses`, each exactly as
    /// [`Consensus::fetch`] would (same checks, same errors), one result
    /// per address in order. Layers that can read several blocks for the
    /// price of one hand-off override it; the default fetches them
    /// concurrently.
    fn fetch_many(&self, addresses: Vec<Address>, level: ReadLevel) -> BatchFuture<'_> {
        Box::pin(futures_util::future::join_all(addresses.into_iter().map(move |a| self.fetch(a, level))))
    }

    /// Store a new block or a new version of one, if `expect` holds.
    fn store(&self, block: Block, expect: Expect) -> ConsensusFuture<'_, ()>;

    /// Remove the block a tombstone names (a no-op if nothing is there).
    fn remove(&self, tombstone: Tombstone) -> ConsensusFuture<'_, ()>;

    /// Space used and offered.
    fn usage(&self) -> ConsensusFuture<'_, Usage>;

    /// Make every change accepted so far durable.
    fn sync(&self) -> ConsensusFuture<'_, ()> {
        Box::pin(async { Ok(()) })
    }
}

/// Resolves a lost race on a write made earlier and replayed later (the
/// write-back journal): `mine` was built on `base`, but `current` won.
/// The file system implements it by replaying what changed from `base` to
/// `mine` as intents on `current`.
pub trait ConflictResolver: Send + Sync + std::fmt::Debug {
    /// The next version of `current` with `mine`'s change applied, or
    /// `None` if the change cannot apply (the write is then refused).
    fn resolve(&self, base: Option<&Block>, mine: &Block, current: &Block) -> Option<Block>;
}

/// Shorthands over [`Consensus`] for callers that store the next version
/// of what they read and read the latest.
pub trait ConsensusExt: Consensus {
    /// Store `block` under the only expectation it fits ([`Expect::for_block`]).
    fn store_next(&self, block: Block) -> ConsensusFuture<'_, ()> {
        let expect = Expect::for_block(&block);
        self.store(block, expect)
    }

    /// The latest block at `address`, `None` if absent or removed.
    fn fetch_block(&self, address: Address) -> ConsensusFuture<'_, Option<Block>> {
        let fetched = self.fetch(address, ReadLevel::Latest);
        Box::pin(async move { Ok(fetched.await?.into_block()) })
    }
}

impl<C: Consensus + ?Sized> ConsensusExt for C {}

#[cfg(test)]
mod tests;
