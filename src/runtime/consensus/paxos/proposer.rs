//! The proposer of one operation on one register: a write (a
//! compare-and-swap of the block, or a replica-set change) or a
//! linearizable read. It takes replies and timeouts, returns what to send,
//! and ends with a [`Decided`] value or a [`PaxosError`].

use std::collections::{BTreeMap, BTreeSet};

use super::message::{Accept, Accepted, Promise, PromiseProof, Refusal, Reply, Request};
use super::value::{Ballot, NodeId, Payload, ReplicaSet, Value};
use crate::runtime::block::{Address, Block, BlockError};
use crate::runtime::consensus::ConsensusError;

/// A change to apply to the value chosen so far.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Change {
    /// Compare-and-swap: store `block` if the current block's version is
    /// `expected` (`None`: the register is empty); storing the current
    /// block again succeeds and changes nothing.
    Store {
        /// The version the new block was built on.
        expected: Option<u64>,
        /// The new block (version `expected + 1`, or 1).
        block: Payload,
    },
    /// Add one node to the replica set (a no-op if it is a member).
    AddReplica(NodeId),
    /// Remove one node from the replica set (a no-op if it is not a member).
    RemoveReplica(NodeId),
}

/// What a proposer does.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Operation {
    /// Apply a change.
    Write(Change),
    /// Read the value chosen so far, completing a half-done write if needed.
    Read,
}

/// What an operation achieved.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Decided {
    /// The write's value is chosen (it may equal the previous one).
    Written(Value),
    /// The value chosen so far (`None`: nothing was ever written).
    Read(Option<Value>),
}

/// Why an operation failed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
pub enum PaxosError {
    /// The expected version is not the current one; `current` is chosen.
    #[error("the block is at version {} (another writer won)", current.block.version)]
    Conflict {
        /// The value chosen so far.
        current: Value,
    },
    /// The write expected a version, but the register is empty.
    #[error("version {expected} was expected, but nothing is stored")]
    Missing {
        /// The version expected.
        expected: u64,
    },
    /// The acceptors refused the value (invalid or unauthorized change).
    #[error("refused: {0}")]
    Refused(Refusal),
    /// Too few replicas answered before the caller's timeout.
    #[error("only {reached} of the {needed} replicas needed answered")]
    Unavailable {
        /// Replicas that answered favourably.
        reached: usize,
        /// A majority of the replica set.
        needed: usize,
    },
    /// Other proposers kept winning (or the caller gave up); nothing of
    /// this operation took effect.
    #[error("no ballot won after {attempts} attempts")]
    Timeout {
        /// Ballots tried.
        attempts: u32,
    },
    /// An accept of this write may have reached some acceptors: the write
    /// may or may not be chosen (read to find out).
    #[error("{why}")]
    Indeterminate {
        /// What is known.
        why: String,
    },
}

impl PaxosError {
    /// This error in the consensus contract, for the block at `address`;
    /// `decode` turns a register's payload back into a block.
    pub fn into_consensus(
        self,
        address: Address,
        decode: impl FnOnce(&Payload) -> Result<Block, ConsensusError>,
    ) -> ConsensusError {
        match self {
            PaxosError::Conflict { current } => match decode(&current.block) {
                Ok(block) => ConsensusError::Conflict { address, current: Box::new(block) },
                Err(e) => e,
            },
            PaxosError::Missing { expected } => ConsensusError::Missing { address, version: expected },
            PaxosError::Refused(Refusal::Unauthorized { who, why }) => {
                tracing::debug!(%address, %who, %why, "change refused by the replicas");
                ConsensusError::Unauthorized(BlockError::Denied { address, key: who, action: "change this block" })
            }
            PaxosError::Refused(why) => {
                ConsensusError::Refused(BlockError::Invalid { address, why: format!("refused by the replicas: {why}") })
            }
            PaxosError::Unavailable { reached, needed } => ConsensusError::Unavailable { reached, needed },
            PaxosError::Timeout { .. } => ConsensusError::Timeout { address },
            PaxosError::Indeterminate { why } => ConsensusError::Indeterminate { address, why },
        }
    }
}

/// What the caller does next.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum Step {
    /// Send these requests.
    Send(Vec<(NodeId, Request)>),
    /// Wait for more replies (or call [`Proposer::on_timeout`]).
    Wait,
    /// Another proposer holds a higher ballot: wait a random delay, then
    /// call [`Proposer::retry`].
    Backoff,
    /// The operation is over.
    Done(Result<Decided, PaxosError>),
}

