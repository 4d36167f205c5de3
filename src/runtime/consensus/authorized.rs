//! Passport rights, enforced at the consensus: a decorator that refuses,
//! as [`ConsensusError::Unauthorized`], every store or removal the
//! passports behind it do not allow, whatever the layer above asked. A
//! node serves one member (its user, holding a passport of the network):
//! nothing is stored through it if that passport denies writing, or denies
//! storage (the node then may not keep blocks), and a block signed by
//! another key is refused unless that key is a known member allowed to
//! write. Reads are never refused here: the blocks' own encryption decides
//! who can read them. Commands build [`Member`]s from passports; nothing
//! here reads descriptors.

use std::collections::HashMap;
use std::sync::Arc;

use super::{BatchFuture, Consensus, ConsensusError, ConsensusFuture, Expect, Fetched, ReadLevel, Usage};
use crate::crypto::PublicKey;
use crate::runtime::block::{Address, Block, BlockError, Tombstone};

/// What a member's passport allows, as the consensus enforces it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rights {
    /// May store new blocks and versions, and remove them.
    pub write: bool,
    /// May keep other members' blocks (contribute a silo).
    pub storage: bool,
}

/// A key with a passport on the network, and what it allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    /// The member's user key.
    pub key: PublicKey,
    /// Its passport's rights.
    pub rights: Rights,
}

/// A consensus refusing the writes its members' passports do not allow.
#[derive(Debug)]
pub struct Authorized {
    inner: Arc<dyn Consensus>,
    /// The member this node serves and stores for.
    node: Member,
    /// Every member known, the node's own included.
    members: HashMap<PublicKey, Rights>,
}

impl Authorized {
    /// Check the writes going to `inner` on behalf of `node`.
    pub fn new(inner: Arc<dyn Consensus>, node: Member) -> Self {
        Authorized { inner, node, members: HashMap::from([(node.key, node.rights)]) }
    }

    /// Also accept blocks signed by `member`, within its rights.
    pub fn with_member(mut self, member: Member) -> Self {
        if member.key != self.node.key {
            self.members.insert(member.key, member.rights);
        }
        self
    }

    /// Whether a change at `address`, signed by `signer`, may go through.
    fn authorize(&self, address: Address, signer: Option<PublicKey>) -> Result<(), ConsensusError> {
        let denied = |key: &PublicKey, action: &'static str| {
            Err(ConsensusError::Unauthorized(BlockError::Denied { address, key: key.short_hash(), action }))
        };
        if !self.node.rights.write {
            return denied(&self.node.key, "write: its passport is read-only");
        }
        if !self.node.rights.storage {
            return denied(&self.node.key, "store blocks: its passport does not allow storage");
        }
        match signer.map(|key| (key, self.members.get(&key))) {
            None => Ok(()),
            Some((_, Some(rights))) if rights.write => Ok(()),
            Some((key, Some(_))) => denied(&key, "write: its passport is read-only"),
            Some((key, None)) => denied(&key, "write: it holds no passport on this network"),
        }
    }
}

