//! Unit tests of the Paxos core over an in-memory cluster that delivers
//! messages by hand (drops, partial deliveries and duels are explicit).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use super::*;
use crate::crypto::keys::{KeyPair, PublicKey};
use crate::runtime::block::Address;

const REGISTER: Address = Address([7; 32]);

type Directory = Arc<HashMap<NodeId, PublicKey>>;
type Notaries = BTreeMap<NodeId, KeyNotary<Box<dyn Fn(&NodeId) -> Option<PublicKey>>>>;

/// Acceptors with their states, node keys and a validator.
struct Cluster<V> {
    states: BTreeMap<NodeId, AcceptorState>,
    notaries: Notaries,
    validator: V,
}

/// Finds a node's key in the test directory.
type Lookup = Box<dyn Fn(&NodeId) -> Option<PublicKey>>;

fn notary(keys: KeyPair, directory: &Directory) -> KeyNotary<Lookup> {
    let directory = directory.clone();
    KeyNotary::new(keys, Box::new(move |n: &NodeId| directory.get(n).copied()))
}

impl<V: Validator> Cluster<V> {
    /// `n` acceptors and `clients` more node identities (proposers), all with keys.
    fn new(n: usize, clients: usize, validator: V) -> (Cluster<V>, Vec<NodeId>, Vec<NodeId>) {
        let keys: Vec<KeyPair> = (0..n + clients).map(|_| KeyPair::generate().unwrap()).collect();
        let ids: Vec<NodeId> = keys.iter().map(|k| NodeId(k.public().fingerprint())).collect();
        let directory: Directory = Arc::new(ids.iter().copied().zip(keys.iter().map(|k| k.public())).collect());
        let mut notaries = BTreeMap::new();
        for (id, k) in ids.iter().zip(keys) {
            notaries.insert(*id, notary(k, &directory));
        }
        let states = ids[..n].iter().map(|id| (*id, AcceptorState::default())).collect();
        let cluster = Cluster { states, notaries, validator };
        (cluster, ids[..n].to_vec(), ids[n..].to_vec())
    }

    fn handled(&self, to: NodeId, from: NodeId, request: &Request) -> Handled {
        let acceptor = Acceptor::new(to, REGISTER, &self.validator, &self.notaries[&to]);
        acceptor.handle(&self.states[&to], &from, request)
    }

    /// Deliver `request` to acceptor `to`, persist, and return the reply.
    fn deliver(&mut self, to: NodeId, from: NodeId, request: &Request) -> Reply {
        let handled = self.handled(to, from, request);
        let state = self.states.get_mut(&to).expect("an acceptor");
        handled
            .reply_after(|s| {
                *state = s.clone();
                Ok::<_, std::convert::Infallible>(())
            })
            .unwrap_or_else(|never| match never {})
    }

    /// Run `proposer` to the end, delivering only to and from `reachable`
    /// acceptors; the caller's timeout fires once nothing is in flight.
    fn run(&mut self, proposer: &mut Proposer, me: NodeId, reachable: &[NodeId]) -> Result<Decided, PaxosError> {
        let mut queue = VecDeque::new();
        let mut step = proposer.start();
        loop {
            match step {
                Step::Done(result) => {
                    // The network still delivers what was sent.
                    for (to, request) in queue.into_iter().filter(|(to, _)| reachable.contains(to)) {
                        let _ = self.deliver(to, me, &request);
                    }
                    return result;
                }
                Step::Send(requests) => queue.extend(requests),
                Step::Backoff => {
                    step = proposer.retry();
                    continue;
                }
                Step::Wait => {}
            }
            step = match queue.pop_front() {
                Some((to, request)) if reachable.contains(&to) => {
                    let reply = self.deliver(to, me, &request);
                    proposer.on_reply(to, reply)
                }
                Some(_) => Step::Wait,
                None => proposer.on_timeout(),
            };
        }
    }

    /// A linearizable read through `reachable`.
    fn read(&mut self, me: NodeId, replicas: &ReplicaSet, reachable: &[NodeId]) -> Option<Value> {
        let mut reader = proposer(me, replicas.clone(), Operation::Read, 0, 4);
        match self.run(&mut reader, me, reachable) {
            Ok(Decided::Read(value)) => value,
            other => panic!("read failed: {other:?}"),
        }
    }

