//! Signed tombstones: every removal names the address, the version right
//! above the removed block's and that block's digest, and the remover's
//! key, signed by that key: a tombstone removes exactly one version of one
//! block, so an old tombstone cannot be replayed on a newer version. Who may remove
//! depends on the removed block: its owner, an access-list writer, the key a
//! user block names, or a writer of the block that owns a content block.

use serde::{Deserialize, Serialize};

use super::{Address, Block, BlockError, wire};
use crate::crypto::{Canonical, KeyPair, PublicKey, Signature};

/// Domain of the remover's signature.
const SIGNED: &str = "infinit/block/tombstone/v2";

/// An authenticated request to remove the block at `address`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tombstone {
    /// The removed block's address.
    pub address: Address,
    /// The removed block's version + 1 (immutable blocks count as 0).
    pub version: u64,
    /// The removed block's [`Block::digest`].
    pub removes: [u8; 32],
    /// The remover.
    #[serde(with = "wire::key")]
    pub signer: PublicKey,
    /// The remover's signature over address, version, digest and key.
    #[serde(with = "wire::signature")]
    pub signature: Signature,
}

impl Tombstone {
    /// A tombstone removing `current`, one version above it; refused if
    /// `current` is at the last possible version.
    pub fn for_block(remover: &KeyPair, current: &Block) -> Result<Self, BlockError> {
        let address = current.address();
        let version = current.version().checked_add(1).ok_or_else(|| BlockError::Invalid {
            address,
            why: "the block is at the last possible version and cannot be removed".into(),
        })?;
        Ok(Self::sign(remover, address, version, current.digest()))
    }

    /// A tombstone removing the content block at `address` (whose digest is its address).
    pub fn for_content(remover: &KeyPair, address: Address) -> Self {
        Self::sign(remover, address, 1, address.0)
    }

    /// A tombstone for `address` at `version`, removing the block of digest `removes`.
    pub fn sign(remover: &KeyPair, address: Address, version: u64, removes: [u8; 32]) -> Self {
        let signer = remover.public();
        let signature = remover.sign(&signed_bytes(&address, version, &removes, &signer));
        Tombstone { address, version, removes, signer, signature }
    }

    /// Whether this tombstone removes exactly `target` (its version and digest).
    pub fn matches(&self, target: &Block) -> bool {
        target.version().checked_add(1) == Some(self.version) && target.digest() == self.removes
    }

    /// Check the address and the remover's signature.
    pub fn validate(&self, address: &Address) -> Result<(), BlockError> {
        if self.address != *address {
            return Err(BlockError::AddressMismatch { expected: *address, computed: self.address });
        }
        self.signer
            .verify(&signed_bytes(&self.address, self.version, &self.removes, &self.signer), &self.signature)
            .map_err(|_| BlockError::BadSignature { address: *address, what: "tombstone" })
    }

    /// Check that the signer may remove `target`. Removing a content block
    /// with an owner needs that owner block (or its tombstone) as `content_owner`.
    pub fn authorize(&self, target: &Block, content_owner: Option<&Block>) -> Result<(), BlockError> {
        let allowed = match target {
            Block::Content(content) => match (&content.owner, content_owner) {
                (None, _) => true,
                (Some(owner), None) => {
                    return Err(BlockError::OwnerBlockNeeded { address: self.address, owner: *owner });
                }
                (Some(owner), Some(block)) if block.address() != *owner => {
                    return Err(BlockError::Invalid {
                        address: self.address,
                        why: format!("owner block given is {}, not {owner}", block.address()),
                    });
                }
                // A removed owner leaves its content blocks as garbage anyone may collect.
                (Some(_), Some(Block::Tombstone(_))) => true,
                (Some(_), Some(Block::Acl(acl))) => acl.can_write(&self.signer),
                (Some(_), Some(Block::Mutable(okb))) => okb.owner == self.signer,
                (Some(_), Some(_)) => false,
            },
            Block::Mutable(okb) => okb.owner == self.signer,
            Block::Acl(acl) => acl.can_write(&self.signer),
            Block::Named(named) => named.owner == self.signer,
            Block::User(user) => user.key == self.signer,
            Block::Group(group) => group.owner == self.signer,
            Block::Tombstone(_) => false,
        };
        if allowed {
            Ok(())
        } else {
            Err(BlockError::Denied {
                address: self.address,
                key: self.signer.short_hash(),
                action: "remove this block",
            })
        }
    }
}

fn signed_bytes(address: &Address, version: u64, removes: &[u8; 32], signer: &PublicKey) -> Vec<u8> {
    Canonical::new(SIGNED).bytes(&address.0).u64(version).bytes(removes).bytes(&signer.to_bytes()).finish()
}
