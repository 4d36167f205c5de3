//! The messages proposers and acceptors exchange for one register, and the
//! statement an acceptor seals when it promises. The driver frames them
//! (postcard) and adds the register's address and a request id.

use serde::{Deserialize, Serialize};

use super::value::{Ballot, Digest, NodeId, Value};
use crate::crypto::canonical::Canonical;
use crate::runtime::block::Address;

/// A proposer's request to one acceptor.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Request {
    /// Phase 1: promise to ignore ballots below `ballot`, and say what you accepted.
    Prepare {
        /// The proposer's ballot; its proposer must be the sender.
        ballot: Ballot,
    },
    /// Phase 2: accept this value at this ballot.
    Accept(Accept),
}

/// Phase 2 request: a value, the value it replaces, and the proof that the
/// replaced value is the one a majority's promises point to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Accept {
    /// The ballot the proof's promises were made for.
    pub ballot: Ballot,
    /// The value to accept.
    pub value: Value,
    /// The value chosen so far as the promises show it (`None`: the
    /// register is empty). Acceptors validate `value` against this, never
    /// against their own copy.
    pub previous: Option<Value>,
    /// Every promise the proposer used, sealed by its acceptor.
    pub proof: Vec<PromiseProof>,
}

/// A value an acceptor accepted, with the ballot it was accepted at.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Accepted {
    /// The ballot of the accept.
    pub ballot: Ballot,
    /// The value accepted.
    pub value: Value,
}

/// An acceptor's promise: it ignores ballots below `ballot` from now on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Promise {
    /// The ballot promised.
    pub ballot: Ballot,
    /// The acceptor's accepted value, if any.
    pub accepted: Option<Accepted>,
    /// The acceptor's seal over [`promise_statement`].
    pub seal: Seal,
}

impl Promise {
    /// This promise as `acceptor` made it, without the value (the digest stands for it).
    pub fn to_proof(&self, acceptor: NodeId) -> PromiseProof {
        PromiseProof {
            acceptor,
            accepted: self.accepted.as_ref().map(|a| (a.ballot, a.value.digest())),
            seal: self.seal.clone(),
        }
    }
}

/// A promise as carried in an [`Accept`]: who made it and what it reported.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PromiseProof {
    /// The acceptor that promised.
    pub acceptor: NodeId,
    /// The ballot and digest of the value it had accepted, if any.
    pub accepted: Option<(Ballot, Digest)>,
    /// Its seal over [`promise_statement`] for the accept's ballot.
    pub seal: Seal,
}

/// An acceptor's seal on a promise (an Ed25519 signature with node keys).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Seal(#[serde(with = "serde_bytes")] pub Vec<u8>);

impl std::fmt::Debug for Seal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Seal({}B)", self.0.len())
    }
}

/// An acceptor's answer to one request.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Reply {
    /// The prepare is promised.
    Promise(Promise),
    /// The value at `ballot` is accepted.
    Accepted {
        /// The ballot of the accept.
        ballot: Ballot,
    },
    /// `ballot` is below the ballot this acceptor promised: retry above it.
    Rejected {
        /// The ballot of the request.
        ballot: Ballot,
        /// The ballot promised instead.
        promised: Ballot,
    },
    /// The request is refused whatever its ballot.
    Refused {
        /// The ballot of the request.
        ballot: Ballot,
        /// Why.
        why: Refusal,
    },
}

impl Reply {
    /// The ballot of the request this answers.
    pub fn ballot(&self) -> Ballot {
        match self {
            Reply::Promise(p) => p.ballot,
            Reply::Accepted { ballot } | Reply::Rejected { ballot, .. } | Reply::Refused { ballot, .. } => *ballot,
        }
    }
}

/// Why an acceptor refused a request, whatever its ballot.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, thiserror::Error)]
pub enum Refusal {
    /// The ballot names another proposer than the sender.
    #[error("ballot of {claimed:?} sent by {sender:?}")]
    WrongProposer {
        /// The proposer the ballot names.
        claimed: NodeId,
        /// The authenticated sender.
        sender: NodeId,
    },
    /// This acceptor is in neither the old nor the new replica set.
    #[error("{0:?} is not a replica of this block")]
    NotMember(NodeId),
    /// The promises do not prove that `previous` is the value chosen so far.
    #[error("bad proof: {0}")]
    BadProof(String),
    /// The proof is older than a value this acceptor accepted itself (it
    /// was not among the promises): retry with a new prepare.
    #[error("the promises predate a value this replica accepted at {own:?}")]
    Stale {
        /// The ballot of this acceptor's accepted value.
        own: Ballot,
    },
    /// The value does not follow the previous one (versions, replica sets).
    #[error("invalid change: {0}")]
    Invalid(String),
    /// The validator refused the change: no right to make it.
    #[error("{who} may not make this change: {why}")]
    Unauthorized {
        /// The writer or node refused.
        who: String,
        /// Why.
        why: String,
    },
}

/// The bytes an acceptor seals when it promises `ballot` on `register`,
/// reporting `accepted` (the ballot and digest of its accepted value).
pub fn promise_statement(register: &Address, ballot: &Ballot, accepted: Option<&(Ballot, Digest)>) -> Vec<u8> {
    let c = Canonical::new("infinit/paxos-promise/v1")
        .bytes(&register.0)
        .u64(ballot.round)
        .bytes(&ballot.proposer.0)
        .u64(ballot.nonce);
    match accepted {
        None => c.bool(false),
        Some((b, d)) => c.bool(true).u64(b.round).bytes(&b.proposer.0).u64(b.nonce).bytes(&d.0),
    }
    .finish()
}
