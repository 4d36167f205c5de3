//! What a node says about itself to the others: a record signed by its
//! node key, carrying the credentials that make it a member (the user's
//! certificate of the node key and the user's passport), where it can be
//! reached, and what it offers. Records travel by gossip; each receiver
//! checks the signature, then the credentials through the network's
//! [`Gatekeeper`], before believing any of it.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use crate::crypto::{Canonical, KeyPair, PublicKey, Signature};
use crate::runtime::rpc::PeerId;

/// What makes a node key a member of a network: its user, the user's
/// signature of the node key, and the user's passport (the descriptor as
/// its owner signed it, opaque here: the [`Gatekeeper`] reads it).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    /// The user running the node.
    pub user: PublicKey,
    /// The user's certificate of the node key.
    pub certificate: Signature,
    /// The user's passport for the network.
    #[serde(with = "serde_bytes")]
    pub passport: Vec<u8>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("user", &self.user.short_hash()).finish_non_exhaustive()
    }
}

/// What a checked member may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    /// The user's key.
    pub user: PublicKey,
    /// The user's name, as the passport names it.
    pub user_name: String,
    /// The passport allows writing.
    pub write: bool,
    /// The passport allows storing blocks for others.
    pub storage: bool,
}

/// Checks credentials against the network's root of trust.
pub trait Gatekeeper: Send + Sync + std::fmt::Debug {
    /// The network's qualified name.
    fn network(&self) -> &str;
    /// Whether `credentials` make `node` a member, and with which rights.
    fn check(&self, node: &PublicKey, credentials: &Credentials) -> Result<Membership, String>;
}

/// A node's signed description of itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeRecord {
    /// The node key.
    pub node: PublicKey,
    /// Why it is a member.
    pub credentials: Credentials,
    /// Where it listens.
    pub endpoints: Vec<SocketAddr>,
    /// It stores blocks for the network.
    pub stores: bool,
    /// Bytes it offers (`None`: unlimited).
    pub capacity: Option<u64>,
    /// Bytes it stores now.
    pub used: u64,
    /// Raised at every change: the highest wins.
    pub seq: u64,
    /// The node key's signature over all of the above and the network.
    pub signature: Signature,
}

/// The fields of a record before it is signed.
#[derive(Clone, Debug)]
pub struct RecordFields {
    pub endpoints: Vec<SocketAddr>,
    pub stores: bool,
    pub capacity: Option<u64>,
    pub used: u64,
    pub seq: u64,
}

fn statement(network: &str, node: &PublicKey, credentials: &Credentials, fields: &RecordFields) -> Vec<u8> {
    let mut c = Canonical::new("infinit/node-record/v1")
        .str(network)
        .bytes(&node.to_bytes())
        .bytes(&credentials.user.to_bytes())
        .bytes(&credentials.certificate.0)
        .bytes(&credentials.passport)
        .u64(fields.endpoints.len() as u64);
    for e in &fields.endpoints {
        c = c.str(&e.to_string());
    }
    c.bool(fields.stores)
        .u64(fields.capacity.map_or(0, |c| c.saturating_add(1)))
        .u64(fields.used)
        .u64(fields.seq)
        .finish()
}

impl NodeRecord {
    /// Sign a record for the node holding `keys`.
    pub fn sign(network: &str, keys: &KeyPair, credentials: Credentials, fields: RecordFields) -> NodeRecord {
        let node = keys.public();
        let signature = keys.sign(&statement(network, &node, &credentials, &fields));
        NodeRecord {
            node,
            credentials,
            endpoints: fields.endpoints,
            stores: fields.stores,
            capacity: fields.capacity,
            used: fields.used,
            seq: fields.seq,
            signature,
        }
    }

    /// The node's id.
    pub fn id(&self) -> PeerId {
        PeerId(self.node.fingerprint())
    }

    fn fields(&self) -> RecordFields {
        RecordFields {
            endpoints: self.endpoints.clone(),
            stores: self.stores,
            capacity: self.capacity,
            used: self.used,
            seq: self.seq,
        }
    }

    /// Check the node's signature for `network` (not the credentials).
    pub fn verify_signature(&self, network: &str) -> Result<(), String> {
        self.node
            .verify(&statement(network, &self.node, &self.credentials, &self.fields()), &self.signature)
            .map_err(|_| "the node record's signature does not verify".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_verifies_for_its_network_only_and_not_once_altered() {
        let keys = KeyPair::generate().unwrap();
        let user = KeyPair::generate().unwrap();
        let credentials =
            Credentials { user: user.public(), certificate: user.sign(b"cert"), passport: b"{}".to_vec() };
        let fields = RecordFields {
            endpoints: vec!["127.0.0.2:4000".parse().unwrap()],
            stores: true,
            capacity: Some(10),
            used: 1,
            seq: 3,
        };
        let record = NodeRecord::sign("alice/net", &keys, credentials, fields);
        record.verify_signature("alice/net").unwrap();
        assert!(record.verify_signature("alice/other").is_err());
        let mut moved = record.clone();
        moved.endpoints = vec!["127.0.0.9:4000".parse().unwrap()];
        assert!(moved.verify_signature("alice/net").is_err());
        let mut bumped = record.clone();
        bumped.seq += 1;
        assert!(bumped.verify_signature("alice/net").is_err());
        assert_eq!(record.id(), PeerId(keys.public().fingerprint()));
    }
}
