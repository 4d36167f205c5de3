//! Node-to-node transport: QUIC (quinn over rustls, ring provider). Both
//! ends prove their Ed25519 node key in the TLS handshake (`tls.rs`), then
//! exchange a hello on the connection's first stream, which the layer above
//! checks ([`Service::admit`]: the user's certificate of the node key, the
//! passport for this network). Only then does a connection carry
//! requests: one framed request and one framed reply per stream
//! (`frame.rs`), each under a deadline — or, for small requests with small
//! replies queued for one peer at the same moment, one batch of them per
//! stream ([`Rpc::call_batched`]) — and unreliable datagrams (the
//! membership protocol's probes).
//!
//! This layer knows nothing of blocks or membership: bodies are bytes the
//! [`Service`] above encodes, and peers are [`PeerId`]s it admitted.

pub mod frame;
pub mod tls;

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::crypto::KeyPair;

/// A node, as the layer above names it (the fingerprint of its node key).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct PeerId(pub [u8; 32]);

impl std::fmt::Debug for PeerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", &crate::crypto::hash::hex(&self.0)[..12])
    }
}

impl std::fmt::Display for PeerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

/// Which layer a request is for: the first byte of every request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Channel {
    /// Membership records.
    Overlay = 1,
    /// Blocks and consensus.
    Blocks = 2,
}

impl Channel {
    /// `message` encoded as a request body of this channel.
    pub fn encode<T: serde::Serialize>(self, message: &T) -> Result<Vec<u8>, postcard::Error> {
        // Written after the channel byte, not copied there (a chunk is 1 MiB).
        postcard::to_io(message, vec![self as u8])
    }

    /// The channel of a request body, and the rest of it.
    pub fn split(body: &[u8]) -> Option<(Channel, &[u8])> {
        let (first, rest) = body.split_first()?;
        let channel = match first {
            1 => Channel::Overlay,
            2 => Channel::Blocks,
            _ => return None,
        };
        Some((channel, rest))
    }
}

/// A boxed future of a reply body.
pub type Reply = Pin<Box<dyn Future<Output = Vec<u8>> + Send>>;

/// What runs on top of the transport.
pub trait Service: Send + Sync + 'static {
    /// This node's hello, sent on every new connection.
    fn hello(&self) -> Vec<u8>;
    /// Check the hello of a peer that proved it holds node key `tls_key`
    /// and connected from `remote`: its id, or why it is refused.
    fn admit(&self, tls_key: &[u8; 32], remote: SocketAddr, hello: &[u8]) -> Result<PeerId, String>;
    /// Answer a request from an admitted peer.
    fn request(&self, from: PeerId, body: Vec<u8>) -> Reply;
    /// A datagram from an admitted peer.
    fn datagram(&self, from: PeerId, body: &[u8]);
    /// An admitted peer's connection closed.
    fn disconnected(&self, _peer: PeerId) {}
}

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    #[error("cannot listen on {addr}: {why}")]
    Bind { addr: SocketAddr, why: String },
    #[error("cannot reach {addr}: {why}")]
    Connect { addr: SocketAddr, why: String },
    #[error("peer at {addr} refused: {why}")]
    Refused { addr: SocketAddr, why: String },
    #[error("no known address reaches node {0}")]
    Unreachable(PeerId),
    #[error("node {peer}: {why}")]
    Lost { peer: PeerId, why: String },
    #[error("node {peer} did not answer within {after:?}")]
    Timeout { peer: PeerId, after: Duration },
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
}

impl RpcError {
    /// Whether the peer might have received and acted on the request.
    pub fn maybe_delivered(&self) -> bool {
        matches!(self, RpcError::Lost { .. } | RpcError::Timeout { .. })
    }
}

/// How long a connection attempt with its hello may take.
const HANDSHAKE: Duration = Duration::from_secs(5);
/// Keep-alive and idle timeout: a silent peer's connection closes after this.
const KEEP_ALIVE: Duration = Duration::from_secs(2);
const IDLE: Duration = Duration::from_secs(8);
/// After a failed dial, how long calls to that peer fail without dialing.
const REDIAL: Duration = Duration::from_secs(1);

