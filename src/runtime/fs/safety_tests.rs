//! The file system on the bad day: stores that fail (injected through
//! [`FaultyConsensus`]), a crash between any two stores (a file system
//! dropped without a final flush), damaged blocks, and a second writer on
//! the same blocks.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::runtime::consensus::{Fault, FaultTarget, FaultyConsensus, SingleNode};
use crate::runtime::silo::{MemorySilo, Silo};

const FAULTS: [Fault; 4] = [Fault::SiloIo, Fault::Timeout, Fault::IndeterminateApplied, Fault::IndeterminateLost];

struct Rig {
    silo: Arc<MemorySilo>,
    single: Arc<SingleNode>,
    faulty: Arc<FaultyConsensus>,
    keys: KeyPair,
    /// Shard directories of more than a few entries (every test directory).
    policy: Option<super::shard::Policy>,
}

impl Rig {
    fn new() -> Rig {
        let silo = Arc::new(MemorySilo::new("mem", None));
        let single = Arc::new(SingleNode::new(silo.clone()));
        let faulty = Arc::new(FaultyConsensus::new(single.clone()));
        Rig { silo, single, faulty, keys: KeyPair::generate().unwrap(), policy: None }
    }

    /// A rig whose file systems shard every directory that has an entry
    /// (2 per shard), so each test's directories, even of one file, are.
    fn sharded() -> Rig {
        Rig { policy: Some(super::shard::Policy { above: 0, per_shard: 2 }), ..Rig::new() }
    }

    /// In a sharded rig, the stored directory at `dir` is in shards (the
    /// test exercises what its name says).
    async fn assert_sharded_if_asked(&self, dir: Address) {
        if self.policy.is_some() {
            let Node::Directory { shards, entries, .. } = self.stored_node(dir).await else { panic!("a directory") };
            assert!(!shards.is_empty() && entries.is_empty(), "{dir} is not stored in shards");
        }
    }

    fn tune(&self, fs: &mut FileSystem) {
        if let Some(policy) = self.policy {
            fs.set_shard_policy(policy);
        }
    }

    /// A file system through the fault injector.
    async fn faulty_fs(&self) -> FileSystem {
        let mut fs = FileSystem::open(self.faulty.clone(), self.keys.clone(), "v", 4096, true).await.unwrap();
        self.tune(&mut fs);
        fs
    }

    /// A fresh file system on what is stored: the state after a crash.
    async fn after_crash(&self) -> FileSystem {
        let mut fs = FileSystem::open(self.single.clone(), self.keys.clone(), "v", 4096, false).await.unwrap();
        fs.set_revalidate(Duration::ZERO);
        self.tune(&mut fs);
        fs
    }

    /// The node stored at `address` as its block holds it (a sharded
    /// directory's entries are not in it).
    async fn stored_node(&self, address: Address) -> Node {
        let Fetched::Found(Block::Acl(block)) = self.single.fetch(address, ReadLevel::Latest).await.unwrap() else {
            panic!("{address} is not a node");
        };
        Node::decode(&block.read(&self.keys).unwrap()).unwrap()
    }

    /// The content blocks the silo holds.
    async fn contents(&self) -> std::collections::BTreeSet<Address> {
        let mut found = std::collections::BTreeSet::new();
        for address in self.silo.list().await.unwrap() {
            if let Ok(Block::Content(_)) = Block::decode(&self.silo.get(address).await.unwrap()) {
                found.insert(address);
            }
        }
        found
    }
}

fn pattern(seed: u64, len: usize) -> Vec<u8> {
    (0..len).map(|i| ((i as u64).wrapping_mul(31).wrapping_add(seed * 7) % 251) as u8 + 1).collect()
}

async fn write_file(fs: &FileSystem, dir: Address, name: &str, data: &[u8]) -> FsResult<Address> {
    let f = match fs.lookup(dir, name).await {
        Ok(e) => e.address,
        Err(FsError::NotFound) => fs.create(dir, name, 0o644, 0, 0).await?,
        Err(e) => return Err(e),
    };
    fs.open_file(f).await?;
    let written = async {
        fs.truncate(f, 0).await?;
        fs.write(f, 0, data).await?;
        Ok::<_, FsError>(())
    }
    .await;
    let released = fs.release(f).await;
    written?;
    released?;
    Ok(f)
}

/// Every entry under `dir`, with file contents; any unreadable node fails.
async fn walk(fs: &FileSystem, dir: Address, prefix: &str, out: &mut BTreeMap<String, Option<Vec<u8>>>) {
    for (name, entry) in fs.readdir(dir).await.unwrap() {
        let path = format!("{prefix}/{name}");
        let stat = fs.stat(entry.address).await.unwrap_or_else(|e| panic!("{path} dangles: {e}"));
        match entry.kind {
            NodeKind::Directory => {
                out.insert(path.clone(), None);
                Box::pin(walk(fs, entry.address, &path, out)).await;
            }
            NodeKind::File => {
                let data = fs.read(entry.address, 0, stat.size as u32).await.unwrap();
                out.insert(path, Some(data));
            }
            _ => {}
        }
    }
}

#[tokio::test]
async fn a_failed_store_keeps_the_data_for_the_next_fsync() {
    let rig = Rig::new();
    let fs = rig.faulty_fs().await;
    let data = pattern(1, 10_000);
    let f = fs.create(fs.root(), "f", 0o644, 0, 0).await.unwrap();
    fs.open_file(f).await.unwrap();
    fs.write(f, 0, &data).await.unwrap();
    for _ in 0..4 {
        rig.faulty.fail_next(FaultTarget::Write, Fault::SiloIo);
    }
    assert!(fs.sync(Some(f)).await.is_err(), "the failure is reported");
    while fs.sync(Some(f)).await.is_err() {}
    assert_eq!(fs.read(f, 0, 20_000).await.unwrap(), data);
    fs.release(f).await.unwrap();
    fs.sync(None).await.unwrap();
    let after = rig.after_crash().await;
    let entry = after.lookup(after.root(), "f").await.unwrap();
    assert_eq!(after.read(entry.address, 0, 20_000).await.unwrap(), data);
}

#[tokio::test]
async fn random_store_failures_and_a_crash_never_dangle_or_zero_fsynced_files() {
    random_store_failures_and_a_crash_never_dangle_or_zero_fsynced_files_with(Rig::new).await;
}

#[tokio::test]
async fn random_store_failures_and_a_crash_never_dangle_or_zero_fsynced_files_in_sharded_directories() {
    random_store_failures_and_a_crash_never_dangle_or_zero_fsynced_files_with(Rig::sharded).await;
}

