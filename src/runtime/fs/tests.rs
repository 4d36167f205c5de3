//! File system behaviour over a single-node consensus in RAM.

use std::sync::Arc;

use super::*;
use crate::runtime::consensus::SingleNode;
use crate::runtime::silo::{MemorySilo, Silo};

async fn volume(block_size: u64) -> (FileSystem, Arc<MemorySilo>) {
    let silo = Arc::new(MemorySilo::new("mem", None));
    let store = Arc::new(SingleNode::new(silo.clone()));
    let keys = KeyPair::generate().unwrap();
    (FileSystem::open(store, keys, "alice/vol", block_size, true).await.unwrap(), silo)
}

#[tokio::test]
async fn root_is_created_once_and_found_again() {
    let silo: Arc<dyn Silo> = Arc::new(MemorySilo::new("mem", None));
    let store = Arc::new(SingleNode::new(silo));
    let keys = KeyPair::generate().unwrap();
    assert!(matches!(FileSystem::open(store.clone(), keys.clone(), "v", 4096, false).await, Err(FsError::NotFound)));
    let fs = FileSystem::open(store.clone(), keys.clone(), "v", 4096, true).await.unwrap();
    fs.mkdir(fs.root(), "d", 0o755, 0, 0).await.unwrap();
    fs.sync(None).await.unwrap();
    let again = FileSystem::open(store, keys, "v", 4096, false).await.unwrap();
    assert_eq!(again.root(), fs.root());
    assert_eq!(again.lookup(again.root(), "d").await.unwrap().kind, NodeKind::Directory);
}

#[tokio::test]
async fn directories_follow_posix_errors() {
    let (fs, _) = volume(4096).await;
    let root = fs.root();
    let d = fs.mkdir(root, "d", 0o755, 0, 0).await.unwrap();
    assert!(matches!(fs.mkdir(root, "d", 0o755, 0, 0).await, Err(FsError::Exists)));
    let f = fs.create(d, "f", 0o644, 0, 0).await.unwrap();
    assert!(matches!(fs.rmdir(root, "d").await, Err(FsError::NotEmpty)));
    assert!(matches!(fs.unlink(root, "d").await, Err(FsError::IsDirectory)));
    assert!(matches!(fs.rmdir(d, "f").await, Err(FsError::NotDirectory)));
    assert!(matches!(fs.lookup(f, "x").await, Err(FsError::NotDirectory)));
    assert!(matches!(fs.lookup(root, "nope").await, Err(FsError::NotFound)));
    assert!(matches!(fs.create(root, &"n".repeat(256), 0o644, 0, 0).await, Err(FsError::NameTooLong)));
    fs.unlink(d, "f").await.unwrap();
    fs.rmdir(root, "d").await.unwrap();
    assert!(fs.readdir(root).await.unwrap().is_empty());
}

#[tokio::test]
async fn content_round_trips_across_chunks_holes_and_truncation() {
    let (fs, _) = volume(4096).await;
    let f = fs.create(fs.root(), "f", 0o644, 0, 0).await.unwrap();
    fs.open_file(f).await.unwrap();
    let data: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
    fs.write(f, 0, &data).await.unwrap();
    fs.write(f, 30_000, b"tail").await.unwrap();
    fs.release(f).await.unwrap();
    let back = fs.read(f, 0, 40_000).await.unwrap();
    assert_eq!(back.len(), 30_004);
    assert_eq!(&back[..20_000], &data[..]);
    assert!(back[20_000..30_000].iter().all(|&b| b == 0));
    assert_eq!(&back[30_000..], b"tail");
    fs.truncate(f, 5000).await.unwrap();
    assert_eq!(fs.read(f, 0, 10_000).await.unwrap(), &data[..5000]);
    fs.truncate(f, 9000).await.unwrap();
    let grown = fs.read(f, 0, 10_000).await.unwrap();
    assert_eq!(&grown[..5000], &data[..5000]);
    assert!(grown[5000..].iter().all(|&b| b == 0));
    fs.truncate(f, 10).await.unwrap();
    assert_eq!(fs.read(f, 0, 100).await.unwrap(), &data[..10]);
}

#[tokio::test]
async fn deleting_files_leaves_no_blocks_behind() {
    let (fs, silo) = volume(4096).await;
    fs.sync(None).await.unwrap();
    let baseline = silo.list().await.unwrap().len();
    let f = fs.create(fs.root(), "big", 0o644, 0, 0).await.unwrap();
    fs.write(f, 0, &vec![7u8; 50_000]).await.unwrap();
    fs.flush(f).await.unwrap();
    fs.write(f, 0, &vec![8u8; 50_000]).await.unwrap();
    fs.flush(f).await.unwrap();
    fs.sync(None).await.unwrap();
    assert!(silo.list().await.unwrap().len() > baseline + 10);
    fs.unlink(fs.root(), "big").await.unwrap();
    fs.sync(None).await.unwrap();
    // The root directory gained a version; the file's header became a tombstone.
    assert_eq!(silo.list().await.unwrap().len(), baseline + 1);
}

