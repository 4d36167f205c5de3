//! The freshness check: a [`Consensus`] decorator that remembers, in the
//! node's [`FreshnessFloor`], the highest version seen of every mutable
//! block it fetched, stored or removed, and refuses an older one returned
//! later as [`ConsensusError::Rollback`] — what a storage node or a bucket
//! restored from an old copy returns. It sits right above the consensus
//! that reads the silo, so a rollback is caught however the block is asked
//! for, and logged naming the block.
//!
//! A removal whose tombstone the node collected ([`FreshnessFloor::collect`])
//! is still a removal: the floor remembers it, so the address fetches as
//! [`Fetched::Collected`] (not as a rollback, which is what an address the
//! silo lost without a recorded collection is), a store on it is refused as
//! [`ConsensusError::Removed`] and a removal of it does nothing.

use std::sync::Arc;

use super::{BatchFuture, Consensus, ConsensusError, ConsensusFuture, Expect, Fetched, ReadLevel, Usage};
use crate::runtime::block::{Address, Block, Tombstone};
use crate::runtime::freshness::{FreshnessFloor, Refusal};
use crate::runtime::silo::SiloError;

/// A consensus whose mutable blocks never go back in time.
#[derive(Debug)]
pub struct Fresh {
    inner: Arc<dyn Consensus>,
    floor: Arc<FreshnessFloor>,
}

impl Fresh {
    /// Check what `inner` returns against `floor`.
    pub fn new(inner: Arc<dyn Consensus>, floor: Arc<FreshnessFloor>) -> Self {
        Fresh { inner, floor }
    }

    /// What the layer below fetched at `address`, checked against the
    /// floor: an older version than one seen is a rollback.
    fn check(&self, address: Address, fetched: Fetched) -> Result<Fetched, ConsensusError> {
        match &fetched {
            Fetched::Found(block) if block.is_mutable() => self.observe(address, block.version())?,
            Fetched::Removed(tombstone) => self.observe(address, tombstone.version)?,
            Fetched::Collected { version } => self.observe(address, *version)?,
            Fetched::Absent => {
                if let Some(version) = self.floor.collected(&address)? {
                    // The layer below may not know about collection: the floor does.
                    return Ok(Fetched::Collected { version });
                }
                if let Some(floor) = self.floor.floor(&address)? {
                    // Something was stored here and the silo lost it.
                    tracing::error!("block {address}: version {floor} was seen, but the silo holds nothing");
                    return Err(ConsensusError::Rollback { address, floor, got: 0 });
                }
            }
            Fetched::Found(_) => {}
        }
        Ok(fetched)
    }

    fn observe(&self, address: Address, version: u64) -> Result<(), ConsensusError> {
        self.floor.observe(address, version).map_err(|refusal| {
            tracing::error!("{refusal}");
            match refusal {
                Refusal::Rollback(r) => ConsensusError::Rollback { address, floor: r.floor, got: r.got },
                Refusal::Unreadable(e) => ConsensusError::Floor(e),
            }
        })
    }
}

