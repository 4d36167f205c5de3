//! The per-block Paxos core, sans-IO: plain structs that take messages and
//! return messages, with no sockets, tasks or clocks. A driver (the node)
//! carries the messages, persists acceptor state, and calls the timeouts.
//!
//! # The protocol: one CASPaxos register per mutable block
//!
//! Each mutable block is a register whose [`Value`] is the block (opaque
//! bytes and its version) *and* its [`ReplicaSet`]. Any node may propose;
//! there is no leader. An operation ([`Proposer`]) runs:
//!
//! 1. **prepare**(ballot) to the replicas it knows. [`Ballot`]s are
//!    (round, proposer id), totally ordered and unique per proposer.
//!    Each acceptor promises to ignore lower ballots and replies with what
//!    it accepted, `(ballot, value)`, sealed (below); a lower ballot than
//!    one promised is `Rejected` with the promised ballot, and the
//!    proposer retries above it after a backoff the caller times.
//! 2. From a majority of promises it takes the value with the highest
//!    accepted ballot — the value chosen so far, or one that may be — and
//!    applies the [`Change`]: a compare-and-swap of the block (expected
//!    version → next block), or adding or removing one replica.
//! 3. **accept**(ballot, new value, previous value, proof) to the replica
//!    set; the new value is chosen once a majority of the replica set *of
//!    the value it replaces* accepts it.
//!
//! If the expectation fails, the proposer still accepts the current value
//! again (step 3 with new = previous) unless a majority already agreed on
//! it, and only then reports [`PaxosError::Conflict`]: a conflict names a
//! chosen value, never one a minority happened to accept.
//!
//! # Driving it
//!
//! Write: `let mut p = Proposer::new(me, replicas, Operation::Write(Change::Store
//! { expected, block }), round_hint, attempts)`; send what `p.start()` returns;
//! feed every reply to `p.on_reply(from, reply)` and send what it returns;
//! on [`Step::Backoff`] wait a random delay and call `p.retry()`; when the
//! caller's deadline passes call `p.on_timeout()`; stop at [`Step::Done`].
//! Read: the same with [`Operation::Read`]. Acceptor side: `let handled =
//! Acceptor::new(me, address, &validator, &notary).handle(&state, &sender,
//! &request)`, then `handled.commit(&store, &address)?` gives the reply
//! *after* the new state is durable — the reply cannot be had before
//! (see [`Handled`]); the driver serialises requests per register.
//! [`PaxosError::into_consensus`] maps failures onto [`ConsensusError`].
//!
//! # Validating against the value chosen so far
//!
//! An acceptor's own copy may be stale: it may have missed the last
//! versions, e.g. the one where the owner revoked a writer. Validating a
//! new version against it would let that revoked writer get its change
//! accepted by the lagging acceptors. A minority is enough to do harm: an
//! accepted value at a high ballot is what the *next* honest proposer
//! adopts as "highest accepted" and completes. So acceptors validate a new
//! value only against the `previous` value carried in the accept, and
//! check that `previous` is what a majority's promises point to:
//!
//! - the accept carries every promise the proposer used ([`PromiseProof`]:
//!   acceptor, reported `(ballot, digest)`, and the acceptor's seal over
//!   the register, the ballot and that report); the [`Notary`] checks each
//!   seal with the acceptor's node key ([`KeyNotary`]), so a proposer
//!   cannot invent promises;
//! - the promises are for this very ballot, from distinct members that
//!   make a majority of the replica set being changed, and `previous` is
//!   the value with the highest reported ballot (digest match);
//! - the new value follows `previous` by exactly one step ([`Transition`]): the
//!   block's version + 1 with the same replicas, or the next replica set
//!   with the same block, or identical (a re-store or read repair, a
//!   no-op); and the caller's [`Validator`] accepts it *relative to
//!   `previous`* (signatures, write rights, who may move replicas);
//! - the acceptor's own accepted value bounds the proof from below: if its
//!   own accepted ballot is higher than the proof's highest, the proof was
//!   gathered without it and is refused as [`Refusal::Stale`]. An honest
//!   proof that includes this acceptor always passes; one without it does
//!   not need it (the promisers are a majority), so this costs no
//!   liveness, and it keeps a genesis or an old value from overwriting
//!   what this acceptor holds;
//! - the ballot must be the sender's own ([`Refusal::WrongProposer`]), so
//!   nobody can reuse an honest proposer's ballot for another value.
//!
//! Why a revoked writer fails: the revocation `R` (version n) was chosen,
//! so a majority accepted `R`, and every later accepted value descends
//! from it. Any majority of promises for a new ballot includes one of
//! those acceptors, whose sealed promise reports `R` or a descendant at a
//! ballot at least `R`'s; the highest-ballot value of any valid proof is
//! therefore `R` or newer, and the validator refuses the writer relative
//! to it. Gathering promises from lagging acceptors only gives a minority,
//! which no acceptor takes as proof — not even the lagging ones, so the
//! forged value never lands anywhere. Checks without seals cannot do
//! this: from one acceptor's view, an honest proposer whose previous value
//! has a higher ballot than the acceptor's (never chosen) value is
//! indistinguishable from a writer claiming such a value; [`Unsealed`]
//! exists for deployments where every client is trusted.
//!
//! Threat model: clients may be malicious; storage nodes (acceptors) may
//! crash, lose messages or lag, but do not lie in what they seal — as in
//! every crash-fault Paxos, a byzantine acceptor needs 3f+1 quorums, which
//! this is not.
//!
//! # Linearizable reads
//!
//! A read is a prepare round. If a majority of the replica set reports the
//! same accepted `(ballot, value)`, that value is chosen and returned. If
//! not (a write is half done: a minority accepted a newer value), the
//! reader completes it — an accept round of the highest-ballot value with
//! itself as previous — and returns it once a majority accepted. Returning
//! the highest value without completing it would let a later read return
//! an older one if that write then lost. A read's prepare raises the
//! promises, so it can make a concurrent write retry; it never changes the
//! value.
//!
//! # Replica-set changes
//!
//! The replica set travels in the value, so it changes through the same
//! protocol: a change is accepted by a majority of the *old* set, and the
//! next operations need a majority of the *new* one. Without joint
//! consensus this is safe only if every majority of the old set meets
//! every majority of the new one, which holds exactly when the sets differ
//! by **one member added or removed** ([`ReplicaSet::single_step_to`]);
//! acceptors refuse anything else. Replacing a dead node is two chosen
//! changes (add the new one, then remove the dead one; with two replicas,
//! add first so that the removal has a live majority of three). A
//! proposer that prepares with a stale set learns the newer set from the
//! promises and extends its prepare to the new members before deciding.
//! The first value of a register has no previous set: its creator's set
//! (from placement) is the quorum, so two creators with different views of
//! the network could each create the block — placement must give creators
//! the same initial set (an integration constraint, as in the original).
//!
//! # Failures
//!
//! Rounds that lose to higher ballots are retried up to the caller's
//! attempt count, then [`PaxosError::Timeout`]. When the caller's deadline
//! passes ([`Proposer::on_timeout`]): still preparing with too few answers
//! is [`PaxosError::Unavailable`]; once an accept of the write was sent
//! and not refused by every replica it went to, the write may be chosen
//! later by whoever completes it, so the result is
//! [`PaxosError::Indeterminate`], in that attempt or any later one.
//!
//! [`ConsensusError`]: crate::runtime::consensus::ConsensusError

mod acceptor;
mod message;
mod proposer;
pub mod store;
mod trust;
mod value;

pub use acceptor::{Acceptor, AcceptorState, Handled};
pub use message::{Accept, Accepted, Promise, PromiseProof, Refusal, Reply, Request, Seal, promise_statement};
pub use proposer::{Change, Decided, Operation, PaxosError, Proposer, Step};
pub use store::{AcceptorStore, MemoryStore, RedbStore, StoreError};
pub use trust::{AllowAll, KeyNotary, Notary, Unsealed, Validator};
pub use value::{Ballot, Digest, NodeId, Payload, ReplicaSet, Transition, Value};

#[cfg(test)]
mod model;
#[cfg(test)]
mod tests;
