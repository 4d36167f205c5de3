//! Drives and their invitations on a real hub, over raw signed requests
//! (the CLI has no drive object): alice publishes a drive of her volume,
//! invites the people holding a passport for her network, and they accept.

use serde_json::{Value, json};

use crate::support::{Answer, HubProcess, Person, Raw};

/// Alice (network `alice/home`, volume `alice/vol`, pushed), Bob (with a
/// passport for `alice/home`) and Carol (without), all signed up.
struct People {
    alice: Person,
    bob: Person,
    carol: Person,
}

fn people(hub: &HubProcess) -> People {
    let alice = Person::new("alice", hub);
    alice.ok(&["user", "signup"]);
    alice.ok(&["network", "create", "--name", "home", "--push"]);
    alice.ok(&["volume", "create", "--name", "vol", "--network", "home", "--push"]);
    let bob = Person::new("bob", hub);
    bob.ok(&["user", "signup"]);
    let carol = Person::new("carol", hub);
    carol.ok(&["user", "signup"]);
    alice.ok(&["user", "fetch", "bob"]);
    alice.ok(&["passport", "create", "--network", "home", "--user", "bob", "--push"]);
    People { alice, bob, carol }
}

/// Send `method path body` signed by `user` of `person`'s home.
fn send(hub: &HubProcess, person: &Person, user: &str, method: &'static str, path: &str, body: Value) -> Answer {
    let body = if body.is_null() { Vec::new() } else { serde_json::to_vec(&body).expect("json") };
    Raw::new(method, path, body).signed(user, &person.keys(user)).send(hub)
}

fn get(hub: &HubProcess, path: &str) -> Answer {
    Raw::new("GET", path, Vec::new()).send(hub)
}

fn drive(name: &str) -> Value {
    json!({"name": format!("alice/{name}"), "owner": "alice", "network": "alice/home", "volume": "alice/vol",
           "description": "our photos"})
}

fn invitation(permissions: &str) -> Value {
    json!({"permissions": permissions, "status": "pending", "create_home": true})
}

/// The names of the drives `user` lists (signed by itself).
fn listed(hub: &HubProcess, person: &Person, user: &str) -> Vec<String> {
    let answer = send(hub, person, user, "GET", &format!("/users/{user}/drives"), Value::Null);
    assert_eq!(answer.status, 200, "{answer:?}");
    answer.body["drives"].as_array().expect("drives").iter().map(|d| d["name"].as_str().unwrap().to_string()).collect()
}

#[test]
fn the_owner_publishes_fetches_and_deletes_a_drive_and_only_the_owner() {
    let hub = HubProcess::start();
    let People { alice, bob, .. } = people(&hub);
    get(&hub, "/drives/alice/photos").refused(404, "drive/not_found");
    let created = send(&hub, &alice, "alice", "PUT", "/drives/alice/photos", drive("photos"));
    assert_eq!(created.status, 201, "{created:?}");
    let fetched = get(&hub, "/drives/alice/photos");
    assert_eq!(fetched.status, 200);
    assert_eq!(
        fetched.body,
        json!({"name": "alice/photos", "owner": "alice", "network": "alice/home", "volume": "alice/vol",
               "description": "our photos", "users": {}})
    );
    // The same again is fine; another drive under that name is a conflict.
    assert_eq!(send(&hub, &alice, "alice", "PUT", "/drives/alice/photos", drive("photos")).status, 200);
    let mut other = drive("photos");
    other["description"] = json!("not the same");
    send(&hub, &alice, "alice", "PUT", "/drives/alice/photos", other).refused(409, "drive/conflict");
    // Only its owner pushes or deletes it, signed.
    Raw::new("PUT", "/drives/alice/music", serde_json::to_vec(&drive("music")).unwrap())
        .send(&hub)
        .refused(401, "user/unauthorized");
    send(&hub, &bob, "bob", "PUT", "/drives/alice/music", drive("music")).refused(403, "user/forbidden");
    send(&hub, &bob, "bob", "DELETE", "/drives/alice/photos", Value::Null).refused(403, "user/forbidden");
    // What it stands on must be on the hub; the body has the declared fields.
    let mut lost = drive("lost");
    lost["network"] = json!("alice/elsewhere");
    send(&hub, &alice, "alice", "PUT", "/drives/alice/lost", lost).refused(404, "network/not_found");
    let mut lost = drive("lost");
    lost["volume"] = json!("alice/nothing");
    send(&hub, &alice, "alice", "PUT", "/drives/alice/lost", lost).refused(404, "volume/not_found");
    let mut odd = drive("odd");
    odd["icon"] = json!("png");
    send(&hub, &alice, "alice", "PUT", "/drives/alice/odd", odd).refused(400, "drive/unknown_field/icon");
    let mut odd = drive("odd");
    odd.as_object_mut().unwrap().remove("volume");
    send(&hub, &alice, "alice", "PUT", "/drives/alice/odd", odd).refused(400, "drive/missing_field/volume");
    send(&hub, &alice, "alice", "PUT", "/drives/alice/odd", drive("photos")).refused(422, "drive/invalid_format/name");
    get(&hub, "/drives/alice/lost").refused(404, "drive/not_found");
    // The owner deletes it.
    let deleted = send(&hub, &alice, "alice", "DELETE", "/drives/alice/photos", Value::Null);
    assert_eq!(deleted.status, 200, "{deleted:?}");
    get(&hub, "/drives/alice/photos").refused(404, "drive/not_found");
}

