//! People on separate devices exchange users, networks and passports by
//! file: the owner invites a member, and a member she trusts invites more.

use crate::support::{Home, event, read_json};

/// Export `user`'s public identity from `from` and import it into `to`, by file.
fn introduce(from: &Home, to: &Home) {
    let file = from.path(&format!("{}.user", from.user));
    from.ok(&["user", "export", "-o", file.to_str().unwrap()]);
    to.ok(&["user", "import", "-i", file.to_str().unwrap()]);
}

/// Export network `net` from its owner `from` and import it into `to`, by
/// file, after `from`'s public identity (a network is accepted only from a
/// known owner).
fn share_network(from: &Home, net: &str, to: &Home) {
    introduce(from, to);
    let file = from.path("network.json");
    from.ok(&["network", "export", net, "-o", file.to_str().unwrap()]);
    to.ok(&["network", "import", "-i", file.to_str().unwrap()]);
}

/// Export the passport of `holder` on `net` from `from` and import it into `to`.
fn hand_passport(from: &Home, net: &str, holder: &str, to: &Home, force: bool) {
    let file = from.path(&format!("{holder}.passport"));
    from.ok(&["passport", "export", "-N", net, "-u", holder, "-o", file.to_str().unwrap()]);
    let mut args = vec!["passport", "import", "-i", file.to_str().unwrap()];
    if force {
        args.push("--force");
    }
    to.ok(&args);
}

/// Alice owns `alice/net` and knows Bob; Bob knows the network.
fn alice_invites_bob(passport_flags: &[&str]) -> (Home, Home) {
    let alice = Home::with_user("alice");
    let bob = Home::with_user("bob");
    introduce(&bob, &alice);
    alice.ok(&["network", "create", "net"]);
    let mut args = vec!["passport", "create", "-N", "net", "-u", "bob"];
    args.extend_from_slice(passport_flags);
    alice.ok(&args);
    share_network(&alice, "net", &bob);
    hand_passport(&alice, "alice/net", "bob", &bob, false);
    (alice, bob)
}

#[test]
fn bob_joins_alices_network_with_a_silo() {
    let (alice, bob) = alice_invites_bob(&[]);
    assert_eq!(bob.json("passports/alice/net/bob"), alice.json("passports/alice/net/bob"));
    bob.ok(&["silo", "create", "memory", "ram"]);
    let out = bob.ok(&["network", "link", "alice/net", "--silo", "ram"]);
    assert_eq!(out.stdout, "Linked network \"alice/net\" to this device for user \"bob\".\n");
    let link = bob.json("linked_networks/bob/alice/net");
    assert_eq!(link["user"], "bob");
    assert_eq!(link["silos"], serde_json::json!(["ram"]));
    assert_eq!(link["passport"], alice.json("passports/alice/net/bob"));
    assert_eq!(bob.ok(&["network", "list"]).stdout, "alice/net: linked\n");
    // A member with write rights can make a volume of his own on it.
    bob.ok(&["volume", "create", "docs", "-N", "alice/net"]);
    assert_eq!(bob.json("volumes/bob/docs")["network"], "alice/net");
    // ...and share it back.
    let file = bob.path("docs.json");
    bob.ok(&["volume", "export", "docs", "-o", file.to_str().unwrap()]);
    alice.ok(&["volume", "import", "-i", file.to_str().unwrap()]);
}

#[test]
fn linking_without_a_passport_is_refused() {
    let alice = Home::with_user("alice");
    let bob = Home::with_user("bob");
    alice.ok(&["network", "create", "net"]);
    share_network(&alice, "net", &bob);
    bob.fail(&["network", "link", "alice/net"]).stderr_has("no passport for user \"bob\"");
}

#[test]
fn rights_in_the_passport_limit_what_bob_can_do() {
    let (_alice, bob) = alice_invites_bob(&["--deny-write", "--deny-storage"]);
    bob.ok(&["silo", "create", "memory", "ram"]);
    bob.fail(&["network", "link", "alice/net", "--silo", "ram"]).stderr_has("storage");
    bob.ok(&["network", "link", "alice/net"]);
    bob.fail(&["volume", "create", "docs", "-N", "alice/net"]).stderr_has("read-only");
}

