//! The acceptor of one register: given its durable state and a request, it
//! returns the state to persist and the reply, and the reply can only be
//! taken out once the state is persisted ([`Handled::reply_after`]).

use serde::{Deserialize, Serialize};

use super::message::{Accept, Accepted, Promise, PromiseProof, Refusal, Reply, Request, promise_statement};
use super::store::AcceptorStore;
use super::trust::{Notary, Validator};
use super::value::{Ballot, NodeId, Transition};
use crate::runtime::block::Address;

/// What an acceptor remembers of one register; persisted before each reply.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AcceptorState {
    /// The highest ballot promised (or accepted).
    pub promised: Option<Ballot>,
    /// The last value accepted, at the highest ballot accepted so far.
    pub accepted: Option<Accepted>,
}

/// The result of handling one request: a state change (maybe none) and the
/// reply that may only be sent once the change is durable.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "persist the change with `reply_after` or `commit`, then send the reply"]
pub struct Handled {
    change: Option<AcceptorState>,
    reply: Reply,
}

impl Handled {
    /// The new state to persist, if the request changed it.
    pub fn change(&self) -> Option<&AcceptorState> {
        self.change.as_ref()
    }

    /// The reply, once `persist` has made the new state durable (it is not
    /// called when nothing changed). If `persist` fails, there is no reply:
    /// a promise or an accept never leaves before it is on disk.
    pub fn reply_after<E>(self, persist: impl FnOnce(&AcceptorState) -> Result<(), E>) -> Result<Reply, E> {
        if let Some(state) = &self.change {
            persist(state)?;
        }
        Ok(self.reply)
    }

    /// Persist the change to `store` under `register`, then give the reply.
    pub fn commit<S: AcceptorStore + ?Sized>(self, store: &S, register: &Address) -> Result<Reply, S::Error> {
        self.reply_after(|state| store.save(register, state))
    }
}

/// One node's acceptor for one register, with the caller's hooks.
#[derive(Debug)]
pub struct Acceptor<'a, V: ?Sized, N: ?Sized> {
    /// This node.
    pub id: NodeId,
    /// The register (block address): promises are sealed for it alone.
    pub register: Address,
    /// Checks each change against the previous value.
    pub validator: &'a V,
    /// Seals promises and checks other acceptors' seals.
    pub notary: &'a N,
}

impl<'a, V: Validator + ?Sized, N: Notary + ?Sized> Acceptor<'a, V, N> {
    /// The acceptor `id` of `register`.
    pub fn new(id: NodeId, register: Address, validator: &'a V, notary: &'a N) -> Self {
        Acceptor { id, register, validator, notary }
    }

    /// Handle `request` from the authenticated `sender`, given the state
    /// persisted so far (the default state if none). The caller serialises
    /// requests per register: load, handle, persist, reply.
    pub fn handle(&self, state: &AcceptorState, sender: &NodeId, request: &Request) -> Handled {
        match request {
            Request::Prepare { ballot } => self.prepare(state, sender, *ballot),
            Request::Accept(accept) => self.accept(state, sender, accept),
        }
    }

    fn prepare(&self, state: &AcceptorState, sender: &NodeId, ballot: Ballot) -> Handled {
        if let Some(refused) = refuse_sender(sender, ballot) {
            return refused;
        }
        if let Some(promised) = state.promised.filter(|p| *p > ballot) {
            return unchanged(Reply::Rejected { ballot, promised });
        }
        let reported = state.accepted.as_ref().map(|a| (a.ballot, a.value.digest()));
        let seal = self.notary.seal(&promise_statement(&self.register, &ballot, reported.as_ref()));
        let reply = Reply::Promise(Promise { ballot, accepted: state.accepted.clone(), seal });
        if state.promised == Some(ballot) {
            // A duplicate: the promise is already durable.
            return unchanged(reply);
        }
        Handled { change: Some(AcceptorState { promised: Some(ballot), accepted: state.accepted.clone() }), reply }
    }

