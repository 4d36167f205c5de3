//! Credentials for cloud silos, kept in 0600 files under
//! `credentials/<service>/<name>` and never exported.

use serde::{Deserialize, Serialize};
use zeroize::Zeroize as _;

/// A set of credentials. Its secrets never show in `Debug` and are wiped
/// from memory when it is dropped.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
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

impl Drop for Credentials {
    fn drop(&mut self) {
        match self {
            Credentials::Aws { secret_access_key, .. } => secret_access_key.zeroize(),
            Credentials::Gcs { service_account_key, .. } => service_account_key.zeroize(),
        }
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Aws { name, access_key_id, .. } => f
                .debug_struct("Aws")
                .field("name", name)
                .field("access_key_id", access_key_id)
                .field("secret_access_key", &"<redacted>")
                .finish(),
            Credentials::Gcs { name, .. } => {
                f.debug_struct("Gcs").field("name", name).field("service_account_key", &"<redacted>").finish()
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_no_secret() {
        let aws = Credentials::Aws {
            name: "work".into(),
            access_key_id: "AKIAEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI-SECRET".into(),
        };
        let gcs = Credentials::Gcs { name: "g".into(), service_account_key: r#"{"private_key":"PEM-SECRET"}"#.into() };
        let shown = format!("{aws:?} {gcs:?} {aws:#?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(shown.contains("AKIAEXAMPLE") && shown.contains("<redacted>"), "{shown}");
    }
}