    /// Prepare `ballot` on `to` and return the proof of the promises.
    fn promises(&mut self, ballot: Ballot, to: &[NodeId]) -> (Vec<PromiseProof>, Option<Value>) {
        let mut proof = Vec::new();
        let mut highest: Option<Accepted> = None;
        for n in to {
            match self.deliver(*n, ballot.proposer, &Request::Prepare { ballot }) {
                Reply::Promise(p) => {
                    proof.push(p.to_proof(*n));
                    if let Some(a) = p.accepted
                        && highest.as_ref().is_none_or(|h| a.ballot > h.ballot)
                    {
                        highest = Some(a);
                    }
                }
                other => panic!("no promise from {n:?}: {other:?}"),
            }
        }
        (proof, highest.map(|a| a.value))
    }
}

/// A proposer with a fresh nonce.
fn proposer(id: NodeId, replicas: ReplicaSet, operation: Operation, round_hint: u64, attempts: u32) -> Proposer {
    static NONCE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let nonce = NONCE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Proposer::new(id, nonce, replicas, operation).with_round_hint(round_hint).with_max_attempts(attempts)
}

fn store(expected: Option<u64>, version: u64, data: &str) -> Operation {
    Operation::Write(Change::Store { expected, block: Payload::new(version, data.as_bytes()) })
}

fn written(result: Result<Decided, PaxosError>) -> Value {
    match result {
        Ok(Decided::Written(v)) => v,
        other => panic!("write failed: {other:?}"),
    }
}

#[test]
fn write_then_read_returns_the_chosen_value() {
    let (mut c, acceptors, clients) = Cluster::new(3, 1, AllowAll);
    let set = ReplicaSet::new(1, acceptors.clone());
    let mut p = proposer(clients[0], set.clone(), store(None, 1, "a"), 0, 4);
    let v1 = written(c.run(&mut p, clients[0], &acceptors));
    assert_eq!(v1, Value::new(Payload::new(1, "a"), set.clone()));
    let mut p = proposer(clients[0], set.clone(), store(Some(1), 2, "b"), p.highest_round(), 4);
    let v2 = written(c.run(&mut p, clients[0], &acceptors[1..]));
    assert_eq!(v2.block, Payload::new(2, "b"));
    assert_eq!(c.read(clients[0], &set, &acceptors[..2]), Some(v2));
}

#[test]
fn stale_compare_and_swap_conflicts_with_the_current_value() {
    let (mut c, acceptors, clients) = Cluster::new(3, 1, AllowAll);
    let set = ReplicaSet::new(1, acceptors.clone());
    written(c.run(&mut proposer(clients[0], set.clone(), store(None, 1, "a"), 0, 4), clients[0], &acceptors));
    let mut again = proposer(clients[0], set.clone(), store(None, 1, "a"), 0, 4);
    assert_eq!(written(c.run(&mut again, clients[0], &acceptors)).block, Payload::new(1, "a"), "re-store is a no-op");
    let mut other = proposer(clients[0], set.clone(), store(None, 1, "x"), 0, 4);
    match c.run(&mut other, clients[0], &acceptors) {
        Err(PaxosError::Conflict { current }) => assert_eq!(current.block, Payload::new(1, "a")),
        other => panic!("expected a conflict: {other:?}"),
    }
    let mut ahead = proposer(clients[0], set.clone(), store(Some(4), 5, "x"), 0, 4);
    assert_eq!(
        c.run(&mut ahead, clients[0], &acceptors),
        Err(PaxosError::Conflict { current: Value::new(Payload::new(1, "a"), set.clone()) })
    );
    let (mut empty, acceptors, clients) = Cluster::new(3, 1, AllowAll);
    let set = ReplicaSet::new(1, acceptors.clone());
    let mut missing = proposer(clients[0], set, store(Some(1), 2, "x"), 0, 4);
    assert_eq!(empty.run(&mut missing, clients[0], &acceptors), Err(PaxosError::Missing { expected: 1 }));
}

#[test]
fn lower_ballot_is_rejected_with_the_promised_ballot() {
    let (mut c, acceptors, clients) = Cluster::new(3, 2, AllowAll);
    let high = Ballot::new(5, clients[1], 0);
    assert!(matches!(c.deliver(acceptors[0], clients[1], &Request::Prepare { ballot: high }), Reply::Promise(_)));
    let low = Ballot::new(4, clients[0], 0);
    assert_eq!(
        c.deliver(acceptors[0], clients[0], &Request::Prepare { ballot: low }),
        Reply::Rejected { ballot: low, promised: high }
    );
    let set = ReplicaSet::new(1, acceptors.clone());
    let accept = Request::Accept(Accept {
        ballot: low,
        value: Value::new(Payload::new(1, "a"), set),
        previous: None,
        proof: vec![],
    });
    assert_eq!(c.deliver(acceptors[0], clients[0], &accept), Reply::Rejected { ballot: low, promised: high });
    // The proposer of the low ballot retries above the promised one.
    let set = ReplicaSet::new(1, acceptors.clone());
    let mut p = proposer(clients[0], set, store(None, 1, "a"), 3, 4);
    written(c.run(&mut p, clients[0], &acceptors[..1].iter().chain(&acceptors[1..]).copied().collect::<Vec<_>>()));
    assert!(p.ballot() > high);
}

