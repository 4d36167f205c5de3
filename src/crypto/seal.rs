//! Sealed boxes: encrypt a secret so that only the holder of one X25519 key
//! can open it (ephemeral X25519 → HKDF-SHA256 → XChaCha20-Poly1305), and
//! plain symmetric encryption under a known key. Associated data binds a
//! ciphertext to its context (e.g. a block address and version).
//!
//! A box a key holder seals to itself (the writer of a block is usually one
//! of its readers) needs no Diffie-Hellman: it is encrypted under a key
//! derived from the holder's own X25519 secret, and marked by an all-zero
//! first half — the identity point, which no real ephemeral key can be.
//! Opening it costs a symmetric decryption instead of a scalar product.

use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};
use x25519_dalek::{PublicKey as XPublic, StaticSecret};

use super::{CryptoError, KeyPair, PublicKey, random_bytes};

const SEAL_INFO: &[u8] = b"infinit 2026 sealed box v1";
const SELF_INFO: &[u8] = b"infinit 2026 box sealed to oneself v1";
/// First half of a box sealed to oneself, in place of an ephemeral key.
const SELF_MARK: [u8; 32] = [0; 32];

/// The key of boxes sealed to oneself, from one's X25519 secret.
pub(crate) fn self_key(x25519_secret: &[u8; 32]) -> [u8; 32] {
    let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(SELF_INFO), x25519_secret);
    let mut key = [0u8; 32];
    // 32 bytes is far below HKDF-SHA256's limit: expand cannot fail.
    let _ = hk.expand(b"self", &mut key);
    key
}

/// Seal `plaintext` to `keys` itself: `zeros (32) || encrypt(...)`.
pub fn seal_to_self(keys: &KeyPair, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let mut out = SELF_MARK.to_vec();
    out.extend_from_slice(&encrypt(keys.self_seal_key(), plaintext, aad)?);
    Ok(out)
}

/// Encrypt `plaintext` under a 32-byte key: `nonce (24) || ciphertext+tag`.
pub fn encrypt(key: &[u8; 32], plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
    encrypt_with_nonce(key, random_bytes()?, plaintext, aad)
}

fn encrypt_with_nonce(key: &[u8; 32], nonce: [u8; 24], plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let (cipher, nonce_12) = xchacha(key, &nonce)?;
    // Encrypted where it lands (a chunk is 1 MiB: one copy, not two).
    let mut out = Vec::with_capacity(24 + plaintext.len() + 16);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(plaintext);
    let tag = cipher
        .seal_in_place_separate_tag(nonce_12, Aad::from(aad), &mut out[24..])
        .map_err(|_| CryptoError::Decryption)?;
    out.extend_from_slice(tag.as_ref());
    Ok(out)
}

/// Decrypt the output of [`encrypt`].
pub fn decrypt(key: &[u8; 32], sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if sealed.len() < 24 + 16 {
        return Err(CryptoError::Decryption);
    }
    let (nonce, ct) = sealed.split_at(24);
    let nonce: [u8; 24] = nonce.try_into().map_err(|_| CryptoError::Decryption)?;
    let (cipher, nonce_12) = xchacha(key, &nonce)?;
    let mut out = ct.to_vec();
    let len = cipher.open_in_place(nonce_12, Aad::from(aad), &mut out).map_err(|_| CryptoError::Decryption)?.len();
    out.truncate(len);
    Ok(out)
}

/// XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha) under `key` with the
/// 24-byte `nonce`, as the ChaCha20-Poly1305 of RFC 8439 it comes down
/// to: the key HChaCha20 derives from `key` and the nonce's first 16
/// bytes, and a 12-byte nonce of four zero bytes then the last 8. ring
/// runs it (its assembly does the cipher and the authenticator together):
/// on an AVX2 processor it takes about half the time of the `chacha20`
/// and `poly1305` crates, and chunks are encrypted on every write and
/// decrypted on every read.
fn xchacha(key: &[u8; 32], nonce: &[u8; 24]) -> Result<(LessSafeKey, Nonce), CryptoError> {
    let mut head = [0u8; 16];
    head.copy_from_slice(&nonce[..16]);
    let subkey = chacha20::hchacha::<chacha20::R20>(&(*key).into(), &head.into());
    let cipher = UnboundKey::new(&CHACHA20_POLY1305, subkey.as_slice()).map_err(|_| CryptoError::Decryption)?;
    let mut tail = [0u8; 12];
    tail[4..].copy_from_slice(&nonce[16..]);
    Ok((LessSafeKey::new(cipher), Nonce::assume_unique_for_key(tail)))
}

fn derive(shared: &[u8; 32], ephemeral: &[u8; 32], recipient: &[u8; 32]) -> [u8; 32] {
    let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(SEAL_INFO), shared);
    let mut key = [0u8; 32];
    let mut info = Vec::with_capacity(64);
    info.extend_from_slice(ephemeral);
    info.extend_from_slice(recipient);
    // 32 bytes is far below HKDF-SHA256's 8160-byte limit: expand cannot fail.
    let _ = hk.expand(&info, &mut key);
    key
}

