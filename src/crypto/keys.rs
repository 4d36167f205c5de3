//! User and node identities: an Ed25519 key to sign and an X25519 key to
//! receive sealed secrets, with their JSON forms and short fingerprints.

use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use x25519_dalek::StaticSecret;
use zeroize::Zeroize;

use super::{CryptoError, hash, random_bytes, serde_b64, verified};

/// The public half of an identity, as stored in descriptors. Parsing it
/// refuses an X25519 half that is not a canonical, full-order point
/// ([`check_x25519`]), so no key read from a file or a block can make a
/// sealed secret guessable.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawPublicKey")]
pub struct PublicKey {
    /// Ed25519 verifying key.
    #[serde(with = "serde_b64")]
    pub ed25519: [u8; 32],
    /// X25519 public key for sealing secrets to this identity.
    #[serde(with = "serde_b64")]
    pub x25519: [u8; 32],
}

/// A public key as written, before its X25519 half is checked.
#[derive(Deserialize)]
struct RawPublicKey {
    #[serde(with = "serde_b64")]
    ed25519: [u8; 32],
    #[serde(with = "serde_b64")]
    x25519: [u8; 32],
}

impl TryFrom<RawPublicKey> for PublicKey {
    type Error = CryptoError;

    fn try_from(raw: RawPublicKey) -> Result<Self, CryptoError> {
        PublicKey::from_parts(raw.ed25519, raw.x25519)
    }
}

/// The u-coordinates (reduced, top bit ignored) of the points of small
/// order on Curve25519 and its twist: any scalar times one of them is the
/// identity, so a secret "sealed" to such a key is known to everyone. The
/// list is libsodium's (`has_small_order`); non-canonical encodings of the
/// same values are refused separately.
const LOW_ORDER: [[u8; 32]; 5] = [
    // 0 (order 4)
    [0; 32],
    // 1 (order 1)
    [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    // order 8
    [
        0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09,
        0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00,
    ],
    // order 8
    [
        0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83, 0xef, 0x5b, 0x04, 0x44,
        0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f, 0x11, 0x57,
    ],
    // p - 1 (order 2)
    [
        0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
    ],
];

/// Whether `u` (little-endian, top bit clear) is at least p = 2^255 - 19.
fn is_non_canonical(u: &[u8; 32]) -> bool {
    u[31] == 0x7f && u[1..31].iter().all(|&b| b == 0xff) && u[0] >= 0xed
}

/// Check an X25519 public key: the canonical encoding of a point whose
/// order is not small. Refused keys would make every Diffie-Hellman with
/// them give the same, public, result.
pub fn check_x25519(u: &[u8; 32]) -> Result<(), CryptoError> {
    let malformed = |why: &str| CryptoError::Malformed { what: "x25519 public key", why: why.to_string() };
    if u[31] & 0x80 != 0 || is_non_canonical(u) {
        return Err(malformed("not a canonical point encoding"));
    }
    if LOW_ORDER.contains(u) {
        return Err(malformed("a point of small order (every shared secret with it is public)"));
    }
    Ok(())
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", self.short_hash())
    }
}

impl PublicKey {
    /// A key from its two halves, refusing an invalid X25519 half.
    pub fn from_parts(ed25519: [u8; 32], x25519: [u8; 32]) -> Result<PublicKey, CryptoError> {
        check_x25519(&x25519)?;
        Ok(PublicKey { ed25519, x25519 })
    }

    /// Verify `signature` over `message` (strict Ed25519: no malleability).
    /// A signature this process verified or made before is not checked
    /// again (see `verified.rs`).
    pub fn verify(&self, message: &[u8], signature: &Signature) -> Result<(), CryptoError> {
        let print = verified::fingerprint(&self.ed25519, &signature.0, message);
        if verified::contains(&print) {
            return Ok(());
        }
        let key = verified::verifying_key(&self.ed25519).map_err(|_| CryptoError::BadSignature)?;
        let sig = ed25519_dalek::Signature::from_bytes(&signature.0);
        key.verify_strict(message, &sig).map_err(|_| CryptoError::BadSignature)?;
        verified::remember(print);
        Ok(())
    }

