//! Journal behaviour over a single-node consensus in RAM, with a scripted
//! inner consensus to simulate an unreachable network and a killed process.

use std::sync::Mutex as StdMutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use crate::crypto::KeyPair;
use crate::runtime::block::{ContentBlock, OwnerBlock};
use crate::runtime::consensus::ConsensusExt;
use crate::runtime::consensus::SingleNode;
use crate::runtime::silo::MemorySilo;

/// A single node whose writes can fail transiently and whose reads can be
/// hidden, recording the writes it accepts in order.
#[derive(Debug)]
struct Scripted {
    node: Arc<SingleNode>,
    /// Writes still to fail with a transient error (`usize::MAX`: forever).
    failures: AtomicUsize,
    /// Answer every fetch with `None`, as if nothing was stored.
    hide: bool,
    /// Accepted writes: (address, version, is a removal).
    log: StdMutex<Vec<(Address, u64, bool)>>,
}

impl Scripted {
    fn new(failures: usize, hide: bool) -> Arc<Self> {
        Arc::new(Scripted {
            node: Arc::new(SingleNode::new(Arc::new(MemorySilo::new("mem", None)))),
            failures: AtomicUsize::new(failures),
            hide,
            log: StdMutex::new(Vec::new()),
        })
    }

    fn offline() -> Arc<Self> {
        Self::new(usize::MAX, false)
    }

    fn working() -> Arc<Self> {
        Self::new(0, false)
    }

    fn log(&self) -> Vec<(Address, u64, bool)> {
        self.log.lock().unwrap().clone()
    }

    fn fail(&self) -> Result<(), ConsensusError> {
        let left = self.failures.load(Ordering::SeqCst);
        if left == 0 {
            return Ok(());
        }
        if left != usize::MAX {
            self.failures.store(left - 1, Ordering::SeqCst);
        }
        Err(SiloError::Io { path: PathBuf::from("/unreachable"), source: io::Error::other("network unreachable") }
            .into())
    }
}

impl Consensus for Scripted {
    fn fetch(&self, address: Address, level: ReadLevel) -> ConsensusFuture<'_, Fetched> {
        if self.hide {
            return Box::pin(async { Ok(Fetched::Absent) });
        }
        self.node.fetch(address, level)
    }

    fn store(&self, block: Block, expect: Expect) -> ConsensusFuture<'_, ()> {
        Box::pin(async move {
            self.fail()?;
            let entry = (block.address(), block.version(), false);
            self.node.store(block, expect).await?;
            self.log.lock().unwrap().push(entry);
            Ok(())
        })
    }

    fn remove(&self, tombstone: Tombstone) -> ConsensusFuture<'_, ()> {
        Box::pin(async move {
            self.fail()?;
            let entry = (tombstone.address, tombstone.version, true);
            self.node.remove(tombstone).await?;
            self.log.lock().unwrap().push(entry);
            Ok(())
        })
    }

    fn usage(&self) -> ConsensusFuture<'_, Usage> {
        self.node.usage()
    }
}

const FAST: JournalOptions =
    JournalOptions { retry_base: Duration::from_millis(2), retry_max: Duration::from_millis(10) };

async fn journal(dir: &Path, inner: &Arc<Scripted>) -> Arc<AsyncJournal> {
    AsyncJournal::open_with(dir, inner.clone(), FAST).await.unwrap()
}

fn op_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".op"))
        .collect();
    names.sort();
    names
}

async fn flushed(journal: &AsyncJournal) {
    tokio::time::timeout(Duration::from_secs(10), journal.flush()).await.expect("the journal did not drain");
}

#[tokio::test]
async fn writes_read_back_at_once_and_reach_the_inner_consensus_after_flush() {
    let dir = tempfile::tempdir().unwrap();
    let inner = Scripted::working();
    let journal = journal(dir.path(), &inner).await;
    let keys = KeyPair::generate().unwrap();
    let mut blocks = Vec::new();
    for i in 0..20u8 {
        blocks.push(Block::Content(ContentBlock::new(None, vec![i; 100])));
        blocks.push(Block::Mutable(OwnerBlock::create(&keys, vec![i]).unwrap()));
    }
    for block in &blocks {
        journal.store_next(block.clone()).await.unwrap();
        assert_eq!(journal.fetch_block(block.address()).await.unwrap().as_ref(), Some(block));
    }
    flushed(&journal).await;
    for block in &blocks {
        assert_eq!(inner.fetch_block(block.address()).await.unwrap().as_ref(), Some(block));
    }
    assert!(op_files(dir.path()).is_empty());
    let stats = journal.stats();
    assert_eq!((stats.pending_operations, stats.pending_bytes), (0, 0));
    assert_eq!((stats.oldest, stats.rejected.len()), (None, 0));
    assert_eq!(inner.log().len(), blocks.len());
}

