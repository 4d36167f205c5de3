//! The consensus contract, checked on the single-node implementation.

use std::sync::Arc;

use super::*;
use crate::crypto::KeyPair;
use crate::runtime::block::{AccessList, AclBlock, ContentBlock, OwnerBlock};
use crate::runtime::silo::{MemorySilo, SetMode, Silo};

fn node() -> (SingleNode, Arc<MemorySilo>) {
    let silo = Arc::new(MemorySilo::new("mem", None));
    (SingleNode::new(silo.clone()), silo)
}

#[tokio::test]
async fn two_writers_of_the_same_version_cannot_both_win() {
    let (consensus, _) = node();
    let keys = KeyPair::generate().unwrap();
    let v1 = OwnerBlock::create(&keys, b"one".to_vec()).unwrap();
    consensus.store(Block::Mutable(v1.clone()), Expect::Absent).await.unwrap();
    let a = v1.update(&keys, b"a".to_vec()).unwrap();
    let b = v1.update(&keys, b"b".to_vec()).unwrap();
    consensus.store(Block::Mutable(a.clone()), Expect::Version(1)).await.unwrap();
    let lost = consensus.store(Block::Mutable(b), Expect::Version(1)).await.unwrap_err();
    assert!(!lost.is_retryable());
    assert_eq!(lost.into_conflict().unwrap(), Block::Mutable(a.clone()));
    // Storing the winner again is a no-op (a retry after an unknown outcome).
    consensus.store(Block::Mutable(a.clone()), Expect::Version(1)).await.unwrap();
    // A version that skips one is refused even with the right expectation.
    let v3 = a.update(&keys, b"3".to_vec()).unwrap();
    let v4 = v3.update(&keys, b"4".to_vec()).unwrap();
    assert!(matches!(consensus.store(Block::Mutable(v4), Expect::Version(2)).await, Err(ConsensusError::Refused(_))));
    // A new block is refused over an existing one.
    let other_v1 = OwnerBlock::sign(&keys, v1.salt, 1, b"again".to_vec());
    assert!(consensus.store(Block::Mutable(other_v1), Expect::Absent).await.unwrap_err().is_conflict());
}

#[tokio::test]
async fn the_last_version_is_refused_cleanly_instead_of_overflowing() {
    let (consensus, silo) = node();
    let keys = KeyPair::generate().unwrap();
    let salt = [7; 32];
    // A writer cannot start a block at the last version...
    let max = OwnerBlock::sign(&keys, salt, u64::MAX, b"max".to_vec());
    assert!(matches!(
        consensus.store(Block::Mutable(max.clone()), Expect::Absent).await,
        Err(ConsensusError::Refused(_))
    ));
    // ...and if one is found at rest, neither a next version nor its removal panics.
    silo.set(max.address(), Block::Mutable(max.clone()).encode().unwrap(), SetMode::Insert).await.unwrap();
    assert!(max.update(&keys, b"next".to_vec()).is_err());
    assert!(Tombstone::for_block(&keys, &Block::Mutable(max.clone())).is_err());
    let forged = OwnerBlock::sign(&keys, salt, 1, b"wrapped".to_vec());
    assert!(matches!(
        consensus.store(Block::Mutable(forged), Expect::Version(u64::MAX)).await,
        Err(ConsensusError::VersionOverflow { .. })
    ));
}

