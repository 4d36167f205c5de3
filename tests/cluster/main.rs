//! Networks of several real `infinit` processes on loopback addresses:
//! storage nodes (`network run`) and clients mounting the volume
//! (`volume run`), killed with SIGKILL, stopped with SIGSTOP (a partition
//! they cannot tell from a dead link), and restarted. Each test owns its
//! homes and a 127.0.N.0/24 of its own, so the tests run in parallel.

mod support;

use std::fs;
use std::io::Write as _;
use std::time::{Duration, Instant};

use support::{Cluster, fuse_available, noise, within};

/// A tree of files of assorted sizes under `dir`, with what each holds.
fn write_tree(root: &std::path::Path, prefix: &str) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut written = Vec::new();
    for d in 0..3 {
        let dir = root.join(format!("{prefix}dir{d}"));
        fs::create_dir_all(&dir).expect("mkdir");
        for (i, len) in [0usize, 1, 4096, 70_000, (1 << 20) + 17].into_iter().enumerate() {
            let path = dir.join(format!("f{i}"));
            let data = noise(len, (d * 10 + i) as u64 + prefix.len() as u64);
            let mut f = fs::File::create(&path).expect("create");
            f.write_all(&data).expect("write");
            f.sync_all().expect("fsync");
            written.push((path, data));
        }
    }
    written
}

fn assert_tree(files: &[(std::path::PathBuf, Vec<u8>)], when: &str) {
    for (path, data) in files {
        let read = fs::read(path).unwrap_or_else(|e| panic!("{when}: {} unreadable: {e}", path.display()));
        assert!(read == *data, "{when}: {} differs ({} bytes, {} expected)", path.display(), read.len(), data.len());
    }
}

#[test]
fn a_killed_storage_node_loses_nothing_and_rejoins_with_the_latest_versions() {
    if !fuse_available("a_killed_storage_node_loses_nothing_and_rejoins_with_the_latest_versions") {
        return;
    }
    let mut c = Cluster::new(3);
    c.add_storage(3);
    let client = c.add_client(&[]);
    let before = write_tree(&c.clients[client].mount, "a");
    // Everyone sees everyone.
    let view = c.inspect(0);
    let peers: Vec<_> = view.iter().filter(|d| d["event"] == "peer").collect();
    assert_eq!(peers.len(), 3, "two storage nodes and the client: {view:?}");
    assert!(peers.iter().all(|p| p["state"] == "alive"), "{view:?}");
    let blocks = view.iter().find(|d| d["event"] == "blocks").expect("blocks line");
    assert!(blocks["stored"].as_u64().unwrap_or(0) > 15, "every block is on every node: {blocks}");

    c.kill_storage(2);
    assert_tree(&before, "with one storage node killed");
    let during = write_tree(&c.clients[client].mount, "b");
    assert_tree(&during, "written with one node down");
    // The survivors notice.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let view = c.inspect(0);
        let down = view.iter().any(|d| d["event"] == "peer" && (d["state"] == "down" || d["state"] == "suspect"));
        if down {
            break;
        }
        assert!(Instant::now() < deadline, "the killed node is still seen alive: {view:?}");
        std::thread::sleep(Duration::from_millis(200));
    }

    // It comes back, and serves the latest versions: with another node
    // down, every read needs it.
    c.start_storage(2);
    std::thread::sleep(Duration::from_secs(2));
    c.kill_storage(1);
    assert_tree(&before, "old files, served by the restarted node and one other");
    assert_tree(&during, "files written while it was down");
    let after = write_tree(&c.clients[client].mount, "c");
    assert_tree(&after, "new files");
}

/// Three storage nodes (K=3) and two FUSE clients that revalidate every 200 ms.
fn two_clients() -> (Cluster, usize, usize) {
    let mut c = Cluster::new(3);
    c.add_storage(3);
    let a = c.add_client(&["--revalidate", "200ms"]);
    let b = c.add_client(&["--revalidate", "200ms"]);
    (c, a, b)
}

