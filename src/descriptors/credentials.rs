//! Credentials for cloud silos, kept in 0600 files under
//! `credentials/<service>/<name>` and never exported.

use serde::{Deserialize, Serialize};

/// A set of credentials.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Credentials {
    /// Amazon Web Services (or any S3-compatible service).
    Aws {
        /// Local name.
        name: String,
        /// Access key id.
        access_key_id: String,
        /// Secret access key.
        secret_access_key: String,
    },
    /// Google Cloud Storage service account.
    Gcs {
        /// Local name.
        name: String,
        /// The service account key (JSON text).
        service_account_key: String,
    },
}

impl Credentials {
    /// The service folder: `aws` or `gcs`.
    pub fn service(&self) -> &'static str {
        match self {
            Credentials::Aws { .. } => "aws",
            Credentials::Gcs { .. } => "gcs",
        }
    }

    /// The local name.
    pub fn name(&self) -> &str {
        match self {
            Credentials::Aws { name, .. } | Credentials::Gcs { name, .. } => name,
        }
    }

    /// A one-line description that shows no secret.
    pub fn summary(&self) -> String {
        match self {
            Credentials::Aws { access_key_id, .. } => format!("access key id {access_key_id}"),
            Credentials::Gcs { .. } => "service account key".to_string(),
        }
    }
}
