//! The block model: every kind of block the network stores, its address
//! derivation, its canonical binary encoding and the checks a node runs
//! before storing a block (signatures, write rights, address binding) and
//! before replacing one (versions strictly increase; see [`validate`]).
//!
//! Kinds: [`ContentBlock`] (immutable, content-addressed), [`OwnerBlock`]
//! (single-owner mutable), [`AclBlock`] (access-controlled mutable, data
//! sealed per reader), [`NamedBlock`] (signed pointer), [`UserBlock`]
//! (name ↔ key), [`GroupBlock`] (members and admins) and [`Tombstone`]
//! (authenticated removal).

mod acl;
mod address;
mod content;
mod error;
mod group;
mod mutable;
mod named;
mod tombstone;
mod user;
pub mod validate;
pub mod wire;

#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

use crate::crypto::PublicKey;

pub use acl::{AccessList, AclBlock, AclEntry};
pub use address::Address;
pub use content::ContentBlock;
pub use error::{BlockError, Conflict, ConflictReason};
pub use group::GroupBlock;
pub use mutable::OwnerBlock;
pub use named::NamedBlock;
pub use tombstone::Tombstone;
pub use user::{UserBlock, UserDirection};

/// The version after `version` of the block at `address`; refused at the
/// last possible version instead of overflowing.
pub fn next_version(address: Address, version: u64) -> Result<u64, BlockError> {
    version.checked_add(1).ok_or_else(|| BlockError::Invalid {
        address,
        why: format!("version {version} is the last possible version: the block cannot change any more"),
    })
}

/// Any block the network stores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Block {
    /// Immutable content-addressed bytes.
    Content(ContentBlock),
    /// Mutable block with a single writer.
    Mutable(OwnerBlock),
    /// Mutable block with an access list.
    Acl(AclBlock),
    /// Immutable signed pointer from (owner, name).
    Named(NamedBlock),
    /// Immutable binding between a user name and key.
    User(UserBlock),
    /// Mutable group membership.
    Group(GroupBlock),
    /// Authenticated removal of the block at its address.
    Tombstone(Tombstone),
}

/// The kind of a block, for messages and dispatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BlockKind {
    /// [`ContentBlock`].
    Content,
    /// [`OwnerBlock`].
    Mutable,
    /// [`AclBlock`].
    Acl,
    /// [`NamedBlock`].
    Named,
    /// [`UserBlock`].
    User,
    /// [`GroupBlock`].
    Group,
    /// [`Tombstone`].
    Tombstone,
}

impl std::fmt::Display for BlockKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BlockKind::Content => "content block",
            BlockKind::Mutable => "mutable block",
            BlockKind::Acl => "access-controlled block",
            BlockKind::Named => "named block",
            BlockKind::User => "user block",
            BlockKind::Group => "group block",
            BlockKind::Tombstone => "tombstone",
        })
    }
}

impl Block {
    /// The address this block derives (a tombstone's: the one it removes).
    pub fn address(&self) -> Address {
        match self {
            Block::Content(b) => b.address(),
            Block::Mutable(b) => b.address(),
            Block::Acl(b) => b.address(),
            Block::Named(b) => b.address(),
            Block::User(b) => b.address(),
            Block::Group(b) => b.address(),
            Block::Tombstone(b) => b.address,
        }
    }

    /// The version: mutable blocks and tombstones carry one, immutable blocks are 0.
    pub fn version(&self) -> u64 {
        match self {
            Block::Content(_) | Block::Named(_) | Block::User(_) => 0,
            Block::Mutable(b) => b.version,
            Block::Acl(b) => b.version,
            Block::Group(b) => b.version,
            Block::Tombstone(b) => b.version,
        }
    }

    /// What a tombstone binds to: the address of a content block (which
    /// its content derives), else a hash of the canonical encoding.
    pub fn digest(&self) -> [u8; 32] {
        match self {
            Block::Content(b) => b.address().0,
            other => match other.encode() {
                Ok(bytes) => crate::crypto::hash::hash("infinit/block/digest/v1", &[&bytes]),
                // Unencodable blocks are never stored; no tombstone can match.
                Err(_) => [0xff; 32],
            },
        }
    }