#[test]
fn ballot_of_another_proposer_is_refused() {
    let (mut c, acceptors, clients) = Cluster::new(3, 2, AllowAll);
    let borrowed = Ballot::new(9, clients[1], 0);
    assert!(matches!(
        c.deliver(acceptors[0], clients[0], &Request::Prepare { ballot: borrowed }),
        Reply::Refused { why: Refusal::WrongProposer { .. }, .. }
    ));
}

#[test]
fn duelling_proposers_choose_one_value_and_the_loser_is_not_told_it_never_happened() {
    let (mut c, acceptors, clients) = Cluster::new(3, 2, AllowAll);
    let set = ReplicaSet::new(1, acceptors.clone());
    let (a, b) = (clients[0], clients[1]);
    let mut pa = proposer(a, set.clone(), store(None, 1, "A"), 0, 8);
    let mut pb = proposer(b, set.clone(), store(None, 1, "B"), 1, 8);
    // A prepares everywhere, then B prepares everywhere with a higher ballot.
    let Step::Send(prep_a) = pa.start() else { panic!() };
    let mut accepts_a = Vec::new();
    for (to, r) in prep_a {
        let reply = c.deliver(to, a, &r);
        if let Step::Send(s) = pa.on_reply(to, reply) {
            accepts_a.extend(s);
        }
    }
    let Step::Send(prep_b) = pb.start() else { panic!() };
    assert!(pb.ballot() > pa.ballot());
    let mut accepts_b = Vec::new();
    for (to, r) in prep_b {
        let reply = c.deliver(to, b, &r);
        if let Step::Send(s) = pb.on_reply(to, reply) {
            accepts_b.extend(s);
        }
    }
    // A's accepts now meet B's promises: A's first ballot lost, so it
    // prepares again above B's at once (held back here); B's accepts win.
    let (loser, loser_id, loser_accepts, winner, winner_id, winner_accepts) =
        (&mut pa, a, accepts_a, &mut pb, b, accepts_b);
    let mut queue: VecDeque<(NodeId, Request)> = VecDeque::new();
    for (to, r) in loser_accepts {
        let reply = c.deliver(to, loser_id, &r);
        assert!(matches!(reply, Reply::Rejected { .. }), "{reply:?}");
        if let Step::Send(s) = loser.on_reply(to, reply) {
            queue.extend(s);
        }
    }
    assert!(!queue.is_empty() && queue.iter().all(|(_, r)| matches!(r, Request::Prepare { .. })));
    assert!(loser.ballot() > winner.ballot(), "the retry goes above the ballot that won");
    let mut winner_result = None;
    for (to, r) in winner_accepts {
        let reply = c.deliver(to, winner_id, &r);
        if let Step::Done(result) = winner.on_reply(to, reply) {
            winner_result = Some(result);
        }
    }
    let chosen = written(winner_result.expect("the winner finishes"));
    // The loser retries and finds the winner's value: its expectation fails.
    // Its accepts went out before it backed off (it cannot know every one was
    // refused), so it may not say "conflict" (never happened): the outcome is
    // unknown to it, and the value it reports nothing about is the winner's.
    let mut step = Step::Wait;
    let result = loop {
        match step {
            Step::Done(result) => break result,
            Step::Send(s) => queue.extend(s),
            _ => {}
        }
        let (to, r) = queue.pop_front().expect("in flight");
        step = loser.on_reply(to, c.deliver(to, loser_id, &r));
    };
    assert!(matches!(result, Err(PaxosError::Indeterminate { .. })), "{result:?}");
    assert_eq!(c.read(a, &set, &acceptors[1..]), Some(chosen));
}

