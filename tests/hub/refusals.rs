//! Every refusal, on the wire (status and JSON error) and as the CLI's
//! one-line error: unsigned, forged, stale and replayed requests, someone
//! else's objects, a taken name, an oversized body, invalid names, objects
//! that are not there, and no hub at all.

use infinit::crypto::KeyPair;
use infinit::descriptors::Network;
use infinit::descriptors::network::{NetworkSettings, Overlay};
use infinit::hub::api;

use crate::support::{HubProcess, Person, Raw};

/// Alice signed up with a network pushed; Bob signed up.
fn setup(hub: &HubProcess) -> (Person, Person, Vec<u8>) {
    let alice = Person::new("alice", hub);
    alice.ok(&["user", "signup"]);
    alice.ok(&["network", "create", "--name", "home", "--push"]);
    let bob = Person::new("bob", hub);
    bob.ok(&["user", "signup"]);
    let network = serde_json::to_vec(&alice.home.json("networks/alice/home")).unwrap();
    (alice, bob, network)
}

#[test]
fn unsigned_forged_stale_and_replayed_requests_are_refused() {
    let hub = HubProcess::start();
    let (alice, bob, network) = setup(&hub);
    let put = || Raw::new("PUT", "/networks/alice/home", network.clone());
    put().send(&hub).refused(401, "user/unauthorized");
    // Signed by bob's key but claiming to be alice.
    put().signed("alice", &bob.keys("bob")).send(&hub).refused(403, "user/unauthorized");
    // Altered after signing.
    let mut altered = put().signed("alice", &alice.keys("alice"));
    altered.body.push(b' ');
    altered.send(&hub).refused(403, "user/unauthorized");
    // Ten minutes ago, and ten minutes ahead.
    let now = api::unix_now();
    let stale = put().signed_at("alice", &alice.keys("alice"), &(now - 600).to_string()).send(&hub);
    stale.refused(401, "user/unauthorized");
    assert!(stale.reason().contains("check the system clock"), "{stale:?}");
    put()
        .signed_at("alice", &alice.keys("alice"), &(now + 600).to_string())
        .send(&hub)
        .refused(401, "user/unauthorized");
    put().signed_at("alice", &alice.keys("alice"), "yesterday").send(&hub).refused(400, "user/unauthorized");
    let mut no_time = put().signed("alice", &alice.keys("alice"));
    no_time.headers.retain(|(name, _)| name != api::TIME_HEADER);
    no_time.send(&hub).refused(400, "user/unauthorized");
    // The CLI on a device whose clock is ten minutes late, then corrected.
    let late = alice.cmd(&["network", "push", "home"]).env("INFINIT_HUB_CLOCK_OFFSET", "-600");
    alice.home.fails(late).stderr_has("check the system clock").stderr_has("HTTP 401");
    // An unknown signer.
    put().signed("mallory", &KeyPair::generate().unwrap()).send(&hub).refused(401, "user/unauthorized");
    // The same signed request twice: the second is a replay.
    let once = put().signed("alice", &alice.keys("alice"));
    let first = once.send(&hub);
    assert_eq!(first.status, 200, "{first:?}");
    assert_eq!(first.body["outcome"], "unchanged");
    let replay = once.send(&hub);
    replay.refused(401, "user/unauthorized");
    assert!(replay.reason().contains("replay"), "{replay:?}");
    // Signed GETs of private listings are refused unsigned or to others.
    Raw::new("GET", "/users/alice/networks", "").send(&hub).refused(401, "user/unauthorized");
    Raw::new("GET", "/users/alice/networks", "")
        .signed("bob", &bob.keys("bob"))
        .send(&hub)
        .refused(403, "user/forbidden");
    let mine = Raw::new("GET", "/users/alice/networks", "").signed("alice", &alice.keys("alice")).send(&hub);
    assert_eq!(mine.body["networks"][0]["name"], "alice/home", "{mine:?}");
}