#[tokio::test]
async fn pending_writes_are_served_while_the_inner_consensus_is_unreachable() {
    let dir = tempfile::tempdir().unwrap();
    let inner = Scripted::offline();
    let journal = journal(dir.path(), &inner).await;
    let keys = KeyPair::generate().unwrap();
    let v1 = OwnerBlock::create(&keys, b"one".to_vec()).unwrap();
    let v2 = v1.update(&keys, b"two".to_vec()).unwrap();
    journal.store_next(Block::Mutable(v1.clone())).await.unwrap();
    journal.store_next(Block::Mutable(v2.clone())).await.unwrap();
    let address = v1.address();
    assert_eq!(journal.fetch_block(address).await.unwrap(), Some(Block::Mutable(v2.clone())));
    assert_eq!(inner.node.fetch_block(address).await.unwrap(), None);
    // A lost race is reported at once, carrying the pending version.
    let stale = v1.update(&keys, b"other two".to_vec()).unwrap();
    let conflict = journal.store_next(Block::Mutable(stale)).await.unwrap_err();
    assert_eq!(conflict.into_conflict().unwrap(), Block::Mutable(v2.clone()));
    // A pending removal hides the block.
    journal.remove(Tombstone::for_block(&keys, &Block::Mutable(v2.clone())).unwrap()).await.unwrap();
    assert_eq!(journal.fetch_block(address).await.unwrap(), None);
    let stats = journal.stats();
    assert_eq!(stats.pending_operations, 3);
    assert!(stats.pending_bytes > 0 && stats.oldest.is_some());
    let last_error = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Some(e) = journal.stats().last_error {
                return e;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    });
    assert!(last_error.await.unwrap().contains("network unreachable"));
}

#[tokio::test]
async fn a_killed_journal_is_replayed_in_order_when_reopened() {
    let dir = tempfile::tempdir().unwrap();
    let keys = KeyPair::generate().unwrap();
    let v1 = OwnerBlock::create(&keys, b"one".to_vec()).unwrap();
    let v2 = v1.update(&keys, b"two".to_vec()).unwrap();
    let doomed = OwnerBlock::create(&keys, b"doomed".to_vec()).unwrap();
    let chunk = ContentBlock::new(Some(v1.address()), b"chunk".to_vec());
    {
        let offline = Scripted::offline();
        let journal = journal(dir.path(), &offline).await;
        journal.store_next(Block::Mutable(v1.clone())).await.unwrap();
        journal.store_next(Block::Content(chunk.clone())).await.unwrap();
        journal.store_next(Block::Mutable(doomed.clone())).await.unwrap();
        journal.store_next(Block::Mutable(v2.clone())).await.unwrap();
        journal.remove(Tombstone::for_block(&keys, &Block::Mutable(doomed.clone())).unwrap()).await.unwrap();
        assert_eq!(op_files(dir.path()).len(), 5);
        // Dropped without flushing, like a killed process.
    }
    let inner = Scripted::working();
    let journal = journal(dir.path(), &inner).await;
    // Replayed operations are readable before they are pushed.
    assert_eq!(journal.fetch_block(doomed.address()).await.unwrap(), None);
    flushed(&journal).await;
    assert_eq!(
        inner.log(),
        vec![
            (v1.address(), 1, false),
            (chunk.address(), 0, false),
            (doomed.address(), 1, false),
            (v2.address(), 2, false),
            (doomed.address(), 2, true),
        ]
    );
    assert_eq!(inner.fetch_block(v1.address()).await.unwrap(), Some(Block::Mutable(v2)));
    assert_eq!(inner.fetch_block(doomed.address()).await.unwrap(), None);
    assert!(inner.fetch_block(chunk.address()).await.unwrap().is_some());
    assert!(op_files(dir.path()).is_empty());
    // New operations continue the numbering instead of reusing it.
    journal.store_next(Block::Content(ContentBlock::new(None, b"x".to_vec()))).await.unwrap();
    flushed(&journal).await;
}

#[tokio::test]
async fn successive_versions_reach_the_inner_consensus_in_order_despite_failures() {
    let dir = tempfile::tempdir().unwrap();
    let inner = Scripted::new(3, false);
    let journal = journal(dir.path(), &inner).await;
    let keys = KeyPair::generate().unwrap();
    let mut version = OwnerBlock::create(&keys, b"1".to_vec()).unwrap();
    journal.store_next(Block::Mutable(version.clone())).await.unwrap();
    for i in 2..=5u8 {
        version = version.update(&keys, vec![i]).unwrap();
        journal.store_next(Block::Mutable(version.clone())).await.unwrap();
    }
    flushed(&journal).await;
    let versions: Vec<u64> = inner.log().iter().map(|e| e.1).collect();
    assert_eq!(versions, vec![1, 2, 3, 4, 5]);
    assert_eq!(journal.stats().last_error, None);
    assert_eq!(inner.fetch_block(version.address()).await.unwrap(), Some(Block::Mutable(version)));
}

