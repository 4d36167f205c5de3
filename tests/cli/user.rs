//! `infinit user`: create, export, import, list, delete, hash.

use crate::support::{Home, assert_keys, assert_pretty_sorted, event, mode, read_json, snapshot};

#[test]
fn create_saves_a_private_pretty_sorted_descriptor_and_says_so() {
    let home = Home::new("alice");
    let out = home.ok(&["user", "create"]);
    assert_eq!(out.stdout, "Locally saved user \"alice\".\n");
    let path = home.file("users/alice");
    assert_eq!(mode(&path), 0o600);
    assert_pretty_sorted(&path);
    let user = read_json(&path);
    assert_keys(&user, &["name", "private_key", "public_key", "signature"]);
    assert_eq!(user["name"], "alice");
    assert_eq!(user["private_key"]["protection"], "none");
    assert_keys(&user["public_key"], &["ed25519", "x25519"]);
}

#[test]
fn create_in_script_mode_prints_one_json_event() {
    let home = Home::new("alice");
    let out = home.ok(&["user", "create", "--script", "--name", "bob"]);
    assert_eq!(out.json(), event("saved", "user", "bob"));
    assert!(home.file("users/bob").is_file());
    assert!(!home.file("users/alice").exists(), "--name wins over INFINIT_USER");
}

#[test]
fn name_can_be_positional_or_come_from_as() {
    let home = Home::new("alice");
    home.ok(&["user", "create", "carol"]);
    home.ok(&["user", "create", "--as", "dave"]);
    home.ok(&["user", "create", "--description", "the boss"]);
    assert!(home.file("users/carol").is_file());
    assert!(home.file("users/dave").is_file());
    assert_eq!(home.json("users/alice")["description"], "the boss");
}

#[test]
fn passphrase_from_stdin_wraps_the_private_key() {
    let home = Home::new("alice");
    home.cmd(&["user", "create", "--passphrase-stdin"]).stdin("open sesame\n").ok();
    let text = std::fs::read_to_string(home.file("users/alice")).unwrap();
    assert!(!text.contains("open sesame"));
    let user: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(user["private_key"]["protection"], "passphrase");
    // The right passphrase unlocks the key for a signing mode.
    home.cmd(&["network", "create", "net"]).env("INFINIT_PASSPHRASE", "open sesame").ok();
    assert!(home.file("networks/alice/net").is_file());
}

#[test]
fn passphrase_flag_takes_the_environment_without_a_terminal() {
    let home = Home::new("alice");
    home.cmd(&["user", "create", "--passphrase"]).env("INFINIT_PASSPHRASE", "pw").ok();
    assert_eq!(home.json("users/alice")["private_key"]["protection"], "passphrase");
}

#[test]
fn creating_an_existing_user_fails() {
    let home = Home::with_user("alice");
    home.fail(&["user", "create"]).stderr_has("already exists");
}

#[test]
fn public_export_has_no_private_key_and_full_export_does() {
    let home = Home::with_user("alice");
    let public = home.ok(&["user", "export"]);
    assert!(public.stderr.is_empty(), "{}", public.describe());
    let public = public.json();
    assert_keys(&public, &["name", "public_key", "signature"]);
    let stored = home.json("users/alice");
    assert_eq!(public["public_key"], stored["public_key"]);
    assert_eq!(public["signature"], stored["signature"]);

    let full = home.ok(&["user", "export", "--full", "alice"]);
    assert!(full.stderr.contains("private key"), "{}", full.describe());
    assert_eq!(full.json(), stored);
}

#[test]
fn export_to_a_file_reports_it_and_full_exports_are_private() {
    let home = Home::with_user("alice");
    let public = home.path("alice.pub");
    let out = home.ok(&["user", "export", "-o", public.to_str().unwrap()]);
    assert_eq!(out.stdout, format!("Exported user \"alice\" to \"{}\".\n", public.display()));
    assert!(read_json(&public).get("private_key").is_none());

    let full = home.path("alice.full");
    let out = home.ok(&["user", "export", "--full", "--script", "--output", full.to_str().unwrap()]);
    assert_eq!(out.json(), event("exported", "user", "alice"));
    assert!(out.stderr.is_empty(), "no warning in script mode");
    assert_eq!(mode(&full), 0o600);
    assert_eq!(read_json(&full), home.json("users/alice"));
}

#[test]
fn import_of_a_public_export_is_listed_as_public_only() {
    let alice = Home::with_user("alice");
    let bob = Home::with_user("bob");
    let exported = bob.ok(&["user", "export"]).stdout;
    let out = alice.cmd(&["user", "import"]).stdin(&exported).ok();
    assert_eq!(out.stdout, "Imported user \"bob\".\n");
    assert!(alice.json("users/bob").get("private_key").is_none());
    assert_eq!(mode(&alice.file("users/bob")), 0o600);
    assert_pretty_sorted(&alice.file("users/bob"));

    // Importing the same thing again changes nothing and succeeds.
    let before = alice.snapshot();
    let again = alice.cmd(&["user", "import", "--script"]).stdin(&exported).ok();
    assert_eq!(again.json(), event("imported", "user", "bob"));
    assert_eq!(before, alice.snapshot());
    let human = alice.cmd(&["user", "import"]).stdin(&exported).ok();
    assert_eq!(human.stdout, "Already imported user \"bob\".\n");

    let list = alice.ok(&["user", "list"]);
    let lines = list.lines();
    assert_eq!(lines.len(), 2, "{}", list.describe());
    assert!(lines[0].starts_with("* alice: public and private keys, #"), "{}", lines[0]);
    assert!(lines[1].starts_with("  bob: public key only, #"), "{}", lines[1]);
}

