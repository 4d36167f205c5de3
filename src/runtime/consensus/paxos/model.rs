//! The stateright model of the Paxos core: three acceptors, two writers
//! doing compare-and-swaps on one register and a reader, over a network
//! that reorders, duplicates or loses messages, with one acceptor crashing
//! (and maybe restarting from what it persisted). The actors run the real
//! [`Acceptor`] and [`Proposer`]; only the seals are a cheap stand-in.
//!
//! Properties: at most one block is chosen per version (`always`), reads
//! and writes are linearizable against a compare-and-swap register
//! (`always`, stateright's `LinearizabilityTester`), no honest request is
//! refused (`always`), and a value does get chosen and read (`sometimes`,
//! so the checks are not vacuous). The mutation tests break the protocol
//! on purpose in the model's actors and check that a counterexample is
//! found.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::time::Instant;

use stateright::actor::{Actor, ActorModel, ActorModelState, Id, LossyNetwork, Network, Out, model_timeout};
use stateright::semantics::{ConsistencyTester, LinearizabilityTester, SequentialSpec};
use stateright::{Checker, Expectation, HasDiscoveries, Model};

use super::*;
use crate::crypto::hash;
use crate::runtime::block::Address;

const REGISTER: Address = Address([3; 32]);
const ACCEPTORS: usize = 3;
/// Log envelopes (invocations and returns) go to this actor, which does
/// not exist: they are recorded when sent and never delivered.
const LOG: usize = 99;

fn node(id: Id) -> NodeId {
    NodeId::from_index(usize::from(id) as u64)
}

fn actor_id(node: &NodeId) -> Id {
    let mut n = [0u8; 8];
    n.copy_from_slice(&node.0[..8]);
    Id::from(u64::from_be_bytes(n) as usize)
}

fn acceptor_set() -> ReplicaSet {
    ReplicaSet::new(1, (0..ACCEPTORS as u64).map(NodeId::from_index))
}

/// Seals by hashing the acceptor's id with the statement: unforgeable
/// enough for a model whose actors are all honest.
struct ModelNotary(NodeId);

impl Notary for ModelNotary {
    fn seal(&self, statement: &[u8]) -> Seal {
        Seal(hash::hash("infinit model seal", &[&self.0.0, statement])[..8].to_vec())
    }

    fn verify(&self, acceptor: &NodeId, statement: &[u8], seal: &Seal) -> bool {
        ModelNotary(*acceptor).seal(statement) == *seal
    }
}

/// The sequential specification: a compare-and-swap register of
/// `(version, data)`.
#[derive(Clone, Debug, Default, Hash, PartialEq, Eq)]
struct CasRegister(Option<(u64, char)>);

#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord)]
enum CasOp {
    /// Store `new` at `expected + 1` (1 if `None`) if the version is `expected`.
    Cas {
        expected: Option<u64>,
        new: char,
    },
    Read,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord)]
enum CasRet {
    Written,
    Conflict(Option<(u64, char)>),
    Read(Option<(u64, char)>),
    /// Failed without effect (unavailable, timed out).
    Failed,
}

impl SequentialSpec for CasRegister {
    type Op = CasOp;
    type Ret = CasRet;

    fn invoke(&mut self, op: &CasOp) -> CasRet {
        match op {
            CasOp::Read => CasRet::Read(self.0),
            CasOp::Cas { expected, new } => {
                let next = (expected.map_or(1, |v| v + 1), *new);
                if self.0 == Some(next) {
                    CasRet::Written
                } else if self.0.map(|c| c.0) == *expected {
                    self.0 = Some(next);
                    CasRet::Written
                } else {
                    CasRet::Conflict(self.0)
                }
            }
        }
    }