    /// Check that both halves are valid curve points.
    pub fn validate(&self) -> Result<(), CryptoError> {
        VerifyingKey::from_bytes(&self.ed25519)
            .map_err(|e| CryptoError::Malformed { what: "ed25519 public key", why: e.to_string() })?;
        check_x25519(&self.x25519)
    }

    /// The 64 bytes that identify this key (signing key, then exchange key).
    pub fn to_bytes(&self) -> [u8; 64] {
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(&self.ed25519);
        out[32..].copy_from_slice(&self.x25519);
        out
    }

    /// Full fingerprint: BLAKE3 of both halves.
    pub fn fingerprint(&self) -> [u8; 32] {
        hash::hash("infinit 2026 public key fingerprint", &[&self.to_bytes()])
    }

    /// Short key hash shown to people, e.g. `#3fa9c1`.
    pub fn short_hash(&self) -> String {
        format!("#{}", &hash::hex(&self.fingerprint())[..6])
    }
}

/// An Ed25519 signature.
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Signature(#[serde(with = "serde_b64")] pub [u8; 64]);

impl std::fmt::Debug for Signature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signature({})", &hash::hex(&self.0)[..12])
    }
}

/// The private half of an identity in plain form (serialised only inside
/// 0600 files or wrapped under a passphrase).
#[derive(Clone, Serialize, Deserialize)]
pub struct PrivateKeys {
    /// Ed25519 secret seed.
    #[serde(with = "serde_b64")]
    pub ed25519: [u8; 32],
    /// X25519 static secret.
    #[serde(with = "serde_b64")]
    pub x25519: [u8; 32],
}

impl Drop for PrivateKeys {
    fn drop(&mut self) {
        self.ed25519.zeroize();
        self.x25519.zeroize();
    }
}

impl PrivateKeys {
    /// Serialise to 64 bytes (for wrapping).
    pub fn to_bytes(&self) -> zeroize::Zeroizing<Vec<u8>> {
        let mut v = Vec::with_capacity(64);
        v.extend_from_slice(&self.ed25519);
        v.extend_from_slice(&self.x25519);
        zeroize::Zeroizing::new(v)
    }

    /// Parse the 64-byte form produced by [`PrivateKeys::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        if bytes.len() != 64 {
            return Err(CryptoError::Malformed {
                what: "private key",
                why: format!("{} bytes instead of 64", bytes.len()),
            });
        }
        let mut keys = PrivateKeys { ed25519: [0; 32], x25519: [0; 32] };
        keys.ed25519.copy_from_slice(&bytes[..32]);
        keys.x25519.copy_from_slice(&bytes[32..]);
        Ok(keys)
    }
}

/// A complete identity able to sign and to open sealed secrets.
#[derive(Clone)]
pub struct KeyPair {
    signing: SigningKey,
    exchange: StaticSecret,
    /// The public half, computed once (an X25519 base point product).
    public: PublicKey,
    /// The key of boxes this identity seals to itself (see `seal.rs`).
    self_seal: zeroize::Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyPair({})", self.public().short_hash())
    }
}

impl KeyPair {
    /// Generate a fresh identity from the operating system's randomness.
    pub fn generate() -> Result<Self, CryptoError> {
        let private = PrivateKeys { ed25519: random_bytes()?, x25519: random_bytes()? };
        Ok(Self::from_private(&private))
    }

    /// Rebuild an identity from its private half.
    pub fn from_private(private: &PrivateKeys) -> Self {
        let signing = SigningKey::from_bytes(&private.ed25519);
        let exchange = StaticSecret::from(private.x25519);
        let public = PublicKey {
            ed25519: signing.verifying_key().to_bytes(),
            x25519: x25519_dalek::PublicKey::from(&exchange).to_bytes(),
        };
        let self_seal = zeroize::Zeroizing::new(super::seal::self_key(&private.x25519));
        KeyPair { signing, exchange, public, self_seal }
    }