#[test]
fn read_completes_a_half_done_write_before_returning_it() {
    let (mut c, acceptors, clients) = Cluster::new(3, 2, AllowAll);
    let set = ReplicaSet::new(1, acceptors.clone());
    written(c.run(&mut proposer(clients[0], set.clone(), store(None, 1, "a"), 0, 4), clients[0], &acceptors));
    // A write reaches only the first acceptor, then its proposer is gone.
    let mut p = proposer(clients[0], set.clone(), store(Some(1), 2, "b"), 1, 4);
    assert!(matches!(c.run(&mut p, clients[0], &acceptors[..1]), Err(PaxosError::Unavailable { .. })));
    let mut p = proposer(clients[0], set.clone(), store(Some(1), 2, "b"), 1, 4);
    let Step::Send(prepares) = p.start() else { panic!() };
    let mut accepts = vec![];
    for (to, r) in prepares {
        let reply = c.deliver(to, clients[0], &r);
        if let Step::Send(s) = p.on_reply(to, reply) {
            accepts.extend(s);
        }
    }
    let (to, r) = accepts.into_iter().find(|(to, _)| *to == acceptors[0]).expect("an accept");
    assert!(matches!(c.deliver(to, clients[0], &r), Reply::Accepted { .. }));
    assert!(matches!(p.on_timeout(), Step::Done(Err(PaxosError::Indeterminate { .. }))));
    // A reader through the first two sees disagreement and completes "b".
    let v2 = c.read(clients[1], &set, &acceptors[..2]).expect("a value");
    assert_eq!(v2.block, Payload::new(2, "b"));
    // It is now chosen: the other majority returns it too.
    assert_eq!(c.read(clients[1], &set, &acceptors[1..]), Some(v2));
}

#[test]
fn timeouts_report_unavailable_before_any_accept_and_indeterminate_after() {
    let (mut c, acceptors, clients) = Cluster::new(3, 1, AllowAll);
    let set = ReplicaSet::new(1, acceptors.clone());
    let mut p = proposer(clients[0], set.clone(), store(None, 1, "a"), 0, 4);
    assert_eq!(c.run(&mut p, clients[0], &acceptors[..1]), Err(PaxosError::Unavailable { reached: 1, needed: 2 }));
    // Promises from a majority, then accepts lost: indeterminate.
    let mut p = proposer(clients[0], set, store(None, 1, "a"), 0, 4);
    let Step::Send(prepares) = p.start() else { panic!() };
    for (to, r) in prepares {
        let reply = c.deliver(to, clients[0], &r);
        let _ = p.on_reply(to, reply);
    }
    assert!(matches!(p.on_timeout(), Step::Done(Err(PaxosError::Indeterminate { .. }))));
    assert_eq!(p.on_timeout(), Step::Wait, "done once");
}

/// Block bytes `writers=a,b;data`: the writers allowed to make the next version.
fn writers_of(value: &Value) -> Vec<String> {
    let text = String::from_utf8_lossy(&value.block.bytes).to_string();
    let list = text.split(';').next().unwrap_or("").trim_start_matches("writers=").to_string();
    list.split(',').map(str::to_string).collect()
}

