//! Space accounting of mounted volumes: what deleting files gives back,
//! and what small random writes cost.

use std::fs;
use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::{Setup, Volume, close, free_and_available, noise, statvfs};

const ENOSPC: i32 = 28;

/// Bytes the mounted volume reports as used (statvfs total − free).
fn used(mount: &Path) -> u64 {
    let (frsize, blocks, free) = statvfs(mount).unwrap();
    (blocks - free) * frsize
}

/// Total size of the block files under the silo folder `root`.
fn silo_bytes(root: &Path) -> (usize, u64) {
    let mut count = 0;
    let mut bytes = 0;
    for shard in fs::read_dir(root).unwrap().flatten() {
        if !shard.path().is_dir() {
            continue;
        }
        for entry in fs::read_dir(shard.path()).unwrap().flatten() {
            count += 1;
            bytes += entry.metadata().map(|m| m.len()).unwrap_or(0);
        }
    }
    (count, bytes)
}

/// Make everything written durable and run the pending removals (fsync of
/// the mount's root syncs the whole volume).
fn sync_volume(mount: &Path) -> std::io::Result<()> {
    fs::File::open(mount)?.sync_all()
}

/// Sync until the volume reports at most `limit` bytes used and a sync
/// succeeds (or 10 s passed); the usage seen last.
fn wait_used_at_most(mount: &Path, limit: u64) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let synced = sync_volume(mount);
        let now = used(mount);
        if (now <= limit && synced.is_ok()) || Instant::now() > deadline {
            synced.unwrap_or_else(|e| panic!("sync after deleting every file still fails: {e}"));
            return now;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Delete every file of the volume, sync, and check that usage drops back
/// to at most `limit`; prints what it measured under `label`.
fn delete_everything_and_check(v: &Volume, label: &str, filled: u64, limit: u64) {
    for entry in fs::read_dir(&v.mount).unwrap() {
        fs::remove_file(entry.unwrap().path()).unwrap();
    }
    let after = wait_used_at_most(&v.mount, limit);
    let (blocks, bytes) = silo_bytes(&v.home.silo());
    eprintln!("{label}: full {filled} B, after deleting {after} B ({blocks} block files, {bytes} B in the silo)");
    assert!(
        after <= limit,
        "{label}: {after} bytes still used after deleting every file (full: {filled}); volume log: {}",
        v.stderr()
    );
}

/// Write `data` to a new file `name`; the error of write, fsync or close.
fn write_file(v: &Volume, name: &str, data: &[u8]) -> Option<std::io::Error> {
    let mut f = fs::File::create(v.path(name)).unwrap();
    let failed = f.write_all(data).and_then(|()| f.sync_all()).err();
    let closed = close(f).err();
    failed.or(closed)
}

#[test]
fn deleting_every_file_after_enospc_gives_the_space_back() {
    let setup = Setup { capacity: Some("20MB".into()), ..Setup::default() };
    let Some(mut v) = Volume::start_with("deleting_every_file_after_enospc_gives_the_space_back", &setup) else {
        return;
    };
    let limit = used(&v.mount) + 64 * 1024;
    // `df` does not offer the part kept for what deleting writes (1/64 of
    // 20 MB) to file content.
    let (free, available) = free_and_available(&v.mount).unwrap();
    let kept = free - available;
    assert!((312_500 - 4096..=312_500 + 4096).contains(&kept), "{kept} bytes free but not available");

    // One file written until the volume is full, like `dd` or `cp` of a large file.
    let mut f = fs::File::create(v.path("big")).unwrap();
    let mut full = None;
    for i in 0..40 {
        if let Err(e) = f.write_all(&noise(1 << 20, i)) {
            full = Some(e);
            break;
        }
    }
    let full = full.or_else(|| f.sync_all().err()).or_else(|| close(f).err());
    let full = full.expect("40 MiB never fit in a 20 MB silo");
    assert_eq!(full.raw_os_error(), Some(ENOSPC), "expected ENOSPC, got {full}");
    let filled = used(&v.mount);
    assert!(filled > 15_000_000, "only {filled} bytes used at ENOSPC");
    delete_everything_and_check(&v, "one big file", filled, limit);

    // Many files until a write, fsync or close fails.
    let full = (0..20).find_map(|i| write_file(&v, &format!("f{i}"), &noise(3 << 20, i)));
    let full = full.expect("60 MiB never fit in a 20 MB silo");
    assert_eq!(full.raw_os_error(), Some(ENOSPC), "expected ENOSPC, got {full}");
    let filled = used(&v.mount);
    assert!(filled > 15_000_000, "only {filled} bytes used at ENOSPC");
    delete_everything_and_check(&v, "3 MiB files", filled, limit);

    v.restart();
    let remounted = used(&v.mount);
    let (blocks, bytes) = silo_bytes(&v.home.silo());
    eprintln!("after remount {remounted} B ({blocks} block files, {bytes} B)");
    assert!(remounted <= limit, "{remounted} bytes used after remount");

    // The space is usable again: 12 MiB fit and read back.
    let data = noise(12 << 20, 99);
    if let Some(e) = write_file(&v, "again", &data) {
        panic!("12 MiB do not fit in the emptied volume: {e}");
    }
    assert_eq!(fs::read(v.path("again")).unwrap(), data);
}

#[test]
fn random_4k_writes_with_fsync_use_about_the_space_written() {
    use std::os::unix::fs::FileExt as _;
    let Some(mut v) = Volume::start("random_4k_writes_with_fsync_use_about_the_space_written") else {
        return;
    };
    const SIZE: u64 = 64 << 20;
    const BLOCK: usize = 4096;
    // A sparse 64 MiB file, like fio lays out: nothing stored for it yet.
    let f = fs::OpenOptions::new().create(true).truncate(true).read(true).write(true).open(v.path("f")).unwrap();
    f.set_len(SIZE).unwrap();
    f.sync_all().unwrap();
    let (_, before) = silo_bytes(&v.home.silo());
    let mut model = vec![0u8; SIZE as usize];
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut written = 0u64;
    let mut peak = 0u64;
    for i in 0..4096u64 {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let offset = (rng % (SIZE / BLOCK as u64)) * BLOCK as u64;
        let data = noise(BLOCK, i);
        f.write_all_at(&data, offset).unwrap();
        model[offset as usize..offset as usize + BLOCK].copy_from_slice(&data);
        written += BLOCK as u64;
        if i % 32 == 31 {
            f.sync_all().unwrap();
            peak = peak.max(silo_bytes(&v.home.silo()).1 - before);
        }
    }
    sync_volume(&v.mount).unwrap();
    let (blocks, after) = silo_bytes(&v.home.silo());
    let used = after - before;
    eprintln!("{written} B written in 4 KiB writes: {used} B stored ({blocks} block files), peak {peak} B");
    assert!(used <= 2 * written, "{used} bytes stored for {written} written; volume log: {}", v.stderr());
    assert!(peak <= 3 * written, "{peak} bytes at the peak for {written} written");
    let mut back = vec![0u8; SIZE as usize];
    f.read_exact_at(&mut back, 0).unwrap();
    assert!(back == model, "the file does not read back as written");
    close(f).unwrap();
    v.restart();
    assert!(fs::read(v.path("f")).unwrap() == model, "the file does not read back after a restart");
}