/// Answers to one phase's requests.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
struct Tally {
    asked: BTreeSet<NodeId>,
    rejected: BTreeSet<NodeId>,
    refused: BTreeMap<NodeId, Refusal>,
}

impl Tally {
    fn asking(nodes: impl IntoIterator<Item = NodeId>) -> Tally {
        Tally { asked: nodes.into_iter().collect(), ..Tally::default() }
    }

    /// Whether a majority of `set` can still say yes.
    fn can_reach(&self, set: &ReplicaSet) -> bool {
        let lost = set.count_members(self.rejected.iter().chain(self.refused.keys()));
        set.members().len() - lost >= set.majority()
    }

    /// Whether some asked node neither refused nor rejected (its request may still land).
    fn any_open(&self) -> bool {
        self.asked.iter().any(|n| !self.rejected.contains(n) && !self.refused.contains_key(n))
    }

    fn first_refusal(&self) -> Option<Refusal> {
        self.refused.values().next().cloned()
    }
}

/// What an accept round is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Goal {
    /// Our write's value.
    Write,
    /// A read completing the value it found.
    Read,
    /// A failed compare-and-swap completing the current value before saying so.
    Conflict,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Phase {
    Idle,
    Preparing { tally: Tally, promises: BTreeMap<NodeId, Promise> },
    Accepting { goal: Goal, value: Value, quorum: ReplicaSet, tally: Tally, accepted: BTreeSet<NodeId> },
    Backoff,
    Done,
}

/// Drives one operation on one register through prepare and accept rounds.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Proposer {
    id: NodeId,
    operation: Operation,
    replicas: ReplicaSet,
    ballot: Ballot,
    attempts: u32,
    max_attempts: u32,
    highest_round: u64,
    /// An earlier accept round of our write may have landed somewhere.
    effect: bool,
    /// Create the register with a round-0 accept, without a prepare round.
    genesis: bool,
    /// Acceptors whose answer to the round-0 accept had not come when the
    /// proposer went on to prepare: until they answer (refused, or
    /// accepted, which counts as `effect`), that accept may have landed.
    genesis_open: BTreeSet<NodeId>,
    phase: Phase,
}

/// What a change makes of the value chosen so far.
enum Applied {
    Next(Value),
    Conflict,
    Missing(u64),
    Invalid(String),
}

fn apply(change: &Change, previous: Option<&Value>, genesis: &ReplicaSet) -> Applied {
    match (change, previous) {
        (Change::Store { expected: None, block }, None) => Applied::Next(Value::new(block.clone(), genesis.clone())),
        (Change::Store { expected: Some(v), .. }, None) => Applied::Missing(*v),
        (Change::Store { block, .. }, Some(p)) if p.block == *block => Applied::Next(p.clone()),
        (Change::Store { expected, block }, Some(p)) if *expected == Some(p.block.version) => {
            Applied::Next(Value::new(block.clone(), p.replicas.clone()))
        }
        (Change::Store { .. }, Some(_)) => Applied::Conflict,
        (Change::AddReplica(_) | Change::RemoveReplica(_), None) => {
            Applied::Invalid("the replica set of an empty register cannot change".into())
        }
        (Change::AddReplica(n), Some(p)) if p.replicas.contains(n) => Applied::Next(p.clone()),
        (Change::AddReplica(n), Some(p)) => Applied::Next(Value::new(p.block.clone(), p.replicas.with(*n))),
        (Change::RemoveReplica(n), Some(p)) if !p.replicas.contains(n) => Applied::Next(p.clone()),
        (Change::RemoveReplica(_), Some(p)) if p.replicas.members().len() == 1 => {
            Applied::Invalid("the last replica cannot be removed".into())
        }
        (Change::RemoveReplica(n), Some(p)) => Applied::Next(Value::new(p.block.clone(), p.replicas.without(n))),
    }
}

impl Proposer {
    /// A proposer `id` for `operation`, starting with the replica set the
    /// caller knows (placement, or the last value read; a new block is
    /// created with it). `nonce` must differ between the operations of one
    /// node on one register (a random number does). By default it starts at
    /// round 1 and tries at most [`Proposer::DEFAULT_ATTEMPTS`] ballots.
    pub fn new(id: NodeId, nonce: u64, replicas: ReplicaSet, operation: Operation) -> Self {
        Proposer {
            id,
            operation,
            replicas,
            ballot: Ballot::new(0, id, nonce),
            attempts: 0,
            max_attempts: Self::DEFAULT_ATTEMPTS,
            highest_round: 0,
            effect: false,
            genesis: false,
            genesis_open: BTreeSet::new(),
            phase: Phase::Idle,
        }
    }