    fn is_valid_step(&mut self, op: &CasOp, ret: &CasRet) -> bool {
        *ret == CasRet::Failed || self.invoke(op) == *ret
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Msg {
    Request(Request),
    Reply(Reply),
    Invoke(CasOp),
    Return(CasRet),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Timer {
    Deadline,
}

/// A bug to plant in the model's actors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mutation {
    /// Acceptors accept below the ballot they promised.
    AcceptBelowPromise,
    /// Acceptors reply without persisting (lost on a crash).
    ForgetBeforeReply,
    /// Both writers create the register at round 0: two values at round 0,
    /// what the caller of `Proposer::with_genesis` promises never happens.
    TwoCreators,
}

/// Where the proposers run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
    /// Writers and reader on client-only nodes, after the three acceptors.
    Clients,
    /// Writer A on acceptor 0, writer B on acceptor 1, the reader on
    /// acceptor 2: storage nodes proposing, each reaching its own acceptor
    /// without the network.
    Colocated,
}

#[derive(Clone, Debug)]
struct Config {
    layout: Layout,
    network: Network<Msg>,
    lossy: bool,
    /// The nodes that may crash (one at a time), and restart from their disk.
    crashable: Vec<usize>,
    timeouts: bool,
    attempts: u32,
    writers: u8,
    /// A writer that lost retries once on the current version.
    follow_up: bool,
    reads: u8,
    /// Writer A creates the register with a round-0 accept, without
    /// prepare (`Proposer::with_genesis`), as the creator of a new block does.
    genesis: bool,
    mutation: Option<Mutation>,
}

/// What a node's client does.
#[derive(Clone, Debug)]
enum Role {
    Writer { data: char, follow_up: bool },
    Reader { reads: u8 },
}

#[derive(Clone, Debug)]
struct Node {
    acceptor: bool,
    role: Option<Role>,
    attempts: u32,
    timeouts: bool,
    genesis: bool,
    mutation: Option<Mutation>,
}

/// An acceptor's durable state, plus every value it ever accepted (ghost
/// state for the properties, never read by the protocol).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
struct Disk {
    state: AcceptorState,
    ever: BTreeSet<Accepted>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Client {
    proposer: Option<Proposer>,
    ops: u8,
    /// An answer no honest acceptor should give was seen.
    refused: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct NodeState {
    disk: Option<Disk>,
    client: Option<Client>,
}

/// What survives a crash: the acceptor's disk, and whether the client
/// already started (a restarted client does nothing; its open operation
/// stays open).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Stored {
    disk: Option<Disk>,
    started: bool,
}

fn pair(value: &Value) -> (u64, char) {
    (value.block.version, value.block.bytes.first().map_or('?', |b| *b as char))
}

impl Node {
    /// Handle `request` from `src` on this node's acceptor; persist, then reply.
    fn accept(&self, me: Id, disk: &mut Disk, src: Id, request: &Request, o: &mut Out<Self>) -> Reply {
        let notary = ModelNotary(node(me));
        let acceptor = Acceptor::new(node(me), REGISTER, &AllowAll, &notary);
        let mut seen = disk.state.clone();
        if self.mutation == Some(Mutation::AcceptBelowPromise) && matches!(request, Request::Accept(_)) {
            seen.promised = None;
        }
        let handled = acceptor.handle(&seen, &node(src), request);
        let reply = handled.reply_after(|s| {
            disk.state = s.clone();
            if let Some(a) = &s.accepted {
                disk.ever.insert(a.clone());
            }
            if self.mutation != Some(Mutation::ForgetBeforeReply) {
                o.save(Stored { disk: Some(disk.clone()), started: true });
            }
            Ok::<_, std::convert::Infallible>(())
        });
        let Ok(reply) = reply;
        reply
    }

    fn begin(&self, me: Id, op: CasOp, ops: u8, o: &mut Out<Self>) -> Proposer {
        let operation = match &op {
            CasOp::Read => Operation::Read,
            CasOp::Cas { expected, new } => Operation::Write(Change::Store {
                expected: *expected,
                block: Payload::new(expected.map_or(1, |v| v + 1), [*new as u8]),
            }),
        };
        o.send(Id::from(LOG), Msg::Invoke(op));
        if self.timeouts {
            o.set_timer(Timer::Deadline, model_timeout());
        }
        let proposer =
            Proposer::new(node(me), u64::from(ops), acceptor_set(), operation).with_max_attempts(self.attempts);
        // Only the creator's first operation, once.
        let creator = matches!(self.role, Some(Role::Writer { data: 'A', .. }))
            || (self.mutation == Some(Mutation::TwoCreators) && matches!(self.role, Some(Role::Writer { .. })));
        let creates = ops == 0 && self.genesis && creator;
        if creates { proposer.with_genesis() } else { proposer }
    }