#[test]
fn bob_may_not_invite_carol_until_alice_allows_it() {
    let (alice, bob) = alice_invites_bob(&[]);
    let carol = Home::with_user("carol");
    introduce(&carol, &bob);
    bob.fail(&["passport", "create", "-N", "alice/net", "-u", "carol"]).stderr_has("--allow-create-passport");

    // Alice replaces Bob's passport with one that lets him invite.
    alice.ok(&["passport", "delete", "-N", "net", "-u", "bob"]);
    alice.ok(&["passport", "create", "-N", "net", "-u", "bob", "--allow-create-passport"]);
    // The new passport differs from the one Bob holds: he must force it.
    let file = alice.path("bob2.passport");
    alice.ok(&["passport", "export", "-N", "net", "-u", "bob", "-o", file.to_str().unwrap()]);
    bob.fail(&["passport", "import", "-i", file.to_str().unwrap()]);
    bob.ok(&["passport", "import", "-i", file.to_str().unwrap(), "--force"]);

    let out = bob.cmd(&["passport", "create", "-N", "alice/net", "-u", "carol", "--deny-storage"]).ok();
    assert_eq!(out.stdout, "Locally saved passport \"alice/net: carol\".\n");
    assert!(out.stderr.contains("delegate"), "{}", out.describe());
    let passport = bob.json("passports/alice/net/carol");
    assert_eq!(passport["certifier"], bob.json("users/bob")["public_key"]);
    assert_eq!(passport["certifier_passport"]["user_name"], "bob");
    let listed = bob.ok(&["passport", "list", "-N", "alice/net", "--script"]).json_lines();
    let carols = listed.iter().find(|p| p["user"] == "carol").expect("carol listed");
    assert_eq!(carols["certifier"], bob.ok(&["user", "hash", "--script"]).json()["hash"]);

    // Carol checks the chain offline against the network and joins.
    share_network(&alice, "net", &carol);
    hand_passport(&bob, "alice/net", "carol", &carol, false);
    assert_eq!(read_json(&carol.file("passports/alice/net/carol")), passport);
    let out = carol.ok(&["network", "link", "alice/net", "--script"]);
    assert_eq!(out.json(), event("linked", "network", "alice/net"));
    carol.ok(&["silo", "create", "memory", "ram"]);
    carol.ok(&["network", "unlink", "alice/net"]);
    carol.fail(&["network", "link", "alice/net", "--silo", "ram"]);
}

#[test]
fn a_read_only_delegate_cannot_grant_write() {
    let (_alice, bob) = alice_invites_bob(&["--deny-write", "--allow-create-passport"]);
    let carol = Home::with_user("carol");
    introduce(&carol, &bob);
    bob.fail(&["passport", "create", "-N", "alice/net", "-u", "carol"]).stderr_has("rights");
    bob.ok(&["passport", "create", "-N", "alice/net", "-u", "carol", "--deny-write"]);
    assert_eq!(bob.json("passports/alice/net/carol")["allow_write"], false);
}

#[test]
fn a_forged_delegation_does_not_verify_for_carol() {
    let (alice, bob) = alice_invites_bob(&["--allow-create-passport"]);
    let carol = Home::with_user("carol");
    introduce(&carol, &bob);
    bob.ok(&["passport", "create", "-N", "alice/net", "-u", "carol"]);
    share_network(&alice, "net", &carol);
    let exported = bob.ok(&["passport", "export", "-N", "alice/net", "-u", "carol"]).stdout;
    // Alter the proof Bob embedded (his own passport, signed by Alice): the
    // chain no longer verifies even though Bob's own signature is intact.
    let mut forged: serde_json::Value = serde_json::from_str(&exported).unwrap();
    forged["certifier_passport"]["allow_storage"] = false.into();
    let forged = forged.to_string();
    carol.fails(carol.cmd(&["passport", "import"]).stdin(forged));
    carol.cmd(&["passport", "import"]).stdin(&exported).ok();
}
