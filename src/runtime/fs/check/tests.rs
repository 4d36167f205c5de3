//! The checker over a RAM silo holding a tree a real [`FileSystem`] made,
//! damaged by hand the way a disk or a crash would.

use std::sync::Arc;

use super::*;
use crate::runtime::block::ContentBlock;
use crate::runtime::consensus::SingleNode;
use crate::runtime::fs::{FileSystem, FsError};
use crate::runtime::silo::{MemorySilo, SetMode};

const VOLUME: &str = "alice/vol";
const BLOCK: u64 = 4096;

fn data(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
}

/// A volume holding `/dir/small` (inline), `/dir/big` (18 chunks, also
/// named `/link`) and the symlink `/sym`, flushed to the silo.
struct Fixture {
    silo: Arc<MemorySilo>,
    keys: KeyPair,
    big: Address,
    small: Address,
    dir: Address,
}

impl Fixture {
    async fn new() -> Fixture {
        let silo = Arc::new(MemorySilo::new("mem", None));
        let keys = KeyPair::generate().unwrap();
        let fs = Self::open_fs(&silo, &keys, true).await;
        let root = fs.root();
        let dir = fs.mkdir(root, "dir", 0o755, 0, 0).await.unwrap();
        let small = fs.create(dir, "small", 0o644, 0, 0).await.unwrap();
        fs.write(small, 0, b"small content").await.unwrap();
        fs.flush(small).await.unwrap();
        let big = fs.create(dir, "big", 0o644, 0, 0).await.unwrap();
        fs.write(big, 0, &data(70_000, 1)).await.unwrap();
        fs.flush(big).await.unwrap();
        fs.link(big, root, "link").await.unwrap();
        fs.symlink(root, "sym", b"dir/big", 0, 0).await.unwrap();
        fs.sync(None).await.unwrap();
        Fixture { silo, keys, big, small, dir }
    }

    async fn open_fs(silo: &Arc<MemorySilo>, keys: &KeyPair, create: bool) -> FileSystem {
        let store = Arc::new(SingleNode::new(silo.clone()));
        FileSystem::open(store, keys.clone(), VOLUME, BLOCK, create).await.unwrap()
    }

    async fn check(&self) -> Report {
        check(&*self.silo, &self.keys, VOLUME, &Floors::new()).await.unwrap()
    }

    /// Repair everything found, and insist a second check is clean.
    async fn repair_until_clean(&self) -> RepairReport {
        let report = self.check().await;
        let repaired = repair(&*self.silo, &self.keys, &report).await.unwrap();
        assert!(repaired.failed.is_empty(), "{:?}", repaired.failed);
        assert_eq!(repaired.repaired, report.findings.len());
        let again = self.check().await;
        assert!(again.is_clean(), "after repair: {:?}", again.findings);
        repaired
    }

    async fn chunk(&self, index: u64) -> Address {
        let fs = Self::open_fs(&self.silo, &self.keys, false).await;
        let Node::File { chunks, .. } = fs.node(self.big).await.unwrap() else { panic!("not a file") };
        chunks[&index].address
    }
}

fn kinds(report: &Report) -> Vec<(FindingKind, Option<&str>)> {
    report.findings.iter().map(|f| (f.kind, f.path.as_deref())).collect()
}

#[tokio::test]
async fn a_clean_tree_has_no_findings_and_is_counted() {
    let f = Fixture::new().await;
    let report = f.check().await;
    assert!(report.is_clean(), "{:?}", report.findings);
    assert!(report.complete);
    let s = &report.summary;
    assert_eq!((s.nodes, s.directories, s.files, s.symlinks), (5, 2, 2, 1));
    assert_eq!(s.chunks, 70_000u64.div_ceil(BLOCK));
    assert_eq!(s.bytes, 70_000 + 13);
    assert_eq!(s.foreign, 0);
}

#[tokio::test]
async fn a_missing_chunk_is_a_dangling_chunk_and_repair_makes_it_a_hole() {
    let f = Fixture::new().await;
    let lost = f.chunk(1).await;
    f.silo.erase(lost).await.unwrap();
    let report = f.check().await;
    assert_eq!(kinds(&report), [(FindingKind::DanglingChunk, Some("/dir/big"))]);
    assert_eq!(report.findings[0].address, lost);
    f.repair_until_clean().await;
    let fs = Fixture::open_fs(&f.silo, &f.keys, false).await;
    let back = fs.read(f.big, 0, 70_000).await.unwrap();
    let original = data(70_000, 1);
    let (start, end) = (BLOCK as usize, 2 * BLOCK as usize);
    assert!(back[start..end].iter().all(|&b| b == 0), "the lost chunk reads as zeros");
    assert_eq!(back[..start], original[..start]);
    assert_eq!(back[end..], original[end..]);
}

