//! User blocks: the network's directory of users. A forward block at an
//! address derived from the name maps the name to a key; a reverse block at
//! an address derived from the key maps it back. Both are immutable and
//! signed by the key they name, so nobody can bind someone else's key.

use serde::{Deserialize, Serialize};

use super::{Address, BlockError, wire};
use crate::crypto::{Canonical, KeyPair, PublicKey, Signature};

/// Domain of the user's signature.
const SIGNED: &str = "infinit/block/user/v1";

/// Which way a user block maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserDirection {
    /// Stored at the name's address: name → key.
    ByName,
    /// Stored at the key's address: key → name.
    ByKey,
}

/// A signed binding between a user name and a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserBlock {
    /// Which address this block lives at.
    pub direction: UserDirection,
    /// The user name.
    pub name: String,
    /// The user's key, which signs the binding.
    #[serde(with = "wire::key")]
    pub key: PublicKey,
    /// The user's signature over direction, name and key.
    #[serde(with = "wire::signature")]
    pub signature: Signature,
}

impl UserBlock {
    /// The binding of `name` to `user`'s key, for the given direction.
    pub fn create(user: &KeyPair, name: &str, direction: UserDirection) -> Self {
        let key = user.public();
        let signature = user.sign(&signed_bytes(direction, name, &key));
        UserBlock { direction, name: name.to_owned(), key, signature }
    }

    /// The address derived from the name or key, depending on direction.
    pub fn address(&self) -> Address {
        match self.direction {
            UserDirection::ByName => Address::user_by_name(&self.name),
            UserDirection::ByKey => Address::user_by_key(&self.key),
        }
    }

    /// Check the address binding and the user's signature.
    pub fn validate(&self, address: &Address) -> Result<(), BlockError> {
        let computed = self.address();
        if computed != *address {
            return Err(BlockError::AddressMismatch { expected: *address, computed });
        }
        self.key
            .verify(&signed_bytes(self.direction, &self.name, &self.key), &self.signature)
            .map_err(|_| BlockError::BadSignature { address: *address, what: "user" })
    }
}

fn signed_bytes(direction: UserDirection, name: &str, key: &PublicKey) -> Vec<u8> {
    let direction = match direction {
        UserDirection::ByName => "by name",
        UserDirection::ByKey => "by key",
    };
    Canonical::new(SIGNED).str(direction).str(name).bytes(&key.to_bytes()).finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_directions_validate_at_their_own_address() {
        let bob = KeyPair::generate().unwrap();
        let forward = UserBlock::create(&bob, "bob", UserDirection::ByName);
        let reverse = UserBlock::create(&bob, "bob", UserDirection::ByKey);
        forward.validate(&Address::user_by_name("bob")).unwrap();
        reverse.validate(&Address::user_by_key(&bob.public())).unwrap();
        assert!(forward.validate(&reverse.address()).is_err());
    }

    #[test]
    fn nobody_can_bind_another_users_key() {
        let bob = KeyPair::generate().unwrap();
        let mallory = KeyPair::generate().unwrap();
        let mut squat = UserBlock::create(&mallory, "bob", UserDirection::ByName);
        squat.key = bob.public();
        assert!(matches!(squat.validate(&Address::user_by_name("bob")), Err(BlockError::BadSignature { .. })));
    }
}
