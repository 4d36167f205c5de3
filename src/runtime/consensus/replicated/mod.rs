//! The consensus of a network of many nodes: every block lives on the
//! `replication_factor` storage nodes placement ranks first for its
//! address ([`Overlay::replicas`]), and the file system above cannot tell
//! it from a single node.
//!
//! - **Immutable blocks** are stored on all of their replicas and
//!   acknowledged once a majority kept them; read from the first replica
//!   that has them and checked against their address.
//! - **Mutable blocks** are one CASPaxos register each (the sans-IO core in
//!   [`super::paxos`], driven here; the acceptors are the [`Replica`]s). A
//!   store is a compare-and-swap on the expected version; a removal is a
//!   compare-and-swap to the signed tombstone.
//! - **Removals of immutable blocks** need the block's owner (a chunk's
//!   file), whose current header goes along to authorize them: the
//!   replicas name it from the chunk's first bytes ([`BlockRequest::Owner`]),
//!   so deleting a file does not move its data. That answer cannot be
//!   verified, so a removal refused with it is made again with the owner
//!   read from a copy of the chunk checked against its address. A header
//!   fetched for one removal serves the next ones for two seconds.
//! - **Reads** ask every replica what it holds in one round trip: a
//!   majority of a register's replicas reporting the very same accepted
//!   ballot and value means that value is chosen and the latest (any newer
//!   chosen value would show at one of them); otherwise a Paxos read
//!   settles it, completing a half-done write first.
//! - **Failures**: too few replicas answering is [`ConsensusError::Unavailable`],
//!   never "absent"; a write whose accept went out but whose outcome is
//!   unknown is [`ConsensusError::Indeterminate`].
//!
//! A replica that is this node is called in process, not over the wire.

pub mod message;
pub mod replica;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use futures_util::stream::FuturesUnordered;

use self::message::{BlockReply, BlockRequest, Held, OwnerOf, Refused};
pub use self::replica::{GroupCommit, Replica};
use super::paxos::{
    self, Accepted, Change, Decided, NodeId, Operation, PaxosError, Payload, Proposer, ReplicaSet, Step,
};
use super::{Consensus, ConsensusError, ConsensusFuture, Expect, Fetched, ReadLevel, Usage};
use crate::runtime::block::{Address, Block, BlockError, Tombstone};
use crate::runtime::overlay::{Liveness, Overlay};
use crate::runtime::rpc::{Channel, PeerId, Rpc};

/// How long one operation may take before it fails.
pub const DEADLINE: Duration = Duration::from_secs(5);
/// How long a read of any copy waits for the first replica asked before
/// asking them all.
const HEDGE: Duration = Duration::from_millis(250);

/// The consensus over a network's storage nodes.
pub struct Replicated {
    me: PeerId,
    rpc: Arc<Rpc>,
    overlay: Arc<Overlay>,
    /// Replicas per block.
    factor: usize,
    /// This node's replica, when it stores.
    local: Option<Arc<Replica>>,
    deadline: Duration,
    /// The highest ballot round seen on each register this node proposed
    /// to: the next proposal starts above it instead of being turned down
    /// by the promise of the previous one (bounded; forgotten when full).
    rounds: std::sync::Mutex<HashMap<Address, u64>>,
    /// New registers this node sent a round-0 accept for whose outcome it
    /// does not know: any later store into them goes through prepare, so
    /// round 0 never carries two values (see [`Proposer::with_genesis`]).
    /// Kept until the creation is known to be chosen.
    created: std::sync::Mutex<std::collections::HashSet<Address>>,
    /// The owner blocks (encoded) that removals of chunks sent along
    /// lately: removing a file's chunks fetches its header once, not once
    /// per chunk.
    owners: std::sync::Mutex<VecDeque<KeptOwner>>,
}

/// An owner block sent along with a removal: its address, when it was
/// fetched, and its encoding.
type KeptOwner = (Address, Instant, Arc<Vec<u8>>);

