//! Floor arithmetic, persistence across reopen, a `kill -9` in a child
//! process, concurrent observers and damaged files.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};

use super::*;

/// A distinct address per `i`, spread over every shard.
fn address(i: u32) -> Address {
    let mut a = [0x5a; 32];
    a[..4].copy_from_slice(&i.to_le_bytes());
    Address(a)
}

/// A policy under which only `sync()` and drop write anything.
fn manual() -> FlushPolicy {
    FlushPolicy { batch: usize::MAX, every: Duration::from_secs(3600), durable_every: Duration::from_secs(3600) }
}

fn assert_floor_rules(floor: &FreshnessFloor) {
    let a = address(1);
    assert_eq!(floor.floor(&a).unwrap(), None);
    floor.observe(a, 3).unwrap();
    assert_eq!(floor.floor(&a).unwrap(), Some(3));
    floor.observe(a, 3).unwrap();
    floor.observe(a, 7).unwrap();
    assert_eq!(floor.floor(&a).unwrap(), Some(7));
    let refused = floor.observe(a, 6).unwrap_err();
    assert_eq!(refused, Refusal::Rollback(Rollback { address: a, floor: 7, got: 6 }));
    assert_eq!(floor.floor(&a).unwrap(), Some(7), "a refused version leaves the floor alone");
    assert_eq!(floor.floor(&address(2)).unwrap(), None, "other blocks are unaffected");
}

#[test]
fn observe_raises_the_floor_accepts_equal_and_refuses_lower_in_memory() {
    assert_floor_rules(&FreshnessFloor::in_memory());
}

#[test]
fn observe_raises_the_floor_accepts_equal_and_refuses_lower_on_file() {
    let dir = tempfile::tempdir().unwrap();
    assert_floor_rules(&FreshnessFloor::open(&dir.path().join("floor.redb")).unwrap());
}

#[test]
fn rollback_message_names_the_block_and_both_versions() {
    let floor = FreshnessFloor::in_memory();
    floor.observe(address(9), 12).unwrap();
    let message = floor.observe(address(9), 4).unwrap_err().to_string();
    assert!(message.contains(&address(9).to_string()), "{message}");
    assert!(message.contains("version 4") && message.contains("version 12"), "{message}");
}

#[test]
fn synced_floors_survive_reopen_and_still_refuse_rollbacks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("floor.redb");
    {
        let floor = FreshnessFloor::open_with(&path, manual()).unwrap();
        for i in 0..500 {
            floor.observe(address(i), u64::from(i) + 10).unwrap();
        }
        floor.observe(address(0), 99).unwrap();
        floor.sync().unwrap();
    }
    let floor = FreshnessFloor::open_with(&path, manual()).unwrap();
    assert_eq!(floor.count().unwrap(), 500);
    assert_eq!(floor.floor(&address(0)).unwrap(), Some(99));
    assert_eq!(floor.floor(&address(321)).unwrap(), Some(331));
    assert_eq!(
        floor.observe(address(0), 98),
        Err(Refusal::Rollback(Rollback { address: address(0), floor: 99, got: 98 }))
    );
    floor.observe(address(321), 331).unwrap();
}

#[test]
fn drop_without_sync_writes_what_was_observed_and_nothing_higher() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("floor.redb");
    {
        let floor = FreshnessFloor::open_with(&path, manual()).unwrap();
        floor.observe(address(1), 5).unwrap();
        floor.sync().unwrap();
        floor.observe(address(1), 6).unwrap();
        floor.observe(address(2), 1).unwrap();
    }
    let floor = FreshnessFloor::open_with(&path, manual()).unwrap();
    assert_eq!(floor.floor(&address(1)).unwrap(), Some(6));
    assert_eq!(floor.floor(&address(2)).unwrap(), Some(1));
    assert_eq!(floor.floor(&address(3)).unwrap(), None);
}

#[test]
fn a_second_open_of_the_same_file_is_refused_as_locked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("floor.redb");
    let _first = FreshnessFloor::open(&path).unwrap();
    match FreshnessFloor::open(&path) {
        Err(FreshnessError::Locked { path: p }) => assert_eq!(p, path),
        other => panic!("expected Locked, got {other:?}"),
    }
}

