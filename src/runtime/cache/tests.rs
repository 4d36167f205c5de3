//! Cache behaviour over a single-node consensus in RAM.

use super::*;
use crate::crypto::KeyPair;
use crate::runtime::block::{ContentBlock, OwnerBlock};
use crate::runtime::consensus::ConsensusExt;
use crate::runtime::consensus::SingleNode;
use crate::runtime::silo::MemorySilo;

fn node() -> Arc<SingleNode> {
    Arc::new(SingleNode::new(Arc::new(MemorySilo::new("mem", None))))
}

fn cache(inner: &Arc<SingleNode>, budget: u64, ttl: Duration) -> BlockCache {
    BlockCache::new(inner.clone(), CacheOptions { budget, ttl })
}

fn chunk(byte: u8, len: usize) -> Block {
    Block::Content(ContentBlock::new(None, vec![byte; len]))
}

fn size(block: &Block) -> u64 {
    block.encode().unwrap().len() as u64
}

#[tokio::test]
async fn fetches_count_hits_and_misses() {
    let inner = node();
    let cache = cache(&inner, 1 << 20, Duration::from_secs(60));
    let written = chunk(1, 100);
    cache.store_next(written.clone()).await.unwrap();
    assert_eq!(cache.fetch_block(written.address()).await.unwrap(), Some(written.clone()));
    let elsewhere = chunk(2, 100);
    inner.store_next(elsewhere.clone()).await.unwrap();
    for _ in 0..2 {
        assert_eq!(cache.fetch_block(elsewhere.address()).await.unwrap(), Some(elsewhere.clone()));
    }
    assert_eq!(cache.fetch_block(Address([9; 32])).await.unwrap(), None);
    let stats = cache.stats();
    assert_eq!((stats.hits, stats.misses), (2, 2));
    assert_eq!(stats.entries, 2);
    assert_eq!(stats.bytes, size(&written) + size(&elsewhere));
}

#[tokio::test]
async fn eviction_keeps_the_budget_and_drops_the_least_recently_used() {
    let inner = node();
    let (a, b, c) = (chunk(1, 1000), chunk(2, 1000), chunk(3, 1000));
    let budget = size(&a) * 5 / 2;
    let cache = cache(&inner, budget, Duration::from_secs(60));
    cache.store_next(a.clone()).await.unwrap();
    cache.store_next(b.clone()).await.unwrap();
    cache.fetch_block(a.address()).await.unwrap();
    cache.store_next(c.clone()).await.unwrap();
    let stats = cache.stats();
    assert!(stats.bytes <= budget, "{} > {budget}", stats.bytes);
    assert_eq!(stats.entries, 2);
    let hits = stats.hits;
    cache.fetch_block(a.address()).await.unwrap();
    cache.fetch_block(c.address()).await.unwrap();
    assert_eq!(cache.stats().hits, hits + 2);
    assert_eq!(cache.fetch_block(b.address()).await.unwrap(), Some(b));
    assert_eq!(cache.stats().misses, 1);
    // A block larger than the whole budget is served but never kept.
    let huge = chunk(4, 4000);
    cache.store_next(huge.clone()).await.unwrap();
    assert_eq!(cache.fetch_block(huge.address()).await.unwrap(), Some(huge));
    assert!(cache.stats().bytes <= budget);
}

#[tokio::test]
async fn a_block_updated_through_the_cache_is_never_served_stale() {
    let inner = node();
    let cache = cache(&inner, 1 << 20, Duration::from_millis(50));
    let keys = KeyPair::generate().unwrap();
    let v1 = OwnerBlock::create(&keys, b"1".to_vec()).unwrap();
    let v2 = v1.update(&keys, b"2".to_vec()).unwrap();
    let address = v1.address();
    cache.store_next(Block::Mutable(v1.clone())).await.unwrap();
    assert_eq!(cache.fetch_block(address).await.unwrap(), Some(Block::Mutable(v1)));
    cache.store_next(Block::Mutable(v2.clone())).await.unwrap();
    assert_eq!(cache.fetch_block(address).await.unwrap(), Some(Block::Mutable(v2.clone())));
    // Another writer's version shows after the TTL.
    let v3 = v2.update(&keys, b"3".to_vec()).unwrap();
    inner.store_next(Block::Mutable(v3.clone())).await.unwrap();
    tokio::time::sleep(Duration::from_millis(60)).await;
    assert_eq!(cache.fetch_block(address).await.unwrap(), Some(Block::Mutable(v3.clone())));
    // A lost race caches the current block the conflict carries.
    let v4 = v3.update(&keys, b"4".to_vec()).unwrap();
    inner.store_next(Block::Mutable(v4.clone())).await.unwrap();
    let stale = v3.update(&keys, b"other 4".to_vec()).unwrap();
    assert!(cache.store_next(Block::Mutable(stale)).await.unwrap_err().is_conflict());
    let misses = cache.stats().misses;
    assert_eq!(cache.fetch(address, ReadLevel::Any).await.unwrap(), Fetched::Found(Block::Mutable(v4.clone())));
    assert_eq!(cache.stats().misses, misses);
    // Asking for the latest version always goes to the inner consensus.
    assert_eq!(cache.fetch(address, ReadLevel::Latest).await.unwrap(), Fetched::Found(Block::Mutable(v4)));
    assert_eq!(cache.stats().misses, misses + 1);
}