#[tokio::test]
async fn a_chunk_that_does_not_validate_is_unreadable_and_removed() {
    let f = Fixture::new().await;
    let bad = f.chunk(3).await;
    let mut bytes = f.silo.get(bad).await.unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x40;
    f.silo.set(bad, bytes, SetMode::Update).await.unwrap();
    let report = f.check().await;
    assert_eq!(kinds(&report), [(FindingKind::Unreadable, Some("/dir/big"))]);
    f.repair_until_clean().await;
    assert!(f.silo.get(bad).await.is_err(), "the corrupt content block is removed");
}

#[tokio::test]
async fn a_missing_header_is_a_dangling_entry_and_repair_unlinks_it() {
    let f = Fixture::new().await;
    f.silo.erase(f.small).await.unwrap();
    let report = f.check().await;
    assert_eq!(kinds(&report), [(FindingKind::Dangling, Some("/dir/small"))]);
    f.repair_until_clean().await;
    let fs = Fixture::open_fs(&f.silo, &f.keys, false).await;
    let names: Vec<String> = fs.readdir(f.dir).await.unwrap().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["big"]);
}

#[tokio::test]
async fn a_stray_content_block_is_leaked_and_repair_removes_it() {
    let f = Fixture::new().await;
    let stray = ContentBlock::new(Some(Address([9; 32])), b"nobody names me".to_vec());
    let address = stray.address();
    f.silo.set(address, Block::Content(stray).encode().unwrap(), SetMode::Insert).await.unwrap();
    let report = f.check().await;
    assert_eq!(kinds(&report), [(FindingKind::Leaked, None)]);
    assert_eq!(report.findings[0].address, address);
    f.repair_until_clean().await;
    assert!(f.silo.get(address).await.is_err());
}

#[tokio::test]
async fn a_flipped_byte_makes_a_directory_unreadable_and_repair_saves_what_it_named() {
    let f = Fixture::new().await;
    let mut bytes = f.silo.get(f.dir).await.unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    f.silo.set(f.dir, bytes, SetMode::Update).await.unwrap();
    let report = f.check().await;
    let mut found = kinds(&report);
    found.sort();
    // The directory is unreadable; `small` is only named by it (an
    // orphan); `big` keeps one of its two names.
    assert_eq!(
        found,
        [(FindingKind::Unreadable, Some("/dir")), (FindingKind::Orphan, None), (FindingKind::Nlink, Some("/link"))]
    );
    let orphan = report.findings.iter().find(|x| x.kind == FindingKind::Orphan).unwrap();
    assert_eq!(orphan.address, f.small);
    let repaired = f.repair_until_clean().await;
    assert!(repaired.created_lost_and_found);
    let fs = Fixture::open_fs(&f.silo, &f.keys, false).await;
    let lost = fs.lookup(fs.root(), LOST_AND_FOUND).await.unwrap().address;
    let small = fs.lookup(lost, &f.small.to_hex()).await.unwrap().address;
    assert_eq!(fs.read(small, 0, 100).await.unwrap(), b"small content");
    assert!(matches!(fs.node(f.big).await.unwrap(), Node::File { nlink: 1, .. }));
    assert!(matches!(fs.lookup(fs.root(), "dir").await, Err(crate::runtime::fs::FsError::NotFound)));
}

#[tokio::test]
async fn an_orphan_file_is_linked_into_lost_and_found_and_its_content_reads_back() {
    let f = Fixture::new().await;
    let content = data(70_000, 7);
    let fs = Fixture::open_fs(&f.silo, &f.keys, false).await;
    let root = fs.root();
    let orphan = fs.create(root, "crashed", 0o644, 0, 0).await.unwrap();
    fs.write(orphan, 0, &content).await.unwrap();
    fs.sync(None).await.unwrap();
    drop(fs);
    // A crash after storing the file but before the directory naming it.
    repair::rewrite(&*f.silo, &f.keys, root, |node| {
        let Node::Directory { entries, .. } = node else { panic!("root is a directory") };
        entries.remove("crashed");
        Ok(())
    })
    .await
    .unwrap();
    let report = f.check().await;
    // Its chunks are named by the orphan: not leaked.
    assert_eq!(kinds(&report), [(FindingKind::Orphan, None)]);
    f.repair_until_clean().await;
    let fs = Fixture::open_fs(&f.silo, &f.keys, false).await;
    let lost = fs.lookup(fs.root(), LOST_AND_FOUND).await.unwrap().address;
    let adopted = fs.lookup(lost, &orphan.to_hex()).await.unwrap();
    assert_eq!(adopted.address, orphan);
    assert_eq!(fs.read(orphan, 0, 100_000).await.unwrap(), content);
}

