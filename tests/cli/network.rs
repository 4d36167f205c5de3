//! `infinit network`: create, link, unlink, list, export, import, update,
//! delete.

use crate::support::{Home, assert_keys, assert_pretty_sorted, event, mode};

/// Alice's home with a memory silo; Bob's home with Alice's network imported.
fn alice_and_bob() -> (Home, Home) {
    let alice = Home::with_user("alice");
    alice.ok(&["silo", "create", "memory", "ram"]);
    alice.ok(&["network", "create", "net", "--silo", "ram"]);
    let bob = Home::with_user("bob");
    bob.meet(&alice);
    bob.cmd(&["network", "import"]).stdin(alice.ok(&["network", "export", "net"]).stdout).ok();
    (alice, bob)
}

#[test]
fn create_signs_a_network_and_links_it_for_its_owner() {
    let home = Home::with_user("alice");
    home.ok(&["silo", "create", "memory", "ram"]);
    home.ok(&["silo", "create", "memory", "ram2"]);
    let out = home.ok(&[
        "network",
        "create",
        "--name",
        "net",
        "--silo",
        "ram",
        "-S",
        "ram2",
        "--replication-factor",
        "3",
        "--overlay",
        "static",
        "--eviction-delay",
        "90s",
        "--peer",
        "127.0.0.1:4000",
        "--peer",
        "localhost:4001",
        "--description",
        "team net",
    ]);
    assert_eq!(
        out.lines(),
        ["Locally saved network \"alice/net\".", "Linked network \"alice/net\" to this device for user \"alice\".",]
    );
    let path = home.file("networks/alice/net");
    assert_pretty_sorted(&path);
    assert_eq!(mode(&path), 0o644);
    let net = home.json("networks/alice/net");
    assert_keys(
        &net,
        &[
            "description",
            "eviction_delay",
            "name",
            "overlay",
            "owner",
            "peers",
            "replication_factor",
            "signature",
            "version",
        ],
    );
    assert_eq!(net["name"], "alice/net");
    assert_eq!(net["replication_factor"], 3);
    assert_eq!(net["overlay"], "static");
    assert_eq!(net["eviction_delay"], "90s");
    assert_eq!(net["peers"], serde_json::json!(["127.0.0.1:4000", "localhost:4001"]));
    assert_eq!(net["owner"], home.json("users/alice")["public_key"]);

    let link_path = home.file("linked_networks/alice/alice/net");
    assert_eq!(mode(&link_path), 0o600);
    assert_pretty_sorted(&link_path);
    let link = home.json("linked_networks/alice/alice/net");
    assert_eq!(link["network"], "alice/net");
    assert_eq!(link["user"], "alice");
    assert_eq!(link["silos"], serde_json::json!(["ram", "ram2"]));
    assert_eq!(link["passport"]["allow_create_passport"], true);
    assert_eq!(link["passport"]["allow_write"], true);
}

#[test]
fn create_has_sensible_defaults_and_script_output() {
    let home = Home::with_user("alice");
    let out = home.ok(&["network", "create", "net", "--script"]);
    assert_eq!(out.json_lines(), [event("saved", "network", "alice/net"), event("linked", "network", "alice/net"),]);
    let net = home.json("networks/alice/net");
    assert_eq!(net["replication_factor"], 1);
    assert_eq!(net["overlay"], "gossip");
    assert_eq!(net["eviction_delay"], "10min");
    assert_eq!(net["peers"], serde_json::json!([]));
    assert!(net.get("description").is_none());
    assert_eq!(home.json("linked_networks/alice/alice/net")["silos"], serde_json::json!([]));
}

#[test]
fn create_refuses_bad_settings_without_writing() {
    let home = Home::with_user("alice");
    home.fail(&["network", "create", "net", "--peer", "nohostport"]);
    home.fail(&["network", "create", "net", "--peer", "host:0"]);
    home.fail(&["network", "create", "net", "--overlay", "single", "-r", "2"]);
    home.fail(&["network", "create", "bob/net"]);
    home.fail(&["network", "create", "net", "--silo", "nosuch"]).stderr_has("nosuch");
    home.ok(&["network", "create", "net"]);
    home.fail(&["network", "create", "net"]).stderr_has("already exists");
}