    /// Ballots tried before giving up, unless told otherwise.
    pub const DEFAULT_ATTEMPTS: u32 = 8;

    /// Start above `round` (the highest round the caller saw on this register).
    pub fn with_round_hint(mut self, round: u64) -> Self {
        self.highest_round = round;
        self
    }

    /// Create the register with one accept round at round 0 and no prepare
    /// round (only for a store into an empty register; anything else goes
    /// through prepare as usual). Round 0 is below every ballot a prepare
    /// uses, so no value can have been chosen before it, and acceptors take
    /// a round-0 accept only while they know nothing of the register. It is
    /// safe as long as at most one value is ever proposed at round 0 for a
    /// register — the caller's promise: only the creator of a new block
    /// does this, once, and a retry goes through prepare. If an acceptor
    /// knows the register already, the proposer falls back to prepare.
    pub fn with_genesis(mut self) -> Self {
        self.genesis = true;
        self
    }

    /// Try at most `attempts` ballots (at least one).
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The current ballot.
    pub fn ballot(&self) -> Ballot {
        self.ballot
    }

    /// The highest round seen, to start the next proposer on this register above it.
    pub fn highest_round(&self) -> u64 {
        self.highest_round
    }

    /// Whether the operation is over.
    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    /// Send the first prepare round.
    pub fn start(&mut self) -> Step {
        match (&self.phase, &self.operation) {
            (Phase::Idle, Operation::Write(Change::Store { expected: None, block })) if self.genesis => {
                let value = Value::new(block.clone(), self.replicas.clone());
                self.ballot = Ballot::new(0, self.id, self.ballot.nonce);
                self.accept(Goal::Write, value, None, Vec::new())
            }
            (Phase::Idle, _) => self.prepare(),
            _ => Step::Wait,
        }
    }

    /// After a [`Step::Backoff`], try again with a higher ballot.
    pub fn retry(&mut self) -> Step {
        match self.phase {
            Phase::Backoff => self.prepare(),
            _ => Step::Wait,
        }
    }

    fn prepare(&mut self) -> Step {
        self.attempts += 1;
        self.ballot = Ballot::new(self.highest_round.max(self.ballot.round) + 1, self.id, self.ballot.nonce);
        self.highest_round = self.ballot.round;
        let tally = Tally::asking(self.replicas.members().iter().copied());
        let send = tally.asked.iter().map(|n| (*n, Request::Prepare { ballot: self.ballot })).collect();
        self.phase = Phase::Preparing { tally, promises: BTreeMap::new() };
        Step::Send(send)
    }

    /// Handle `reply` from acceptor `from`.
    pub fn on_reply(&mut self, from: NodeId, reply: Reply) -> Step {
        if let Reply::Rejected { promised, .. } = &reply {
            self.highest_round = self.highest_round.max(promised.round);
        }
        if reply.ballot().round == 0 && reply.ballot() != self.ballot && self.genesis_open.remove(&from) {
            // A late answer to the round-0 accept this proposer went past.
            self.effect |= matches!(reply, Reply::Accepted { .. });
            // A refusal that waited for it may now be told.
            return match &self.phase {
                Phase::Accepting { quorum, tally, .. } if !tally.can_reach(quorum) => self.after_accept_refusal(),
                _ => Step::Wait,
            };
        }
        if reply.ballot() != self.ballot {
            return Step::Wait;
        }
        match (&mut self.phase, reply) {
            (Phase::Preparing { tally, promises }, reply) if tally.asked.contains(&from) => {
                match reply {
                    Reply::Promise(p) => {
                        promises.insert(from, p);
                    }
                    // Someone holds a higher ballot: this round would most
                    // likely lose, and waiting on a down replica instead
                    // would only end at the caller's deadline.
                    Reply::Rejected { .. } => return self.backoff(),
                    Reply::Refused { why, .. } => {
                        tally.refused.insert(from, why);
                    }
                    Reply::Accepted { .. } => return Step::Wait,
                }
                self.after_prepare_reply()
            }
            (Phase::Accepting { quorum, tally, accepted, .. }, reply) if tally.asked.contains(&from) => {
                match reply {
                    Reply::Accepted { .. } => {
                        accepted.insert(from);
                        if quorum.is_quorum(accepted.iter()) {
                            return self.chosen();
                        }
                        Step::Wait
                    }
                    Reply::Rejected { .. } => {
                        tally.rejected.insert(from);
                        self.note_effect();
                        self.backoff()
                    }
                    // A replica outside the promises that holds a newer
                    // accept: a new prepare round will include it.
                    Reply::Refused { why: Refusal::Stale { .. }, .. } => {
                        tally.rejected.insert(from);
                        self.after_accept_refusal()
                    }
                    Reply::Refused { why, .. } => {
                        tally.refused.insert(from, why);
                        self.after_accept_refusal()
                    }
                    Reply::Promise(_) => Step::Wait,
                }
            }
            _ => Step::Wait,
        }
    }