#[tokio::test]
async fn a_removed_block_is_gone() {
    let inner = node();
    let cache = cache(&inner, 1 << 20, Duration::from_secs(60));
    let keys = KeyPair::generate().unwrap();
    let mutable = Block::Mutable(OwnerBlock::create(&keys, b"m".to_vec()).unwrap());
    let content = chunk(7, 10);
    for block in [mutable, content] {
        cache.store_next(block.clone()).await.unwrap();
        assert!(cache.fetch_block(block.address()).await.unwrap().is_some());
        cache.remove(Tombstone::for_block(&keys, &block).unwrap()).await.unwrap();
        assert_eq!(cache.fetch_block(block.address()).await.unwrap(), None);
    }
    assert_eq!(cache.stats().entries, 0);
}

/// A consensus whose fetches read, then take a while to answer.
#[derive(Debug)]
struct SlowReads(Arc<SingleNode>);

impl Consensus for SlowReads {
    fn fetch(&self, address: Address, level: ReadLevel) -> ConsensusFuture<'_, Fetched> {
        Box::pin(async move {
            let read = self.0.fetch(address, level).await;
            tokio::time::sleep(Duration::from_millis(100)).await;
            read
        })
    }

    fn store(&self, block: Block, expect: Expect) -> ConsensusFuture<'_, ()> {
        self.0.store(block, expect)
    }

    fn remove(&self, tombstone: Tombstone) -> ConsensusFuture<'_, ()> {
        self.0.remove(tombstone)
    }

    fn usage(&self) -> ConsensusFuture<'_, Usage> {
        self.0.usage()
    }
}

#[tokio::test]
async fn a_fetch_overlapping_a_write_does_not_cache_the_old_version() {
    let inner = node();
    let cache = Arc::new(BlockCache::new(Arc::new(SlowReads(inner.clone())), CacheOptions::default()));
    let keys = KeyPair::generate().unwrap();
    let v1 = OwnerBlock::create(&keys, b"1".to_vec()).unwrap();
    let v2 = v1.update(&keys, b"2".to_vec()).unwrap();
    inner.store_next(Block::Mutable(v1.clone())).await.unwrap();
    let reader = {
        let cache = cache.clone();
        tokio::spawn(async move { cache.fetch_block(v1.address()).await })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    cache.store_next(Block::Mutable(v2.clone())).await.unwrap();
    let old = reader.await.unwrap().unwrap();
    assert_eq!(old.map(|b| b.version()), Some(1));
    assert_eq!(cache.fetch_block(v2.address()).await.unwrap(), Some(Block::Mutable(v2)));
}

#[tokio::test]
async fn the_file_system_runs_unchanged_over_cache_and_journal() {
    use crate::runtime::fs::FileSystem;
    use crate::runtime::journal::AsyncJournal;
    let dir = tempfile::tempdir().unwrap();
    let inner = node();
    let journal = AsyncJournal::open(dir.path(), inner.clone()).await.unwrap();
    let cache = Arc::new(BlockCache::new(journal.clone(), CacheOptions::default()));
    let keys = KeyPair::generate().unwrap();
    let fs = FileSystem::open(cache.clone(), keys.clone(), "v", 4096, true).await.unwrap();
    let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
    let f = fs.create(fs.root(), "f", 0o644, 0, 0).await.unwrap();
    fs.open_file(f).await.unwrap();
    fs.write(f, 0, &data).await.unwrap();
    fs.release(f).await.unwrap();
    fs.open_file(f).await.unwrap();
    assert_eq!(fs.read(f, 0, data.len() as u32).await.unwrap(), data);
    assert!(cache.stats().hits > 0);
    fs.sync(None).await.unwrap();
    journal.flush().await;
    let direct = FileSystem::open(inner, keys, "v", 4096, false).await.unwrap();
    let f = direct.lookup(direct.root(), "f").await.unwrap().address;
    direct.open_file(f).await.unwrap();
    assert_eq!(direct.read(f, 0, data.len() as u32).await.unwrap(), data);
}
