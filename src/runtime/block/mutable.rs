//! Single-owner mutable blocks: one key may write; the address binds that
//! key and a random salt, and each version's payload is signed by the owner
//! together with the address and version number. The payload is opaque:
//! callers encrypt it (e.g. sealed to the owner) before storing.

use serde::{Deserialize, Serialize};

use super::{Address, BlockError, next_version, wire};
use crate::crypto::{Canonical, KeyPair, PublicKey, Signature, random_bytes};

/// Domain of the owner's signature over one version.
const SIGNED: &str = "infinit/block/mutable/v1";

/// A mutable block only its owner can write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerBlock {
    /// The only key allowed to write.
    #[serde(with = "wire::key")]
    pub owner: PublicKey,
    /// Random salt that makes the address unique among the owner's blocks.
    pub salt: [u8; 32],
    /// Version number, strictly increasing from 1.
    pub version: u64,
    /// The payload of this version.
    #[serde(with = "serde_bytes")]
    pub data: Vec<u8>,
    /// The owner's signature over address, version and payload.
    #[serde(with = "wire::signature")]
    pub signature: Signature,
}

impl OwnerBlock {
    /// A first version (1) at a fresh random address.
    pub fn create(owner: &KeyPair, data: Vec<u8>) -> Result<Self, BlockError> {
        let salt = random_bytes().map_err(BlockError::Randomness)?;
        Ok(Self::sign(owner, salt, 1, data))
    }

    /// The next version of this block holding `data`.
    pub fn update(&self, owner: &KeyPair, data: Vec<u8>) -> Result<Self, BlockError> {
        if owner.public() != self.owner {
            return Err(BlockError::Denied {
                address: self.address(),
                key: owner.public().short_hash(),
                action: "write a block it does not own",
            });
        }
        Ok(Self::sign(owner, self.salt, next_version(self.address(), self.version)?, data))
    }

    /// Build and sign the given version.
    pub fn sign(owner: &KeyPair, salt: [u8; 32], version: u64, data: Vec<u8>) -> Self {
        let address = Address::mutable(&owner.public(), &salt);
        let signature = owner.sign(&signed_bytes(&address, version, &data));
        OwnerBlock { owner: owner.public(), salt, version, data, signature }
    }

    /// The address derived from owner and salt.
    pub fn address(&self) -> Address {
        Address::mutable(&self.owner, &self.salt)
    }

    /// Check the address binding and the owner's signature.
    pub fn validate(&self, address: &Address) -> Result<(), BlockError> {
        let computed = self.address();
        if computed != *address {
            return Err(BlockError::AddressMismatch { expected: *address, computed });
        }
        self.owner
            .verify(&signed_bytes(address, self.version, &self.data), &self.signature)
            .map_err(|_| BlockError::BadSignature { address: *address, what: "owner" })
    }
}

fn signed_bytes(address: &Address, version: u64, data: &[u8]) -> Vec<u8> {
    Canonical::new(SIGNED).bytes(&address.0).u64(version).bytes(data).finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_updates_validate_and_bump_the_version() {
        let alice = KeyPair::generate().unwrap();
        let v1 = OwnerBlock::create(&alice, b"one".to_vec()).unwrap();
        v1.validate(&v1.address()).unwrap();
        let v2 = v1.update(&alice, b"two".to_vec()).unwrap();
        assert_eq!(v2.version, 2);
        assert_eq!(v2.address(), v1.address());
        v2.validate(&v1.address()).unwrap();
    }

    #[test]
    fn another_key_cannot_write_or_forge() {
        let alice = KeyPair::generate().unwrap();
        let mallory = KeyPair::generate().unwrap();
        let v1 = OwnerBlock::create(&alice, b"one".to_vec()).unwrap();
        assert!(matches!(v1.update(&mallory, b"evil".to_vec()), Err(BlockError::Denied { .. })));
        let mut forged = v1.update(&alice, b"two".to_vec()).unwrap();
        forged.signature = mallory.sign(&signed_bytes(&v1.address(), 2, b"two"));
        assert!(matches!(forged.validate(&v1.address()), Err(BlockError::BadSignature { .. })));
        let mut altered = v1.clone();
        altered.version = 5;
        assert!(altered.validate(&v1.address()).is_err());
    }
}