/// The live connections and known addresses of peers.
#[derive(Default)]
struct Peers {
    connections: HashMap<PeerId, quinn::Connection>,
    addresses: HashMap<PeerId, Vec<SocketAddr>>,
    /// One dial at a time per peer: later callers wait for its outcome.
    dialing: HashMap<PeerId, Arc<tokio::sync::Mutex<()>>>,
    /// When the last dial of a peer failed: calls fail at once for
    /// [`REDIAL`] instead of each waiting out a handshake with a dead node.
    failed: HashMap<PeerId, Instant>,
}

/// A node's QUIC endpoint.
pub struct Rpc {
    endpoint: quinn::Endpoint,
    client: quinn::ClientConfig,
    service: Arc<dyn Service>,
    peers: Mutex<Peers>,
    /// Peers cut off by [`Rpc::partition`]: their messages are dropped.
    cut: Mutex<std::collections::HashSet<PeerId>>,
    /// Connections being served (both directions), open or closing.
    served: std::sync::atomic::AtomicUsize,
    /// Small requests waiting to go to a peer together ([`Rpc::call_batched`]).
    batches: Mutex<HashMap<PeerId, Vec<Pending>>>,
    /// Batch frames sent (each with more than one request).
    batch_frames: std::sync::atomic::AtomicUsize,
}

/// A request waiting in a batch, and where its reply goes.
struct Pending {
    body: bytes::Bytes,
    until: Instant,
    reply: tokio::sync::oneshot::Sender<Result<Vec<u8>, RpcError>>,
}

/// Requests one batch carries at most.
const BATCH_MAX: usize = 32;
/// The largest body [`Rpc::call_batched`] batches; larger ones go alone.
pub const BATCH_BODY_MAX: usize = 64 << 10;

impl std::fmt::Debug for Rpc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rpc").field("addr", &self.endpoint.local_addr().ok()).finish_non_exhaustive()
    }
}

fn transport() -> Arc<quinn::TransportConfig> {
    let mut t = quinn::TransportConfig::default();
    t.keep_alive_interval(Some(KEEP_ALIVE));
    // (8 s fits quinn's VarInt range.)
    t.max_idle_timeout(Some(quinn::IdleTimeout::try_from(IDLE).unwrap_or(quinn::VarInt::from_u32(8_000).into())));
    t.max_concurrent_bidi_streams(quinn::VarInt::from_u32(1024));
    t.datagram_receive_buffer_size(Some(1 << 20));
    // MTU discovery searches up to what the peer advertises, quinn's
    // default of 1,472 bytes (above its own default bound of 1,452):
    // packets stay Ethernet-sized (GSO and GRO batch them ten at a time
    // through the kernel). Advertising 16 or
    // 64 KiB was measured on loopback (2026-12-07) and dropped: bursts of
    // large packets overflowed socket buffers, black-hole detection reset
    // paths to 1,200 bytes, and 512 MiB through three nodes went from
    // 101–110 to 93–104 MB/s written and 292 to 245–256 MB/s read.
    let mut mtu = quinn::MtuDiscoveryConfig::default();
    let advertised = quinn::EndpointConfig::default().get_max_udp_payload_size();
    mtu.upper_bound(u16::try_from(advertised).unwrap_or(u16::MAX));
    t.mtu_discovery_config(Some(mtu));
    Arc::new(t)
}

/// Socket buffers asked for (the kernel caps them at `net.core.rmem_max`
/// and `wmem_max`). Its default, about 200 KiB, holds a fifth of a 1 MiB
/// chunk: a burst of chunks to one node overflowed it, and every dropped
/// packet made QUIC's congestion control slow the connection down
/// (thousands of drops per GiB written).
const UDP_BUFFER: usize = 8 << 20;

/// A UDP socket on `addr` with buffers as large as the kernel allows up
/// to [`UDP_BUFFER`]; says once in the log when the kernel holds them much
/// lower (what to raise is `net.core.rmem_max`).
fn udp_socket(addr: SocketAddr) -> std::io::Result<std::net::UdpSocket> {
    let socket = std::net::UdpSocket::bind(addr)?;
    let options = socket2::SockRef::from(&socket);
    // Best effort: a smaller buffer only costs speed.
    let _ = options.set_recv_buffer_size(UDP_BUFFER);
    let _ = options.set_send_buffer_size(UDP_BUFFER);
    static SAID: std::sync::Once = std::sync::Once::new();
    if let Ok(got) = options.recv_buffer_size()
        && got < UDP_BUFFER / 4
    {
        SAID.call_once(|| {
            tracing::info!(
                "the kernel keeps UDP receive buffers at {} KiB: transfers between nodes are faster with `sysctl -w net.core.rmem_max={UDP_BUFFER}`",
                got / 1024
            )
        });
    }
    Ok(socket)
}

