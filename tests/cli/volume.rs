//! `infinit volume`: create, list, export (without mountpoint), import
//! (with a local mountpoint), update, delete.

use crate::support::{Home, assert_keys, assert_pretty_sorted, event, mode, read_json};

fn with_network() -> Home {
    let home = Home::with_user("alice");
    home.ok(&["network", "create", "net"]);
    home
}

#[test]
fn create_saves_a_signed_volume_with_mount_options() {
    let home = with_network();
    let out = home.ok(&[
        "volume",
        "create",
        "--name",
        "vol",
        "--network",
        "net",
        "--mountpoint",
        "/mnt/vol",
        "--readonly",
        "--cache=false",
        "--description",
        "photos",
        "--block-size",
        "64KiB",
    ]);
    assert_eq!(out.stdout, "Locally saved volume \"alice/vol\".\n");
    let path = home.file("volumes/alice/vol");
    assert_pretty_sorted(&path);
    assert_eq!(mode(&path), 0o644);
    let vol = read_json(&path);
    assert_keys(&vol, &["block_size", "description", "mount_options", "name", "network", "owner", "signature"]);
    assert_eq!(vol["name"], "alice/vol");
    assert_eq!(vol["network"], "alice/net");
    assert_eq!(vol["block_size"], 65536);
    assert_eq!(vol["mount_options"], serde_json::json!({"mountpoint": "/mnt/vol", "readonly": true, "cache": false}));
    assert_eq!(vol["owner"], home.json("users/alice")["public_key"]);
}

#[test]
fn create_defaults_and_script_output() {
    let home = with_network();
    let out = home.ok(&["volume", "create", "vol", "-N", "alice/net", "--script"]);
    assert_eq!(out.json(), event("saved", "volume", "alice/vol"));
    let vol = home.json("volumes/alice/vol");
    assert_eq!(vol["block_size"], 1 << 20);
    assert_eq!(vol["mount_options"], serde_json::json!({}));
}

#[test]
fn create_needs_a_linked_network_and_a_sane_block_size() {
    let home = with_network();
    home.fail(&["volume", "create", "vol", "-N", "nonet"]);
    home.fail(&["volume", "create", "vol", "-N", "net", "--block-size", "1KiB"]);
    home.fail(&["volume", "create", "vol", "-N", "net", "--block-size", "lots"]);
    home.ok(&["network", "unlink", "net"]);
    home.fail(&["volume", "create", "vol", "-N", "net"]).stderr_has("not linked");
}

#[test]
fn list_for_people_and_scripts() {
    let home = with_network();
    home.ok(&["volume", "create", "a", "-N", "net", "-m", "/mnt/a"]);
    home.ok(&["volume", "create", "b", "-N", "net", "--description", "bee"]);
    assert_eq!(
        home.ok(&["volume", "list"]).lines(),
        ["alice/a: on network alice/net, mounts on /mnt/a", "alice/b \"bee\": on network alice/net",]
    );
    let docs = home.ok(&["volume", "list", "--script"]).json_lines();
    assert_eq!(
        docs,
        [
            serde_json::json!({"name": "alice/a", "network": "alice/net", "block_size": 1 << 20, "mountpoint": "/mnt/a"}),
            serde_json::json!({"name": "alice/b", "network": "alice/net", "block_size": 1 << 20, "description": "bee"}),
        ]
    );
}