#[tokio::test]
async fn a_wrong_link_count_is_reported_and_set() {
    let f = Fixture::new().await;
    repair::rewrite(&*f.silo, &f.keys, f.small, |node| {
        let Node::File { nlink, .. } = node else { panic!("small is a file") };
        *nlink = 3;
        Ok(())
    })
    .await
    .unwrap();
    let report = f.check().await;
    assert_eq!(kinds(&report), [(FindingKind::Nlink, Some("/dir/small"))]);
    f.repair_until_clean().await;
    let fs = Fixture::open_fs(&f.silo, &f.keys, false).await;
    assert!(matches!(fs.node(f.small).await.unwrap(), Node::File { nlink: 1, .. }));
}

#[tokio::test]
async fn a_block_below_its_floor_is_a_rollback_that_repair_leaves_alone() {
    let f = Fixture::new().await;
    let version = Block::decode(&f.silo.get(f.small).await.unwrap()).unwrap().version();
    let floors = Floors::from([(f.small, version + 1)]);
    let report = check(&*f.silo, &f.keys, VOLUME, &floors).await.unwrap();
    assert_eq!(kinds(&report), [(FindingKind::Rollback, Some("/dir/small"))]);
    assert_eq!(report.findings[0].remedy(), None);
    let repaired = repair(&*f.silo, &f.keys, &report).await.unwrap();
    assert_eq!(repaired.repaired, 0);
    let at_floor = Floors::from([(f.small, version)]);
    assert!(check(&*f.silo, &f.keys, VOLUME, &at_floor).await.unwrap().is_clean());
}

#[tokio::test]
async fn another_volume_of_the_owner_in_the_same_silo_is_not_leaked() {
    let f = Fixture::new().await;
    let store = Arc::new(SingleNode::new(f.silo.clone()));
    let other = FileSystem::open(store, f.keys.clone(), "alice/other", BLOCK, true).await.unwrap();
    let file = other.create(other.root(), "elsewhere", 0o644, 0, 0).await.unwrap();
    other.write(file, 0, &data(70_000, 3)).await.unwrap();
    other.sync(None).await.unwrap();
    let report = f.check().await;
    assert!(report.is_clean(), "{:?}", report.findings);
    assert_eq!(report.summary.files, 2, "the other volume is not counted");
}

#[tokio::test]
async fn a_missing_root_pointer_is_an_error_not_a_finding() {
    let silo = MemorySilo::new("mem", None);
    let keys = KeyPair::generate().unwrap();
    let result = check(&silo, &keys, VOLUME, &Floors::new()).await;
    assert!(matches!(result, Err(CheckError::NoRoot { .. })), "{result:?}");
}

#[tokio::test]
async fn an_entry_naming_a_tombstone_is_dangling() {
    let f = Fixture::new().await;
    let current = Block::decode(&f.silo.get(f.small).await.unwrap()).unwrap();
    let tombstone = Block::Tombstone(crate::runtime::block::Tombstone::for_block(&f.keys, &current).unwrap());
    f.silo.set(f.small, tombstone.encode().unwrap(), SetMode::Update).await.unwrap();
    let report = f.check().await;
    assert_eq!(kinds(&report), [(FindingKind::Dangling, Some("/dir/small"))]);
    assert!(report.findings[0].detail.contains("removed"), "{:?}", report.findings);
    assert_eq!(report.summary.tombstones, 0, "a tombstone an entry names is reported, not counted apart");
    f.repair_until_clean().await;
    assert_eq!(f.check().await.summary.tombstones, 1);
}

