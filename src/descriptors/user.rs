//! A user: a name bound to an identity by a self-signature, with the private
//! half present (plain in a 0600 file, or wrapped under a passphrase) for
//! users of this device, absent for users imported from other people.

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{DescriptorError, Kind, Result, names};
use crate::crypto::wrap::{self, WrappedKey};
use crate::crypto::{Canonical, CryptoError, KeyPair, PrivateKeys, PublicKey, Signature};

/// How the private half is kept at rest.
#[derive(Clone, Serialize, Deserialize)]
#[serde(tag = "protection", rename_all = "lowercase")]
pub enum StoredPrivateKey {
    /// Plain keys; the file is mode 0600, like an ssh key without passphrase.
    None(PrivateKeys),
    /// Wrapped with Argon2id + XChaCha20-Poly1305.
    Passphrase(WrappedKey),
}

/// A user descriptor.
#[derive(Clone, Serialize, Deserialize)]
pub struct User {
    /// The user's name.
    pub name: String,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The identity.
    pub public_key: PublicKey,
    /// Present only for users who live on this device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key: Option<StoredPrivateKey>,
    /// Self-signature over name, description and public key.
    pub signature: Signature,
}

fn statement(name: &str, description: Option<&str>, key: &PublicKey) -> Vec<u8> {
    Canonical::new("infinit/user/v1").str(name).opt_str(description).bytes(&key.to_bytes()).finish()
}

impl User {
    /// Create a user around `keys`, optionally protecting them with `passphrase`.
    pub fn new(name: &str, description: Option<String>, keys: &KeyPair, passphrase: Option<&str>) -> Result<User> {
        names::check("user", name)?;
        let public_key = keys.public();
        let signature = keys.sign(&statement(name, description.as_deref(), &public_key));
        let private_key = Some(match passphrase {
            Some(p) => StoredPrivateKey::Passphrase(wrap::wrap(&keys.private(), p)?),
            None => StoredPrivateKey::None(keys.private()),
        });
        Ok(User { name: name.to_string(), description, public_key, private_key, signature })
    }

    /// Check the name, the self-signature and, when plain, that the private
    /// half matches the public one.
    pub fn verify(&self) -> Result<()> {
        names::check("user", &self.name)?;
        let bad = || DescriptorError::BadSignature { kind: Kind::User, name: self.name.clone() };
        self.public_key.validate().map_err(|_| bad())?;
        self.public_key
            .verify(&statement(&self.name, self.description.as_deref(), &self.public_key), &self.signature)
            .map_err(|_| bad())?;
        if let Some(StoredPrivateKey::Passphrase(wrapped)) = &self.private_key {
            wrapped.check_params().map_err(|e| DescriptorError::Invalid {
                kind: Kind::User,
                name: self.name.clone(),
                why: e.to_string(),
            })?;
        }
        if let Some(StoredPrivateKey::None(private)) = &self.private_key
            && KeyPair::from_private(private).public() != self.public_key
        {
            return Err(DescriptorError::Invalid {
                kind: Kind::User,
                name: self.name.clone(),
                why: "the private key does not match the public key".into(),
            });
        }
        Ok(())
    }

    /// The same user without the private half, for sharing.
    pub fn public(&self) -> User {
        User { private_key: None, ..self.clone() }
    }

    /// Whether this device holds the private half.
    pub fn has_private_key(&self) -> bool {
        self.private_key.is_some()
    }

    /// Whether the private half is protected by a passphrase.
    pub fn is_protected(&self) -> bool {
        matches!(self.private_key, Some(StoredPrivateKey::Passphrase(_)))
    }

    /// The key pair; `passphrase` is asked only when the key is protected
    /// (and wiped from memory once used).
    pub fn keys(&self, passphrase: impl FnOnce() -> Result<Zeroizing<String>>) -> Result<KeyPair> {
        let keys = match &self.private_key {
            None => {
                return Err(DescriptorError::Invalid {
                    kind: Kind::User,
                    name: self.name.clone(),
                    why: "no private key on this device (it was imported from its public export)".into(),
                });
            }
            Some(StoredPrivateKey::None(private)) => KeyPair::from_private(private),
            Some(StoredPrivateKey::Passphrase(wrapped)) => {
                // A crafted file is refused before anyone types a passphrase.
                wrapped.check_params().map_err(|e| DescriptorError::Invalid {
                    kind: Kind::User,
                    name: self.name.clone(),
                    why: e.to_string(),
                })?;
                let pass = passphrase()?;
                let private = wrap::unwrap(wrapped, &pass).map_err(|e| match e {
                    CryptoError::WrongPassphrase => DescriptorError::Invalid {
                        kind: Kind::User,
                        name: self.name.clone(),
                        why: "wrong passphrase".into(),
                    },
                    other => other.into(),
                })?;
                KeyPair::from_private(&private)
            }
        };
        if keys.public() != self.public_key {
            return Err(DescriptorError::Invalid {
                kind: Kind::User,
                name: self.name.clone(),
                why: "the private key does not match the public key".into(),
            });
        }
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signature_covers_name_description_and_key() {
        let keys = KeyPair::generate().unwrap();
        let user = User::new("alice", Some("hi".into()), &keys, None).unwrap();
        user.verify().unwrap();
        let mut renamed = user.clone();
        renamed.name = "mallory".into();
        assert!(renamed.verify().is_err());
        let mut redescribed = user.clone();
        redescribed.description = None;
        assert!(redescribed.verify().is_err());
        let mut rekeyed = user.public();
        rekeyed.public_key.x25519[0] ^= 1;
        assert!(rekeyed.verify().is_err());
    }

    #[test]
    fn protected_keys_need_the_passphrase() {
        let keys = KeyPair::generate().unwrap();
        let user = User::new("bob", None, &keys, Some("pw")).unwrap();
        assert!(user.is_protected());
        let pass = |p: &str| Ok(Zeroizing::new(p.to_string()));
        assert_eq!(user.keys(|| pass("pw")).unwrap().public(), keys.public());
        assert!(user.keys(|| pass("nope")).is_err());
        assert!(user.public().keys(|| pass("pw")).is_err());
    }

    #[test]
    fn a_user_file_demanding_unbounded_argon2_memory_is_refused() {
        let keys = KeyPair::generate().unwrap();
        let mut user = User::new("bob", None, &keys, Some("pw")).unwrap();
        user.verify().unwrap();
        if let Some(StoredPrivateKey::Passphrase(wrapped)) = &mut user.private_key {
            wrapped.m_cost = u32::MAX;
        }
        let error = user.verify().unwrap_err().to_string();
        assert!(error.contains("argon2 parameters") && error.contains("memory cost"), "{error}");
        assert!(user.keys(|| panic!("asked for a passphrase")).is_err());
    }
}
