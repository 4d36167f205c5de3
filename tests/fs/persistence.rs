//! What survives the serving process: a clean stop and restart, and a
//! SIGKILL after fsync (the next run cleans the dead mount).

use std::collections::BTreeMap;
use std::fs;
use std::io::Write as _;

use crate::support::{Volume, is_mounted, noise, sha};

/// Write a small tree of files of assorted sizes; return path -> sha.
fn populate(v: &Volume, seed: u64) -> BTreeMap<String, String> {
    let mut sums = BTreeMap::new();
    fs::create_dir_all(v.path("dir/sub")).unwrap();
    for (i, (name, size)) in
        [("empty", 0usize), ("tiny", 1), ("inline", 8192), ("dir/chunked", (1 << 20) + 1), ("dir/sub/big", 5 << 20)]
            .into_iter()
            .enumerate()
    {
        let data = noise(size, seed + i as u64);
        let mut f = fs::File::create(v.path(name)).unwrap();
        f.write_all(&data).unwrap();
        f.sync_all().unwrap();
        sums.insert(name.to_string(), sha(&data));
    }
    sums
}

fn check(v: &Volume, sums: &BTreeMap<String, String>) {
    for (name, sum) in sums {
        let data = fs::read(v.path(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(&sha(&data), sum, "{name} changed across the restart");
    }
}

#[test]
fn files_survive_a_clean_restart() {
    let Some(mut v) = Volume::start("files_survive_a_clean_restart") else {
        return;
    };
    let sums = populate(&v, 100);
    // Unflushed-at-write-time data must be flushed at close/unmount.
    fs::write(v.path("last"), b"written just before the stop").unwrap();
    v.stop();
    assert!(!v.mount.exists(), "the mountpoint it created is removed");
    v.restart();
    check(&v, &sums);
    assert_eq!(fs::read(v.path("last")).unwrap(), b"written just before the stop");
    let mut names: Vec<_> = fs::read_dir(v.path("dir")).unwrap().map(|e| e.unwrap().file_name()).collect();
    names.sort();
    assert_eq!(names, ["chunked", "sub"]);
}

#[test]
fn fsynced_files_survive_kill_9_and_the_dead_mount_is_cleaned() {
    let Some(mut v) = Volume::start("fsynced_files_survive_kill_9_and_the_dead_mount_is_cleaned") else {
        return;
    };
    let sums = populate(&v, 200);
    v.kill9();
    assert!(is_mounted(&v.mount), "SIGKILL leaves the mount behind");
    let stale = fs::metadata(&v.mount).expect_err("a dead FUSE mount");
    assert_eq!(stale.raw_os_error(), Some(107), "ENOTCONN: {stale}");
    v.restart();
    check(&v, &sums);
    // And the volume is writable again.
    fs::write(v.path("after"), b"ok").unwrap();
    assert_eq!(fs::read(v.path("after")).unwrap(), b"ok");
}

/// Reproduction: mount, keep a file open on the volume (any open handle or
/// a shell whose cwd is inside makes `umount` fail with EBUSY), send
/// SIGTERM. `volume run` prints nothing, never exits, leaves the mount in
/// place, and every operation on it (even a new open of an existing file)
/// fails with EIO: the unmount error returns early from
/// `Mounted::serve_until`, `block_on` ends, and the runtime's drop waits
/// forever for the blocking task joining the still-running FUSE session,
/// whose requests are spawned on the shut-down runtime and dropped (fuser
/// answers a dropped reply with EIO).
#[test]

fn sigterm_while_the_mount_is_busy_never_leaves_an_eio_mount() {
    let Some(mut v) = Volume::start("sigterm_while_the_mount_is_busy_never_leaves_an_eio_mount") else {
        return;
    };
    fs::write(v.path("f"), b"content").unwrap();
    let busy = fs::File::open(v.path("f")).unwrap();
    v.terminate();
    std::thread::sleep(std::time::Duration::from_secs(3));
    if v.exited() {
        drop(busy);
        assert!(
            !is_mounted(&v.mount),
            "volume run exited and left its mount behind; stderr: {:?}; stdout: {:?}",
            v.stderr(),
            v.stdout()
        );
    } else {
        // Still serving (refusing to stop while busy is fine), then it must
        // still answer, and say why it did not stop.
        let read = fs::read(v.path("f"));
        drop(busy);
        assert_eq!(
            read.as_deref().map_err(|e| e.raw_os_error()),
            Ok(&b"content"[..]),
            "after SIGTERM on a busy mount, reads fail; stderr: {:?}",
            v.stderr()
        );
    }
}

#[test]
fn a_moved_silo_folder_is_refused_and_serves_again_once_back() {
    let Some(mut v) = Volume::start("a_moved_silo_folder_is_refused_and_serves_again_once_back") else {
        return;
    };
    fs::write(v.path("kept"), b"still there").unwrap();
    v.stop();
    let silo = v.home.silo();
    let away = v.home.root().join("unplugged");
    fs::rename(&silo, &away).unwrap();

    let mount = v.mount.to_str().unwrap();
    let out = v.home.run_bounded(&["volume", "run", "--name", "vol", "--mountpoint", mount]);
    let mounted = is_mounted(&v.mount);
    if mounted {
        crate::support::force_unmount(&v.mount);
    }
    assert!(!mounted, "a volume was mounted on a missing silo: {out:?}");
    out.assert_one_line_error();
    assert_eq!(
        out.stderr,
        format!(
            "infinit: error: silo \"s\": folder {} is missing; reconnect the disk or fix the path (infinit silo export --name s shows it)\n",
            silo.display()
        )
    );
    assert!(!silo.exists(), "the refused run recreated the silo folder");

    fs::rename(&away, &silo).unwrap();
    v.restart();
    assert_eq!(fs::read(v.path("kept")).unwrap(), b"still there");
}

/// Every file under `dir` but the lock, with its bytes.
fn snapshot(dir: &std::path::Path, out: &mut BTreeMap<std::path::PathBuf, Vec<u8>>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            snapshot(&path, out);
        } else if path.file_name().is_some_and(|n| n != ".lock") {
            out.insert(path.clone(), fs::read(&path).unwrap());
        }
    }
}