#[tokio::test]
async fn a_removed_file_left_by_a_crash_is_leaked_with_its_chunks() {
    let f = Fixture::new().await;
    let fs = Fixture::open_fs(&f.silo, &f.keys, false).await;
    let root = fs.root();
    let gone = fs.create(root, "gone", 0o644, 0, 0).await.unwrap();
    fs.write(gone, 0, &data(70_000, 5)).await.unwrap();
    fs.sync(None).await.unwrap();
    drop(fs);
    // The unlink's directory and link count were stored, its removals were not.
    repair::rewrite(&*f.silo, &f.keys, root, |node| {
        let Node::Directory { entries, .. } = node else { panic!("root is a directory") };
        entries.remove("gone");
        Ok(())
    })
    .await
    .unwrap();
    repair::rewrite(&*f.silo, &f.keys, gone, |node| {
        let Node::File { nlink, .. } = node else { panic!("a file") };
        *nlink = 0;
        Ok(())
    })
    .await
    .unwrap();
    let report = f.check().await;
    let chunks = 70_000usize.div_ceil(BLOCK as usize);
    assert_eq!(kinds(&report), vec![(FindingKind::Leaked, None); 1 + chunks]);
    assert_eq!(report.findings[0].address, gone);
    f.repair_until_clean().await;
    let left = Block::decode(&f.silo.get(gone).await.unwrap()).unwrap();
    assert!(matches!(left, Block::Tombstone(_)), "the header is buried, its address never reused");
}

#[tokio::test]
async fn a_second_orphan_joins_the_existing_lost_and_found() {
    let f = Fixture::new().await;
    let mut adopted = Vec::new();
    for (round, name) in ["first", "second"].into_iter().enumerate() {
        let fs = Fixture::open_fs(&f.silo, &f.keys, false).await;
        let root = fs.root();
        adopted.push(fs.mkdir(root, name, 0o755, 0, 0).await.unwrap());
        fs.sync(None).await.unwrap();
        drop(fs);
        repair::rewrite(&*f.silo, &f.keys, root, |node| {
            let Node::Directory { entries, .. } = node else { panic!("root is a directory") };
            entries.remove(name);
            Ok(())
        })
        .await
        .unwrap();
        let repaired = f.repair_until_clean().await;
        assert_eq!(repaired.created_lost_and_found, round == 0);
    }
    let fs = Fixture::open_fs(&f.silo, &f.keys, false).await;
    let lost = fs.lookup(fs.root(), LOST_AND_FOUND).await.unwrap().address;
    let names: Vec<String> = fs.readdir(lost).await.unwrap().into_iter().map(|(n, _)| n).collect();
    let mut expected: Vec<String> = adopted.iter().map(Address::to_hex).collect();
    expected.sort();
    assert_eq!(names, expected);
}

/// Two flushes of small writes into `/dir/big`: two patches over its chunks.
async fn patch_big(f: &Fixture) -> Vec<crate::runtime::fs::model::Patch> {
    let fs = Fixture::open_fs(&f.silo, &f.keys, false).await;
    fs.write(f.big, 100, b"first patch").await.unwrap();
    fs.flush(f.big).await.unwrap();
    fs.write(f.big, 9000, b"second patch").await.unwrap();
    fs.write(f.big, 20_000, b"same flush").await.unwrap();
    fs.flush(f.big).await.unwrap();
    fs.sync(None).await.unwrap();
    let Node::File { patches, chunks, .. } = fs.node(f.big).await.unwrap() else { panic!("not a file") };
    assert_eq!((patches.len(), chunks.len()), (2, 18));
    patches
}

#[tokio::test]
async fn patches_are_checked_and_counted_not_leaked() {
    let f = Fixture::new().await;
    patch_big(&f).await;
    let report = f.check().await;
    assert!(report.is_clean(), "{:?}", report.findings);
    assert_eq!((report.summary.chunks, report.summary.patches), (18, 2));
}

#[tokio::test]
async fn a_missing_patch_is_a_dangling_chunk_and_repair_drops_it() {
    let f = Fixture::new().await;
    let patches = patch_big(&f).await;
    f.silo.erase(patches[1].address).await.unwrap();
    let report = f.check().await;
    assert_eq!(kinds(&report), [(FindingKind::DanglingChunk, Some("/dir/big"))]);
    assert_eq!(report.findings[0].address, patches[1].address);
    assert!(report.findings[0].detail.contains("patch 2 of 2"), "{}", report.findings[0].detail);
    f.repair_until_clean().await;
    // The file reads as before the lost patch's writes, with the first patch.
    let fs = Fixture::open_fs(&f.silo, &f.keys, false).await;
    let back = fs.read(f.big, 0, 70_000).await.unwrap();
    let mut expected = data(70_000, 1);
    expected[100..111].copy_from_slice(b"first patch");
    assert_eq!(back, expected);
}

