//! Membership and placement: which nodes form the network, which of them
//! are alive, where each one listens, and which of them hold a block.
//!
//! - Every node signs a [`NodeRecord`] about itself (key, credentials,
//!   endpoints, capacity); records spread by push-pull gossip (each second
//!   a node swaps what it knows with a random live peer) and are believed
//!   only once their signature and credentials check (`record.rs`).
//! - Liveness comes from SWIM (`foca`, sans-IO) over QUIC datagrams in the
//!   `gossip` overlay: members are alive, suspect or down. The `static`
//!   overlay has no probes: a peer is alive while a connection to it is.
//! - Placement (`placement.rs`) ranks the known storage nodes for a block
//!   address; it counts every known storage member, alive or not, so a
//!   node going down never makes a block look absent: its replica set
//!   stays the same and answers come from the rest of it.

pub mod placement;
pub mod record;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::time::Duration;

use foca::{AccumulatingRuntime, Config, Foca, Identity, OwnedNotification, PostcardCodec};
use rand::SeedableRng as _;
use serde::{Deserialize, Serialize};

pub use placement::Candidate;
pub use record::{Credentials, Gatekeeper, Membership, NodeRecord, RecordFields};

use crate::crypto::{KeyPair, PublicKey};
use crate::runtime::block::Address;
use crate::runtime::rpc::{Channel, PeerId, Rpc};

/// How often records are swapped with a random peer.
const GOSSIP_INTERVAL: Duration = Duration::from_secs(1);
/// How often bootstrap peers are dialed again while none is reachable.
const BOOTSTRAP_RETRY: Duration = Duration::from_secs(2);
/// How long a record exchange may take.
const EXCHANGE_DEADLINE: Duration = Duration::from_secs(5);
/// SWIM packets must fit one QUIC datagram (about 1,200 bytes of payload).
const MAX_PACKET: usize = 1100;

/// How members are found and watched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverlayKind {
    /// SWIM probes and record gossip (the default).
    Gossip,
    /// A fixed list of peers; alive while connected.
    Static,
}

/// What a node knows of a member's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Liveness {
    /// Heard of, never reached.
    Unknown,
    /// Answering.
    Alive,
    /// Missed probes; may be down.
    Suspect,
    /// Not answering.
    Down,
}

/// A member as this node sees it.
#[derive(Debug, Clone)]
pub struct Member {
    /// What it says about itself.
    pub record: NodeRecord,
    /// What its passport allows.
    pub membership: Membership,
    /// Its health.
    pub state: Liveness,
}

/// How an overlay is set up.
#[derive(Debug, Clone)]
pub struct OverlaySettings {
    /// Gossip or static.
    pub kind: OverlayKind,
    /// This node's key.
    pub keys: KeyPair,
    /// What makes this node a member.
    pub credentials: Credentials,
    /// Checks the credentials of others.
    pub gatekeeper: Arc<dyn Gatekeeper>,
    /// This node stores blocks.
    pub stores: bool,
    /// Bytes this node offers.
    pub capacity: Option<u64>,
    /// Host names this node is reached at (`--advertise-host`); none: the
    /// address it listens on, or the one peers see it connect from.
    pub advertise: Vec<String>,
    /// Peers to dial at start (`host:port`, each resolved to all its addresses).
    pub bootstrap: Vec<String>,
    /// File of known peers, read at start and kept up to date.
    pub peers_file: Option<PathBuf>,
}

/// Messages overlays exchange.
#[derive(Debug, Serialize, Deserialize)]
pub enum OverlayMessage {
    /// The records one side knows (a request, and its reply).
    Records(Vec<NodeRecord>),
}

/// The SWIM identity of a node: its id and a bump raised when it rejoins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
struct SwimId {
    id: [u8; 32],
    bump: u16,
}

impl Identity for SwimId {
    type Addr = [u8; 32];

    fn renew(&self) -> Option<Self> {
        Some(SwimId { id: self.id, bump: self.bump.wrapping_add(1) })
    }

