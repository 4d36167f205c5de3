//! The storage side of a node: what it answers to [`BlockRequest`]s.
//!
//! - Immutable blocks live in the node's silo: a `Put` is validated (the
//!   content must derive its address) and kept; a `Remove` needs a signed
//!   tombstone its signer may issue (for a file's chunk: a writer of the
//!   file, shown by the file's block sent along).
//! - Each mutable block is a Paxos register whose acceptor state (promise,
//!   accepted ballot and value) lives in redb and is durable before any
//!   reply leaves ([`Handled::commit`]); saves of concurrent requests share
//!   one transaction ([`GroupCommit`]). A new value is validated against
//!   the value its accept names as previous, with the sender's rights
//!   (its passport must allow writing and it must have signed the block).
//!
//! Every request is from an admitted member ([`Overlay`] checked its
//! passport); a node whose passport denies storage keeps nothing.

use std::sync::Arc;

use super::message::{BlockReply, BlockRequest, Held, OwnerOf, Refused};
use crate::crypto::KeyPair;
use crate::runtime::block::{Address, Block, BlockError};
use crate::runtime::consensus::paxos::{
    self, Acceptor, AcceptorState, KeyNotary, NodeId, Notary, RedbStore, Refusal, Transition, Value,
};
use crate::runtime::consensus::{ForRemoval, read_for_removal};
use crate::runtime::overlay::Overlay;
use crate::runtime::rpc::PeerId;
use crate::runtime::silo::{SetMode, Silo, SiloError};

/// Registers (and immutable addresses) are served one request at a time
/// per stripe.
const STRIPES: usize = 256;

/// A queued save and who waits for it.
type Waiter = (Address, AcceptorState, tokio::sync::oneshot::Sender<Result<(), String>>);

/// Batches acceptor state saves: requests queue their states, one thread
/// commits everything queued in one durable transaction, then each waiter
/// gets its answer.
pub struct GroupCommit {
    queue: std::sync::mpsc::Sender<Waiter>,
    store: Arc<RedbStore>,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GroupCommit")
    }
}

impl GroupCommit {
    /// Commit saves to `store` from a thread of its own.
    pub fn new(store: Arc<RedbStore>) -> GroupCommit {
        let (tx, rx) = std::sync::mpsc::channel::<Waiter>();
        let writer = store.clone();
        std::thread::Builder::new()
            .name("infinit-acceptors".into())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let mut batch = vec![first];
                    while let Ok(more) = rx.try_recv() {
                        batch.push(more);
                    }
                    let states: Vec<(Address, AcceptorState)> = batch.iter().map(|(a, s, _)| (*a, s.clone())).collect();
                    let result = writer.save_many(&states).map_err(|e| e.to_string());
                    if let Err(e) = &result {
                        tracing::error!("acceptor state not saved: {e}");
                    }
                    for (_, _, done) in batch {
                        let _ = done.send(result.clone());
                    }
                }
            })
            .ok();
        GroupCommit { queue: tx, store }
    }

    /// Make `state` durable for `register`.
    pub async fn save(&self, register: Address, state: AcceptorState) -> Result<(), String> {
        let (done, wait) = tokio::sync::oneshot::channel();
        self.queue.send((register, state, done)).map_err(|_| "the acceptor store is closed".to_string())?;
        wait.await.map_err(|_| "the acceptor store is closed".to_string())?
    }

    /// The state of `register`.
    pub fn load(&self, register: &Address) -> Result<AcceptorState, String> {
        use crate::runtime::consensus::paxos::AcceptorStore as _;
        self.store.load(register).map(Option::unwrap_or_default).map_err(|e| e.to_string())
    }

    /// The underlying store.
    pub fn store(&self) -> &RedbStore {
        &self.store
    }
}

/// A storage node's replica of the network's blocks.
pub struct Replica {
    me: NodeId,
    silo: Arc<dyn Silo>,
    acceptors: GroupCommit,
    overlay: Arc<Overlay>,
    notary: Box<dyn Notary + Send + Sync>,
    stripes: Vec<tokio::sync::Mutex<()>>,
    /// Fetches answered since start.
    fetches: std::sync::atomic::AtomicU64,
    /// Bytes of blocks sent in answer to fetches since start.
    fetched_bytes: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for Replica {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replica").field("me", &self.me).finish_non_exhaustive()
    }
}

/// A request slower than this to answer is logged.
const SLOW: std::time::Duration = std::time::Duration::from_secs(1);

/// The reply for block `address`, which the silo holds but does not
/// decode (`why`, logged here).
fn damaged(address: Address, why: BlockError) -> BlockReply {
    tracing::error!("block {address} in the silo does not decode: {why}");
    refused(Refused::Storage(format!("block {address} is damaged here")))
}