/// A QUIC endpoint on `addr` (see [`udp_socket`]).
fn endpoint(server: quinn::ServerConfig, addr: SocketAddr) -> std::io::Result<quinn::Endpoint> {
    let runtime = quinn::default_runtime()
        .ok_or_else(|| std::io::Error::other("no async runtime to run the QUIC endpoint on"))?;
    quinn::Endpoint::new(quinn::EndpointConfig::default(), Some(server), udp_socket(addr)?, runtime)
}

impl Rpc {
    /// Listen on `addr` as the node holding `keys`, serving `service`.
    pub fn bind(addr: SocketAddr, keys: &KeyPair, service: Arc<dyn Service>) -> Result<Arc<Rpc>, RpcError> {
        let (mut server, mut client) = tls::quic_configs(keys)?;
        server.transport_config(transport());
        client.transport_config(transport());
        let endpoint = endpoint(server, addr).map_err(|e| RpcError::Bind { addr, why: e.to_string() })?;
        let rpc = Arc::new(Rpc {
            endpoint,
            client,
            service,
            peers: Mutex::new(Peers::default()),
            cut: Mutex::new(std::collections::HashSet::new()),
            served: std::sync::atomic::AtomicUsize::new(0),
            batches: Mutex::new(HashMap::new()),
            batch_frames: std::sync::atomic::AtomicUsize::new(0),
        });
        let accepting = Arc::downgrade(&rpc);
        let endpoint = rpc.endpoint.clone();
        tokio::spawn(async move {
            while let Some(incoming) = endpoint.accept().await {
                let Some(rpc) = accepting.upgrade() else { break };
                tokio::spawn(async move { rpc.accepted(incoming).await });
            }
        });
        Ok(rpc)
    }