#[test]
fn invitees_need_a_passport_and_only_the_invitee_accepts() {
    let hub = HubProcess::start();
    let People { alice, bob, carol } = people(&hub);
    assert_eq!(send(&hub, &alice, "alice", "PUT", "/drives/alice/photos", drive("photos")).status, 201);
    let invite = |who: &str| format!("/drives/alice/photos/invitations/{who}");
    send(&hub, &alice, "alice", "PUT", &invite("carol"), invitation("rw")).refused(404, "passport/not_found");
    send(&hub, &alice, "alice", "PUT", &invite("nobody"), invitation("rw")).refused(404, "user/not_found");
    send(&hub, &alice, "alice", "PUT", &invite("bob@example.com"), invitation("rw"))
        .refused(422, "drive/invitation/email_unsupported");
    send(&hub, &alice, "alice", "PUT", &invite("bob"), json!({"permissions": "all"}))
        .refused(422, "drive/invitation/invalid_format/permissions");
    let invited = send(&hub, &alice, "alice", "PUT", &invite("bob"), invitation("rw"));
    assert_eq!(invited.status, 201, "{invited:?}");
    assert_eq!(send(&hub, &alice, "alice", "PUT", &invite("bob"), invitation("rw")).status, 200);
    assert_eq!(get(&hub, "/drives/alice/photos").body["users"]["bob"], invitation("rw"));
    // Nobody else accepts for bob, and carol has nothing to accept.
    let accept = json!({"status": "ok"});
    send(&hub, &carol, "carol", "PUT", &invite("bob"), accept.clone()).refused(403, "user/forbidden");
    send(&hub, &carol, "carol", "PUT", &invite("carol"), accept.clone()).refused(404, "drive/invitation/not_found");
    send(&hub, &bob, "bob", "PUT", &invite("bob"), json!({"status": "ok", "permissions": "r"}))
        .refused(409, "drive/invitation/conflict");
    let accepted = send(&hub, &bob, "bob", "PUT", &invite("bob"), accept.clone());
    assert_eq!(accepted.status, 200, "{accepted:?}");
    assert_eq!(get(&hub, "/drives/alice/photos").body["users"]["bob"]["status"], "ok");
    assert_eq!(send(&hub, &bob, "bob", "PUT", &invite("bob"), accept).status, 200);
    // The owner cannot change the terms of an accepted invitation behind bob's back.
    send(&hub, &alice, "alice", "PUT", &invite("bob"), invitation("r")).refused(409, "drive/invitation/conflict");
    // Withdrawing: by the invitee (or the owner), not by anyone else.
    send(&hub, &carol, "carol", "DELETE", &invite("bob"), Value::Null).refused(403, "user/forbidden");
    assert_eq!(send(&hub, &bob, "bob", "DELETE", &invite("bob"), Value::Null).status, 200);
    send(&hub, &alice, "alice", "DELETE", &invite("bob"), Value::Null).refused(404, "drive/invitation/not_found");
    assert_eq!(get(&hub, "/drives/alice/photos").body["users"], json!({}));
}

