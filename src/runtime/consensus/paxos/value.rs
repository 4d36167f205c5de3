//! What one Paxos register holds and how it may change: node ids, ballots,
//! the register value (the block and its replica set) and the quorum
//! arithmetic of a replica set. All the version and membership rules the
//! acceptors enforce live here, in one place, with unit tests.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::crypto::canonical::Canonical;
use crate::crypto::hash;

/// A node of the network: the fingerprint of its node key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct NodeId(pub [u8; 32]);

impl NodeId {
    /// A node id whose first eight bytes are `n` (tests and models).
    pub fn from_index(n: u64) -> NodeId {
        let mut id = [0u8; 32];
        id[..8].copy_from_slice(&n.to_be_bytes());
        NodeId(id)
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0[8..].iter().all(|b| *b == 0) {
            // An index-made id (tests, models): print the index.
            let mut n = [0u8; 8];
            n.copy_from_slice(&self.0[..8]);
            write!(f, "n{}", u64::from_be_bytes(n))
        } else {
            write!(f, "{}", &hash::hex(&self.0)[..8])
        }
    }
}

/// A proposal number: rounds first, then the proposer's id, then a nonce
/// the proposer picks per operation, so that no two operations ever use
/// the same ballot (not even two of one node, or one from before a restart)
/// and any two ballots are ordered.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Ballot {
    /// Round number; a proposer retries with a round above every one it saw.
    pub round: u64,
    /// The proposer that owns this ballot.
    pub proposer: NodeId,
    /// Tells apart the operations of one proposer (random, or a counter).
    pub nonce: u64,
}

impl Ballot {
    /// The ballot of `proposer` at `round`, for its operation `nonce`.
    pub fn new(round: u64, proposer: NodeId, nonce: u64) -> Ballot {
        Ballot { round, proposer, nonce }
    }
}

impl fmt::Debug for Ballot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "b{}.{:?}.{}", self.round, self.proposer, self.nonce)
    }
}

/// One version of the block a register holds: its encoding is opaque here
/// (the caller decodes and validates it), its version is the block's.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Payload {
    /// The block's version (1 for a new block).
    pub version: u64,
    /// The encoded block.
    #[serde(with = "serde_bytes")]
    pub bytes: Vec<u8>,
}

impl Payload {
    /// Version `version` of a block encoded as `bytes`.
    pub fn new(version: u64, bytes: impl Into<Vec<u8>>) -> Payload {
        Payload { version, bytes: bytes.into() }
    }
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match std::str::from_utf8(&self.bytes) {
            Ok(s) if self.bytes.len() <= 16 => write!(f, "v{}:{s:?}", self.version),
            _ => write!(f, "v{}:{}B", self.version, self.bytes.len()),
        }
    }
}

/// The nodes that hold a register, numbered by an epoch that grows by one
/// at each change. Members are kept sorted and unique.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ReplicaSet {
    /// Number of this membership (1 for the set a block was created with).
    pub epoch: u64,
    members: Vec<NodeId>,
}

impl fmt::Debug for ReplicaSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "e{}{:?}", self.epoch, self.members)
    }
}

impl ReplicaSet {
    /// The set `members` at `epoch` (duplicates are dropped).
    pub fn new(epoch: u64, members: impl IntoIterator<Item = NodeId>) -> ReplicaSet {
        let mut members: Vec<NodeId> = members.into_iter().collect();
        members.sort_unstable();
        members.dedup();
        ReplicaSet { epoch, members }
    }

    /// The members, sorted.
    pub fn members(&self) -> &[NodeId] {
        &self.members
    }

    /// Whether `node` is a member.
    pub fn contains(&self, node: &NodeId) -> bool {
        self.members.binary_search(node).is_ok()
    }

    /// How many members make a quorum: a strict majority.
    pub fn majority(&self) -> usize {
        self.members.len() / 2 + 1
    }