/// How long an owner block fetched for a removal is sent along for others.
/// An older version of it authorizes no more than the replicas allow: they
/// check the removal against the owner block they are sent, whichever
/// version it is, so this is a matter of cost, not of rights.
const OWNER_KEPT: Duration = Duration::from_secs(2);
/// Owner blocks kept for removals, at most.
const OWNERS_KEPT: usize = 16;

/// Registers whose last round is remembered, at most.
const ROUNDS_KEPT: usize = 1 << 16;

impl std::fmt::Debug for Replicated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replicated").field("me", &self.me).field("factor", &self.factor).finish_non_exhaustive()
    }
}

/// What one replica answered.
type Answer = (PeerId, Result<BlockReply, String>);

fn node(id: PeerId) -> NodeId {
    NodeId(id.0)
}

fn peer(id: NodeId) -> PeerId {
    PeerId(id.0)
}

fn corrupt(address: Address, why: impl std::fmt::Display) -> ConsensusError {
    ConsensusError::Corrupt { address, why: why.to_string() }
}

/// The block in a register's value.
/// Ask `to` as node `me`: in process if `to` is this node (its `local`
/// replica), else over `rpc` with `body`, the encoded `request` (encoded
/// here if not given), by `until`.
async fn ask_via(
    me: PeerId,
    rpc: &Arc<Rpc>,
    local: Option<&Arc<Replica>>,
    to: PeerId,
    request: &BlockRequest,
    body: Option<bytes::Bytes>,
    until: Instant,
) -> Result<BlockReply, String> {
    if to == me {
        return match local {
            Some(replica) => Ok(replica.handle(me, request.clone()).await),
            None => Err("this node stores nothing".into()),
        };
    }
    let body = match body {
        Some(body) => body,
        None => bytes::Bytes::from(Channel::Blocks.encode(request).map_err(|e| e.to_string())?),
    };
    let left = until.saturating_duration_since(Instant::now()).max(Duration::from_millis(1));
    // Requests with small replies share a stream with the others queued
    // for the same node (a flush's accepts of new headers, removals).
    let small_reply = matches!(
        request,
        BlockRequest::Put { .. }
            | BlockRequest::Remove { .. }
            | BlockRequest::Paxos { request: paxos::Request::Accept(_), .. }
    );
    let reply =
        if small_reply { rpc.call_batched(to, body, left).await } else { rpc.call_shared(to, body, left).await }
            .map_err(|e| e.to_string())?;
    postcard::from_bytes(&reply).map_err(|e| format!("unreadable reply: {e}"))
}

fn decode_value(address: Address, payload: &Payload) -> Result<Block, ConsensusError> {
    let block = Block::decode(&payload.bytes).map_err(|e| corrupt(address, e))?;
    if block.address() != address || block.version() != payload.version {
        return Err(corrupt(address, "a replica holds another block for this register"));
    }
    block.validate_alone(&address).map_err(|e| corrupt(address, e))?;
    Ok(block)
}

fn fetched(block: Block) -> Fetched {
    Fetched::from_stored(Some(block))
}

/// A replica's refusal, as the consensus contract says it.
fn refusal(address: Address, refused: Refused) -> ConsensusError {
    match refused {
        Refused::Invalid(why) => ConsensusError::Refused(BlockError::Invalid { address, why }),
        Refused::Unauthorized(why) => {
            tracing::warn!("block {address}: refused by a replica: {why}");
            ConsensusError::Unauthorized(BlockError::Denied { address, key: why, action: "store this block" })
        }
        Refused::Conflict(bytes) => match Block::decode(&bytes) {
            Ok(current) => ConsensusError::Conflict { address, current: Box::new(current) },
            Err(e) => corrupt(address, e),
        },
        Refused::Removed => ConsensusError::Removed { address },
        Refused::Storage(why) => ConsensusError::Indeterminate { address, why: format!("a replica failed: {why}") },
        Refused::NotStoring => ConsensusError::Unavailable { reached: 0, needed: 1 },
    }
}

