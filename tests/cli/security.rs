//! The security review's findings, each through the real binary: what a
//! crafted or tampered descriptor can no longer make a device do.

use crate::support::{Home, alter_file, read_json};

#[test]
fn clear_content_refuses_a_folder_without_the_silos_marker() {
    let bob = Home::new("bob");
    let documents = bob.path("documents");
    std::fs::create_dir(&documents).unwrap();
    std::fs::write(documents.join("thesis.tex"), b"years of work").unwrap();
    // Mallory's silo descriptor names Bob's documents, with or without an id.
    let path = serde_json::to_string(documents.to_str().unwrap()).unwrap();
    for (name, id) in [("evil", r#","id":"0123456789abcdef0123456789abcdef""#), ("old", "")] {
        let doc = format!(r#"{{"name":"{name}","type":"filesystem","path":{path}{id}}}"#);
        bob.cmd(&["silo", "import"]).stdin(doc).ok();
        bob.fail(&["silo", "delete", name, "--clear-content"]).stderr_has("refusing to erase");
        assert_eq!(std::fs::read(documents.join("thesis.tex")).unwrap(), b"years of work");
    }
    // Another silo's folder is refused too: its marker has another id.
    bob.ok(&["silo", "create", "filesystem", "mine", "--path", bob.path("mine").to_str().unwrap()]);
    let mut forged = bob.json("silos/mine");
    forged["name"] = "copy".into();
    forged["id"] = "0123456789abcdef0123456789abcdef".into();
    bob.cmd(&["silo", "import"]).stdin(forged.to_string()).ok();
    bob.fail(&["silo", "delete", "copy", "--clear-content"]).stderr_has("holds another silo");
    assert!(bob.path("mine/.infinit-silo").is_file());
    // The silo's own folder is still cleared.
    bob.ok(&["silo", "delete", "mine", "--clear-content"]);
    assert!(!bob.path("mine").exists());
}

/// Mallory calls herself "alice" on her own device and makes `alice/net`,
/// a volume `alice/vol` and a passport for Bob, all signed with her key.
fn mallory_posing_as_alice(bob: &Home) -> (Home, String, String, String) {
    let mallory = Home::with_user("alice");
    mallory.meet(bob);
    mallory.ok(&["network", "create", "net"]);
    mallory.ok(&["volume", "create", "vol", "-N", "net"]);
    mallory.ok(&["passport", "create", "-N", "net", "-u", "bob"]);
    let network = mallory.ok(&["network", "export", "net"]).stdout;
    let volume = mallory.ok(&["volume", "export", "vol"]).stdout;
    let passport = mallory.ok(&["passport", "export", "-N", "net", "-u", "bob"]).stdout;
    (mallory, network, volume, passport)
}

#[test]
fn a_network_volume_or_passport_under_the_name_of_a_known_user_but_another_key_is_refused() {
    let alice = Home::with_user("alice");
    let bob = Home::with_user("bob");
    bob.meet(&alice);
    let (_mallory, network, volume, passport) = mallory_posing_as_alice(&bob);
    let forged = "is owned by a key that is not user \"alice\"'s";
    bob.fails(bob.cmd(&["network", "import"]).stdin(&network)).stderr_has("network \"alice/net\"").stderr_has(forged);
    bob.fails(bob.cmd(&["volume", "import"]).stdin(&volume)).stderr_has("volume \"alice/vol\"").stderr_has(forged);
    bob.fails(bob.cmd(&["passport", "import"]).stdin(&passport));
    // A network file that got in some other way (an older build) is not linked either.
    let file = bob.file("networks/alice/net");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, &network).unwrap();
    bob.fail(&["network", "link", "alice/net"]).stderr_has(forged);
    bob.fails(bob.cmd(&["passport", "import"]).stdin(&passport)).stderr_has(forged);
}

#[test]
fn importing_from_an_unknown_owner_names_the_user_to_import_first() {
    let alice = Home::with_user("alice");
    let bob = Home::with_user("bob");
    alice.meet(&bob);
    alice.ok(&["network", "create", "net"]);
    alice.ok(&["volume", "create", "vol", "-N", "net"]);
    alice.ok(&["passport", "create", "-N", "net", "-u", "bob"]);
    let network = alice.ok(&["network", "export", "net"]).stdout;
    let volume = alice.ok(&["volume", "export", "vol"]).stdout;
    let unknown = "belongs to user \"alice\", who is unknown on this device";
    for doc in [&network, &volume] {
        bob.fails(bob.cmd(&[if doc == &network { "network" } else { "volume" }, "import"]).stdin(doc))
            .stderr_has(unknown)
            .stderr_has("infinit user import --input alice.user");
    }
    // Once Bob knows Alice, the same files import.
    bob.meet(&alice);
    bob.cmd(&["network", "import"]).stdin(&network).ok();
    bob.cmd(&["volume", "import"]).stdin(&volume).ok();
    // A passport binds its holder's name to a key only through a known user.
    let carol = Home::with_user("carol");
    alice.meet(&carol);
    alice.ok(&["passport", "create", "-N", "net", "-u", "carol"]);
    let carols = alice.ok(&["passport", "export", "-N", "net", "-u", "carol"]).stdout;
    bob.fails(bob.cmd(&["passport", "import"]).stdin(&carols))
        .stderr_has("belongs to user \"carol\", who is unknown on this device");
    bob.cmd(&["passport", "import"]).stdin(alice.ok(&["passport", "export", "-N", "net", "-u", "bob"]).stdout).ok();
}

/// Alice's home: network `net` with a memory silo, volume `vol` (no stored mountpoint).
fn alice_with_a_volume() -> Home {
    let alice = Home::with_user("alice");
    alice.ok(&["silo", "create", "memory", "ram"]);
    alice.ok(&["network", "create", "net", "--silo", "ram"]);
    alice.ok(&["volume", "create", "vol", "-N", "net"]);
    alice
}

#[test]
fn a_link_altered_since_linking_is_refused_at_every_run() {
    for keys in [&["node", "certificate"][..], &["passport", "signature"], &["node", "public_key", "ed25519"]] {
        let alice = alice_with_a_volume();
        alter_file(&alice.file("linked_networks/alice/alice/net"), keys);
        // Checked before anything else, even before the missing mountpoint.
        alice.fail(&["volume", "run", "vol"]).stderr_has("alice/net");
        alice.fail(&["network", "run", "net"]).stderr_has("alice/net");
        alice.fail(&["volume", "check", "vol"]).stderr_has("alice/net");
    }
}

#[test]
fn a_passport_swapped_into_the_link_is_refused_at_run() {
    // Bob holds a read-only passport and writes a read-write one into his
    // link himself: its signature is not the owner's.
    let alice = Home::with_user("alice");
    let bob = Home::with_user("bob");
    alice.meet(&bob);
    bob.meet(&alice);
    alice.ok(&["network", "create", "net"]);
    alice.ok(&["passport", "create", "-N", "net", "-u", "bob", "--deny-write"]);
    bob.cmd(&["network", "import"]).stdin(alice.ok(&["network", "export", "net"]).stdout).ok();
    bob.cmd(&["passport", "import"]).stdin(alice.ok(&["passport", "export", "-N", "net", "-u", "bob"]).stdout).ok();
    bob.ok(&["silo", "create", "memory", "ram"]);
    bob.ok(&["network", "link", "alice/net", "--silo", "ram"]);
    let path = bob.file("linked_networks/bob/alice/net");
    let mut link = read_json(&path);
    link["passport"]["allow_write"] = true.into();
    std::fs::write(&path, link.to_string()).unwrap();
    bob.fail(&["network", "run", "alice/net"]).stderr_has("passport");
}

#[test]
fn a_volume_file_holding_another_volume_is_refused() {
    let alice = alice_with_a_volume();
    std::fs::copy(alice.file("volumes/alice/vol"), alice.file("volumes/alice/copy")).unwrap();
    alice.fail(&["volume", "export", "copy"]).stderr_has("volume file \"alice/copy\" holds volume \"alice/vol\"");
    alice.fail(&["volume", "run", "copy", "--mountpoint", "/nonexistent/mnt"]).stderr_has("holds volume");
}

#[test]
fn a_user_whose_x25519_key_is_of_small_order_is_refused() {
    use infinit::crypto::{Canonical, KeyPair, PublicKey};
    // Mallory signs, with a real signing key, a user whose exchange key is
    // the point 0: anything sealed to that user is readable by anyone.
    let signing = KeyPair::generate().unwrap();
    let key = PublicKey { ed25519: signing.public().ed25519, x25519: [0; 32] };
    let statement = Canonical::new("infinit/user/v1").str("mallory").opt_str(None).bytes(&key.to_bytes()).finish();
    let user = serde_json::json!({
        "name": "mallory",
        "public_key": {"ed25519": infinit::crypto::b64(&key.ed25519), "x25519": infinit::crypto::b64(&key.x25519)},
        "signature": infinit::crypto::b64(&signing.sign(&statement).0),
    });
    let bob = Home::with_user("bob");
    bob.fails(bob.cmd(&["user", "import"]).stdin(user.to_string())).stderr_has("x25519 public key");
    assert!(!bob.file("users/mallory").exists());
}

#[test]
fn a_user_file_demanding_unbounded_argon2_memory_is_refused_with_one_line() {
    let alice = Home::new("alice");
    alice.cmd(&["user", "create", "--passphrase-stdin"]).stdin("pw\n").ok();
    let path = alice.file("users/alice");
    let mut user = read_json(&path);
    user["private_key"]["m_cost"] = u32::MAX.into();
    std::fs::write(&path, user.to_string()).unwrap();
    alice
        .fails(alice.cmd(&["network", "create", "net"]).env("INFINIT_PASSPHRASE", "pw"))
        .stderr_has("argon2 parameters")
        .stderr_has("memory cost");
}