    /// Carry out `step` of this node's client: send requests (handling
    /// those to its own acceptor at once), and at the end log the result
    /// and start the next operation.
    fn run(&self, me: Id, state: &mut NodeState, step: Step, o: &mut Out<Self>) {
        let result = match step {
            Step::Send(requests) => {
                for (to, request) in requests {
                    if actor_id(&to) == me
                        && let Some(disk) = state.disk.as_mut()
                    {
                        let reply = self.accept(me, disk, me, &request, o);
                        let Some(p) = state.client.as_mut().and_then(|c| c.proposer.as_mut()) else { continue };
                        let step = p.on_reply(to, reply);
                        self.run(me, state, step, o);
                    } else {
                        o.send(actor_id(&to), Msg::Request(request));
                    }
                }
                return;
            }
            Step::Wait => return,
            Step::Backoff => {
                let Some(p) = state.client.as_mut().and_then(|c| c.proposer.as_mut()) else { return };
                let step = p.retry();
                return self.run(me, state, step, o);
            }
            Step::Done(result) => result,
        };
        let Some(client) = state.client.as_mut() else { return };
        o.cancel_timer(Timer::Deadline);
        let ret = match result {
            Ok(Decided::Written(_)) => Some(CasRet::Written),
            Ok(Decided::Read(v)) => Some(CasRet::Read(v.as_ref().map(pair))),
            Err(PaxosError::Conflict { current }) => Some(CasRet::Conflict(Some(pair(&current)))),
            Err(PaxosError::Missing { .. }) => Some(CasRet::Conflict(None)),
            Err(PaxosError::Unavailable { .. } | PaxosError::Timeout { .. }) => Some(CasRet::Failed),
            Err(PaxosError::Refused(_)) => {
                client.refused = true;
                Some(CasRet::Failed)
            }
            // Maybe done, maybe not: the operation stays open forever.
            Err(PaxosError::Indeterminate { .. }) => None,
        };
        client.ops += 1;
        client.proposer = None;
        if let Some(ret) = &ret {
            o.send(Id::from(LOG), Msg::Return(ret.clone()));
        }
        let next = match (&self.role, &ret) {
            (Some(Role::Writer { data, follow_up: true }), Some(CasRet::Conflict(Some((v, _))))) if client.ops == 1 => {
                Some(CasOp::Cas { expected: Some(*v), new: data.to_ascii_lowercase() })
            }
            (Some(Role::Reader { reads }), Some(_)) if client.ops < *reads => Some(CasOp::Read),
            _ => None,
        };
        if let Some(op) = next {
            let mut p = self.begin(me, op, client.ops, o);
            let step = p.start();
            client.proposer = Some(p);
            self.run(me, state, step, o);
        }
    }
}

impl Actor for Node {
    type Msg = Msg;
    type State = NodeState;
    type Timer = Timer;
    type Random = ();
    type Storage = Stored;

    fn on_start(&self, id: Id, storage: &Option<Stored>, o: &mut Out<Self>) -> NodeState {
        let disk = match storage {
            Some(Stored { disk, .. }) => disk.clone(),
            None => self.acceptor.then(Disk::default),
        };
        let Some(role) = &self.role else { return NodeState { disk, client: None } };
        let idle = Client { proposer: None, ops: 0, refused: false };
        if storage.as_ref().is_some_and(|s| s.started) {
            return NodeState { disk, client: Some(Client { ops: u8::MAX, ..idle }) };
        }
        o.save(Stored { disk: disk.clone(), started: true });
        let op = match role {
            Role::Writer { data, .. } => CasOp::Cas { expected: None, new: *data },
            Role::Reader { .. } => CasOp::Read,
        };
        let mut p = self.begin(id, op, 0, o);
        let step = p.start();
        let mut state = NodeState { disk, client: Some(Client { proposer: Some(p), ..idle }) };
        self.run(id, &mut state, step, o);
        state
    }