#[test]
fn revoked_writer_cannot_get_a_version_accepted_through_lagging_acceptors() {
    let names: Arc<std::sync::Mutex<HashMap<NodeId, String>>> = Arc::default();
    let lookup = names.clone();
    let validator = move |sender: &NodeId, previous: Option<&Value>, _new: &Value| {
        let who = lookup.lock().unwrap().get(sender).cloned().unwrap_or_default();
        match previous {
            Some(p) if !writers_of(p).contains(&who) => {
                Err(Refusal::Unauthorized { who, why: "not a writer of the previous version".into() })
            }
            _ => Ok(()),
        }
    };
    let (mut c, acceptors, clients) = Cluster::new(3, 2, validator);
    let (owner, w) = (clients[0], clients[1]);
    names.lock().unwrap().extend([(owner, "owner".to_string()), (w, "w".to_string())]);
    let set = ReplicaSet::new(1, acceptors.clone());
    let (n1, n2, n3) = (acceptors[0], acceptors[1], acceptors[2]);
    // v1 lets w write, and is on every acceptor.
    let v1 =
        written(c.run(&mut proposer(owner, set.clone(), store(None, 1, "writers=owner,w;"), 0, 4), owner, &acceptors));
    // v2 revokes w; n3 is down meanwhile and lags at v1.
    let mut p = proposer(owner, set.clone(), store(Some(1), 2, "writers=owner;"), 1, 4);
    let v2 = written(c.run(&mut p, owner, &[n1, n2]));
    assert_eq!(c.states[&n3].accepted.as_ref().map(|a| &a.value), Some(&v1));

    // Through the protocol, w's change on v2 is refused; on v1 it conflicts.
    let mut p = proposer(w, set.clone(), store(Some(2), 3, "writers=owner,w;mine"), 0, 4);
    let result = c.run(&mut p, w, &acceptors);
    assert!(matches!(result, Err(PaxosError::Refused(Refusal::Unauthorized { .. }))), "{result:?}");
    let mut p = proposer(w, set.clone(), store(Some(1), 2, "writers=owner,w;mine"), 0, 4);
    assert!(matches!(c.run(&mut p, w, &acceptors), Err(PaxosError::Conflict { .. })));

    // Bypassing the proposer: w's forged v2 built on v1, sent to lagging n3.
    let forged = Value::new(Payload::new(2, "writers=owner,w;mine"), set.clone());
    let ballot = Ballot::new(100, w, 0);
    let accept = |proof: Vec<PromiseProof>, previous: &Value| {
        Request::Accept(Accept { ballot, value: forged.clone(), previous: Some(previous.clone()), proof })
    };
    // (a) n3's own promise is not a majority.
    let (proof, _) = c.promises(ballot, &[n3]);
    assert!(matches!(c.deliver(n3, w, &accept(proof.clone(), &v1)), Reply::Refused { why: Refusal::BadProof(_), .. }));
    // (b) invented promises of n1 and n2 reporting v1 do not verify.
    let invent = |acceptor: NodeId| PromiseProof { acceptor, accepted: proof[0].accepted, seal: Seal(vec![0; 64]) };
    let invented = vec![proof[0].clone(), invent(n1), invent(n2)];
    assert!(matches!(c.deliver(n3, w, &accept(invented, &v1)), Reply::Refused { why: Refusal::BadProof(_), .. }));
    // (c) n1's real promise reports v2: v1 is not the highest, and on v2 w has no right.
    let (proof, highest) = c.promises(ballot, &[n3, n1]);
    assert_eq!(highest.as_ref(), Some(&v2));
    assert!(matches!(c.deliver(n3, w, &accept(proof.clone(), &v1)), Reply::Refused { why: Refusal::BadProof(_), .. }));
    let on_v2 = Request::Accept(Accept {
        ballot,
        value: Value::new(Payload::new(3, "writers=owner,w;mine"), set.clone()),
        previous: Some(v2.clone()),
        proof,
    });
    assert!(matches!(c.deliver(n3, w, &on_v2), Reply::Refused { why: Refusal::Unauthorized { .. }, .. }));
    // Nothing of w's landed anywhere; the owner's v2 is what everyone reads.
    for state in c.states.values() {
        let held = state.accepted.as_ref().map(|a| a.value.block.bytes.clone()).unwrap_or_default();
        assert!(!String::from_utf8_lossy(&held).contains("mine"));
    }
    assert_eq!(c.read(owner, &set, &[n2, n3]), Some(v2));
}

#[test]
fn without_seals_a_lagging_acceptor_believes_invented_promises() {
    // Why promises are sealed: the same forgery against an `Unsealed`
    // acceptor lands (and the next honest proposer would complete it).
    let (_, acceptors, clients) = Cluster::new(3, 1, AllowAll);
    let set = ReplicaSet::new(1, acceptors.clone());
    let v1 = Value::new(Payload::new(1, "writers=owner,w;"), set.clone());
    let lagging = AcceptorState {
        promised: Some(Ballot::new(1, clients[0], 0)),
        accepted: Some(Accepted { ballot: Ballot::new(1, clients[0], 0), value: v1.clone() }),
    };
    let w = clients[0];
    let ballot = Ballot::new(100, w, 0);
    let reported = Some((Ballot::new(1, w, 0), v1.digest()));
    let proof =
        acceptors.iter().map(|a| PromiseProof { acceptor: *a, accepted: reported, seal: Seal(vec![]) }).collect();
    let forged = Value::new(Payload::new(2, "writers=owner,w;mine"), set);
    let request = Request::Accept(Accept { ballot, value: forged, previous: Some(v1), proof });
    let acceptor = Acceptor::new(acceptors[2], REGISTER, &AllowAll, &Unsealed);
    assert!(matches!(
        acceptor.handle(&lagging, &w, &request).reply_after(|_| Ok::<_, ()>(())),
        Ok(Reply::Accepted { .. })
    ));
}