#[tokio::test]
async fn rename_replaces_and_moves_atomically_within_a_directory() {
    let (fs, _) = volume(4096).await;
    let root = fs.root();
    let a = fs.create(root, "a", 0o644, 0, 0).await.unwrap();
    fs.write(a, 0, b"A").await.unwrap();
    fs.flush(a).await.unwrap();
    let b = fs.create(root, "b", 0o644, 0, 0).await.unwrap();
    fs.write(b, 0, b"B").await.unwrap();
    fs.flush(b).await.unwrap();
    fs.rename(root, "a", root, "b", false).await.unwrap();
    let names: Vec<String> = fs.readdir(root).await.unwrap().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["b"]);
    let b_now = fs.lookup(root, "b").await.unwrap().address;
    assert_eq!(fs.read(b_now, 0, 10).await.unwrap(), b"A");
    let d = fs.mkdir(root, "d", 0o755, 0, 0).await.unwrap();
    fs.rename(root, "b", d, "moved", false).await.unwrap();
    assert!(matches!(fs.lookup(root, "b").await, Err(FsError::NotFound)));
    assert_eq!(fs.lookup(d, "moved").await.unwrap().address, b_now);
    let e = fs.mkdir(root, "e", 0o755, 0, 0).await.unwrap();
    fs.create(e, "x", 0o644, 0, 0).await.unwrap();
    assert!(matches!(fs.rename(root, "d", root, "e", false).await, Err(FsError::NotEmpty)));
    assert!(matches!(fs.rename(d, "moved", root, "e", false).await, Err(FsError::IsDirectory)));
}

#[tokio::test]
async fn hard_links_keep_content_until_the_last_name_goes() {
    let (fs, _) = volume(4096).await;
    let root = fs.root();
    let f = fs.create(root, "f", 0o644, 0, 0).await.unwrap();
    fs.write(f, 0, b"shared").await.unwrap();
    fs.flush(f).await.unwrap();
    fs.link(f, root, "g").await.unwrap();
    fs.unlink(root, "f").await.unwrap();
    let g = fs.lookup(root, "g").await.unwrap().address;
    assert_eq!(fs.read(g, 0, 10).await.unwrap(), b"shared");
    assert!(matches!(fs.node(g).await.unwrap(), Node::File { nlink: 1, .. }));
    let s = fs.symlink(root, "s", b"g", 0, 0).await.unwrap();
    assert_eq!(fs.readlink(s).await.unwrap(), b"g");
}

#[tokio::test]
async fn attributes_and_xattrs() {
    let (fs, _) = volume(4096).await;
    let f = fs.create(fs.root(), "f", 0o644, 1, 2).await.unwrap();
    let node = fs.setattr(f, SetAttr { mode: Some(0o600), uid: Some(5), ..Default::default() }).await.unwrap();
    assert_eq!((node.mode, node.uid, node.gid), (0o600, 5, 2));
    fs.setxattr(f, "user.k", b"v", true, false).await.unwrap();
    assert!(matches!(fs.setxattr(f, "user.k", b"w", true, false).await, Err(FsError::Exists)));
    assert_eq!(fs.getxattr(f, "user.k").await.unwrap(), b"v");
    assert_eq!(fs.listxattr(f).await.unwrap(), ["user.k"]);
    fs.removexattr(f, "user.k").await.unwrap();
    assert!(matches!(fs.getxattr(f, "user.k").await, Err(FsError::NoAttribute)));
    // POSIX ACLs and SELinux labels are not supported (not merely absent):
    // `ls -l` then stops asking for them after the first file.
    for name in ["system.posix_acl_access", "system.posix_acl_default", "security.selinux"] {
        assert_eq!(fs.getxattr(f, name).await.unwrap_err().errno(), libc::EOPNOTSUPP, "{name}");
        assert_eq!(fs.setxattr(f, name, b"x", false, false).await.unwrap_err().errno(), libc::EOPNOTSUPP);
    }
    fs.setxattr(f, "security.capability", b"c", false, false).await.unwrap();
}

#[tokio::test]
async fn silo_bytes_never_hold_names_or_content_in_clear() {
    let (fs, silo) = volume(4096).await;
    let marker = b"MARKER-0f1e2d3c";
    let f = fs.create(fs.root(), "MARKER-0f1e2d3c-name", 0o644, 0, 0).await.unwrap();
    fs.write(f, 0, &marker.repeat(1000)).await.unwrap();
    fs.sync(None).await.unwrap();
    assert!(silo.list().await.unwrap().len() >= 4, "nothing was written");
    for address in silo.list().await.unwrap() {
        let bytes = silo.get(address).await.unwrap();
        assert!(!bytes.windows(marker.len()).any(|w| w == marker), "clear text in block {address}");
    }
}