    fn on_msg(&self, id: Id, state: &mut Cow<NodeState>, src: Id, msg: Msg, o: &mut Out<Self>) {
        match msg {
            Msg::Request(request) if state.disk.is_some() => {
                let mut next = (**state).clone();
                let Some(disk) = next.disk.as_mut() else { return };
                let reply = self.accept(id, disk, src, &request, o);
                if next != **state {
                    *state.to_mut() = next;
                }
                o.send(src, Msg::Reply(reply));
            }
            Msg::Reply(reply) => {
                let Some(p) = state.client.as_ref().and_then(|c| c.proposer.as_ref()) else { return };
                let mut p = p.clone();
                let step = p.on_reply(node(src), reply);
                if step == Step::Wait && Some(&p) == state.client.as_ref().and_then(|c| c.proposer.as_ref()) {
                    return;
                }
                let mut next = (**state).clone();
                if let Some(c) = next.client.as_mut() {
                    c.proposer = Some(p);
                }
                self.run(id, &mut next, step, o);
                *state.to_mut() = next;
            }
            _ => {}
        }
    }

    fn on_timeout(&self, id: Id, state: &mut Cow<NodeState>, _timer: &Timer, o: &mut Out<Self>) {
        let mut next = (**state).clone();
        let Some(p) = next.client.as_mut().and_then(|c| c.proposer.as_mut()) else { return };
        let step = p.on_timeout();
        self.run(id, &mut next, step, o);
        *state.to_mut() = next;
    }
}

type State = ActorModelState<Node, LinearizabilityTester<Id, CasRegister>>;

/// Every (ballot, value) accepted by a majority of its replica set at some
/// point: the values chosen so far. (The model changes no replica set, so
/// a value's quorum set is its own.)
fn chosen(state: &State) -> Vec<Accepted> {
    let disks: Vec<&Disk> = state.actor_states.iter().filter_map(|s| s.disk.as_ref()).collect();
    let mut all: BTreeSet<&Accepted> = BTreeSet::new();
    for d in &disks {
        all.extend(d.ever.iter());
    }
    all.into_iter()
        .filter(|a| {
            let holders: Vec<NodeId> =
                (0..disks.len()).filter(|i| disks[*i].ever.contains(a)).map(|i| NodeId::from_index(i as u64)).collect();
            a.value.replicas.is_quorum(holders.iter())
        })
        .cloned()
        .collect()
}

fn model(cfg: Config) -> ActorModel<Node, Config, LinearizabilityTester<Id, CasRegister>> {
    let node = |acceptor, role| Node {
        acceptor,
        role,
        attempts: cfg.attempts,
        timeouts: cfg.timeouts,
        genesis: cfg.genesis,
        mutation: cfg.mutation,
    };
    let mut roles: Vec<Role> = ['A', 'B']
        .into_iter()
        .take(usize::from(cfg.writers))
        .map(|data| Role::Writer { data, follow_up: cfg.follow_up })
        .collect();
    if cfg.reads > 0 {
        roles.push(Role::Reader { reads: cfg.reads });
    }
    let nodes: Vec<Node> = match cfg.layout {
        Layout::Clients => {
            (0..ACCEPTORS).map(|_| node(true, None)).chain(roles.into_iter().map(|r| node(false, Some(r)))).collect()
        }
        Layout::Colocated => {
            let mut roles = roles.into_iter();
            (0..ACCEPTORS).map(|_| node(true, roles.next())).collect()
        }
    };
    let mut m = ActorModel::new(cfg.clone(), LinearizabilityTester::new(CasRegister::default()))
        .actors(nodes)
        .init_network(cfg.network.clone())
        .lossy_network(if cfg.lossy { LossyNetwork::Yes } else { LossyNetwork::No })
        .property(Expectation::Always, "at most one block chosen per version", |_, state| {
            let chosen = chosen(state);
            chosen.iter().all(|a| {
                chosen.iter().all(|b| a.value.block.version != b.value.block.version || a.value.block == b.value.block)
            })
        })
        .property(Expectation::Always, "linearizable", |_, state| state.history.serialized_history().is_some())
        .property(Expectation::Always, "no honest request refused", |_, state| {
            state.actor_states.iter().all(|s| !s.client.as_ref().is_some_and(|c| c.refused))
        })
        .property(Expectation::Sometimes, "a value is chosen", |_, state| !chosen(state).is_empty())
        .property(Expectation::Sometimes, "a read returns a written value (when there are readers)", |model, state| {
            model.cfg.reads == 0
                || state.network.iter_all().any(|e| matches!(e.msg, Msg::Return(CasRet::Read(Some(_)))))
        })
        .record_msg_out(|_, history, env| {
            let mut history = history.clone();
            match env.msg {
                Msg::Invoke(op) => {
                    let _ = history.on_invoke(env.src, op.clone());
                }
                Msg::Return(ret) => {
                    let _ = history.on_return(env.src, ret.clone());
                }
                Msg::Request(_) | Msg::Reply(_) => return None,
            }
            Some(history)
        });
    if !cfg.crashable.is_empty() {
        m = m.max_crashes(1).within_boundary(|cfg, state| {
            state.crashed.iter().enumerate().all(|(i, c)| !c || cfg.crashable.contains(&i))
        });
    }
    m
}

/// Check `cfg` exhaustively (BFS) and print the state count and time.
fn check(name: &str, cfg: Config) -> impl Checker<ActorModel<Node, Config, LinearizabilityTester<Id, CasRegister>>> {
    let start = Instant::now();
    let checker = model(cfg).checker().spawn_bfs().join();
    eprintln!(
        "paxos model {name}: {} states ({} unique), depth {}, {:.1?}",
        checker.state_count(),
        checker.unique_state_count(),
        checker.max_depth(),
        start.elapsed()
    );
    checker
}

fn base() -> Config {
    Config {
        layout: Layout::Colocated,
        network: Network::new_unordered_nonduplicating([]),
        lossy: false,
        crashable: vec![],
        timeouts: false,
        attempts: 2,
        writers: 2,
        follow_up: false,
        reads: 1,
        genesis: false,
        mutation: None,
    }
}

/// The configurations checked in the test suite: exhaustive, and small
/// enough for CI (about a minute in all in a debug build): two writers with
/// one ballot each over three acceptors, with each fault on its own.
fn small() -> Config {
    Config { attempts: 1, reads: 0, ..base() }
}

#[test]
fn model_reordering_and_message_loss() {
    check("reordering+loss", Config { lossy: true, ..small() }).assert_properties();
}

#[test]
fn model_duplicating_network() {
    check("duplicating", Config { network: Network::new_unordered_duplicating([]), ..small() }).assert_properties();
}

#[test]
fn model_a_creator_accepting_at_round_0_without_prepare() {
    // Writer A creates the register with a round-0 accept while writer B
    // tries to create it through prepare, over a reordering network.
    check("genesis+reordering", Config { genesis: true, ..small() }).assert_properties();
}

#[test]
fn model_a_creator_accepting_at_round_0_with_a_crashed_acceptor() {
    check("genesis+crashed acceptor", Config { genesis: true, crashable: vec![1], ..small() }).assert_properties();
}

#[test]
#[ignore = "millions of states: run with `cargo test --release --lib paxos::model -- --ignored`"]
fn model_a_creator_accepting_at_round_0_with_loss_duplication_and_a_reader() {
    check("genesis+loss", Config { genesis: true, lossy: true, ..small() }).assert_properties();
    let duplicating = Network::new_unordered_duplicating([]);
    check("genesis+duplicating", Config { genesis: true, network: duplicating, ..small() }).assert_properties();
    let cfg = Config { genesis: true, reads: 1, timeouts: true, ..small() };
    check("genesis+reads+timeouts", cfg).assert_properties();
}

#[test]
fn model_a_crashed_acceptor() {
    check("crashed acceptor", Config { crashable: vec![1], ..small() }).assert_properties();
}

#[test]
fn model_reads_and_client_timeouts() {
    check("reads+timeouts", Config { reads: 1, timeouts: true, ..small() }).assert_properties();
}

#[test]
#[ignore = "minutes and gigabytes: run with `cargo test --release --lib paxos::model -- --ignored`"]
fn model_reordering_and_loss_with_a_crashed_acceptor() {
    let cfg = Config { lossy: true, crashable: vec![1], ..base() };
    check("lossy+crash", cfg).assert_properties();
}

#[test]
#[ignore = "minutes and gigabytes: run with `cargo test --release --lib paxos::model -- --ignored`"]
fn model_duplicating_network_with_timeouts() {
    let cfg = Config { network: Network::new_unordered_duplicating([]), timeouts: true, reads: 0, ..base() };
    check("duplicating+timeouts", cfg).assert_properties();
}

#[test]
#[ignore = "larger configuration: minutes in debug"]
fn model_larger_everything_at_once() {
    let cfg = Config { lossy: true, crashable: vec![0, 1, 2], timeouts: true, attempts: 3, reads: 2, ..base() };
    check("everything", cfg).assert_properties();
}

/// A mutated model must violate one of the `always` properties.
fn assert_mutation_caught(mutation: Mutation, cfg: Config) {
    let start = Instant::now();
    let checker = model(Config { mutation: Some(mutation), ..cfg })
        .checker()
        .finish_when(HasDiscoveries::AnyFailures)
        .spawn_bfs()
        .join();
    let found: Vec<&str> = ["at most one block chosen per version", "linearizable"]
        .into_iter()
        .filter(|p| checker.discovery(p).is_some())
        .collect();
    eprintln!(
        "paxos mutation {mutation:?}: caught by {found:?} after {} states, {:.1?}",
        checker.state_count(),
        start.elapsed()
    );
    assert!(!found.is_empty(), "mutation {mutation:?} was not caught");
}

#[test]
#[ignore = "needs two ballots per writer: minutes and gigabytes; run with `cargo test --release --lib paxos::model -- --ignored`"]
fn model_catches_acceptors_accepting_below_their_promise() {
    assert_mutation_caught(Mutation::AcceptBelowPromise, base());
}

#[test]
fn model_catches_replies_sent_before_the_state_is_persisted() {
    assert_mutation_caught(Mutation::ForgetBeforeReply, Config { crashable: vec![0, 1, 2], ..small() });
}

#[test]
fn model_catches_two_creators_at_round_0() {
    assert_mutation_caught(Mutation::TwoCreators, Config { genesis: true, ..small() });
}

#[test]
#[ignore = "probe: PAXOS_PROBE=\"writers reads attempts lossy crash timeouts dup follow cap clients genesis\""]
fn probe() {
    let spec = std::env::var("PAXOS_PROBE").unwrap_or_else(|_| "2 0 2 0 0 0 0 0 300000".into());
    let f: Vec<u64> = spec.split_whitespace().filter(|x| !x.is_empty()).map(|x| x.parse().unwrap()).collect();
    let cfg = Config {
        layout: if f.get(9) == Some(&1) { Layout::Clients } else { Layout::Colocated },
        writers: f[0] as u8,
        reads: f[1] as u8,
        attempts: f[2] as u32,
        lossy: f[3] == 1,
        crashable: match f[4] {
            0 => vec![],
            9 => vec![0, 1, 2],
            n => vec![n as usize - 1],
        },
        timeouts: f[5] == 1,
        network: if f[6] == 1 {
            Network::new_unordered_duplicating([])
        } else {
            Network::new_unordered_nonduplicating([])
        },
        follow_up: f[7] == 1,
        genesis: f.get(10) == Some(&1),
        mutation: None,
    };
    let start = Instant::now();
    let c = model(cfg).checker().target_state_count(f[8] as usize).spawn_bfs().join();
    eprintln!(
        "probe {spec}: {} states ({} unique) depth {} {:.1?} done={}",
        c.state_count(),
        c.unique_state_count(),
        c.max_depth(),
        start.elapsed(),
        c.is_done()
    );
}
