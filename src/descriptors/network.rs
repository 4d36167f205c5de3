//! Network descriptors (shareable, signed by the owner) and linked networks
//! (this device's membership: a node key certified by the user, the user's
//! passport and the silos the node contributes).

use serde::{Deserialize, Serialize};

use super::{DescriptorError, Kind, Passport, Result, User, names, units};
use crate::crypto::{Canonical, KeyPair, PrivateKeys, PublicKey, Signature, hash, serde_b64};

/// How nodes find each other and place blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Overlay {
    /// Gossip membership with failure detection (default).
    Gossip,
    /// A fixed list of peers.
    Static,
    /// One node holds everything.
    Single,
}

impl Overlay {
    /// The overlay's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Overlay::Gossip => "gossip",
            Overlay::Static => "static",
            Overlay::Single => "single",
        }
    }
}

/// The descriptor format version written by this software.
pub const FORMAT_VERSION: u32 = 1;

/// A network descriptor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Network {
    /// Qualified name `owner/name`.
    pub name: String,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The owner: root of trust for passports.
    pub owner: PublicKey,
    /// Descriptor format version.
    pub version: u32,
    /// How many nodes keep each block.
    pub replication_factor: u32,
    /// Membership and placement.
    pub overlay: Overlay,
    /// How long a silent node keeps its blocks before they are re-replicated (e.g. `10min`).
    pub eviction_delay: String,
    /// Bootstrap peers (`host:port`).
    #[serde(default)]
    pub peers: Vec<String>,
    /// Owner's signature over all of the above.
    pub signature: Signature,
}

/// The fields a network is created or updated with.
#[derive(Clone, Debug)]
pub struct NetworkSettings {
    /// Free text.
    pub description: Option<String>,
    /// Replicas per block, at least 1.
    pub replication_factor: u32,
    /// Overlay kind.
    pub overlay: Overlay,
    /// Eviction delay, e.g. `10min`.
    pub eviction_delay: String,
    /// Bootstrap peers.
    pub peers: Vec<String>,
}

impl Network {
    fn statement(&self) -> Vec<u8> {
        let mut c = Canonical::new("infinit/network/v1")
            .str(&self.name)
            .opt_str(self.description.as_deref())
            .bytes(&self.owner.to_bytes())
            .u64(u64::from(self.version))
            .u64(u64::from(self.replication_factor))
            .str(self.overlay.as_str())
            .str(&self.eviction_delay)
            .u64(self.peers.len() as u64);
        for peer in &self.peers {
            c = c.str(peer);
        }
        c.finish()
    }

    /// Build and sign a network owned by `owner`.
    pub fn new(name: &str, settings: NetworkSettings, owner: &KeyPair) -> Result<Network> {
        let mut network = Network {
            name: name.to_string(),
            description: None,
            owner: owner.public(),
            version: FORMAT_VERSION,
            replication_factor: 1,
            overlay: Overlay::Gossip,
            eviction_delay: String::new(),
            peers: Vec::new(),
            signature: Signature([0; 64]),
        };
        network.apply(settings, owner)?;
        Ok(network)
    }

    /// Replace the settings and sign again with the owner's keys.
    pub fn apply(&mut self, settings: NetworkSettings, owner: &KeyPair) -> Result<()> {
        let invalid = |why: String| DescriptorError::Invalid { kind: Kind::Network, name: self.name.clone(), why };
        if owner.public() != self.owner {
            return Err(invalid("only the owner may sign the network".into()));
        }
        if settings.replication_factor == 0 {
            return Err(invalid("the replication factor must be at least 1".into()));
        }
        if settings.overlay == Overlay::Single && settings.replication_factor != 1 {
            return Err(invalid("the single-node overlay keeps one copy: the replication factor must be 1".into()));
        }
        let delay = units::parse_duration(&settings.eviction_delay).map_err(invalid)?;
        self.description = settings.description;
        self.replication_factor = settings.replication_factor;
        self.overlay = settings.overlay;
        self.eviction_delay = units::format_duration(delay);
        self.peers = settings.peers;
        self.signature = owner.sign(&self.statement());
        Ok(())
    }