#[tokio::test]
async fn a_full_silo_reports_no_space() {
    let silo = Arc::new(MemorySilo::new("small", Some(64 * 1024)));
    let store = Arc::new(SingleNode::new(silo));
    let fs = FileSystem::open(store, KeyPair::generate().unwrap(), "v", 4096, true).await.unwrap();
    let f = fs.create(fs.root(), "f", 0o644, 0, 0).await.unwrap();
    let result = fs.write(f, 0, &vec![1u8; 256 * 1024]).await;
    assert!(matches!(result, Err(FsError::NoSpace(_))), "{result:?}");
}

#[tokio::test]
async fn a_file_removed_before_its_first_flush_leaves_nothing_and_sync_succeeds() {
    let (fs, silo) = volume(4096).await;
    fs.sync(None).await.unwrap();
    let baseline = silo.list().await.unwrap().len();
    let f = fs.create(fs.root(), "short-lived", 0o644, 0, 0).await.unwrap();
    fs.open_file(f).await.unwrap();
    fs.write(f, 0, &vec![3u8; 40_000]).await.unwrap();
    fs.release(f).await.unwrap();
    // Its content blocks are stored; its header never was.
    assert!(silo.list().await.unwrap().len() > baseline);
    fs.unlink(fs.root(), "short-lived").await.unwrap();
    fs.sync(None).await.unwrap();
    fs.sync(None).await.unwrap();
    // Of all that, only the removed header's tombstone remains (its address is never reused).
    assert_eq!(silo.list().await.unwrap().len(), baseline + 1);
}

#[tokio::test]
async fn creating_and_deleting_files_leaves_only_the_root_once_tombstones_are_collected() {
    use crate::runtime::consensus::Fresh;
    use crate::runtime::freshness::FreshnessFloor;
    use std::time::{Duration, Instant};

    let silo = Arc::new(MemorySilo::new("mem", None));
    let floor = Arc::new(FreshnessFloor::in_memory());
    let single = Arc::new(SingleNode::collecting(silo.clone(), floor.clone(), Duration::ZERO));
    let store = Arc::new(Fresh::new(single.clone(), floor));
    let fs = FileSystem::open(store, KeyPair::generate().unwrap(), "alice/vol", 4096, true).await.unwrap();
    fs.sync(None).await.unwrap();
    let (empty_blocks, empty_bytes) = (silo.list().await.unwrap().len(), silo.usage());
    let root = fs.root();
    for batch in 0..20 {
        for i in 0..100 {
            let n = batch * 100 + i;
            let f = fs.create(root, &format!("f{n}"), 0o644, 0, 0).await.unwrap();
            fs.open_file(f).await.unwrap();
            // Every tenth file has content blocks too.
            let len = if n % 10 == 0 { 10_000 } else { 100 };
            fs.write(f, 0, &vec![n as u8; len]).await.unwrap();
            fs.release(f).await.unwrap();
        }
        fs.sync(None).await.unwrap();
        for i in 0..100 {
            fs.unlink(root, &format!("f{}", batch * 100 + i)).await.unwrap();
        }
        fs.sync(None).await.unwrap();
    }
    let (blocks, bytes) = (silo.list().await.unwrap().len(), silo.usage());
    assert!(blocks >= 2000, "only {blocks} blocks: the files' tombstones are missing");
    let swept = single.collect_tombstones(Instant::now()).await.unwrap();
    let (after, after_bytes) = (silo.list().await.unwrap().len(), silo.usage());
    eprintln!(
        "empty volume {empty_blocks} blocks ({empty_bytes} B); after 2000 create/delete {blocks} blocks ({bytes} B); \
         {} tombstones collected: {after} blocks ({after_bytes} B)",
        swept.collected
    );
    assert!(after <= empty_blocks, "{after} blocks left, the empty volume had {empty_blocks}");
    // The volume still works, and its removed files stay removed.
    assert!(fs.readdir(root).await.unwrap().is_empty());
    let f = fs.create(root, "after", 0o644, 0, 0).await.unwrap();
    fs.write(f, 0, b"still works").await.unwrap();
    fs.sync(None).await.unwrap();
    assert_eq!(fs.read(f, 0, 100).await.unwrap(), b"still works");
}

#[tokio::test]
async fn a_file_written_until_the_silo_is_full_frees_everything_once_deleted() {
    let silo = Arc::new(MemorySilo::new("small", Some(2_500_000)));
    let store = Arc::new(SingleNode::new(silo.clone()));
    let fs = FileSystem::open(store, KeyPair::generate().unwrap(), "v", 256 * 1024, true).await.unwrap();
    fs.sync(None).await.unwrap();
    let empty = silo.usage();
    let f = fs.create(fs.root(), "big", 0o644, 0, 0).await.unwrap();
    // The background flusher stores the new file's header within 250 ms.
    fs.flush_metadata().await.unwrap();
    fs.open_file(f).await.unwrap();
    let mut offset = 0u64;
    let full = loop {
        match fs.write(f, offset, &vec![9u8; 128 * 1024]).await {
            Ok(n) => offset += u64::from(n),
            Err(e) => break e,
        }
        assert!(offset < 10 << 20, "10 MiB fit in a 2.5 MB silo");
    };
    assert!(matches!(full, FsError::NoSpace(_)), "{full:?}");
    assert!(matches!(fs.flush(f).await, Err(FsError::NoSpace(_))));
    assert!(fs.release(f).await.is_err());
    fs.unlink(fs.root(), "big").await.unwrap();
    fs.sync(None).await.unwrap();
    fs.sync(None).await.unwrap();
    let left: Vec<(Address, u64)> = silo.list_sized().await.unwrap();
    assert!(
        silo.usage() < empty + 4096,
        "{} bytes left of a deleted file, the volume used {empty}: {left:?}",
        silo.usage()
    );
}