/// The names in folder `d`, sorted.
fn sorted_names(d: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> =
        fs::read_dir(d).expect("readdir").map(|e| e.expect("entry").file_name().to_string_lossy().into()).collect();
    names.sort();
    names
}

#[test]
fn two_clients_on_one_directory_lose_no_entry_and_one_create_of_a_name_wins() {
    if !fuse_available("two_clients_on_one_directory_lose_no_entry_and_one_create_of_a_name_wins") {
        return;
    }
    let (c, a, b) = two_clients();
    fs::create_dir(c.clients[a].path("shared")).expect("mkdir");
    std::thread::sleep(Duration::from_millis(600));
    let (da, db) = (c.clients[a].path("shared"), c.clients[b].path("shared"));
    assert!(db.is_dir(), "b sees a's directory");
    let writer = |dir: std::path::PathBuf, me: &'static str| {
        move || {
            let mut won = Vec::new();
            for i in 0..40 {
                fs::write(dir.join(format!("{me}-{i}")), me.as_bytes()).expect("distinct name");
                match fs::OpenOptions::new().write(true).create_new(true).open(dir.join(format!("same-{i}"))) {
                    Ok(mut f) => {
                        f.write_all(me.as_bytes()).expect("write");
                        won.push(i);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                    Err(e) => panic!("{me}: create same-{i}: {e}"),
                }
            }
            won
        }
    };
    let ta = std::thread::spawn(writer(da.clone(), "a"));
    let tb = std::thread::spawn(writer(db.clone(), "b"));
    let (wa, wb) = (ta.join().expect("a"), tb.join().expect("b"));
    for i in 0..40 {
        assert!(wa.contains(&i) ^ wb.contains(&i), "same-{i}: exactly one create wins (a {wa:?}, b {wb:?})");
    }
    std::thread::sleep(Duration::from_millis(800));
    let (la, lb) = (sorted_names(&da), sorted_names(&db));
    assert_eq!(la.len(), 120, "40 + 40 distinct names and 40 shared ones: {la:?}");
    assert_eq!(la, lb, "both clients list the same directory");
    for i in 0..40 {
        let winner = if wa.contains(&i) { "a" } else { "b" };
        assert_eq!(fs::read(db.join(format!("same-{i}"))).expect("read"), winner.as_bytes());
    }
}

#[test]
fn two_clients_share_a_folder_large_enough_to_be_sharded() {
    if !fuse_available("two_clients_share_a_folder_large_enough_to_be_sharded") {
        return;
    }
    let (c, a, b) = two_clients();
    let (da, db) = (c.clients[a].path("big"), c.clients[b].path("big"));
    fs::create_dir(&da).expect("mkdir");
    // Past 2,048 entries the folder is stored in shards.
    for i in 0..2500 {
        fs::File::create(da.join(format!("a-{i}"))).expect("create");
    }
    fs::File::open(&da).expect("open").sync_all().expect("fsync");
    // Then both write into it at once: the lease changes hands.
    let writer = |dir: std::path::PathBuf, me: &'static str| {
        move || {
            for i in 0..100 {
                fs::write(dir.join(format!("{me}-new-{i}")), me.as_bytes()).expect("create");
            }
        }
    };
    let ta = std::thread::spawn(writer(da.clone(), "a"));
    let tb = std::thread::spawn(writer(db.clone(), "b"));
    ta.join().expect("a");
    tb.join().expect("b");
    // b removes some of a's first names: a sees them go.
    for i in 0..50 {
        fs::remove_file(db.join(format!("a-{i}"))).expect("unlink");
    }
    std::thread::sleep(Duration::from_millis(800));
    let (la, lb) = (sorted_names(&da), sorted_names(&db));
    assert_eq!(la.len(), 2500 + 200 - 50, "no entry lost or kept");
    assert_eq!(la, lb, "both clients list the same folder");
    assert!(!la.contains(&"a-7".to_string()) && la.contains(&"a-2499".to_string()));
    assert_eq!(fs::read(da.join("b-new-99")).expect("b's file, read by a"), b"b");
}