impl Replicated {
    /// The consensus of the node `overlay` describes, over `rpc`, keeping
    /// `factor` replicas of each block; `local` is this node's replica.
    pub fn new(rpc: Arc<Rpc>, overlay: Arc<Overlay>, factor: usize, local: Option<Arc<Replica>>) -> Replicated {
        Replicated {
            me: overlay.me(),
            rpc,
            overlay,
            factor: factor.max(1),
            local,
            deadline: DEADLINE,
            rounds: std::sync::Mutex::new(HashMap::new()),
            created: std::sync::Mutex::new(std::collections::HashSet::new()),
            owners: std::sync::Mutex::new(VecDeque::new()),
        }
    }

    /// Fail operations after `deadline` instead of [`DEADLINE`].
    pub fn with_deadline(mut self, deadline: Duration) -> Replicated {
        self.deadline = deadline;
        self
    }

    /// The replicas of `address`.
    fn replicas(&self, address: &Address) -> Vec<PeerId> {
        self.overlay.replicas(address, self.factor)
    }

    /// Ask `to` (in process if it is this node).
    async fn ask(&self, to: PeerId, request: &BlockRequest, until: Instant) -> Result<BlockReply, String> {
        ask_via(self.me, &self.rpc, self.local.as_ref(), to, request, None, until).await
    }

    /// Ask `to` from a task of its own: dropping the handle does not
    /// cancel the request, so it reaches its replica even after the caller
    /// has the answers it waited for.
    fn ask_detached(
        &self,
        to: PeerId,
        request: &Arc<BlockRequest>,
        body: &bytes::Bytes,
        until: Instant,
    ) -> tokio::task::JoinHandle<Answer> {
        let (me, rpc, local) = (self.me, self.rpc.clone(), self.local.clone());
        let (request, body) = (request.clone(), body.clone());
        tokio::spawn(async move { (to, ask_via(me, &rpc, local.as_ref(), to, &request, Some(body), until).await) })
    }