#[test]
fn unlink_then_link_again_with_a_silo() {
    let home = Home::with_user("alice");
    home.ok(&["network", "create", "net"]);
    let out = home.ok(&["network", "unlink", "net"]);
    assert_eq!(out.stdout, "Unlinked network \"alice/net\" from this device for user \"alice\".\n");
    assert!(!home.file("linked_networks/alice/alice/net").exists());
    assert!(home.file("networks/alice/net").is_file());
    home.fail(&["network", "unlink", "net"]);

    home.ok(&["silo", "create", "memory", "ram"]);
    let out = home.ok(&["network", "link", "alice/net", "--silo", "ram", "--script"]);
    assert_eq!(out.json(), event("linked", "network", "alice/net"));
    let link = home.json("linked_networks/alice/alice/net");
    assert_eq!(link["silos"], serde_json::json!(["ram"]));
    assert_eq!(mode(&home.file("linked_networks/alice/alice/net")), 0o600);
    home.fail(&["network", "link", "net"]).stderr_has("already linked");
    let out = home.ok(&["network", "unlink", "net", "--script"]);
    assert_eq!(out.json(), event("unlinked", "network", "alice/net"));
}

#[test]
fn list_tells_linked_from_known() {
    let (alice, bob) = alice_and_bob();
    alice.ok(&["network", "create", "other", "--description", "spare", "-r", "2"]);
    alice.ok(&["network", "unlink", "other"]);
    assert_eq!(alice.ok(&["network", "list"]).lines(), ["alice/net: linked", "alice/other \"spare\": not linked"]);
    let docs = alice.ok(&["network", "list", "--script"]).json_lines();
    assert_keys(&docs[0], &["linked", "name", "overlay", "replication_factor"]);
    assert_eq!(
        docs[1],
        serde_json::json!({
            "name": "alice/other",
            "linked": false,
            "replication_factor": 2,
            "overlay": "gossip",
            "description": "spare",
        })
    );
    assert_eq!(bob.ok(&["network", "list"]).stdout, "alice/net: not linked\n");
}

#[test]
fn export_and_import_carry_the_signed_descriptor() {
    let (alice, bob) = alice_and_bob();
    assert_eq!(bob.json("networks/alice/net"), alice.json("networks/alice/net"));
    assert_pretty_sorted(&bob.file("networks/alice/net"));
    let exported = alice.ok(&["network", "export", "net"]);
    assert!(!exported.stdout.contains("\n  "), "exports are compact");

    let file = alice.path("net.json");
    let out = alice.ok(&["network", "export", "net", "-o", file.to_str().unwrap()]);
    assert_eq!(out.stdout, format!("Exported network \"alice/net\" to \"{}\".\n", file.display()));
    let out = bob.ok(&["network", "import", "-i", file.to_str().unwrap()]);
    assert_eq!(out.stdout, "Already imported network \"alice/net\".\n");
    let out = bob.ok(&["network", "import", "-i", file.to_str().unwrap(), "-s"]);
    assert_eq!(out.json(), event("imported", "network", "alice/net"));
}

#[test]
fn update_by_the_owner_resigns_and_others_are_refused() {
    let (alice, bob) = alice_and_bob();
    let out = alice.ok(&[
        "network",
        "update",
        "net",
        "--description",
        "renamed",
        "-r",
        "2",
        "--eviction-delay",
        "1h",
        "--peer",
        "10.0.0.1:5",
    ]);
    assert_eq!(out.stdout, "Locally updated network \"alice/net\".\n");
    let net = alice.json("networks/alice/net");
    assert_eq!(net["description"], "renamed");
    assert_eq!(net["replication_factor"], 2);
    assert_eq!(net["eviction_delay"], "1h");
    assert_eq!(net["peers"], serde_json::json!(["10.0.0.1:5"]));
    assert_eq!(net["overlay"], "gossip");
    let script = alice.ok(&["network", "update", "net", "-r", "1", "--script"]);
    assert_eq!(script.json(), event("updated", "network", "alice/net"));
    assert_eq!(alice.json("networks/alice/net")["peers"], serde_json::json!(["10.0.0.1:5"]));

    // The new signature verifies elsewhere; a changed copy needs --force.
    let exported = alice.ok(&["network", "export", "net"]).stdout;
    bob.fails(bob.cmd(&["network", "import"]).stdin(&exported)).stderr_has("already exists");
    bob.cmd(&["network", "import", "--force"]).stdin(&exported).ok();
    assert_eq!(bob.json("networks/alice/net")["description"], "renamed");

    bob.fail(&["network", "update", "alice/net", "--description", "mine"]).stderr_has("owner");
}

