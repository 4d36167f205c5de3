//! Cryptography for identities and data: Ed25519 signatures, X25519 sealing
//! to readers, passphrase wrapping of private keys, BLAKE3 hashing, and the
//! canonical byte encoding that every signature covers.

pub mod canonical;
pub mod hash;
pub mod keys;
pub mod seal;
pub mod verified;
pub mod wrap;

pub use canonical::Canonical;
pub use keys::{KeyPair, PrivateKeys, PublicKey, Signature};

use base64::Engine as _;

/// What can go wrong in a cryptographic operation.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("the operating system's random generator failed: {0}")]
    Random(String),
    #[error("invalid {what}: {why}")]
    Malformed { what: &'static str, why: String },
    #[error("signature verification failed")]
    BadSignature,
    #[error("wrong passphrase")]
    WrongPassphrase,
    #[error("decryption failed: the data was altered or is not addressed to this key")]
    Decryption,
}

/// Fill `N` bytes from the operating system's random generator.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).map_err(|e| CryptoError::Random(e.to_string()))?;
    Ok(out)
}

/// Standard base64 with padding, as every descriptor uses.
pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decode standard base64 into exactly `N` bytes.
pub fn unb64_array<const N: usize>(what: &'static str, text: &str) -> Result<[u8; N], CryptoError> {
    let bytes = unb64(what, text)?;
    bytes
        .as_slice()
        .try_into()
        .map_err(|_| CryptoError::Malformed { what, why: format!("expected {N} bytes, found {}", bytes.len()) })
}

/// Decode standard base64.
pub fn unb64(what: &'static str, text: &str) -> Result<Vec<u8>, CryptoError> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| CryptoError::Malformed { what, why: e.to_string() })
}

/// Serde helpers to store fixed-size byte arrays as base64 strings.
pub mod serde_b64 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer, const N: usize>(bytes: &[u8; N], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::b64(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(d: D) -> Result<[u8; N], D::Error> {
        let text = String::deserialize(d)?;
        super::unb64_array("base64 field", &text).map_err(serde::de::Error::custom)
    }
}

/// Serde helpers to store byte vectors as base64 strings.
pub mod serde_b64_vec {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::b64(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        super::unb64("base64 field", &text).map_err(serde::de::Error::custom)
    }
}
