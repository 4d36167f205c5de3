//! A node of a network of many: its QUIC endpoint, its view of the
//! membership, its replica of the blocks it stores (if it stores), and the
//! [`Replicated`] consensus the file system runs on. Requests that arrive
//! are dispatched by channel: membership records to the overlay, block and
//! register messages to the replica.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::consensus::paxos::RedbStore;
use super::consensus::replicated::message::{BlockReply, BlockRequest, Refused};
use super::consensus::replicated::{GroupCommit, Replica, Replicated};
use super::overlay::{Credentials, Gatekeeper, Liveness, Overlay, OverlayKind, OverlayMessage, OverlaySettings};
use super::rpc::{Channel, PeerId, Reply, Rpc, RpcError, Service};
use super::silo::Silo;
use crate::crypto::KeyPair;

/// How a network node is set up.
#[derive(Debug, Clone)]
pub struct NetworkSpec {
    /// The node's key (certified by its user).
    pub keys: KeyPair,
    /// What makes it a member.
    pub credentials: Credentials,
    /// Checks other members.
    pub gatekeeper: Arc<dyn Gatekeeper>,
    /// Gossip or static.
    pub overlay: OverlayKind,
    /// Replicas per block.
    pub replication: usize,
    /// Address to listen on (port 0: any free port).
    pub listen: SocketAddr,
    /// Host names to advertise.
    pub advertise: Vec<String>,
    /// Peers to dial at start.
    pub peers: Vec<String>,
    /// File of known peers, kept up to date.
    pub peers_file: Option<PathBuf>,
    /// File the listening port is written to once bound.
    pub port_file: Option<PathBuf>,
    /// The acceptor state file of a storage node.
    pub acceptors: PathBuf,
}

/// Why a network node could not start or serve.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    #[error(transparent)]
    Rpc(#[from] RpcError),
    #[error("acceptor state {path}: {why}")]
    Acceptors { path: PathBuf, why: String },
    #[error("cannot write the port file {path}: {why}")]
    PortFile { path: PathBuf, why: String },
    #[error(
        "only {known} of the {needed} storage nodes a block needs are known after {waited:?} (is a peer given with --peer reachable?)"
    )]
    TooFewNodes { known: usize, needed: usize, waited: Duration },
}

/// The rpc service of a node: the overlay and the replica behind one endpoint.
struct NodeService {
    overlay: Arc<Overlay>,
    replica: Option<Arc<Replica>>,
}

impl Service for NodeService {
    fn hello(&self) -> Vec<u8> {
        self.overlay.hello()
    }

    fn admit(&self, tls_key: &[u8; 32], remote: SocketAddr, hello: &[u8]) -> Result<PeerId, String> {
        self.overlay.admit(tls_key, remote, hello)
    }

    fn request(&self, from: PeerId, body: Vec<u8>) -> Reply {
        let overlay = self.overlay.clone();
        let replica = self.replica.clone();
        Box::pin(async move {
            match Channel::split(&body) {
                Some((Channel::Overlay, rest)) => match postcard::from_bytes::<OverlayMessage>(rest) {
                    Ok(message) => postcard::to_allocvec(&overlay.handle(from, message)).unwrap_or_default(),
                    Err(e) => {
                        tracing::warn!("node {from} sent an unreadable overlay message: {e}");
                        Vec::new()
                    }
                },
                Some((Channel::Blocks, rest)) => {
                    let reply = match (postcard::from_bytes::<BlockRequest>(rest), replica) {
                        (Ok(request), Some(replica)) => replica.handle(from, request).await,
                        (Ok(_), None) => BlockReply::Refused(Refused::NotStoring),
                        (Err(e), _) => BlockReply::Refused(Refused::Invalid(format!("unreadable request: {e}"))),
                    };
                    postcard::to_allocvec(&reply).unwrap_or_default()
                }
                None => Vec::new(),
            }
        })
    }

    fn datagram(&self, from: PeerId, body: &[u8]) {
        self.overlay.datagram(from, body);
    }