    /// Send `request` to every node in `to`, answers as they come.
    fn ask_all<'a>(
        &'a self,
        to: &[PeerId],
        request: &'a BlockRequest,
        until: Instant,
    ) -> FuturesUnordered<impl std::future::Future<Output = Answer> + 'a> {
        to.iter().map(|&p| async move { (p, self.ask(p, request, until).await) }).collect()
    }

    /// Fetch whatever `address` holds.
    async fn fetch_any(&self, address: Address, level: ReadLevel) -> Result<Fetched, ConsensusError> {
        let until = Instant::now() + self.deadline;
        let replicas = self.replicas(&address);
        if replicas.is_empty() {
            return Err(ConsensusError::Unavailable { reached: 0, needed: 1 });
        }
        let request = BlockRequest::Fetch { address };
        if level == ReadLevel::Any
            && let Some(found) = self.fetch_from_one(address, &replicas, &request, until).await
        {
            return Ok(found);
        }
        let mut answers = self.ask_all(&replicas, &request, until);
        let needed = replicas.len() / 2 + 1;
        let (mut absent, mut failed) = (0usize, Vec::new());
        let mut accepted: HashMap<PeerId, Accepted> = HashMap::new();
        let mut removed: Option<Block> = None;
        while let Some((from, answer)) = answers.next().await {
            match answer {
                Ok(BlockReply::Fetched { held: Held::Found(bytes), .. }) => {
                    match Block::decode(&bytes).and_then(|b| b.validate_alone(&address).map(|()| b)) {
                        Ok(block) => return Ok(fetched(block)),
                        Err(e) => {
                            tracing::warn!("node {from} returned a bad block {address}: {e}");
                            failed.push(format!("{from}: bad block"));
                        }
                    }
                }
                Ok(BlockReply::Fetched { held: Held::Removed(bytes), .. }) => match Block::decode(&bytes) {
                    Ok(b @ Block::Tombstone(_)) if b.validate_alone(&address).is_ok() => removed = Some(b),
                    _ => failed.push(format!("{from}: bad tombstone")),
                },
                Ok(BlockReply::Fetched { held: Held::Absent, accepted: Some(a) }) => {
                    if level != ReadLevel::Latest && level.accepts_cached(a.value.block.version) {
                        return decode_value(address, &a.value.block).map(fetched);
                    }
                    accepted.insert(from, a);
                    if let Some(value) = chosen(&accepted) {
                        return decode_value(address, &value.block).map(fetched);
                    }
                }
                Ok(BlockReply::Fetched { held: Held::Absent, accepted: None }) => absent += 1,
                Ok(BlockReply::Refused(r)) => failed.push(format!("{from}: {r:?}")),
                Ok(other) => failed.push(format!("{from}: unexpected {other:?}")),
                Err(e) => failed.push(format!("{from}: {e}")),
            }
        }
        drop(answers);
        if let Some(tombstone) = removed {
            return Ok(fetched(tombstone));
        }
        if !accepted.is_empty() {
            // Replicas disagree or too few answered alike: a Paxos read decides.
            let set = accepted.values().max_by_key(|a| a.ballot).map(|a| a.value.replicas.clone());
            let set = set.unwrap_or_else(|| ReplicaSet::new(0, replicas.iter().map(|p| node(*p))));
            return match self.paxos(address, set, Operation::Read, until).await? {
                Decided::Read(Some(value)) => decode_value(address, &value.block).map(fetched),
                Decided::Read(None) => Ok(Fetched::Absent),
                Decided::Written(value) => decode_value(address, &value.block).map(fetched),
            };
        }
        if absent >= needed {
            return Ok(Fetched::Absent);
        }
        tracing::warn!("block {address}: {} of {} replicas answered ({})", absent, replicas.len(), failed.join("; "));
        Err(ConsensusError::Unavailable { reached: absent, needed })
    }

    /// Any valid copy of `address` from one replica (this node's if it is
    /// one, else the first in placement order, which spreads reads over
    /// the nodes): `None` if it has none, fails, or is slower than
    /// [`HEDGE`], and then every replica is asked. A content chunk is read
    /// once instead of three times.
    async fn fetch_from_one(
        &self,
        address: Address,
        replicas: &[PeerId],
        request: &BlockRequest,
        until: Instant,
    ) -> Option<Fetched> {
        let first = if replicas.contains(&self.me) && self.local.is_some() { self.me } else { *replicas.first()? };
        let answer = tokio::time::timeout(HEDGE, self.ask(first, request, until)).await.ok()?.ok()?;
        match answer {
            BlockReply::Fetched { held: Held::Found(bytes), .. } => {
                let block = Block::decode(&bytes).ok()?;
                block.validate_alone(&address).ok()?;
                Some(fetched(block))
            }
            BlockReply::Fetched { held: Held::Absent, accepted: Some(a) } => {
                decode_value(address, &a.value.block).ok().map(fetched)
            }
            _ => None,
        }
    }

    /// Drive `operation` on the register at `address` to its end.
    async fn paxos(
        &self,
        address: Address,
        replicas: ReplicaSet,
        operation: Operation,
        until: Instant,
    ) -> Result<Decided, ConsensusError> {
        let nonce = u64::from_le_bytes(crate::crypto::random_bytes::<8>().unwrap_or_default());
        let hint = self.rounds.lock().unwrap_or_else(|e| e.into_inner()).get(&address).copied();
        // A block this node creates (nobody proposed on it here, and no
        // round-0 accept for it went out yet) needs no prepare round.
        let creates = matches!(operation, Operation::Write(Change::Store { expected: None, .. }))
            && hint.is_none()
            && self.created.lock().unwrap_or_else(|e| e.into_inner()).insert(address);
        let mut proposer = Proposer::new(node(self.me), nonce, replicas, operation).with_round_hint(hint.unwrap_or(0));
        if creates {
            proposer = proposer.with_genesis();
        }
        let mut step = proposer.start();
        let mut flying: FuturesUnordered<_> = FuturesUnordered::new();
        loop {
            match step {
                Step::Send(messages) => {
                    for (to, request) in messages {
                        let request = BlockRequest::Paxos { register: address, request };
                        flying.push(async move { (to, self.ask(peer(to), &request, until).await) });
                    }
                    step = Step::Wait;
                }
                Step::Wait => {
                    if flying.is_empty() {
                        // Nothing more can come: decide with what is known.
                        step = proposer.on_timeout();
                        continue;
                    }
                    match tokio::time::timeout_at(until.into(), flying.next()).await {
                        Ok(Some((from, Ok(BlockReply::Paxos(reply))))) => step = proposer.on_reply(from, reply),
                        Ok(Some((from, Ok(other)))) => {
                            tracing::debug!("register {address}: node {} answered {other:?}", peer(from));
                        }
                        Ok(Some((from, Err(e)))) => tracing::debug!("register {address}: node {}: {e}", peer(from)),
                        Ok(None) => {}
                        Err(_) => step = proposer.on_timeout(),
                    }
                }
                Step::Backoff => {
                    let jitter = u64::from(crate::crypto::random_bytes::<1>().unwrap_or_default()[0]);
                    tokio::time::sleep(Duration::from_millis(5 + jitter / 4)).await;
                    if Instant::now() >= until {
                        step = proposer.on_timeout();
                    } else {
                        step = proposer.retry();
                    }
                }
                Step::Done(result) => {
                    if creates && result.is_ok() {
                        self.created.lock().unwrap_or_else(|e| e.into_inner()).remove(&address);
                    }
                    let mut rounds = self.rounds.lock().unwrap_or_else(|e| e.into_inner());
                    if rounds.len() >= ROUNDS_KEPT {
                        rounds.clear();
                    }
                    rounds.insert(address, proposer.highest_round());
                    drop(rounds);
                    return result.map_err(|e| {
                        if matches!(e, PaxosError::Unavailable { .. } | PaxosError::Indeterminate { .. }) {
                            tracing::warn!("block {address}: {e}");
                        }
                        e.into_consensus(address, |p| decode_value(address, p))
                    });
                }
            }
        }
    }

    /// Store `block` as `expect` says (the trait's `store`, untimed).
    async fn store_block(&self, block: Block, expect: Expect) -> Result<(), ConsensusError> {
        let address = block.address();
        if let Block::Tombstone(_) = block {
            return Err(ConsensusError::Refused(BlockError::Invalid {
                address,
                why: "a tombstone is stored through remove".into(),
            }));
        }
        if !block.is_mutable() {
            return self.store_immutable(block).await;
        }
        let expected = match expect {
            Expect::Absent if block.version() == 1 => None,
            Expect::Absent => {
                return Err(ConsensusError::Refused(BlockError::Invalid {
                    address,
                    why: format!("a new block starts at version 1, not {}", block.version()),
                }));
            }
            Expect::Version(v) => {
                let next = v.checked_add(1).ok_or(ConsensusError::VersionOverflow { address, version: v })?;
                if block.version() != next {
                    return Err(ConsensusError::Refused(BlockError::Invalid {
                        address,
                        why: format!("version {} does not follow version {v}", block.version()),
                    }));
                }
                Some(v)
            }
        };
        let payload = Payload::new(block.version(), block.encode()?);
        self.write(address, expected, payload).await
    }

    async fn store_immutable(&self, block: Block) -> Result<(), ConsensusError> {
        let address = block.address();
        let until = Instant::now() + self.deadline;
        let replicas = self.replicas(&address);
        let needed = replicas.len() / 2 + 1;
        let request = BlockRequest::Put { block: block.encode()? };
        self.settle(address, &replicas, request, needed, until).await
    }

    /// Send `request` to `replicas` and succeed once `needed` did it; the
    /// rest go on in the background.
    async fn settle(
        &self,
        address: Address,
        replicas: &[PeerId],
        request: BlockRequest,
        needed: usize,
        until: Instant,
    ) -> Result<(), ConsensusError> {
        if replicas.is_empty() {
            return Err(ConsensusError::Unavailable { reached: 0, needed: 1 });
        }
        // Each replica gets the block even after a majority answered: the
        // requests run as tasks of their own, not as futures dropped here.
        let body = bytes::Bytes::from(Channel::Blocks.encode(&request).map_err(|e| ConsensusError::Indeterminate {
            address,
            why: format!("the request cannot be encoded: {e}"),
        })?);
        let request = Arc::new(request);
        let mut answers: FuturesUnordered<_> =
            replicas.iter().map(|&to| self.ask_detached(to, &request, &body, until)).collect();
        let (mut done, mut failures) = (0, Vec::new());
        let mut refused = None;
        while let Some(joined) = answers.next().await {
            let (from, answer) = match joined {
                Ok(answer) => answer,
                Err(e) => {
                    failures.push(format!("a request task ended: {e}"));
                    continue;
                }
            };
            match answer {
                Ok(BlockReply::Done) => done += 1,
                Ok(BlockReply::Refused(r @ (Refused::Storage(_) | Refused::NotStoring))) => {
                    failures.push(format!("{from}: {r:?}"));
                }
                Ok(BlockReply::Refused(r)) => refused = Some(r),
                Ok(other) => failures.push(format!("{from}: unexpected {other:?}")),
                Err(e) => failures.push(format!("{from}: {e}")),
            }
            if done >= needed {
                return Ok(());
            }
        }
        if let Some(r) = refused {
            return Err(refusal(address, r));
        }
        tracing::warn!("block {address}: stored on {done} of the {needed} replicas needed ({})", failures.join("; "));
        Err(ConsensusError::Unavailable { reached: done, needed })
    }

    /// A register write of `block` expecting `expected`.
    async fn write(&self, address: Address, expected: Option<u64>, payload: Payload) -> Result<(), ConsensusError> {
        let until = Instant::now() + self.deadline;
        let replicas = ReplicaSet::new(0, self.replicas(&address).into_iter().map(node));
        if replicas.members().is_empty() {
            return Err(ConsensusError::Unavailable { reached: 0, needed: 1 });
        }
        let change = Change::Store { expected, block: payload };
        self.paxos(address, replicas, Operation::Write(change), until).await.map(|_| ())
    }

    async fn remove_immutable(&self, tombstone: Tombstone) -> Result<(), ConsensusError> {
        let address = tombstone.address;
        let until = Instant::now() + self.deadline;
        let replicas = self.replicas(&address);
        // A chunk's removal is authorized by its file: the replicas say
        // which from the chunk's first bytes. What they say is not
        // verifiable, so if the removal is refused with it, the owner is
        // learned again from the chunk itself, which is.
        match self.owner_from_replicas(address, &replicas, until).await {
            Some(Told::Absent) => Ok(()),
            Some(Told::Owner(owner)) => {
                let told = self.remove_with_owner(tombstone.clone(), owner, &replicas, until, true).await;
                match told {
                    Err(ConsensusError::Unauthorized(_) | ConsensusError::Refused(_)) => {
                        tracing::warn!(
                            "block {address}: removal refused with the owner its replicas named; reading the block to learn it"
                        );
                        self.remove_verified(tombstone, &replicas, until).await
                    }
                    other => other,
                }
            }
            None => self.remove_verified(tombstone, &replicas, until).await,
        }
    }

    /// What the replicas of `address` say it holds, from the first of them
    /// that knows it: `None` if none could say (too few answered, or the
    /// nodes predate [`BlockRequest::Owner`]).
    async fn owner_from_replicas(&self, address: Address, replicas: &[PeerId], until: Instant) -> Option<Told> {
        let request = BlockRequest::Owner { address };
        let mut answers = self.ask_all(replicas, &request, until);
        let mut absent = 0usize;
        while let Some((from, answer)) = answers.next().await {
            match answer {
                Ok(BlockReply::Owner(OwnerOf::Content(owner))) => return Some(Told::Owner(owner)),
                Ok(BlockReply::Owner(OwnerOf::Other)) => return Some(Told::Owner(None)),
                Ok(BlockReply::Owner(OwnerOf::Absent)) => absent += 1,
                Ok(other) => tracing::debug!("node {from} could not name the owner of {address}: {other:?}"),
                Err(e) => tracing::debug!("node {from} could not name the owner of {address}: {e}"),
            }
        }
        let needed = replicas.len() / 2 + 1;
        (absent >= needed).then_some(Told::Absent)
    }

    /// Remove the immutable block at the tombstone's address, learning its
    /// owner from the block itself (fetched and verified against its address).
    async fn remove_verified(
        &self,
        tombstone: Tombstone,
        replicas: &[PeerId],
        until: Instant,
    ) -> Result<(), ConsensusError> {
        let owner = match self.fetch_any(tombstone.address, ReadLevel::Any).await? {
            Fetched::Found(Block::Content(c)) => c.owner,
            Fetched::Found(_) => None,
            Fetched::Absent | Fetched::Removed(_) | Fetched::Collected { .. } => return Ok(()),
        };
        self.remove_with_owner(tombstone, owner, replicas, until, false).await
    }

    /// Send the removal to `replicas`, with the current block of `owner`
    /// (the file of a chunk), which authorizes it: the one fetched for
    /// another removal less than [`OWNER_KEPT`] ago if `kept` allows.
    async fn remove_with_owner(
        &self,
        tombstone: Tombstone,
        owner: Option<Address>,
        replicas: &[PeerId],
        until: Instant,
        kept: bool,
    ) -> Result<(), ConsensusError> {
        let address = tombstone.address;
        let owner = match owner {
            Some(owner) => self.owner_block(owner, kept).await?,
            None => Arc::new(Vec::new()),
        };
        let owner = Arc::unwrap_or_clone(owner);
        let needed = replicas.len() / 2 + 1;
        let request = BlockRequest::Remove { tombstone: Block::Tombstone(tombstone).encode()?, owner };
        self.settle(address, replicas, request, needed, until).await
    }
}

