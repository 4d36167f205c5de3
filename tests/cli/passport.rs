//! `infinit passport`: create, list, export, import, delete.

use crate::support::{Home, assert_keys, assert_pretty_sorted, event, mode, read_json};

/// Alice owns `alice/net` and knows Bob's public key.
fn alice_knows_bob() -> (Home, Home) {
    let alice = Home::with_user("alice");
    let bob = Home::with_user("bob");
    alice.cmd(&["user", "import"]).stdin(bob.ok(&["user", "export"]).stdout).ok();
    alice.ok(&["network", "create", "net"]);
    (alice, bob)
}

#[test]
fn owner_creates_a_passport_with_default_rights() {
    let (alice, bob) = alice_knows_bob();
    let out = alice.ok(&["passport", "create", "--network", "net", "--user", "bob"]);
    assert_eq!(out.stdout, "Locally saved passport \"alice/net: bob\".\n");
    assert!(out.stderr.is_empty(), "{}", out.describe());
    let path = alice.file("passports/alice/net/bob");
    assert_pretty_sorted(&path);
    assert_eq!(mode(&path), 0o644);
    let passport = read_json(&path);
    assert_keys(
        &passport,
        &["allow_create_passport", "allow_storage", "allow_write", "network", "signature", "user", "user_name"],
    );
    assert_eq!(passport["network"], "alice/net");
    assert_eq!(passport["user_name"], "bob");
    assert_eq!(passport["user"], bob.json("users/bob")["public_key"]);
    assert_eq!(passport["allow_write"], true);
    assert_eq!(passport["allow_storage"], true);
    assert_eq!(passport["allow_create_passport"], false);
}

#[test]
fn rights_are_what_the_flags_say_and_list_shows_them() {
    let (alice, _bob) = alice_knows_bob();
    alice.ok(&["user", "create", "carol"]);
    let out =
        alice.ok(&["passport", "create", "-N", "alice/net", "-u", "bob", "--deny-write", "--deny-storage", "--script"]);
    assert_eq!(out.json(), event("saved", "passport", "alice/net: bob"));
    alice.ok(&["passport", "create", "-N", "net", "-u", "carol", "--allow-create-passport"]);
    assert_eq!(
        alice.ok(&["passport", "list"]).lines(),
        ["alice/net: bob: read-only", "alice/net: carol: read-write, storage, may create passports",]
    );
    let docs = alice.ok(&["passport", "list", "--script"]).json_lines();
    assert_eq!(
        docs[0],
        serde_json::json!({
            "network": "alice/net",
            "user": "bob",
            "allow_write": false,
            "allow_storage": false,
            "allow_create_passport": false,
        })
    );
    assert_keys(&docs[1], &["allow_create_passport", "allow_storage", "allow_write", "network", "user"]);
}

#[test]
fn list_can_be_limited_to_one_network() {
    let (alice, _bob) = alice_knows_bob();
    alice.ok(&["network", "create", "other"]);
    alice.ok(&["passport", "create", "-N", "net", "-u", "bob"]);
    alice.ok(&["passport", "create", "-N", "other", "-u", "bob"]);
    assert_eq!(alice.ok(&["passport", "list"]).lines().len(), 2);
    assert_eq!(
        alice.ok(&["passport", "list", "--network", "other"]).lines(),
        ["alice/other: bob: read-write, storage"]
    );
}

#[test]
fn export_to_a_file_and_import_where_the_network_is_known() {
    let (alice, bob) = alice_knows_bob();
    alice.ok(&["passport", "create", "-N", "net", "-u", "bob"]);
    let file = alice.path("bob.passport");
    let out = alice.ok(&["passport", "export", "-N", "net", "-u", "bob", "-o", file.to_str().unwrap()]);
    assert_eq!(out.stdout, format!("Exported passport \"alice/net: bob\" to \"{}\".\n", file.display()));
    assert_eq!(read_json(&file), alice.json("passports/alice/net/bob"));

    // Without the network the passport cannot be checked.
    bob.fail(&["passport", "import", "-i", file.to_str().unwrap()]).stderr_has("network import");
    bob.meet(&alice);
    bob.cmd(&["network", "import"]).stdin(alice.ok(&["network", "export", "net"]).stdout).ok();
    let out = bob.ok(&["passport", "import", "-i", file.to_str().unwrap()]);
    assert_eq!(out.stdout, "Imported passport \"alice/net: bob\".\n");
    assert_eq!(bob.json("passports/alice/net/bob"), alice.json("passports/alice/net/bob"));
    let out = bob.ok(&["passport", "import", "--input", file.to_str().unwrap(), "--script"]);
    assert_eq!(out.json(), event("imported", "passport", "alice/net: bob"));
}

#[test]
fn import_refuses_a_passport_issued_to_another_key_than_the_local_user() {
    let (alice, _bob) = alice_knows_bob();
    alice.ok(&["passport", "create", "-N", "net", "-u", "bob"]);
    // Another "bob", with a different key, knows the network.
    let impostor = Home::with_user("bob");
    impostor.meet(&alice);
    impostor.cmd(&["network", "import"]).stdin(alice.ok(&["network", "export", "net"]).stdout).ok();
    let exported = alice.ok(&["passport", "export", "-N", "net", "-u", "bob"]).stdout;
    impostor.fails(impostor.cmd(&["passport", "import"]).stdin(&exported)).stderr_has("different key");
}

#[test]
fn delete_removes_the_file() {
    let (alice, _bob) = alice_knows_bob();
    alice.ok(&["passport", "create", "-N", "net", "-u", "bob"]);
    let out = alice.ok(&["passport", "delete", "-N", "net", "-u", "bob"]);
    assert_eq!(out.stdout, "Locally deleted passport \"alice/net: bob\".\n");
    assert!(!alice.file("passports/alice/net/bob").exists());
    alice.fail(&["passport", "delete", "-N", "net", "-u", "bob"]);
    alice.ok(&["passport", "create", "-N", "net", "-u", "bob"]);
    let out = alice.ok(&["passport", "delete", "-N", "net", "-u", "bob", "-s"]);
    assert_eq!(out.json(), event("deleted", "passport", "alice/net: bob"));
}

#[test]
fn creating_needs_a_known_user_and_network() {
    let (alice, _bob) = alice_knows_bob();
    alice.fail(&["passport", "create", "-N", "net", "-u", "carol"]).stderr_has("carol");
    alice.fail(&["passport", "create", "-N", "nonet", "-u", "bob"]).stderr_has("alice/nonet");
}

#[test]
fn someone_without_a_passport_may_not_sign() {
    let (alice, _bob) = alice_knows_bob();
    // Carol, a local user without any passport, cannot sign one.
    alice.ok(&["user", "create", "carol"]);
    alice
        .fails(alice.cmd(&["passport", "create", "-N", "alice/net", "-u", "carol"]).acting_as("carol"))
        .stderr_has("may not sign");
}