    fn addr(&self) -> [u8; 32] {
        self.id
    }

    fn win_addr_conflict(&self, adversary: &Self) -> bool {
        self.bump > adversary.bump
    }
}

type Swim = Foca<SwimId, PostcardCodec, rand::rngs::SmallRng, foca::NoCustomBroadcast>;

/// The membership of one network, as one node sees it.
pub struct Overlay {
    settings: OverlaySettings,
    me: PeerId,
    mine: Mutex<NodeRecord>,
    /// What this node's own passport allows (checked like anyone's).
    own: Option<Membership>,
    members: Mutex<HashMap<PeerId, Member>>,
    swim: Mutex<Option<Swim>>,
    rpc: OnceLock<Weak<Rpc>>,
    /// Bytes this node stores now (for its record).
    used: Mutex<Box<dyn Fn() -> u64 + Send + Sync>>,
    /// Peers learned while running (a hub's endpoint list), dialed like
    /// the bootstrap peers.
    found: Mutex<Vec<String>>,
}

impl std::fmt::Debug for Overlay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Overlay").field("me", &self.me).field("members", &lock(&self.members).len()).finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A sequence number that grows across restarts: records of a restarted
/// node must outrank the ones it sent before.
fn initial_seq() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_millis() as u64)
}

impl Overlay {
    /// An overlay for the node in `settings`, not connected yet ([`Overlay::attach`]).
    pub fn new(settings: OverlaySettings) -> Arc<Overlay> {
        let me = PeerId(settings.keys.public().fingerprint());
        let network = settings.gatekeeper.network().to_string();
        let fields = RecordFields {
            endpoints: Vec::new(),
            stores: settings.stores,
            capacity: settings.capacity,
            used: 0,
            seq: initial_seq(),
        };
        let mine = NodeRecord::sign(&network, &settings.keys, settings.credentials.clone(), fields);
        let swim = (settings.kind == OverlayKind::Gossip).then(|| {
            let mut config = Config::new_lan(std::num::NonZeroU32::MIN.saturating_add(15));
            config.max_packet_size = std::num::NonZeroUsize::new(MAX_PACKET).unwrap_or(std::num::NonZeroUsize::MIN);
            let seed = u64::from_le_bytes(me.0[..8].try_into().unwrap_or_default()) ^ initial_seq();
            Foca::new(SwimId { id: me.0, bump: 0 }, config, rand::rngs::SmallRng::seed_from_u64(seed), PostcardCodec)
        });
        let own = match settings.gatekeeper.check(&settings.keys.public(), &settings.credentials) {
            Ok(m) => Some(m),
            Err(why) => {
                tracing::error!("this node's own credentials do not check: {why}");
                None
            }
        };
        Arc::new(Overlay {
            settings,
            me,
            mine: Mutex::new(mine),
            own,
            members: Mutex::new(HashMap::new()),
            swim: Mutex::new(swim),
            rpc: OnceLock::new(),
            used: Mutex::new(Box::new(|| 0)),
            found: Mutex::new(Vec::new()),
        })
    }

    /// This node's id.
    pub fn me(&self) -> PeerId {
        self.me
    }

    /// The network's name.
    pub fn network(&self) -> &str {
        self.settings.gatekeeper.network()
    }

    /// Report this node's stored bytes through `used` in its record.
    pub fn set_usage(&self, used: impl Fn() -> u64 + Send + Sync + 'static) {
        *lock(&self.used) = Box::new(used);
    }

    fn rpc(&self) -> Option<Arc<Rpc>> {
        self.rpc.get().and_then(Weak::upgrade)
    }