#[test]
fn a_garbage_file_is_reported_corrupt_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("floor.redb");
    std::fs::write(&path, vec![0xa7; 64 * 1024]).unwrap();
    match FreshnessFloor::open(&path) {
        Err(e @ FreshnessError::Corrupt { .. }) => assert!(e.to_string().contains("floor.redb"), "{e}"),
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn a_damaged_floor_file_is_reported_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("floor.redb");
    {
        let floor = FreshnessFloor::open_with(&path, manual()).unwrap();
        for i in 0..5000 {
            floor.observe(address(i), 1).unwrap();
        }
        floor.sync().unwrap();
    }
    // Overwrite everything past the header: the pages holding the floors.
    let mut bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 8192);
    for b in &mut bytes[4096..] {
        *b = !*b;
    }
    std::fs::write(&path, bytes).unwrap();
    match FreshnessFloor::open(&path) {
        Err(FreshnessError::Corrupt { .. } | FreshnessError::Open { .. }) => {}
        Ok(floor) => panic!("a damaged file was trusted: {floor:?}"),
        Err(other) => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn a_missing_folder_is_an_open_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no such folder").join("floor.redb");
    match FreshnessFloor::open(&path) {
        Err(e @ FreshnessError::Open { .. }) => assert!(e.to_string().contains("no such folder"), "{e}"),
        other => panic!("expected Open, got {other:?}"),
    }
}

#[test]
fn the_background_writer_drains_the_queue_without_sync() {
    let dir = tempfile::tempdir().unwrap();
    let policy = FlushPolicy { batch: 10, every: Duration::from_millis(5), durable_every: Duration::from_millis(20) };
    let floor = FreshnessFloor::open_with(&dir.path().join("floor.redb"), policy).unwrap();
    for i in 0..1000 {
        floor.observe(address(i), 1).unwrap();
    }
    let store = floor.floors.store.as_ref().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while store.queued.load(Ordering::Relaxed) > 0 || lock(&store.disk).unsynced {
        assert!(Instant::now() < deadline, "the writer left floors queued or not durable");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn concurrent_observers_leave_the_highest_version_of_each_block() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("floor.redb");
    let policy = FlushPolicy { batch: 64, every: Duration::from_millis(1), durable_every: Duration::from_millis(10) };
    {
        let floor = FreshnessFloor::open_with(&path, policy).unwrap();
        std::thread::scope(|s| {
            for t in 0..4u64 {
                let floor = &floor;
                s.spawn(move || {
                    for round in 0..200u64 {
                        // The shared blocks: every thread pushes them up, racing.
                        for i in 0..16 {
                            let _ = floor.observe(address(i), round * 4 + t);
                        }
                        // A block of this thread's own.
                        floor.observe(address(1000 + t as u32), round).unwrap();
                    }
                });
            }
        });
        for i in 0..16 {
            assert_eq!(floor.floor(&address(i)).unwrap(), Some(199 * 4 + 3));
        }
        floor.sync().unwrap();
    }
    let floor = FreshnessFloor::open_with(&path, manual()).unwrap();
    for i in 0..16 {
        assert_eq!(floor.floor(&address(i)).unwrap(), Some(199 * 4 + 3));
    }
    for t in 0..4 {
        assert_eq!(floor.floor(&address(1000 + t)).unwrap(), Some(199));
    }
}

/// Env vars naming the file the crash child writes and how; unset in normal runs.
const CRASH_CHILD: &str = "INFINIT_FRESHNESS_CRASH_CHILD";
const CRASH_MODE: &str = "INFINIT_FRESHNESS_CRASH_MODE";
/// Blocks the child observes before its `sync()`, then after it.
const SYNCED: u32 = 2000;
const UNSYNCED: u32 = 2000;
/// In background mode, the version whose floors the child waits to see durable.
const DURABLE_ROUND: u64 = 40;

/// Run in a child process by the two crash tests, which kill it with
/// SIGKILL. Mode `manual`: only `sync()` writes; the child syncs, raises
/// floors, says `ready` and waits. Mode `background`: the writer commits
/// every few milliseconds; the child raises every floor round after round,
/// announcing each version first, and says `durable` once round
/// [`DURABLE_ROUND`] was committed durably by the writer alone. Mode
/// `collect`: like `manual`, then collects one tombstone before `ready`.
#[test]
#[ignore = "helper: only does anything in the child process of a crash test"]
fn crash_child() {
    let Some(path) = std::env::var_os(CRASH_CHILD) else { return };
    let background = std::env::var(CRASH_MODE).is_ok_and(|m| m == "background");
    let policy = if background {
        FlushPolicy { batch: 100, every: Duration::from_millis(1), durable_every: Duration::from_millis(3) }
    } else {
        manual()
    };
    let floor = FreshnessFloor::open_with(Path::new(&path), policy).unwrap();
    for i in 0..SYNCED {
        floor.observe(address(i), 10).unwrap();
    }
    floor.sync().unwrap();
    for i in 0..SYNCED {
        floor.observe(address(i), 20).unwrap();
    }
    for i in SYNCED..SYNCED + UNSYNCED {
        floor.observe(address(i), 30).unwrap();
    }
    let say = |line: String| {
        println!("{line}");
        std::io::stdout().flush().unwrap();
    };
    if std::env::var(CRASH_MODE).is_ok_and(|m| m == "collect") {
        floor.collect(&[(address(SYNCED + UNSYNCED), 7)]).unwrap();
    }
    if !background {
        say("ready".into());
        loop {
            std::thread::sleep(Duration::from_secs(1));
        }
    }
    for version in 31.. {
        say(format!("round {version}"));
        for i in 0..SYNCED + UNSYNCED {
            floor.observe(address(i), version).unwrap();
        }
        if version == DURABLE_ROUND {
            let store = floor.floors.store.as_ref().unwrap();
            while store.queued.load(Ordering::Relaxed) > 0 || lock(&store.disk).unsynced {
                std::thread::sleep(Duration::from_millis(1));
            }
            say("durable".into());
        }
    }
}

/// Kills the child on drop, even when the test fails.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start the crash child on `path`, wait for the line `until`, kill it with
/// SIGKILL and return everything it printed.
fn crash_child_killed_after(path: &Path, mode: &str, until: &str) -> Vec<String> {
    let mut child = KillOnDrop(
        Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "runtime::freshness::tests::crash_child", "--ignored", "--nocapture"])
            .env(CRASH_CHILD, path)
            .env(CRASH_MODE, mode)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let stdout = child.0.stdout.take().unwrap();
    let (lines, received) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let mut output = Vec::new();
    while !output.iter().any(|l| l == until) {
        output.push(received.recv_timeout(Duration::from_secs(60)).expect("the crash child stopped early"));
    }
    child.0.kill().unwrap();
    assert!(!child.0.wait().unwrap().success());
    reader.join().unwrap();
    output.extend(received.try_iter());
    output
}