#[tokio::test]
async fn removed_is_told_from_absent_and_neither_old_tombstones_nor_old_blocks_come_back() {
    let (consensus, silo) = node();
    let keys = KeyPair::generate().unwrap();
    let v1 = Block::Mutable(OwnerBlock::create(&keys, b"one".to_vec()).unwrap());
    let address = v1.address();
    assert_eq!(consensus.fetch(address, ReadLevel::Latest).await.unwrap(), Fetched::Absent);
    consensus.store_next(v1.clone()).await.unwrap();
    let Block::Mutable(inner) = &v1 else { unreachable!() };
    let v2 = Block::Mutable(inner.update(&keys, b"two".to_vec()).unwrap());
    let old_tombstone = Tombstone::for_block(&keys, &v1).unwrap();
    consensus.store_next(v2.clone()).await.unwrap();
    // A tombstone made for version 1 cannot remove version 2.
    assert!(consensus.remove(old_tombstone).await.unwrap_err().is_conflict());
    assert_eq!(consensus.fetch_block(address).await.unwrap(), Some(v2.clone()));
    let tombstone = Tombstone::for_block(&keys, &v2).unwrap();
    consensus.remove(tombstone.clone()).await.unwrap();
    assert_eq!(consensus.fetch(address, ReadLevel::Latest).await.unwrap(), Fetched::Removed(tombstone.clone()));
    // Removing again is a no-op; an old version stored again is refused.
    consensus.remove(tombstone).await.unwrap();
    assert!(matches!(consensus.store_next(v2.clone()).await, Err(ConsensusError::Removed { .. })));
    assert!(matches!(consensus.store(v1, Expect::Absent).await, Err(ConsensusError::Removed { .. })));
    // Content blocks are erased; a tombstone is not a block to store.
    let chunk = ContentBlock::new(None, b"c".to_vec());
    let chunk_address = chunk.address();
    consensus.store(Block::Content(chunk), Expect::Absent).await.unwrap();
    consensus.remove(Tombstone::for_content(&keys, chunk_address)).await.unwrap();
    assert!(matches!(silo.get(chunk_address).await, Err(SiloError::NotFound { .. })));
    let stray = Block::Tombstone(Tombstone::for_content(&keys, chunk_address));
    assert!(consensus.store(stray, Expect::Absent).await.is_err());
}

#[tokio::test]
async fn injected_faults_are_retryable_and_an_indeterminate_write_may_have_landed() {
    let (single, _) = node();
    let faulty = FaultyConsensus::new(Arc::new(single));
    let keys = KeyPair::generate().unwrap();
    let v1 = Block::Mutable(OwnerBlock::create(&keys, b"one".to_vec()).unwrap());
    faulty.fail_next(FaultTarget::Fetch, Fault::Unavailable);
    let unavailable = faulty.fetch(v1.address(), ReadLevel::Latest).await.unwrap_err();
    assert!(unavailable.is_retryable(), "{unavailable}");
    faulty.fail_next(FaultTarget::Write, Fault::IndeterminateApplied);
    let unknown = faulty.store_next(v1.clone()).await.unwrap_err();
    assert!(matches!(unknown, ConsensusError::Indeterminate { .. }));
    // It did land: the retry of the same block succeeds as a no-op.
    assert_eq!(faulty.fetch_block(v1.address()).await.unwrap(), Some(v1.clone()));
    faulty.store_next(v1.clone()).await.unwrap();
    faulty.fail_next(FaultTarget::Write, Fault::IndeterminateLost);
    let Block::Mutable(inner) = &v1 else { unreachable!() };
    let v2 = Block::Mutable(inner.update(&keys, b"two".to_vec()).unwrap());
    assert!(faulty.store_next(v2.clone()).await.unwrap_err().is_retryable());
    assert_eq!(faulty.fetch_block(v1.address()).await.unwrap(), Some(v1));
    assert_eq!(faulty.injected(), 3);
}

#[tokio::test]
async fn a_block_altered_at_rest_is_an_error_never_returned() {
    let (consensus, silo) = node();
    let keys = KeyPair::generate().unwrap();
    let block = AclBlock::create(&keys, AccessList::default(), b"data").unwrap();
    let address = block.address();
    consensus.store(Block::Acl(block), Expect::Absent).await.unwrap();
    let mut bytes = silo.get(address).await.unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    silo.set(address, bytes, SetMode::Update).await.unwrap();
    assert!(matches!(consensus.fetch(address, ReadLevel::Latest).await, Err(ConsensusError::Corrupt { .. })));
}

