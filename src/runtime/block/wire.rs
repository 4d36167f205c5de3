//! The canonical binary form of blocks: one format-version byte followed by
//! the postcard encoding, with keys and signatures as raw fixed-size bytes
//! (not the base64 strings descriptors use). Decoding refuses unknown format
//! versions and trailing bytes, so one block has one accepted encoding frame.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::BlockError;
use crate::crypto::{PublicKey, Signature};

/// The format version this build writes and the only one it reads.
pub const FORMAT_VERSION: u8 = 1;

/// Encode `value` as `FORMAT_VERSION || postcard(value)`.
pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, BlockError> {
    let mut out = vec![FORMAT_VERSION];
    postcard::to_io(value, &mut out).map_err(|e| BlockError::Malformed { why: format!("cannot encode: {e}") })?;
    Ok(out)
}

/// Decode the output of [`encode`], refusing other versions and extra bytes.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, BlockError> {
    let (&version, body) = bytes.split_first().ok_or(BlockError::Malformed { why: "empty input".into() })?;
    if version != FORMAT_VERSION {
        return Err(BlockError::UnsupportedFormat { found: version, supported: FORMAT_VERSION });
    }
    let (value, rest) = postcard::take_from_bytes(body).map_err(|e| BlockError::Malformed { why: e.to_string() })?;
    if !rest.is_empty() {
        return Err(BlockError::TrailingBytes { count: rest.len() });
    }
    Ok(value)
}

/// Serde form of a [`PublicKey`]: its two 32-byte halves. Reading refuses
/// an invalid X25519 half ([`PublicKey::from_parts`]).
pub mod key {
    use super::*;

    /// Write the key as two raw 32-byte arrays.
    pub fn serialize<S: Serializer>(key: &PublicKey, s: S) -> Result<S::Ok, S::Error> {
        (key.ed25519, key.x25519).serialize(s)
    }

    /// Read the form written by [`serialize`].
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<PublicKey, D::Error> {
        let (ed25519, x25519) = <([u8; 32], [u8; 32])>::deserialize(d)?;
        PublicKey::from_parts(ed25519, x25519).map_err(serde::de::Error::custom)
    }
}

/// Serde form of a list of [`PublicKey`]s.
pub mod keys {
    use super::*;

    /// Write the keys as a sequence of raw halves.
    pub fn serialize<S: Serializer>(keys: &[PublicKey], s: S) -> Result<S::Ok, S::Error> {
        let raw: Vec<([u8; 32], [u8; 32])> = keys.iter().map(|k| (k.ed25519, k.x25519)).collect();
        raw.serialize(s)
    }

    /// Read the form written by [`serialize`].
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<PublicKey>, D::Error> {
        let raw = Vec::<([u8; 32], [u8; 32])>::deserialize(d)?;
        raw.into_iter()
            .map(|(ed25519, x25519)| PublicKey::from_parts(ed25519, x25519).map_err(serde::de::Error::custom))
            .collect()
    }
}

/// Serde form of a [`Signature`]: 64 raw bytes as two 32-byte arrays.
pub mod signature {
    use super::*;

    /// Write the signature as two raw 32-byte arrays.
    pub fn serialize<S: Serializer>(sig: &Signature, s: S) -> Result<S::Ok, S::Error> {
        let mut low = [0u8; 32];
        let mut high = [0u8; 32];
        low.copy_from_slice(&sig.0[..32]);
        high.copy_from_slice(&sig.0[32..]);
        (low, high).serialize(s)
    }

    /// Read the form written by [`serialize`].
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Signature, D::Error> {
        let (low, high) = <([u8; 32], [u8; 32])>::deserialize(d)?;
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(&low);
        out[32..].copy_from_slice(&high);
        Ok(Signature(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Sample {
        #[serde(with = "key")]
        key: PublicKey,
        #[serde(with = "signature")]
        sig: Signature,
        #[serde(with = "serde_bytes")]
        data: Vec<u8>,
    }

    fn sample() -> Sample {
        Sample { key: PublicKey { ed25519: [1; 32], x25519: [2; 32] }, sig: Signature([3; 64]), data: vec![4, 5] }
    }

    #[test]
    fn round_trips_with_raw_fixed_size_fields() {
        let bytes = encode(&sample()).unwrap();
        // version + 64 key bytes + 64 signature bytes + length + 2 data bytes
        assert_eq!(bytes.len(), 1 + 64 + 64 + 1 + 2);
        assert_eq!(decode::<Sample>(&bytes).unwrap(), sample());
    }

    #[test]
    fn a_low_order_x25519_key_is_refused_when_decoded() {
        let mut weak = sample();
        weak.key.x25519 = [0; 32];
        let bytes = encode(&weak).unwrap();
        assert!(matches!(decode::<Sample>(&bytes), Err(BlockError::Malformed { .. })));
    }

    #[test]
    fn unknown_format_version_is_refused() {
        let mut bytes = encode(&sample()).unwrap();
        bytes[0] = FORMAT_VERSION + 1;
        assert!(matches!(decode::<Sample>(&bytes), Err(BlockError::UnsupportedFormat { found: 2, .. })));
        assert!(matches!(decode::<Sample>(&[]), Err(BlockError::Malformed { .. })));
    }

    #[test]
    fn trailing_garbage_is_refused() {
        let mut bytes = encode(&sample()).unwrap();
        bytes.push(0);
        assert!(matches!(decode::<Sample>(&bytes), Err(BlockError::TrailingBytes { count: 1 })));
    }

    #[test]
    fn truncated_input_is_refused() {
        let bytes = encode(&sample()).unwrap();
        for len in 1..bytes.len() {
            assert!(decode::<Sample>(&bytes[..len]).is_err(), "accepted a {len}-byte prefix");
        }
    }
}
