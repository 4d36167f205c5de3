//! Passports: signed memberships. The owner signs them, or a member whose
//! own passport allows creating passports (the chain is carried along so
//! anyone holding the network descriptor can check it offline).

use serde::{Deserialize, Serialize};

use super::{DescriptorError, Kind, Network, Result};
use crate::crypto::{Canonical, KeyPair, PublicKey, Signature};

/// How deep a chain of delegated passports may go.
const MAX_DELEGATION_DEPTH: usize = 8;

/// What a passport allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rights {
    /// May write data.
    pub allow_write: bool,
    /// May contribute storage.
    pub allow_storage: bool,
    /// May sign passports for others.
    pub allow_create_passport: bool,
}

/// A passport.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Passport {
    /// Qualified network name.
    pub network: String,
    /// The holder's name, as the signer knew it.
    pub user_name: String,
    /// The holder's key.
    pub user: PublicKey,
    /// May write data.
    pub allow_write: bool,
    /// May contribute storage.
    pub allow_storage: bool,
    /// May sign passports for others.
    pub allow_create_passport: bool,
    /// The signer when it is not the owner (a delegate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certifier: Option<PublicKey>,
    /// The delegate's own passport, proving the right to sign.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certifier_passport: Option<Box<Passport>>,
    /// Signature by the owner or the certifier.
    pub signature: Signature,
}

impl Passport {
    fn statement(&self) -> Vec<u8> {
        Canonical::new("infinit/passport/v1")
            .str(&self.network)
            .str(&self.user_name)
            .bytes(&self.user.to_bytes())
            .bool(self.allow_write)
            .bool(self.allow_storage)
            .bool(self.allow_create_passport)
            .bytes(&self.certifier.map(|c| c.to_bytes().to_vec()).unwrap_or_default())
            .finish()
    }

    /// The passport's display name, `owner/network: user`.
    pub fn display(&self) -> String {
        format!("{}: {}", self.network, self.user_name)
    }

    /// The rights it grants.
    pub fn rights(&self) -> Rights {
        Rights {
            allow_write: self.allow_write,
            allow_storage: self.allow_storage,
            allow_create_passport: self.allow_create_passport,
        }
    }

    /// Sign a passport for `user` on `network`. `signer` is the owner, or a
    /// delegate presenting `delegation` (its own passport, which must allow
    /// creating passports and at least the rights granted).
    pub fn sign(
        network: &Network,
        user_name: &str,
        user: PublicKey,
        rights: Rights,
        signer: &KeyPair,
        delegation: Option<&Passport>,
    ) -> Result<Passport> {
        let refuse = |why: String| DescriptorError::Invalid {
            kind: Kind::Passport,
            name: format!("{}: {user_name}", network.name),
            why,
        };
        let (certifier, certifier_passport) = if signer.public() == network.owner {
            (None, None)
        } else {
            let Some(own) = delegation else {
                return Err(refuse(
                    "only the network's owner, or a member whose passport allows creating passports, may sign one"
                        .into(),
                ));
            };
            if own.user != signer.public() {
                return Err(refuse("the delegation passport belongs to someone else".into()));
            }
            own.verify(network)?;
            if !own.allow_create_passport {
                return Err(refuse(format!(
                    "user \"{}\" may not create passports on this network (the owner must grant it with --allow-create-passport)",
                    own.user_name
                )));
            }
            check_subset(own.rights(), rights).map_err(refuse)?;
            (Some(signer.public()), Some(Box::new(own.clone())))
        };
        let mut passport = Passport {
            network: network.name.clone(),
            user_name: user_name.to_string(),
            user,
            allow_write: rights.allow_write,
            allow_storage: rights.allow_storage,
            allow_create_passport: rights.allow_create_passport,
            certifier,
            certifier_passport,
            signature: Signature([0; 64]),
        };
        passport.signature = signer.sign(&passport.statement());
        Ok(passport)
    }