    /// The key that signed this version, i.e. who asks for it to be stored:
    /// the writer of a mutable block, the publisher of a named or user
    /// block, the remover of a tombstone. Content blocks carry no signature.
    pub fn signer(&self) -> Option<PublicKey> {
        match self {
            Block::Content(_) => None,
            Block::Mutable(b) => Some(b.owner),
            Block::Acl(b) => Some(b.editor),
            Block::Named(b) => Some(b.owner),
            Block::User(b) => Some(b.key),
            Block::Group(b) => Some(b.editor),
            Block::Tombstone(b) => Some(b.signer),
        }
    }

    /// The kind of this block.
    pub fn kind(&self) -> BlockKind {
        match self {
            Block::Content(_) => BlockKind::Content,
            Block::Mutable(_) => BlockKind::Mutable,
            Block::Acl(_) => BlockKind::Acl,
            Block::Named(_) => BlockKind::Named,
            Block::User(_) => BlockKind::User,
            Block::Group(_) => BlockKind::Group,
            Block::Tombstone(_) => BlockKind::Tombstone,
        }
    }

    /// Whether new versions may replace this block (through consensus).
    pub fn is_mutable(&self) -> bool {
        matches!(self, Block::Mutable(_) | Block::Acl(_) | Block::Group(_))
    }

    /// The canonical bytes: a format-version byte then the postcard encoding.
    pub fn encode(&self) -> Result<Vec<u8>, BlockError> {
        wire::encode(self)
    }

    /// The content block at `address` as a removal needs it, from the
    /// first bytes of its encoding: a stand-in holding its owner
    /// ([`ContentBlock::stand_in`]). `None` if `head` does not start a
    /// content block of this format.
    pub fn content_head(head: &[u8], address: Address) -> Option<Block> {
        /// The start of [`Block`]'s encoding when it is content: the
        /// variant, then [`ContentBlock`]'s first field.
        #[derive(Deserialize)]
        enum Head {
            Content(Owner),
        }
        #[derive(Deserialize)]
        struct Owner {
            owner: Option<Address>,
        }
        let (&version, body) = head.split_first()?;
        if version != wire::FORMAT_VERSION {
            return None;
        }
        let (Head::Content(Owner { owner }), _) = postcard::take_from_bytes::<Head>(body).ok()?;
        Some(Block::Content(ContentBlock::stand_in(owner, address)))
    }

    /// Parse [`Block::encode`]'s output; unknown versions and trailing bytes are refused.
    pub fn decode(bytes: &[u8]) -> Result<Block, BlockError> {
        wire::decode(bytes)
    }

    /// Check this block alone: address binding, signatures, rights, structure.
    pub fn validate_alone(&self, address: &Address) -> Result<(), BlockError> {
        match self {
            Block::Content(b) => b.validate(address),
            Block::Mutable(b) => b.validate(address),
            Block::Acl(b) => b.validate(address),
            Block::Named(b) => b.validate(address),
            Block::User(b) => b.validate(address),
            Block::Group(b) => b.validate(address),
            Block::Tombstone(b) => b.validate(address),
        }
    }

    /// Check that this block may be stored at `address` in place of `previous`
    /// (the block currently stored there, if any). A lost race is reported as
    /// [`BlockError::Conflict`] carrying the current block.
    pub fn validate(&self, address: &Address, previous: Option<&Block>) -> Result<(), BlockError> {
        self.validate_removing(address, previous, None)
    }

    /// [`Block::validate`], with the owner block needed to authorize a
    /// tombstone for a content block that has an owner.
    pub fn validate_removing(
        &self,
        address: &Address,
        previous: Option<&Block>,
        content_owner: Option<&Block>,
    ) -> Result<(), BlockError> {
        self.validate_alone(address)?;
        match previous {
            None => validate::first(self),
            Some(previous) => validate::successor(self, previous, content_owner),
        }
    }
}