    fn disconnected(&self, peer: PeerId) {
        self.overlay.disconnected(peer);
    }
}

/// A running network node.
#[derive(Debug, Clone)]
pub struct NetworkNode {
    /// The transport.
    pub rpc: Arc<Rpc>,
    /// The membership.
    pub overlay: Arc<Overlay>,
    /// This node's replica, when it stores.
    pub replica: Option<Arc<Replica>>,
    /// The consensus over the network.
    pub consensus: Arc<Replicated>,
    replication: usize,
}

/// What `network inspect` shows of a node.
#[derive(Debug, Clone, Serialize)]
pub struct Inspection {
    /// This node.
    pub node: PeerInfo,
    /// The others.
    pub peers: Vec<PeerInfo>,
    /// Blocks and registers this node stores.
    pub blocks: u64,
    /// Of those, how many have fewer live replicas than the replication factor.
    pub under_replicated: u64,
    /// Replicas per block.
    pub replication_factor: usize,
}

/// One member as `network inspect` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct PeerInfo {
    /// Node id (hex).
    pub id: String,
    /// Its user.
    pub user: String,
    /// Where it listens.
    pub endpoints: Vec<String>,
    /// Alive, suspect, down or unknown.
    pub state: Liveness,
    /// It stores blocks.
    pub stores: bool,
    /// Bytes it stores.
    pub used: u64,
    /// Bytes it offers (`None`: unlimited).
    pub capacity: Option<u64>,
}

