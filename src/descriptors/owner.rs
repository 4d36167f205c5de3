//! Who a qualified name belongs to. The owner part of `alice/net` is only a
//! claim: anyone can sign a network with a key of their own and call it
//! "alice/net". A descriptor is accepted only when that part names a user
//! known on this device whose key is the descriptor's owner key, so a
//! network, volume or passport can never pass for someone else's.

use super::{DescriptorError, Kind, Result, Store, User, names};
use crate::crypto::PublicKey;

/// Check that the owner part of `name` (a qualified name of `kind`) is a
/// user known here whose key is `owner`.
pub fn check_owner(store: &Store, kind: Kind, name: &str, owner: &PublicKey) -> Result<()> {
    let (user, _) = names::split(name);
    check_user(store, kind, name, user, owner)
}

/// Check that `user` is known here with key `key`; `kind` and `name` say
/// which descriptor makes the claim.
pub fn check_user(store: &Store, kind: Kind, name: &str, user: &str, key: &PublicKey) -> Result<()> {
    names::check("user", user)?;
    let known: User = match store.load(Kind::User, user) {
        Ok(known) => known,
        Err(DescriptorError::NotFound { .. }) => {
            return Err(DescriptorError::UnknownOwner { kind, name: name.to_string(), user: user.to_string() });
        }
        Err(e) => return Err(e),
    };
    known.verify()?;
    if known.public_key != *key {
        return Err(DescriptorError::ForeignOwner {
            kind,
            name: name.to_string(),
            user: user.to_string(),
            found: key.short_hash(),
            expected: known.public_key.short_hash(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::KeyPair;
    use crate::descriptors::Home;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let home = Home { data: dir.path().join("data"), state: dir.path().join("state") };
        (dir, Store::new(home))
    }

    #[test]
    fn the_owner_part_must_be_a_known_user_with_the_owner_key() {
        let (_d, s) = store();
        let alice = KeyPair::generate().unwrap();
        let mallory = KeyPair::generate().unwrap();
        let unknown = check_owner(&s, Kind::Network, "alice/net", &alice.public()).unwrap_err();
        assert!(matches!(unknown, DescriptorError::UnknownOwner { .. }), "{unknown}");
        assert!(unknown.to_string().contains("infinit user import"), "{unknown}");
        s.create(Kind::User, "alice", &User::new("alice", None, &alice, None).unwrap().public()).unwrap();
        check_owner(&s, Kind::Network, "alice/net", &alice.public()).unwrap();
        let forged = check_owner(&s, Kind::Volume, "alice/vol", &mallory.public()).unwrap_err().to_string();
        assert!(forged.contains("volume \"alice/vol\" is owned by a key that is not user \"alice\"'s"), "{forged}");
    }
}