#[test]
fn only_owners_change_or_delete_what_they_own() {
    let hub = HubProcess::start();
    let (alice, bob, network) = setup(&hub);
    // Bob deletes alice's network: 403, and the CLI says who may.
    Raw::new("DELETE", "/networks/alice/home", "")
        .signed("bob", &bob.keys("bob"))
        .send(&hub)
        .refused(403, "user/forbidden");
    bob.ok(&["network", "fetch", "alice/home"]);
    let out = bob.fail(&["network", "pull", "alice/home"]);
    out.stderr_has("only its owner \"alice\" may").stderr_has("HTTP 403").stderr_has("--as");
    // Bob pushes alice's own descriptor: signed by him, still not his.
    Raw::new("PUT", "/networks/alice/home", network)
        .signed("bob", &bob.keys("bob"))
        .send(&hub)
        .refused(403, "user/forbidden");
    // Bob signs a network under alice's name with his key.
    let settings = || NetworkSettings {
        description: None,
        replication_factor: 1,
        overlay: Overlay::Gossip,
        eviction_delay: "10min".into(),
        peers: vec![],
    };
    let forged = Network::new("alice/evil", settings(), &bob.keys("bob")).unwrap();
    let forged = serde_json::to_vec(&forged).unwrap();
    Raw::new("PUT", "/networks/alice/evil", forged.clone())
        .signed("bob", &bob.keys("bob"))
        .send(&hub)
        .refused(403, "user/forbidden");
    // ... or as alice would, with a descriptor not signed by her key.
    let mut stolen = alice.keys("alice");
    stolen = if stolen.public() == bob.keys("bob").public() { unreachable!() } else { stolen };
    Raw::new("PUT", "/networks/alice/evil", forged)
        .signed("alice", &stolen)
        .send(&hub)
        .refused(422, "network/foreign_owner");
    // Only the owner (or a delegate who signed it) pushes a passport.
    alice.ok(&["user", "fetch", "bob"]);
    alice.ok(&["passport", "create", "--network", "home", "--user", "bob"]);
    let passport = serde_json::to_vec(&alice.home.json("passports/alice/home/bob")).unwrap();
    Raw::new("PUT", "/networks/alice/home/passports/bob", passport.clone())
        .signed("bob", &bob.keys("bob"))
        .send(&hub)
        .refused(403, "user/forbidden");
    // Bob is no member: he may not publish endpoints; once he has a passport, he may.
    let node = "ab".repeat(32);
    let endpoints = br#"{"endpoints":["127.0.0.2:4000"]}"#.to_vec();
    let publish = || Raw::new("PUT", &format!("/networks/alice/home/endpoints/bob/{node}"), endpoints.clone());
    publish().signed("bob", &bob.keys("bob")).send(&hub).refused(403, "user/not_a_member");
    alice.ok(&["passport", "push", "--network", "home", "--user", "bob"]);
    assert_eq!(publish().signed("bob", &bob.keys("bob")).send(&hub).status, 201);
    // ... and never for alice.
    Raw::new("PUT", &format!("/networks/alice/home/endpoints/alice/{node}"), endpoints)
        .signed("bob", &bob.keys("bob"))
        .send(&hub)
        .refused(403, "user/forbidden");
    // A user deletes its own passport.
    bob.ok(&["passport", "pull", "--network", "alice/home", "--user", "bob"]);
    // A user who still owns a network is removed only with --purge.
    alice.fail(&["user", "pull"]).stderr_has("still owns network alice/home").stderr_has("HTTP 409");
    alice.ok(&["user", "pull", "--purge"]);
    bob.fail(&["network", "fetch", "alice/home"]).stderr_has("HTTP 404");
}

#[test]
fn a_name_taken_by_another_key_is_a_conflict() {
    let hub = HubProcess::start();
    let (_alice, _bob, _) = setup(&hub);
    // Mallory signs up as alice: refused, and nothing saved on her device.
    let mallory = Person::new("alice", &hub);
    mallory
        .fail(&["user", "signup"])
        .stderr_has("user \"alice\" already exists on this hub with another key")
        .stderr_has("HTTP 409")
        .stderr_has("pick another name");
    // With a local user of that name, pushing it is the same conflict.
    mallory.ok(&["user", "create"]);
    mallory.fail(&["user", "push"]).stderr_has("HTTP 409");
    // Her signatures are not alice's: the hub says so (the network stays local).
    let forged = mallory.cmd(&["network", "create", "--name", "x", "--push"]).run();
    forged.assert_runtime_error();
    forged.stderr_has("saved locally but not pushed").stderr_has("HTTP 403").stderr_has("not user \"alice\"'s");
    let body = serde_json::json!({"user": mallory.home.json("users/alice")});
    let mut public = body.clone();
    public["user"].as_object_mut().unwrap().remove("private_key");
    let push =
        Raw::new("PUT", "/users/alice", serde_json::to_vec(&public).unwrap()).signed("alice", &mallory.keys("alice"));
    push.send(&hub).refused(409, "user/conflict");
    // A private key in clear is never accepted.
    let clear =
        Raw::new("PUT", "/users/carol", serde_json::to_vec(&body).unwrap()).signed("alice", &mallory.keys("alice"));
    assert_eq!(clear.send(&hub).status / 100, 4);
}