impl Replicated {
    /// The latest block of `owner`, encoded (empty if it has none), to send
    /// along with a removal: the one kept from an earlier removal if `kept`
    /// allows and it is recent enough.
    async fn owner_block(&self, owner: Address, kept: bool) -> Result<Arc<Vec<u8>>, ConsensusError> {
        let now = Instant::now();
        {
            let mut owners = self.owners.lock().unwrap_or_else(|e| e.into_inner());
            owners.retain(|(_, at, _)| now.duration_since(*at) < OWNER_KEPT);
            if kept && let Some((_, _, bytes)) = owners.iter().find(|(a, _, _)| *a == owner) {
                return Ok(bytes.clone());
            }
        }
        let bytes = Arc::new(match self.fetch_any(owner, ReadLevel::Latest).await? {
            Fetched::Found(b) => b.encode()?,
            Fetched::Removed(t) => Block::Tombstone(t).encode()?,
            Fetched::Absent | Fetched::Collected { .. } => Vec::new(),
        });
        let mut owners = self.owners.lock().unwrap_or_else(|e| e.into_inner());
        owners.retain(|(a, _, _)| *a != owner);
        if owners.len() == OWNERS_KEPT {
            owners.pop_front();
        }
        owners.push_back((owner, now, bytes.clone()));
        Ok(bytes)
    }
}

