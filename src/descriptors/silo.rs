//! Silo descriptors: where a node keeps its blocks. Cloud silos refer to
//! credentials by name so that exporting a silo never leaks a secret.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::runtime::silo::SiloId;

/// The backend of a silo.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum SiloBackend {
    /// One file per block in sharded folders under `path`.
    Filesystem {
        /// Absolute folder.
        path: PathBuf,
    },
    /// RAM only; lost when the node stops (tests, caches).
    Memory,
    /// An S3-compatible bucket.
    S3 {
        /// Endpoint URL, e.g. `https://s3.eu-west-1.amazonaws.com`.
        endpoint: String,
        /// Bucket name.
        bucket: String,
        /// Region.
        region: String,
        /// Name of the AWS credentials (`infinit credentials add --aws`).
        credentials: String,
        /// Folder (key prefix) inside the bucket.
        folder: String,
    },
    /// A Google Cloud Storage bucket.
    Gcs {
        /// Bucket name.
        bucket: String,
        /// Name of the GCS credentials (`infinit credentials add --gcs`).
        credentials: String,
        /// Folder (key prefix) inside the bucket.
        folder: String,
    },
}

impl SiloBackend {
    /// The backend's type name.
    pub fn type_name(&self) -> &'static str {
        match self {
            SiloBackend::Filesystem { .. } => "filesystem",
            SiloBackend::Memory => "memory",
            SiloBackend::S3 { .. } => "s3",
            SiloBackend::Gcs { .. } => "gcs",
        }
    }
}

/// A silo descriptor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Silo {
    /// The silo's name (local to this device).
    pub name: String,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Maximum bytes stored; unlimited when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u64>,
    /// The id in the silo's marker, checked before serving it; absent for
    /// memory silos and silos made before markers existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<SiloId>,
    /// Where the blocks go.
    #[serde(flatten)]
    pub backend: SiloBackend,
}
