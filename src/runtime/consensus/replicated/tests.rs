//! The replicated consensus between real nodes in one process: QUIC on
//! loopback, gossip, Paxos registers in redb, silos in RAM. (Separate
//! processes killed with SIGKILL are in `tests/cluster`.)

use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::crypto::KeyPair;
use crate::runtime::block::{AccessList, AclBlock, AclEntry, ContentBlock, OwnerBlock};
use crate::runtime::consensus::ConsensusExt as _;
use crate::runtime::network::{NetworkNode, NetworkSpec};
use crate::runtime::overlay::{Credentials, Gatekeeper, Membership};
use crate::runtime::silo::MemorySilo;

/// Admits every node, as the user its credentials name, with `write`
/// (a passport reading `readonly` denies it).
#[derive(Debug)]
struct Open {
    write: bool,
}

impl Gatekeeper for Open {
    fn network(&self) -> &str {
        "alice/net"
    }

    fn check(&self, _node: &crate::crypto::PublicKey, credentials: &Credentials) -> Result<Membership, String> {
        if credentials.passport == b"forged" {
            return Err("the passport is not signed by the network's owner".into());
        }
        let write = self.write && credentials.passport != b"readonly";
        Ok(Membership { user: credentials.user, user_name: "someone".into(), write, storage: true })
    }
}

mod linearizable;

struct Cluster {
    _dir: tempfile::TempDir,
    nodes: Vec<NetworkNode>,
    user: KeyPair,
    /// How each node was started, and its silo (kept across restarts, as a disk is).
    specs: Vec<NetworkSpec>,
    silos: Vec<Option<Arc<dyn crate::runtime::silo::Silo>>>,
}