/// What replicas told of an immutable block before its removal.
enum Told {
    /// None of them holds it.
    Absent,
    /// It is owned by the block at that address, or by none.
    Owner(Option<Address>),
}

/// The value a majority of its own replica set reports at one ballot, if
/// the answers so far show one: it is chosen, and no newer value is (a
/// newer chosen value would be reported by one of that majority).
fn chosen(accepted: &HashMap<PeerId, Accepted>) -> Option<paxos::Value> {
    let mut groups: HashMap<(paxos::Ballot, paxos::Digest), (Vec<NodeId>, &Accepted)> = HashMap::new();
    for (from, a) in accepted {
        groups.entry((a.ballot, a.value.digest())).or_insert_with(|| (Vec::new(), a)).0.push(node(*from));
    }
    groups.into_values().find(|(who, a)| a.value.replicas.is_quorum(who.iter())).map(|(_, a)| a.value.clone())
}

impl Consensus for Replicated {
    fn fetch(&self, address: Address, level: ReadLevel) -> ConsensusFuture<'_, Fetched> {
        Box::pin(async move {
            let started = Instant::now();
            let fetched = self.fetch_any(address, level).await;
            tracing::debug!("fetch {address} ({level:?}): {:.1?}", started.elapsed());
            fetched
        })
    }

    fn store(&self, block: Block, expect: Expect) -> ConsensusFuture<'_, ()> {
        Box::pin(async move {
            let started = Instant::now();
            let kind = block.kind();
            let address = block.address();
            let stored = self.store_block(block, expect).await;
            tracing::debug!("store {kind} {address}: {:.1?}", started.elapsed());
            stored
        })
    }

    fn remove(&self, tombstone: Tombstone) -> ConsensusFuture<'_, ()> {
        Box::pin(async move {
            if tombstone.version <= 1 {
                return self.remove_immutable(tombstone).await;
            }
            let address = tombstone.address;
            let expected = tombstone.version - 1;
            let payload = Payload::new(tombstone.version, Block::Tombstone(tombstone).encode()?);
            match self.write(address, Some(expected), payload).await {
                // Removed already by this very tombstone, or by another.
                Err(ConsensusError::Conflict { current, .. }) if matches!(*current, Block::Tombstone(_)) => Ok(()),
                other => other,
            }
        })
    }

    fn usage(&self) -> ConsensusFuture<'_, Usage> {
        Box::pin(async move {
            let mut used = self.local.as_ref().map_or(0, |r| r.silo().usage());
            let mut capacity = Some(self.local.as_ref().and_then(|r| r.silo().capacity()).unwrap_or(0));
            if self.local.as_ref().is_some_and(|r| r.silo().capacity().is_none()) {
                capacity = None;
            }
            for (_, member) in self.overlay.members() {
                if !member.record.stores {
                    continue;
                }
                used += member.record.used;
                capacity = match (capacity, member.record.capacity) {
                    (Some(a), Some(b)) => Some(a + b),
                    _ => None,
                };
            }
            let k = self.factor as u64;
            Ok(Usage { used: used / k, capacity: capacity.map(|c| c / k), reserved: 0 })
        })
    }

    fn sync(&self) -> ConsensusFuture<'_, ()> {
        Box::pin(async move {
            let until = Instant::now() + self.deadline;
            let mut nodes: Vec<PeerId> = self
                .overlay
                .members()
                .into_iter()
                .filter(|(_, m)| m.record.stores && !matches!(m.state, Liveness::Down))
                .map(|(id, _)| id)
                .collect();
            if self.local.is_some() {
                nodes.push(self.me);
            }
            let request = BlockRequest::Sync;
            let mut answers = self.ask_all(&nodes, &request, until);
            let mut failures = Vec::new();
            while let Some((from, answer)) = answers.next().await {
                match answer {
                    Ok(BlockReply::Done) => {}
                    Ok(other) => failures.push(format!("{from}: {other:?}")),
                    Err(e) => failures.push(format!("{from}: {e}")),
                }
            }
            if !failures.is_empty() {
                tracing::warn!("sync: {}", failures.join("; "));
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests;