#[test]
fn a_killed_process_keeps_exactly_what_it_synced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("floor.redb");
    crash_child_killed_after(&path, "manual", "ready");
    let floor = FreshnessFloor::open_with(&path, manual()).unwrap();
    for i in 0..SYNCED {
        assert_eq!(floor.floor(&address(i)).unwrap(), Some(10), "block {i}");
    }
    for i in SYNCED..SYNCED + UNSYNCED + 100 {
        assert_eq!(floor.floor(&address(i)).unwrap(), None, "block {i}");
    }
}

#[test]
fn a_killed_process_keeps_background_commits_and_never_a_higher_floor() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("floor.redb");
    let output = crash_child_killed_after(&path, "background", "durable");
    // The child announces a version before observing it: nothing it saw is higher.
    let highest = output.iter().filter_map(|l| l.strip_prefix("round ")?.parse::<u64>().ok()).max().unwrap();
    let floor = FreshnessFloor::open_with(&path, manual()).unwrap();
    for i in 0..SYNCED + UNSYNCED {
        let v = floor.floor(&address(i)).unwrap().unwrap_or_else(|| panic!("the floor of block {i} was lost"));
        assert!(v >= DURABLE_ROUND, "block {i}: the durable floor {DURABLE_ROUND} was lost ({v})");
        assert!(v <= highest, "block {i} has floor {v}, above any version seen ({highest})");
    }
    for i in SYNCED + UNSYNCED..SYNCED + UNSYNCED + 100 {
        assert_eq!(floor.floor(&address(i)).unwrap(), None, "block {i} was never observed");
    }
}