    /// Start gossiping over `rpc`: sign this node's record with its
    /// endpoints, dial the bootstrap peers, and run the periodic tasks.
    pub fn attach(self: &Arc<Self>, rpc: &Arc<Rpc>) {
        let _ = self.rpc.set(Arc::downgrade(rpc));
        let port = rpc.local_addr().map(|a| a.port()).unwrap_or(0);
        let mut endpoints: Vec<SocketAddr> = Vec::new();
        for host in &self.settings.advertise {
            match (host.as_str(), port).to_socket_addrs_all() {
                Ok(addrs) => endpoints.extend(addrs),
                Err(e) => tracing::warn!("--advertise-host {host}: {e}"),
            }
        }
        if endpoints.is_empty()
            && let Ok(local) = rpc.local_addr()
            && !local.ip().is_unspecified()
        {
            endpoints.push(local);
        }
        endpoints.dedup();
        self.resign(|f| f.endpoints = endpoints);
        let me = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut last_used = 0;
            let mut ticks = 0u64;
            loop {
                let Some(overlay) = me.upgrade() else { break };
                let lonely = !overlay.has_live_peer();
                if lonely || ticks.is_multiple_of(30) {
                    overlay.bootstrap().await;
                }
                overlay.gossip_round().await;
                if ticks.is_multiple_of(10) {
                    let used = (lock(&overlay.used))();
                    if used != last_used {
                        last_used = used;
                        overlay.resign(|f| f.used = used);
                    }
                    overlay.save_peers();
                }
                if overlay.settings.kind == OverlayKind::Static {
                    overlay.check_connections();
                }
                ticks += 1;
                drop(overlay);
                tokio::time::sleep(if lonely { BOOTSTRAP_RETRY } else { GOSSIP_INTERVAL }).await;
            }
        });
    }

    /// Sign this node's record again with `change` applied.
    fn resign(&self, change: impl FnOnce(&mut RecordFields)) {
        let mut mine = lock(&self.mine);
        let mut fields = RecordFields {
            endpoints: mine.endpoints.clone(),
            stores: mine.stores,
            capacity: mine.capacity,
            used: mine.used,
            seq: mine.seq + 1,
        };
        change(&mut fields);
        *mine = NodeRecord::sign(self.network(), &self.settings.keys, self.settings.credentials.clone(), fields);
    }

    /// This node's record.
    pub fn record(&self) -> NodeRecord {
        lock(&self.mine).clone()
    }

    /// This node's hello: its record.
    pub fn hello(&self) -> Vec<u8> {
        postcard::to_allocvec(&self.record()).unwrap_or_default()
    }

    /// Check a connecting peer's hello (its record): the key it proved in
    /// TLS, the record's signature and its credentials.
    pub fn admit(self: &Arc<Self>, tls_key: &[u8; 32], remote: SocketAddr, hello: &[u8]) -> Result<PeerId, String> {
        let record: NodeRecord = postcard::from_bytes(hello).map_err(|e| format!("unreadable hello: {e}"))?;
        if record.node.ed25519 != *tls_key {
            return Err("the hello names another node key than the one proven in TLS".into());
        }
        let id = record.id();
        if id == self.me {
            return Err("that is this very node".into());
        }
        let id = self.learn(record, Some(remote))?;
        self.set_state(id, Liveness::Alive);
        self.swim(|swim, rt| swim.announce(SwimId { id: id.0, bump: 0 }, rt));
        Ok(id)
    }

    /// Believe `record` if it is newer than what is known and checks out;
    /// `seen_at`: the address the node was seen connecting from.
    fn learn(&self, mut record: NodeRecord, seen_at: Option<SocketAddr>) -> Result<PeerId, String> {
        let id = record.id();
        if id == self.me {
            return Ok(id);
        }
        let known =
            lock(&self.members).get(&id).map(|m| (m.record.seq, m.record.credentials.clone(), m.membership.clone()));
        if let Some((seq, _, _)) = &known
            && *seq >= record.seq
            && seen_at.is_none()
        {
            return Ok(id);
        }
        record.verify_signature(self.network()).map_err(|why| {
            tracing::warn!("node {id}: {why}");
            why
        })?;
        let membership = match known {
            Some((_, credentials, membership)) if credentials == record.credentials => membership,
            _ => self.settings.gatekeeper.check(&record.node, &record.credentials).map_err(|why| {
                tracing::warn!("node {id} refused: {why}");
                why
            })?,
        };
        if record.endpoints.is_empty()
            && let Some(addr) = seen_at
        {
            record.endpoints.push(addr);
        }
        if let Some(rpc) = self.rpc() {
            rpc.set_addresses(id, record.endpoints.clone());
        }
        let mut members = lock(&self.members);
        match members.get_mut(&id) {
            Some(m) if m.record.seq >= record.seq => {}
            Some(m) => {
                m.record = record;
                m.membership = membership;
            }
            None => {
                tracing::info!("node {id} of user \"{}\" joined the network", membership.user_name);
                members.insert(id, Member { record, membership, state: Liveness::Unknown });
            }
        }
        Ok(id)
    }

    fn set_state(&self, id: PeerId, state: Liveness) {
        if let Some(m) = lock(&self.members).get_mut(&id)
            && m.state != state
        {
            tracing::info!("node {id} is {state:?}");
            m.state = state;
        }
    }

    /// Whether some other member answers.
    pub fn has_live_peer(&self) -> bool {
        lock(&self.members).values().any(|m| matches!(m.state, Liveness::Alive | Liveness::Suspect))
    }

    /// Answer an overlay message from `from`.
    pub fn handle(&self, _from: PeerId, message: OverlayMessage) -> OverlayMessage {
        match message {
            OverlayMessage::Records(records) => {
                for record in records {
                    let _ = self.learn(record, None);
                }
                OverlayMessage::Records(self.records())
            }
        }
    }

    /// Every record known, this node's first.
    fn records(&self) -> Vec<NodeRecord> {
        let mut all = vec![self.record()];
        all.extend(lock(&self.members).values().map(|m| m.record.clone()));
        all
    }

    /// Swap records with one random live peer.
    async fn gossip_round(self: &Arc<Self>) {
        let Some(rpc) = self.rpc() else { return };
        let peers: Vec<PeerId> =
            lock(&self.members).iter().filter(|(_, m)| !matches!(m.state, Liveness::Down)).map(|(id, _)| *id).collect();
        if peers.is_empty() {
            return;
        }
        let pick = peers[(rand_index() as usize) % peers.len()];
        let Ok(body) = Channel::Overlay.encode(&OverlayMessage::Records(self.records())) else { return };
        match rpc.call(pick, &body, EXCHANGE_DEADLINE).await {
            Ok(reply) => match postcard::from_bytes::<OverlayMessage>(&reply) {
                Ok(OverlayMessage::Records(records)) => {
                    for record in records {
                        let _ = self.learn(record, None);
                    }
                    if self.settings.kind == OverlayKind::Static {
                        self.set_state(pick, Liveness::Alive);
                    }
                }
                Err(e) => tracing::debug!("node {pick} sent unreadable records: {e}"),
            },
            Err(e) => {
                tracing::debug!("gossip with node {pick}: {e}");
                if self.settings.kind == OverlayKind::Static {
                    self.set_state(pick, Liveness::Down);
                }
            }
        }
    }

    /// Peers to dial (`HOST:PORT`) found while running, e.g. through a
    /// hub: they replace the previous such list and are dialed now and
    /// with the bootstrap peers from then on. They are only addresses: a
    /// node there is admitted by its credentials, as any other.
    pub async fn found_peers(self: &Arc<Self>, targets: Vec<String>) {
        let changed = {
            let mut found = lock(&self.found);
            let changed = *found != targets;
            *found = targets;
            changed
        };
        if changed {
            self.bootstrap().await;
        }
    }

    /// Dial the bootstrap peers (and the peers file's, and those found
    /// since) not connected yet.
    pub(crate) async fn bootstrap(self: &Arc<Self>) {
        let Some(rpc) = self.rpc() else { return };
        let mut targets = self.settings.bootstrap.clone();
        if let Some(file) = &self.settings.peers_file {
            targets.extend(read_peers_file(file));
        }
        targets.extend(lock(&self.found).iter().cloned());
        // A member already connected at that address needs no new connection.
        let connected: std::collections::HashSet<SocketAddr> = lock(&self.members)
            .iter()
            .filter(|(id, _)| rpc.is_connected(id))
            .flat_map(|(_, m)| m.record.endpoints.iter().copied())
            .collect();
        targets.sort();
        targets.dedup();
        for target in targets {
            let addrs = match tokio::net::lookup_host(target.as_str()).await {
                Ok(addrs) => addrs.collect::<Vec<_>>(),
                Err(e) => {
                    tracing::warn!("peer {target}: cannot resolve it: {e}");
                    continue;
                }
            };
            for addr in addrs {
                if lock(&self.mine).endpoints.contains(&addr) || connected.contains(&addr) {
                    continue;
                }
                match rpc.connect(addr).await {
                    Ok(id) => tracing::debug!("peer {target} ({addr}) is node {id}"),
                    Err(e) => tracing::debug!("peer {target} ({addr}): {e}"),
                }
            }
        }
    }

    /// Static overlay: a member is alive while its connection is open.
    fn check_connections(&self) {
        let Some(rpc) = self.rpc() else { return };
        let ids: Vec<PeerId> = lock(&self.members).keys().copied().collect();
        for id in ids {
            if rpc.is_connected(&id) {
                self.set_state(id, Liveness::Alive);
            }
        }
    }

    /// A peer's connection closed (static overlay: it is down until it answers again).
    pub fn disconnected(&self, peer: PeerId) {
        if self.settings.kind == OverlayKind::Static {
            self.set_state(peer, Liveness::Down);
        }
    }

    /// Keep the known endpoints in the peers file, if there is one.
    fn save_peers(&self) {
        let Some(file) = &self.settings.peers_file else { return };
        let mut lines: Vec<String> =
            lock(&self.members).values().flat_map(|m| m.record.endpoints.iter().map(|e| e.to_string())).collect();
        lines.sort();
        lines.dedup();
        let text = lines.iter().map(|l| format!("{l}\n")).collect::<String>();
        if std::fs::read_to_string(file).ok().as_deref() == Some(text.as_str()) {
            return;
        }
        let tmp = file.with_extension("tmp");
        if let Err(e) = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, file)) {
            tracing::warn!("cannot keep the known peers in {}: {e}", file.display());
        }
    }

    /// A SWIM datagram from `from`.
    pub fn datagram(self: &Arc<Self>, _from: PeerId, body: &[u8]) {
        self.swim(|swim, rt| swim.handle_data(body, rt));
    }

    /// Run `f` on the SWIM state machine, then carry out what it asked.
    fn swim(self: &Arc<Self>, f: impl FnOnce(&mut Swim, &mut AccumulatingRuntime<SwimId>) -> Result<(), foca::Error>) {
        let mut rt = AccumulatingRuntime::new();
        {
            let mut swim = lock(&self.swim);
            let Some(swim) = swim.as_mut() else { return };
            if let Err(e) = f(swim, &mut rt) {
                tracing::debug!("membership protocol: {e}");
            }
        }
        self.drain(rt);
    }

    fn drain(self: &Arc<Self>, mut rt: AccumulatingRuntime<SwimId>) {
        while let Some(notification) = rt.to_notify() {
            match notification {
                OwnedNotification::MemberUp(id) => self.set_state(PeerId(id.id), Liveness::Alive),
                OwnedNotification::MemberDown(id) => self.set_state(PeerId(id.id), Liveness::Down),
                OwnedNotification::Rename(_, id) => self.set_state(PeerId(id.id), Liveness::Alive),
                _ => {}
            }
        }
        if let Some(rpc) = self.rpc() {
            while let Some((to, data)) = rt.to_send() {
                let peer = PeerId(to.id);
                if !rpc.datagram(peer, &data) {
                    // Not connected: dial, then send (SWIM tolerates the delay).
                    let rpc = rpc.clone();
                    tokio::spawn(async move {
                        if rpc.dial(peer).await.is_ok() {
                            rpc.datagram(peer, &data);
                        }
                    });
                }
            }
        }
        while let Some((after, timer)) = rt.to_schedule() {
            let me = Arc::downgrade(self);
            tokio::spawn(async move {
                tokio::time::sleep(after).await;
                if let Some(overlay) = me.upgrade() {
                    overlay.swim(|swim, rt| swim.handle_timer(timer, rt));
                }
            });
        }
        // Refresh suspicion states, which SWIM does not notify.
        let states: Vec<(PeerId, foca::State)> = {
            let swim = lock(&self.swim);
            swim.as_ref()
                .map(|s| s.iter_membership_state().map(|m| (PeerId(m.id().id), m.state())).collect())
                .unwrap_or_default()
        };
        for (id, state) in states {
            let state = match state {
                foca::State::Alive => Liveness::Alive,
                foca::State::Suspect => Liveness::Suspect,
                foca::State::Down => Liveness::Down,
            };
            self.set_state(id, state);
        }
    }

    /// Every member but this node.
    pub fn members(&self) -> Vec<(PeerId, Member)> {
        lock(&self.members).iter().map(|(id, m)| (*id, m.clone())).collect()
    }

    /// A member's health (this node is always alive).
    pub fn state(&self, id: &PeerId) -> Liveness {
        if *id == self.me {
            return Liveness::Alive;
        }
        lock(&self.members).get(id).map_or(Liveness::Unknown, |m| m.state)
    }

    /// A member's node key.
    pub fn node_key(&self, id: &PeerId) -> Option<PublicKey> {
        if *id == self.me {
            return Some(self.settings.keys.public());
        }
        lock(&self.members).get(id).map(|m| m.record.node)
    }

    /// A member's rights (this node's own too).
    pub fn membership(&self, id: &PeerId) -> Option<Membership> {
        if *id == self.me {
            return self.own.clone();
        }
        lock(&self.members).get(id).map(|m| m.membership.clone())
    }

    /// The storage nodes placement ranks: every member that stores and may
    /// store, alive or not (this node too, if it stores).
    pub fn storage_nodes(&self) -> Vec<Candidate> {
        let mut all: Vec<Candidate> = lock(&self.members)
            .iter()
            .filter(|(_, m)| m.record.stores && m.membership.storage)
            .map(|(id, m)| Candidate { id: *id, capacity: m.record.capacity })
            .collect();
        if self.settings.stores {
            all.push(Candidate { id: self.me, capacity: self.settings.capacity });
        }
        all
    }

    /// The `k` nodes holding `address`.
    pub fn replicas(&self, address: &Address, k: usize) -> Vec<PeerId> {
        placement::replicas(address, &self.storage_nodes(), k)
    }

    /// Whether this node stores blocks.
    pub fn stores(&self) -> bool {
        self.settings.stores
    }

    /// Leave: tell the others (best effort).
    pub fn leave(self: &Arc<Self>) {
        self.swim(|swim, rt| swim.leave_cluster(rt));
    }
}

/// A random index (gossip target).
fn rand_index() -> u64 {
    let mut b = [0u8; 8];
    let _ = getrandom::fill(&mut b);
    u64::from_le_bytes(b)
}

/// The `host:port` lines of a peers file (blank lines and `#` comments skipped).
fn read_peers_file(file: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(file)
        .map(|text| {
            text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(str::to_string).collect()
        })
        .unwrap_or_default()
}

/// Resolve to every address, not only the first.
trait ResolveAll {
    fn to_socket_addrs_all(&self) -> std::io::Result<Vec<SocketAddr>>;
}

impl ResolveAll for (&str, u16) {
    fn to_socket_addrs_all(&self) -> std::io::Result<Vec<SocketAddr>> {
        use std::net::ToSocketAddrs as _;
        Ok(self.to_socket_addrs()?.collect())
    }
}

#[cfg(test)]
mod tests;
