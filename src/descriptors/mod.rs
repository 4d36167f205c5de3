//! Local descriptors: the small signed JSON documents (users, silos,
//! credentials, networks, passports, volumes) kept under the infinit home and
//! exchanged between people by file.

pub mod credentials;
pub mod home;
pub mod names;
pub mod network;
pub mod owner;
pub mod passport;
pub mod silo;
pub mod store;
pub mod units;
pub mod user;
pub mod volume;

pub use credentials::Credentials;
pub use home::Home;
pub use network::{LinkedNetwork, Network};
pub use passport::Passport;
pub use silo::Silo;
pub use store::{Kind, Saved, Store};
pub use user::User;
pub use volume::Volume;

use crate::crypto::CryptoError;

/// What can go wrong with local descriptors.
#[derive(Debug, thiserror::Error)]
pub enum DescriptorError {
    #[error("{kind} \"{name}\" does not exist")]
    NotFound { kind: Kind, name: String },
    #[error("{kind} \"{name}\" already exists with different content{hint}")]
    Exists { kind: Kind, name: String, hint: &'static str },
    #[error("invalid {what} name \"{name}\": {why}")]
    InvalidName { what: &'static str, name: String, why: String },
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{kind} \"{name}\" is not valid JSON for its kind: {why}")]
    Parse { kind: Kind, name: String, why: String },
    #[error("{kind} \"{name}\": {why}")]
    Invalid { kind: Kind, name: String, why: String },
    #[error("{kind} \"{name}\": the signature does not match its content (altered or forged)")]
    BadSignature { kind: Kind, name: String },
    #[error(
        "{kind} \"{name}\" belongs to user \"{user}\", who is unknown on this device: import that user's public identity first (on their device: infinit user export --name {user} --output {user}.user; here: infinit user import --input {user}.user), then import the {kind} again"
    )]
    UnknownOwner { kind: Kind, name: String, user: String },
    #[error(
        "{kind} \"{name}\" is owned by a key that is not user \"{user}\"'s ({found} instead of {expected}): its owner is someone else using that name; refusing it"
    )]
    ForeignOwner { kind: Kind, name: String, user: String, found: String, expected: String },
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

impl DescriptorError {
    /// Wrap an I/O error with the path it concerns.
    pub fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        DescriptorError::Io { path: path.display().to_string(), source }
    }
}

/// Result type of this module.
pub type Result<T, E = DescriptorError> = std::result::Result<T, E>;