#[tokio::test]
async fn a_batched_fetch_answers_each_block_as_a_fetch_would() {
    use crate::runtime::freshness::FreshnessFloor;
    let silo = Arc::new(MemorySilo::new("mem", None));
    let fresh = Fresh::new(Arc::new(SingleNode::new(silo.clone())), Arc::new(FreshnessFloor::in_memory()));
    let keys = KeyPair::generate().unwrap();
    let found = AclBlock::create(&keys, AccessList::default(), b"found").unwrap();
    let altered = AclBlock::create(&keys, AccessList::default(), b"altered").unwrap();
    let removed = Block::Acl(AclBlock::create(&keys, AccessList::default(), b"removed").unwrap());
    let v1 = AclBlock::create(&keys, AccessList::default(), b"one").unwrap();
    let v2 = v1.write(&keys, b"two").unwrap();
    for block in [Block::Acl(found.clone()), Block::Acl(altered.clone()), removed.clone(), Block::Acl(v1.clone())] {
        fresh.store_next(block).await.unwrap();
    }
    fresh.store_next(Block::Acl(v2.clone())).await.unwrap();
    let tombstone = Tombstone::for_block(&keys, &removed).unwrap();
    fresh.remove(tombstone.clone()).await.unwrap();
    // Altered at rest, and rolled back to a version older than one seen.
    let mut bytes = silo.get(altered.address()).await.unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    silo.set(altered.address(), bytes, SetMode::Update).await.unwrap();
    silo.set(v1.address(), Block::Acl(v1.clone()).encode().unwrap(), SetMode::Update).await.unwrap();
    let absent = Address([9; 32]);

    let addresses = vec![found.address(), altered.address(), removed.address(), v1.address(), absent, found.address()];
    let many = fresh.fetch_many(addresses.clone(), ReadLevel::Latest).await;
    assert_eq!(many.len(), addresses.len());
    assert_eq!(many[0].as_ref().unwrap(), &Fetched::Found(Block::Acl(found.clone())));
    assert!(matches!(many[1], Err(ConsensusError::Corrupt { .. })), "{:?}", many[1]);
    assert_eq!(many[2].as_ref().unwrap(), &Fetched::Removed(tombstone));
    assert!(matches!(many[3], Err(ConsensusError::Rollback { floor: 2, got: 1, .. })), "{:?}", many[3]);
    assert_eq!(many[4].as_ref().unwrap(), &Fetched::Absent);
    assert_eq!(many[5].as_ref().unwrap(), &Fetched::Found(Block::Acl(found)));
    for (address, batched) in addresses.into_iter().zip(many) {
        let alone = fresh.fetch(address, ReadLevel::Latest).await;
        assert_eq!(format!("{alone:?}"), format!("{batched:?}"), "{address}");
    }
}

#[tokio::test]
async fn versions_only_go_up_and_a_lost_race_returns_the_current_block() {
    let (consensus, _) = node();
    let keys = KeyPair::generate().unwrap();
    let v1 = AclBlock::create(&keys, AccessList::default(), b"one").unwrap();
    let v2 = v1.write(&keys, b"two").unwrap();
    let other_v2 = v1.write(&keys, b"other two").unwrap();
    consensus.store(Block::Acl(v1.clone()), Expect::Absent).await.unwrap();
    consensus.store(Block::Acl(v2.clone()), Expect::Version(1)).await.unwrap();
    let err = consensus.store(Block::Acl(other_v2), Expect::Version(1)).await.unwrap_err();
    assert_eq!(err.into_conflict().unwrap(), Block::Acl(v2.clone()));
    assert!(consensus.store(Block::Acl(v1), Expect::Absent).await.is_err());
    assert_eq!(consensus.fetch(v2.address(), ReadLevel::Latest).await.unwrap(), Fetched::Found(Block::Acl(v2)));
}

#[tokio::test]
async fn removal_needs_a_valid_tombstone_and_frees_content() {
    let (consensus, silo) = node();
    let keys = KeyPair::generate().unwrap();
    let stranger = KeyPair::generate().unwrap();
    let header = AclBlock::create(&keys, AccessList::default(), b"h").unwrap();
    consensus.store(Block::Acl(header.clone()), Expect::Absent).await.unwrap();
    let content = ContentBlock::new(Some(header.address()), b"chunk".to_vec());
    let address = content.address();
    consensus.store(Block::Content(content), Expect::Absent).await.unwrap();
    assert!(consensus.remove(Tombstone::for_content(&stranger, address)).await.is_err());
    assert!(consensus.fetch(address, ReadLevel::Any).await.unwrap().block().is_some());
    consensus.remove(Tombstone::for_content(&keys, address)).await.unwrap();
    assert_eq!(consensus.fetch(address, ReadLevel::Any).await.unwrap(), Fetched::Absent);
    assert!(matches!(silo.get(address).await, Err(SiloError::NotFound { .. })));
}

/// A RAM silo that counts the bytes its reads hand out.
#[derive(Debug)]
struct Counted {
    inner: MemorySilo,
    read: std::sync::atomic::AtomicUsize,
}