    /// The current settings.
    pub fn settings(&self) -> NetworkSettings {
        NetworkSettings {
            description: self.description.clone(),
            replication_factor: self.replication_factor,
            overlay: self.overlay,
            eviction_delay: self.eviction_delay.clone(),
            peers: self.peers.clone(),
        }
    }

    /// Check the name and the owner's signature.
    pub fn verify(&self) -> Result<()> {
        names::qualify("network", &self.name, "x")?;
        if self.version > FORMAT_VERSION {
            return Err(DescriptorError::Invalid {
                kind: Kind::Network,
                name: self.name.clone(),
                why: format!(
                    "format version {} is newer than this software understands ({FORMAT_VERSION})",
                    self.version
                ),
            });
        }
        self.owner
            .verify(&self.statement(), &self.signature)
            .map_err(|_| DescriptorError::BadSignature { kind: Kind::Network, name: self.name.clone() })
    }
}

/// This device's node identity in one network.
#[derive(Clone, Serialize, Deserialize)]
pub struct NodeIdentity {
    /// Node id: the fingerprint of the node key.
    #[serde(with = "serde_b64")]
    pub id: [u8; 32],
    /// The node's public key.
    pub public_key: PublicKey,
    /// The node's private key (the file is 0600: nodes run unattended).
    pub private_key: PrivateKeys,
    /// The user's signature binding this node key to the network.
    pub certificate: Signature,
}

impl NodeIdentity {
    fn statement(network: &str, node: &PublicKey) -> Vec<u8> {
        Canonical::new("infinit/node-certificate/v1").str(network).bytes(&node.to_bytes()).finish()
    }

    /// Generate a node key for `network`, certified by `user`.
    pub fn generate(network: &str, user: &KeyPair) -> Result<NodeIdentity> {
        let node = KeyPair::generate()?;
        let public_key = node.public();
        Ok(NodeIdentity {
            id: public_key.fingerprint(),
            public_key,
            private_key: node.private(),
            certificate: user.sign(&Self::statement(network, &public_key)),
        })
    }

    /// Check the certificate against `user` and the id against the key.
    pub fn verify(&self, network: &str, user: &PublicKey) -> Result<()> {
        let bad = || DescriptorError::BadSignature { kind: Kind::LinkedNetwork, name: network.to_string() };
        if self.id != self.public_key.fingerprint()
            || KeyPair::from_private(&self.private_key).public() != self.public_key
        {
            return Err(bad());
        }
        user.verify(&Self::statement(network, &self.public_key), &self.certificate).map_err(|_| bad())
    }

    /// Check that `user` certified `node` as a node of `network` (what a
    /// peer shows of its identity: the public half only).
    pub fn verify_certificate(network: &str, node: &PublicKey, user: &PublicKey, certificate: &Signature) -> bool {
        user.verify(&Self::statement(network, node), certificate).is_ok()
    }

    /// The node id in hex.
    pub fn id_hex(&self) -> String {
        hash::hex(&self.id)
    }
}

/// A network linked to this device for one user.
#[derive(Clone, Serialize, Deserialize)]
pub struct LinkedNetwork {
    /// Qualified network name.
    pub network: String,
    /// The local user this link belongs to.
    pub user: String,
    /// The node key.
    pub node: NodeIdentity,
    /// The user's passport (self-issued for the owner).
    pub passport: Passport,
    /// Silos this node contributes; empty for a pure client.
    #[serde(default)]
    pub silos: Vec<String>,
}

