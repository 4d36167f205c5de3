//! The paths that succeed: two people sharing a network and a volume, a
//! login on a second device, a hub killed and restarted.

use crate::support::{HubProcess, Person, Raw};

/// Alice signs up (key kept under a password), creates and pushes a
/// network and a volume; Bob signs up; Alice fetches Bob and pushes his
/// passport.
fn alice_and_bob(hub: &HubProcess) -> (Person, Person) {
    let alice = Person::new("alice", hub);
    alice.signup_full("alice's hub password");
    alice.ok(&["silo", "create", "filesystem", "--name", "s"]);
    let created = alice.ok(&["network", "create", "--name", "home", "--silo", "s", "--push"]);
    assert!(created.stdout.contains("Remotely pushed network \"alice/home\"."), "{}", created.describe());
    let volume = alice.ok(&["volume", "create", "--name", "vol", "--network", "home", "--push"]);
    assert!(volume.stdout.contains("Remotely pushed volume \"alice/vol\"."), "{}", volume.describe());
    let bob = Person::new("bob", hub);
    let signup = bob.ok(&["user", "signup"]);
    assert!(signup.stdout.contains("Signed up user \"bob\""), "{}", signup.describe());
    assert!(bob.home.file("users/bob").is_file());
    let fetched = alice.ok(&["--script", "user", "fetch", "bob"]);
    assert_eq!(fetched.json()["event"], "fetched");
    let passport = alice.ok(&["passport", "create", "--network", "home", "--user", "bob", "--push"]);
    assert!(passport.stdout.contains("Remotely pushed passport \"alice/home: bob\"."), "{}", passport.describe());
    (alice, bob)
}

#[test]
fn two_people_share_a_network_and_a_volume_through_the_hub() {
    let hub = HubProcess::start();
    let (alice, bob) = alice_and_bob(&hub);
    // Bob gets everything with no name at all: his networks, passports, volumes.
    let networks = bob.ok(&["--script", "network", "fetch"]).json_lines();
    assert!(
        networks.contains(&serde_json::json!({"event": "fetched", "kind": "user", "name": "alice"})),
        "{networks:?}"
    );
    assert!(networks.contains(&serde_json::json!({"event": "fetched", "kind": "network", "name": "alice/home"})));
    let passports = bob.ok(&["--script", "passport", "fetch"]).json_lines();
    assert_eq!(passports, [serde_json::json!({"event": "fetched", "kind": "passport", "name": "alice/home: bob"})]);
    bob.ok(&["silo", "create", "filesystem", "--name", "mine"]);
    let linked = bob.ok(&["network", "link", "alice/home", "--silo", "mine"]);
    assert!(linked.stdout.contains("Linked network \"alice/home\""), "{}", linked.describe());
    assert!(bob.home.file("linked_networks/bob/alice/home").is_file());
    bob.ok(&["volume", "fetch"]);
    assert_eq!(bob.home.json("volumes/alice/vol")["network"], "alice/home");
    assert_eq!(bob.home.json("volumes/alice/vol"), alice.home.json("volumes/alice/vol").tap_mountpoint_removed());
    // Fetching again changes nothing; by name works too.
    let again = bob.ok(&["volume", "fetch", "alice/vol"]);
    assert!(again.stdout.contains("already up to date here"), "{}", again.describe());
    // Re-pushing the same objects is fine; an update is an update.
    let repush = alice.ok(&["network", "push", "home"]);
    assert!(repush.stdout.contains("Remotely already up to date: network \"alice/home\"."), "{}", repush.describe());
    let updated = alice.ok(&["network", "update", "home", "--description", "our files", "--push"]);
    assert!(updated.stdout.contains("Remotely updated network \"alice/home\"."), "{}", updated.describe());
    bob.ok(&["network", "fetch", "alice/home"]);
    assert_eq!(bob.home.json("networks/alice/home")["description"], "our files");
    // The owner sees every passport of her network.
    let all = alice.ok(&["--script", "passport", "fetch", "--network", "home"]).json_lines();
    assert_eq!(all, [serde_json::json!({"event": "fetched", "kind": "passport", "name": "alice/home: bob"})]);
    // Pulls remove them from the hub, and fetching then says so.
    alice.ok(&["volume", "pull", "vol"]);
    let gone = bob.fail(&["volume", "fetch", "alice/vol"]);
    gone.stderr_has("volume \"alice/vol\" does not exist on this hub").stderr_has("HTTP 404");
    alice.ok(&["passport", "pull", "--network", "home", "--user", "bob"]);
    alice.ok(&["network", "pull", "home"]);
    bob.fail(&["network", "fetch", "alice/home"]).stderr_has("infinit network push --name alice/home");
}

trait WithoutMountpoint {
    fn tap_mountpoint_removed(self) -> Self;
}

impl WithoutMountpoint for serde_json::Value {
    fn tap_mountpoint_removed(mut self) -> Self {
        if let Some(options) = self.get_mut("mount_options").and_then(|o| o.as_object_mut()) {
            options.remove("mountpoint");
        }
        self
    }
}

