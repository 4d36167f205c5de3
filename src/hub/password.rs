//! A private key the hub keeps for its user, protected by a password (the
//! hub password of `user signup --full`, or the passphrase of a device
//! pairing). The hub never sees the password nor the key in clear:
//!
//! - the key is wrapped with [`crate::crypto::wrap`]: Argon2id of the
//!   password under one salt, then XChaCha20-Poly1305;
//! - to hand the wrapped key out only to someone who knows the password,
//!   the hub keeps a *verifier*: a hash of the *proof*, itself Argon2id of
//!   the password under a second salt, with the same costs. A client asks
//!   for that salt, computes the proof and sends it; the hub hashes it and
//!   compares. The proof lets one fetch the wrapped key, never open it.
//!
//! What someone holding a copy of the hub's database can do: for each user,
//! try passwords offline, one Argon2id (19 MiB, 2 passes) per guess,
//! against the verifier or the wrapped key alike — a weak password falls,
//! a strong one does not. Without the database, guesses go through the hub,
//! which counts the failures (see the server's login limiter) and destroys a
//! pairing after a few. Over plain HTTP, someone who reads a login's proof
//! on the wire can fetch the wrapped key and guess offline in the same way:
//! serve a public hub over HTTPS.

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::crypto::wrap::{self, WrappedKey};
use crate::crypto::{CryptoError, PrivateKeys, hash, random_bytes, serde_b64};

/// Domain of the verifier hash.
const VERIFIER_DOMAIN: &str = "infinit 2026 hub password verifier";

/// A private key under a password, with what the hub checks a proof against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Protected {
    /// The private key wrapped under the password.
    pub wrapped_key: WrappedKey,
    /// Salt of the proof (its costs are the wrapped key's).
    #[serde(with = "serde_b64")]
    pub proof_salt: [u8; 16],
    /// Hash of the proof.
    #[serde(with = "serde_b64")]
    pub verifier: [u8; 32],
}

/// What a client needs to compute a proof: the hub hands it out freely.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofParams {
    /// Always `argon2id`.
    pub kdf: String,
    /// Memory cost in KiB.
    pub m_cost: u32,
    /// Passes.
    pub t_cost: u32,
    /// Lanes.
    pub p_cost: u32,
    /// The proof's salt.
    #[serde(with = "serde_b64")]
    pub salt: [u8; 16],
}

impl Protected {
    /// Protect `keys` under `password`.
    pub fn new(keys: &PrivateKeys, password: &str) -> Result<Protected, CryptoError> {
        let wrapped_key = wrap::wrap(keys, password)?;
        let proof_salt = random_bytes()?;
        let params = ProofParams {
            kdf: wrapped_key.kdf.clone(),
            m_cost: wrapped_key.m_cost,
            t_cost: wrapped_key.t_cost,
            p_cost: wrapped_key.p_cost,
            salt: proof_salt,
        };
        let proof = proof(password, &params)?;
        let verifier = verifier(&proof);
        Ok(Protected { wrapped_key, proof_salt, verifier })
    }

    /// Check the costs are within bounds (what a hub accepts to store).
    pub fn check(&self) -> Result<(), CryptoError> {
        self.wrapped_key.check_params()
    }

    /// What a client needs to compute the proof.
    pub fn params(&self) -> ProofParams {
        ProofParams {
            kdf: self.wrapped_key.kdf.clone(),
            m_cost: self.wrapped_key.m_cost,
            t_cost: self.wrapped_key.t_cost,
            p_cost: self.wrapped_key.p_cost,
            salt: self.proof_salt,
        }
    }

    /// Whether `proof` was computed from the right password (compared in
    /// constant time).
    pub fn accepts(&self, proof: &[u8]) -> bool {
        let Ok(proof) = <[u8; 32]>::try_from(proof) else { return false };
        blake3::Hash::from_bytes(verifier(&proof)) == blake3::Hash::from_bytes(self.verifier)
    }
}

/// The proof of knowing `password`, for `params` (checked against this
/// build's bounds first: they come from the network).
pub fn proof(password: &str, params: &ProofParams) -> Result<Zeroizing<[u8; 32]>, CryptoError> {
    wrap::check_kdf(&params.kdf, params.m_cost, params.t_cost, params.p_cost)?;
    wrap::stretch(password, &params.salt, params.m_cost, params.t_cost, params.p_cost)
}

/// The hash of a proof the hub stores.
fn verifier(proof: &[u8; 32]) -> [u8; 32] {
    hash::hash(VERIFIER_DOMAIN, &[proof])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::KeyPair;

    #[test]
    fn only_the_right_password_gives_an_accepted_proof_and_opens_the_key() {
        let keys = KeyPair::generate().unwrap();
        let protected = Protected::new(&keys.private(), "correct horse").unwrap();
        protected.check().unwrap();
        let good = proof("correct horse", &protected.params()).unwrap();
        assert!(protected.accepts(&good[..]));
        assert!(!protected.accepts(&proof("wrong", &protected.params()).unwrap()[..]));
        assert!(!protected.accepts(b"short"));
        // The proof is not the wrapping key: it cannot open the key.
        assert_ne!(protected.wrapped_key.salt, protected.proof_salt);
        let opened = wrap::unwrap(&protected.wrapped_key, "correct horse").unwrap();
        assert_eq!(KeyPair::from_private(&opened).public(), keys.public());
    }

    #[test]
    fn unbounded_parameters_from_the_network_are_refused_before_deriving() {
        let params = ProofParams { kdf: "argon2id".into(), m_cost: u32::MAX, t_cost: 1, p_cost: 1, salt: [0; 16] };
        assert!(proof("pw", &params).is_err());
        let params = ProofParams { kdf: "scrypt".into(), m_cost: 64, t_cost: 1, p_cost: 1, salt: [0; 16] };
        assert!(proof("pw", &params).is_err());
    }
}