#[test]
fn a_client_killed_while_holding_a_folders_lease_holds_others_up_only_until_it_runs_out() {
    if !fuse_available("a_client_killed_while_holding_a_folders_lease_holds_others_up_only_until_it_runs_out") {
        return;
    }
    let (mut c, a, b) = two_clients();
    let (da, db) = (c.clients[a].path("shared"), c.clients[b].path("shared"));
    fs::create_dir(&da).expect("mkdir");
    let mut early = fs::File::create(da.join("early")).expect("create");
    early.write_all(b"durable").expect("write");
    early.sync_all().expect("fsync");
    // Answered at once under a's lease, most of them not stored yet, when a dies.
    for i in 0..300 {
        fs::File::create(da.join(format!("a-{i}"))).expect("create under the lease");
    }
    let killed = Instant::now();
    c.clients[a].proc.take().expect("running").kill9();
    support::force_unmount(&c.clients[a].mount);
    fs::File::create(db.join("after")).expect("b creates once a's lease ran out");
    let waited = killed.elapsed();
    assert!(waited < Duration::from_secs(10), "a dead client's lease runs out in seconds: {waited:?}");
    std::thread::sleep(Duration::from_millis(400));
    let names = sorted_names(&db);
    assert!(names.contains(&"early".to_string()) && names.contains(&"after".to_string()), "{names:?}");
    assert_eq!(fs::read(db.join("early")).expect("the fsynced file"), b"durable");
    for name in &names {
        // Whatever a stored is whole: no entry names a missing node.
        fs::metadata(db.join(name)).unwrap_or_else(|e| panic!("{name} is listed but cannot be read: {e}"));
    }
    let kept = names.iter().filter(|n| n.starts_with("a-")).count();
    eprintln!("a had stored {kept} of its 300 creates when it was killed; b waited {waited:?}");
}

#[test]
fn a_partitioned_minority_cannot_write_says_so_in_bounded_time_and_heals() {
    if !fuse_available("a_partitioned_minority_cannot_write_says_so_in_bounded_time_and_heals") {
        return;
    }
    let mut c = Cluster::new(3);
    c.add_storage(3);
    let client = c.add_client(&[]);
    let root = c.clients[client].mount.clone();
    fs::write(root.join("before"), b"1").expect("write");
    // Two of three storage nodes stop answering: no majority is reachable.
    for i in [1, 2] {
        c.storage[i].proc.as_ref().expect("running").signal(libc::SIGSTOP);
    }
    let started = Instant::now();
    let path = root.join("during");
    let outcome = within(Duration::from_secs(60), move || {
        let mut f = fs::File::create(&path)?;
        f.write_all(b"2")?;
        f.sync_all()
    })
    .expect("the write returns instead of hanging");
    let took = started.elapsed();
    assert!(outcome.is_err(), "a write without a majority fails");
    assert!(took < Duration::from_secs(45), "it fails within a bounded time, not {took:?}");
    let log = c.clients[client].proc.as_ref().expect("running").log();
    assert!(log.contains("replicas") || log.contains("unavailable"), "the client logs why: {log}");
    for i in [1, 2] {
        c.storage[i].proc.as_ref().expect("running").signal(libc::SIGCONT);
    }
    // Healed: writes work again, and what was written before is there.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let attempt =
            fs::File::create(root.join("after")).and_then(|mut f| f.write_all(b"3").and_then(|()| f.sync_all()));
        if attempt.is_ok() {
            break;
        }
        assert!(Instant::now() < deadline, "writes never came back: {attempt:?}");
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(fs::read(root.join("before")).expect("read"), b"1");
    assert_eq!(fs::read(root.join("after")).expect("read"), b"3");
}

#[test]
fn inspect_without_a_running_node_says_how_to_start_one() {
    let c = Cluster::new(1);
    let out = c.owner.cmd(&["network", "inspect", "--name", "net"]).output().expect("spawn");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("infinit: error: no node of network \"alice/net\" runs on this device"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
}