#[tokio::test]
async fn debug_of_the_file_system_and_open_files_shows_no_content_or_key() {
    let (fs, _) = volume(4096).await;
    let f = fs.create(fs.root(), "f", 0o644, 0, 0).await.unwrap();
    fs.open_file(f).await.unwrap();
    let marker = b"PLAINTEXT-MARKER".repeat(300);
    fs.write(f, 0, &marker).await.unwrap();
    fs.read(f, 0, 100).await.unwrap();
    // The decimal rendering derived `Debug` gives a `Vec<u8>` ("80, 76, 65, ...").
    let decimal = format!("{:?}", &marker[..6]);
    let decimal = decimal.trim_matches(['[', ']']);
    let open = format!("{:?}", lock(&fs.open).get(&f).expect("open file"));
    let shown = format!("{fs:?} {fs:#?} {open}");
    assert!(!shown.contains("PLAINTEXT") && !shown.contains(decimal), "{shown}");
    assert!(open.contains("size: 4800"), "{open}");
    fs.release(f).await.unwrap();
    let chunks = format!("{:?}", lock(&fs.chunks));
    assert!(!chunks.contains(decimal), "{chunks}");
}

/// The content blocks in `silo` (chunks and patches of every file).
async fn content_blocks(silo: &MemorySilo) -> std::collections::BTreeSet<Address> {
    let mut out = std::collections::BTreeSet::new();
    for address in silo.list().await.unwrap() {
        if let Ok(Block::Content(_)) = Block::decode(&silo.get(address).await.unwrap()) {
            out.insert(address);
        }
    }
    out
}

/// The content blocks the header of file `f` names.
async fn named_blocks(fs: &FileSystem, f: Address) -> std::collections::BTreeSet<Address> {
    match fs.node(f).await.unwrap() {
        Node::File { chunks, patches, .. } => {
            chunks.values().map(|c| c.address).chain(patches.iter().map(|p| p.address)).collect()
        }
        other => panic!("not a file: {other:?}"),
    }
}

/// One step of [`random_writes_truncates_flushes_and_remounts_read_like_a_byte_model`].
#[derive(Debug, Clone)]
enum ContentOp {
    Write(u64, usize, u8),
    Truncate(u64),
    Flush,
    Remount,
    Read(u64, usize),
}

fn content_op() -> impl proptest::strategy::Strategy<Value = ContentOp> {
    use proptest::prelude::*;
    prop_oneof![
        // Mostly small writes (patches), some crossing or covering chunks.
        8 => (0u64..120_000, 1usize..600, any::<u8>()).prop_map(|(o, l, s)| ContentOp::Write(o, l, s)),
        2 => (0u64..120_000, 600usize..10_000, any::<u8>()).prop_map(|(o, l, s)| ContentOp::Write(o, l, s)),
        1 => (0u64..30, any::<u8>()).prop_map(|(i, s)| ContentOp::Write(i * 4096, 4096, s)),
        1 => (0u64..130_000).prop_map(ContentOp::Truncate),
        3 => Just(ContentOp::Flush),
        1 => Just(ContentOp::Remount),
        2 => (0u64..130_000, 1usize..20_000).prop_map(|(o, l)| ContentOp::Read(o, l)),
    ]
}

fn seeded(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| seed.wrapping_add((i % 253) as u8) | 1).collect()
}

