//! Membership between real nodes in one process (QUIC on loopback, SWIM
//! over datagrams): joining through one peer, agreeing on placement,
//! noticing a node that went away, and taking it back when it returns.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::*;
use crate::crypto::KeyPair;
use crate::runtime::block::Address;
use crate::runtime::network::{NetworkNode, NetworkSpec};
use crate::runtime::silo::{MemorySilo, Silo};

/// Admits nodes whose passport reads `member`, with every right.
#[derive(Debug)]
struct Members;

impl Gatekeeper for Members {
    fn network(&self) -> &str {
        "alice/net"
    }

    fn check(&self, _node: &PublicKey, credentials: &Credentials) -> Result<Membership, String> {
        if credentials.passport != b"member" {
            return Err("no passport for this network".into());
        }
        Ok(Membership { user: credentials.user, user_name: "alice".into(), write: true, storage: true })
    }
}

fn spec(dir: &std::path::Path, i: usize, user: &KeyPair, peers: Vec<String>, passport: &[u8]) -> NetworkSpec {
    crate::runtime::network::test_spec(dir, i, user, peers, passport, Arc::new(Members))
}

/// Wait until `cond` holds, or fail saying `what`.
async fn eventually(what: &str, patience: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + patience;
    while !cond() {
        assert!(Instant::now() < deadline, "not within {patience:?}: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn alive_peers(node: &NetworkNode) -> usize {
    node.overlay.members().iter().filter(|(_, m)| m.state == Liveness::Alive).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_joining_through_one_peer_meet_agree_on_placement_and_follow_a_node_that_leaves_and_returns() {
    let dir = tempfile::tempdir().unwrap();
    let user = KeyPair::generate().unwrap();
    let mut specs = Vec::new();
    let mut nodes: Vec<NetworkNode> = Vec::new();
    for i in 0..4 {
        // Everyone knows only the first node.
        let peers = nodes.first().and_then(NetworkNode::local_addr).map(|a| vec![a.to_string()]).unwrap_or_default();
        let spec = spec(dir.path(), i, &user, peers, b"member");
        let silo: Arc<dyn Silo> = Arc::new(MemorySilo::new("mem", None));
        nodes.push(NetworkNode::start(&spec, Some(silo), None).await.unwrap());
        specs.push(spec);
    }
    eventually("every node sees the three others alive", Duration::from_secs(20), || {
        nodes.iter().all(|n| alive_peers(n) == 3)
    })
    .await;

    // Any node computes any block's replica set alike, in one step.
    for seed in 0u8..50 {
        let address = Address([seed.wrapping_mul(37); 32]);
        let sets: Vec<Vec<PeerId>> = nodes.iter().map(|n| n.overlay.replicas(&address, 3)).collect();
        assert!(sets.iter().all(|s| *s == sets[0]), "placement differs between nodes: {sets:?}");
        let mut distinct = sets[0].clone();
        distinct.sort_by_key(|p| p.0);
        distinct.dedup();
        assert_eq!(distinct.len(), 3, "three distinct replicas");
    }

    // Node 3 goes away: the others stop counting it alive.
    let gone = nodes[3].overlay.me();
    nodes[3].stop();
    eventually("the stopped node is seen down or suspect", Duration::from_secs(20), || {
        nodes[..3].iter().all(|n| matches!(n.overlay.state(&gone), Liveness::Down | Liveness::Suspect))
    })
    .await;

    // It returns with the same key and is alive again for everyone.
    // (Its acceptor state in another file: the stopped instance may hold the first a while.)
    let back = NetworkSpec {
        peers: vec![nodes[1].local_addr().unwrap().to_string()],
        acceptors: dir.path().join("acceptors-3-again.redb"),
        ..specs[3].clone()
    };
    let silo: Arc<dyn Silo> = Arc::new(MemorySilo::new("mem", None));
    let returned = NetworkNode::start(&back, Some(silo), None).await.unwrap();
    assert_eq!(returned.overlay.me(), gone);
    eventually("the returned node is alive for everyone", Duration::from_secs(20), || {
        nodes[..3].iter().all(|n| n.overlay.state(&gone) == Liveness::Alive) && alive_peers(&returned) == 3
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_without_a_passport_is_never_admitted_nor_gossiped_about() {
    let dir = tempfile::tempdir().unwrap();
    let user = KeyPair::generate().unwrap();
    let first = NetworkNode::start(&spec(dir.path(), 0, &user, vec![], b"member"), None, None).await.unwrap();
    let bootstrap = vec![first.local_addr().unwrap().to_string()];
    let second =
        NetworkNode::start(&spec(dir.path(), 1, &user, bootstrap.clone(), b"member"), None, None).await.unwrap();
    let outsider = NetworkNode::start(&spec(dir.path(), 2, &user, bootstrap, b"nothing"), None, None).await.unwrap();
    eventually("the two members meet", Duration::from_secs(20), || {
        alive_peers(&first) == 1 && alive_peers(&second) == 1
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let stranger = outsider.overlay.me();
    for node in [&first, &second] {
        assert!(node.overlay.members().iter().all(|(id, _)| *id != stranger), "the outsider became a member");
    }
    assert!(outsider.overlay.members().is_empty(), "the outsider learned the members");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dialing_the_bootstrap_peers_again_opens_no_new_connection_to_a_connected_member() {
    let dir = tempfile::tempdir().unwrap();
    let user = KeyPair::generate().unwrap();
    let first = NetworkNode::start(&spec(dir.path(), 0, &user, vec![], b"member"), None, None).await.unwrap();
    let bootstrap = vec![first.local_addr().unwrap().to_string()];
    let mut others = Vec::new();
    for i in 1..3 {
        others.push(
            NetworkNode::start(&spec(dir.path(), i, &user, bootstrap.clone(), b"member"), None, None).await.unwrap(),
        );
    }
    eventually("everyone meets", Duration::from_secs(20), || {
        alive_peers(&first) == 2 && others.iter().all(|n| alive_peers(n) == 2)
    })
    .await;
    let settled = first.rpc.open_connections();
    // The periodic re-dial of the bootstrap peers (every 30 s in a node's life).
    for _ in 0..10 {
        for node in &others {
            node.overlay.bootstrap().await;
        }
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        first.rpc.open_connections() <= settled,
        "the bootstrap node serves {} connections, {settled} before the re-dials",
        first.rpc.open_connections()
    );
}