#[tokio::test]
async fn a_patch_that_does_not_validate_is_unreadable_and_repair_drops_and_removes_it() {
    let f = Fixture::new().await;
    let patches = patch_big(&f).await;
    let bad = patches[0].address;
    let mut bytes = f.silo.get(bad).await.unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x40;
    f.silo.set(bad, bytes, SetMode::Update).await.unwrap();
    let report = f.check().await;
    assert_eq!(kinds(&report), [(FindingKind::Unreadable, Some("/dir/big"))]);
    f.repair_until_clean().await;
    assert!(f.silo.get(bad).await.is_err(), "the corrupt patch block is removed");
    let fs = Fixture::open_fs(&f.silo, &f.keys, false).await;
    let back = fs.read(f.big, 0, 70_000).await.unwrap();
    assert_eq!(&back[9000..9012], b"second patch");
    assert_eq!(back[100..111], data(70_000, 1)[100..111], "the dropped patch's bytes read as before it");
}

/// A volume whose `/big` holds 40 empty files in shards; the directory and
/// the files' addresses.
async fn sharded_volume(silo: &Arc<MemorySilo>, keys: &KeyPair) -> (Address, Vec<Address>) {
    let mut fs = Fixture::open_fs(silo, keys, true).await;
    fs.set_shard_policy(crate::runtime::fs::shard::Policy { above: 8, per_shard: 4 });
    let dir = fs.mkdir(fs.root(), "big", 0o755, 0, 0).await.unwrap();
    let mut files = Vec::new();
    for i in 0..40 {
        files.push(fs.create(dir, &format!("f{i}"), 0o644, 0, 0).await.unwrap());
    }
    fs.sync_for_unmount().await.unwrap();
    let Node::Directory { shards, .. } = fs.node(dir).await.unwrap() else { panic!("a directory") };
    assert!(shards.len() >= 4, "the directory is sharded: {} shards", shards.len());
    (dir, files)
}

#[tokio::test]
async fn a_sharded_directory_checks_clean_and_repair_rewrites_its_shards() {
    let silo = Arc::new(MemorySilo::new("mem", None));
    let keys = KeyPair::generate().unwrap();
    let (dir, files) = sharded_volume(&silo, &keys).await;
    let f = Fixture { silo, keys, big: files[0], small: files[1], dir };
    let report = f.check().await;
    assert!(report.is_clean(), "shards are neither leaked nor missing: {:?}", report.findings);
    assert_eq!(report.summary.files, 40);
    // A lost header: its entry dangles, and repair takes it out of its shard.
    f.silo.erase(files[7]).await.unwrap();
    let report = f.check().await;
    assert_eq!(kinds(&report), [(FindingKind::Dangling, Some("/big/f7"))]);
    f.repair_until_clean().await;
    let fs = Fixture::open_fs(&f.silo, &f.keys, false).await;
    let names: Vec<String> = fs.readdir(dir).await.unwrap().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names.len(), 39);
    assert!(!names.contains(&"f7".to_string()));
}

#[tokio::test]
async fn a_lost_shard_makes_its_directory_unreadable_and_is_named() {
    let silo = Arc::new(MemorySilo::new("mem", None));
    let keys = KeyPair::generate().unwrap();
    let (dir, files) = sharded_volume(&silo, &keys).await;
    let fs = Fixture::open_fs(&silo, &keys, false).await;
    let Node::Directory { shards, .. } = fs.node(dir).await.unwrap() else { panic!("a directory") };
    drop(fs);
    silo.erase(shards[3].address).await.unwrap();
    let f = Fixture { silo, keys, big: files[0], small: files[1], dir };
    let report = f.check().await;
    let found = report.findings.iter().find(|x| x.kind == FindingKind::Unreadable).expect("an unreadable directory");
    assert_eq!(found.path.as_deref(), Some("/big"));
    assert!(found.detail.contains("shard 3") && found.detail.contains("missing"), "{}", found.detail);
    // The mount refuses the directory (EIO) rather than list part of it.
    let fs = Fixture::open_fs(&f.silo, &f.keys, false).await;
    assert!(matches!(fs.readdir(dir).await, Err(FsError::Corrupt(_))));
}