#[tokio::test]
async fn operations_the_inner_consensus_refuses_move_to_rejected() {
    let dir = tempfile::tempdir().unwrap();
    // The inner consensus hides its blocks, so the journal cannot see v2.
    let inner = Scripted::new(0, true);
    let keys = KeyPair::generate().unwrap();
    let v1 = OwnerBlock::create(&keys, b"one".to_vec()).unwrap();
    let v2 = v1.update(&keys, b"two".to_vec()).unwrap();
    inner.node.store_next(Block::Mutable(v1.clone())).await.unwrap();
    inner.node.store_next(Block::Mutable(v2)).await.unwrap();
    let journal = journal(dir.path(), &inner).await;
    journal.store_next(Block::Mutable(v1.clone())).await.unwrap();
    flushed(&journal).await;
    let stats = journal.stats();
    assert_eq!(stats.rejected.len(), 1);
    assert_eq!(stats.rejected[0].operation.address, v1.address());
    assert!(stats.rejected[0].why.contains("another writer"), "{}", stats.rejected[0].why);
    assert!(op_files(dir.path()).is_empty());
    let on_disk = AsyncJournal::describe_rejected(dir.path()).unwrap();
    assert_eq!(on_disk, stats.rejected);
}

#[tokio::test]
async fn describe_reads_a_journal_folder_without_a_running_journal() {
    let dir = tempfile::tempdir().unwrap();
    let keys = KeyPair::generate().unwrap();
    let v1 = OwnerBlock::create(&keys, b"one".to_vec()).unwrap();
    let v2 = v1.update(&keys, b"two".to_vec()).unwrap();
    let before = SystemTime::now() - Duration::from_secs(1);
    {
        let journal = journal(dir.path(), &Scripted::offline()).await;
        journal.store_next(Block::Mutable(v1.clone())).await.unwrap();
        journal.store_next(Block::Mutable(v2.clone())).await.unwrap();
        journal.remove(Tombstone::for_block(&keys, &Block::Mutable(v2.clone())).unwrap()).await.unwrap();
        // A busy folder is refused, not shared.
        assert!(matches!(AsyncJournal::open(dir.path(), Scripted::offline()).await, Err(JournalError::Busy { .. })));
    }
    let ops = AsyncJournal::describe(dir.path()).unwrap();
    let kinds: Vec<OperationKind> = ops.iter().map(|o| o.kind).collect();
    assert_eq!(kinds, vec![OperationKind::Insert, OperationKind::Update, OperationKind::Remove]);
    assert!(ops.iter().all(|o| o.address == v1.address() && o.size > 0));
    assert!(ops.iter().all(|o| o.time >= before && o.time <= SystemTime::now()));
    assert_eq!(ops.iter().map(|o| o.sequence).collect::<Vec<_>>(), vec![1, 2, 3]);
    assert_eq!(OperationKind::Remove.to_string(), "remove");
}

#[tokio::test]
async fn a_corrupt_operation_file_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    {
        let journal = journal(dir.path(), &Scripted::offline()).await;
        let block = ContentBlock::new(None, b"chunk".to_vec());
        journal.store_next(Block::Content(block)).await.unwrap();
    }
    let name = op_files(dir.path()).remove(0);
    let path = dir.path().join(&name);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[10] ^= 1;
    std::fs::write(&path, &bytes).unwrap();
    for error in [
        AsyncJournal::open(dir.path(), Scripted::working()).await.unwrap_err(),
        AsyncJournal::describe(dir.path()).unwrap_err(),
    ] {
        assert!(matches!(&error, JournalError::Corrupt { path: p, .. } if *p == path));
        assert!(error.to_string().contains(&name), "{error}");
    }
    std::fs::write(&path, [FORMAT_VERSION + 1, 0, 0]).unwrap();
    assert!(matches!(
        AsyncJournal::describe(dir.path()),
        Err(JournalError::UnsupportedFormat { found, .. }) if found == FORMAT_VERSION + 1
    ));
    std::fs::write(&path, []).unwrap();
    assert!(matches!(AsyncJournal::describe(dir.path()), Err(JournalError::Corrupt { .. })));
}