/// Random writes of random sizes at random offsets, with flushes,
/// truncates and remounts, read back like a `Vec<u8>` that had the same
/// done to it; at every remount the silo holds exactly the content blocks
/// the header names (nothing replaced is left, nothing named is missing).
#[test]
fn random_writes_truncates_flushes_and_remounts_read_like_a_byte_model() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    let ops = proptest::collection::vec(content_op(), 1..160);
    let mut runner = TestRunner::new(Config { cases: 24, failure_persistence: None, ..Config::default() });
    runner
        .run(&ops, |ops| {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async move {
                let silo = Arc::new(MemorySilo::new("mem", None));
                let store: Arc<dyn Consensus> = Arc::new(SingleNode::new(silo.clone()));
                let keys = KeyPair::generate().unwrap();
                let mut fs = FileSystem::open(store.clone(), keys.clone(), "v", 4096, true).await.unwrap();
                fs.set_patch_bounds(patch::Bounds::tight(4096));
                let f = fs.create(fs.root(), "f", 0o644, 0, 0).await.unwrap();
                fs.open_file(f).await.unwrap();
                let mut model: Vec<u8> = Vec::new();
                for (step, op) in ops.iter().enumerate() {
                    match op {
                        ContentOp::Write(offset, len, seed) => {
                            let data = seeded(*len, *seed);
                            fs.write(f, *offset, &data).await.unwrap();
                            let end = *offset as usize + len;
                            if model.len() < end {
                                model.resize(end, 0);
                            }
                            model[*offset as usize..end].copy_from_slice(&data);
                        }
                        ContentOp::Truncate(size) => {
                            fs.truncate(f, *size).await.unwrap();
                            model.resize(*size as usize, 0);
                        }
                        ContentOp::Flush => fs.flush(f).await.unwrap(),
                        ContentOp::Remount => {
                            fs.release(f).await.unwrap();
                            fs.sync(None).await.unwrap();
                            fs.sync(None).await.unwrap();
                            prop_assert_eq!(content_blocks(&silo).await, named_blocks(&fs, f).await, "step {}", step);
                            drop(fs);
                            fs = FileSystem::open(store.clone(), keys.clone(), "v", 4096, false).await.unwrap();
                            fs.set_patch_bounds(patch::Bounds::tight(4096));
                            fs.open_file(f).await.unwrap();
                        }
                        ContentOp::Read(offset, len) => {
                            let got = fs.read(f, *offset, *len as u32).await.unwrap();
                            let start = (*offset as usize).min(model.len());
                            let end = (*offset as usize + len).min(model.len());
                            prop_assert!(got == model[start..end], "step {}: read {} at {} differs", step, len, offset);
                        }
                    }
                    prop_assert_eq!(fs.stat(f).await.unwrap().size, model.len() as u64);
                }
                let got = fs.read(f, 0, model.len() as u32 + 10).await.unwrap();
                prop_assert!(got == model, "the whole file differs");
                fs.release(f).await.unwrap();
                fs.sync(None).await.unwrap();
                let again = FileSystem::open(store, keys, "v", 4096, false).await.unwrap();
                prop_assert!(again.read(f, 0, model.len() as u32 + 10).await.unwrap() == model, "after a remount");
                Ok(())
            })
        })
        .unwrap();
}

/// Small writes into stored chunks become patches without touching the
/// chunks; past the bounds, compaction rewrites the dense chunks and
/// consolidates the rest, and every replaced chunk and patch leaves the
/// silo, so the space used stays near the file's.
#[tokio::test]
async fn small_writes_are_patches_and_compaction_gives_replaced_blocks_back() {
    let (mut fs, silo) = volume(4096).await;
    let bounds = patch::Bounds::tight(4096);
    fs.set_patch_bounds(bounds);
    let f = fs.create(fs.root(), "f", 0o644, 0, 0).await.unwrap();
    fs.open_file(f).await.unwrap();
    let mut model = seeded(64 * 4096, 3);
    fs.write(f, 0, &model).await.unwrap();
    fs.sync(Some(f)).await.unwrap();
    let Node::File { chunks: original, .. } = fs.node(f).await.unwrap() else { panic!("a file") };
    assert_eq!(original.len(), 64);
    let whole = silo.usage();

    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |n: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % n
    };
    let mut compacted = false;
    for flush in 0..150u64 {
        for _ in 0..16 {
            let offset = next(64 * 4096 - 256);
            let data = seeded(256, next(256) as u8);
            fs.write(f, offset, &data).await.unwrap();
            model[offset as usize..offset as usize + 256].copy_from_slice(&data);
        }
        fs.sync(Some(f)).await.unwrap();
        let Node::File { chunks, patches, .. } = fs.node(f).await.unwrap() else { panic!("a file") };
        if flush == 0 {
            assert_eq!(chunks, original, "a small write does not rewrite its chunk");
            assert_eq!(patches.len(), 1, "one flush, one patch");
            assert!(patches[0].chunks.len() <= 16 && patches[0].bytes == 16 * 256, "{:?}", patches[0]);
        }
        assert!(patches.len() <= bounds.max_patches, "{} patches", patches.len());
        let held: u64 = patches.iter().map(|p| p.bytes).sum();
        assert!(held <= bounds.held_bound(64 * 4096) + bounds.merge_bytes, "{held} bytes held in patches");
        compacted |= chunks.values().any(|c| !original.values().any(|o| o.address == c.address));
        assert_eq!(content_blocks(&silo).await, named_blocks(&fs, f).await, "after flush {flush}");
    }
    assert!(compacted, "dense chunks were rewritten");
    assert_eq!(fs.read(f, 0, 64 * 4096).await.unwrap(), model);
    // 600 KiB written over a 256 KiB file: what is stored stays near the file's size.
    let used = silo.usage();
    assert!(used < whole * 3, "{used} bytes used, the file took {whole}");
    fs.release(f).await.unwrap();
    fs.unlink(fs.root(), "f").await.unwrap();
    fs.sync(None).await.unwrap();
    assert!(content_blocks(&silo).await.is_empty(), "every chunk and patch goes with the file");
}