#[test]
fn acceptor_outside_the_promises_refuses_a_proof_older_than_its_own_value() {
    let (mut c, acceptors, clients) = Cluster::new(3, 2, AllowAll);
    let set = ReplicaSet::new(1, acceptors.clone());
    let (n1, n2, n3) = (acceptors[0], acceptors[1], acceptors[2]);
    // "a" reaches n1 alone at ballot 1.
    let b1 = Ballot::new(1, clients[0], 0);
    let (proof, _) = c.promises(b1, &[n1, n2]);
    let a = Value::new(Payload::new(1, "a"), set.clone());
    let accept_a = Request::Accept(Accept { ballot: b1, value: a, previous: None, proof });
    assert!(matches!(c.deliver(n1, clients[0], &accept_a), Reply::Accepted { .. }));
    // "b" is proposed at ballot 2 from the promises of n2 and n3, which hold nothing.
    let b2 = Ballot::new(2, clients[1], 0);
    let (proof, highest) = c.promises(b2, &[n2, n3]);
    assert_eq!(highest, None);
    let b = Value::new(Payload::new(1, "b"), set.clone());
    let accept_b = Request::Accept(Accept { ballot: b2, value: b.clone(), previous: None, proof });
    // n1 was not asked: it refuses to go back to an empty register...
    assert_eq!(c.deliver(n1, clients[1], &accept_b), Reply::Refused { ballot: b2, why: Refusal::Stale { own: b1 } });
    // ...which costs nothing: the promisers are a majority, and "b" is chosen.
    assert!(matches!(c.deliver(n2, clients[1], &accept_b), Reply::Accepted { .. }));
    assert!(matches!(c.deliver(n3, clients[1], &accept_b), Reply::Accepted { .. }));
    assert_eq!(c.read(clients[0], &set, &[n1, n2]), Some(b));
}

#[test]
fn replica_set_changes_one_member_at_a_time_and_stale_proposers_follow() {
    let (mut c, acceptors, clients) = Cluster::new(4, 1, AllowAll);
    let me = clients[0];
    let (n1, n2, n3, n4) = (acceptors[0], acceptors[1], acceptors[2], acceptors[3]);
    let first = ReplicaSet::new(1, [n1, n2, n3]);
    let v1 = written(c.run(&mut proposer(me, first.clone(), store(None, 1, "a"), 0, 4), me, &acceptors));
    // Add n4 (accepted by a majority of {n1, n2, n3}), then remove n1.
    let mut add = proposer(me, first.clone(), Operation::Write(Change::AddReplica(n4)), 0, 4);
    let v1b = written(c.run(&mut add, me, &[n2, n3, n4]));
    assert_eq!(v1b.replicas, ReplicaSet::new(2, [n1, n2, n3, n4]));
    assert_eq!(v1b.block, v1.block);
    let mut remove = proposer(me, v1b.replicas.clone(), Operation::Write(Change::RemoveReplica(n1)), 0, 4);
    let v1c = written(c.run(&mut remove, me, &acceptors));
    let last = ReplicaSet::new(3, [n2, n3, n4]);
    assert_eq!(v1c.replicas, last);
    // A proposer that still believes {n1, n2, n3} learns {n2, n3, n4} from
    // the promises, asks n4 too, and writes with a majority of the new set.
    let mut stale = proposer(me, first.clone(), store(Some(1), 2, "b"), 0, 4);
    let v2 = written(c.run(&mut stale, me, &[n1, n3, n4]));
    assert_eq!(v2.replicas, last);
    assert_eq!(c.read(me, &last, &[n3, n4]), Some(v2.clone()));
    // Two members at once is refused by the acceptors.
    let ballot = Ballot::new(90, me, 0);
    let (proof, highest) = c.promises(ballot, &[n2, n3, n4]);
    assert_eq!(highest.as_ref(), Some(&v2));
    let swap = Value::new(v2.block.clone(), ReplicaSet::new(4, [n1, n3, n4]));
    let request = Request::Accept(Accept { ballot, value: swap, previous: Some(v2), proof });
    assert!(matches!(c.deliver(n3, me, &request), Reply::Refused { why: Refusal::Invalid(_), .. }));
    // The last replica stays.
    let (mut solo, only, _) = Cluster::new(1, 0, AllowAll);
    let n = only[0];
    let set = ReplicaSet::new(1, [n]);
    written(solo.run(&mut proposer(n, set.clone(), store(None, 1, "a"), 0, 4), n, &[n]));
    let mut remove = proposer(n, set, Operation::Write(Change::RemoveReplica(n)), 0, 4);
    assert!(matches!(solo.run(&mut remove, n, &[n]), Err(PaxosError::Refused(Refusal::Invalid(_)))));
}

