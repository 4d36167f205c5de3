//! The single-node consensus: one node holds every block in its silo. It
//! applies the same validation rules as the multi-node protocol: decode and
//! validate on every fetch (a block altered at rest is an error, never
//! returned), validate every new version against the stored one under a
//! lock, and authenticate every removal.
//!
//! Tombstone collection: removing a mutable block overwrites it with its
//! tombstone, so that neither a replayed old version nor a replayed
//! tombstone can come back. Built with [`SingleNode::collecting`], the node
//! erases a tombstone once it is older than a grace period, after its
//! [`FreshnessFloor`] has durably recorded the removal (the floor then
//! refuses the old versions, and the address fetches as
//! [`Fetched::Collected`]). The age is local: the node records when *it*
//! stored the tombstone, so no signed time is needed and no clock of another
//! machine is trusted. Due tombstones wait in an in-memory queue, oldest
//! first, so a sweep costs only what it collects, never a scan. The queue is
//! not persisted: at start, [`SingleNode::recover_tombstones`] reads once,
//! in the background, the few blocks the silo index lists as small enough
//! to be tombstones, and queues those it finds with a fresh grace period.
//! A crash therefore loses nothing but time, and a silo from before
//! collection existed is cleaned up too. Without a floor (plain
//! [`SingleNode::new`]) tombstones are kept forever: erasing one would let a
//! replayed old block back in.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

use super::{
    BatchFuture, Consensus, ConsensusError, ConsensusFuture, Expect, Fetched, ForRemoval, ReadLevel, Usage,
    check_expectation, read_for_removal,
};
use crate::runtime::block::{Address, Block, BlockError, Tombstone};
use crate::runtime::freshness::FreshnessFloor;
use crate::runtime::silo::{SetMode, Silo, SiloError};

/// How long a tombstone stays in the silo by default before collection.
pub const TOMBSTONE_GRACE: Duration = Duration::from_secs(10 * 60);

/// The part of a silo of `capacity` bytes that content blocks may not
/// use: 1/64 of it, at most 8 MiB.
pub fn reserve(capacity: u64) -> u64 {
    (capacity / 64).min(8 << 20)
}

/// Stored blocks at most this large may be tombstones: the encoded size
/// of the largest possible tombstone (every field at its widest), about
/// 200 bytes, below any file or directory node (about 480). Recovery at
/// start reads only those, not every node of the volume.
pub(super) fn tombstone_max_bytes() -> u64 {
    static MAX: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *MAX.get_or_init(|| {
        let widest = Tombstone {
            address: Address([0xff; 32]),
            version: u64::MAX,
            removes: [0xff; 32],
            signer: crate::crypto::PublicKey { ed25519: [0xff; 32], x25519: [0xff; 32] },
            signature: crate::crypto::Signature([0xff; 64]),
        };
        // Encoding plain fields cannot fail; if it did, read every block up to 1 KiB.
        Block::Tombstone(widest).encode().map_or(1024, |bytes| bytes.len() as u64)
    })
}

/// All blocks on one node.
#[derive(Debug)]
pub struct SingleNode {
    silo: Arc<dyn Silo>,
    /// Serialise read-validate-write of new versions per address (striped:
    /// writes to different blocks go on in parallel).
    writes: Vec<Mutex<()>>,
    /// Set when tombstones are collected.
    collection: Option<Collection>,
}

/// What tombstone collection needs.
#[derive(Debug)]
struct Collection {
    /// Remembers removals once their tombstones are gone.
    floor: Arc<FreshnessFloor>,
    /// How long a tombstone is kept.
    grace: Duration,
    /// Tombstones to erase, oldest first.
    queue: std::sync::Mutex<VecDeque<Due>>,
}

/// A tombstone to erase at `at`.
#[derive(Debug, Clone, Copy)]
struct Due {
    at: Instant,
    address: Address,
    version: u64,
}

/// What a sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    /// Tombstones erased from the silo.
    pub collected: usize,
    /// Tombstones still waiting for their grace period.
    pub waiting: usize,
}

impl Collection {
    fn queue(&self) -> std::sync::MutexGuard<'_, VecDeque<Due>> {
        // Every critical section leaves the queue consistent.
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn enqueue(&self, address: Address, version: u64, now: Instant) {
        self.queue().push_back(Due { at: now + self.grace, address, version });
    }
}

