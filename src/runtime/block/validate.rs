//! Whether a block may replace the one stored at its address: the version
//! order and the rules per kind. Versions strictly increase; re-storing an
//! identical block is idempotent; an older or different same-version block is
//! a [`Conflict`] carrying the current block. Immutable blocks never change;
//! a removed mutable address is never reused (its tombstone stays, so old
//! versions cannot be replayed), while an immutable one may be stored again.

use std::cmp::Ordering;

use super::{Block, BlockError, Conflict, ConflictReason};

/// Rules for a block stored where nothing is.
pub fn first(block: &Block) -> Result<(), BlockError> {
    match block {
        Block::Tombstone(t) => {
            Err(BlockError::Invalid { address: t.address, why: "nothing is stored here to remove".into() })
        }
        _ => Ok(()),
    }
}

/// Rules for `new` replacing `previous` at the same address; both are
/// assumed individually valid (see [`Block::validate_alone`]).
pub fn successor(new: &Block, previous: &Block, content_owner: Option<&Block>) -> Result<(), BlockError> {
    let conflict = |reason| Err(Conflict { reason, current: previous.clone() }.into_error());
    let address = previous.address();
    match (new, previous) {
        (Block::Tombstone(t), Block::Tombstone(p)) => {
            if t == p {
                Ok(())
            } else {
                conflict(ConflictReason::AlreadyRemoved)
            }
        }
        (_, Block::Tombstone(_)) => {
            if new.is_mutable() {
                Err(BlockError::Removed { address })
            } else {
                Ok(())
            }
        }
        (Block::Tombstone(t), target) => {
            version_order(new, previous)?;
            if !t.matches(target) {
                return Err(BlockError::Invalid {
                    address,
                    why: format!("the tombstone removes another version than the current one ({})", target.version()),
                });
            }
            t.authorize(target, content_owner)
        }
        _ if new.kind() != previous.kind() => {
            Err(BlockError::Invalid { address, why: format!("a {} cannot replace a {}", new.kind(), previous.kind()) })
        }
        _ if !new.is_mutable() => {
            if new == previous {
                Ok(())
            } else {
                conflict(ConflictReason::ImmutableExists)
            }
        }
        _ => {
            if new == previous {
                return Ok(());
            }
            version_order(new, previous)?;
            match (new, previous) {
                (Block::Acl(n), Block::Acl(p)) => {
                    rights_order(n.access_version, p.access_version, n.access == p.access, previous)
                }
                (Block::Group(n), Block::Group(p)) => {
                    rights_order(n.admins_version, p.admins_version, n.admins == p.admins, previous)
                }
                _ => Ok(()),
            }
        }
    }
}

/// `new` must be strictly newer than `previous` (identical blocks are handled before).
fn version_order(new: &Block, previous: &Block) -> Result<(), BlockError> {
    let (proposed, current) = (new.version(), previous.version());
    let reason = match proposed.cmp(&current) {
        Ordering::Greater => return Ok(()),
        Ordering::Equal => ConflictReason::SameVersion { version: current },
        Ordering::Less => ConflictReason::Rollback { current, proposed },
    };
    Err(Conflict { reason, current: previous.clone() }.into_error())
}

/// The owner-signed rights part (access list, admin list) must not go back,
/// and one rights version names one list: a writer who lost rights cannot
/// reattach the older list that granted them.
fn rights_order(proposed: u64, current: u64, same_list: bool, previous: &Block) -> Result<(), BlockError> {
    if proposed > current || (proposed == current && same_list) {
        return Ok(());
    }
    let reason = ConflictReason::StaleAccessList { current, proposed };
    Err(Conflict { reason, current: previous.clone() }.into_error())
}