#[test]
fn forced_import_of_a_network_with_another_owner_is_refused() {
    let alice = Home::with_user("alice");
    alice.ok(&["network", "create", "net"]);
    // Mallory, on his own device, also calls himself alice and makes alice/net.
    let mallory = Home::with_user("alice");
    mallory.ok(&["network", "create", "net"]);
    let forged = mallory.ok(&["network", "export", "net"]).stdout;
    alice.fails(alice.cmd(&["network", "import", "--force"]).stdin(&forged)).stderr_has("owner");
}

#[test]
fn delete_needs_unlink_while_linked() {
    let home = Home::with_user("alice");
    home.ok(&["network", "create", "net"]);
    home.fail(&["network", "delete", "net"]).stderr_has("--unlink");
    let out = home.ok(&["network", "delete", "net", "--unlink"]);
    assert_eq!(
        out.lines(),
        ["Unlinked network \"alice/net\" for user \"alice\".", "Locally deleted network \"alice/net\".",]
    );
    assert!(!home.file("networks/alice/net").exists());
    assert!(!home.file("linked_networks/alice/alice/net").exists());
    home.fail(&["network", "delete", "net"]).stderr_has("does not exist");
}

#[test]
fn delete_of_an_unlinked_network_keeps_passports_and_volumes_unless_purged() {
    let home = Home::with_user("alice");
    home.ok(&["user", "create", "bob"]);
    home.ok(&["network", "create", "net"]);
    home.ok(&["network", "create", "kept"]);
    home.ok(&["volume", "create", "vol", "-N", "net"]);
    home.ok(&["volume", "create", "other", "-N", "kept"]);
    home.ok(&["passport", "create", "-N", "net", "-u", "bob"]);
    home.ok(&["network", "unlink", "net"]);

    let out = home.ok(&["network", "delete", "net", "--script"]);
    assert_eq!(out.json(), event("deleted", "network", "alice/net"));
    assert!(home.file("volumes/alice/vol").is_file());
    assert!(home.file("passports/alice/net/bob").is_file());

    home.ok(&["network", "create", "net2"]);
    home.ok(&["volume", "create", "vol2", "-N", "net2"]);
    home.ok(&["passport", "create", "-N", "net2", "-u", "bob"]);
    let out = home.ok(&["network", "delete", "net2", "--unlink", "--purge", "--script"]);
    assert_eq!(
        out.json_lines(),
        [
            event("unlinked", "network", "alice/net2"),
            event("deleted", "passport", "alice/net2: bob"),
            event("deleted", "volume", "alice/vol2"),
            event("deleted", "network", "alice/net2"),
        ]
    );
    assert!(!home.file("passports/alice/net2").exists());
    assert!(!home.file("volumes/alice/vol2").exists());
    assert!(home.file("volumes/alice/other").is_file());
}

#[test]
fn delete_with_unlink_unlinks_every_local_user() {
    let (alice, _bob) = alice_and_bob();
    alice.ok(&["user", "create", "carol"]);
    alice.ok(&["passport", "create", "-N", "net", "-u", "carol"]);
    alice.cmd(&["network", "link", "alice/net"]).acting_as("carol").ok();
    alice.fail(&["network", "delete", "net"]).stderr_has("carol");
    alice.ok(&["network", "delete", "net", "--unlink"]);
    assert!(!alice.file("linked_networks").join("carol").exists());
    assert!(!alice.file("linked_networks").join("alice").exists());
}