impl LinkedNetwork {
    /// Check the link as a node about to run: it is `user`'s link of
    /// `network`, the node key is certified by the user, the passport is
    /// signed by the network's owner (or a delegate chain up to it) for this
    /// user's key, and it allows the storage the link contributes.
    pub fn verify(&self, network: &Network, user: &User) -> Result<()> {
        let invalid = |why: String| DescriptorError::Invalid {
            kind: Kind::LinkedNetwork,
            name: format!("{}/{}", self.user, self.network),
            why,
        };
        if self.network != network.name || self.user != user.name {
            return Err(invalid(format!(
                "it links network \"{}\" for user \"{}\", not \"{}\" for \"{}\"",
                self.network, self.user, network.name, user.name
            )));
        }
        self.node.verify(&network.name, &user.public_key)?;
        self.passport.verify(network)?;
        if self.passport.user != user.public_key {
            return Err(invalid(format!("its passport was issued to another key than user \"{}\"'s", user.name)));
        }
        if !self.silos.is_empty() && !self.passport.allow_storage {
            return Err(invalid(format!(
                "it contributes silo \"{}\" but the passport of user \"{}\" does not allow storage (relink without --silo)",
                self.silos.join("\", \""),
                user.name
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::descriptors::passport::Rights;

    fn settings() -> NetworkSettings {
        NetworkSettings {
            description: None,
            replication_factor: 1,
            overlay: Overlay::Single,
            eviction_delay: "10min".into(),
            peers: vec![],
        }
    }

    struct Cast {
        network: Network,
        owner: KeyPair,
        bob: User,
        bob_keys: KeyPair,
    }

    fn cast() -> Cast {
        let owner = KeyPair::generate().unwrap();
        let network = Network::new("alice/net", settings(), &owner).unwrap();
        let bob_keys = KeyPair::generate().unwrap();
        let bob = User::new("bob", None, &bob_keys, None).unwrap();
        Cast { network, owner, bob, bob_keys }
    }

    fn link(c: &Cast, rights: Rights, silos: &[&str]) -> LinkedNetwork {
        let passport = Passport::sign(&c.network, "bob", c.bob.public_key, rights, &c.owner, None).unwrap();
        LinkedNetwork {
            network: c.network.name.clone(),
            user: "bob".into(),
            node: NodeIdentity::generate(&c.network.name, &c.bob_keys).unwrap(),
            passport,
            silos: silos.iter().map(|s| s.to_string()).collect(),
        }
    }

    const ALL: Rights = Rights { allow_write: true, allow_storage: true, allow_create_passport: false };

    #[test]
    fn a_sound_link_verifies() {
        let c = cast();
        link(&c, ALL, &["s"]).verify(&c.network, &c.bob).unwrap();
    }

    #[test]
    fn a_node_key_not_certified_by_the_user_is_refused() {
        let c = cast();
        let mut forged = link(&c, ALL, &[]);
        let mallory = KeyPair::generate().unwrap();
        forged.node = NodeIdentity::generate(&c.network.name, &mallory).unwrap();
        assert!(matches!(forged.verify(&c.network, &c.bob), Err(DescriptorError::BadSignature { .. })));
        let mut swapped = link(&c, ALL, &[]);
        swapped.node.private_key = KeyPair::generate().unwrap().private();
        assert!(swapped.verify(&c.network, &c.bob).is_err());
        let mut other_network = link(&c, ALL, &[]);
        other_network.node = NodeIdentity::generate("alice/other", &c.bob_keys).unwrap();
        assert!(other_network.verify(&c.network, &c.bob).is_err());
    }

    #[test]
    fn a_passport_not_signed_by_the_owner_or_for_another_key_is_refused() {
        let c = cast();
        let mut forged = link(&c, ALL, &[]);
        let mallory = KeyPair::generate().unwrap();
        let fake = Network { owner: mallory.public(), ..c.network.clone() };
        forged.passport = Passport::sign(&fake, "bob", c.bob.public_key, ALL, &mallory, None).unwrap();
        assert!(forged.verify(&c.network, &c.bob).is_err());
        let mut widened = link(&c, Rights { allow_write: false, ..ALL }, &[]);
        widened.passport.allow_write = true;
        assert!(widened.verify(&c.network, &c.bob).is_err());
        let mut stolen = link(&c, ALL, &[]);
        let eve = KeyPair::generate().unwrap().public();
        stolen.passport = Passport::sign(&c.network, "bob", eve, ALL, &c.owner, None).unwrap();
        assert!(stolen.verify(&c.network, &c.bob).unwrap_err().to_string().contains("another key"));
    }

    #[test]
    fn a_silo_without_storage_rights_or_someone_elses_link_is_refused() {
        let c = cast();
        let no_storage = Rights { allow_storage: false, ..ALL };
        let message = link(&c, no_storage, &["s"]).verify(&c.network, &c.bob).unwrap_err().to_string();
        assert!(message.contains("does not allow storage"), "{message}");
        link(&c, no_storage, &[]).verify(&c.network, &c.bob).unwrap();
        let carol = User::new("carol", None, &c.bob_keys, None).unwrap();
        assert!(link(&c, ALL, &[]).verify(&c.network, &carol).is_err());
    }
}
