//! Passphrase protection of private keys at rest: Argon2id derives a key
//! from the passphrase, XChaCha20-Poly1305 encrypts the private half. The
//! parameters travel with the ciphertext so they can be raised later.

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{CryptoError, PrivateKeys, random_bytes, seal, serde_b64, serde_b64_vec};

/// A private key encrypted under a passphrase.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrappedKey {
    /// Always `argon2id`.
    pub kdf: String,
    /// Memory cost in KiB.
    pub m_cost: u32,
    /// Iterations.
    pub t_cost: u32,
    /// Parallelism.
    pub p_cost: u32,
    /// Random salt.
    #[serde(with = "serde_b64")]
    pub salt: [u8; 16],
    /// `nonce || ciphertext || tag` of the 64-byte private key.
    #[serde(with = "serde_b64_vec")]
    pub ciphertext: Vec<u8>,
}

/// OWASP's recommended Argon2id settings (19 MiB, 2 passes, 1 lane).
const M_COST: u32 = 19 * 1024;
const T_COST: u32 = 2;
const P_COST: u32 = 1;
const AAD: &[u8] = b"infinit 2026 wrapped private key v1";

/// The most memory a wrapped key may ask for, in KiB (1 GiB): the
/// parameters come from a file, and a crafted one must not make us
/// allocate without limit.
pub const MAX_M_COST: u32 = 1 << 20;
/// The most passes a wrapped key may ask for.
pub const MAX_T_COST: u32 = 64;
/// The most lanes a wrapped key may ask for.
pub const MAX_P_COST: u32 = 16;

impl WrappedKey {
    /// Check that the key derivation parameters are within what this build
    /// accepts (and Argon2 itself: at least 8 KiB per lane, one pass).
    pub fn check_params(&self) -> Result<(), CryptoError> {
        check_kdf(&self.kdf, self.m_cost, self.t_cost, self.p_cost)
    }
}

/// Check key derivation parameters read from a file or the network: Argon2id
/// within this build's bounds (and Argon2's own: 8 KiB per lane, one pass).
pub fn check_kdf(kdf: &str, m_cost: u32, t_cost: u32, p_cost: u32) -> Result<(), CryptoError> {
    let refuse = |why: String| Err(CryptoError::Malformed { what: "argon2 parameters", why });
    if kdf != "argon2id" {
        return Err(CryptoError::Malformed { what: "wrapped key", why: format!("unknown kdf {kdf:?}") });
    }
    if !(1..=MAX_P_COST).contains(&p_cost) {
        return refuse(format!("parallelism {p_cost} is outside 1..={MAX_P_COST}"));
    }
    if !(1..=MAX_T_COST).contains(&t_cost) {
        return refuse(format!("{t_cost} passes is outside 1..={MAX_T_COST}"));
    }
    let least = 8 * p_cost;
    if !(least..=MAX_M_COST).contains(&m_cost) {
        return refuse(format!("memory cost {m_cost} KiB is outside {least}..={MAX_M_COST} KiB"));
    }
    Ok(())
}

/// Stretch `passphrase` with Argon2id under `salt` and checked parameters
/// (see [`check_kdf`]) into a 32-byte secret; the parameters [`wrap`] uses
/// are [`DEFAULT_COSTS`].
pub fn stretch(
    passphrase: &str,
    salt: &[u8; 16],
    m_cost: u32,
    t_cost: u32,
    p_cost: u32,
) -> Result<Zeroizing<[u8; 32]>, CryptoError> {
    check_kdf("argon2id", m_cost, t_cost, p_cost)?;
    derive(passphrase, salt, m_cost, t_cost, p_cost)
}

/// The Argon2id costs [`wrap`] uses: memory (KiB), passes, lanes.
pub const DEFAULT_COSTS: (u32, u32, u32) = (M_COST, T_COST, P_COST);

fn derive(passphrase: &str, salt: &[u8], m: u32, t: u32, p: u32) -> Result<Zeroizing<[u8; 32]>, CryptoError> {
    let params = argon2::Params::new(m, t, p, Some(32))
        .map_err(|e| CryptoError::Malformed { what: "argon2 parameters", why: e.to_string() })?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut key = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(passphrase.as_bytes(), salt, key.as_mut())
        .map_err(|e| CryptoError::Malformed { what: "argon2 input", why: e.to_string() })?;
    Ok(key)
}

/// Encrypt `keys` under `passphrase`.
pub fn wrap(keys: &PrivateKeys, passphrase: &str) -> Result<WrappedKey, CryptoError> {
    let salt: [u8; 16] = random_bytes()?;
    let key = derive(passphrase, &salt, M_COST, T_COST, P_COST)?;
    let ciphertext = seal::encrypt(&key, &keys.to_bytes(), AAD)?;
    Ok(WrappedKey { kdf: "argon2id".into(), m_cost: M_COST, t_cost: T_COST, p_cost: P_COST, salt, ciphertext })
}

/// Decrypt a wrapped key; a wrong passphrase gives [`CryptoError::WrongPassphrase`].
pub fn unwrap(wrapped: &WrappedKey, passphrase: &str) -> Result<PrivateKeys, CryptoError> {
    wrapped.check_params()?;
    let key = derive(passphrase, &wrapped.salt, wrapped.m_cost, wrapped.t_cost, wrapped.p_cost)?;
    let plain =
        Zeroizing::new(seal::decrypt(&key, &wrapped.ciphertext, AAD).map_err(|_| CryptoError::WrongPassphrase)?);
    PrivateKeys::from_bytes(&plain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::KeyPair;

    #[test]
    fn right_passphrase_unwraps_wrong_one_is_refused() {
        let keys = KeyPair::generate().unwrap();
        let wrapped = wrap(&keys.private(), "correct horse").unwrap();
        let back = unwrap(&wrapped, "correct horse").unwrap();
        assert_eq!(KeyPair::from_private(&back).public(), keys.public());
        assert!(matches!(unwrap(&wrapped, "wrong"), Err(CryptoError::WrongPassphrase)));
    }

    #[test]
    fn unbounded_argon2_parameters_are_refused_before_deriving() {
        let keys = KeyPair::generate().unwrap();
        let wrapped = wrap(&keys.private(), "pw").unwrap();
        wrapped.check_params().unwrap();
        // Each would cost seconds to hours, or memory without limit, if derived.
        let crafted = [
            WrappedKey { t_cost: 100_000, m_cost: 8, ..wrapped.clone() },
            WrappedKey { m_cost: u32::MAX, ..wrapped.clone() },
            WrappedKey { p_cost: 1 << 20, m_cost: MAX_M_COST, ..wrapped.clone() },
            WrappedKey { t_cost: 0, ..wrapped.clone() },
        ];
        for bad in crafted {
            let started = std::time::Instant::now();
            let error = unwrap(&bad, "pw").err().expect("refused");
            assert!(started.elapsed() < std::time::Duration::from_secs(1), "derived before refusing");
            assert!(matches!(error, CryptoError::Malformed { what: "argon2 parameters", .. }), "{error}");
        }
    }
}
