//! What a running node (`network run`, `volume run`) protects: its link
//! and state are not removed under it (unlink, delete --unlink, purge), and
//! what `volume run` creates for a missing mountpoint is removed at exit.

use crate::serving::{Serving, fuse_available, is_mounted};
use crate::support::Home;

fn one_node(silo: &[&str]) -> Home {
    let home = Home::with_user("alice");
    let mut create = vec!["silo", "create"];
    create.extend_from_slice(silo);
    create.extend(["--name", "s"]);
    home.ok(&create);
    home.ok(&["network", "create", "home", "--silo", "s"]);
    home.ok(&["volume", "create", "files", "--network", "home"]);
    home
}

/// Everything that would remove the running node's link is refused, naming the process.
fn removals_are_refused(home: &Home, what: &str) {
    for args in [
        &["network", "delete", "home", "--unlink"][..],
        &["network", "delete", "home", "--unlink", "--purge"],
        &["network", "unlink", "home"],
        &["user", "delete", "alice", "--purge", "--yes"],
    ] {
        home.fail(args).stderr_has("running node").stderr_has(what).stderr_has("pid ");
    }
    assert!(home.file("linked_networks/alice/alice/home").is_file());
}

#[test]
fn network_delete_and_unlink_are_refused_while_its_node_runs() {
    let home = one_node(&["memory"]);
    let mut node = Serving::start(&home, &["network", "run", "home"], "Running network", None);
    removals_are_refused(&home, "infinit network run alice/home");
    // A second node of the same network says who serves it.
    home.fail(&["network", "run", "home"]).stderr_has("already served").stderr_has("network run alice/home");
    assert_eq!(node.stop_with(libc::SIGTERM), Some(0), "{}", node.stderr());
    home.ok(&["network", "delete", "home", "--unlink"]);
}

#[test]
fn network_delete_is_refused_while_a_volume_of_it_is_mounted() {
    if !fuse_available("network_delete_is_refused_while_a_volume_of_it_is_mounted") {
        return;
    }
    let home = one_node(&["filesystem"]);
    let mount = home.path("mnt");
    let mut node = Serving::start(
        &home,
        &["volume", "run", "files", "--mountpoint", mount.to_str().unwrap()],
        "Running volume",
        Some(&mount),
    );
    removals_are_refused(&home, &format!("infinit volume run alice/files on {}", mount.display()));
    assert_eq!(node.stop_with(libc::SIGTERM), Some(0), "{}", node.stderr());
    assert!(!is_mounted(&mount));
    home.ok(&["network", "delete", "home", "--unlink"]);
}

#[test]
fn volume_run_removes_every_folder_it_created_for_the_mountpoint() {
    if !fuse_available("volume_run_removes_every_folder_it_created_for_the_mountpoint") {
        return;
    }
    let home = one_node(&["filesystem"]);
    let mount = home.path("a/b/c/mnt");
    let mut node = Serving::start(
        &home,
        &["volume", "run", "files", "--mountpoint", mount.to_str().unwrap()],
        "Running volume",
        Some(&mount),
    );
    assert_eq!(node.stop_with(libc::SIGTERM), Some(0), "{}", node.stderr());
    assert!(!home.path("a").exists(), "a/b/c/mnt was created by volume run: all of it goes at exit");
    // A folder that was there stays.
    std::fs::create_dir(home.path("keep")).unwrap();
    let mount = home.path("keep/new/mnt");
    let mut node = Serving::start(
        &home,
        &["volume", "run", "files", "--mountpoint", mount.to_str().unwrap()],
        "Running volume",
        Some(&mount),
    );
    assert_eq!(node.stop_with(libc::SIGINT), Some(0), "{}", node.stderr());
    assert!(home.path("keep").is_dir());
    assert!(!home.path("keep/new").exists());
}

#[test]
fn a_bad_fuse_option_is_explained_and_leaves_no_folder() {
    if !fuse_available("a_bad_fuse_option_is_explained_and_leaves_no_folder") {
        return;
    }
    let home = one_node(&["filesystem"]);
    let mount = home.path("x/y/mnt");
    let cmd = home
        .cmd(&["volume", "run", "files", "--mountpoint", mount.to_str().unwrap(), "--fuse-option", "no_such_option=1"])
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    let out = cmd.run();
    out.assert_runtime_error();
    out.stderr_has("--fuse-option no_such_option=1").stderr_has("mount.fuse3(8)");
    assert!(!out.stderr.contains("os error 22"), "the raw EINVAL is explained: {}", out.describe());
    assert!(!home.path("x").exists(), "{}", out.describe());
}