#[test]
fn oversized_bodies_and_invalid_names_are_refused() {
    let hub = HubProcess::start();
    let (alice, _bob, _) = setup(&hub);
    let keys = alice.keys("alice");
    let big = Raw::new("PUT", "/networks/alice/home", vec![b' '; 16]).signed("alice", &keys);
    big.send_declaring(&hub, 2 << 20).refused(413, "request/too_large");
    // The CLI: a network whose description makes the push too large.
    let settings = NetworkSettings {
        description: Some("x".repeat(api::MAX_BODY + 1)),
        replication_factor: 1,
        overlay: Overlay::Gossip,
        eviction_delay: "10min".into(),
        peers: vec![],
    };
    let huge = Network::new("alice/huge", settings, &keys).unwrap();
    std::fs::write(alice.home.file("networks/alice/huge"), serde_json::to_vec_pretty(&huge).unwrap()).unwrap();
    alice.fail(&["network", "push", "huge"]).stderr_has("larger than the hub's limit").stderr_has("HTTP 413");
    // Names: on the wire, and before anything is sent.
    let body = serde_json::to_vec(&alice.home.json("networks/alice/home")).unwrap();
    Raw::new("PUT", "/networks/alice/Bad+Name", body)
        .signed("alice", &keys)
        .send(&hub)
        .refused(422, "network/invalid_format/name");
    Raw::new("GET", "/users/.hidden", "").send(&hub).refused(422, "user/invalid_format/name");
    Raw::new("GET", "/volumes/alice/UPPER", "").send(&hub).refused(422, "volume/invalid_format/name");
    Raw::new("GET", "/users/%23xyz", "").send(&hub).refused(422, "user/invalid_format/hash");
    alice.fail(&["network", "fetch", "alice/Bad"]).stderr_has("invalid network name");
    alice.fail(&["user", "fetch", "Bob"]).stderr_has("invalid user name");
    // Unknown routes and methods answer JSON too.
    Raw::new("GET", "/nothing/here", "").send(&hub).refused(404, "route/not_found");
    Raw::new("POST", "/networks/alice/home", "").send(&hub).refused(405, "request/method_not_allowed");
    Raw::new("PUT", "/networks/alice/home", "not json")
        .signed("alice", &keys)
        .send(&hub)
        .refused(400, "network/invalid_body");
}

#[test]
fn missing_objects_and_missing_hubs_say_what_to_do() {
    let hub = HubProcess::start();
    let (alice, bob, _) = setup(&hub);
    bob.fail(&["network", "fetch", "alice/nothing"])
        .stderr_has("network \"alice/nothing\" does not exist on this hub")
        .stderr_has("infinit network push --name alice/nothing");
    bob.fail(&["user", "fetch", "carol"]).stderr_has("user \"carol\" must sign up");
    Raw::new("GET", "/networks/alice/nothing", "").send(&hub).refused(404, "network/not_found");
    // Bob's passport was never pushed.
    bob.fail(&["passport", "fetch", "--network", "alice/home"]).stderr_has("HTTP 404");
    // Pushing a passport for a user the hub does not know.
    let carol = Person::new("carol", &hub);
    carol.ok(&["user", "create"]);
    alice.cmd(&["user", "import"]).stdin(carol.ok(&["user", "export"]).stdout).ok();
    alice.ok(&["passport", "create", "--network", "home", "--user", "carol"]);
    alice.fail(&["passport", "push", "--network", "home", "--user", "carol"]).stderr_has("user \"carol\" must sign up");
    // By short key hash.
    let hash = bob.ok(&["user", "hash"]).stdout.trim().rsplit(' ').next().unwrap().to_string();
    let fetched = Raw::new("GET", &format!("/users/%23{}", &hash[1..]), "").send(&hub);
    assert_eq!(fetched.body["name"], "bob", "{fetched:?}");
    carol.ok(&["user", "fetch", &hash]);
    // No hub at all, or a hub that does not answer.
    alice.home.fail(&["network", "push", "home"]).stderr_has("no hub configured").stderr_has("INFINIT_HUB");
    let nowhere = alice.home.cmd(&["network", "push", "home", "--hub", "http://127.0.0.1:9"]);
    alice.home.fails(nowhere).stderr_has("unreachable");
    alice
        .home
        .fails(alice.home.cmd(&["network", "push", "home", "--hub", "127.0.0.1:9"]))
        .stderr_has("invalid hub URL");
    // create --push with no hub writes nothing.
    alice.home.fail(&["network", "create", "--name", "other", "--push"]).stderr_has("no hub configured");
}

#[test]
fn administrators_may_delete_anything_and_list_users() {
    let hub = HubProcess::start_with(&["--admin-user", "root"]);
    let (alice, _bob, _) = setup(&hub);
    let root = Person::new("root", &hub);
    root.ok(&["user", "signup"]);
    let users = Raw::new("GET", "/users", "").signed("root", &root.keys("root")).send(&hub);
    assert_eq!(users.body["users"].as_array().map(Vec::len), Some(3), "{users:?}");
    Raw::new("GET", "/users", "").signed("alice", &alice.keys("alice")).send(&hub).refused(403, "auth/admin");
    root.ok(&["network", "pull", "alice/home"]);
    alice.fail(&["network", "fetch", "home"]).stderr_has("HTTP 404");
}

#[test]
fn a_user_unknown_to_the_hub_is_told_to_publish_itself_first() {
    let hub = HubProcess::start();
    let carol = Person::new("carol", &hub);
    carol.ok(&["user", "create"]);
    carol.ok(&["silo", "create", "filesystem", "--name", "s"]);
    carol.ok(&["network", "create", "--name", "n", "--silo", "s"]);
    let refused = carol.fail(&["network", "push", "n"]);
    refused.stderr_has("user \"carol\" is not registered on this hub").stderr_has("infinit user push --name carol");
    carol.ok(&["user", "push"]);
    carol.ok(&["network", "push", "n"]);
}
