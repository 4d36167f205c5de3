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