    fn accept(&self, state: &AcceptorState, sender: &NodeId, accept: &Accept) -> Handled {
        let ballot = accept.ballot;
        if let Some(refused) = refuse_sender(sender, ballot) {
            return refused;
        }
        if let Some(promised) = state.promised.filter(|p| *p > ballot) {
            return unchanged(Reply::Rejected { ballot, promised });
        }
        let refused = |why| unchanged(Reply::Refused { ballot, why });
        if let Some(own) = state.accepted.as_ref().filter(|a| a.ballot == ballot) {
            return if own.value == accept.value {
                unchanged(Reply::Accepted { ballot })
            } else {
                refused(Refusal::BadProof("another value was already accepted at this ballot".into()))
            };
        }
        let previous = accept.previous.as_ref();
        let quorum_set = accept.value.quorum_set(previous);
        if !quorum_set.contains(&self.id) && !accept.value.replicas.contains(&self.id) {
            return refused(Refusal::NotMember(self.id));
        }
        if ballot.round == 0 {
            // The creator's accept without prepare (`Proposer::with_genesis`):
            // only into a register this acceptor knows nothing of, and only
            // a first value, validated as such.
            if let Some(known) = state.promised.or(state.accepted.as_ref().map(|a| a.ballot)) {
                return unchanged(Reply::Rejected { ballot, promised: known });
            }
            if previous.is_some() || !accept.proof.is_empty() {
                return refused(Refusal::BadProof(
                    "a round-0 accept creates a register: no previous value, no proof".into(),
                ));
            }
        } else if let Err(why) = self.check_proof(state, accept) {
            return refused(why);
        }
        let step = match accept.value.step_from(previous) {
            Ok(step) => step,
            Err(why) => return refused(Refusal::Invalid(why)),
        };
        if step != Transition::Same
            && let Err(why) = self.validator.validate(sender, previous, &accept.value)
        {
            return refused(why);
        }
        Handled {
            change: Some(AcceptorState {
                promised: Some(ballot),
                accepted: Some(Accepted { ballot, value: accept.value.clone() }),
            }),
            reply: Reply::Accepted { ballot },
        }
    }

    /// Check that the proof's promises, made for this ballot by a majority
    /// of the replica set being changed, point to `previous` as the value
    /// with the highest accepted ballot, and that they are not older than
    /// what this acceptor accepted itself.
    fn check_proof(&self, state: &AcceptorState, accept: &Accept) -> Result<(), Refusal> {
        let bad = |why: &str| Err(Refusal::BadProof(why.to_string()));
        let mut seen: Vec<&NodeId> = Vec::with_capacity(accept.proof.len());
        let mut highest: Option<&(Ballot, _)> = None;
        for PromiseProof { acceptor, accepted, seal } in &accept.proof {
            if seen.contains(&acceptor) {
                return bad("an acceptor appears twice");
            }
            seen.push(acceptor);
            if accepted.as_ref().is_some_and(|(b, _)| *b >= accept.ballot) {
                return bad("a promise reports a ballot not below the one it promises");
            }
            let statement = promise_statement(&self.register, &accept.ballot, accepted.as_ref());
            if !self.notary.verify(acceptor, &statement, seal) {
                return bad("a seal does not verify");
            }
            if let Some(a) = accepted {
                if let Some(h) = highest
                    && h.0 == a.0
                    && h.1 != a.1
                {
                    return bad("two values reported at one ballot");
                }
                if highest.is_none_or(|h| a.0 > h.0) {
                    highest = Some(a);
                }
            }
        }
        match (highest, &accept.previous) {
            (None, None) => {}
            (Some((_, digest)), Some(previous)) if previous.digest() == *digest => {}
            _ => return bad("the previous value is not the highest-ballot value of the promises"),
        }
        let quorum_set = accept.value.quorum_set(accept.previous.as_ref());
        if !quorum_set.is_quorum(seen.iter().copied()) {
            return bad("the promises are not from a majority of the replica set");
        }
        // This acceptor's own value bounds the proof from below: a proof
        // gathered without it may miss it, and then this acceptor is not
        // needed for a quorum (its peers who promised are), so refusing
        // costs nothing; with it in the proof this always holds.
        if let Some(own) = &state.accepted {
            match highest {
                Some((b, d)) if *b > own.ballot || (*b == own.ballot && *d == own.value.digest()) => {}
                _ => return Err(Refusal::Stale { own: own.ballot }),
            }
        }
        Ok(())
    }
}

fn unchanged(reply: Reply) -> Handled {
    Handled { change: None, reply }
}

/// A request whose ballot is not the sender's own is refused: ballots are
/// unique per proposer only if nobody can borrow another's.
fn refuse_sender(sender: &NodeId, ballot: Ballot) -> Option<Handled> {
    (ballot.proposer != *sender).then(|| {
        unchanged(Reply::Refused { ballot, why: Refusal::WrongProposer { claimed: ballot.proposer, sender: *sender } })
    })
}