impl Consensus for Authorized {
    fn fetch(&self, address: Address, level: ReadLevel) -> ConsensusFuture<'_, Fetched> {
        self.inner.fetch(address, level)
    }

    fn fetch_many(&self, addresses: Vec<Address>, level: ReadLevel) -> BatchFuture<'_> {
        self.inner.fetch_many(addresses, level)
    }

    fn store(&self, block: Block, expect: Expect) -> ConsensusFuture<'_, ()> {
        Box::pin(async move {
            self.authorize(block.address(), block.signer())?;
            self.inner.store(block, expect).await
        })
    }

    fn remove(&self, tombstone: Tombstone) -> ConsensusFuture<'_, ()> {
        Box::pin(async move {
            self.authorize(tombstone.address, Some(tombstone.signer))?;
            self.inner.remove(tombstone).await
        })
    }

    fn usage(&self) -> ConsensusFuture<'_, Usage> {
        self.inner.usage()
    }

    fn sync(&self) -> ConsensusFuture<'_, ()> {
        self.inner.sync()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::KeyPair;
    use crate::runtime::block::{ContentBlock, OwnerBlock};
    use crate::runtime::consensus::{ConsensusExt, SingleNode};
    use crate::runtime::silo::MemorySilo;

    const READ_WRITE: Rights = Rights { write: true, storage: true };
    const READ_ONLY: Rights = Rights { write: false, storage: true };

    fn over_memory() -> Arc<dyn Consensus> {
        Arc::new(SingleNode::new(Arc::new(MemorySilo::new("mem", None))))
    }

    #[tokio::test]
    async fn a_read_only_passport_stores_and_removes_nothing_but_reads() {
        let inner = over_memory();
        let keys = KeyPair::generate().unwrap();
        let block = Block::Mutable(OwnerBlock::create(&keys, b"one".to_vec()).unwrap());
        let chunk = Block::Content(ContentBlock::new(None, b"chunk".to_vec()));
        inner.store_next(block.clone()).await.unwrap();
        let member = Member { key: keys.public(), rights: READ_ONLY };
        let reader = Authorized::new(inner.clone(), member);
        for refused in [chunk, block.clone()] {
            let error = reader.store(refused, Expect::Absent).await.unwrap_err();
            assert!(matches!(error, ConsensusError::Unauthorized(_)), "{error}");
            assert!(error.to_string().contains("read-only"), "{error}");
        }
        let Block::Mutable(v1) = &block else { unreachable!() };
        let v2 = Block::Mutable(v1.update(&keys, b"two".to_vec()).unwrap());
        assert!(matches!(reader.store_next(v2).await, Err(ConsensusError::Unauthorized(_))));
        let tombstone = Tombstone::for_block(&keys, &block).unwrap();
        assert!(matches!(reader.remove(tombstone).await, Err(ConsensusError::Unauthorized(_))));
        assert_eq!(reader.fetch_block(block.address()).await.unwrap(), Some(block));
    }

    #[tokio::test]
    async fn a_writer_stores_but_not_blocks_signed_by_keys_without_write_rights() {
        let alice = KeyPair::generate().unwrap();
        let bob = KeyPair::generate().unwrap();
        let eve = KeyPair::generate().unwrap();
        let node = Authorized::new(over_memory(), Member { key: alice.public(), rights: READ_WRITE })
            .with_member(Member { key: bob.public(), rights: READ_ONLY });
        node.store_next(Block::Mutable(OwnerBlock::create(&alice, b"mine".to_vec()).unwrap())).await.unwrap();
        node.store(Block::Content(ContentBlock::new(None, b"chunk".to_vec())), Expect::Absent).await.unwrap();
        let bobs = Block::Mutable(OwnerBlock::create(&bob, b"bob's".to_vec()).unwrap());
        let error = node.store_next(bobs).await.unwrap_err();
        assert!(error.to_string().contains(&bob.public().short_hash()), "{error}");
        let eves = Block::Mutable(OwnerBlock::create(&eve, b"eve's".to_vec()).unwrap());
        let error = node.store_next(eves).await.unwrap_err();
        assert!(matches!(error, ConsensusError::Unauthorized(_)) && error.to_string().contains("no passport"));
    }

    #[tokio::test]
    async fn a_node_whose_passport_denies_storage_keeps_no_block() {
        let alice = KeyPair::generate().unwrap();
        let rights = Rights { write: true, storage: false };
        let node = Authorized::new(over_memory(), Member { key: alice.public(), rights });
        let block = Block::Mutable(OwnerBlock::create(&alice, b"x".to_vec()).unwrap());
        let error = node.store_next(block).await.unwrap_err();
        assert!(matches!(error, ConsensusError::Unauthorized(_)) && error.to_string().contains("storage"), "{error}");
    }
}