/// Lock stripes of [`SingleNode`].
const STRIPES: usize = 64;

fn stripes() -> Vec<Mutex<()>> {
    (0..STRIPES).map(|_| Mutex::new(())).collect()
}

impl SingleNode {
    /// The lock serialising writes to `address`.
    fn stripe(&self, address: &Address) -> &Mutex<()> {
        &self.writes[usize::from(address.0[0]) % STRIPES]
    }

    /// A consensus over `silo` that keeps every tombstone.
    pub fn new(silo: Arc<dyn Silo>) -> Self {
        SingleNode { silo, writes: stripes(), collection: None }
    }

    /// A consensus over `silo` that erases tombstones older than `grace`,
    /// once `floor` (the node's freshness floor) durably remembers them.
    pub fn collecting(silo: Arc<dyn Silo>, floor: Arc<FreshnessFloor>, grace: Duration) -> Self {
        let collection = Collection { floor, grace, queue: std::sync::Mutex::new(VecDeque::new()) };
        SingleNode { silo, writes: stripes(), collection: Some(collection) }
    }

    /// Refuse content of `len` bytes that would eat into the part of the
    /// silo's capacity kept for nodes and tombstones ([`reserve`]): on a
    /// full silo, deleting files must still be able to store what their
    /// deletion writes first (the header a file's chunks wait for, the
    /// directories that stop naming it).
    fn leave_reserve(&self, len: u64) -> Result<(), SiloError> {
        let Some(capacity) = self.silo.capacity() else { return Ok(()) };
        let (used, reserve) = (self.silo.usage(), reserve(capacity));
        let free = capacity.saturating_sub(reserve).saturating_sub(used);
        if len > free {
            return Err(SiloError::Full { silo: self.silo.name().to_owned(), needed: len, free });
        }
        Ok(())
    }

    /// The collected tombstone's version, if `address` was removed and collected.
    fn collected(&self, address: &Address) -> Result<Option<u64>, ConsensusError> {
        match &self.collection {
            Some(c) => Ok(c.floor.collected(address)?),
            None => Ok(None),
        }
    }

    /// Queue the tombstones already in the silo (stored before this start)
    /// for collection after a full grace period from now. Reads only blocks
    /// small enough to be tombstones; returns how many were queued.
    pub async fn recover_tombstones(&self) -> Result<usize, ConsensusError> {
        let Some(collection) = &self.collection else { return Ok(0) };
        let now = Instant::now();
        let mut found = 0;
        for (address, _) in self.silo.list_up_to(tombstone_max_bytes()).await? {
            // A block that does not decode is for `volume check` to report, not for us to erase.
            if let Ok(Some(Block::Tombstone(t))) = self.load(address).await {
                collection.enqueue(address, t.version, now);
                found += 1;
            }
        }
        Ok(found)
    }

    /// Erase the tombstones whose grace period ended by `now`: first make
    /// the floor durably remember them, then erase them from the silo. On
    /// an error, what was not erased stays queued for the next sweep.
    pub async fn collect_tombstones(&self, now: Instant) -> Result<Swept, ConsensusError> {
        let Some(collection) = &self.collection else { return Ok(Swept::default()) };
        let due: Vec<Due> = {
            let mut queue = collection.queue();
            let n = queue.iter().take_while(|d| d.at <= now).count();
            queue.drain(..n).collect()
        };
        let requeue = |rest: &[Due]| {
            let mut queue = collection.queue();
            for d in rest.iter().rev() {
                queue.push_front(*d);
            }
        };
        if !due.is_empty() {
            let removed: Vec<(Address, u64)> = due.iter().map(|d| (d.address, d.version)).collect();
            if let Err(e) = collection.floor.collect(&removed) {
                requeue(&due);
                return Err(SiloError::Io {
                    path: collection.floor.path().map(Into::into).unwrap_or_default(),
                    source: std::io::Error::other(e.to_string()),
                }
                .into());
            }
        }
        for (i, d) in due.iter().enumerate() {
            let _guard = self.stripe(&d.address).lock().await;
            match self.silo.erase(d.address).await {
                Ok(()) | Err(SiloError::NotFound { .. }) => {}
                Err(e) => {
                    requeue(&due[i..]);
                    return Err(e.into());
                }
            }
        }
        Ok(Swept { collected: due.len(), waiting: collection.queue().len() })
    }