impl Counted {
    fn count(&self, read: Result<Vec<u8>, SiloError>) -> Result<Vec<u8>, SiloError> {
        if let Ok(bytes) = &read {
            self.read.fetch_add(bytes.len(), std::sync::atomic::Ordering::SeqCst);
        }
        read
    }

    fn take(&self) -> usize {
        self.read.swap(0, std::sync::atomic::Ordering::SeqCst)
    }
}

impl Silo for Counted {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn get(&self, key: Address) -> crate::runtime::silo::SiloFuture<'_, Vec<u8>> {
        Box::pin(async move { self.count(self.inner.get(key).await) })
    }
    fn get_head(&self, key: Address, len: usize) -> crate::runtime::silo::SiloFuture<'_, Vec<u8>> {
        Box::pin(async move { self.count(self.inner.get_head(key, len).await) })
    }
    fn set(&self, key: Address, bytes: Vec<u8>, mode: SetMode) -> crate::runtime::silo::SiloFuture<'_, ()> {
        self.inner.set(key, bytes, mode)
    }
    fn erase(&self, key: Address) -> crate::runtime::silo::SiloFuture<'_, ()> {
        self.inner.erase(key)
    }
    fn list(&self) -> crate::runtime::silo::SiloFuture<'_, Vec<Address>> {
        self.inner.list()
    }
    fn list_sized(&self) -> crate::runtime::silo::SiloFuture<'_, Vec<(Address, u64)>> {
        self.inner.list_sized()
    }
    fn usage(&self) -> u64 {
        self.inner.usage()
    }
    fn capacity(&self) -> Option<u64> {
        None
    }
}

#[tokio::test]
async fn a_chunk_is_removed_from_its_first_bytes_under_the_same_rules() {
    let silo = Arc::new(Counted { inner: MemorySilo::new("mem", None), read: Default::default() });
    let consensus = SingleNode::new(silo.clone());
    let keys = KeyPair::generate().unwrap();
    let stranger = KeyPair::generate().unwrap();
    let header = AclBlock::create(&keys, AccessList::default(), b"h").unwrap();
    consensus.store(Block::Acl(header.clone()), Expect::Absent).await.unwrap();
    let chunk = ContentBlock::new(Some(header.address()), vec![7; 1 << 20]);
    let address = chunk.address();
    consensus.store(Block::Content(chunk), Expect::Absent).await.unwrap();
    silo.take();

    // Who may remove it and what a tombstone must name are checked as before.
    let denied = consensus.remove(Tombstone::for_content(&stranger, address)).await.unwrap_err();
    assert!(matches!(denied, ConsensusError::Unauthorized { .. }), "{denied}");
    let wrong_version = Tombstone::sign(&keys, address, 2, address.0);
    assert!(consensus.remove(wrong_version).await.unwrap_err().is_conflict());
    let wrong_digest = Tombstone::sign(&keys, address, 1, [9; 32]);
    assert!(consensus.remove(wrong_digest).await.unwrap_err().is_conflict());
    assert_eq!(silo.inner.get(address).await.unwrap().len(), (1 << 20) + 38, "a refused removal touched the chunk");
    consensus.remove(Tombstone::for_content(&keys, address)).await.unwrap();
    assert!(matches!(silo.inner.get(address).await, Err(SiloError::NotFound { .. })));
    // Five removals, each reading the chunk's first page and the header: no megabyte.
    let read = silo.take();
    assert!(read < 5 * 8192, "removals read {read} bytes");

    // A large mutable block is still read whole and removed by its writer only.
    let big = AclBlock::create(&keys, AccessList::default(), &vec![1; 64 << 10]).unwrap();
    consensus.store(Block::Acl(big.clone()), Expect::Absent).await.unwrap();
    let denied = Tombstone::sign(&stranger, big.address(), 2, Block::Acl(big.clone()).digest());
    assert!(consensus.remove(denied).await.is_err());
    consensus.remove(Tombstone::for_block(&keys, &Block::Acl(big.clone())).unwrap()).await.unwrap();
    assert!(matches!(consensus.fetch(big.address(), ReadLevel::Any).await.unwrap(), Fetched::Removed(_)));
    // Content nobody owns may be removed by any key, also when large.
    let free = ContentBlock::new(None, vec![3; 100 << 10]);
    let free_address = free.address();
    consensus.store(Block::Content(free), Expect::Absent).await.unwrap();
    consensus.remove(Tombstone::for_content(&stranger, free_address)).await.unwrap();
    assert_eq!(consensus.fetch(free_address, ReadLevel::Any).await.unwrap(), Fetched::Absent);
}