#[test]
fn bulk_invitations_are_all_or_nothing() {
    let hub = HubProcess::start();
    let People { alice, bob, carol } = people(&hub);
    assert_eq!(send(&hub, &alice, "alice", "PUT", "/drives/alice/photos", drive("photos")).status, 201);
    let all = "/drives/alice/photos/invitations";
    let both = json!({"alice": invitation("rw"), "bob": invitation("rw"), "carol": invitation("r")});
    // Carol has no passport yet: nobody is invited.
    send(&hub, &alice, "alice", "PUT", all, both.clone()).refused(404, "passport/not_found");
    assert_eq!(get(&hub, "/drives/alice/photos").body["users"], json!({}));
    send(&hub, &alice, "alice", "PUT", all, json!({"bob": invitation("rw"), "dan@example.com": invitation("r")}))
        .refused(422, "drive/invitation/email_unsupported");
    send(&hub, &bob, "bob", "PUT", all, json!({"bob": invitation("rw")})).refused(403, "user/forbidden");
    assert_eq!(get(&hub, "/drives/alice/photos").body["users"], json!({}));
    alice.ok(&["user", "fetch", "carol"]);
    alice.ok(&["passport", "create", "--network", "home", "--user", "carol", "--push"]);
    let invited = send(&hub, &alice, "alice", "PUT", all, both.clone());
    assert_eq!(invited.status, 201, "{invited:?}");
    // The owner's own entry is skipped.
    assert_eq!(
        get(&hub, "/drives/alice/photos").body["users"],
        json!({"bob": invitation("rw"), "carol": invitation("r")})
    );
    assert_eq!(send(&hub, &alice, "alice", "PUT", all, both).status, 200);
    assert_eq!(send(&hub, &carol, "carol", "PUT", &format!("{all}/carol"), json!({"status": "ok"})).status, 200);
}

#[test]
fn users_list_the_drives_they_own_or_are_invited_to() {
    let hub = HubProcess::start();
    let People { alice, bob, carol } = people(&hub);
    for name in ["photos", "music"] {
        assert_eq!(send(&hub, &alice, "alice", "PUT", &format!("/drives/alice/{name}"), drive(name)).status, 201);
    }
    let invited =
        send(&hub, &alice, "alice", "PUT", "/drives/alice/music/invitations/bob", json!({"permissions": "r"}));
    assert_eq!(invited.status, 201, "{invited:?}");
    assert_eq!(listed(&hub, &alice, "alice"), ["alice/music", "alice/photos"]);
    assert_eq!(listed(&hub, &bob, "bob"), ["alice/music"]);
    assert!(listed(&hub, &carol, "carol").is_empty());
    // A user's list is its own.
    send(&hub, &carol, "carol", "GET", "/users/bob/drives", Value::Null).refused(403, "user/forbidden");
    Raw::new("GET", "/users/bob/drives", Vec::new()).send(&hub).refused(401, "user/unauthorized");
    get(&hub, "/users/nobody/drives").refused(404, "user/not_found");
    // Purging the volume takes its owner's drives with it.
    let purged = send(&hub, &alice, "alice", "DELETE", "/volumes/alice/vol?purge=true", Value::Null);
    assert_eq!(purged.status, 200, "{purged:?}");
    get(&hub, "/drives/alice/music").refused(404, "drive/not_found");
    assert!(listed(&hub, &alice, "alice").is_empty());
    assert!(listed(&hub, &bob, "bob").is_empty());
}

#[test]
fn drives_and_invitations_survive_a_kill_and_restart() {
    let mut hub = HubProcess::start();
    let People { mut alice, mut bob, .. } = people(&hub);
    assert_eq!(send(&hub, &alice, "alice", "PUT", "/drives/alice/photos", drive("photos")).status, 201);
    let path = "/drives/alice/photos/invitations/bob";
    assert_eq!(send(&hub, &alice, "alice", "PUT", path, invitation("rw")).status, 201);
    let before = get(&hub, "/drives/alice/photos").body;
    hub.kill_and_restart();
    alice.follow(&hub);
    bob.follow(&hub);
    assert_eq!(get(&hub, "/drives/alice/photos").body, before);
    assert_eq!(listed(&hub, &bob, "bob"), ["alice/photos"]);
    assert_eq!(send(&hub, &bob, "bob", "PUT", path, json!({"status": "ok"})).status, 200);
    assert_eq!(get(&hub, "/drives/alice/photos").body["users"]["bob"]["status"], "ok");
}

#[test]
fn leaving_the_hub_or_purging_a_network_takes_drives_and_invitations_along() {
    let hub = HubProcess::start();
    let People { alice, bob, .. } = people(&hub);
    assert_eq!(send(&hub, &alice, "alice", "PUT", "/drives/alice/photos", drive("photos")).status, 201);
    let path = "/drives/alice/photos/invitations/bob";
    assert_eq!(send(&hub, &alice, "alice", "PUT", path, invitation("rw")).status, 201);
    // Bob leaves: his invitation goes with him.
    bob.ok(&["user", "pull"]);
    assert_eq!(get(&hub, "/drives/alice/photos").body["users"], json!({}));
    // Alice owns a drive: she leaves only with --purge, and it goes too.
    alice.fail(&["user", "pull"]).stderr_has("drive alice/photos").stderr_has("HTTP 409");
    alice.ok(&["network", "pull", "home", "--purge"]);
    get(&hub, "/drives/alice/photos").refused(404, "drive/not_found");
    get(&hub, "/volumes/alice/vol").refused(404, "volume/not_found");
    alice.ok(&["user", "pull"]);
}
