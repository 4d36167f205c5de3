//! The run options and the commands around a mount: `--async` with its
//! journal (`journal stat`, replay by `network run` or the next mount),
//! `--readonly`, and `cluster init` from an empty home.

use std::fs;
use std::io::{BufRead as _, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::{PATIENCE, Setup, Volume, is_mounted, noise, sha, signal, wait_bounded};

fn setup(run_args: &[&str]) -> Setup {
    Setup { run_args: run_args.iter().map(|s| s.to_string()).collect(), ..Setup::default() }
}

/// `journal stat --script` for network `net`: (pending operations, refused).
fn journal_stat(v: &Volume) -> (u64, u64) {
    let out = v.home.cmd(&["journal", "stat", "--network", "net", "--script"]).output().expect("spawn");
    assert!(out.status.success(), "journal stat failed: {}", String::from_utf8_lossy(&out.stderr));
    let line = String::from_utf8(out.stdout).expect("utf-8");
    let doc: serde_json::Value = serde_json::from_str(line.trim()).unwrap_or_else(|e| panic!("{e}: {line:?}"));
    assert_eq!(doc["network"], "alice/net");
    (doc["pending_operations"].as_u64().expect("count"), doc["rejected"].as_u64().expect("count"))
}

#[test]
fn async_writes_survive_kill9_and_the_journal_is_replayed() {
    let Some(mut v) = Volume::start_with("async_writes_survive_kill9", &setup(&["--async"])) else { return };
    let mut sums = Vec::new();
    for (i, size) in [10usize, 9000, 3 << 20].into_iter().enumerate() {
        let name = format!("f{i}");
        let data = noise(size, 70 + i as u64);
        fs::write(v.path(&name), &data).unwrap();
        fs::File::open(v.path(&name)).unwrap().sync_all().unwrap();
        sums.push((name, sha(&data)));
    }
    v.kill9();
    // Whatever the journal still holds is listed without a running node...
    let (pending, refused) = journal_stat(&v);
    assert_eq!(refused, 0);
    let describe = v.home.cmd(&["journal", "describe", "--network", "net", "--script"]).output().unwrap();
    assert!(describe.status.success());
    assert_eq!(String::from_utf8_lossy(&describe.stdout).lines().count() as u64, pending);
    // ...and replayed by the next run, even without --async.
    v.restart();
    for (name, sum) in &sums {
        assert_eq!(&sha(&fs::read(v.path(name)).unwrap()), sum, "{name} after kill -9 and replay");
    }
    let deadline = Instant::now() + PATIENCE;
    while journal_stat(&v).0 != 0 {
        assert!(Instant::now() < deadline, "the journal never drained");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn async_kill9_right_after_close_keeps_every_closed_file() {
    let Some(mut v) = Volume::start_with("async_kill9_after_close", &setup(&["--async"])) else { return };
    fs::create_dir(v.path("d")).unwrap();
    let mut sums = Vec::new();
    for i in 0..20u64 {
        let name = format!("d/f{i}");
        let data = noise(100 + i as usize * 5000, 300 + i);
        // write + close, no fsync: close is what the application was told.
        fs::write(v.path(&name), &data).unwrap();
        sums.push((name, sha(&data)));
    }
    v.kill9();
    v.restart();
    for (name, sum) in &sums {
        let data =
            fs::read(v.path(name)).unwrap_or_else(|e| panic!("{name} lost after kill -9 right after close: {e}"));
        assert_eq!(&sha(&data), sum, "{name}");
    }
}

#[test]
fn network_run_stores_what_a_crashed_async_run_journaled() {
    let Some(mut v) = Volume::start_with("network_run_stores_the_journal", &setup(&["--async"])) else { return };
    let data = noise(2 << 20, 91);
    fs::write(v.path("big"), &data).unwrap();
    fs::File::open(v.path("big")).unwrap().sync_all().unwrap();
    v.kill9();
    let mut node = KillOnDrop(
        v.home
            .cmd(&["network", "run", "--name", "net"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn network run"),
    );
    let mut lines = BufReader::new(node.0.stdout.take().expect("stdout")).lines();
    let first = lines.next().expect("a line").expect("utf-8");
    assert_eq!(first, "Running network \"alice/net\".");
    let second = lines.next().expect("a line").expect("utf-8");
    if second != "Stored the journaled operations of network \"alice/net\" (0 refused)." {
        // Say why: the node's log, once it is stopped.
        let _ = node.0.kill();
        let mut log = String::new();
        if let Some(mut err) = node.0.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut err, &mut log);
        }
        panic!("unexpected: {second:?}\nthe node's stderr:\n{log}");
    }
    assert_eq!(journal_stat(&v).0, 0, "network run left operations in the journal");
    signal(&node.0, libc::SIGTERM);
    let status = wait_bounded(&mut node.0, PATIENCE).expect("network run ignored SIGTERM");
    assert!(status.success());
    v.restart();
    assert_eq!(sha(&fs::read(v.path("big")).unwrap()), sha(&data));
}

#[test]
fn a_readonly_mount_reads_but_refuses_every_change() {
    let Some(mut v) = Volume::start("a_readonly_mount_refuses_changes") else { return };
    fs::write(v.path("kept"), b"before").unwrap();
    fs::create_dir(v.path("dir")).unwrap();
    v.restart_with(&["--readonly"]);
    assert_eq!(fs::read(v.path("kept")).unwrap(), b"before");
    const EROFS: i32 = 30;
    for (what, result) in [
        ("create", fs::write(v.path("new"), b"x")),
        ("overwrite", fs::write(v.path("kept"), b"after")),
        ("mkdir", fs::create_dir(v.path("dir/sub"))),
        ("unlink", fs::remove_file(v.path("kept"))),
        ("rename", fs::rename(v.path("kept"), v.path("moved"))),
        ("symlink", std::os::unix::fs::symlink("target", v.path("link"))),
    ] {
        assert_eq!(result.map_err(|e| e.raw_os_error()), Err(Some(EROFS)), "{what} on a read-only mount");
    }
    v.restart_with(&[]);
    assert_eq!(fs::read(v.path("kept")).unwrap(), b"before", "nothing changed underneath");
    fs::write(v.path("new"), b"x").unwrap();
}

#[test]
fn cluster_init_goes_from_an_empty_home_to_a_mounted_volume_and_back() {
    if !crate::support::fuse_available("cluster_init") {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let mount = home.path().join("mnt");
    let run = || {
        let mut child = std::process::Command::new(crate::support::infinit())
            .args(["cluster", "init", "--mountpoint", mount.to_str().unwrap(), "--capacity", "1GB"])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("INFINIT_HOME", home.path())
            .env("INFINIT_USER", "carol")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn cluster init");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut seen = Vec::new();
        for line in lines.by_ref() {
            let line = line.unwrap();
            let done = line.starts_with("Running volume");
            seen.push(line);
            if done {
                break;
            }
        }
        let deadline = Instant::now() + PATIENCE;
        while !is_mounted(&mount) {
            assert!(Instant::now() < deadline, "cluster init did not mount: {seen:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
        (child, seen)
    };
    let stop = |mut child: std::process::Child| {
        signal(&child, libc::SIGTERM);
        let status = wait_bounded(&mut child, PATIENCE).expect("cluster init ignored SIGTERM");
        assert!(status.success());
        assert!(!is_mounted(&mount));
    };
    let (child, seen) = run();
    assert_eq!(
        seen,
        [
            "Locally saved user \"carol\".",
            "Locally saved silo \"cluster\".",
            "Locally saved network \"carol/cluster\".",
            "Linked network \"carol/cluster\" to this device for user \"carol\".",
            "Locally saved volume \"carol/cluster\".",
            &format!("Running volume \"carol/cluster\" on \"{}\".", mount.display()),
        ]
    );
    fs::write(mount.join("hello"), b"world").unwrap();
    stop(child);
    // The second run reuses everything and finds the file again.
    let (child, seen) = run();
    assert_eq!(seen.len(), 1, "descriptors were created again: {seen:?}");
    assert_eq!(fs::read(mount.join("hello")).unwrap(), b"world");
    stop(child);
}

/// A child process killed when dropped: a failed assertion must not leave
/// it running.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