#[test]
fn a_content_head_names_the_owner_and_nothing_else_passes_for_content() {
    let owner = Address([5; 32]);
    for owner in [Some(owner), None] {
        let chunk = ContentBlock::new(owner, vec![1; 10_000]);
        let bytes = Block::Content(chunk.clone()).encode().unwrap();
        let Some(Block::Content(head)) = Block::content_head(&bytes[..40], chunk.address()) else {
            panic!("no head for {owner:?}")
        };
        assert_eq!((head.owner, head.address()), (owner, chunk.address()));
        // Too short to hold the owner, or another format.
        assert_eq!(Block::content_head(&bytes[..20], chunk.address()).is_none(), owner.is_some());
        let mut other = bytes[..40].to_vec();
        other[0] ^= 0xff;
        assert!(Block::content_head(&other, chunk.address()).is_none());
    }
    let keys = KeyPair::generate().unwrap();
    let node = Block::Acl(AclBlock::create(&keys, AccessList::default(), &[0; 5000]).unwrap()).encode().unwrap();
    assert!(Block::content_head(&node, Address([1; 32])).is_none());
    let tombstone = Block::Tombstone(Tombstone::sign(&keys, Address([1; 32]), 1, [1; 32])).encode().unwrap();
    assert!(Block::content_head(&tombstone, Address([1; 32])).is_none());
}

/// Tombstone collection: a single node over a RAM silo and floor, behind the
/// freshness check as a node assembles them, with a one-minute grace.
mod collection {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::runtime::freshness::FreshnessFloor;
    use crate::runtime::silo::SiloFuture;

    const GRACE: Duration = Duration::from_secs(60);

    /// A RAM silo that records, at each erase, what the floor said of the key.
    #[derive(Debug)]
    struct Watched {
        inner: MemorySilo,
        floor: Arc<FreshnessFloor>,
        erased: std::sync::Mutex<Vec<(Address, Option<u64>)>>,
    }