impl NetworkNode {
    /// Start the node: open the acceptor state if it stores (`silo`), bind
    /// the endpoint, write the port file, and start gossiping.
    pub async fn start(
        spec: &NetworkSpec,
        silo: Option<Arc<dyn Silo>>,
        capacity: Option<u64>,
    ) -> Result<NetworkNode, NetworkError> {
        let overlay = Overlay::new(OverlaySettings {
            kind: spec.overlay,
            keys: spec.keys.clone(),
            credentials: spec.credentials.clone(),
            gatekeeper: spec.gatekeeper.clone(),
            stores: silo.is_some(),
            capacity,
            advertise: spec.advertise.clone(),
            bootstrap: spec.peers.clone(),
            peers_file: spec.peers_file.clone(),
        });
        let replica = match silo {
            Some(silo) => {
                let path = spec.acceptors.clone();
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| NetworkError::Acceptors { path: path.clone(), why: e.to_string() })?;
                }
                let store = RedbStore::open(&path)
                    .map_err(|e| NetworkError::Acceptors { path: path.clone(), why: e.to_string() })?;
                let counted = silo.clone();
                overlay.set_usage(move || counted.usage());
                Some(Arc::new(Replica::new(
                    spec.keys.clone(),
                    silo,
                    GroupCommit::new(Arc::new(store)),
                    overlay.clone(),
                )))
            }
            None => None,
        };
        let service = Arc::new(NodeService { overlay: overlay.clone(), replica: replica.clone() });
        let rpc = Rpc::bind(spec.listen, &spec.keys, service)?;
        if let Some(path) = &spec.port_file {
            let port = rpc.local_addr().map(|a| a.port()).unwrap_or(0);
            let tmp = path.with_extension("tmp");
            std::fs::write(&tmp, format!("{port}\n"))
                .and_then(|()| std::fs::rename(&tmp, path))
                .map_err(|e| NetworkError::PortFile { path: path.clone(), why: e.to_string() })?;
        }
        overlay.attach(&rpc);
        let consensus = Arc::new(Replicated::new(rpc.clone(), overlay.clone(), spec.replication, replica.clone()));
        Ok(NetworkNode { rpc, overlay, replica, consensus, replication: spec.replication })
    }

    /// The address the node listens on.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.rpc.local_addr().ok()
    }

    /// Wait until the node knows enough storage nodes to place blocks as
    /// every other node does (the replication factor, or all there are
    /// once a peer's view was merged): deciding "absent" from a partial view
    /// could make a new, empty volume over an existing one.
    pub async fn wait_for_storage(&self, patience: Duration) -> Result<(), NetworkError> {
        let started = Instant::now();
        loop {
            let known = self.overlay.storage_nodes().len();
            let peers_alive = self.overlay.members().iter().any(|(_, m)| m.state == Liveness::Alive);
            if known >= self.replication && (peers_alive || self.replication <= 1) {
                // One more gossip round so this view includes the peer's.
                tokio::time::sleep(Duration::from_millis(1500)).await;
                return Ok(());
            }
            if started.elapsed() > patience {
                return Err(NetworkError::TooFewNodes { known, needed: self.replication, waited: patience });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// This node's view of the network.
    pub async fn inspect(&self) -> Inspection {
        let info = |id: PeerId, record: &super::overlay::NodeRecord, user: String, state: Liveness| PeerInfo {
            id: crate::crypto::hash::hex(&id.0),
            user,
            endpoints: record.endpoints.iter().map(|e| e.to_string()).collect(),
            state,
            stores: record.stores,
            used: record.used,
            capacity: record.capacity,
        };
        let me = self.overlay.me();
        let mine = self.overlay.record();
        let node = info(me, &mine, "this node".into(), Liveness::Alive);
        let mut peers: Vec<PeerInfo> = self
            .overlay
            .members()
            .into_iter()
            .map(|(id, m)| info(id, &m.record, m.membership.user_name.clone(), m.state))
            .collect();
        peers.sort_by(|a, b| a.id.cmp(&b.id));
        let (mut blocks, mut under) = (0, 0);
        if let Some(replica) = &self.replica {
            let mut addresses: Vec<super::block::Address> = replica.registers().into_iter().map(|(a, _)| a).collect();
            if let Ok(list) = replica.silo().list().await {
                addresses.extend(list);
            }
            for address in addresses {
                blocks += 1;
                let live = self
                    .overlay
                    .replicas(&address, self.replication)
                    .iter()
                    .filter(|id| self.overlay.state(id) == Liveness::Alive)
                    .count();
                if live < self.replication {
                    under += 1;
                }
            }
        }
        Inspection { node, peers, blocks, under_replicated: under, replication_factor: self.replication }
    }

    /// Answer `network inspect` on the unix socket at `path` (replacing a
    /// stale one): each connection gets the inspection as one JSON line.
    pub fn serve_inspection(&self, path: PathBuf) -> std::io::Result<()> {
        let _ = std::fs::remove_file(&path);
        let listener = tokio::net::UnixListener::bind(&path)?;
        let node = self.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let node = node.clone();
                tokio::spawn(async move {
                    use tokio::io::AsyncWriteExt as _;
                    let mut line = serde_json::to_vec(&node.inspect().await).unwrap_or_default();
                    line.push(b'\n');
                    let _ = stream.write_all(&line).await;
                });
            }
        });
        Ok(())
    }

    /// Leave the network and close the endpoint.
    pub fn stop(&self) {
        self.overlay.leave();
        self.rpc.close();
    }
}

/// A node on loopback (any port) for tests in process: a fresh node key
/// certified by `user`, presenting `passport` to `gatekeeper`, keeping
/// three replicas, its acceptor state in `dir` (file `i`).
#[cfg(test)]
pub(crate) fn test_spec(
    dir: &std::path::Path,
    i: usize,
    user: &KeyPair,
    peers: Vec<String>,
    passport: &[u8],
    gatekeeper: Arc<dyn Gatekeeper>,
) -> NetworkSpec {
    NetworkSpec {
        keys: KeyPair::generate().expect("a node key"),
        credentials: Credentials { user: user.public(), certificate: user.sign(b"node"), passport: passport.to_vec() },
        gatekeeper,
        overlay: OverlayKind::Gossip,
        replication: 3,
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        advertise: vec![],
        peers,
        peers_file: None,
        port_file: None,
        acceptors: dir.join(format!("acceptors-{i}.redb")),
    }
}