impl Cluster {
    /// Stop node `i` and start it again with the same key, acceptor state
    /// and silo (joining through node 0).
    async fn restart(&mut self, i: usize) {
        self.nodes[i].stop();
        let spec =
            NetworkSpec { peers: vec![self.nodes[0].local_addr().unwrap().to_string()], ..self.specs[i].clone() };
        let placeholder = self.nodes[0].clone();
        drop(std::mem::replace(&mut self.nodes[i], placeholder));
        // The old instance lets go of its acceptor state once its last task ends.
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let node = loop {
            match NetworkNode::start(&spec, self.silos[i].clone(), None).await {
                Ok(node) => break node,
                Err(e) if std::time::Instant::now() < deadline => {
                    tracing::debug!("restart: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("node {i} cannot restart: {e}"),
            }
        };
        node.wait_for_storage(Duration::from_secs(20)).await.unwrap();
        self.nodes[i] = node;
    }
}

fn spec(dir: &std::path::Path, i: usize, user: &KeyPair, peers: Vec<String>, passport: &[u8]) -> NetworkSpec {
    crate::runtime::network::test_spec(dir, i, user, peers, passport, Arc::new(Open { write: true }))
}

async fn cluster(storage: usize, clients: usize) -> Cluster {
    cluster_with(storage, clients, b"ok").await
}

/// `storage` storage nodes, then `clients` clients whose passport reads `client_passport`.
async fn cluster_with(storage: usize, clients: usize, client_passport: &[u8]) -> Cluster {
    let dir = tempfile::tempdir().unwrap();
    let user = KeyPair::generate().unwrap();
    let mut nodes: Vec<NetworkNode> = Vec::new();
    let (mut specs, mut silos) = (Vec::new(), Vec::new());
    for i in 0..storage + clients {
        let peers = nodes.first().and_then(NetworkNode::local_addr).map(|a| vec![a.to_string()]).unwrap_or_default();
        let silo: Option<Arc<dyn crate::runtime::silo::Silo>> =
            (i < storage).then(|| Arc::new(MemorySilo::new("mem", None)) as Arc<dyn crate::runtime::silo::Silo>);
        let passport: &[u8] = if i < storage { b"ok" } else { client_passport };
        let spec = spec(dir.path(), i, &user, peers, passport);
        let node = NetworkNode::start(&spec, silo.clone(), None).await.unwrap();
        nodes.push(node);
        specs.push(spec);
        silos.push(silo);
    }
    for node in &nodes {
        node.wait_for_storage(Duration::from_secs(20)).await.unwrap();
    }
    // Every node knows every storage node.
    for _ in 0..100 {
        if nodes.iter().all(|n| n.overlay.storage_nodes().len() == storage) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Cluster { _dir: dir, nodes, user, specs, silos }
}

/// Wait until each of the first three nodes' replicas holds the block at
/// `address` (`held`) or no longer does: a store or removal returns once a
/// majority did it, and the third follows.
async fn on_every_replica(c: &Cluster, address: Address, held: bool) {
    for i in 0..3 {
        let silo = c.nodes[i].replica.as_ref().unwrap().silo().clone();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while silo.get(address).await.is_ok() != held {
            assert!(std::time::Instant::now() < deadline, "replica {i}: still not held = {held}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocks_and_registers_are_shared_by_every_node_and_survive_one_node_down() {
    let c = cluster(3, 1).await;
    let client = c.nodes[3].consensus.clone();
    let chunk = Block::Content(ContentBlock::new(None, b"chunk of data".to_vec()));
    client.store(chunk.clone(), Expect::Absent).await.unwrap();
    let v1 = OwnerBlock::create(&c.user, b"one".to_vec()).unwrap();
    let address = v1.address();
    client.store_next(Block::Mutable(v1.clone())).await.unwrap();
    // Every node reads both.
    for node in &c.nodes {
        assert_eq!(node.consensus.fetch_block(chunk.address()).await.unwrap(), Some(chunk.clone()));
        assert_eq!(node.consensus.fetch_block(address).await.unwrap(), Some(Block::Mutable(v1.clone())));
    }
    // A compare-and-swap from another node; the stale writer loses with the current block.
    let v2 = v1.update(&c.user, b"two".to_vec()).unwrap();
    c.nodes[0].consensus.store(Block::Mutable(v2.clone()), Expect::Version(1)).await.unwrap();
    let stale = v1.update(&c.user, b"late".to_vec()).unwrap();
    let lost = client.store(Block::Mutable(stale), Expect::Version(1)).await.unwrap_err();
    assert!(
        matches!(&lost, ConsensusError::Conflict { current, .. } if **current == Block::Mutable(v2.clone())),
        "{lost}"
    );
    // One storage node down: reads and writes go on.
    c.nodes[2].stop();
    let v3 = v2.update(&c.user, b"three".to_vec()).unwrap();
    client.store(Block::Mutable(v3.clone()), Expect::Version(2)).await.unwrap();
    assert_eq!(client.fetch_block(address).await.unwrap(), Some(Block::Mutable(v3.clone())));
    assert_eq!(client.fetch_block(chunk.address()).await.unwrap(), Some(chunk.clone()));
    // Removal is a compare-and-swap to the tombstone.
    let tombstone = Tombstone::for_block(&c.user, &Block::Mutable(v3.clone())).unwrap();
    client.remove(tombstone).await.unwrap();
    assert!(c.nodes[0].consensus.fetch(address, ReadLevel::Latest).await.unwrap().is_removed());
    let never = Block::Content(ContentBlock::new(None, b"never stored".to_vec()));
    assert_eq!(client.fetch(never.address(), ReadLevel::Latest).await.unwrap(), Fetched::Absent);
    // A chunk larger than what a replica reads of it to remove it: only
    // its owner's writers may, and then it is gone from every replica up.
    let file = AclBlock::create(&c.user, AccessList::default(), b"file").unwrap();
    client.store_next(Block::Acl(file.clone())).await.unwrap();
    let big = ContentBlock::new(Some(file.address()), vec![9; 300 << 10]);
    let big_address = big.address();
    client.store(Block::Content(big), Expect::Absent).await.unwrap();
    let stranger = KeyPair::generate().unwrap();
    assert!(client.remove(Tombstone::for_content(&stranger, big_address)).await.is_err());
    for i in 0..2 {
        assert!(c.silos[i].as_ref().unwrap().get(big_address).await.is_ok(), "node {i} lost the chunk");
    }
    // The owner is learned from the chunk's first bytes: the replicas
    // send the file's header, not the chunk (they sent 300 KiB when the
    // client fetched the chunk to learn it).
    let sent = |c: &Cluster| -> u64 {
        c.nodes[..3].iter().filter_map(|n| n.replica.as_ref()).map(|r| r.bytes_fetched()).sum()
    };
    let before = sent(&c);
    client.remove(Tombstone::for_content(&c.user, big_address)).await.unwrap();
    let moved = sent(&c) - before;
    assert!(moved < 32 << 10, "{moved} bytes of blocks fetched to remove a 300 KiB chunk");
    for i in 0..2 {
        let gone = c.silos[i].as_ref().unwrap().get(big_address).await;
        assert!(matches!(gone, Err(crate::runtime::silo::SiloError::NotFound { .. })), "node {i} kept the chunk");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_minority_cannot_write_or_read_and_says_unavailable_not_absent() {
    let c = cluster(3, 0).await;
    let node = c.nodes[0].consensus.clone();
    let v1 = AclBlock::create(&c.user, AccessList::default(), b"dir").unwrap();
    node.store_next(Block::Acl(v1.clone())).await.unwrap();
    c.nodes[1].stop();
    c.nodes[2].stop();
    let node = Replicated::new(c.nodes[0].rpc.clone(), c.nodes[0].overlay.clone(), 3, c.nodes[0].replica.clone())
        .with_deadline(Duration::from_secs(3));
    let v2 = v1.write(&c.user, b"dir2").unwrap();
    let refused = node.store(Block::Acl(v2), Expect::Version(1)).await.unwrap_err();
    assert!(refused.is_retryable(), "{refused}");
    let read = node.fetch(v1.address(), ReadLevel::Latest).await.unwrap_err();
    assert!(matches!(read, ConsensusError::Unavailable { .. } | ConsensusError::Timeout { .. }), "{read}");
    let chunk = Block::Content(ContentBlock::new(None, b"nowhere".to_vec()));
    assert!(matches!(node.fetch(chunk.address(), ReadLevel::Latest).await, Err(ConsensusError::Unavailable { .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_with_a_forged_passport_is_refused_and_stores_nothing() {
    let c = cluster(3, 0).await;
    let dir = tempfile::tempdir().unwrap();
    let peers = vec![c.nodes[0].local_addr().unwrap().to_string()];
    let mallory = KeyPair::generate().unwrap();
    let node = NetworkNode::start(&spec(dir.path(), 9, &mallory, peers, b"forged"), None, None).await.unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(node.overlay.members().is_empty(), "nobody admits it");
    assert!(c.nodes[0].overlay.members().iter().all(|(id, _)| *id != node.overlay.me()));
    let block = Block::Mutable(OwnerBlock::create(&mallory, b"x".to_vec()).unwrap());
    assert!(node.consensus.store_next(block).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_refuse_tampered_misaddressed_rolled_back_and_unauthorized_writes() {
    let c = cluster_with(3, 1, b"readonly").await;
    let writer = c.nodes[0].consensus.clone();
    let v1 = OwnerBlock::create(&c.user, b"one".to_vec()).unwrap();
    let v2 = v1.update(&c.user, b"two".to_vec()).unwrap();
    writer.store_next(Block::Mutable(v1.clone())).await.unwrap();
    writer.store_next(Block::Mutable(v2.clone())).await.unwrap();
    let address = v1.address();
    let refused = |e: ConsensusError| matches!(e, ConsensusError::Refused(_) | ConsensusError::Unauthorized(_));

    // A block whose bytes were changed after signing.
    let mut tampered = v2.update(&c.user, b"three".to_vec()).unwrap();
    tampered.data = b"THREE".to_vec();
    let e = writer.store(Block::Mutable(tampered), Expect::Version(2)).await.unwrap_err();
    assert!(refused(e), "tampered block accepted");

    // A valid block proposed for another register's address.
    let other = OwnerBlock::create(&c.user, b"elsewhere".to_vec()).unwrap();
    let payload = Payload::new(1, Block::Mutable(other.clone()).encode().unwrap());
    let e = writer.write(address, Some(2), payload).await.unwrap_err();
    assert!(refused(e), "misaddressed block accepted");

    // Version 1 again on top of version 2: a rollback.
    let payload = Payload::new(1, Block::Mutable(v1.clone()).encode().unwrap());
    let e = writer.write(address, Some(2), payload).await.unwrap_err();
    assert!(refused(e), "rollback accepted");

    // The same at creation, where version 1 goes out at round 0 without
    // a prepare: a tampered first version, another block under a new
    // address, and a read-only member creating a block are refused, and
    // none leaves anything behind at the address.
    let fresh = OwnerBlock::create(&c.user, b"new".to_vec()).unwrap();
    let mut tampered = fresh.clone();
    tampered.data = b"NEW".to_vec();
    let e = writer.store(Block::Mutable(tampered), Expect::Absent).await.unwrap_err();
    assert!(refused(e), "tampered first version accepted");
    let payload = Payload::new(1, Block::Mutable(other.clone()).encode().unwrap());
    let e = writer.write(fresh.address(), None, payload).await.unwrap_err();
    assert!(refused(e), "misaddressed first version accepted");
    let e = c.nodes[3].consensus.store(Block::Mutable(fresh.clone()), Expect::Absent).await.unwrap_err();
    assert!(matches!(e, ConsensusError::Unauthorized(_)), "read-only member created a block: {e}");
    assert_eq!(writer.fetch_block(fresh.address()).await.unwrap(), None, "a refused creation left a value");
    writer.store(Block::Mutable(fresh.clone()), Expect::Absent).await.unwrap();
    assert_eq!(c.nodes[3].consensus.fetch_block(fresh.address()).await.unwrap(), Some(Block::Mutable(fresh)));

    // A member whose passport is read-only: every replica refuses it.
    let reader = c.nodes[3].consensus.clone();
    let v3 = v2.update(&c.user, b"three".to_vec()).unwrap();
    let e = reader.store(Block::Mutable(v3.clone()), Expect::Version(2)).await.unwrap_err();
    assert!(matches!(e, ConsensusError::Unauthorized(_)), "read-only member wrote: {e}");
    let chunk = Block::Content(ContentBlock::new(None, b"from a reader".to_vec()));
    assert!(matches!(reader.store(chunk, Expect::Absent).await, Err(ConsensusError::Unauthorized(_))));
    // It still reads, and nothing changed.
    assert_eq!(reader.fetch_block(address).await.unwrap(), Some(Block::Mutable(v2.clone())));
    writer.store(Block::Mutable(v3.clone()), Expect::Version(2)).await.unwrap();
    assert_eq!(reader.fetch_block(address).await.unwrap(), Some(Block::Mutable(v3)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_damaged_in_every_replica_is_never_returned() {
    let c = cluster(3, 0).await;
    let chunk = Block::Content(ContentBlock::new(None, b"precious".to_vec()));
    c.nodes[0].consensus.store(chunk.clone(), Expect::Absent).await.unwrap();
    let address = chunk.address();
    let silo = |i: usize| c.nodes[i].replica.as_ref().unwrap().silo().clone();
    on_every_replica(&c, address, true).await;
    // One damaged copy: the others answer.
    let mut damaged = chunk.encode().unwrap();
    let last = damaged.len() - 1;
    damaged[last] ^= 1;
    silo(0).set(address, damaged.clone(), crate::runtime::silo::SetMode::Update).await.unwrap();
    for node in &c.nodes {
        assert_eq!(node.consensus.fetch_block(address).await.unwrap(), Some(chunk.clone()));
    }
    // Every copy damaged: an error, never the damaged bytes.
    for i in 1..3 {
        silo(i).set(address, damaged.clone(), crate::runtime::silo::SetMode::Update).await.unwrap();
    }
    assert!(c.nodes[1].consensus.fetch(address, ReadLevel::Latest).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_naming_the_wrong_owner_of_a_chunk_does_not_stop_its_removal() {
    let c = cluster(3, 0).await;
    let node = c.nodes[0].consensus.clone();
    let file = AclBlock::create(&c.user, AccessList::default(), b"file").unwrap();
    node.store_next(Block::Acl(file.clone())).await.unwrap();
    let chunk = Block::Content(ContentBlock::new(Some(file.address()), vec![7; 200 << 10]));
    let address = chunk.address();
    node.store(chunk.clone(), Expect::Absent).await.unwrap();
    let silo = |i: usize| c.nodes[i].replica.as_ref().unwrap().silo().clone();
    on_every_replica(&c, address, true).await;
    // Node 0's copy names another owner in its first bytes. Asked by
    // itself, it answers first: the removal is tried with that owner,
    // refused by the honest replicas, and made again with the owner read
    // from a verified copy of the chunk.
    let mut lying = chunk.encode().unwrap();
    let at = lying.windows(32).position(|w| w == file.address().0).expect("the owner is in the encoding");
    lying[at..at + 32].copy_from_slice(&[0xab; 32]);
    silo(0).set(address, lying, crate::runtime::silo::SetMode::Update).await.unwrap();
    node.remove(Tombstone::for_content(&c.user, address)).await.unwrap();
    for i in 1..3 {
        let gone = silo(i).get(address).await;
        assert!(matches!(gone, Err(crate::runtime::silo::SiloError::NotFound { .. })), "node {i} kept the chunk");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunk_removal_right_after_its_file_grants_a_writer_uses_the_new_grant() {
    let c = cluster(3, 0).await;
    let node = c.nodes[1].consensus.clone();
    let v1 = AclBlock::create(&c.user, AccessList::default(), b"file").unwrap();
    node.store_next(Block::Acl(v1.clone())).await.unwrap();
    let chunk = |n: u8| ContentBlock::new(Some(v1.address()), vec![n; 100 << 10]);
    let (first, kept, second) = (chunk(1), chunk(3), chunk(2));
    for c in [&first, &kept, &second] {
        node.store(Block::Content(c.clone()), Expect::Absent).await.unwrap();
    }
    // Removing the first chunk keeps the file's header for the next
    // removals: the next one fetches nothing (the owner comes from the
    // chunks' first bytes, the header from memory).
    let started = std::time::Instant::now();
    node.remove(Tombstone::for_content(&c.user, first.address())).await.unwrap();
    let fetches =
        || -> u64 { c.nodes[..3].iter().filter_map(|n| n.replica.as_ref()).map(|r| r.fetches_answered()).sum() };
    // The header was read from every replica; the answers past the
    // majority the first removal waited for may still be on their way.
    let settled = std::time::Instant::now();
    while fetches() < 3 && settled.elapsed() < Duration::from_secs(1) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let before = fetches();
    node.remove(Tombstone::for_content(&c.user, kept.address())).await.unwrap();
    // Only if both removals fit in the time a header is kept (a loaded
    // machine can take longer: the header is then rightly fetched again).
    if started.elapsed() < super::OWNER_KEPT {
        assert_eq!(fetches(), before, "the file's header was fetched again for the next chunk");
    }
    // The file grants a new writer, who removes the second chunk at once:
    // refused with the header kept, the removal is made again with the
    // latest one.
    let writer = KeyPair::generate().unwrap();
    let access = AccessList { entries: vec![AclEntry::new(writer.public(), true, true)], ..AccessList::default() };
    let v2 = v1.set_access(&c.user, access).unwrap();
    node.store(Block::Acl(v2), Expect::Version(1)).await.unwrap();
    node.remove(Tombstone::for_content(&writer, second.address())).await.unwrap();
    on_every_replica(&c, second.address(), false).await;
}

/// Latency of one compare-and-swap through consensus, for `bench/cluster.sh`:
/// `cargo test --release --lib cas_latency -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: run by bench/cluster.sh"]
async fn cas_latency() {
    let c = cluster(3, 1).await;
    for (who, node) in [("a storage node", 0usize), ("a client", 3)] {
        let consensus = c.nodes[node].consensus.clone();
        let mut current = OwnerBlock::create(&c.user, 0u64.to_le_bytes().to_vec()).unwrap();
        consensus.store_next(Block::Mutable(current.clone())).await.unwrap();
        let mut samples = Vec::new();
        for i in 1..=500u64 {
            let next = current.update(&c.user, i.to_le_bytes().to_vec()).unwrap();
            let started = std::time::Instant::now();
            consensus.store(Block::Mutable(next.clone()), Expect::Version(current.version)).await.unwrap();
            samples.push(started.elapsed());
            current = next;
        }
        samples.sort();
        let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
        eprintln!(
            "cas latency from {who}: p50 {:.2} ms, p99 {:.2} ms over {} compare-and-swaps of one block",
            at(0.5).as_secs_f64() * 1e3,
            at(0.99).as_secs_f64() * 1e3,
            samples.len()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_of_any_copy_asks_one_replica_and_the_others_only_when_it_is_down() {
    let c = cluster(3, 1).await;
    let client = c.nodes[3].consensus.clone();
    let chunk = Block::Content(ContentBlock::new(None, b"read me once".to_vec()));
    client.store(chunk.clone(), Expect::Absent).await.unwrap();
    let answered = |c: &Cluster| -> Vec<u64> {
        c.nodes[..3].iter().map(|n| n.replica.as_ref().map_or(0, |r| r.fetches_answered())).collect()
    };
    // A first answer slower than the hedge delay (a loaded machine running
    // the whole suite) rightly asks the others too: a few tries, one must
    // have asked a single replica.
    let mut tries = Vec::new();
    let (before, after) = loop {
        let before = answered(&c);
        let read = client.fetch(chunk.address(), ReadLevel::Any).await.unwrap();
        assert!(matches!(&read, Fetched::Found(b) if *b == chunk), "{read:?}");
        let after = answered(&c);
        let asked: u64 = after.iter().zip(&before).map(|(a, b)| a - b).sum();
        tries.push(format!("{before:?} → {after:?}"));
        if asked == 1 {
            break (before, after);
        }
        assert!(tries.len() < 3, "one replica asked, not all of them: {tries:?}");
    };

    // The replica asked first goes away: the read still succeeds through the others.
    let first = after.iter().zip(&before).position(|(a, b)| a > b).unwrap();
    c.nodes[first].stop();
    let read = client.fetch(chunk.address(), ReadLevel::Any).await.unwrap();
    assert!(matches!(&read, Fetched::Found(b) if *b == chunk), "{read:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_replica_gets_a_chunk_even_after_a_majority_answered() {
    let c = cluster(3, 1).await;
    let client = c.nodes[3].consensus.clone();
    let chunks: Vec<Block> =
        (0..24u8).map(|i| Block::Content(ContentBlock::new(None, vec![i; 256 * 1024 + usize::from(i)]))).collect();
    for chunk in &chunks {
        client.store(chunk.clone(), Expect::Absent).await.unwrap();
    }
    // The third copy of each arrives after the call returned: give it a moment.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let mut missing = 0;
        for node in &c.nodes[..3] {
            let silo = node.replica.as_ref().unwrap().silo();
            for chunk in &chunks {
                if silo.get(chunk.address()).await.is_err() {
                    missing += 1;
                }
            }
        }
        if missing == 0 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{missing} copies of 72 never reached their replica");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
