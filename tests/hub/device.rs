//! Device pairing: an identity moves to another device through the hub
//! under a passphrase, once, within its lifespan.

use crate::support::{HubProcess, Person};

const PASSPHRASE: &str = "INFINIT_PAIRING_PASSPHRASE";

#[test]
fn an_identity_moves_once_to_a_device_that_knows_the_passphrase() {
    let hub = HubProcess::start();
    let desktop = Person::new("alice", &hub);
    desktop.ok(&["user", "signup"]);
    let sent = desktop.cmd(&["--script", "device", "transmit", "--user"]).env(PASSPHRASE, "blue moon").ok();
    assert_eq!(sent.json(), serde_json::json!({"event": "transmitted", "kind": "user", "name": "alice"}));
    let laptop = Person::new("alice", &hub);
    laptop
        .home
        .fails(laptop.cmd(&["device", "receive", "--user"]).env(PASSPHRASE, "red sun"))
        .stderr_has("wrong passphrase")
        .stderr_has("HTTP 403");
    let received = laptop.cmd(&["device", "receive", "--user", "--name", "alice"]).stdin("blue moon\n").ok();
    assert!(received.stdout.contains("Received user \"alice\""), "{}", received.describe());
    assert_eq!(desktop.keys("alice").public(), laptop.keys("alice").public());
    // Received once: the hub forgot it.
    let phone = Person::new("alice", &hub);
    phone
        .home
        .fails(phone.cmd(&["device", "receive", "--user"]).env(PASSPHRASE, "blue moon"))
        .stderr_has("transmit it first")
        .stderr_has("HTTP 404");
    // The kind of object is required.
    phone.cmd(&["device", "receive"]).run().assert_usage_error();
}

#[test]
fn a_transmitted_identity_expires() {
    let hub = HubProcess::start();
    let desktop = Person::new("alice", &hub);
    desktop.ok(&["user", "signup"]);
    desktop.cmd(&["device", "transmit", "--user", "--expires-in", "1s"]).env(PASSPHRASE, "blue moon").ok();
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let laptop = Person::new("alice", &hub);
    laptop
        .home
        .fails(laptop.cmd(&["device", "receive", "--user"]).env(PASSPHRASE, "blue moon"))
        .stderr_has("no longer available")
        .stderr_has("HTTP 410");
    desktop
        .cmd(&["device", "transmit", "--user", "--expires-in", "2h"])
        .env(PASSPHRASE, "x")
        .run()
        .assert_usage_error();
}

#[test]
fn five_wrong_passphrases_destroy_a_pairing() {
    let hub = HubProcess::start();
    let desktop = Person::new("alice", &hub);
    desktop.ok(&["user", "signup"]);
    desktop.cmd(&["device", "transmit", "--user"]).env(PASSPHRASE, "blue moon").ok();
    let thief = Person::new("alice", &hub);
    for _ in 0..5 {
        thief.home.fails(thief.cmd(&["device", "receive", "--user"]).env(PASSPHRASE, "guess")).stderr_has("HTTP 403");
    }
    thief.home.fails(thief.cmd(&["device", "receive", "--user"]).env(PASSPHRASE, "blue moon")).stderr_has("HTTP 404");
}

#[test]
fn a_malformed_pairing_proof_is_refused_on_the_wire() {
    let hub = HubProcess::start();
    let desktop = Person::new("alice", &hub);
    desktop.ok(&["user", "signup"]);
    desktop.cmd(&["device", "transmit", "--user"]).env(PASSPHRASE, "blue moon").ok();
    let raw = crate::support::Raw::new("GET", "/users/alice/pairing", "");
    raw.send(&hub).refused(400, "pairing/missing_proof");
    raw.header(infinit::hub::api::PAIRING_PROOF_HEADER, "not base64!").send(&hub).refused(400, "pairing/invalid_proof");
    let params = crate::support::Raw::new("GET", "/users/alice/pairing/params", "").send(&hub);
    assert_eq!(params.body["kdf"], "argon2id", "{params:?}");
}