impl Consensus for Fresh {
    fn fetch(&self, address: Address, level: ReadLevel) -> ConsensusFuture<'_, Fetched> {
        Box::pin(async move { self.check(address, self.inner.fetch(address, level).await?) })
    }

    fn fetch_many(&self, addresses: Vec<Address>, level: ReadLevel) -> BatchFuture<'_> {
        Box::pin(async move {
            let fetched = self.inner.fetch_many(addresses.clone(), level).await;
            addresses.into_iter().zip(fetched).map(|(address, fetched)| self.check(address, fetched?)).collect()
        })
    }

    fn store(&self, block: Block, expect: Expect) -> ConsensusFuture<'_, ()> {
        Box::pin(async move {
            let (address, version, mutable) = (block.address(), block.version(), block.is_mutable());
            if mutable && self.floor.collected(&address)?.is_some() {
                return Err(ConsensusError::Removed { address });
            }
            if mutable && let Some(floor) = self.floor.floor(&address)? {
                // The silo must hold at least the floor: storing over less
                // would hide a rollback under a new write.
                let expected = match expect {
                    Expect::Absent => 0,
                    Expect::Version(v) => v,
                };
                if expected < floor {
                    tracing::error!("block {address}: a write on version {expected} refused, version {floor} was seen");
                    return Err(ConsensusError::Rollback { address, floor, got: expected });
                }
            }
            self.inner.store(block, expect).await?;
            if mutable {
                self.observe(address, version)?;
            }
            Ok(())
        })
    }

    fn remove(&self, tombstone: Tombstone) -> ConsensusFuture<'_, ()> {
        Box::pin(async move {
            let (address, version) = (tombstone.address, tombstone.version);
            if self.floor.collected(&address)?.is_some() {
                // Removed already, and its tombstone collected.
                return Ok(());
            }
            self.inner.remove(tombstone).await?;
            // Content tombstones are version 1 and content may be stored again.
            if version > 1 {
                self.observe(address, version)?;
            }
            Ok(())
        })
    }

    fn usage(&self) -> ConsensusFuture<'_, Usage> {
        self.inner.usage()
    }

    fn sync(&self) -> ConsensusFuture<'_, ()> {
        Box::pin(async move {
            self.inner.sync().await?;
            self.floor.sync().map_err(|e| {
                SiloError::Io {
                    path: self.floor.path().map(Into::into).unwrap_or_default(),
                    source: std::io::Error::other(e.to_string()),
                }
                .into()
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::KeyPair;
    use crate::runtime::block::OwnerBlock;
    use crate::runtime::consensus::{ConsensusExt, SingleNode};
    use crate::runtime::silo::{MemorySilo, SetMode, Silo};

    #[tokio::test]
    async fn a_block_rolled_back_in_the_silo_is_refused_and_not_written_over() {
        let silo = Arc::new(MemorySilo::new("mem", None));
        let floor = Arc::new(FreshnessFloor::in_memory());
        let fresh = Fresh::new(Arc::new(SingleNode::new(silo.clone())), floor.clone());
        let keys = KeyPair::generate().unwrap();
        let v1 = OwnerBlock::create(&keys, b"one".to_vec()).unwrap();
        let v2 = v1.update(&keys, b"two".to_vec()).unwrap();
        fresh.store_next(Block::Mutable(v1.clone())).await.unwrap();
        let old = silo.get(v1.address()).await.unwrap();
        fresh.store_next(Block::Mutable(v2.clone())).await.unwrap();
        // The silo is restored to version 1.
        silo.set(v1.address(), old, SetMode::Update).await.unwrap();
        let refused = fresh.fetch(v1.address(), ReadLevel::Latest).await.unwrap_err();
        assert!(matches!(refused, ConsensusError::Rollback { floor: 2, got: 1, .. }), "{refused}");
        // A new write on top of the rolled-back version is refused too.
        let other_v2 = v1.update(&keys, b"over".to_vec()).unwrap();
        assert!(matches!(
            fresh.store(Block::Mutable(other_v2), Expect::Version(1)).await,
            Err(ConsensusError::Rollback { .. })
        ));
        // A removed block whose file vanished is a rollback, not "absent".
        let tombstone = Tombstone::for_block(&keys, &Block::Mutable(v2.clone())).unwrap();
        silo.set(v1.address(), Block::Mutable(v2).encode().unwrap(), SetMode::Update).await.unwrap();
        fresh.remove(tombstone).await.unwrap();
        silo.erase(v1.address()).await.unwrap();
        assert!(matches!(fresh.fetch(v1.address(), ReadLevel::Latest).await, Err(ConsensusError::Rollback { .. })));
        assert_eq!(floor.floor(&v1.address()).unwrap(), Some(3));
    }
}