#[test]
fn import_from_a_file_of_a_full_export_lets_you_act_as_that_user() {
    let laptop = Home::with_user("alice");
    let desktop = Home::new("alice");
    let file = laptop.path("alice.full");
    laptop.ok(&["user", "export", "--full", "-o", file.to_str().unwrap()]);
    desktop.ok(&["user", "import", "--input", file.to_str().unwrap()]);
    assert_eq!(desktop.json("users/alice"), laptop.json("users/alice"));
    desktop.ok(&["network", "create", "net"]);
}

#[test]
fn list_in_script_mode_has_documented_keys() {
    let home = Home::with_user("alice");
    home.ok(&["user", "create", "bob", "--description", "builder"]);
    let docs = home.ok(&["user", "list", "-s"]).json_lines();
    assert_eq!(docs.len(), 2);
    assert_keys(&docs[0], &["has_private_key", "key_hash", "name"]);
    assert_eq!(docs[0]["name"], "alice");
    assert_eq!(docs[0]["has_private_key"], true);
    assert_keys(&docs[1], &["description", "has_private_key", "key_hash", "name"]);
    assert_eq!(docs[1]["description"], "builder");
}

#[test]
fn list_of_an_empty_home_prints_nothing() {
    let home = Home::new("alice");
    let out = home.ok(&["user", "list"]);
    assert!(out.stdout.is_empty());
}

#[test]
fn hash_is_stable_short_and_matches_the_list() {
    let home = Home::with_user("alice");
    home.ok(&["user", "create", "bob"]);
    let out = home.ok(&["user", "hash"]);
    let (name, hash) = out.stdout.trim_end().split_once(": ").expect("name: hash");
    assert_eq!(name, "alice");
    assert_eq!(hash.len(), 7);
    assert!(hash.starts_with('#'));
    assert!(hash[1..].chars().all(|c| c.is_ascii_hexdigit()));
    let doc = home.ok(&["user", "hash", "--script"]).json();
    assert_keys(&doc, &["hash", "name"]);
    assert_eq!(doc["hash"], hash);
    let list = home.ok(&["user", "list", "--script"]).json_lines();
    assert_eq!(list[0]["key_hash"], hash);
    let bob = home.ok(&["user", "hash", "bob", "--script"]).json();
    assert_ne!(bob["hash"], hash, "different keys, different hashes");
    // The hash follows the key across an export.
    let other = Home::new("zed");
    other.cmd(&["user", "import"]).stdin(home.ok(&["user", "export"]).stdout).ok();
    assert_eq!(other.ok(&["user", "hash", "alice", "-s"]).json()["hash"], hash);
}

#[test]
fn delete_asks_to_type_the_name() {
    let home = Home::with_user("alice");
    let out = home.cmd(&["user", "delete", "--name", "alice"]).stdin("alice\n").ok();
    assert_eq!(out.stdout, "Locally deleted user \"alice\".\n");
    assert!(out.stderr.contains("private key"), "{}", out.describe());
    assert!(!home.file("users/alice").exists());
}

#[test]
fn delete_with_a_wrong_confirmation_keeps_the_user() {
    let home = Home::with_user("alice");
    for answer in ["bob\n", "", "alic\n"] {
        let before = home.snapshot();
        let out = home.cmd(&["user", "delete", "alice"]).stdin(answer).run();
        assert_eq!(out.code, 1, "{}", out.describe());
        // The warning and the prompt come first; the error has a line of its own.
        let last = out.stderr.lines().last().unwrap_or_default();
        assert!(last.starts_with("infinit: error: "), "{}", out.describe());
        assert!(last.contains("aborted"), "{}", out.describe());
        assert_eq!(before, home.snapshot());
    }
    assert!(home.file("users/alice").is_file());
}

#[test]
fn delete_with_yes_does_not_ask() {
    let home = Home::with_user("alice");
    home.ok(&["user", "create", "bob"]);
    let out = home.ok(&["user", "delete", "alice", "--yes"]);
    assert_eq!(out.stdout, "Locally deleted user \"alice\".\n");
    let out = home.ok(&["user", "delete", "bob", "--script", "--yes"]);
    assert_eq!(out.json(), event("deleted", "user", "bob"));
    assert!(out.stderr.is_empty());
    assert!(!home.file("users/alice").exists());
    assert!(!home.file("users/bob").exists());
}