    impl Silo for Watched {
        fn name(&self) -> &str {
            self.inner.name()
        }
        fn get(&self, key: Address) -> SiloFuture<'_, Vec<u8>> {
            self.inner.get(key)
        }
        fn set(&self, key: Address, bytes: Vec<u8>, mode: SetMode) -> SiloFuture<'_, ()> {
            self.inner.set(key, bytes, mode)
        }
        fn erase(&self, key: Address) -> SiloFuture<'_, ()> {
            self.erased.lock().unwrap().push((key, self.floor.collected(&key).unwrap()));
            self.inner.erase(key)
        }
        fn list(&self) -> SiloFuture<'_, Vec<Address>> {
            self.inner.list()
        }
        fn list_sized(&self) -> SiloFuture<'_, Vec<(Address, u64)>> {
            self.inner.list_sized()
        }
        fn usage(&self) -> u64 {
            self.inner.usage()
        }
        fn capacity(&self) -> Option<u64> {
            None
        }
    }

    struct Stack {
        silo: Arc<Watched>,
        single: Arc<SingleNode>,
        fresh: Fresh,
    }

    fn stack() -> Stack {
        let floor = Arc::new(FreshnessFloor::in_memory());
        let silo =
            Arc::new(Watched { inner: MemorySilo::new("mem", None), floor: floor.clone(), erased: Default::default() });
        let single = Arc::new(SingleNode::collecting(silo.clone(), floor.clone(), GRACE));
        let fresh = Fresh::new(single.clone(), floor);
        Stack { silo, single, fresh }
    }

    #[test]
    fn the_largest_tombstone_is_within_what_recovery_reads_and_a_node_is_beyond_it() {
        let keys = KeyPair::generate().unwrap();
        let largest = Block::Tombstone(Tombstone::sign(&keys, Address([0xff; 32]), u64::MAX, [0xff; 32]));
        let bytes = largest.encode().unwrap().len() as u64;
        assert!(bytes <= single::tombstone_max_bytes(), "a tombstone takes {bytes} bytes");
        // The smallest node block (no data at all) is not read at every start.
        let node = Block::Acl(AclBlock::create(&keys, AccessList::default(), b"").unwrap());
        let bytes = node.encode().unwrap().len() as u64;
        assert!(bytes > single::tombstone_max_bytes(), "an empty node block takes only {bytes} bytes");
    }

    #[tokio::test]
    async fn a_tombstone_is_collected_after_the_grace_period_and_not_before() {
        let s = stack();
        let keys = KeyPair::generate().unwrap();
        let v1 = AclBlock::create(&keys, AccessList::default(), b"one").unwrap();
        let v2 = v1.write(&keys, b"two").unwrap();
        let address = v1.address();
        s.fresh.store(Block::Acl(v1.clone()), Expect::Absent).await.unwrap();
        s.fresh.store(Block::Acl(v2.clone()), Expect::Version(1)).await.unwrap();
        let tombstone = Tombstone::for_block(&keys, &Block::Acl(v2.clone())).unwrap();
        s.fresh.remove(tombstone.clone()).await.unwrap();
        let stored = s.silo.get(address).await.unwrap();
        assert!(stored.len() as u64 <= single::tombstone_max_bytes(), "a tombstone takes {} bytes", stored.len());

        let now = Instant::now();
        let early = s.single.collect_tombstones(now + GRACE - Duration::from_secs(1)).await.unwrap();
        assert_eq!(early, Swept { collected: 0, waiting: 1 });
        assert_eq!(s.fresh.fetch(address, ReadLevel::Latest).await.unwrap(), Fetched::Removed(tombstone.clone()));

        let swept = s.single.collect_tombstones(now + GRACE + Duration::from_secs(1)).await.unwrap();
        assert_eq!(swept, Swept { collected: 1, waiting: 0 });
        assert!(s.silo.list().await.unwrap().is_empty(), "the tombstone is still in the silo");
        // The floor recorded the removal before the silo forgot it.
        assert_eq!(*s.silo.erased.lock().unwrap(), vec![(address, Some(3))]);
        // Still removed, not absent, and not a rollback.
        assert_eq!(s.fresh.fetch(address, ReadLevel::Latest).await.unwrap(), Fetched::Collected { version: 3 });
        assert_eq!(s.single.fetch(address, ReadLevel::Latest).await.unwrap(), Fetched::Collected { version: 3 });
        // Nothing is stored there again, by either layer; removing again does nothing.
        for consensus in [&s.fresh as &dyn Consensus, s.single.as_ref()] {
            let again = consensus.store(Block::Acl(v2.clone()), Expect::Version(1)).await.unwrap_err();
            assert!(matches!(again, ConsensusError::Removed { .. }), "{again}");
            let new = consensus.store(Block::Acl(v1.clone()), Expect::Absent).await.unwrap_err();
            assert!(matches!(new, ConsensusError::Removed { .. }), "{new}");
            consensus.remove(tombstone.clone()).await.unwrap();
        }
        assert!(s.silo.list().await.unwrap().is_empty());
        // An old copy put back in the silo behind the node's back is a rollback.
        let old = Block::Acl(v2).encode().unwrap();
        s.silo.set(address, old, SetMode::Insert).await.unwrap();
        let refused = s.fresh.fetch(address, ReadLevel::Latest).await.unwrap_err();
        assert!(matches!(refused, ConsensusError::Rollback { floor: 3, got: 2, .. }), "{refused}");
    }

    #[tokio::test]
    async fn content_of_an_owner_whose_tombstone_was_collected_can_still_be_removed() {
        let s = stack();
        let keys = KeyPair::generate().unwrap();
        let header = AclBlock::create(&keys, AccessList::default(), b"h").unwrap();
        s.fresh.store(Block::Acl(header.clone()), Expect::Absent).await.unwrap();
        let chunk = ContentBlock::new(Some(header.address()), b"chunk".to_vec());
        let chunk_address = chunk.address();
        s.fresh.store(Block::Content(chunk), Expect::Absent).await.unwrap();
        s.fresh.remove(Tombstone::for_block(&keys, &Block::Acl(header)).unwrap()).await.unwrap();
        let swept = s.single.collect_tombstones(Instant::now() + GRACE * 2).await.unwrap();
        assert_eq!(swept.collected, 1);
        s.fresh.remove(Tombstone::for_content(&keys, chunk_address)).await.unwrap();
        assert!(s.silo.list().await.unwrap().is_empty());
        // Content is never marked collected: the same chunk may be stored again.
        let chunk = ContentBlock::new(None, b"chunk".to_vec());
        s.fresh.store(Block::Content(chunk), Expect::Absent).await.unwrap();
    }

    #[tokio::test]
    async fn tombstones_left_by_an_earlier_run_are_found_once_and_collected() {
        let floor = Arc::new(FreshnessFloor::in_memory());
        let silo = Arc::new(MemorySilo::new("mem", None));
        let keys = KeyPair::generate().unwrap();
        let mut addresses = Vec::new();
        {
            // An earlier run that kept its tombstones (or crashed before collecting).
            let before = Fresh::new(Arc::new(SingleNode::new(silo.clone())), floor.clone());
            for i in 0..5u8 {
                let block = AclBlock::create(&keys, AccessList::default(), &[i]).unwrap();
                addresses.push(block.address());
                before.store(Block::Acl(block.clone()), Expect::Absent).await.unwrap();
                if i < 3 {
                    before.remove(Tombstone::for_block(&keys, &Block::Acl(block)).unwrap()).await.unwrap();
                }
            }
        }
        let single = SingleNode::collecting(silo.clone(), floor, GRACE);
        assert_eq!(single.recover_tombstones().await.unwrap(), 3);
        let swept = single.collect_tombstones(Instant::now() + GRACE * 2).await.unwrap();
        assert_eq!(swept, Swept { collected: 3, waiting: 0 });
        assert_eq!(silo.list().await.unwrap(), {
            let mut kept = addresses[3..].to_vec();
            kept.sort();
            kept
        });
        for address in &addresses[..3] {
            assert!(single.fetch(*address, ReadLevel::Latest).await.unwrap().is_removed());
        }
    }

    #[tokio::test]
    async fn a_plain_single_node_keeps_its_tombstones() {
        let (consensus, silo) = node();
        let keys = KeyPair::generate().unwrap();
        let block = AclBlock::create(&keys, AccessList::default(), b"x").unwrap();
        consensus.store(Block::Acl(block.clone()), Expect::Absent).await.unwrap();
        consensus.remove(Tombstone::for_block(&keys, &Block::Acl(block)).unwrap()).await.unwrap();
        let swept = consensus.collect_tombstones(Instant::now() + Duration::from_secs(86_400)).await.unwrap();
        assert_eq!(swept, Swept::default());
        assert_eq!(silo.list().await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn content_leaves_room_for_the_nodes_that_deleting_it_writes() {
    let silo = Arc::new(MemorySilo::new("small", Some(640_000)));
    let consensus = SingleNode::new(silo.clone());
    let keys = KeyPair::generate().unwrap();
    // Chunks whose file header was not stored yet (chunks go first).
    let header = AclBlock::create(&keys, AccessList::default(), &[5; 400]).unwrap();
    let mut chunks = Vec::new();
    let mut size = 9_000;
    let full = loop {
        let chunk = ContentBlock::new(Some(header.address()), vec![chunks.len() as u8; size]);
        let address = chunk.address();
        match consensus.store(Block::Content(chunk), Expect::Absent).await {
            Ok(()) => chunks.push(address),
            // Then smaller ones, down to the last bytes.
            Err(_) if size > 10 => size /= 3,
            Err(e) => break e,
        }
        assert!(chunks.len() < 200, "{} bytes of content fit in 640 kB", silo.usage());
    };
    assert!(matches!(full, ConsensusError::Silo(SiloError::Full { .. })), "{full:?}");
    let used = silo.usage();
    assert!(used + 100 > 640_000 - single::reserve(640_000), "content stopped at {used} bytes");
    // The header its removal needs still fits, and so does its tombstone.
    consensus.store(Block::Acl(header.clone()), Expect::Absent).await.unwrap();
    for chunk in chunks {
        consensus.remove(Tombstone::for_content(&keys, chunk)).await.unwrap();
    }
    consensus.remove(Tombstone::for_block(&keys, &Block::Acl(header)).unwrap()).await.unwrap();
    assert!(silo.usage() < 1_000, "{} bytes left", silo.usage());
}