#[test]
fn collected_tombstones_are_durable_when_collect_returns_and_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("floor.redb");
    crash_child_killed_after(&path, "collect", "ready");
    let floor = FreshnessFloor::open_with(&path, manual()).unwrap();
    let removed = address(SYNCED + UNSYNCED);
    assert_eq!(floor.collected(&removed).unwrap(), Some(7), "collect returned before the mark was durable");
    assert_eq!(floor.floor(&removed).unwrap(), Some(7));
    assert_eq!(floor.observe(removed, 6), Err(Refusal::Rollback(Rollback { address: removed, floor: 7, got: 6 })));
    assert_eq!(floor.collected(&address(0)).unwrap(), None, "only collected tombstones are marked");
}

#[test]
fn collect_marks_in_memory_too() {
    let floor = FreshnessFloor::in_memory();
    floor.observe(address(1), 4).unwrap();
    assert_eq!(floor.collected(&address(1)).unwrap(), None);
    floor.collect(&[(address(1), 4), (address(2), 9)]).unwrap();
    assert_eq!(floor.collected(&address(1)).unwrap(), Some(4));
    assert_eq!(floor.collected(&address(2)).unwrap(), Some(9));
    assert_eq!(floor.floor(&address(2)).unwrap(), Some(9));
}

/// `cargo test --release --lib freshness::tests::bench -- --ignored --nocapture`
#[test]
#[ignore = "micro-benchmark; prints numbers"]
fn bench() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("floor.redb");
    let n: u32 = 1_000_000;
    let addresses: Vec<Address> = (0..n).map(|i| Address::content(None, &i.to_le_bytes())).collect();

    let memory = FreshnessFloor::in_memory();
    let start = Instant::now();
    for a in &addresses {
        memory.observe(*a, 1).unwrap();
    }
    let raise = start.elapsed();
    let start = Instant::now();
    for a in &addresses {
        memory.observe(*a, 1).unwrap();
    }
    let equal = start.elapsed();
    println!(
        "in memory: {:.0} new floors/s, {:.0} equal observations/s",
        f64::from(n) / raise.as_secs_f64(),
        f64::from(n) / equal.as_secs_f64()
    );

    let floor = FreshnessFloor::open_with(&path, manual()).unwrap();
    let hundred_k = 100_000;
    let start = Instant::now();
    for a in &addresses[..hundred_k] {
        floor.observe(*a, 1).unwrap();
    }
    let raise = start.elapsed();
    let start = Instant::now();
    floor.sync().unwrap();
    println!(
        "on file: {:.0} new floors/s; sync of 100k new floors {:?}",
        hundred_k as f64 / raise.as_secs_f64(),
        start.elapsed()
    );
    for a in &addresses[..hundred_k] {
        floor.observe(*a, 2).unwrap();
    }
    let start = Instant::now();
    floor.sync().unwrap();
    println!("sync of 100k raised floors {:?}", start.elapsed());
    drop(floor);

    // Default policy: background batches while observing.
    let floor = FreshnessFloor::open(&path).unwrap();
    let start = Instant::now();
    for a in &addresses {
        floor.observe(*a, 3).unwrap();
    }
    let raise = start.elapsed();
    let start = Instant::now();
    floor.sync().unwrap();
    println!(
        "on file, background writer: {:.0} raised floors/s over 1M blocks; final sync {:?}",
        f64::from(n) / raise.as_secs_f64(),
        start.elapsed()
    );
    drop(floor);
    let size = std::fs::metadata(&path).unwrap().len();
    let start = Instant::now();
    let floor = FreshnessFloor::open(&path).unwrap();
    println!("open with 1M floors: {:?} (file {} MiB)", start.elapsed(), size >> 20);
    assert_eq!(floor.count().unwrap(), n as usize);

    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..4 {
            let floor = &floor;
            let addresses = &addresses;
            s.spawn(move || {
                for a in addresses.iter().skip(t).step_by(4) {
                    floor.observe(*a, 4).unwrap();
                }
            });
        }
    });
    println!("4 threads: {:.0} raised floors/s", f64::from(n) / start.elapsed().as_secs_f64());
}

/// Floors held in memory by a file-backed floor (both generations and the queue).
fn in_memory(floor: &FreshnessFloor) -> usize {
    floor
        .floors
        .shards
        .iter()
        .map(|s| {
            let s = lock(s);
            s.young.len() + s.old.len()
        })
        .sum()
}