    /// Check the signature chain up to the network's owner.
    pub fn verify(&self, network: &Network) -> Result<()> {
        self.verify_depth(network, 0)
    }

    fn verify_depth(&self, network: &Network, depth: usize) -> Result<()> {
        let name = self.display();
        let refuse =
            |why: &str| DescriptorError::Invalid { kind: Kind::Passport, name: name.clone(), why: why.to_string() };
        if self.network != network.name {
            return Err(refuse(&format!("it is for network \"{}\", not \"{}\"", self.network, network.name)));
        }
        if depth > MAX_DELEGATION_DEPTH {
            return Err(refuse("the delegation chain is too long"));
        }
        let signer = match (&self.certifier, &self.certifier_passport) {
            (None, None) => network.owner,
            (Some(certifier), Some(own)) => {
                own.verify_depth(network, depth + 1)?;
                if own.user != *certifier || !own.allow_create_passport {
                    return Err(refuse("its certifier was not allowed to create passports"));
                }
                check_subset(own.rights(), self.rights()).map_err(|why| refuse(&why))?;
                *certifier
            }
            _ => {
                return Err(refuse("a delegated passport must carry its certifier's passport"));
            }
        };
        signer
            .verify(&self.statement(), &self.signature)
            .map_err(|_| DescriptorError::BadSignature { kind: Kind::Passport, name: name.clone() })
    }
}

fn check_subset(own: Rights, granted: Rights) -> std::result::Result<(), String> {
    if (granted.allow_write && !own.allow_write) || (granted.allow_storage && !own.allow_storage) {
        return Err("a delegate cannot grant rights it does not hold itself".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::descriptors::network::{NetworkSettings, Overlay};

    fn all() -> Rights {
        Rights { allow_write: true, allow_storage: true, allow_create_passport: false }
    }

    fn network(owner: &KeyPair) -> Network {
        let settings = NetworkSettings {
            description: None,
            replication_factor: 1,
            overlay: Overlay::Gossip,
            eviction_delay: "10min".into(),
            peers: vec![],
        };
        Network::new("alice/net", settings, owner).unwrap()
    }

    #[test]
    fn owner_signed_passport_verifies_and_tampering_is_caught() {
        let alice = KeyPair::generate().unwrap();
        let bob = KeyPair::generate().unwrap();
        let net = network(&alice);
        let p = Passport::sign(&net, "bob", bob.public(), all(), &alice, None).unwrap();
        p.verify(&net).unwrap();
        let mut escalated = p.clone();
        escalated.allow_create_passport = true;
        assert!(escalated.verify(&net).is_err());
        let other = network(&KeyPair::generate().unwrap());
        assert!(p.verify(&other).is_err());
    }

    #[test]
    fn delegation_requires_the_right_and_cannot_widen_rights() {
        let alice = KeyPair::generate().unwrap();
        let bob = KeyPair::generate().unwrap();
        let carol = KeyPair::generate().unwrap();
        let net = network(&alice);
        let plain = Passport::sign(&net, "bob", bob.public(), all(), &alice, None).unwrap();
        assert!(Passport::sign(&net, "carol", carol.public(), all(), &bob, Some(&plain)).is_err());
        assert!(Passport::sign(&net, "carol", carol.public(), all(), &bob, None).is_err());

        let delegate_rights = Rights { allow_write: false, allow_storage: true, allow_create_passport: true };
        let delegate = Passport::sign(&net, "bob", bob.public(), delegate_rights, &alice, None).unwrap();
        let readonly = Rights { allow_write: false, allow_storage: true, allow_create_passport: false };
        let carols = Passport::sign(&net, "carol", carol.public(), readonly, &bob, Some(&delegate)).unwrap();
        carols.verify(&net).unwrap();
        assert!(Passport::sign(&net, "carol", carol.public(), all(), &bob, Some(&delegate)).is_err());
        let mut forged = carols.clone();
        forged.allow_write = true;
        assert!(forged.verify(&net).is_err());
    }
}
