//! The two hooks through which the caller decides what acceptors trust:
//! a [`Notary`] seals and checks promises (so a proposer cannot invent the
//! "value chosen so far" it claims), and a [`Validator`] checks that a
//! change is allowed relative to that value (signatures, write rights).

use std::fmt;

use super::message::{Refusal, Seal};
use super::value::{NodeId, Value};
use crate::crypto::keys::{KeyPair, PublicKey, Signature};

/// Seals an acceptor's promises and checks the seals of others.
pub trait Notary {
    /// This acceptor's seal over `statement`.
    fn seal(&self, statement: &[u8]) -> Seal;
    /// Whether `seal` is `acceptor`'s seal over `statement`.
    fn verify(&self, acceptor: &NodeId, statement: &[u8], seal: &Seal) -> bool;
}

/// Seals with this node's key (Ed25519) and checks seals with the node
/// keys the overlay knows (`directory`: node id → node key).
pub struct KeyNotary<D> {
    keys: KeyPair,
    directory: D,
}

impl<D> KeyNotary<D>
where
    D: Fn(&NodeId) -> Option<PublicKey>,
{
    /// A notary signing with `keys` and finding other nodes' keys in `directory`.
    pub fn new(keys: KeyPair, directory: D) -> KeyNotary<D> {
        KeyNotary { keys, directory }
    }
}

impl<D> fmt::Debug for KeyNotary<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyNotary({:?})", self.keys)
    }
}

impl<D> Notary for KeyNotary<D>
where
    D: Fn(&NodeId) -> Option<PublicKey>,
{
    fn seal(&self, statement: &[u8]) -> Seal {
        Seal(self.keys.sign(statement).0.to_vec())
    }

    fn verify(&self, acceptor: &NodeId, statement: &[u8], seal: &Seal) -> bool {
        let Some(key) = (self.directory)(acceptor) else { return false };
        // A node id is the fingerprint of its key: a directory entry under
        // another id would let one key speak for two acceptors.
        if key.fingerprint() != acceptor.0 {
            return false;
        }
        let Ok(bytes) = <[u8; 64]>::try_from(seal.0.as_slice()) else { return false };
        key.verify(statement, &Signature(bytes)).is_ok()
    }
}

/// No seals at all: every proof is believed. Only for deployments where
/// every client is trusted (a proposer could claim any previous value).
#[derive(Debug, Clone, Copy, Default)]
pub struct Unsealed;

impl Notary for Unsealed {
    fn seal(&self, _statement: &[u8]) -> Seal {
        Seal(Vec::new())
    }

    fn verify(&self, _acceptor: &NodeId, _statement: &[u8], _seal: &Seal) -> bool {
        true
    }
}

/// Decides whether a change is allowed, given the value it replaces.
pub trait Validator {
    /// Whether `sender` may replace `previous` (the value the proof shows is
    /// chosen so far; `None` for an empty register) by `new`. The version
    /// and replica-set steps are already checked; this checks the rest
    /// (the new block's signatures and the writer's rights under
    /// `previous`, who may change a replica set). It is never called for an
    /// identical re-store.
    fn validate(&self, sender: &NodeId, previous: Option<&Value>, new: &Value) -> Result<(), Refusal>;
}

/// Allows every well-formed change (tests, or blocks checked elsewhere).
#[derive(Debug, Clone, Copy, Default)]
pub struct AllowAll;

impl Validator for AllowAll {
    fn validate(&self, _sender: &NodeId, _previous: Option<&Value>, _new: &Value) -> Result<(), Refusal> {
        Ok(())
    }
}

impl<F> Validator for F
where
    F: Fn(&NodeId, Option<&Value>, &Value) -> Result<(), Refusal>,
{
    fn validate(&self, sender: &NodeId, previous: Option<&Value>, new: &Value) -> Result<(), Refusal> {
        self(sender, previous, new)
    }
}