    /// How many of `nodes` are members (each counted once).
    pub fn count_members<'a>(&self, nodes: impl IntoIterator<Item = &'a NodeId>) -> usize {
        let mut seen: Vec<&NodeId> = nodes.into_iter().filter(|n| self.contains(n)).collect();
        seen.sort_unstable();
        seen.dedup();
        seen.len()
    }

    /// Whether `nodes` include a majority of the members.
    pub fn is_quorum<'a>(&self, nodes: impl IntoIterator<Item = &'a NodeId>) -> bool {
        self.count_members(nodes) >= self.majority()
    }

    /// Whether `next` follows this set in one safe step: the next epoch,
    /// exactly one member added or removed, and not empty.
    pub fn single_step_to(&self, next: &ReplicaSet) -> bool {
        if next.epoch != self.epoch.wrapping_add(1) || next.members.is_empty() || self.epoch == u64::MAX {
            return false;
        }
        let added = next.members.iter().filter(|n| !self.contains(n)).count();
        let removed = self.members.iter().filter(|n| !next.contains(n)).count();
        added + removed == 1
    }

    /// This set with `node` added, at the next epoch.
    pub fn with(&self, node: NodeId) -> ReplicaSet {
        ReplicaSet::new(self.epoch + 1, self.members.iter().copied().chain([node]))
    }

    /// This set with `node` removed, at the next epoch.
    pub fn without(&self, node: &NodeId) -> ReplicaSet {
        ReplicaSet::new(self.epoch + 1, self.members.iter().copied().filter(|n| n != node))
    }

    /// Members of this set or of `other`, each once.
    pub fn union(&self, other: &ReplicaSet) -> Vec<NodeId> {
        let mut all: Vec<NodeId> = self.members.iter().chain(&other.members).copied().collect();
        all.sort_unstable();
        all.dedup();
        all
    }
}

/// The digest of a [`Value`], which promises are sealed over.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Digest(pub [u8; 32]);

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", &hash::hex(&self.0)[..8])
    }
}

/// What a register holds: a block and the replica set that holds it. The
/// replica set is part of the value so it changes through the protocol.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Value {
    /// The current version of the block.
    pub block: Payload,
    /// The nodes holding the register; a majority of them is a quorum for
    /// the next change.
    pub replicas: ReplicaSet,
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}@{:?}", self.block, self.replicas)
    }
}

/// How a new value relates to the value it replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// The first value of the register.
    Genesis,
    /// The same value again (a re-store or a read completing a write): no-op.
    Same,
    /// The next version of the block, same replica set.
    Block,
    /// The next replica set (one member added or removed), same block.
    Replicas,
}

impl Value {
    /// A value of `block` held by `replicas`.
    pub fn new(block: Payload, replicas: ReplicaSet) -> Value {
        Value { block, replicas }
    }

    /// The digest promises and proofs carry instead of the whole value.
    pub fn digest(&self) -> Digest {
        let mut c = Canonical::new("infinit/paxos-value/v1")
            .u64(self.block.version)
            .bytes(&self.block.bytes)
            .u64(self.replicas.epoch)
            .u64(self.replicas.members.len() as u64);
        for m in &self.replicas.members {
            c = c.bytes(&m.0);
        }
        Digest(hash::hash("infinit 2026 paxos value digest", &[&c.finish()]))
    }

    /// How this value may follow `previous` (`None`: the register is empty),
    /// or why it may not. A change replaces the block by exactly its next
    /// version, or the replica set by exactly its next epoch, never both.
    pub fn step_from(&self, previous: Option<&Value>) -> Result<Transition, String> {
        let Some(prev) = previous else {
            return if self.block.version == 0 {
                Err("a block starts at version 1, not 0".into())
            } else if self.replicas.members.is_empty() {
                Err("a register needs at least one replica".into())
            } else {
                Ok(Transition::Genesis)
            };
        };
        if self == prev {
            return Ok(Transition::Same);
        }
        if self.replicas == prev.replicas {
            return match prev.block.version.checked_add(1) {
                Some(next) if self.block.version == next => Ok(Transition::Block),
                _ => Err(format!("version {} does not follow version {}", self.block.version, prev.block.version)),
            };
        }
        if self.block != prev.block {
            return Err("a change may replace the block or the replica set, not both".into());
        }
        if prev.replicas.single_step_to(&self.replicas) {
            Ok(Transition::Replicas)
        } else {
            Err(format!(
                "replica set {:?} does not follow {:?} in one step (next epoch, one member added or removed)",
                self.replicas, prev.replicas
            ))
        }
    }