async fn random_store_failures_and_a_crash_never_dangle_or_zero_fsynced_files_with(make: fn() -> Rig) {
    for seed in 0..12u64 {
        let rig = make();
        let fs = rig.faulty_fs().await;
        let root = fs.root();
        rig.faulty.fail_randomly(seed, 150, &FAULTS, FaultTarget::Write);
        // Phase 1: a tree, changed and synced through failing stores.
        let mut model: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        let mut uncertain = std::collections::BTreeSet::new();
        let dirs = [fs.mkdir(root, "a", 0o755, 0, 0).await.unwrap(), fs.mkdir(root, "b", 0o755, 0, 0).await.unwrap()];
        for i in 0..30u64 {
            let d = (i % 2) as usize;
            let name = format!("f{}", i % 9);
            let data = pattern(seed * 100 + i, ((i * 1777 + seed * 313) % 9000) as usize);
            let path = format!("/{}/{name}", ["a", "b"][d]);
            if write_file(&fs, dirs[d], &name, &data).await.is_ok() {
                uncertain.remove(&path);
                model.insert(path, data);
            } else {
                // The caller saw an error: the content is whatever the last
                // step that succeeded left.
                model.remove(&path);
                uncertain.insert(path);
            }
            if i % 7 == 3 {
                let from = format!("f{}", (i + 1) % 9);
                let (old, new) = (format!("/{}/{from}", ["a", "b"][d]), format!("/{}/m{i}", ["a", "b"][1 - d]));
                if fs.rename(dirs[d], &from, dirs[1 - d], &format!("m{i}"), false).await.is_ok() {
                    if let Some(data) = model.remove(&old) {
                        model.insert(new.clone(), data);
                    }
                    if uncertain.remove(&old) {
                        uncertain.insert(new);
                    }
                }
            }
            if i % 5 == 4 && fs.unlink(dirs[1 - d], &format!("f{}", (i + 2) % 9)).await.is_ok() {
                let path = format!("/{}/f{}", ["a", "b"][1 - d], (i + 2) % 9);
                model.remove(&path);
                uncertain.remove(&path);
            }
            let _ = fs.sync(None).await;
        }
        // The synced state, once the stores work again.
        rig.faulty.heal();
        fs.sync(None).await.unwrap();
        rig.assert_sharded_if_asked(root).await;
        for dir in dirs {
            rig.assert_sharded_if_asked(dir).await;
        }
        // Phase 2: more writes through failing stores, then a crash.
        rig.faulty.fail_randomly(seed + 1000, 600, &FAULTS, FaultTarget::Write);
        // The node dies after a number of writes: anywhere in the middle of a flush.
        rig.faulty.crash_after(4 + seed * 3);
        let c = fs.mkdir(root, "c", 0o755, 0, 0).await.unwrap();
        let mut unsynced = BTreeMap::new();
        for i in 0..10u64 {
            let data = pattern(seed * 1000 + i, 3000 + i as usize * 500);
            let _ = write_file(&fs, c, &format!("n{i}"), &data).await;
            unsynced.insert(format!("/c/n{i}"), data);
            if i % 3 == 0 {
                let _ = fs.flush_metadata().await;
            }
        }
        drop(fs);
        rig.faulty.heal();
        let after = rig.after_crash().await;
        let mut found = BTreeMap::new();
        walk(&after, after.root(), "", &mut found).await;
        for (path, data) in &model {
            let got = found.get(path).cloned().flatten();
            assert!(
                got.as_ref() == Some(data),
                "seed {seed}: synced {path} reads {:?} bytes, not {}",
                got.map(|g| g.len()),
                data.len()
            );
        }
        for (path, content) in &found {
            match (content, unsynced.get(path)) {
                (Some(got), Some(written)) => {
                    assert!(
                        got.is_empty() || got == written,
                        "seed {seed}: {path} reads as neither empty nor what was written"
                    )
                }
                (Some(got), None) => {
                    assert!(model.get(path) == Some(got) || uncertain.contains(path), "seed {seed}: unexpected {path}")
                }
                (None, _) => assert!(["/a", "/b", "/c"].contains(&path.as_str()), "seed {seed}: unexpected dir {path}"),
            }
        }
        assert!(rig.faulty.injected() > 0);
    }
}

#[tokio::test]
async fn a_damaged_child_is_listed_and_gives_eio_while_its_siblings_read() {
    let rig = Rig::new();
    let fs = rig.faulty_fs().await;
    let root = fs.root();
    for name in ["a", "b", "c"] {
        write_file(&fs, root, name, name.as_bytes()).await.unwrap();
    }
    fs.sync(None).await.unwrap();
    let victim = fs.lookup(root, "b").await.unwrap().address;
    rig.silo.erase(victim).await.unwrap();
    let after = rig.after_crash().await;
    let names: Vec<String> = after.readdir(root).await.unwrap().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["a", "b", "c"]);
    assert!(matches!(after.stat(victim).await, Err(FsError::Corrupt(_))), "a missing header is EIO, not ENOENT");
    for name in ["a", "c"] {
        let e = after.lookup(root, name).await.unwrap();
        assert_eq!(after.read(e.address, 0, 10).await.unwrap(), name.as_bytes());
    }
}

#[tokio::test]
async fn two_writers_on_one_directory_both_keep_their_entries() {
    two_writers_on_one_directory_both_keep_their_entries_with(Rig::new).await;
}

#[tokio::test]
async fn two_writers_on_one_directory_both_keep_their_entries_in_sharded_directories() {
    two_writers_on_one_directory_both_keep_their_entries_with(Rig::sharded).await;
}

async fn two_writers_on_one_directory_both_keep_their_entries_with(make: fn() -> Rig) {
    let rig = make();
    let mut first = rig.faulty_fs().await;
    first.set_revalidate(Duration::ZERO);
    let second = rig.after_crash().await;
    let root = first.root();
    assert_eq!(second.root(), root);
    // Both see the empty root, then both create at once.
    assert!(first.readdir(root).await.unwrap().is_empty());
    assert!(second.readdir(root).await.unwrap().is_empty());
    for i in 0..20 {
        write_file(&first, root, &format!("a{i}"), b"first").await.unwrap();
        write_file(&second, root, &format!("b{i}"), b"second").await.unwrap();
    }
    first.create(root, "same", 0o644, 0, 0).await.unwrap();
    second.create(root, "same", 0o644, 0, 0).await.unwrap();
    first.sync(None).await.unwrap();
    // The second writer's directory store conflicts and is replayed.
    second.sync(None).await.unwrap();
    first.sync(None).await.unwrap();
    rig.assert_sharded_if_asked(root).await;
    let names_first: Vec<String> = first.readdir(root).await.unwrap().into_iter().map(|(n, _)| n).collect();
    let names_second: Vec<String> = second.readdir(root).await.unwrap().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names_first, names_second, "both converge to one tree");
    assert_eq!(names_first.len(), 42, "{names_first:?}");
    assert!(names_first.iter().any(|n| n.starts_with("same.conflict-")), "the loser of a name keeps its file");
    let mut found = BTreeMap::new();
    walk(&rig.after_crash().await, root, "", &mut found).await;
    for i in 0..20 {
        assert_eq!(found[&format!("/a{i}")], Some(b"first".to_vec()));
        assert_eq!(found[&format!("/b{i}")], Some(b"second".to_vec()));
    }
    // A removal by one is seen by the other, and a change to a removed
    // entry does not bring it back.
    second.unlink(root, "a3").await.unwrap();
    second.sync(None).await.unwrap();
    assert!(matches!(first.lookup(root, "a3").await, Err(FsError::NotFound)));
}