    /// The address this node listens on.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.endpoint.local_addr()
    }

    fn peers(&self) -> MutexGuard<'_, Peers> {
        self.peers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Remember where `peer` can be reached (tried in order when dialing).
    pub fn set_addresses(&self, peer: PeerId, addresses: Vec<SocketAddr>) {
        self.peers().addresses.insert(peer, addresses);
    }

    /// How many connections this node serves (to any peer, either way).
    pub fn open_connections(&self) -> usize {
        self.served.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How many batch frames ([`Rpc::call_batched`]) this node has sent.
    pub fn batch_frames_sent(&self) -> usize {
        self.batch_frames.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether a connection to `peer` is open.
    pub fn is_connected(&self, peer: &PeerId) -> bool {
        self.peers().connections.get(peer).is_some_and(|c| c.close_reason().is_none())
    }

    /// Drop every message to and from `peers` from now on, silently, as a
    /// network partition does (calls to them time out; their requests get
    /// no answer); [`Rpc::heal`] ends it. For fault-injection tests.
    pub fn partition(&self, peers: impl IntoIterator<Item = PeerId>) {
        self.cut.lock().unwrap_or_else(|e| e.into_inner()).extend(peers);
    }

    /// End [`Rpc::partition`].
    pub fn heal(&self) {
        self.cut.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    fn is_cut(&self, peer: &PeerId) -> bool {
        self.cut.lock().unwrap_or_else(|e| e.into_inner()).contains(peer)
    }

    /// Stop: close every connection and the endpoint.
    pub fn close(&self) {
        self.endpoint.close(quinn::VarInt::from_u32(0), b"node stopping");
    }

    async fn accepted(self: Arc<Self>, incoming: quinn::Incoming) {
        let remote = incoming.remote_address();
        let setup = async {
            let connection = incoming.await.map_err(|e| e.to_string())?;
            let (mut send, mut recv) = connection.accept_bi().await.map_err(|e| e.to_string())?;
            let hello = frame::recv(&mut recv).await.map_err(|e| e.to_string())?;
            let key = tls::peer_key(&connection).ok_or("no node key in the TLS handshake")?;
            match self.service.admit(&key, remote, &hello) {
                Ok(peer) => {
                    frame::send(&mut send, &self.service.hello()).await.map_err(|e| e.to_string())?;
                    Ok((connection, peer))
                }
                Err(why) => {
                    connection.close(quinn::VarInt::from_u32(1), why.as_bytes());
                    Err(why)
                }
            }
        };
        match tokio::time::timeout(HANDSHAKE, setup).await {
            Ok(Ok((connection, peer))) => self.serve(connection, peer),
            Ok(Err(why)) => tracing::warn!("refused a connection from {remote}: {why}"),
            Err(_) => tracing::debug!("a connection from {remote} did not complete its hello in time"),
        }
    }

    /// Register `connection` to `peer` and answer what arrives on it.
    fn serve(self: &Arc<Self>, connection: quinn::Connection, peer: PeerId) {
        let old = {
            let mut peers = self.peers();
            peers.failed.remove(&peer);
            peers.connections.insert(peer, connection.clone())
        };
        if let Some(old) = old.filter(|o| o.stable_id() != connection.stable_id()) {
            // Both ends dialed at once: keep serving the old one until it closes.
            drop(old);
        }
        self.served.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let rpc = Arc::downgrade(self);
        let streams = connection.clone();
        tokio::spawn(async move {
            while let Ok((mut send, mut recv)) = streams.accept_bi().await {
                let Some(rpc) = rpc.upgrade() else { break };
                tokio::spawn(async move {
                    if rpc.is_cut(&peer) {
                        // Partitioned: the request is lost, the caller times
                        // out. (Without holding the node: a stopped node lets
                        // go of its state at once.)
                        drop(rpc);
                        tokio::time::sleep(IDLE * 4).await;
                        drop((send, recv));
                        return;
                    }
                    let sent = match frame::recv_frame(&mut recv).await {
                        Ok(frame::Frame::One(body)) => {
                            let reply = rpc.service.request(peer, body).await;
                            frame::send(&mut send, &reply).await
                        }
                        Ok(frame::Frame::Batch(bodies)) => {
                            let replies = bodies.into_iter().map(|body| rpc.service.request(peer, body));
                            let replies = futures_util::future::join_all(replies).await;
                            frame::send_batch(&mut send, replies.into_iter().map(bytes::Bytes::from).collect()).await
                        }
                        Err(_) => return,
                    };
                    if let Err(e) = sent {
                        tracing::debug!("reply to {peer} lost: {e}");
                    }
                });
            }
            if let Some(rpc) = rpc.upgrade() {
                rpc.served.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
                let mut peers = rpc.peers();
                if peers.connections.get(&peer).is_some_and(|c| c.stable_id() == streams.stable_id()) {
                    peers.connections.remove(&peer);
                    drop(peers);
                    rpc.service.disconnected(peer);
                }
            }
        });
        let rpc = Arc::downgrade(self);
        tokio::spawn(async move {
            while let Ok(datagram) = connection.read_datagram().await {
                let Some(rpc) = rpc.upgrade() else { break };
                if !rpc.is_cut(&peer) {
                    rpc.service.datagram(peer, &datagram);
                }
            }
        });
    }

    /// Dial `addr` and complete the hello: the peer's id.
    pub async fn connect(self: &Arc<Self>, addr: SocketAddr) -> Result<PeerId, RpcError> {
        let failed = |why: String| RpcError::Connect { addr, why };
        let setup = async {
            let connecting =
                self.endpoint.connect_with(self.client.clone(), addr, "infinit").map_err(|e| failed(e.to_string()))?;
            let connection = connecting.await.map_err(|e| failed(e.to_string()))?;
            let (mut send, mut recv) = connection.open_bi().await.map_err(|e| failed(e.to_string()))?;
            frame::send(&mut send, &self.service.hello()).await.map_err(|e| failed(e.to_string()))?;
            let hello = match frame::recv(&mut recv).await {
                Ok(hello) => hello,
                Err(e) => {
                    let why = match connection.close_reason() {
                        Some(quinn::ConnectionError::ApplicationClosed(c)) => {
                            String::from_utf8_lossy(&c.reason).into_owned()
                        }
                        _ => e.to_string(),
                    };
                    return Err(RpcError::Refused { addr, why });
                }
            };
            let key = tls::peer_key(&connection).ok_or_else(|| failed("no node key in the TLS handshake".into()))?;
            let peer = self.service.admit(&key, addr, &hello).map_err(|why| {
                connection.close(quinn::VarInt::from_u32(1), why.as_bytes());
                RpcError::Refused { addr, why }
            })?;
            Ok((connection, peer))
        };
        let (connection, peer) = tokio::time::timeout(HANDSHAKE, setup)
            .await
            .map_err(|_| failed(format!("no hello within {HANDSHAKE:?}")))??;
        self.serve(connection, peer);
        Ok(peer)
    }

    /// A live connection to `peer`, dialing its known addresses if needed.
    async fn connection(self: &Arc<Self>, peer: PeerId) -> Result<quinn::Connection, RpcError> {
        if let Some(c) = self.peers().connections.get(&peer).filter(|c| c.close_reason().is_none()) {
            return Ok(c.clone());
        }
        let lock = self.peers().dialing.entry(peer).or_default().clone();
        let _dialing = lock.lock().await;
        {
            let peers = self.peers();
            if let Some(c) = peers.connections.get(&peer).filter(|c| c.close_reason().is_none()) {
                return Ok(c.clone());
            }
            if peers.failed.get(&peer).is_some_and(|at| at.elapsed() < REDIAL) {
                return Err(RpcError::Unreachable(peer));
            }
        }
        let addresses = self.peers().addresses.get(&peer).cloned().unwrap_or_default();
        for addr in addresses {
            match self.connect(addr).await {
                Ok(id) if id == peer => {
                    let mut peers = self.peers();
                    if let Some(c) = peers.connections.get(&peer).cloned() {
                        peers.failed.remove(&peer);
                        return Ok(c);
                    }
                }
                Ok(other) => tracing::debug!("{addr} answered as node {other}, not {peer}"),
                Err(e) => tracing::debug!("dialing node {peer}: {e}"),
            }
        }
        self.peers().failed.insert(peer, Instant::now());
        Err(RpcError::Unreachable(peer))
    }

    /// Make sure a connection to `peer` is open (dialing its known addresses).
    pub async fn dial(self: &Arc<Self>, peer: PeerId) -> Result<(), RpcError> {
        self.connection(peer).await.map(|_| ())
    }

    /// Send `body` to `peer` and wait at most `deadline` for its reply.
    pub async fn call(self: &Arc<Self>, peer: PeerId, body: &[u8], deadline: Duration) -> Result<Vec<u8>, RpcError> {
        self.call_shared(peer, bytes::Bytes::copy_from_slice(body), deadline).await
    }

    /// A new stream to `peer` (dialing it if needed), for one exchange.
    async fn stream_to(self: &Arc<Self>, peer: PeerId) -> Result<(quinn::SendStream, quinn::RecvStream), RpcError> {
        let connection = self.connection(peer).await?;
        connection.open_bi().await.map_err(|e| RpcError::Lost { peer, why: e.to_string() })
    }

    /// [`Rpc::call`] with a body shared without copying (one body sent to
    /// several peers).
    pub async fn call_shared(
        self: &Arc<Self>,
        peer: PeerId,
        body: bytes::Bytes,
        deadline: Duration,
    ) -> Result<Vec<u8>, RpcError> {
        if self.is_cut(&peer) {
            tokio::time::sleep(deadline).await;
            return Err(RpcError::Timeout { peer, after: deadline });
        }
        let exchange = async {
            let (mut send, mut recv) = self.stream_to(peer).await?;
            let lost = |why: String| RpcError::Lost { peer, why };
            frame::send_shared(&mut send, body).await.map_err(|e| lost(e.to_string()))?;
            frame::recv(&mut recv).await.map_err(|e| lost(e.to_string()))
        };
        tokio::time::timeout(deadline, exchange).await.map_err(|_| RpcError::Timeout { peer, after: deadline })?
    }

    /// [`Rpc::call_shared`] for a request whose reply is small, sent in
    /// one stream with the other small requests to `peer` queued at the
    /// same moment (a flush storing many blocks: one message per node
    /// instead of one per block). Nothing waits for a batch to fill: the
    /// first request of a batch leaves as soon as the task sending it
    /// runs, with whatever joined it by then. A body over
    /// [`BATCH_BODY_MAX`] goes alone.
    pub async fn call_batched(
        self: &Arc<Self>,
        peer: PeerId,
        body: bytes::Bytes,
        deadline: Duration,
    ) -> Result<Vec<u8>, RpcError> {
        if body.len() > BATCH_BODY_MAX || self.is_cut(&peer) {
            return self.call_shared(peer, body, deadline).await;
        }
        let (reply, replied) = tokio::sync::oneshot::channel();
        let first = {
            let mut batches = self.batches.lock().unwrap_or_else(|e| e.into_inner());
            let queue = batches.entry(peer).or_default();
            queue.push(Pending { body, until: Instant::now() + deadline, reply });
            queue.len() == 1
        };
        if first {
            self.dispatch_batch(peer);
        }
        match tokio::time::timeout(deadline, replied).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(RpcError::Lost { peer, why: "the batch carrying the request was dropped".into() }),
            Err(_) => Err(RpcError::Timeout { peer, after: deadline }),
        }
    }

    /// Send what waits for `peer` (up to [`BATCH_MAX`] requests; a task
    /// of its own for the rest) from a task of its own.
    fn dispatch_batch(self: &Arc<Self>, peer: PeerId) {
        let rpc = self.clone();
        tokio::spawn(async move {
            // Let the callers polled with the first one join it.
            tokio::task::yield_now().await;
            let (batch, more) = {
                let mut batches = rpc.batches.lock().unwrap_or_else(|e| e.into_inner());
                let Some(queue) = batches.get_mut(&peer) else { return };
                let batch: Vec<Pending> = queue.drain(..queue.len().min(BATCH_MAX)).collect();
                let more = !queue.is_empty();
                if !more {
                    batches.remove(&peer);
                }
                (batch, more)
            };
            if more {
                rpc.dispatch_batch(peer);
            }
            let Some(until) = batch.iter().map(|p| p.until).max() else { return };
            let deadline = until.saturating_duration_since(Instant::now());
            let (bodies, replies): (Vec<bytes::Bytes>, Vec<_>) = batch.into_iter().map(|p| (p.body, p.reply)).unzip();
            if bodies.len() == 1 {
                let result = rpc.call_shared(peer, bodies.into_iter().next().unwrap_or_default(), deadline).await;
                if let Some(reply) = replies.into_iter().next() {
                    let _ = reply.send(result);
                }
                return;
            }
            let count = bodies.len();
            rpc.batch_frames.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let exchange = async {
                let (mut send, mut recv) = rpc.stream_to(peer).await?;
                let lost = |why: String| RpcError::Lost { peer, why };
                frame::send_batch(&mut send, bodies).await.map_err(|e| lost(e.to_string()))?;
                match frame::recv_frame(&mut recv).await.map_err(|e| lost(e.to_string()))? {
                    frame::Frame::Batch(answers) if answers.len() == count => Ok(answers),
                    _ => Err(lost(format!("a batch of {count} requests was not answered with {count} replies"))),
                }
            };
            match tokio::time::timeout(deadline, exchange).await {
                Ok(Ok(answers)) => {
                    for (reply, answer) in replies.into_iter().zip(answers) {
                        let _ = reply.send(Ok(answer));
                    }
                }
                Ok(Err(e)) => {
                    let why = e.to_string();
                    for reply in replies {
                        let _ = reply.send(Err(match &e {
                            RpcError::Unreachable(p) => RpcError::Unreachable(*p),
                            _ => RpcError::Lost { peer, why: why.clone() },
                        }));
                    }
                }
                Err(_) => {
                    for reply in replies {
                        let _ = reply.send(Err(RpcError::Timeout { peer, after: deadline }));
                    }
                }
            }
        });
    }

    /// Send a datagram to `peer` if a connection is open (best effort).
    pub fn datagram(&self, peer: PeerId, body: &[u8]) -> bool {
        if self.is_cut(&peer) {
            return true;
        }
        let connection = self.peers().connections.get(&peer).cloned();
        connection.is_some_and(|c| c.send_datagram(bytes::Bytes::copy_from_slice(body)).is_ok())
    }

    /// The largest datagram a connection to `peer` carries now.
    pub fn max_datagram(&self, peer: PeerId) -> Option<usize> {
        self.peers().connections.get(&peer).and_then(|c| c.max_datagram_size())
    }
}

#[cfg(test)]
mod tests;