    /// The private half, for storage.
    pub fn private(&self) -> PrivateKeys {
        PrivateKeys { ed25519: self.signing.to_bytes(), x25519: self.exchange.to_bytes() }
    }

    /// The public half.
    pub fn public(&self) -> PublicKey {
        self.public
    }

    /// Sign `message`; the signature is known valid from then on.
    pub fn sign(&self, message: &[u8]) -> Signature {
        let signature = self.signing.sign(message).to_bytes();
        verified::remember(verified::fingerprint(&self.public.ed25519, &signature, message));
        Signature(signature)
    }

    /// A secret for `purpose`, derived from the private key: only this
    /// identity can compute it (it authenticates what a node keeps locally).
    pub fn derive_secret(&self, purpose: &str) -> zeroize::Zeroizing<[u8; 32]> {
        let private = zeroize::Zeroizing::new(self.signing.to_bytes());
        zeroize::Zeroizing::new(super::hash::hash(purpose, &[&private[..]]))
    }

    /// The X25519 secret, for opening sealed boxes.
    pub(crate) fn exchange_secret(&self) -> &StaticSecret {
        &self.exchange
    }

    /// The key of boxes sealed to oneself.
    pub(crate) fn self_seal_key(&self) -> &[u8; 32] {
        &self.self_seal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_verifies_and_detects_any_flipped_byte() {
        let keys = KeyPair::generate().unwrap();
        let sig = keys.sign(b"statement");
        keys.public().verify(b"statement", &sig).unwrap();
        assert!(keys.public().verify(b"statemenT", &sig).is_err());
        let mut bad = sig;
        bad.0[10] ^= 1;
        assert!(keys.public().verify(b"statement", &bad).is_err());
    }

    #[test]
    fn private_half_round_trips() {
        let keys = KeyPair::generate().unwrap();
        let again = KeyPair::from_private(&PrivateKeys::from_bytes(&keys.private().to_bytes()).unwrap());
        assert_eq!(keys.public(), again.public());
    }

    #[test]
    fn every_listed_low_order_point_makes_a_non_contributory_exchange() {
        let secret = StaticSecret::from(random_bytes::<32>().unwrap());
        for u in LOW_ORDER {
            let shared = secret.diffie_hellman(&x25519_dalek::PublicKey::from(u));
            assert!(!shared.was_contributory(), "{u:?} is not of small order");
        }
        let fresh = KeyPair::generate().unwrap().public();
        assert!(secret.diffie_hellman(&x25519_dalek::PublicKey::from(fresh.x25519)).was_contributory());
    }

    #[test]
    fn low_order_or_non_canonical_x25519_keys_are_refused_when_parsed() {
        let good = KeyPair::generate().unwrap().public();
        let json = |x: &[u8; 32]| {
            format!(r#"{{"ed25519":"{}","x25519":"{}"}}"#, crate::crypto::b64(&good.ed25519), crate::crypto::b64(x))
        };
        assert_eq!(serde_json::from_str::<PublicKey>(&json(&good.x25519)).unwrap(), good);
        let mut p = [0xff; 32];
        p[31] = 0x7f;
        p[0] = 0xed;
        let mut high_bit = good.x25519;
        high_bit[31] |= 0x80;
        for bad in LOW_ORDER.into_iter().chain([p, high_bit]) {
            let error = serde_json::from_str::<PublicKey>(&json(&bad)).unwrap_err().to_string();
            assert!(error.contains("x25519 public key"), "{bad:?}: {error}");
            assert!(PublicKey::from_parts(good.ed25519, bad).is_err());
            assert!(PublicKey { ed25519: good.ed25519, x25519: bad }.validate().is_err());
        }
        good.validate().unwrap();
    }

    #[test]
    fn json_form_round_trips_and_short_hash_is_stable() {
        let keys = KeyPair::generate().unwrap();
        let json = serde_json::to_string(&keys.public()).unwrap();
        let back: PublicKey = serde_json::from_str(&json).unwrap();
        assert_eq!(back, keys.public());
        assert_eq!(back.short_hash(), keys.public().short_hash());
        assert_eq!(back.short_hash().len(), 7);
    }
}