#[tokio::test]
async fn a_huge_sparse_file_costs_no_chunk_table() {
    let rig = Rig::new();
    let fs = rig.faulty_fs().await;
    let f = fs.create(fs.root(), "sparse", 0o644, 0, 0).await.unwrap();
    fs.truncate(f, 16 << 40).await.unwrap();
    fs.write(f, (8 << 40) + 3, b"middle").await.unwrap();
    fs.sync(None).await.unwrap();
    match fs.load_node(f).await.unwrap() {
        Node::File { size, chunks, patches, .. } => {
            assert_eq!(size, 16 << 40);
            // The six bytes are one patch over a hole: no chunk at all.
            assert!(chunks.is_empty(), "{chunks:?}");
            assert_eq!(patches.len(), 1);
            assert_eq!(patches[0].chunks, [(8 << 40) / 4096]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(fs.read(f, (8 << 40) + 3, 6).await.unwrap(), b"middle");
    assert_eq!(fs.read(f, 1 << 40, 4).await.unwrap(), [0; 4]);
}

#[tokio::test]
async fn forgotten_clean_nodes_leave_memory_and_come_back_from_the_store() {
    let rig = Rig::new();
    let fs = rig.faulty_fs().await;
    let root = fs.root();
    let mut files = Vec::new();
    for i in 0..50 {
        files.push(write_file(&fs, root, &format!("f{i}"), format!("content {i}").as_bytes()).await.unwrap());
    }
    let before = fs.nodes_in_memory();
    assert!(before > 50, "{before}");
    // A node with unstored changes is never dropped.
    fs.forget(files[0]);
    assert_eq!(fs.nodes_in_memory(), before);
    fs.sync(None).await.unwrap();
    for f in &files {
        fs.forget(*f);
    }
    fs.forget(root);
    assert_eq!(fs.nodes_in_memory(), 1, "only the root stays");
    for (i, f) in files.iter().enumerate() {
        assert_eq!(fs.read(*f, 0, 100).await.unwrap(), format!("content {i}").as_bytes());
    }
}

#[tokio::test]
async fn new_nodes_inherit_their_directorys_access_list() {
    use crate::runtime::block::{AccessList, AclEntry};
    use crate::runtime::consensus::ConsensusExt;
    let rig = Rig::new();
    let bob = KeyPair::generate().unwrap();
    let root = {
        let fs = rig.faulty_fs().await;
        fs.root()
    };
    // The owner shares the root with bob (what `infinit acl` will do).
    let Some(Block::Acl(block)) = rig.single.fetch_block(root).await.unwrap() else { panic!("root is a node") };
    let shared = AccessList { entries: vec![AclEntry::new(bob.public(), true, false)], ..AccessList::default() };
    rig.single.store_next(Block::Acl(block.set_access(&rig.keys, shared.clone()).unwrap())).await.unwrap();
    let fs = rig.after_crash().await;
    let d = fs.mkdir(root, "d", 0o755, 0, 0).await.unwrap();
    let f = write_file(&fs, d, "f", b"for bob too").await.unwrap();
    fs.sync(None).await.unwrap();
    for address in [d, f] {
        let Some(Block::Acl(stored)) = rig.single.fetch_block(address).await.unwrap() else { panic!("a node") };
        assert_eq!(stored.access, shared, "{address} inherits the access list");
        assert!(stored.read(&bob).is_ok(), "bob can read {address}");
    }
}

#[tokio::test]
async fn with_write_through_two_writers_of_one_name_get_one_success_and_one_eexist() {
    with_write_through_two_writers_of_one_name_get_one_success_and_one_eexist_with(Rig::new).await;
}

#[tokio::test]
async fn with_write_through_two_writers_of_one_name_get_one_success_and_one_eexist_in_sharded_directories() {
    with_write_through_two_writers_of_one_name_get_one_success_and_one_eexist_with(Rig::sharded).await;
}

async fn with_write_through_two_writers_of_one_name_get_one_success_and_one_eexist_with(make: fn() -> Rig) {
    let rig = make();
    // (With flushers, as mounted: a lease holder gives the lease up when asked.)
    let first = networked(rig.faulty_fs().await);
    let second = networked(rig.after_crash().await);
    let root = first.root();
    // Both saw the name free, so neither refuses it up front.
    assert!(first.readdir(root).await.unwrap().is_empty());
    assert!(second.readdir(root).await.unwrap().is_empty());
    let (a, b) = tokio::join!(first.create(root, "same", 0o644, 0, 0), second.create(root, "same", 0o644, 0, 0));
    assert!(a.is_ok() != b.is_ok(), "exactly one create wins: {a:?} {b:?}");
    assert!(matches!(a.as_ref().err().or(b.as_ref().err()), Some(FsError::Exists)));
    // Different names both succeed, and an unlink of an entry the other
    // writer already removed is ENOENT, not a silent success.
    for i in 0..10 {
        first.create(root, &format!("a{i}"), 0o644, 0, 0).await.unwrap();
        second.create(root, &format!("b{i}"), 0o644, 0, 0).await.unwrap();
    }
    first.unlink(root, "a0").await.unwrap();
    assert!(matches!(second.unlink(root, "a0").await, Err(FsError::NotFound)));
    rig.assert_sharded_if_asked(root).await;
    let mut found = BTreeMap::new();
    walk(&rig.after_crash().await, root, "", &mut found).await;
    assert_eq!(found.len(), 20, "{:?}", found.keys().collect::<Vec<_>>());
    assert!(!found.keys().any(|n| n.contains("conflict")), "no conflict copies in write-through mode");
}

#[tokio::test]
async fn changes_by_another_writer_are_announced_for_the_kernels_caches() {
    let rig = Rig::new();
    let mut first = rig.faulty_fs().await;
    first.set_revalidate(Duration::ZERO);
    let root = first.root();
    let f = write_file(&first, root, "kept", b"1").await.unwrap();
    write_file(&first, root, "gone", b"2").await.unwrap();
    first.sync(None).await.unwrap();
    let mut changes = first.watch_changes();
    let second = rig.after_crash().await;
    second.create(root, "new", 0o644, 0, 0).await.unwrap();
    second.unlink(root, "gone").await.unwrap();
    second.setattr(f, SetAttr { mode: Some(0o600), ..SetAttr::default() }).await.unwrap();
    second.sync(None).await.unwrap();
    // Nothing is announced for this writer's own changes.
    assert!(changes.try_recv().is_err());
    first.readdir(root).await.unwrap();
    first.stat(f).await.unwrap();
    let mut seen = Vec::new();
    while let Ok(change) = changes.try_recv() {
        seen.push(change);
    }
    for expected in
        [Change::Node(root), Change::Entry(root, "new".into()), Change::Entry(root, "gone".into()), Change::Node(f)]
    {
        assert!(seen.contains(&expected), "{expected:?} not in {seen:?}");
    }
    assert!(!seen.contains(&Change::Entry(root, "kept".into())), "{seen:?}");
}

/// A crash between storing a rename's new entry and removing the old one
/// leaves the file under both names: its stored link count must say two,
/// or unlinking either name destroys the file the other still names.
#[tokio::test]
async fn a_crash_inside_a_rename_across_directories_never_undercounts_links() {
    a_crash_inside_a_rename_across_directories_never_undercounts_links_with(Rig::new).await;
}

#[tokio::test]
async fn a_crash_inside_a_rename_across_directories_never_undercounts_links_in_sharded_directories() {
    a_crash_inside_a_rename_across_directories_never_undercounts_links_with(Rig::sharded).await;
}

async fn a_crash_inside_a_rename_across_directories_never_undercounts_links_with(make: fn() -> Rig) {
    for crash_at in 0..8u64 {
        let rig = make();
        let fs = rig.faulty_fs().await;
        let root = fs.root();
        let (a, b) = (fs.mkdir(root, "a", 0o755, 0, 0).await.unwrap(), fs.mkdir(root, "b", 0o755, 0, 0).await.unwrap());
        let data = pattern(crash_at, 5000);
        write_file(&fs, a, "f", &data).await.unwrap();
        fs.sync(None).await.unwrap();
        for dir in [root, a] {
            rig.assert_sharded_if_asked(dir).await;
        }
        rig.faulty.crash_after(crash_at);
        fs.rename(a, "f", b, "g", false).await.unwrap();
        let _ = fs.flush_metadata().await;
        drop(fs);
        rig.faulty.heal();
        let after = rig.after_crash().await;
        let mut names = Vec::new();
        for (d, n) in [(a, "f"), (b, "g")] {
            if after.lookup(d, n).await.is_ok() {
                names.push((d, n));
            }
        }
        assert!(!names.is_empty(), "crash after {crash_at} writes: the file is in neither directory");
        let f = after.lookup(names[0].0, names[0].1).await.unwrap().address;
        let nlink = after.stat(f).await.unwrap().nlink as usize;
        assert!(nlink >= names.len(), "crash after {crash_at} writes: {} names, link count {nlink}", names.len());
        // Unlink every name but the last: the file must still read.
        for (d, n) in &names[..names.len() - 1] {
            after.unlink(*d, n).await.unwrap();
        }
        after.sync(None).await.unwrap();
        let (d, n) = names[names.len() - 1];
        let again = rig.after_crash().await;
        let f = again.lookup(d, n).await.unwrap_or_else(|e| panic!("crash after {crash_at} writes: {n}: {e}"));
        let got = again.read(f.address, 0, 10_000).await.unwrap_or_else(|e| panic!("crash after {crash_at}: {e}"));
        assert_eq!(got, data, "crash after {crash_at} writes");
    }
}

/// A file of 64 chunks through the fault injector, stored whole and synced,
/// compacting after a few patches; returns it and its content.
async fn patched_file(rig: &Rig) -> (FileSystem, Address, Vec<u8>) {
    let mut fs = rig.faulty_fs().await;
    fs.set_patch_bounds(super::patch::Bounds::tight(4096));
    let data = pattern(5, 64 * 4096);
    let f = fs.create(fs.root(), "f", 0o644, 0, 0).await.unwrap();
    fs.open_file(f).await.unwrap();
    fs.write(f, 0, &data).await.unwrap();
    fs.sync(None).await.unwrap();
    (fs, f, data)
}

/// Small writes at scattered offsets, the same on the file and on `model`.
async fn scatter(fs: &FileSystem, f: Address, model: &mut [u8], round: u64) -> FsResult<()> {
    for k in 0..8u64 {
        let offset = ((round * 8 + k) * 40_503 % (model.len() as u64 - 700)) as usize;
        let data = pattern(round * 8 + k + 100, 300 + (k as usize * 50));
        model[offset..offset + data.len()].copy_from_slice(&data);
        fs.write(f, offset as u64, &data).await?;
    }
    Ok(())
}

/// `rounds` rounds of scattered writes to `f` (and `model`), each with
/// failures armed by `fail(round)` for its `fsync`; then the injector
/// heals, an `fsync` succeeds, and the file reads as `model`.
async fn rounds_with_failures(
    rig: &Rig,
    fs: &FileSystem,
    f: Address,
    model: &mut [u8],
    rounds: u64,
    fail: impl Fn(u64),
) {
    for round in 0..rounds {
        scatter(fs, f, model, round).await.unwrap();
        fail(round);
        let _ = fs.sync(Some(f)).await;
        rig.faulty.heal();
        fs.sync(Some(f)).await.unwrap_or_else(|e| panic!("round {round}: {e}"));
        assert_eq!(fs.read(f, 0, model.len() as u32).await.unwrap(), model, "round {round}");
    }
}

#[tokio::test]
async fn a_failed_patch_store_keeps_the_extents_for_the_next_fsync() {
    let rig = Rig::new();
    let (fs, f, mut model) = patched_file(&rig).await;
    // The patch (or, past the bounds, a compaction's chunk) fails to store.
    let fail = |round: u64| rig.faulty.fail_next(FaultTarget::Write, FAULTS[(round % 4) as usize]);
    rounds_with_failures(&rig, &fs, f, &mut model, 30, fail).await;
    assert!(rig.faulty.injected() >= 30);
    fs.release(f).await.unwrap();
    fs.sync(None).await.unwrap();
    let after = rig.after_crash().await;
    assert_eq!(after.read(f, 0, model.len() as u32).await.unwrap(), model);
    let Node::File { patches, .. } = after.load_node(f).await.unwrap() else { panic!("a file") };
    assert!(!patches.is_empty(), "the last writes are patches");
}

/// Stores that fail for certain (no indeterminate outcome) inside flushes
/// and compactions, whose folds run side by side: once the stores work
/// again, the file reads back whole, and the offline check finds no block
/// that nothing names (a fold still running when another failed is waited
/// for and recorded, not left behind).
#[tokio::test]
async fn failed_compactions_leave_no_block_unnamed() {
    let rig = Rig::new();
    let (fs, f, mut model) = patched_file(&rig).await;
    let fail = |round: u64| rig.faulty.fail_randomly(round, 300, &[Fault::SiloIo], FaultTarget::Write);
    rounds_with_failures(&rig, &fs, f, &mut model, 40, fail).await;
    assert!(rig.faulty.injected() >= 20, "only {} failures injected", rig.faulty.injected());
    closes_clean(&rig, fs, f, &model).await;
}

/// Close `f`, sync `fs` and drop it; then the offline check finds nothing
/// to report, and the file stored reads as `model`.
async fn closes_clean(rig: &Rig, fs: FileSystem, f: Address, model: &[u8]) {
    use crate::runtime::fs::check::{Floors, check};
    fs.release(f).await.unwrap();
    fs.sync(None).await.unwrap();
    drop(fs);
    let report = check(&*rig.silo, &rig.keys, "v", &Floors::new()).await.unwrap();
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    let after = rig.after_crash().await;
    assert_eq!(after.read(f, 0, model.len() as u32).await.unwrap(), model);
}

/// [`patched_file`] on a file system that leaves compactions to the
/// background, shared with the compactor the test starts.
async fn compacting_in_background(rig: &Rig) -> (Arc<FileSystem>, Address, Vec<u8>) {
    let (fs, f, model) = patched_file(rig).await;
    fs.set_background_compaction(true);
    (Arc::new(fs), f, model)
}

/// Background compactions (read the header, compact without the file's
/// lock, record the result if the header did not change under it) alone
/// and racing small writes, whole-chunk writes and `fsync`s: every round
/// the file reads as written; a compaction alone brings the patches back
/// within bounds; one raced by a whole-chunk write is dropped, with what
/// it stored; and at the end the offline check finds nothing unnamed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn background_compactions_racing_writes_keep_every_byte_and_leave_nothing_unnamed() {
    let rig = Rig::new();
    let (fs, f, mut model) = compacting_in_background(&rig).await;
    let bounds = super::patch::Bounds::tight(4096);
    let (mut waited, mut solo, mut raced) = (0, 0, 0);
    for round in 0..48u64 {
        scatter(&fs, f, &mut model, round).await.unwrap();
        fs.sync(Some(f)).await.unwrap();
        let Node::File { patches, .. } = fs.load_node(f).await.unwrap() else { panic!("a file") };
        assert!(patches.len() <= 2 * bounds.max_patches, "round {round}: {} patches", patches.len());
        if lock(&fs.compactions).is_empty() {
            continue;
        }
        waited += 1;
        let gate = fs.install_gate.lock().await;
        let compactor = {
            let fs = fs.clone();
            tokio::spawn(async move { fs.compact_waiting().await })
        };
        // The compaction's work is done, its result not recorded yet.
        fs.at_install.notified().await;
        if round % 2 == 0 {
            drop(gate);
            compactor.await.unwrap();
            let Node::File { patches, size, .. } = fs.load_node(f).await.unwrap() else { panic!("a file") };
            assert!(!bounds.needs_compaction(&patches, 0, size), "round {round}: still {} patches", patches.len());
            solo += 1;
        } else {
            // Racing: more scattered writes, a whole chunk rewritten, fsync.
            scatter(&fs, f, &mut model, round + 1000).await.unwrap();
            let chunk = (round * 7 % 64) as usize * 4096;
            let whole = pattern(round + 5000, 4096);
            model[chunk..chunk + 4096].copy_from_slice(&whole);
            fs.write(f, chunk as u64, &whole).await.unwrap();
            fs.sync(Some(f)).await.unwrap();
            drop(gate);
            compactor.await.unwrap();
            raced += 1;
        }
        assert_eq!(fs.read(f, 0, model.len() as u32).await.unwrap(), model, "round {round}");
    }
    assert!(
        waited >= 8 && solo >= 4 && raced >= 4,
        "compactions left to the background: {waited}, run alone: {solo}, raced: {raced}"
    );
    let fs = Arc::into_inner(fs).expect("no compactor holds the file system");
    closes_clean(&rig, fs, f, &model).await;
}

/// An unmount that starts while a background compaction is between its
/// work and its install waits for it: the compaction is recorded and
/// stored by the unmount's sync, and nothing it wrote is left unnamed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unmount_waits_for_the_background_compaction_under_way() {
    let rig = Rig::new();
    let (fs, f, mut model) = compacting_in_background(&rig).await;
    let mut round = 0;
    while lock(&fs.compactions).is_empty() {
        scatter(&fs, f, &mut model, round).await.unwrap();
        fs.sync(Some(f)).await.unwrap();
        round += 1;
        assert!(round < 64, "no compaction was left to the background");
    }
    let gate = fs.install_gate.lock().await;
    let compactor = {
        let fs = fs.clone();
        tokio::spawn(async move { fs.compact_waiting().await })
    };
    fs.at_install.notified().await;
    let unmount = {
        let fs = fs.clone();
        tokio::spawn(async move { fs.sync_for_unmount().await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!unmount.is_finished(), "the unmount did not wait for the compaction");
    drop(gate);
    compactor.await.unwrap();
    unmount.await.unwrap().unwrap();
    let stored = rig.after_crash().await;
    let Node::File { patches, size, .. } = stored.load_node(f).await.unwrap() else { panic!("a file") };
    assert!(
        !super::patch::Bounds::tight(4096).needs_compaction(&patches, 0, size),
        "the compaction was not stored by the unmount: {} patches",
        patches.len()
    );
    drop(stored);
    let fs = Arc::into_inner(fs).expect("no compactor holds the file system");
    closes_clean(&rig, fs, f, &model).await;
}

/// A crash at any write of a background compaction (its chunks, its
/// patches, the header recording them, the removals after) and of the
/// flushes beside it leaves a file that reads as one of the states an
/// `fsync` was writing, never a mix, zeros or a missing block.
#[tokio::test]
async fn a_crash_during_a_background_compaction_reads_a_synced_state() {
    for crash_at in 0..40u64 {
        let rig = Rig::new();
        let (fs, f, mut model) = patched_file(&rig).await;
        fs.set_background_compaction(true);
        let mut states = vec![model.clone()];
        // Enough patches that a compaction waits, then the crash.
        for round in 0..12 {
            scatter(&fs, f, &mut model, round).await.unwrap();
            fs.sync(Some(f)).await.unwrap();
            states.push(model.clone());
        }
        assert!(!lock(&fs.compactions).is_empty(), "no compaction was left to the background");
        rig.faulty.crash_after(crash_at);
        for round in 12..20 {
            fs.compact_waiting().await;
            if scatter(&fs, f, &mut model, round).await.is_err() {
                break;
            }
            // A failed `fsync` may have stored its state all the same.
            let _ = fs.sync(Some(f)).await;
            states.push(model.clone());
        }
        reads_a_flushed_state(&rig, fs, f, &states, crash_at).await;
    }
}

/// After the crash that ends `fs` (its store healed), file `f` stored on
/// `rig` reads whole as one of `states`.
async fn reads_a_flushed_state(rig: &Rig, fs: FileSystem, f: Address, states: &[Vec<u8>], crash_at: u64) {
    drop(fs);
    rig.faulty.heal();
    let after = rig.after_crash().await;
    let len = states.last().map_or(0, Vec::len) as u32;
    let got = after.read(f, 0, len).await.unwrap_or_else(|e| panic!("crash at {crash_at}: {e}"));
    assert!(
        states.contains(&got),
        "crash after {crash_at} writes: the file reads as none of the {} states flushed",
        states.len()
    );
}

/// A crash at any write of patch flushes and compactions (chunks, patches,
/// the header, the removals of what they replace), after random failed
/// stores, leaves a stored file
/// that reads as one of the states a flush was writing, never zeros or a
/// mix, and names no missing block.
#[tokio::test]
async fn a_crash_during_patch_flushes_and_compactions_reads_old_or_new_content() {
    for crash_at in 0..48u64 {
        let rig = Rig::new();
        let (fs, f, mut model) = patched_file(&rig).await;
        let mut states = vec![model.clone()];
        // Stores also fail now and then before the crash, so a header can
        // fail while the removals after it go through.
        rig.faulty.fail_randomly(crash_at, 250, &FAULTS, FaultTarget::Write);
        rig.faulty.crash_after(crash_at);
        for round in 0..16 {
            if scatter(&fs, f, &mut model, round).await.is_err() {
                break;
            }
            let _ = fs.sync(Some(f)).await;
            states.push(model.clone());
        }
        reads_a_flushed_state(&rig, fs, f, &states, crash_at).await;
    }
}

/// The header recording a patch flush (or a compaction, which replaces
/// chunks and patches) fails to store, the removals after it do not, and
/// the node dies: the stored header still reads, with the content before.
#[tokio::test]
async fn a_crash_after_a_failed_header_store_reads_the_content_before() {
    for failing in 0..12u64 {
        let rig = Rig::new();
        let (fs, f, mut model) = patched_file(&rig).await;
        for round in 0..failing {
            scatter(&fs, f, &mut model, round).await.unwrap();
            fs.sync(Some(f)).await.unwrap();
        }
        let before = model.clone();
        scatter(&fs, f, &mut model, failing).await.unwrap();
        fs.flush(f).await.unwrap();
        for _ in 0..3 {
            rig.faulty.fail_next(FaultTarget::Write, Fault::SiloIo);
        }
        assert!(fs.flush_metadata().await.is_err(), "round {failing}: the header store fails");
        drop(fs);
        rig.faulty.heal();
        let after = rig.after_crash().await;
        let got = after.read(f, 0, model.len() as u32).await.unwrap_or_else(|e| panic!("round {failing}: {e}"));
        assert!(got == before, "round {failing}: not the content before the failed flush");
    }
}

/// A crash at any store of a directory's rename across directories leaves
/// it under exactly one name, its content intact; the stale name a crash
/// may leave is hidden, reported by `volume check` and unlinked by repair;
/// renaming again to the same name works.
#[tokio::test]
async fn a_crash_inside_a_directory_rename_leaves_exactly_one_name() {
    a_crash_inside_a_directory_rename_leaves_exactly_one_name_with(Rig::new).await;
}

#[tokio::test]
async fn a_crash_inside_a_directory_rename_leaves_exactly_one_name_in_sharded_directories() {
    a_crash_inside_a_directory_rename_leaves_exactly_one_name_with(Rig::sharded).await;
}

async fn a_crash_inside_a_directory_rename_leaves_exactly_one_name_with(make: fn() -> Rig) {
    use crate::runtime::fs::check::{FindingKind, Floors, check, repair};
    let mut stale_seen = 0;
    for crash_at in 0..8u64 {
        let rig = make();
        let fs = rig.faulty_fs().await;
        let root = fs.root();
        let (a, b) = (fs.mkdir(root, "a", 0o755, 0, 0).await.unwrap(), fs.mkdir(root, "b", 0o755, 0, 0).await.unwrap());
        let d = fs.mkdir(a, "d", 0o755, 0, 0).await.unwrap();
        let data = pattern(crash_at, 3000);
        write_file(&fs, d, "f", &data).await.unwrap();
        fs.sync(None).await.unwrap();
        for dir in [root, a, d] {
            rig.assert_sharded_if_asked(dir).await;
        }
        rig.faulty.crash_after(crash_at);
        fs.rename(a, "d", b, "e", false).await.unwrap();
        let _ = fs.flush_metadata().await;
        drop(fs);
        rig.faulty.heal();
        let at = format!("crash after {crash_at} writes");

        let after = rig.after_crash().await;
        let live: Vec<(Address, &str)> = {
            let mut live = Vec::new();
            for (dir, name) in [(a, "d"), (b, "e")] {
                if let Ok(e) = after.lookup(dir, name).await {
                    assert_eq!(e.address, d, "{at}");
                    live.push((dir, name));
                }
            }
            live
        };
        assert_eq!(live.len(), 1, "{at}: the directory has names {live:?}");
        let mut listed = Vec::new();
        for dir in [a, b] {
            listed.extend(after.readdir(dir).await.unwrap().into_iter().map(|(n, _)| n));
        }
        assert_eq!(listed, vec![live[0].1.to_string()], "{at}: listings show the one name");
        let f = after.lookup(d, "f").await.unwrap().address;
        assert_eq!(after.read(f, 0, 10_000).await.unwrap(), data, "{at}");
        drop(after);

        // The offline check names what a crash left, and repair clears it.
        let report = check(&*rig.silo, &rig.keys, "v", &Floors::new()).await.unwrap();
        for finding in &report.findings {
            assert!(
                matches!(finding.kind, FindingKind::Stale | FindingKind::Orphan | FindingKind::Leaked),
                "{at}: {finding:?}"
            );
        }
        stale_seen += report.findings.iter().filter(|f| f.kind == FindingKind::Stale).count();
        let repaired = repair(&*rig.silo, &rig.keys, &report).await.unwrap();
        assert!(repaired.failed.is_empty(), "{at}: {repaired:?}");
        let again = check(&*rig.silo, &rig.keys, "v", &Floors::new()).await.unwrap();
        assert!(again.findings.is_empty(), "{at}: after repair: {:?}", again.findings);

        // Done again (or back), the rename ends with the one new name.
        let fs = rig.after_crash().await;
        let (dir, name) = live[0];
        if (dir, name) == (a, "d") {
            fs.rename(a, "d", b, "e", false).await.unwrap();
        } else {
            fs.rename(b, "e", a, "d", false).await.unwrap();
            fs.rename(a, "d", b, "e", false).await.unwrap();
        }
        fs.sync(None).await.unwrap();
        let fs = rig.after_crash().await;
        assert!(matches!(fs.lookup(a, "d").await, Err(FsError::NotFound)), "{at}");
        assert_eq!(fs.lookup(b, "e").await.unwrap().address, d, "{at}");
        assert!(fs.readdir(a).await.unwrap().is_empty(), "{at}");
        fs.rmdir(root, "a").await.unwrap();
    }
    assert!(stale_seen > 0, "no crash point left a stale entry: the test tests nothing");
}

/// A stale entry (left by a crashed rename) hides nothing and blocks
/// nothing: its name can be taken, and the directory holding it removed.
#[tokio::test]
async fn a_stale_entry_neither_takes_its_name_nor_keeps_its_directory_busy() {
    let rig = Rig::new();
    let fs = rig.faulty_fs().await;
    let root = fs.root();
    let (a, b) = (fs.mkdir(root, "a", 0o755, 0, 0).await.unwrap(), fs.mkdir(root, "b", 0o755, 0, 0).await.unwrap());
    let d = fs.mkdir(a, "d", 0o755, 0, 0).await.unwrap();
    fs.sync(None).await.unwrap();
    // What a crash right after storing the new entry leaves.
    let entry = Entry { address: d, kind: NodeKind::Directory };
    fs.change(b, insert_entry("e", entry, None), Vec::new()).await.unwrap();
    fs.sync(None).await.unwrap();
    let fs = rig.after_crash().await;
    assert!(matches!(fs.lookup(b, "e").await, Err(FsError::NotFound)));
    assert!(fs.readdir(b).await.unwrap().is_empty());
    assert_eq!(fs.lookup(a, "d").await.unwrap().address, d);
    let taken = fs.create(b, "e", 0o644, 0, 0).await.unwrap();
    assert_eq!(fs.lookup(b, "e").await.unwrap().address, taken, "the stale name was free");
    fs.unlink(b, "e").await.unwrap();
    fs.change(b, insert_entry("x", entry, None), Vec::new()).await.unwrap();
    fs.rmdir(root, "b").await.unwrap();
    fs.sync(None).await.unwrap();
    let fs = rig.after_crash().await;
    assert_eq!(fs.lookup(a, "d").await.unwrap().address, d, "the directory the stale entry named lives on");
}

/// The CI crash test's deadlock, step by step: an entry left out of a
/// stored directory because its file was not stored yet (here: every store
/// of that file fails) was kept pending even after the file was unlinked,
/// and held up, through a rename's ordering, a directory moved into the
/// first one and every later change there — while `fsync` said `Ok`.
#[tokio::test]
async fn an_entry_for_a_file_unlinked_before_it_was_stored_holds_nothing_up() {
    let rig = Rig::new();
    let fs = rig.faulty_fs().await;
    let root = fs.root();
    let a = fs.mkdir(root, "a", 0o755, 0, 0).await.unwrap();
    let d = fs.mkdir(root, "d", 0o755, 0, 0).await.unwrap();
    fs.sync(None).await.unwrap();
    // `d` is stored naming its new file `f` later: `f` cannot be stored.
    let f = fs.create(d, "f", 0o644, 0, 0).await.unwrap();
    rig.faulty.block_writes_to(f);
    assert!(fs.flush_metadata().await.is_err(), "f cannot be stored");
    // Move `f` to `a`; `a` is stored with `r` left out; the removal from
    // `d` waits for that entry.
    fs.rename(d, "f", a, "r", false).await.unwrap();
    assert!(fs.flush_metadata().await.is_err(), "f still cannot be stored");
    // Move `a` into `d`: `a`'s new parent waits for `d`'s new entry,
    // which comes after the removal above.
    fs.rename(root, "a", d, "m", false).await.unwrap();
    // `f` goes before it was ever stored: nothing will ever be stored for it.
    fs.unlink(a, "r").await.unwrap();
    rig.faulty.heal();
    let data = pattern(7, 5000);
    let g = write_file(&fs, d, "g", &data).await.unwrap();
    fs.sync(Some(g)).await.expect("everything can be stored now");
    let after = rig.after_crash().await;
    let entry = after.lookup(d, "g").await.expect("the fsynced file is named");
    assert_eq!(after.read(entry.address, 0, 10_000).await.unwrap(), data);
    assert_eq!(after.lookup(d, "m").await.unwrap().address, a, "the moved directory is in its new place");
    assert!(matches!(after.lookup(root, "a").await, Err(FsError::NotFound)), "and only there");
    assert!(matches!(after.lookup(a, "r").await, Err(FsError::NotFound)));
}

/// A flush that cannot store a change made before it says so: `fsync`
/// never returns `Ok` while an earlier change is only in memory.
#[tokio::test]
async fn fsync_fails_while_an_earlier_change_cannot_be_stored() {
    let rig = Rig::new();
    let fs = rig.faulty_fs().await;
    let root = fs.root();
    let d = fs.mkdir(root, "d", 0o755, 0, 0).await.unwrap();
    fs.sync(None).await.unwrap();
    rig.faulty.block_writes_to(d);
    let f = fs.create(d, "f", 0o644, 0, 0).await.unwrap();
    fs.open_file(f).await.unwrap();
    fs.write(f, 0, b"hello").await.unwrap();
    assert!(fs.sync(Some(f)).await.is_err(), "the directory naming f cannot be stored");
    rig.faulty.heal();
    fs.sync(Some(f)).await.unwrap();
    fs.release(f).await.unwrap();
    let after = rig.after_crash().await;
    let entry = after.lookup(d, "f").await.unwrap();
    assert_eq!(after.read(entry.address, 0, 100).await.unwrap(), b"hello");
}

/// A file with two names is removed only once both removals are stored:
/// when the first name's directory cannot be stored yet, the file stays
/// even though the second removal is stored (else a crash leaves the
/// first name dangling).
#[tokio::test]
async fn a_file_is_removed_only_once_every_name_is_gone_from_the_store() {
    let rig = Rig::new();
    let fs = rig.faulty_fs().await;
    let root = fs.root();
    let a = fs.mkdir(root, "a", 0o755, 0, 0).await.unwrap();
    let b = fs.mkdir(root, "b", 0o755, 0, 0).await.unwrap();
    let data = pattern(3, 3000);
    let f = write_file(&fs, a, "x", &data).await.unwrap();
    fs.link(f, b, "y").await.unwrap();
    fs.sync(None).await.unwrap();
    rig.faulty.block_writes_to(a);
    fs.unlink(a, "x").await.unwrap();
    fs.unlink(b, "y").await.unwrap();
    assert!(fs.flush_metadata().await.is_err(), "a cannot be stored");
    // A crash now: `a` still names the file, which must still be there.
    let after = rig.after_crash().await;
    let entry = after.lookup(a, "x").await.unwrap();
    assert_eq!(after.read(entry.address, 0, 10_000).await.unwrap(), data, "a stored name never dangles");
    assert!(matches!(after.lookup(b, "y").await, Err(FsError::NotFound)));
    rig.faulty.heal();
    fs.sync(None).await.unwrap();
    let after = rig.after_crash().await;
    assert!(matches!(after.lookup(a, "x").await, Err(FsError::NotFound)));
    assert!(matches!(rig.single.fetch(f, ReadLevel::Latest).await.unwrap(), Fetched::Removed(_)), "then it goes");
}

/// `rm -r` of a directory whose parent cannot be stored yet: the file
/// inside is removed only once the directory naming it is, so a crash
/// meanwhile leaves the tree as it was, never a name of a removed file.
#[tokio::test]
async fn a_removed_directorys_files_go_only_after_the_directory_goes() {
    a_removed_directorys_files_go_only_after_the_directory_goes_with(Rig::new).await;
}

#[tokio::test]
async fn a_removed_directorys_files_go_only_after_the_directory_goes_in_sharded_directories() {
    a_removed_directorys_files_go_only_after_the_directory_goes_with(Rig::sharded).await;
}

async fn a_removed_directorys_files_go_only_after_the_directory_goes_with(make: fn() -> Rig) {
    let rig = make();
    let fs = rig.faulty_fs().await;
    let root = fs.root();
    let d = fs.mkdir(root, "d", 0o755, 0, 0).await.unwrap();
    let data = pattern(5, 2000);
    let f = write_file(&fs, d, "f", &data).await.unwrap();
    fs.sync(None).await.unwrap();
    for dir in [root, d] {
        rig.assert_sharded_if_asked(dir).await;
    }
    rig.faulty.block_writes_to(root);
    fs.unlink(d, "f").await.unwrap();
    fs.rmdir(root, "d").await.unwrap();
    assert!(fs.flush_metadata().await.is_err(), "the root cannot be stored");
    let after = rig.after_crash().await;
    let d = after.lookup(root, "d").await.expect("the root is as it was");
    match after.lookup(d.address, "f").await {
        Ok(f) => assert_eq!(after.read(f.address, 0, 10_000).await.unwrap(), data, "a stored name never dangles"),
        Err(FsError::NotFound) => {}
        Err(e) => panic!("{e}"),
    }
    rig.faulty.heal();
    fs.sync(None).await.unwrap();
    let after = rig.after_crash().await;
    assert!(matches!(after.lookup(root, "d").await, Err(FsError::NotFound)));
    for gone in [d.address, f] {
        assert!(rig.single.fetch(gone, ReadLevel::Latest).await.unwrap().is_removed(), "then both go");
    }
}

/// Names made and removed between two flushes (link, then unlink both
/// names) are stored in order and the file goes: nothing waits forever.
#[tokio::test]
async fn a_link_and_both_unlinks_between_flushes_store_and_remove_the_file() {
    let rig = Rig::new();
    let fs = rig.faulty_fs().await;
    let root = fs.root();
    let d = fs.mkdir(root, "d", 0o755, 0, 0).await.unwrap();
    let f = write_file(&fs, root, "f", b"x").await.unwrap();
    fs.sync(None).await.unwrap();
    fs.link(f, d, "l").await.unwrap();
    fs.unlink(d, "l").await.unwrap();
    fs.unlink(root, "f").await.unwrap();
    fs.sync(None).await.unwrap();
    let after = rig.after_crash().await;
    assert!(after.readdir(d).await.unwrap().is_empty());
    assert!(matches!(after.lookup(root, "f").await, Err(FsError::NotFound)));
    assert!(rig.single.fetch(f, ReadLevel::Latest).await.unwrap().is_removed());
}

/// A mount on a network as `volume run` makes it: write-through namespace
/// operations, no revalidation delay, a background flusher.
fn networked(mut fs: FileSystem) -> Arc<FileSystem> {
    fs.set_write_through(true);
    fs.set_revalidate(Duration::ZERO);
    let fs = Arc::new(fs);
    FileSystem::spawn_flusher(Arc::downgrade(&fs));
    fs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_lease_answers_its_holder_at_once_and_passes_to_a_writer_that_asks() {
    a_directory_lease_answers_its_holder_at_once_and_passes_to_a_writer_that_asks_with(Rig::new).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_lease_answers_its_holder_at_once_and_passes_to_a_writer_that_asks_in_sharded_directories() {
    a_directory_lease_answers_its_holder_at_once_and_passes_to_a_writer_that_asks_with(Rig::sharded).await;
}

async fn a_directory_lease_answers_its_holder_at_once_and_passes_to_a_writer_that_asks_with(make: fn() -> Rig) {
    let rig = make();
    let first = networked(rig.faulty_fs().await);
    let root = first.root();
    first.create(root, "shared", 0o644, 0, 0).await.unwrap();
    // That create stored the directory with this mount's lease: later
    // creates are answered without storing it, even while it cannot be.
    rig.faulty.block_writes_to(root);
    for i in 0..20 {
        let name = format!("a{i}");
        let created = tokio::time::timeout(Duration::from_secs(1), first.create(root, &name, 0o644, 0, 0));
        created.await.expect("answered at once under the lease").unwrap();
    }
    assert!(matches!(first.create(root, "a3", 0o644, 0, 0).await, Err(FsError::Exists)));
    rig.faulty.heal();
    // The holder keeps creating until the second mount, which wants the
    // same directory, is done.
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let busy = {
        let (first, done) = (first.clone(), done.clone());
        tokio::spawn(async move {
            let mut i = 20;
            while !done.load(std::sync::atomic::Ordering::Relaxed) && i < 2000 {
                first.create(root, &format!("a{i}"), 0o644, 0, 0).await.unwrap();
                tokio::time::sleep(Duration::from_millis(5)).await;
                i += 1;
            }
            i
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let second = networked(rig.after_crash().await);
    let asked = std::time::Instant::now();
    assert!(matches!(second.create(root, "shared", 0o644, 0, 0).await, Err(FsError::Exists)));
    second.create(root, "b", 0o644, 0, 0).await.unwrap();
    let waited = asked.elapsed();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(waited < lease::LEASE, "the busy holder gave the lease up when asked, not when it ran out: {waited:?}");
    let created = busy.await.unwrap();
    // (The first sync may report the failures of the blocked period.)
    let _ = first.sync(None).await;
    first.sync(None).await.unwrap();
    second.sync(None).await.unwrap();
    rig.assert_sharded_if_asked(root).await;
    let mut found = BTreeMap::new();
    walk(&rig.after_crash().await, root, "", &mut found).await;
    let expected: Vec<String> =
        ["/b".to_string(), "/shared".to_string()].into_iter().chain((0..created).map(|i| format!("/a{i}"))).collect();
    assert_eq!(found.len(), expected.len(), "{:?}", found.keys().collect::<Vec<_>>());
    assert!(expected.iter().all(|n| found.contains_key(n)), "{:?}", found.keys().collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lease_of_a_crashed_holder_runs_out_and_what_it_had_not_stored_is_simply_absent() {
    let rig = Rig::new();
    let first = networked(rig.faulty_fs().await);
    let root = first.root();
    first.create(root, "stored", 0o644, 0, 0).await.unwrap();
    let taken = std::time::Instant::now();
    // Answered under the lease, never stored: then the holder dies.
    rig.faulty.block_writes_to(root);
    first.create(root, "answered", 0o644, 0, 0).await.unwrap();
    drop(first);
    let second = networked(rig.after_crash().await);
    second.create(root, "after", 0o644, 0, 0).await.unwrap();
    let waited = taken.elapsed();
    assert!(waited >= lease::LEASE - lease::MARGIN, "no one writes before the lease runs out: {waited:?}");
    assert!(waited < lease::LEASE + lease::CLOCK_SKEW + Duration::from_secs(2), "nor long after: {waited:?}");
    second.sync(None).await.unwrap();
    let mut found = BTreeMap::new();
    walk(&rig.after_crash().await, root, "", &mut found).await;
    assert_eq!(found.keys().collect::<Vec<_>>(), ["/after", "/stored"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_that_stops_changing_a_directory_gives_its_lease_up() {
    let rig = Rig::new();
    let first = networked(rig.faulty_fs().await);
    let root = first.root();
    first.create(root, "one", 0o644, 0, 0).await.unwrap();
    // Idle for longer than IDLE, well within the lease.
    tokio::time::sleep(lease::IDLE * 2 + nodes::FLUSH_INTERVAL).await;
    let second = networked(rig.after_crash().await);
    let asked = std::time::Instant::now();
    second.create(root, "two", 0o644, 0, 0).await.unwrap();
    let waited = asked.elapsed();
    assert!(waited < lease::MARGIN, "the idle holder had given the lease up: waited {waited:?}");
    let mut found = BTreeMap::new();
    walk(&rig.after_crash().await, root, "", &mut found).await;
    assert_eq!(found.keys().collect::<Vec<_>>(), ["/one", "/two"]);
}

#[tokio::test]
async fn a_large_directory_is_stored_in_shards_and_one_more_name_rewrites_one_shard() {
    let rig = Rig { policy: Some(super::shard::Policy { above: 64, per_shard: 16 }), ..Rig::new() };
    let mut fs = FileSystem::open(rig.single.clone(), rig.keys.clone(), "v", 4096, true).await.unwrap();
    rig.tune(&mut fs);
    let root = fs.root();
    for i in 0..300 {
        fs.create(root, &format!("f{i}"), 0o644, 0, 0).await.unwrap();
    }
    fs.sync(None).await.unwrap();
    let Node::Directory { entries, shards, .. } = rig.stored_node(root).await else { panic!("a directory") };
    assert!(entries.is_empty(), "the entries are in the shards, not the directory's block");
    assert_eq!(shards.len(), 32);
    let before = rig.contents().await;
    assert_eq!(before, shards.iter().map(|c| c.address).collect(), "every shard stored, nothing else");
    fs.create(root, "one-more", 0o644, 0, 0).await.unwrap();
    fs.sync(None).await.unwrap();
    let kept = rig.contents().await;
    assert_eq!(kept.difference(&before).count(), 1, "one shard is rewritten");
    assert!(before.is_subset(&kept), "the shard it replaces outlives it a little, for readers of the version before");
    fs.sync_for_unmount().await.unwrap();
    let after = rig.contents().await;
    assert_eq!(after.difference(&before).count(), 1, "one shard is rewritten");
    assert_eq!(before.difference(&after).count(), 1, "and the shard it replaces removed");
    // Another mount reads every name, renames across shards and removes
    // most: the directory's block holds the rest again, no shard is left.
    let other = rig.after_crash().await;
    assert_eq!(other.readdir(root).await.unwrap().len(), 301);
    let moved = other.lookup(root, "f1").await.unwrap();
    other.rename(root, "f1", root, "renamed", false).await.unwrap();
    for i in 2..300 {
        other.unlink(root, &format!("f{i}")).await.unwrap();
    }
    other.sync_for_unmount().await.unwrap();
    let Node::Directory { entries, shards, .. } = rig.stored_node(root).await else { panic!("a directory") };
    assert!(shards.is_empty());
    assert_eq!(entries.keys().collect::<Vec<_>>(), ["f0", "one-more", "renamed"]);
    assert_eq!(entries["renamed"], moved);
    assert!(rig.contents().await.is_empty(), "no shard left behind");
}

#[tokio::test]
async fn a_tampered_or_swapped_shard_makes_its_directory_eio_never_a_wrong_listing() {
    use crate::runtime::silo::SetMode;
    for swap in [false, true] {
        let rig = Rig::sharded();
        let fs = rig.faulty_fs().await;
        let root = fs.root();
        for i in 0..12 {
            fs.create(root, &format!("f{i}"), 0o644, 0, 0).await.unwrap();
        }
        fs.sync_for_unmount().await.unwrap();
        let Node::Directory { shards, .. } = rig.stored_node(root).await else { panic!("a directory") };
        assert!(shards.len() >= 2);
        let (victim, other) = (shards[0].address, shards[1].address);
        let bytes = if swap {
            // A store answering with another (valid) shard of the directory.
            rig.silo.get(other).await.unwrap()
        } else {
            let mut bytes = rig.silo.get(victim).await.unwrap();
            let last = bytes.len() - 1;
            bytes[last] ^= 1;
            bytes
        };
        rig.silo.set(victim, bytes, SetMode::Update).await.unwrap();
        let after = rig.after_crash().await;
        let listed = after.readdir(root).await;
        assert!(matches!(listed, Err(FsError::Corrupt(_))), "swap {swap}: {listed:?}");
        assert!(matches!(after.create(root, "new", 0o644, 0, 0).await, Err(FsError::Corrupt(_))), "swap {swap}");
    }
}
