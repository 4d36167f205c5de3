//! Volume descriptors: a file system living on a network, signed by its
//! creator, with the default mount options kept beside it (local
//! preferences, not signed and not exported with their mountpoint).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{DescriptorError, Kind, Result, names};
use crate::crypto::{Canonical, KeyPair, PublicKey, Signature};

/// Default size of file content blocks.
pub const DEFAULT_BLOCK_SIZE: u64 = 1 << 20;

/// Stored defaults for `volume run`/`volume mount`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MountOptions {
    /// Where to mount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mountpoint: Option<PathBuf>,
    /// Mount read-only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readonly: Option<bool>,
    /// Keep a RAM block cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<bool>,
    /// Write back through the on-disk journal.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "async")]
    pub async_writes: Option<bool>,
}

impl MountOptions {
    /// Overlay `other`'s set fields onto these.
    pub fn merge(&mut self, other: MountOptions) {
        if other.mountpoint.is_some() {
            self.mountpoint = other.mountpoint;
        }
        self.readonly = other.readonly.or(self.readonly);
        self.cache = other.cache.or(self.cache);
        self.async_writes = other.async_writes.or(self.async_writes);
    }
}

/// A volume descriptor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Volume {
    /// Qualified name `owner/name`.
    pub name: String,
    /// Qualified network name.
    pub network: String,
    /// The creator.
    pub owner: PublicKey,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Size of file content blocks in bytes.
    pub block_size: u64,
    /// Local defaults for running the volume.
    #[serde(default)]
    pub mount_options: MountOptions,
    /// The creator's signature over name, network, description and block size.
    pub signature: Signature,
}

impl Volume {
    fn statement(&self) -> Vec<u8> {
        Canonical::new("infinit/volume/v1")
            .str(&self.name)
            .str(&self.network)
            .bytes(&self.owner.to_bytes())
            .opt_str(self.description.as_deref())
            .u64(self.block_size)
            .finish()
    }

    /// Create and sign a volume.
    pub fn new(
        name: &str,
        network: &str,
        description: Option<String>,
        block_size: u64,
        mount_options: MountOptions,
        owner: &KeyPair,
    ) -> Result<Volume> {
        let mut volume = Volume {
            name: name.to_string(),
            network: network.to_string(),
            owner: owner.public(),
            description,
            block_size,
            mount_options,
            signature: Signature([0; 64]),
        };
        volume.check_block_size()?;
        volume.signature = owner.sign(&volume.statement());
        Ok(volume)
    }

    fn check_block_size(&self) -> Result<()> {
        if !(4096..=64 << 20).contains(&self.block_size) {
            return Err(DescriptorError::Invalid {
                kind: Kind::Volume,
                name: self.name.clone(),
                why: format!("block size {} is outside 4 KiB ..= 64 MiB", self.block_size),
            });
        }
        Ok(())
    }

    /// Sign again after a change to a signed field.
    pub fn resign(&mut self, owner: &KeyPair) -> Result<()> {
        if owner.public() != self.owner {
            return Err(DescriptorError::Invalid {
                kind: Kind::Volume,
                name: self.name.clone(),
                why: "only the volume's creator may change its description or block size".into(),
            });
        }
        self.check_block_size()?;
        self.signature = owner.sign(&self.statement());
        Ok(())
    }

    /// Check names, block size and signature.
    pub fn verify(&self) -> Result<()> {
        names::qualify("volume", &self.name, "x")?;
        names::qualify("network", &self.network, "x")?;
        self.check_block_size()?;
        self.owner
            .verify(&self.statement(), &self.signature)
            .map_err(|_| DescriptorError::BadSignature { kind: Kind::Volume, name: self.name.clone() })
    }

    /// The shareable form: no local mountpoint.
    pub fn exported(&self) -> Volume {
        let mut v = self.clone();
        v.mount_options.mountpoint = None;
        v
    }
}
