//! What nodes ask each other's replicas about blocks (the `Blocks`
//! channel of the transport).

use serde::{Deserialize, Serialize};

use crate::runtime::block::Address;
use crate::runtime::consensus::paxos;

/// A request to a storage node.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum BlockRequest {
    /// Keep an immutable block (an encoded [`crate::runtime::block::Block`]).
    Put {
        #[serde(with = "serde_bytes")]
        block: Vec<u8>,
    },
    /// Whatever this node holds at an address: an immutable block, or
    /// what its acceptor accepted for the register there (a read that
    /// changes nothing; the caller does not need to know the kind).
    Fetch { address: Address },
    /// Remove an immutable block: the encoded tombstone, and the encoded
    /// owner block that authorizes it (a chunk's file), if it has one.
    Remove {
        #[serde(with = "serde_bytes")]
        tombstone: Vec<u8>,
        #[serde(with = "serde_bytes")]
        owner: Vec<u8>,
    },
    /// One message of the Paxos register of a mutable block.
    Paxos { register: Address, request: paxos::Request },
    /// Make what this node stored durable.
    Sync,
    /// Whose the immutable block at an address is, read from its first
    /// bytes: what a removal must send along (a chunk's file), learned
    /// without moving the chunk. (Added last: the variants before it keep
    /// their encoding.)
    Owner { address: Address },
}

impl BlockRequest {
    /// What kind of request this is, for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            BlockRequest::Put { .. } => "put",
            BlockRequest::Fetch { .. } => "fetch",
            BlockRequest::Remove { .. } => "remove",
            BlockRequest::Paxos { .. } => "paxos",
            BlockRequest::Sync => "sync",
            BlockRequest::Owner { .. } => "owner",
        }
    }
}

/// How an immutable block fetch ended at one replica.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Held {
    /// The encoded block.
    Found(#[serde(with = "serde_bytes")] Vec<u8>),
    /// Never stored here.
    Absent,
    /// Removed: the encoded tombstone.
    Removed(#[serde(with = "serde_bytes")] Vec<u8>),
}

/// What a replica stores at an address, as a removal needs to know it
/// ([`BlockRequest::Owner`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum OwnerOf {
    /// A content block, owned by the file at that address or by no one.
    Content(Option<Address>),
    /// An immutable block of another kind: it has no owner.
    Other,
    /// Nothing, or a tombstone.
    Absent,
}

/// Why a replica refused a request (the consensus error it maps to).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Refused {
    /// The block or change is invalid.
    Invalid(String),
    /// The sender may not make it.
    Unauthorized(String),
    /// Something else is stored at this address (the encoded block).
    Conflict(#[serde(with = "serde_bytes")] Vec<u8>),
    /// The block was removed.
    Removed,
    /// The replica's storage failed (full, I/O): another replica may do.
    Storage(String),
    /// This node does not store blocks.
    NotStoring,
}

/// A storage node's answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum BlockReply {
    /// Done.
    Done,
    /// A fetch's result: the immutable block, and what the acceptor
    /// accepted at that address, if anything.
    Fetched { held: Held, accepted: Option<paxos::Accepted> },
    /// A Paxos reply.
    Paxos(paxos::Reply),
    /// Refused.
    Refused(Refused),
    /// The answer to [`BlockRequest::Owner`].
    Owner(OwnerOf),
}
