//! Why a block is refused, and the conflict a writer gets when another
//! version won: it carries the current block so the writer can replay its
//! intent (e.g. "insert entry X") on it and try again at the next version.

use super::{Address, Block};
use crate::crypto::CryptoError;

/// What went wrong while decoding, building, validating or reading a block.
#[derive(Debug, thiserror::Error)]
pub enum BlockError {
    /// The bytes are not a block of this format.
    #[error("malformed block: {why}")]
    Malformed { why: String },
    /// The format-version byte is one this build cannot read.
    #[error("unsupported block format version {found} (this build reads version {supported})")]
    UnsupportedFormat { found: u8, supported: u8 },
    /// Bytes follow the end of the encoded block.
    #[error("malformed block: {count} trailing bytes after the block")]
    TrailingBytes { count: usize },
    /// The block's content does not derive the address it is stored at.
    #[error("block does not belong at {expected}: its content derives {computed}")]
    AddressMismatch { expected: Address, computed: Address },
    /// A signature does not verify.
    #[error("block {address}: bad {what} signature")]
    BadSignature { address: Address, what: &'static str },
    /// The signer has no right to make this change.
    #[error("block {address}: key {key} may not {action}")]
    Denied { address: Address, key: String, action: &'static str },
    /// The block is internally inconsistent.
    #[error("block {address}: {why}")]
    Invalid { address: Address, why: String },
    /// The given key holds no secret for this block's data.
    #[error("block {address}: key {key} is not a reader")]
    NotReader { address: Address, key: String },
    /// Another version is already stored; see [`Conflict`].
    #[error("{0}")]
    Conflict(Box<Conflict>),
    /// The address was removed and mutable addresses are never reused.
    #[error("block {address} was removed")]
    Removed { address: Address },
    /// Removing an owned content block needs the owning block to check rights.
    #[error("removing content block {address} requires its owner block {owner}")]
    OwnerBlockNeeded { address: Address, owner: Address },
    /// The operating system's random generator failed while building a block.
    #[error("cannot build a block: {0}")]
    Randomness(CryptoError),
    /// A cryptographic operation failed while building or reading a block.
    #[error("block {address}: {source}")]
    Crypto { address: Address, source: CryptoError },
}

impl BlockError {
    /// The conflict, if this error is one.
    pub fn conflict(&self) -> Option<&Conflict> {
        match self {
            BlockError::Conflict(c) => Some(c),
            _ => None,
        }
    }

    /// Take the conflict out of this error, if it is one.
    pub fn into_conflict(self) -> Option<Conflict> {
        match self {
            BlockError::Conflict(c) => Some(*c),
            _ => None,
        }
    }
}

/// A write lost against the block currently stored at the same address.
#[derive(Debug, Clone)]
pub struct Conflict {
    /// Why the write was refused.
    pub reason: ConflictReason,
    /// The block that stays current; replay the write's intent on it.
    pub current: Block,
}

/// Why a write conflicts with the current block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictReason {
    /// The new version is lower than the current one.
    Rollback { current: u64, proposed: u64 },
    /// The same version already holds different content.
    SameVersion { version: u64 },
    /// The new version was built on an access list older than the current one.
    StaleAccessList { current: u64, proposed: u64 },
    /// An immutable block with different content already exists here.
    ImmutableExists,
    /// A tombstone with a different signer or version already removed it.
    AlreadyRemoved,
}

impl Conflict {
    /// Wrap into a [`BlockError`].
    pub fn into_error(self) -> BlockError {
        BlockError::Conflict(Box::new(self))
    }

    /// The block that stays current.
    pub fn current(&self) -> &Block {
        &self.current
    }
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let address = self.current.address();
        match self.reason {
            ConflictReason::Rollback { current, proposed } => {
                write!(f, "conflict on {address}: version {proposed} is older than the current version {current}")
            }
            ConflictReason::SameVersion { version } => {
                write!(f, "conflict on {address}: version {version} already holds different content")
            }
            ConflictReason::StaleAccessList { current, proposed } => {
                write!(f, "conflict on {address}: written against access list version {proposed}, current is {current}")
            }
            ConflictReason::ImmutableExists => {
                write!(f, "conflict on {address}: an immutable block with different content is stored here")
            }
            ConflictReason::AlreadyRemoved => write!(f, "conflict on {address}: already removed"),
        }
    }
}