/// Scattered 64-byte writes into a sparse file cost about what they wrote.
#[tokio::test]
async fn scattered_writes_into_a_sparse_file_use_about_the_space_written() {
    let (fs, silo) = volume(4096).await;
    let f = fs.create(fs.root(), "sparse", 0o644, 0, 0).await.unwrap();
    fs.open_file(f).await.unwrap();
    fs.truncate(f, 4 << 20).await.unwrap();
    fs.sync(None).await.unwrap();
    let before = silo.usage();
    let mut written = 0u64;
    for i in 0..2000u64 {
        let offset = (i * 2_654_435_761) % ((4 << 20) - 64);
        fs.write(f, offset, &seeded(64, i as u8)).await.unwrap();
        written += 64;
        if i % 16 == 15 {
            fs.sync(Some(f)).await.unwrap();
        }
    }
    fs.sync(None).await.unwrap();
    let used = silo.usage() - before;
    assert!(used < 3 * written, "{used} bytes stored for {written} written");
    assert_eq!(fs.read(f, 2_654_435_761 % ((4 << 20) - 64), 64).await.unwrap(), seeded(64, 1));
}

/// Truncating cuts patched bytes: growing the file again reads zeros.
#[tokio::test]
async fn a_truncate_cuts_patches_so_an_extension_reads_zeros() {
    let (fs, _) = volume(4096).await;
    let f = fs.create(fs.root(), "f", 0o644, 0, 0).await.unwrap();
    fs.write(f, 0, &vec![1u8; 40_000]).await.unwrap();
    fs.flush(f).await.unwrap();
    for at in [5000u64, 9000, 20_000, 30_000] {
        fs.write(f, at, &[7u8; 100]).await.unwrap();
    }
    fs.flush(f).await.unwrap();
    fs.write(f, 25_000, &[8u8; 100]).await.unwrap();
    fs.truncate(f, 9050).await.unwrap();
    fs.truncate(f, 40_000).await.unwrap();
    fs.sync(None).await.unwrap();
    let back = fs.read(f, 0, 40_000).await.unwrap();
    assert!(back[..5000].iter().all(|&b| b == 1));
    assert_eq!(&back[5000..5100], &[7u8; 100]);
    assert_eq!(&back[9000..9050], &[7u8; 50]);
    assert!(back[9050..].iter().all(|&b| b == 0), "nothing past the cut comes back");
}

#[tokio::test]
async fn prefetched_nodes_are_validated_and_a_bad_one_is_left_to_its_own_access() {
    use crate::runtime::silo::SetMode;
    let silo = Arc::new(MemorySilo::new("mem", None));
    let store = Arc::new(SingleNode::new(silo.clone()));
    let keys = KeyPair::generate().unwrap();
    let fs = FileSystem::open(store.clone(), keys.clone(), "v", 4096, true).await.unwrap();
    let root = fs.root();
    let mut nodes = Vec::new();
    for i in 0..40 {
        nodes.push(fs.create(root, &format!("f{i}"), 0o640, 7, 8).await.unwrap());
    }
    nodes.push(fs.mkdir(root, "d", 0o750, 7, 8).await.unwrap());
    fs.sync(None).await.unwrap();
    // One node altered at rest, one lost by the silo.
    let (altered, lost) = (nodes[3], nodes[5]);
    let mut bytes = silo.get(altered).await.unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    silo.set(altered, bytes, SetMode::Update).await.unwrap();
    silo.erase(lost).await.unwrap();

    let other = Arc::new(FileSystem::open(store, keys, "v", 4096, false).await.unwrap());
    let before = other.nodes_in_memory();
    other.prefetch(&nodes).await;
    assert_eq!(other.nodes_in_memory(), before + nodes.len() - 2, "the bad nodes are not loaded");
    for (i, address) in nodes.iter().enumerate() {
        let stat = other.stat(*address).await;
        if *address == altered || *address == lost {
            assert!(matches!(stat, Err(FsError::Corrupt(_))), "node {i}: {stat:?}");
            continue;
        }
        let stat = stat.unwrap();
        let kind = if i == 40 { NodeKind::Directory } else { NodeKind::File };
        assert_eq!(
            (stat.kind, stat.mode & 0o777, stat.uid, stat.gid),
            (kind, if i == 40 { 0o750 } else { 0o640 }, 7, 8)
        );
    }
}