fn refused(r: Refused) -> BlockReply {
    BlockReply::Refused(r)
}

fn invalid(e: impl std::fmt::Display) -> BlockReply {
    refused(Refused::Invalid(e.to_string()))
}

fn storage(e: SiloError) -> BlockReply {
    match e {
        SiloError::Full { .. } => refused(Refused::Storage(e.to_string())),
        e => refused(Refused::Storage(e.to_string())),
    }
}

impl Replica {
    /// The replica of the node holding `keys`, keeping immutable blocks in
    /// `silo` and register state in `acceptors`.
    pub fn new(keys: KeyPair, silo: Arc<dyn Silo>, acceptors: GroupCommit, overlay: Arc<Overlay>) -> Replica {
        let me = NodeId(keys.public().fingerprint());
        let directory = overlay.clone();
        let notary = KeyNotary::new(keys, move |id: &NodeId| directory.node_key(&PeerId(id.0)));
        Replica {
            me,
            silo,
            acceptors,
            overlay,
            notary: Box::new(notary),
            stripes: (0..STRIPES).map(|_| tokio::sync::Mutex::new(())).collect(),
            fetches: std::sync::atomic::AtomicU64::new(0),
            fetched_bytes: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// How many fetches this replica has answered since it started.
    pub fn fetches_answered(&self) -> u64 {
        self.fetches.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How many bytes of blocks this replica has sent in answer to
    /// fetches since it started.
    pub fn bytes_fetched(&self) -> u64 {
        self.fetched_bytes.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The silo of immutable blocks.
    pub fn silo(&self) -> &Arc<dyn Silo> {
        &self.silo
    }

    /// Registers this replica holds state for, with their sizes.
    pub fn registers(&self) -> Vec<(Address, u64)> {
        self.acceptors.store().registers().unwrap_or_default()
    }

    fn stripe(&self, address: &Address) -> &tokio::sync::Mutex<()> {
        &self.stripes[usize::from(address.0[0]) % STRIPES]
    }

    /// Whether `from` may write: an admitted member whose passport allows it.
    fn writer(&self, from: PeerId) -> Result<(), Refused> {
        match self.overlay.membership(&from) {
            Some(m) if m.write => Ok(()),
            Some(m) => Err(Refused::Unauthorized(format!("user \"{}\" holds a read-only passport", m.user_name))),
            None => Err(Refused::Unauthorized(format!("node {from} is not a known member"))),
        }
    }

    /// Answer `request` from `from`.
    pub async fn handle(&self, from: PeerId, request: BlockRequest) -> BlockReply {
        let started = std::time::Instant::now();
        let kind = request.kind();
        let reply = self.answer(from, request).await;
        let took = started.elapsed();
        if took > SLOW {
            tracing::warn!("a {kind} request of node {from} took {took:.1?} to answer");
        }
        reply
    }

    async fn answer(&self, from: PeerId, request: BlockRequest) -> BlockReply {
        match request {
            BlockRequest::Put { block } => self.put(from, block).await,
            BlockRequest::Fetch { address } => self.fetch(address).await,
            BlockRequest::Remove { tombstone, owner } => self.remove(from, tombstone, owner).await,
            BlockRequest::Paxos { register, request } => self.paxos(from, register, request).await,
            BlockRequest::Sync => match self.silo.sync().await {
                Ok(()) => BlockReply::Done,
                Err(e) => storage(e),
            },
            BlockRequest::Owner { address } => self.owner(address).await,
        }
    }

    /// Whose the block at `address` is, from its first bytes (a large
    /// chunk is not read past them).
    async fn owner(&self, address: Address) -> BlockReply {
        let owner = match read_for_removal(self.silo.as_ref(), address).await {
            Ok(ForRemoval::Absent) => OwnerOf::Absent,
            Ok(ForRemoval::Content(stand_in)) => match *stand_in {
                Block::Content(c) => OwnerOf::Content(c.owner),
                _ => OwnerOf::Other,
            },
            Ok(ForRemoval::Whole(bytes)) => match Block::decode(&bytes) {
                Ok(Block::Content(c)) => OwnerOf::Content(c.owner),
                Ok(Block::Tombstone(_)) => OwnerOf::Absent,
                Ok(_) => OwnerOf::Other,
                Err(e) => return damaged(address, e),
            },
            Err(e) => return storage(e),
        };
        BlockReply::Owner(owner)
    }

    async fn stored(&self, address: Address) -> Result<Option<Block>, BlockReply> {
        Ok(self.stored_with_bytes(address).await?.map(|(block, _)| block))
    }

    /// [`Replica::stored`], with the bytes the block was decoded from (to
    /// send as they are, not encoded again).
    async fn stored_with_bytes(&self, address: Address) -> Result<Option<(Block, Vec<u8>)>, BlockReply> {
        match self.silo.get(address).await {
            Ok(bytes) => match Block::decode(&bytes) {
                Ok(block) => Ok(Some((block, bytes))),
                Err(e) => Err(damaged(address, e)),
            },
            Err(SiloError::NotFound { .. }) => Ok(None),
            Err(e) => Err(storage(e)),
        }
    }

    async fn put(&self, from: PeerId, bytes: Vec<u8>) -> BlockReply {
        if let Err(no) = self.writer(from) {
            return refused(no);
        }
        let block = match Block::decode(&bytes) {
            Ok(b) if !b.is_mutable() && !matches!(b, Block::Tombstone(_)) => b,
            Ok(b) => return invalid(format!("a {} block is not stored with Put", b.kind())),
            Err(e) => return invalid(e),
        };
        let address = block.address();
        if let Err(e) = block.validate_alone(&address) {
            tracing::warn!("node {from}: an invalid block {address} refused: {e}");
            return invalid(e);
        }
        let _guard = self.stripe(&address).lock().await;
        match self.stored(address).await {
            Err(reply) => reply,
            Ok(Some(current)) if current == block => BlockReply::Done,
            Ok(Some(Block::Tombstone(_))) => match self.silo.set(address, bytes, SetMode::Update).await {
                // A chunk may be stored again after its removal (same content).
                Ok(()) => BlockReply::Done,
                Err(e) => storage(e),
            },
            Ok(Some(current)) => refused(Refused::Conflict(current.encode().unwrap_or_default())),
            Ok(None) => match self.silo.set(address, bytes, SetMode::Insert).await {
                Ok(()) => BlockReply::Done,
                Err(e) => storage(e),
            },
        }
    }

    async fn fetch(&self, address: Address) -> BlockReply {
        self.fetches.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let held = match self.stored_with_bytes(address).await {
            Ok(Some((Block::Tombstone(_), bytes))) => Held::Removed(bytes),
            Ok(Some((b, bytes))) => match b.validate_alone(&address) {
                Ok(()) => {
                    self.fetched_bytes.fetch_add(bytes.len() as u64, std::sync::atomic::Ordering::Relaxed);
                    Held::Found(bytes)
                }
                Err(e) => {
                    tracing::error!("block {address} in the silo is corrupt: {e}");
                    return refused(Refused::Storage(format!("block {address} is damaged here")));
                }
            },
            Ok(None) => Held::Absent,
            Err(reply) => return reply,
        };
        let accepted = match &held {
            Held::Absent => match self.acceptors.load(&address) {
                Ok(state) => state.accepted,
                Err(e) => return refused(Refused::Storage(e)),
            },
            _ => None,
        };
        BlockReply::Fetched { held, accepted }
    }

    async fn remove(&self, from: PeerId, tombstone: Vec<u8>, owner: Vec<u8>) -> BlockReply {
        if let Err(no) = self.writer(from) {
            return refused(no);
        }
        let tombstone = match Block::decode(&tombstone) {
            Ok(Block::Tombstone(t)) => t,
            Ok(_) => return invalid("Remove carries no tombstone"),
            Err(e) => return invalid(e),
        };
        let owner = if owner.is_empty() {
            None
        } else {
            match Block::decode(&owner) {
                Ok(b) => match b.validate_alone(&b.address()) {
                    Ok(()) => Some(b),
                    Err(e) => return invalid(format!("the owner block sent along: {e}")),
                },
                Err(e) => return invalid(e),
            }
        };
        let address = tombstone.address;
        let _guard = self.stripe(&address).lock().await;
        let stored = match read_for_removal(self.silo.as_ref(), address).await {
            Ok(ForRemoval::Absent) => Ok(None),
            Ok(ForRemoval::Content(stand_in)) => Ok(Some(*stand_in)),
            Ok(ForRemoval::Whole(bytes)) => Block::decode(&bytes).map(Some).map_err(|e| damaged(address, e)),
            Err(e) => Err(storage(e)),
        };
        let previous = match stored {
            Err(reply) => return reply,
            Ok(None) => return BlockReply::Done,
            Ok(Some(Block::Tombstone(_))) => return BlockReply::Done,
            Ok(Some(previous)) => previous,
        };
        if previous.is_mutable() {
            return invalid("a mutable block is removed through its register");
        }
        if !tombstone.matches(&previous) {
            return invalid("the tombstone is for another block");
        }
        let tomb = Block::Tombstone(tombstone);
        match tomb.validate_removing(&address, Some(&previous), owner.as_ref()) {
            Ok(()) => {}
            Err(e @ BlockError::Denied { .. }) => return refused(Refused::Unauthorized(e.to_string())),
            Err(e) => return invalid(e),
        }
        match self.silo.erase(address).await {
            Ok(()) | Err(SiloError::NotFound { .. }) => BlockReply::Done,
            Err(e) => storage(e),
        }
    }

    async fn paxos(&self, from: PeerId, register: Address, request: paxos::Request) -> BlockReply {
        let sender = NodeId(from.0);
        let _guard = self.stripe(&register).lock().await;
        let state = match self.acceptors.load(&register) {
            Ok(s) => s,
            Err(e) => return refused(Refused::Storage(e)),
        };
        let membership = self.overlay.membership(&from);
        let validator = |_sender: &NodeId, previous: Option<&Value>, new: &Value| {
            validate_change(&register, membership.as_ref(), previous, new)
        };
        let handled =
            Acceptor::new(self.me, register, &validator, self.notary.as_ref()).handle(&state, &sender, &request);
        // The new state is durable (saved with whatever else is queued)
        // before the reply can be had.
        if let Some(change) = handled.change().cloned()
            && let Err(e) = self.acceptors.save(register, change).await
        {
            return refused(Refused::Storage(e));
        }
        let reply =
            handled.reply_after(|_| Ok::<(), std::convert::Infallible>(())).unwrap_or_else(|never| match never {});
        if let paxos::Reply::Refused { why: why @ (Refusal::Invalid(_) | Refusal::Unauthorized { .. }), .. } = &reply {
            tracing::warn!("node {from}: a change of block {register} refused: {why}");
        }
        BlockReply::Paxos(reply)
    }
}

/// Whether `new` may follow `previous` in `register`, proposed by a member
/// with `membership`: the block decodes at this address and version, is
/// valid after the previous block (signatures, rights, version order), and
/// was signed by the sender's user, whose passport allows writing.
fn validate_change(
    register: &Address,
    membership: Option<&crate::runtime::overlay::Membership>,
    previous: Option<&Value>,
    new: &Value,
) -> Result<(), Refusal> {
    let Some(member) = membership else {
        return Err(Refusal::Unauthorized { who: "an unknown node".into(), why: "it is not a member".into() });
    };
    let step = new.step_from(previous).map_err(Refusal::Invalid)?;
    if step == Transition::Replicas {
        // Replica moves are for storage nodes (the healing of the next step).
        return if member.storage {
            Ok(())
        } else {
            Err(Refusal::Unauthorized { who: member.user_name.clone(), why: "only storage nodes move replicas".into() })
        };
    }
    if !member.write {
        return Err(Refusal::Unauthorized { who: member.user_name.clone(), why: "its passport is read-only".into() });
    }
    let block = Block::decode(&new.block.bytes).map_err(|e| Refusal::Invalid(e.to_string()))?;
    if block.address() != *register || block.version() != new.block.version {
        return Err(Refusal::Invalid("the value is not this register's block at its version".into()));
    }
    if block.signer() != Some(member.user) {
        return Err(Refusal::Unauthorized {
            who: member.user_name.clone(),
            why: "the block is signed by another user than the node's".into(),
        });
    }
    let previous = match previous {
        Some(p) => Some(Block::decode(&p.block.bytes).map_err(|e| Refusal::Invalid(e.to_string()))?),
        None => None,
    };
    match (&block, &previous) {
        (Block::Tombstone(t), Some(Block::Tombstone(_))) => {
            Err(Refusal::Invalid(format!("block {} is removed already (tombstone {})", register, t.version)))
        }
        (_, Some(Block::Tombstone(_))) => Err(Refusal::Invalid(format!("block {register} was removed"))),
        (Block::Tombstone(t), Some(p)) => {
            if !t.matches(p) {
                return Err(Refusal::Invalid("the tombstone removes another version".into()));
            }
            block.validate(register, Some(p)).map_err(block_refusal)
        }
        (Block::Tombstone(_), None) => Err(Refusal::Invalid("nothing to remove".into())),
        _ if !block.is_mutable() => Err(Refusal::Invalid("an immutable block has no register".into())),
        _ => block.validate(register, previous.as_ref()).map_err(block_refusal),
    }
}

fn block_refusal(e: BlockError) -> Refusal {
    match e {
        BlockError::Denied { key, action, .. } => Refusal::Unauthorized { who: key, why: format!("may not {action}") },
        e => Refusal::Invalid(e.to_string()),
    }
}