#[test]
fn a_silo_rolled_back_to_older_copies_is_refused_not_served() {
    let Some(mut v) = Volume::start("a_silo_rolled_back_to_older_copies_is_refused_not_served") else {
        return;
    };
    fs::write(v.path("f"), b"version one").unwrap();
    v.stop();
    let mut old = BTreeMap::new();
    snapshot(&v.home.silo(), &mut old);
    v.restart();
    fs::write(v.path("f"), b"version two, which replaced it").unwrap();
    v.stop();
    // What a broken or malicious storage does: serve the old copies again.
    for (path, bytes) in &old {
        fs::write(path, bytes).unwrap();
    }
    v.restart();
    let read = fs::read(v.path("f"));
    assert!(read.as_ref().is_err_and(|e| e.raw_os_error() == Some(libc::EIO)), "{read:?}");
    assert!(fs::write(v.path("f"), b"over it").is_err(), "no write is accepted on top of a rolled-back block");
    // Blocks that were not rolled back still serve.
    fs::write(v.path("g"), b"new").unwrap();
    assert_eq!(fs::read(v.path("g")).unwrap(), b"new");
    let stderr = v.stderr();
    assert!(stderr.contains("rollback refused"), "the node names the rolled-back block: {stderr}");
    // Offline, `volume check` reports it too, from the versions the node saw.
    v.stop();
    let out = v.home.cmd(&["volume", "check", "--name", "vol", "--script"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.lines().any(|l| l.contains("\"finding\"") && l.contains("\"rollback\"")),
        "no rollback finding in: {stdout}"
    );
}