#[tokio::test]
async fn a_prefetch_after_the_revalidation_delay_sees_another_writers_change() {
    let silo = Arc::new(MemorySilo::new("mem", None));
    let store = Arc::new(SingleNode::new(silo));
    let keys = KeyPair::generate().unwrap();
    let mut reader = FileSystem::open(store.clone(), keys.clone(), "v", 4096, true).await.unwrap();
    let revalidate = std::time::Duration::from_secs(1);
    reader.set_revalidate(revalidate);
    let reader = Arc::new(reader);
    let root = reader.root();
    let file = reader.create(root, "f", 0o600, 0, 0).await.unwrap();
    reader.sync(None).await.unwrap();
    reader.prefetch(&[file]).await;
    assert_eq!(reader.stat(file).await.unwrap().mode & 0o777, 0o600);

    let writer = FileSystem::open(store, keys, "v", 4096, false).await.unwrap();
    writer.setattr(file, SetAttr { mode: Some(0o644), ..Default::default() }).await.unwrap();
    writer.sync(None).await.unwrap();
    // Within the delay, a node in memory is current: not fetched again.
    reader.prefetch(&[file]).await;
    assert_eq!(reader.view(file, |node| node.meta().mode & 0o777).await.unwrap(), 0o600);
    // Past it, the prefetch fetches it again and the newer version replaces
    // it (seen within the delay, so from the table, not from a fetch of its own).
    tokio::time::sleep(revalidate).await;
    reader.prefetch(&[file]).await;
    assert_eq!(reader.view(file, |node| node.meta().mode & 0o777).await.unwrap(), 0o644);
}

/// What `rm *` does right after a `close` that failed with ENOSPC: the
/// kernel's RELEASE of the last file comes while the unlinks free space,
/// so its flush may now store what it could not. Whatever lands, every
/// content block goes once the files are deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_racing_the_deletions_after_enospc_leaves_no_content_behind() {
    const BS: u64 = 64 * 1024;
    let silo = Arc::new(MemorySilo::new("small", Some(1_000_000)));
    let store = Arc::new(Jittery::new(Arc::new(SingleNode::new(silo.clone()))));
    let fs = FileSystem::open(store.clone(), KeyPair::generate().unwrap(), "v", BS, true).await.unwrap();
    let fs = Arc::new(fs);
    FileSystem::spawn_flusher(Arc::downgrade(&fs));
    fs.sync(None).await.unwrap();
    for round in 0..40u32 {
        let mut names = Vec::new();
        let mut last = None;
        for i in 0..100 {
            let name = format!("r{round}-f{i}");
            let f = fs.create(fs.root(), &name, 0o644, 0, 0).await.unwrap();
            names.push(name);
            fs.open_file(f).await.unwrap();
            let mut failed = false;
            for c in 0..3u64 {
                let data = seeded((BS / 2) as usize, (i * 3 + c as usize) as u8);
                for half in 0..2u64 {
                    if fs.write(f, c * BS + half * BS / 2, &data).await.is_err() {
                        failed = true;
                    }
                }
            }
            if failed || fs.flush(f).await.is_err() {
                last = Some(f);
                break;
            }
            fs.release(f).await.unwrap();
        }
        let last = last.expect("100 files of 192 KiB never fit in 1 MB");
        let release = {
            let fs = fs.clone();
            tokio::spawn(async move {
                if round % 2 == 0 {
                    tokio::task::yield_now().await;
                }
                let _ = fs.release(last).await;
            })
        };
        let unlinks: Vec<_> = names
            .iter()
            .rev()
            .map(|name| {
                let (fs, name) = (fs.clone(), name.clone());
                tokio::spawn(async move { fs.unlink(fs.root(), &name).await })
            })
            .collect();
        for u in unlinks {
            u.await.unwrap().unwrap();
        }
        release.await.unwrap();
        // A removal refused now would be refused forever: report it.
        let mut synced = fs.sync(None).await;
        for _ in 0..20 {
            if synced.is_ok() && content_blocks(&silo).await.is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            synced = fs.sync(None).await;
        }
        if let Err(e) = synced {
            let left = content_blocks(&silo).await.len();
            let blocks = silo.list().await.unwrap().len();
            panic!("round {round}: {e} ({left} content blocks, {blocks} blocks, {} B)", silo.usage());
        }
        let refused = store.refused.load(std::sync::atomic::Ordering::SeqCst);
        assert_eq!(refused, 0, "round {round}: a removal was refused");
        let left = content_blocks(&silo).await;
        assert!(left.is_empty(), "round {round}: {} content blocks left of deleted files", left.len());
    }
}

/// A consensus that takes a random few hundred microseconds over each
/// call (so that tasks racing through it meet in ever other orders), and
/// counts the removals refused for good.
#[derive(Debug)]
struct Jittery {
    inner: Arc<dyn Consensus>,
    refused: std::sync::atomic::AtomicUsize,
}

impl Jittery {
    fn new(inner: Arc<dyn Consensus>) -> Self {
        Jittery { inner, refused: Default::default() }
    }
}

async fn jitter() {
    let micros = u64::from(crate::crypto::random_bytes::<2>().map(u16::from_le_bytes).unwrap_or(0) % 400);
    tokio::time::sleep(std::time::Duration::from_micros(micros)).await;
}

