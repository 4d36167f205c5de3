//! Consensus: how a block gets stored, fetched and removed on the network.
//! Everything above (the file system, the key-value store) sees only the
//! [`Consensus`] trait; the single-node implementation here and the
//! multi-node Paxos one implement the same contract: every block is
//! validated before it is stored and after it is fetched, versions only go
//! up, and a lost race returns the current block as a conflict.

pub mod single;

use std::future::Future;
use std::pin::Pin;

pub use single::SingleNode;

use super::block::{Address, Block, BlockError, Tombstone};
use super::silo::SiloError;

/// A boxed future returned by [`Consensus`] methods.
pub type ConsensusFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, ConsensusError>> + Send + 'a>>;

/// Why a consensus operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ConsensusError {
    /// The block was refused (bad signature, no right, rollback) or lost a
    /// race ([`BlockError::Conflict`] carries the current block).
    #[error(transparent)]
    Block(#[from] BlockError),
    /// The silo failed (full, I/O).
    #[error(transparent)]
    Silo(#[from] SiloError),
    /// A stored block does not decode or validate: it was altered at rest.
    #[error("block {address} is corrupt in the silo: {why}")]
    Corrupt { address: Address, why: String },
}

impl ConsensusError {
    /// The conflict, if this error is a lost race.
    pub fn into_conflict(self) -> Result<Block, ConsensusError> {
        match self {
            ConsensusError::Block(e) => match e.into_conflict() {
                Some(c) => Ok(c.current().clone()),
                None => Err(ConsensusError::Block(BlockError::Malformed { why: "not a conflict".into() })),
            },
            other => Err(other),
        }
    }

    /// Whether this error is a lost race.
    pub fn is_conflict(&self) -> bool {
        matches!(self, ConsensusError::Block(e) if e.conflict().is_some())
    }
}

/// Space used and offered by the nodes storing a network's blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// Bytes stored.
    pub used: u64,
    /// Bytes offered; `None` is unlimited.
    pub capacity: Option<u64>,
}

/// Store, fetch and remove blocks with per-block agreement.
pub trait Consensus: Send + Sync + std::fmt::Debug {
    /// Fetch and validate the block at `address`; `None` if there is none
    /// (or it was removed).
    fn fetch(&self, address: Address) -> ConsensusFuture<'_, Option<Block>>;

    /// Store a new block or a new version of one.
    fn store(&self, block: Block) -> ConsensusFuture<'_, ()>;

    /// Remove the block a tombstone names.
    fn remove(&self, tombstone: Tombstone) -> ConsensusFuture<'_, ()>;

    /// Space used and offered.
    fn usage(&self) -> ConsensusFuture<'_, Usage>;

    /// Make every change accepted so far durable.
    fn sync(&self) -> ConsensusFuture<'_, ()> {
        Box::pin(async { Ok(()) })
    }
}