    /// The replica set whose majority must accept this value to choose it:
    /// the set of the value it replaces (its own set for the first value).
    pub fn quorum_set<'a>(&'a self, previous: Option<&'a Value>) -> &'a ReplicaSet {
        previous.map_or(&self.replicas, |p| &p.replicas)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(epoch: u64, ids: &[u64]) -> ReplicaSet {
        ReplicaSet::new(epoch, ids.iter().map(|i| NodeId::from_index(*i)))
    }

    fn value(version: u64, data: &str, replicas: ReplicaSet) -> Value {
        Value::new(Payload::new(version, data.as_bytes()), replicas)
    }

    #[test]
    fn ballots_order_by_round_then_proposer() {
        let (a, b) = (NodeId::from_index(1), NodeId::from_index(2));
        assert!(Ballot::new(1, b, 9) < Ballot::new(2, a, 0));
        assert!(Ballot::new(2, a, 9) < Ballot::new(2, b, 0));
        assert!(Ballot::new(2, a, 0) < Ballot::new(2, a, 1));
    }

    #[test]
    fn majority_of_replica_sets() {
        assert_eq!(set(1, &[1]).majority(), 1);
        assert_eq!(set(1, &[1, 2]).majority(), 2);
        assert_eq!(set(1, &[1, 2, 3]).majority(), 2);
        assert_eq!(set(1, &[1, 2, 3, 4]).majority(), 3);
        let s = set(1, &[1, 2, 3]);
        let (n1, n2, n9) = (NodeId::from_index(1), NodeId::from_index(2), NodeId::from_index(9));
        assert!(s.is_quorum([&n1, &n2]));
        assert!(!s.is_quorum([&n1, &n1, &n9]), "a node counts once, strangers not at all");
    }

    #[test]
    fn replica_sets_change_one_member_at_a_time() {
        let s = set(1, &[1, 2, 3]);
        assert!(s.single_step_to(&set(2, &[1, 2, 3, 4])));
        assert!(s.single_step_to(&set(2, &[1, 2])));
        assert!(!s.single_step_to(&set(2, &[1, 2, 4])), "a replacement is two steps");
        assert!(!s.single_step_to(&set(3, &[1, 2])), "epochs grow by one");
        assert!(!set(1, &[1]).single_step_to(&set(2, &[])), "never empty");
        assert_eq!(s.with(NodeId::from_index(4)), set(2, &[1, 2, 3, 4]));
        assert_eq!(s.without(&NodeId::from_index(3)), set(2, &[1, 2]));
    }

    #[test]
    fn values_change_the_block_or_the_replicas_by_one_step() {
        let s = set(1, &[1, 2, 3]);
        let v1 = value(1, "a", s.clone());
        assert_eq!(v1.step_from(None), Ok(Transition::Genesis));
        assert!(value(0, "a", s.clone()).step_from(None).is_err());
        assert_eq!(v1.step_from(Some(&v1)), Ok(Transition::Same));
        assert_eq!(value(2, "b", s.clone()).step_from(Some(&v1)), Ok(Transition::Block));
        assert!(value(3, "b", s.clone()).step_from(Some(&v1)).is_err(), "versions grow by exactly one");
        assert!(value(1, "b", s.clone()).step_from(Some(&v1)).is_err(), "same version, other block");
        assert_eq!(value(1, "a", s.with(NodeId::from_index(4))).step_from(Some(&v1)), Ok(Transition::Replicas));
        assert!(value(2, "b", s.with(NodeId::from_index(4))).step_from(Some(&v1)).is_err(), "not both at once");
    }

    #[test]
    fn digest_depends_on_every_field() {
        let s = set(1, &[1, 2, 3]);
        let d = value(1, "a", s.clone()).digest();
        assert_ne!(d, value(2, "a", s.clone()).digest());
        assert_ne!(d, value(1, "b", s.clone()).digest());
        assert_ne!(d, value(1, "a", set(2, &[1, 2, 3])).digest());
        assert_ne!(d, value(1, "a", set(1, &[1, 2])).digest());
        assert_eq!(d, value(1, "a", s).digest());
    }
}