    /// What a fetch of `address` answers when the silo holds `stored` there.
    fn fetched(&self, address: Address, stored: Option<Block>) -> Result<Fetched, ConsensusError> {
        match stored {
            None => match self.collected(&address)? {
                Some(version) => Ok(Fetched::Collected { version }),
                None => Ok(Fetched::Absent),
            },
            stored => Ok(Fetched::from_stored(stored)),
        }
    }

    /// The stored block at `address`, tombstones included, validated.
    async fn load(&self, address: Address) -> Result<Option<Block>, ConsensusError> {
        self.load_checked(address, true).await
    }

    /// The stored block at `address`; `validate` re-checks its signatures
    /// (every fetch does; a store only needs the predecessor's version and
    /// rights, which it validated when it stored it).
    async fn load_checked(&self, address: Address, validate: bool) -> Result<Option<Block>, ConsensusError> {
        Self::parse(address, self.silo.get(address).await, validate)
    }

    /// The block the silo answered for `address` (`None` if it holds
    /// nothing there), decoded and, if `validate`, checked alone.
    fn parse(
        address: Address,
        read: Result<Vec<u8>, SiloError>,
        validate: bool,
    ) -> Result<Option<Block>, ConsensusError> {
        let bytes = match read {
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
        Box::pin(async move { self.fetched(address, self.load(address).await?) })
    }

    fn fetch_many(&self, addresses: Vec<Address>, _level: ReadLevel) -> BatchFuture<'_> {
        Box::pin(async move {
            let read = self.silo.get_many(addresses.clone()).await;
            addresses
                .into_iter()
                .zip(read)
                .map(|(address, read)| self.fetched(address, Self::parse(address, read, true)?))
                .collect()
        })
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
            if previous.is_none() && block.is_mutable() && self.collected(&address)?.is_some() {
                return Err(ConsensusError::Removed { address });
            }
            if check_expectation(&block, expect, previous.as_ref())? {
                return Ok(());
            }
            block.validate(&address, previous.as_ref())?;
            let bytes = block.encode()?;
            if let Block::Content(_) = block {
                self.leave_reserve(bytes.len() as u64)?;
            }
            let mode = if previous.is_some() { SetMode::Update } else { SetMode::Insert };
            self.silo.set(address, bytes, mode).await?;
            Ok(())
        })
    }

    fn remove(&self, tombstone: Tombstone) -> ConsensusFuture<'_, ()> {
        Box::pin(async move {
            let address = tombstone.address;
            let _guard = self.stripe(&address).lock().await;
            let stored = match read_for_removal(self.silo.as_ref(), address).await? {
                ForRemoval::Absent => None,
                ForRemoval::Content(stand_in) => Some(*stand_in),
                ForRemoval::Whole(bytes) => Self::parse(address, Ok(bytes), true)?,
            };
            let previous = match stored {
                None => return Ok(()),
                Some(Block::Tombstone(t)) if t == tombstone => return Ok(()),
                Some(Block::Tombstone(_)) => return Err(ConsensusError::Removed { address }),
                Some(previous) => previous,
            };
            if !tombstone.matches(&previous) {
                return Err(ConsensusError::Conflict { address, current: Box::new(previous) });
            }
            let mut owner_collected = false;
            let owner = match &previous {
                Block::Content(content) => match content.owner {
                    Some(owner) => {
                        let loaded = self.load(owner).await?;
                        owner_collected = loaded.is_none() && self.collected(&owner)?.is_some();
                        loaded
                    }
                    None => None,
                },
                _ => None,
            };
            let version = tombstone.version;
            let tomb = Block::Tombstone(tombstone);
            if owner_collected {
                // A removed owner leaves its content as garbage anyone may
                // collect, also once its own tombstone is gone.
                tomb.validate_alone(&address)?;
            } else {
                tomb.validate_removing(&address, Some(&previous), owner.as_ref())?;
            }
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
                if let Some(collection) = &self.collection {
                    collection.enqueue(address, version, Instant::now());
                }
                Ok(())
            }
        })
    }

    fn sync(&self) -> ConsensusFuture<'_, ()> {
        Box::pin(async move { Ok(self.silo.sync().await?) })
    }

    fn usage(&self) -> ConsensusFuture<'_, Usage> {
        Box::pin(async move {
            let capacity = self.silo.capacity();
            Ok(Usage { used: self.silo.usage(), capacity, reserved: capacity.map_or(0, reserve) })
        })
    }
}
