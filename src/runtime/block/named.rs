//! Named blocks: an immutable pointer from `(owner key, name)` to another
//! block's address, signed by the owner. Used to find a volume's root from
//! its name. Only the owner can produce a valid block at that address.

use serde::{Deserialize, Serialize};

use super::{Address, BlockError, wire};
use crate::crypto::{Canonical, KeyPair, PublicKey, Signature};

/// Domain of the owner's signature.
const SIGNED: &str = "infinit/block/named/v1";

/// An owner-signed, immutable pointer to another block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedBlock {
    /// The key that published the name.
    #[serde(with = "wire::key")]
    pub owner: PublicKey,
    /// The name, unique per owner.
    pub name: String,
    /// The address the name points to.
    pub target: Address,
    /// The owner's signature over address, name and target.
    #[serde(with = "wire::signature")]
    pub signature: Signature,
}

impl NamedBlock {
    /// Publish `name` → `target` as `owner`.
    pub fn create(owner: &KeyPair, name: &str, target: Address) -> Self {
        let address = Address::named(&owner.public(), name);
        let signature = owner.sign(&signed_bytes(&address, name, &target));
        NamedBlock { owner: owner.public(), name: name.to_owned(), target, signature }
    }

    /// The address derived from owner and name.
    pub fn address(&self) -> Address {
        Address::named(&self.owner, &self.name)
    }

    /// Check the address binding and the owner's signature.
    pub fn validate(&self, address: &Address) -> Result<(), BlockError> {
        let computed = self.address();
        if computed != *address {
            return Err(BlockError::AddressMismatch { expected: *address, computed });
        }
        self.owner
            .verify(&signed_bytes(address, &self.name, &self.target), &self.signature)
            .map_err(|_| BlockError::BadSignature { address: *address, what: "owner" })
    }
}

fn signed_bytes(address: &Address, name: &str, target: &Address) -> Vec<u8> {
    Canonical::new(SIGNED).bytes(&address.0).str(name).bytes(&target.0).finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_owner_can_publish_a_name() {
        let alice = KeyPair::generate().unwrap();
        let mallory = KeyPair::generate().unwrap();
        let root = NamedBlock::create(&alice, "volume.root", Address([5; 32]));
        root.validate(&Address::named(&alice.public(), "volume.root")).unwrap();
        let mut redirected = root.clone();
        redirected.target = Address([6; 32]);
        assert!(matches!(redirected.validate(&root.address()), Err(BlockError::BadSignature { .. })));
        let mut stolen = NamedBlock::create(&mallory, "volume.root", Address([6; 32]));
        stolen.owner = alice.public();
        assert!(stolen.validate(&root.address()).is_err());
    }
}