#[tokio::test]
async fn crash_leftovers_are_cleaned_and_identical_writes_are_not_journaled_twice() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".00000000000000000001.op.tmp"), b"torn").unwrap();
    let journal = journal(dir.path(), &Scripted::offline()).await;
    assert!(!dir.path().join(".00000000000000000001.op.tmp").exists());
    let block = Block::Content(ContentBlock::new(None, b"same".to_vec()));
    journal.store_next(block.clone()).await.unwrap();
    journal.store_next(block).await.unwrap();
    assert_eq!(journal.stats().pending_operations, 1);
    // Removing what nothing holds is a no-op, as in the inner consensus.
    let keys = KeyPair::generate().unwrap();
    journal.remove(Tombstone::for_content(&keys, Address([5; 32]))).await.unwrap();
    assert_eq!(journal.stats().pending_operations, 1);
}

#[tokio::test]
async fn a_file_system_written_offline_through_the_journal_survives_a_restart() {
    use crate::runtime::fs::FileSystem;
    let dir = tempfile::tempdir().unwrap();
    let keys = KeyPair::generate().unwrap();
    let data: Vec<u8> = (0..20_000u32).map(|i| i as u8).collect();
    {
        let journal = journal(dir.path(), &Scripted::offline()).await;
        let fs = FileSystem::open(journal, keys.clone(), "v", 4096, true).await.unwrap();
        let d = fs.mkdir(fs.root(), "d", 0o755, 0, 0).await.unwrap();
        let f = fs.create(d, "f", 0o644, 0, 0).await.unwrap();
        fs.open_file(f).await.unwrap();
        fs.write(f, 0, &data).await.unwrap();
        fs.release(f).await.unwrap();
        fs.sync(None).await.unwrap();
    }
    let inner = Scripted::working();
    let journal = journal(dir.path(), &inner).await;
    flushed(&journal).await;
    assert!(journal.stats().rejected.is_empty());
    let fs = FileSystem::open(inner, keys, "v", 4096, false).await.unwrap();
    let d = fs.lookup(fs.root(), "d").await.unwrap().address;
    let f = fs.lookup(d, "f").await.unwrap().address;
    fs.open_file(f).await.unwrap();
    assert_eq!(fs.read(f, 0, data.len() as u32).await.unwrap(), data);
}

#[tokio::test]
async fn a_conflict_at_replay_reapplies_the_change_and_keeps_both_writers_files() {
    use crate::runtime::fs::FileSystem;
    use crate::runtime::fs::merge::NodeMerger;
    let dir = tempfile::tempdir().unwrap();
    let keys = KeyPair::generate().unwrap();
    let inner = Scripted::offline();
    // The volume exists; then this node writes offline through its journal...
    FileSystem::open(inner.node.clone(), keys.clone(), "v", 4096, true).await.unwrap().sync(None).await.unwrap();
    let journal = journal(dir.path(), &inner).await;
    let mine = FileSystem::open(journal.clone(), keys.clone(), "v", 4096, false).await.unwrap();
    let root = mine.root();
    for i in 0..5 {
        let f = mine.create(root, &format!("mine{i}"), 0o644, 0, 0).await.unwrap();
        mine.open_file(f).await.unwrap();
        mine.write(f, 0, format!("mine {i}").as_bytes()).await.unwrap();
        mine.release(f).await.unwrap();
    }
    mine.mkdir(root, "same", 0o755, 0, 0).await.unwrap();
    mine.sync(None).await.unwrap();
    // ...while another writer changes the same directory.
    let theirs = FileSystem::open(inner.node.clone(), keys.clone(), "v", 4096, false).await.unwrap();
    for i in 0..5 {
        theirs.create(root, &format!("theirs{i}"), 0o644, 0, 0).await.unwrap();
    }
    theirs.mkdir(root, "same", 0o755, 0, 0).await.unwrap();
    theirs.sync(None).await.unwrap();
    journal.set_resolver(Arc::new(NodeMerger::new(keys.clone())));
    inner.failures.store(0, Ordering::SeqCst);
    flushed(&journal).await;
    assert!(journal.stats().rejected.is_empty(), "{:?}", journal.stats().rejected);
    let after = FileSystem::open(inner.node.clone(), keys, "v", 4096, false).await.unwrap();
    let names: Vec<String> = after.readdir(root).await.unwrap().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names.len(), 12, "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("same.conflict-")), "{names:?}");
    for i in 0..5 {
        assert!(names.contains(&format!("theirs{i}")));
        let f = after.lookup(root, &format!("mine{i}")).await.unwrap().address;
        assert_eq!(after.read(f, 0, 100).await.unwrap(), format!("mine {i}").as_bytes());
    }
}
