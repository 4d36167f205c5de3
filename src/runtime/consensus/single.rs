//! The single-node consensus: one node holds every block in its silo. It
//! applies the same validation rules as the multi-node protocol: decode and
//! validate on every fetch (a block altered at rest is an error, never
//! returned), validate every new version against the stored one under a
//! lock, and authenticate every removal.

use std::sync::Arc;

use tokio::sync::Mutex;

use super::{Consensus, ConsensusError, ConsensusFuture, Expect, Fetched, ReadLevel, Usage, check_expectation};
use crate::runtime::block::{Address, Block, BlockError, Tombstone};
use crate::runtime::silo::{SetMode, Silo, SiloError};

/// All blocks on one node.
#[derive(Debug)]
pub struct SingleNode {
    silo: Arc<dyn Silo>,
    /// Serialise read-validate-write of new versions per address (striped:
    /// writes to different blocks go on in parallel).
    writes: Vec<Mutex<()>>,
}

/// Lock stripes of [`SingleNode`].
const STRIPES: usize = 64;

impl SingleNode {
    /// A consensus over `silo`.
    pub fn new(silo: Arc<dyn Silo>) -> Self {
        SingleNode { silo, writes: (0..STRIPES).map(|_| Mutex::new(())).collect() }
    }

    /// The lock serialising writes to `address`.
    fn stripe(&self, address: &Address) -> &Mutex<()> {
        &self.writes[usize::from(address.0[0]) % STRIPES]
    }

    /// The stored block at `address`, tombstones included, validated.
    async fn load(&self, address: Address) -> Result<Option<Block>, ConsensusError> {
        self.load_checked(address, true).await
    }

    /// The stored block at `address`; `validate` re-checks its signatures
    /// (every fetch does; a store only needs the predecessor's version and
    /// rights, which it validated when it stored it).
    async fn load_checked(&self, address: Address, validate: bool) -> Result<Option<Block>, ConsensusError> {
        let bytes = match self.silo.get(address).await {
            Ok(b) => b,
            Err(SiloError::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let corrupt = |why: String| ConsensusError::Corrupt { address, why };
        let block = Block::decode(&bytes).map_err(|e| corrupt(e.to_string()))?;
        if validate {
            block.validate_alone(&address).map_err(|e| corrupt(e.to_string()))?;
        }
        Ok(Some(block))
    }
}

impl Consensus for SingleNode {
    fn fetch(&self, address: Address, _level: ReadLevel) -> ConsensusFuture<'_, Fetched> {
        // One node holds the only copy: every read is the latest.
        Box::pin(async move { Ok(Fetched::from_stored(self.load(address).await?)) })
    }

    fn store(&self, block: Block, expect: Expect) -> ConsensusFuture<'_, ()> {
        Box::pin(async move {
            let address = block.address();
            if let Block::Tombstone(_) = block {
                return Err(ConsensusError::Refused(BlockError::Invalid {
                    address,
                    why: "a tombstone is stored through remove".into(),
                }));
            }
            let _guard = self.stripe(&address).lock().await;
            let previous = self.load_checked(address, false).await?;
            if check_expectation(&block, expect, previous.as_ref())? {
                return Ok(());
            }
            block.validate(&address, previous.as_ref())?;
            let bytes = block.encode()?;
            let mode = if previous.is_some() { SetMode::Update } else { SetMode::Insert };
            self.silo.set(address, bytes, mode).await?;
            Ok(())
        })
    }

    fn remove(&self, tombstone: Tombstone) -> ConsensusFuture<'_, ()> {
        Box::pin(async move {
            let address = tombstone.address;
            let _guard = self.stripe(&address).lock().await;
            let previous = match self.load(address).await? {
                None => return Ok(()),
                Some(Block::Tombstone(t)) if t == tombstone => return Ok(()),
                Some(Block::Tombstone(_)) => return Err(ConsensusError::Removed { address }),
                Some(previous) => previous,
            };
            if !tombstone.matches(&previous) {
                return Err(ConsensusError::Conflict { address, current: Box::new(previous) });
            }
            let owner = match &previous {
                Block::Content(content) => match content.owner {
                    Some(owner) => self.load(owner).await?,
                    None => None,
                },
                _ => None,
            };
            let tomb = Block::Tombstone(tombstone);
            tomb.validate_removing(&address, Some(&previous), owner.as_ref())?;
            if let Block::Content(_) = previous {
                // Identical content may legitimately be stored again later.
                match self.silo.erase(address).await {
                    Ok(()) | Err(SiloError::NotFound { .. }) => Ok(()),
                    Err(e) => Err(e.into()),
                }
            } else {
                // A mutable address is never reused: keep the tombstone.
                let bytes = tomb.encode()?;
                self.silo.set(address, bytes, SetMode::Update).await?;
                Ok(())
            }
        })
    }

    fn sync(&self) -> ConsensusFuture<'_, ()> {
        Box::pin(async move { Ok(self.silo.sync().await?) })
    }

    fn usage(&self) -> ConsensusFuture<'_, Usage> {
        Box::pin(async move { Ok(Usage { used: self.silo.usage(), capacity: self.silo.capacity() }) })
    }
}