#[test]
fn export_strips_the_mountpoint_and_import_sets_a_local_one() {
    let alice = with_network();
    alice.ok(&["volume", "create", "vol", "-N", "net", "-m", "/mnt/alice", "--async"]);
    let exported = alice.ok(&["volume", "export", "vol"]).json();
    assert_eq!(exported["mount_options"], serde_json::json!({"async": true}));
    assert_eq!(exported["signature"], alice.json("volumes/alice/vol")["signature"]);

    let file = alice.path("vol.json");
    let out = alice.ok(&["volume", "export", "vol", "-o", file.to_str().unwrap()]);
    assert_eq!(out.stdout, format!("Exported volume \"alice/vol\" to \"{}\".\n", file.display()));
    assert!(read_json(&file)["mount_options"].get("mountpoint").is_none());

    let bob = Home::with_user("bob");
    bob.meet(&alice);
    let out = bob.ok(&["volume", "import", "-i", file.to_str().unwrap(), "--mountpoint", "/mnt/bob"]);
    assert_eq!(out.stdout, "Imported volume \"alice/vol\".\n");
    let vol = bob.json("volumes/alice/vol");
    assert_eq!(vol["mount_options"], serde_json::json!({"mountpoint": "/mnt/bob", "async": true}));
    // Importing the export again keeps the local mountpoint: nothing changes.
    let before = bob.snapshot();
    let out = bob.ok(&["volume", "import", "-i", file.to_str().unwrap(), "--script"]);
    assert_eq!(out.json(), event("imported", "volume", "alice/vol"));
    assert_eq!(before, bob.snapshot());
}

#[test]
fn update_changes_mount_options_and_the_creator_may_redescribe() {
    let home = with_network();
    home.ok(&["volume", "create", "vol", "-N", "net", "-m", "/mnt/a", "--cache"]);
    let out = home.ok(&["volume", "update", "vol", "--readonly", "--mountpoint", "/mnt/b"]);
    assert_eq!(out.stdout, "Locally updated volume \"alice/vol\".\n");
    let vol = home.json("volumes/alice/vol");
    assert_eq!(vol["mount_options"], serde_json::json!({"mountpoint": "/mnt/b", "readonly": true, "cache": true}));
    let signature = vol["signature"].clone();
    let out = home.ok(&["volume", "update", "vol", "--description", "new", "-s"]);
    assert_eq!(out.json(), event("updated", "volume", "alice/vol"));
    let vol = home.json("volumes/alice/vol");
    assert_eq!(vol["description"], "new");
    assert_ne!(vol["signature"], signature, "a signed field changed: signed again");
    // The new signature verifies on another device.
    let other = Home::new("zed");
    other.meet(&home);
    other.cmd(&["volume", "import"]).stdin(home.ok(&["volume", "export", "vol"]).stdout).ok();
    assert_eq!(other.json("volumes/alice/vol")["description"], "new");
}

#[test]
fn only_the_creator_may_change_the_description() {
    let alice = with_network();
    alice.ok(&["volume", "create", "vol", "-N", "net"]);
    let bob = Home::with_user("bob");
    bob.meet(&alice);
    bob.cmd(&["volume", "import"]).stdin(alice.ok(&["volume", "export", "vol"]).stdout).ok();
    bob.fail(&["volume", "update", "alice/vol", "--description", "mine"]);
    bob.ok(&["volume", "update", "alice/vol", "-m", "/mnt/bob"]);
}

#[test]
fn delete_removes_the_descriptor() {
    let home = with_network();
    home.ok(&["volume", "create", "vol", "-N", "net"]);
    let out = home.ok(&["volume", "delete", "vol"]);
    assert_eq!(out.stdout, "Locally deleted volume \"alice/vol\".\n");
    assert!(!home.file("volumes/alice/vol").exists());
    home.fail(&["volume", "delete", "vol"]).stderr_has("does not exist");
    home.ok(&["volume", "create", "vol", "-N", "net"]);
    let out = home.ok(&["volume", "delete", "--name", "alice/vol", "--script"]);
    assert_eq!(out.json(), event("deleted", "volume", "alice/vol"));
}

#[test]
fn revalidate_takes_a_duration_and_a_bad_one_is_a_usage_error() {
    let home = with_network();
    let help = home.ok(&["volume", "run", "--help"]);
    assert!(help.stdout.contains("--revalidate <DURATION>"), "{}", help.stdout);
    let bad = home.run(&["volume", "run", "--name", "vol", "--revalidate", "5q"]);
    bad.assert_usage_error();
    assert!(bad.stderr.contains("unit must be ms, s, min, h or d"), "{}", bad.stderr);
}