/// Seal `plaintext` to `recipient`: `ephemeral public (32) || encrypt(...)`.
/// A recipient key of small order is refused: the shared secret would be
/// the same for everyone, so anyone could open the box.
pub fn seal(recipient: &PublicKey, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let ephemeral = StaticSecret::from(random_bytes::<32>()?);
    let ephemeral_public = XPublic::from(&ephemeral).to_bytes();
    let shared = ephemeral.diffie_hellman(&XPublic::from(recipient.x25519));
    if !shared.was_contributory() {
        return Err(CryptoError::Malformed {
            what: "x25519 public key",
            why: "a point of small order (every shared secret with it is public)".into(),
        });
    }
    let key = derive(shared.as_bytes(), &ephemeral_public, &recipient.x25519);
    let mut out = ephemeral_public.to_vec();
    out.extend_from_slice(&encrypt(&key, plaintext, aad)?);
    Ok(out)
}

/// Open a box sealed to `keys`; a box whose ephemeral key is of small order
/// (its secret is public, whoever made it) is refused.
pub fn open(keys: &KeyPair, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if sealed.len() < 32 {
        return Err(CryptoError::Decryption);
    }
    let (ephemeral_public, rest) = sealed.split_at(32);
    let ephemeral_public: [u8; 32] = ephemeral_public.try_into().map_err(|_| CryptoError::Decryption)?;
    if ephemeral_public == SELF_MARK {
        return decrypt(keys.self_seal_key(), rest, aad);
    }
    let shared = keys.exchange_secret().diffie_hellman(&XPublic::from(ephemeral_public));
    if !shared.was_contributory() {
        return Err(CryptoError::Decryption);
    }
    let key = derive(shared.as_bytes(), &ephemeral_public, &keys.public().x25519);
    decrypt(&key, rest, aad)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ring picks the cipher's code at run time (AVX2, SSSE3 or portable)
    /// and HChaCha20 comes from another crate: whatever runs must produce
    /// the bytes every other node expects, and the bytes the RustCrypto
    /// implementation used before produced (stored chunks stay readable). The digest is of the sealed
    /// bytes computed independently (Python: HChaCha20 by hand, checked
    /// against draft-irtf-cfrg-xchacha-03 A.3.1, then the `cryptography`
    /// package's ChaCha20-Poly1305), over a chunk-sized message, so the
    /// wide code paths run too.
    #[test]
    fn a_chunk_seals_to_the_bytes_an_independent_implementation_gives() {
        use sha2::Digest as _;
        let key: [u8; 32] = std::array::from_fn(|i| i as u8);
        let nonce: [u8; 24] = std::array::from_fn(|i| 100 + i as u8);
        let aad = b"infinit known answer";
        let plain: Vec<u8> = (0..(1usize << 20) + 123).map(|i| ((i * 7 + 3) % 251) as u8).collect();
        let sealed = encrypt_with_nonce(&key, nonce, &plain, aad).unwrap();
        assert_eq!(sealed.len(), 24 + plain.len() + 16);
        assert_eq!(
            crate::crypto::hash::hex(&sha2::Sha256::digest(&sealed)),
            "6ba3b896c90852816e81630aaee2b52e9c0e6de2696e1abf16d5cd16777fbe08"
        );
        assert_eq!(decrypt(&key, &sealed, aad).unwrap(), plain);
    }

    #[test]
    fn only_the_recipient_opens_a_sealed_box() {
        let alice = KeyPair::generate().unwrap();
        let bob = KeyPair::generate().unwrap();
        let sealed = seal(&alice.public(), b"secret", b"ctx").unwrap();
        assert_eq!(open(&alice, &sealed, b"ctx").unwrap(), b"secret");
        assert!(open(&bob, &sealed, b"ctx").is_err());
        assert!(open(&alice, &sealed, b"other ctx").is_err());
    }

    #[test]
    fn a_box_sealed_to_oneself_opens_only_for_oneself() {
        let me = KeyPair::generate().unwrap();
        let other = KeyPair::generate().unwrap();
        let sealed = seal_to_self(&me, b"secret", b"ctx").unwrap();
        assert_eq!(&sealed[..32], &[0; 32]);
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
        assert_eq!(open(&me, &sealed, b"ctx").unwrap(), b"secret");
        assert!(open(&other, &sealed, b"ctx").is_err());
        assert!(open(&me, &sealed, b"other ctx").is_err());
        let again = KeyPair::from_private(&me.private());
        assert_eq!(open(&again, &sealed, b"ctx").unwrap(), b"secret");
    }

    #[test]
    fn sealing_to_a_low_order_key_is_refused() {
        let real = KeyPair::generate().unwrap().public();
        for x25519 in [[0u8; 32], {
            let mut one = [0u8; 32];
            one[0] = 1;
            one
        }] {
            let weak = PublicKey { ed25519: real.ed25519, x25519 };
            assert!(seal(&weak, b"data secret", b"ctx").is_err(), "sealed to low-order key {x25519:?}");
        }
    }

    #[test]
    fn a_box_with_a_low_order_ephemeral_key_is_refused() {
        let alice = KeyPair::generate().unwrap();
        // Anyone can build this box: the "shared" secret is all zeros.
        let zero = [0u8; 32];
        let key = derive(&zero, &zero, &alice.public().x25519);
        let mut forged = zero.to_vec();
        forged.extend_from_slice(&encrypt(&key, b"chosen", b"ctx").unwrap());
        assert!(open(&alice, &forged, b"ctx").is_err());
    }

    #[test]
    fn any_altered_byte_is_rejected() {
        let key = [7u8; 32];
        let ct = encrypt(&key, b"payload", b"").unwrap();
        for i in 0..ct.len() {
            let mut bad = ct.clone();
            bad[i] ^= 0x01;
            assert!(decrypt(&key, &bad, b"").is_err(), "byte {i} flip accepted");
        }
    }
}