#[test]
fn login_on_a_second_device_gives_the_same_identity() {
    let hub = HubProcess::start();
    let alice = Person::new("alice", &hub);
    alice.signup_full("correct horse battery");
    let laptop = Person::new("alice", &hub);
    let wrong = laptop.fails_with_password(&["user", "login"], "wrong horse");
    wrong.stderr_has("wrong password for user \"alice\"").stderr_has("HTTP 403");
    let login = laptop.cmd(&["--script", "user", "login"]).env("INFINIT_PASSWORD", "correct horse battery").ok();
    assert_eq!(login.json(), serde_json::json!({"event": "logged_in", "kind": "user", "name": "alice"}));
    assert_eq!(alice.ok(&["user", "hash"]).stdout, laptop.ok(&["user", "hash"]).stdout);
    assert_eq!(alice.keys("alice").public(), laptop.keys("alice").public());
    // The laptop acts as alice on the hub: its signatures are hers.
    laptop.ok(&["network", "create", "--name", "travel", "--push"]);
    alice.ok(&["network", "fetch", "travel"]);
    // The password travels through stdin too; the hub never had the key in clear.
    let phone = Person::new("alice", &hub);
    phone.cmd(&["user", "login"]).stdin("correct horse battery\n").ok();
    // A user who signed up without --full cannot log in elsewhere.
    let bob = Person::new("bob", &hub);
    bob.ok(&["user", "signup"]);
    let elsewhere = Person::new("bob", &hub);
    elsewhere.fails_with_password(&["user", "login"], "anything").stderr_has("does not keep its key on this hub");
}

impl Person {
    fn fails_with_password(&self, args: &[&str], password: &str) -> crate::support::Out {
        self.home.fails(self.cmd(args).env("INFINIT_PASSWORD", password))
    }
}

#[test]
fn the_hub_keeps_everything_across_a_kill_and_restart() {
    let mut hub = HubProcess::start();
    let (mut alice, mut bob) = alice_and_bob(&hub);
    // A signed write, captured as sent, and sent once.
    let network = serde_json::to_vec(&alice.home.json("networks/alice/home")).unwrap();
    let push = Raw::new("PUT", "/networks/alice/home", network).signed("alice", &alice.keys("alice"));
    assert_eq!(push.send(&hub).status, 200);
    hub.kill_and_restart();
    alice.follow(&hub);
    bob.follow(&hub);
    // The replay is still refused: signatures of writes are kept with them.
    push.send(&hub).refused(401, "user/unauthorized");
    bob.ok(&["network", "fetch", "alice/home"]);
    bob.ok(&["passport", "fetch", "--network", "alice/home"]);
    bob.ok(&["volume", "fetch", "alice/vol"]);
    let laptop = Person::new("alice", &hub);
    laptop.cmd(&["user", "login"]).env("INFINIT_PASSWORD", "alice's hub password").ok();
    let repush = alice.ok(&["volume", "push", "vol"]);
    assert!(repush.stdout.contains("already up to date"), "{}", repush.describe());
    assert!(hub.log().contains("listening"), "{}", hub.log());
}

#[test]
fn a_delegate_pushes_the_passports_it_signs_until_its_own_is_pulled() {
    let hub = HubProcess::start();
    let alice = Person::new("alice", &hub);
    alice.ok(&["user", "signup"]);
    alice.ok(&["network", "create", "--name", "home", "--push"]);
    let bob = Person::new("bob", &hub);
    bob.ok(&["user", "signup"]);
    let carol = Person::new("carol", &hub);
    carol.ok(&["user", "signup"]);
    let dave = Person::new("dave", &hub);
    dave.ok(&["user", "signup"]);
    alice.ok(&["user", "fetch", "bob"]);
    alice.ok(&["passport", "create", "--network", "home", "--user", "bob", "--allow-create-passport", "--push"]);
    bob.ok(&["passport", "fetch", "--network", "alice/home"]);
    bob.ok(&["user", "fetch", "carol"]);
    let signed = bob.ok(&["passport", "create", "--network", "alice/home", "--user", "carol", "--push"]);
    assert!(signed.stdout.contains("Remotely pushed passport \"alice/home: carol\"."), "{}", signed.describe());
    carol.ok(&["passport", "fetch", "--network", "alice/home"]);
    carol.ok(&["network", "link", "alice/home"]);
    // The delegate may withdraw what it signed; the owner revokes the delegate.
    bob.ok(&["passport", "pull", "--network", "alice/home", "--user", "carol"]);
    alice.ok(&["passport", "pull", "--network", "home", "--user", "bob"]);
    bob.ok(&["user", "fetch", "dave"]);
    bob.ok(&["passport", "create", "--network", "alice/home", "--user", "dave"]);
    bob.fail(&["passport", "push", "--network", "alice/home", "--user", "dave"])
        .stderr_has("or the delegate who signed it")
        .stderr_has("HTTP 403");
}