#[test]
fn a_floor_of_many_more_blocks_than_its_cache_still_refuses_every_rollback() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("floor.redb");
    let blocks = 5_000;
    let floor = FreshnessFloor::open_with_cache(&path, manual(), 256, CACHE_BYTES).unwrap();
    for i in 0..blocks {
        floor.observe(address(i), u64::from(i) + 10).unwrap();
    }
    // Nothing written yet: the floors that left the cache are found in the queue.
    assert!(in_memory(&floor) <= 2 * 256, "the cache grew to {} floors", in_memory(&floor));
    for i in (0..blocks).step_by(7) {
        assert_eq!(
            floor.observe(address(i), u64::from(i) + 9),
            Err(Refusal::Rollback(Rollback { address: address(i), floor: u64::from(i) + 10, got: u64::from(i) + 9 }))
        );
    }
    // Written: found in the file, and raised again above what it holds.
    floor.sync().unwrap();
    assert!(floor.floors.shards.iter().all(|s| lock(s).queued.is_empty()), "sync left floors queued");
    for i in (0..blocks).step_by(5) {
        assert_eq!(floor.floor(&address(i)).unwrap(), Some(u64::from(i) + 10), "block {i}");
        floor.observe(address(i), u64::from(i) + 20).unwrap();
    }
    for i in (0..blocks).step_by(5) {
        assert_eq!(floor.floor(&address(i)).unwrap(), Some(u64::from(i) + 20), "block {i}");
    }
    assert!(in_memory(&floor) <= 2 * 256, "the cache grew to {} floors", in_memory(&floor));
    assert_eq!(floor.count().unwrap(), blocks as usize);
    drop(floor);
    let floor = FreshnessFloor::open_with_cache(&path, manual(), 256, CACHE_BYTES).unwrap();
    for i in 0..blocks {
        let expected = if i % 5 == 0 { u64::from(i) + 20 } else { u64::from(i) + 10 };
        assert_eq!(floor.floor(&address(i)).unwrap(), Some(expected), "block {i} after reopening");
    }
}

/// Resident memory of this process, in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
#[ignore = "measures memory: cargo test --release --lib floor_memory -- --ignored --nocapture"]
fn floor_memory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("floor.redb");
    let n: u32 = 1_000_000;
    {
        let floor = FreshnessFloor::open_with(&path, FlushPolicy::default()).unwrap();
        for i in 0..n {
            floor.observe(Address::content(None, &i.to_le_bytes()), 1).unwrap();
        }
        floor.sync().unwrap();
        println!("after {n} new floors: {} KiB", rss_kib());
    }
    let before = rss_kib();
    let floor = FreshnessFloor::open(&path).unwrap();
    println!("reopened: {} KiB (was {before})", rss_kib());
    for i in 0..n {
        floor.observe(Address::content(None, &i.to_le_bytes()), 1).unwrap();
    }
    println!("after reading {n} floors: {} KiB", rss_kib());
}

#[test]
fn a_floor_that_cannot_be_read_from_its_file_refuses_instead_of_accepting() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("floor.redb");
    let blocks = 20_000;
    {
        let floor = FreshnessFloor::open_with(&path, manual()).unwrap();
        for i in 0..blocks {
            floor.observe(address(i), 5).unwrap();
        }
        floor.sync().unwrap();
    }
    let floor = FreshnessFloor::open_with_cache(&path, manual(), 256, 0).unwrap();
    // No page of the file in memory, then the file is damaged under the
    // running node (a failing disk, a bad restore).
    let length = std::fs::metadata(&path).unwrap().len();
    std::fs::write(&path, vec![0xa5; length as usize]).unwrap();
    let mut refused = 0;
    for i in 0..blocks {
        match std::panic::catch_unwind(AssertUnwindSafe(|| floor.observe(address(i), 1))) {
            Ok(Ok(())) => panic!("block {i}: version 1 accepted below a floor of 5 that could not be read"),
            Ok(Err(Refusal::Rollback(_))) => {}
            Ok(Err(Refusal::Unreadable(e))) => {
                assert!(e.to_string().contains("cannot read"), "{e}");
                refused += 1;
                if refused == 10 {
                    // Each refusal prints redb's panic: enough of them.
                    break;
                }
            }
            Err(_) => panic!("block {i}: reading the damaged file panicked"),
        }
    }
    assert!(refused > 0, "every floor came from memory: the damage was never read");
    // redb itself panics closing a file damaged under it (in its own
    // `Drop`, out of our reach): not what this test is about.
    std::mem::forget(floor);
}