#[test]
fn script_delete_of_a_private_key_needs_yes() {
    let home = Home::with_user("eve");
    home.ok(&["silo", "create", "memory", "--name", "ram"]);
    home.ok(&["network", "create", "net", "--silo", "ram"]);
    home.ok(&["volume", "create", "vol", "--network", "net"]);
    for args in
        [&["user", "delete", "--script", "--name", "eve"][..], &["--script", "user", "delete", "eve", "--purge"]]
    {
        home.fail(args).stderr_has("--yes");
    }
    assert!(home.file("users/eve").is_file());
    // A public key only is no loss: no --yes needed.
    let other = Home::new("zed");
    other.cmd(&["user", "import"]).stdin(home.ok(&["user", "export"]).stdout).ok();
    other.ok(&["user", "delete", "eve", "--script"]);
}

#[test]
fn delete_warning_lists_the_networks_and_volumes_the_user_owns() {
    let home = Home::with_user("eve");
    home.ok(&["silo", "create", "memory", "--name", "ram"]);
    home.ok(&["network", "create", "net", "--silo", "ram"]);
    home.ok(&["network", "create", "lab"]);
    home.ok(&["volume", "create", "vol", "--network", "net"]);
    let out = home.cmd(&["user", "delete", "eve"]).stdin("nope\n").run();
    assert_eq!(out.code, 1, "{}", out.describe());
    out.stderr_has("private key").stderr_has("networks eve/lab, eve/net").stderr_has("volume eve/vol");
    let out = home.cmd(&["user", "delete", "eve", "--purge"]).stdin("eve\n").ok();
    out.stderr_has("deleted too (--purge)");
    assert!(!home.file("networks/eve/net").exists());
}

#[test]
fn delete_of_a_public_only_user_does_not_ask() {
    let alice = Home::with_user("alice");
    let bob = Home::with_user("bob");
    alice.cmd(&["user", "import"]).stdin(bob.ok(&["user", "export"]).stdout).ok();
    alice.ok(&["user", "delete", "bob"]);
    assert!(!alice.file("users/bob").exists());
}

#[test]
fn delete_without_purge_keeps_what_the_user_owns() {
    let home = Home::with_user("alice");
    home.ok(&["network", "create", "net"]);
    home.ok(&["user", "delete", "alice", "-y"]);
    assert!(home.file("networks/alice/net").is_file());
}

#[test]
fn delete_with_purge_removes_owned_networks_volumes_passports_and_links() {
    let home = Home::with_user("alice");
    home.ok(&["user", "create", "bob"]);
    home.ok(&["silo", "create", "memory", "--name", "ram"]);
    home.ok(&["network", "create", "net", "--silo", "ram"]);
    home.ok(&["volume", "create", "vol", "--network", "net"]);
    home.ok(&["passport", "create", "--network", "net", "--user", "bob"]);
    // Bob's own things survive.
    home.cmd(&["network", "create", "bobnet"]).acting_as("bob").ok();
    home.cmd(&["volume", "create", "bobvol", "--network", "bobnet"]).acting_as("bob").ok();

    let out = home.ok(&["user", "delete", "alice", "--purge", "--script", "--yes"]);
    let events = out.json_lines();
    for expected in [
        event("unlinked", "network", "alice/net"),
        event("deleted", "network", "alice/net"),
        event("deleted", "volume", "alice/vol"),
        event("deleted", "user", "alice"),
    ] {
        assert!(events.contains(&expected), "{expected} missing: {}", out.describe());
    }
    assert_eq!(events.last(), Some(&event("deleted", "user", "alice")));

    let files: Vec<String> = snapshot(&home.data())
        .into_iter()
        .filter(|(_, e)| matches!(e, crate::support::Entry::File(..)))
        .map(|(p, _)| p.display().to_string())
        .collect();
    assert_eq!(
        files,
        ["linked_networks/bob/bob/bobnet", "networks/bob/bobnet", "silos/ram", "users/bob", "volumes/bob/bobvol",]
    );
}

#[test]
fn purge_also_drops_passports_and_links_the_user_holds_elsewhere() {
    let alice = Home::with_user("alice");
    let bob = Home::with_user("bob");
    alice.cmd(&["user", "import"]).stdin(bob.ok(&["user", "export"]).stdout).ok();
    alice.ok(&["network", "create", "net"]);
    alice.ok(&["passport", "create", "-N", "net", "-u", "bob"]);
    bob.meet(&alice);
    bob.cmd(&["network", "import"]).stdin(alice.ok(&["network", "export", "net"]).stdout).ok();
    bob.cmd(&["passport", "import"]).stdin(alice.ok(&["passport", "export", "-N", "net", "-u", "bob"]).stdout).ok();
    bob.ok(&["network", "link", "alice/net"]);

    let out = bob.ok(&["user", "delete", "bob", "--purge", "--yes"]);
    assert!(out.stdout.contains("Locally unlinked network \"alice/net\"."), "{}", out.describe());
    assert!(!bob.file("passports/alice/net/bob").exists());
    assert!(!bob.file("linked_networks/bob/alice/net").exists());
    assert!(!bob.file("users/bob").exists());
    // Alice's network is not bob's to purge.
    assert!(bob.file("networks/alice/net").is_file());
}