impl Consensus for Jittery {
    fn fetch(&self, address: Address, level: ReadLevel) -> crate::runtime::consensus::ConsensusFuture<'_, Fetched> {
        Box::pin(async move {
            jitter().await;
            self.inner.fetch(address, level).await
        })
    }

    fn store(&self, block: Block, expect: Expect) -> crate::runtime::consensus::ConsensusFuture<'_, ()> {
        Box::pin(async move {
            jitter().await;
            self.inner.store(block, expect).await
        })
    }

    fn remove(
        &self,
        tombstone: crate::runtime::block::Tombstone,
    ) -> crate::runtime::consensus::ConsensusFuture<'_, ()> {
        Box::pin(async move {
            jitter().await;
            let removed = self.inner.remove(tombstone).await;
            if let Err(e) = &removed
                && !e.is_retryable()
                && !e.is_conflict()
                && !matches!(e, crate::runtime::consensus::ConsensusError::Removed { .. })
            {
                eprintln!("refused: {e}");
                self.refused.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
            removed
        })
    }

    fn usage(&self) -> crate::runtime::consensus::ConsensusFuture<'_, crate::runtime::consensus::Usage> {
        self.inner.usage()
    }
}

/// A consensus whose content stores wait until the gate opens (the
/// chunk upload of a slow network), and which counts refused removals.
#[derive(Debug)]
struct Gated {
    inner: Arc<dyn Consensus>,
    gate: tokio::sync::Semaphore,
    refused: std::sync::atomic::AtomicUsize,
    landed: std::sync::atomic::AtomicUsize,
}

impl Gated {
    fn open(&self) {
        self.gate.add_permits(tokio::sync::Semaphore::MAX_PERMITS / 2);
    }
}

impl Consensus for Gated {
    fn fetch(&self, address: Address, level: ReadLevel) -> crate::runtime::consensus::ConsensusFuture<'_, Fetched> {
        self.inner.fetch(address, level)
    }

    fn store(&self, block: Block, expect: Expect) -> crate::runtime::consensus::ConsensusFuture<'_, ()> {
        Box::pin(async move {
            let content = matches!(block, Block::Content(_));
            if content {
                drop(self.gate.acquire().await);
            }
            let stored = self.inner.store(block, expect).await;
            if content {
                self.landed.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
            stored
        })
    }

    fn remove(
        &self,
        tombstone: crate::runtime::block::Tombstone,
    ) -> crate::runtime::consensus::ConsensusFuture<'_, ()> {
        Box::pin(async move {
            let removed = self.inner.remove(tombstone).await;
            if removed.is_err() {
                self.refused.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
            removed
        })
    }

    fn usage(&self) -> crate::runtime::consensus::ConsensusFuture<'_, crate::runtime::consensus::Usage> {
        self.inner.usage()
    }
}

/// Sync until `silo` holds no content block (at most half a second): none
/// may be left, and no removal refused on the way.
async fn all_content_goes(fs: &FileSystem, silo: &MemorySilo, gated: &Gated) {
    for _ in 0..50 {
        fs.sync(None).await.unwrap();
        if content_blocks(silo).await.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(gated.refused.load(std::sync::atomic::Ordering::SeqCst), 0, "a removal was refused");
    assert!(content_blocks(silo).await.is_empty(), "the chunk of the deleted file stays");
}

/// A new file whose chunk upload is still under way when it is deleted:
/// its header was never stored, and only a stored header authorizes
/// removing the chunk once it lands. The file's header is stored first,
/// then the chunk and the header go; nothing is refused or left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunk_landing_after_its_new_file_was_deleted_is_removed() {
    const BS: u64 = 64 * 1024;
    let silo = Arc::new(MemorySilo::new("mem", None));
    let gated = Arc::new(Gated {
        inner: Arc::new(SingleNode::new(silo.clone())),
        gate: tokio::sync::Semaphore::new(0),
        refused: Default::default(),
        landed: Default::default(),
    });
    let fs = FileSystem::open(gated.clone(), KeyPair::generate().unwrap(), "v", BS, true).await.unwrap();
    fs.sync(None).await.unwrap();
    let f = fs.create(fs.root(), "f", 0o644, 0, 0).await.unwrap();
    // Written without a handle (as the kernel's write-back may): a full
    // chunk goes up in the background, held at the gate.
    fs.write(f, 0, &seeded(BS as usize + 10, 1)).await.unwrap();
    fs.unlink(fs.root(), "f").await.unwrap();
    gated.open();
    while gated.landed.load(std::sync::atomic::Ordering::SeqCst) == 0 {
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    all_content_goes(&fs, &silo, &gated).await;
    assert!(matches!(fs.lookup(fs.root(), "f").await, Err(FsError::NotFound)));

    // The same with a flush waiting for the upload when the file goes.
    let fs = Arc::new(fs);
    gated.gate.forget_permits(usize::MAX);
    let landed = gated.landed.load(std::sync::atomic::Ordering::SeqCst);
    let g = fs.create(fs.root(), "g", 0o644, 0, 0).await.unwrap();
    fs.write(g, 0, &seeded(BS as usize + 10, 2)).await.unwrap();
    let flush = {
        let fs = fs.clone();
        tokio::spawn(async move { fs.flush(g).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    fs.unlink(fs.root(), "g").await.unwrap();
    gated.open();
    let _ = flush.await.unwrap();
    assert!(gated.landed.load(std::sync::atomic::Ordering::SeqCst) > landed);
    all_content_goes(&fs, &silo, &gated).await;
}