    /// The highest-ballot accepted value among `promises`, and the replica
    /// set a majority of which must have promised: that value's own set.
    fn highest<'a>(&'a self, promises: &'a BTreeMap<NodeId, Promise>) -> (Option<&'a Accepted>, &'a ReplicaSet) {
        let highest = promises.values().filter_map(|p| p.accepted.as_ref()).max_by_key(|a| a.ballot);
        (highest, highest.map_or(&self.replicas, |a| &a.value.replicas))
    }

    fn after_prepare_reply(&mut self) -> Step {
        let Phase::Preparing { tally, promises } = &self.phase else { return Step::Wait };
        let (highest, needed) = self.highest(promises);
        // A promise may show a newer replica set: ask its members too.
        let missing: Vec<NodeId> = needed.members().iter().filter(|n| !tally.asked.contains(n)).copied().collect();
        if !missing.is_empty() {
            let ballot = self.ballot;
            if let Phase::Preparing { tally, .. } = &mut self.phase {
                tally.asked.extend(missing.iter().copied());
            }
            return Step::Send(missing.into_iter().map(|n| (n, Request::Prepare { ballot })).collect());
        }
        if needed.is_quorum(promises.keys()) {
            let highest = highest.cloned();
            let needed = needed.clone();
            return self.decide(highest, &needed);
        }
        if tally.can_reach(needed) {
            return Step::Wait;
        }
        match (tally.rejected.is_empty(), tally.first_refusal()) {
            (true, Some(why)) => self.finish(Err(PaxosError::Refused(why))),
            _ => self.backoff(),
        }
    }

    /// A majority of `needed` promised: apply the operation to `highest`.
    fn decide(&mut self, highest: Option<Accepted>, needed: &ReplicaSet) -> Step {
        let Phase::Preparing { promises, .. } = &self.phase else { return Step::Wait };
        let reported = highest.as_ref().map(|a| a.ballot);
        let agreeing = promises.iter().filter(|(_, p)| p.accepted.as_ref().map(|a| a.ballot) == reported);
        // A majority that accepted the same ballot means that value is chosen.
        let agreed = needed.is_quorum(agreeing.map(|(n, _)| n));
        let proof = promises.iter().map(|(n, p)| p.to_proof(*n)).collect();
        let previous = highest.map(|a| a.value);
        match &self.operation {
            Operation::Read => match previous {
                Some(value) if !agreed => self.accept(Goal::Read, value.clone(), Some(value), proof),
                previous => self.finish(Ok(Decided::Read(previous))),
            },
            Operation::Write(change) => match apply(change, previous.as_ref(), &self.replicas) {
                Applied::Next(value) if agreed && previous.as_ref() == Some(&value) => {
                    self.finish(Ok(Decided::Written(value)))
                }
                Applied::Next(value) => self.accept(Goal::Write, value, previous, proof),
                // An accept of this write went out in an earlier attempt: it
                // may have been chosen, then overwritten by another writer.
                // "Conflict" would say it never happened.
                Applied::Conflict if self.may_have_landed() => self.finish(Err(PaxosError::Indeterminate {
                    why: "another writer's value is current, and an earlier accept of this write may have been chosen before it".into(),
                })),
                Applied::Conflict => match previous {
                    Some(current) if agreed => self.finish(Err(PaxosError::Conflict { current })),
                    Some(current) => self.accept(Goal::Conflict, current.clone(), Some(current), proof),
                    None => self.finish(Err(PaxosError::Refused(Refusal::Invalid("conflict on nothing".into())))),
                },
                Applied::Missing(expected) => self.finish(Err(PaxosError::Missing { expected })),
                Applied::Invalid(why) => self.finish(Err(PaxosError::Refused(Refusal::Invalid(why)))),
            },
        }
    }

    fn accept(&mut self, goal: Goal, value: Value, previous: Option<Value>, proof: Vec<PromiseProof>) -> Step {
        let quorum = value.quorum_set(previous.as_ref()).clone();
        let targets = quorum.union(&value.replicas);
        let request = Accept { ballot: self.ballot, value: value.clone(), previous, proof };
        let send = targets.iter().map(|n| (*n, Request::Accept(request.clone()))).collect();
        self.phase = Phase::Accepting { goal, value, quorum, tally: Tally::asking(targets), accepted: BTreeSet::new() };
        Step::Send(send)
    }

    fn chosen(&mut self) -> Step {
        let Phase::Accepting { goal, value, .. } = &self.phase else { return Step::Wait };
        let result = match goal {
            Goal::Write => Ok(Decided::Written(value.clone())),
            Goal::Read => Ok(Decided::Read(Some(value.clone()))),
            Goal::Conflict => Err(PaxosError::Conflict { current: value.clone() }),
        };
        self.finish(result)
    }

    /// Record whether the current accept round of our write may have
    /// landed. The round-0 accept of a creation keeps listening for its
    /// open answers instead (a refusal there means it did not land).
    fn note_effect(&mut self) {
        if let Phase::Accepting { goal: Goal::Write, tally, accepted, .. } = &self.phase {
            if self.ballot.round == 0 {
                self.effect |= !accepted.is_empty();
                self.genesis_open = tally
                    .asked
                    .iter()
                    .filter(|n| !accepted.contains(n) && !tally.rejected.contains(n) && !tally.refused.contains_key(n))
                    .copied()
                    .collect();
            } else {
                self.effect |= !accepted.is_empty() || tally.any_open();
            }
        }
    }

    /// Whether an accept of our write may have been chosen.
    fn may_have_landed(&self) -> bool {
        self.effect || !self.genesis_open.is_empty()
    }

    fn after_accept_refusal(&mut self) -> Step {
        let Phase::Accepting { quorum, tally, accepted, .. } = &self.phase else { return Step::Wait };
        if tally.can_reach(quorum) {
            return Step::Wait;
        }
        // Validators are functions of (sender, previous, new), the same on
        // every replica: once a majority refused the value, no replica
        // still in flight accepts it, unless one already did.
        let refusal = tally.rejected.is_empty().then(|| tally.first_refusal()).flatten();
        let landed = !accepted.is_empty();
        match refusal {
            Some(why) if !landed && !self.may_have_landed() => self.finish(Err(PaxosError::Refused(why))),
            // Only the answers to the round-0 accept are missing: they
            // tell whether it landed (a loaded replica answers late; the
            // caller's deadline ends the wait if one never does).
            Some(_) if !landed && !self.effect => Step::Wait,
            Some(why) => self.finish(Err(PaxosError::Indeterminate {
                why: format!("refused ({why}), but an accept of this write reached some replicas"),
            })),
            None => {
                self.note_effect();
                self.backoff()
            }
        }
    }

    fn backoff(&mut self) -> Step {
        if self.attempts >= self.max_attempts {
            let error = self.give_up();
            return self.finish(Err(error));
        }
        if self.attempts <= 1 {
            // The first ballot (or the round-0 accept of a creation) lost to
            // a promise this proposer did not know of (most often a
            // finished operation's): go above it at once. Only proposers
            // that keep duelling wait.
            return self.prepare();
        }
        self.phase = Phase::Backoff;
        Step::Backoff
    }

    fn give_up(&self) -> PaxosError {
        if self.may_have_landed() {
            PaxosError::Indeterminate {
                why: format!(
                    "no ballot won in {} attempts, and an accept of this write reached some replicas",
                    self.attempts
                ),
            }
        } else {
            PaxosError::Timeout { attempts: self.attempts }
        }
    }

    /// The caller's deadline passed: end the operation with what is known.
    pub fn on_timeout(&mut self) -> Step {
        self.note_effect();
        let error = match &self.phase {
            Phase::Done => return Step::Wait,
            _ if self.may_have_landed() => PaxosError::Indeterminate {
                why: "timed out after an accept of this write was sent; it may or may not be chosen".into(),
            },
            Phase::Preparing { tally, promises } => {
                let (_, needed) = self.highest(promises);
                let reached = needed.count_members(promises.keys());
                let answered = reached + needed.count_members(tally.rejected.iter().chain(tally.refused.keys()));
                if answered < needed.majority() {
                    PaxosError::Unavailable { reached, needed: needed.majority() }
                } else {
                    PaxosError::Timeout { attempts: self.attempts }
                }
            }
            Phase::Accepting { quorum, accepted, .. } => {
                PaxosError::Unavailable { reached: quorum.count_members(accepted.iter()), needed: quorum.majority() }
            }
            Phase::Idle | Phase::Backoff => PaxosError::Timeout { attempts: self.attempts },
        };
        self.finish(Err(error))
    }

    fn finish(&mut self, result: Result<Decided, PaxosError>) -> Step {
        self.phase = Phase::Done;
        Step::Done(result)
    }
}