#[test]
fn reply_leaves_only_after_the_state_is_durable() {
    let (c, acceptors, clients) = Cluster::new(3, 1, AllowAll);
    let prepare = Request::Prepare { ballot: Ballot::new(1, clients[0], 0) };
    let handled = c.handled(acceptors[0], clients[0], &prepare);
    assert!(handled.change().is_some());
    assert_eq!(handled.clone().reply_after(|_| Err("disk full")), Err("disk full"));
    // Through redb: the promise survives a reopen, and a duplicate changes nothing.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("acceptors.redb");
    let reply = {
        let store = RedbStore::open(&path).unwrap();
        assert_eq!(store.load(&REGISTER).unwrap(), None);
        handled.commit(&store, &REGISTER).unwrap()
    };
    assert!(matches!(reply, Reply::Promise(_)));
    let store = RedbStore::open(&path).unwrap();
    let state = store.load(&REGISTER).unwrap().expect("persisted");
    assert_eq!(state.promised, Some(Ballot::new(1, clients[0], 0)));
    let again = Acceptor::new(acceptors[0], REGISTER, &c.validator, &c.notaries[&acceptors[0]]);
    assert_eq!(again.handle(&state, &clients[0], &prepare).change(), None);
    let memory = MemoryStore::new();
    let reply = again.handle(&AcceptorState::default(), &clients[0], &prepare).commit(&memory, &REGISTER);
    assert!(matches!(reply, Ok(Reply::Promise(_))));
    assert!(memory.load(&REGISTER).unwrap().is_some());
}

#[test]
fn errors_map_onto_the_consensus_contract() {
    use crate::runtime::consensus::ConsensusError;
    let decode = |_: &Payload| -> Result<crate::runtime::block::Block, ConsensusError> {
        Err(ConsensusError::Corrupt { address: REGISTER, why: "test".into() })
    };
    let map = |e: PaxosError| e.into_consensus(REGISTER, decode);
    assert!(matches!(
        map(PaxosError::Unavailable { reached: 1, needed: 2 }),
        ConsensusError::Unavailable { reached: 1, needed: 2 }
    ));
    assert!(matches!(map(PaxosError::Timeout { attempts: 3 }), ConsensusError::Timeout { .. }));
    assert!(matches!(map(PaxosError::Indeterminate { why: "x".into() }), ConsensusError::Indeterminate { .. }));
    assert!(matches!(map(PaxosError::Missing { expected: 4 }), ConsensusError::Missing { version: 4, .. }));
    let unauthorized = PaxosError::Refused(Refusal::Unauthorized { who: "w".into(), why: "revoked".into() });
    assert!(matches!(map(unauthorized), ConsensusError::Unauthorized(_)));
    assert!(matches!(map(PaxosError::Refused(Refusal::Invalid("x".into()))), ConsensusError::Refused(_)));
    let conflict = PaxosError::Conflict { current: Value::new(Payload::new(1, "a"), ReplicaSet::new(1, [])) };
    assert!(matches!(map(conflict), ConsensusError::Corrupt { .. }), "a payload that does not decode");
}

#[test]
fn a_creator_stores_a_new_register_with_one_accept_round_and_falls_back_to_prepare_when_it_is_known() {
    let (mut c, acceptors, clients) = Cluster::new(3, 2, AllowAll);
    let set = ReplicaSet::new(1, acceptors.clone());
    // One round: round-0 accepts without proof, no prepare.
    let mut p = proposer(clients[0], set.clone(), store(None, 1, "a"), 0, 4).with_genesis();
    let Step::Send(requests) = p.start() else { panic!("the creator sends at once") };
    assert_eq!(requests.len(), 3);
    for (to, request) in &requests {
        let Request::Accept(accept) = request else { panic!("an accept, not a prepare: {request:?}") };
        assert_eq!((accept.ballot.round, accept.previous.as_ref(), accept.proof.len()), (0, None, 0));
        let reply = c.deliver(*to, clients[0], request);
        if let Step::Done(result) = p.on_reply(*to, reply) {
            assert_eq!(written(result).block, Payload::new(1, "a"));
            break;
        }
    }
    assert!(p.is_done(), "a majority of accepts decides");
    assert_eq!(c.read(clients[1], &set, &acceptors[1..]).map(|v| v.block), Some(Payload::new(1, "a")));
    // Anyone else creating the register (through prepare: round 0 is the
    // creator's alone) finds it taken.
    let mut late = proposer(clients[1], set.clone(), store(None, 1, "b"), 0, 4);
    match c.run(&mut late, clients[1], &acceptors) {
        Err(PaxosError::Conflict { current }) => assert_eq!(current.block, Payload::new(1, "a")),
        other => panic!("a second creation conflicts: {other:?}"),
    }
    assert_eq!(c.read(clients[1], &set, &acceptors[..2]).map(|v| v.block), Some(Payload::new(1, "a")));
    // Acceptors that promised a reader something reject round 0; the
    // creator falls back to prepare and still creates the register.
    let (mut c, acceptors, clients) = Cluster::new(3, 2, AllowAll);
    let set = set_of(&acceptors);
    assert_eq!(c.read(clients[1], &set, &acceptors), None);
    let mut p = proposer(clients[0], set.clone(), store(None, 1, "a"), 0, 4).with_genesis();
    assert_eq!(written(c.run(&mut p, clients[0], &acceptors)).block, Payload::new(1, "a"));
    assert!(p.ballot().round > 0, "it went through prepare");
    assert_eq!(c.read(clients[1], &set, &acceptors[1..]).map(|v| v.block), Some(Payload::new(1, "a")));
    // A round-0 accept that claims a previous value or carries a proof is
    // refused, and so is a second round-0 value on an acceptor that took one.
    let (mut c, acceptors, clients) = Cluster::new(3, 1, AllowAll);
    let ballot = Ballot::new(0, clients[0], 9);
    let value = Value::new(Payload::new(1, "x"), set_of(&acceptors));
    let claimed = Accept { ballot, value: value.clone(), previous: Some(value.clone()), proof: Vec::new() };
    assert!(matches!(c.deliver(acceptors[0], clients[0], &Request::Accept(claimed)), Reply::Refused { .. }));
    let first = Accept { ballot, value: value.clone(), previous: None, proof: Vec::new() };
    assert!(matches!(c.deliver(acceptors[0], clients[0], &Request::Accept(first.clone())), Reply::Accepted { .. }));
    assert!(matches!(c.deliver(acceptors[0], clients[0], &Request::Accept(first)), Reply::Accepted { .. }));
    let other = Value::new(Payload::new(1, "y"), set_of(&acceptors));
    let second = Accept { ballot: Ballot::new(0, clients[0], 10), value: other, previous: None, proof: Vec::new() };
    assert!(matches!(c.deliver(acceptors[0], clients[0], &Request::Accept(second)), Reply::Rejected { .. }));
}

