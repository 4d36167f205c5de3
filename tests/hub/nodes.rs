//! Nodes that find each other through the hub: alice's and bob's storage
//! nodes start with no `--peer` at all, publish their endpoints, find the
//! other's, and share the network's blocks.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{HubProcess, Person, Raw};

#[path = "../common/mount.rs"]
mod mount;
#[path = "../common/process.rs"]
mod process;
use mount::{force_unmount, fuse_available, is_mounted};
use process::Proc;

/// A `network run` kept running; killed when dropped.
struct Node(Proc);

impl Node {
    fn start(person: &Person, hub: &HubProcess, network: &str, ip: &str) -> Node {
        let mut command = Command::new(assert_cmd::cargo::cargo_bin!("infinit"));
        command
            .args(["network", "run", "--name", network, "--listen", ip, "--publish"])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", person.home.path(""))
            .env("INFINIT_HOME", person.home.path(""))
            .env("INFINIT_USER", &person.home.user)
            .env("INFINIT_HUB", hub.url())
            .env("INFINIT_LOG", "info");
        let mut node = Node(Proc::spawn(command, person.home.path("node.log")));
        node.0.wait_line("Running network", Duration::from_secs(60));
        node
    }

    fn log(&self) -> String {
        self.0.log()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.0.kill9();
    }
}

/// `network inspect --script` of `person`'s node, as JSON documents.
fn inspect(person: &Person, network: &str) -> Vec<serde_json::Value> {
    let out = person.ok(&["--script", "network", "inspect", "--name", network]);
    out.stdout.lines().map(|l| serde_json::from_str(l).expect("JSON line")).collect()
}

fn alive_peers(view: &[serde_json::Value]) -> usize {
    view.iter().filter(|d| d["event"] == "peer" && d["state"] == "alive").count()
}

fn stored_blocks(view: &[serde_json::Value]) -> u64 {
    view.iter().find(|d| d["event"] == "blocks").and_then(|b| b["stored"].as_u64()).unwrap_or(0)
}

#[test]
fn nodes_started_with_no_peer_find_each_other_through_published_endpoints() {
    if !fuse_available("nodes_started_with_no_peer_find_each_other_through_published_endpoints") {
        return;
    }
    let hub = HubProcess::start();
    let alice = Person::new("alice", &hub);
    alice.signup_full("alice's password");
    alice.ok(&["silo", "create", "filesystem", "--name", "s"]);
    alice.ok(&["network", "create", "--name", "home", "--replication-factor", "2", "--silo", "s", "--push"]);
    let bob = Person::new("bob", &hub);
    bob.ok(&["user", "signup"]);
    alice.ok(&["user", "fetch", "bob"]);
    alice.ok(&["passport", "create", "--network", "home", "--user", "bob", "--push"]);
    bob.ok(&["network", "fetch"]);
    bob.ok(&["passport", "fetch"]);
    bob.ok(&["silo", "create", "filesystem", "--name", "mine"]);
    bob.ok(&["network", "link", "alice/home", "--silo", "mine"]);

    let subnet = 60 + (std::process::id() % 150) as u8;
    let alice_node = Node::start(&alice, &hub, "alice/home", &format!("127.0.{subnet}.1"));
    let bob_node = Node::start(&bob, &hub, "alice/home", &format!("127.0.{subnet}.2"));

    // Each lists the other, alive, in its view.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (a, b) = (inspect(&alice, "alice/home"), inspect(&bob, "alice/home"));
        if alive_peers(&a) == 1 && alive_peers(&b) == 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the nodes did not meet through the hub:\nalice: {a:?}\nbob: {b:?}\nalice's log: {}\nbob's log: {}",
            alice_node.log(),
            bob_node.log()
        );
        std::thread::sleep(Duration::from_millis(250));
    }

    // A client of alice's, also with no --peer, writes through them: with two
    // replicas per block, bob's node stores every block.
    let laptop = Person::new("alice", &hub);
    laptop.cmd(&["user", "login"]).env("INFINIT_PASSWORD", "alice's password").ok();
    laptop.ok(&["network", "fetch", "alice/home"]);
    laptop.ok(&["network", "link", "alice/home"]);
    laptop.ok(&["volume", "create", "--name", "vol", "--network", "alice/home"]);
    let mnt = laptop.home.path("mnt");
    let mut client = Command::new(assert_cmd::cargo::cargo_bin!("infinit"))
        .args(["volume", "run", "--name", "vol", "--mountpoint", mnt.to_str().expect("utf-8")])
        .args(["--listen", &format!("127.0.{subnet}.3"), "--fetch-endpoints"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", laptop.home.path(""))
        .env("INFINIT_HOME", laptop.home.path(""))
        .env("INFINIT_USER", "alice")
        .env("INFINIT_HUB", hub.url())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(laptop.home.path("client.log")).expect("log"))
        .spawn()
        .expect("spawn infinit");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !is_mounted(&mnt) {
        if let Ok(Some(status)) = client.try_wait() {
            panic!(
                "the client exited with {status}: {}",
                std::fs::read_to_string(laptop.home.path("client.log")).unwrap_or_default()
            );
        }
        assert!(Instant::now() < deadline, "not mounted");
        std::thread::sleep(Duration::from_millis(50));
    }
    let written = std::fs::write(mnt.join("hello"), b"found through the hub");
    let read = std::fs::read(mnt.join("hello"));
    let _ = client.kill();
    let _ = client.wait();
    force_unmount(&mnt);
    written.expect("write through the network");
    assert_eq!(read.expect("read back"), b"found through the hub");
    assert!(stored_blocks(&inspect(&bob, "alice/home")) > 0, "bob's node stores none of the network's blocks");

    // Both published where they listen; a node stopped by SIGTERM withdraws its endpoints.
    let published = |who: &str| {
        let answer = Raw::new("GET", "/networks/alice/home/endpoints", "").send(&hub);
        assert_eq!(answer.status, 200, "{answer:?}");
        answer.body.get(who).and_then(|nodes| nodes.as_object()).map_or(0, |nodes| nodes.len())
    };
    assert_eq!((published("alice"), published("bob")), (1, 1));
    let mut bob_node = bob_node;
    bob_node.0.signal(libc::SIGTERM);
    let status = bob_node.0.child.wait().expect("wait for bob's node");
    assert!(status.success(), "bob's node stopped with {status}: {}", bob_node.log());
    assert_eq!((published("alice"), published("bob")), (1, 0), "bob's endpoints were not withdrawn");
}