#[test]
fn a_refused_creation_waits_for_the_late_answers_to_its_round_0_accept_before_saying_refused() {
    let read_only: Arc<std::sync::Mutex<Vec<NodeId>>> = Arc::default();
    let lookup = read_only.clone();
    let validator = move |sender: &NodeId, _previous: Option<&Value>, _new: &Value| {
        if lookup.lock().unwrap().contains(sender) {
            Err(Refusal::Unauthorized { who: "reader".into(), why: "its passport is read-only".into() })
        } else {
            Ok(())
        }
    };
    let (mut c, acceptors, clients) = Cluster::new(3, 2, validator);
    let (creator, other) = (clients[0], clients[1]);
    read_only.lock().unwrap().push(creator);
    let set = set_of(&acceptors);
    // The first acceptor promised another proposer a ballot: it rejects
    // the round-0 accept, and the creator goes on to prepare while the
    // other two have not answered it yet.
    let _ = c.deliver(acceptors[0], other, &Request::Prepare { ballot: Ballot::new(1, other, 1) });
    let mut p = proposer(creator, set, store(None, 1, "a"), 0, 4).with_genesis();
    let Step::Send(round_0) = p.start() else { panic!("round-0 accepts") };
    let mut late = Vec::new();
    let mut step = Step::Wait;
    for (to, request) in round_0 {
        if to == acceptors[0] {
            step = p.on_reply(to, c.deliver(to, creator, &request));
        } else {
            late.push((to, request));
        }
    }
    let Step::Send(prepares) = step else { panic!("a prepare round after the rejection: {step:?}") };
    let mut accepts = Vec::new();
    for (to, request) in prepares {
        if let Step::Send(sent) = p.on_reply(to, c.deliver(to, creator, &request)) {
            accepts = sent;
        }
    }
    assert!(!accepts.is_empty(), "an accept round after the promises");
    // Two refusals of that accept: a majority refused, but the round-0
    // accept may still land on the two that have not answered it.
    for (to, request) in accepts.into_iter().take(2) {
        let step = p.on_reply(to, c.deliver(to, creator, &request));
        assert!(matches!(step, Step::Wait), "told before the round-0 answers came: {step:?}");
    }
    // Their late answers say it did not land: refused, not "unknown".
    let mut last = Step::Wait;
    for (to, request) in late {
        last = p.on_reply(to, c.deliver(to, creator, &request));
    }
    assert!(matches!(last, Step::Done(Err(PaxosError::Refused(Refusal::Unauthorized { .. })))), "{last:?}");
}

fn set_of(acceptors: &[NodeId]) -> ReplicaSet {
    ReplicaSet::new(1, acceptors.to_vec())
}
