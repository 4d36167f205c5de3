//! Memory of signatures already known to be valid, so that a block read,
//! revalidated or stored again by this process does not pay for the same
//! Ed25519 verification twice — and a block this process signed is never
//! verified at all. A signature enters only after a successful
//! verification or when this process made it; an entry is the BLAKE3 hash
//! of key, signature and message together, so a hit proves the very same
//! bytes were found valid before. Both tables are bounded: two generations,
//! the older dropped when the newer fills up.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use ed25519_dalek::VerifyingKey;

use super::hash;

/// Signatures remembered per generation (32 bytes each: about 2 MiB in all).
const SIGNATURES: usize = 1 << 15;
/// Decompressed verifying keys remembered per generation.
const KEYS: usize = 1 << 10;

struct Generations<K, V> {
    young: HashMap<K, V>,
    old: HashMap<K, V>,
    capacity: usize,
}

impl<K: std::hash::Hash + Eq + Copy, V: Copy> Generations<K, V> {
    fn new(capacity: usize) -> Self {
        Generations { young: HashMap::new(), old: HashMap::new(), capacity }
    }

    fn get(&mut self, key: &K) -> Option<V> {
        if let Some(v) = self.young.get(key) {
            return Some(*v);
        }
        let v = self.old.remove(key)?;
        self.insert(*key, v);
        Some(v)
    }

    fn insert(&mut self, key: K, value: V) {
        if self.young.len() >= self.capacity {
            self.old = std::mem::take(&mut self.young);
        }
        self.young.insert(key, value);
    }
}

struct Memory {
    signatures: Generations<[u8; 32], ()>,
    keys: Generations<[u8; 32], VerifyingKey>,
}

static MEMORY: Mutex<Option<Memory>> = Mutex::new(None);

fn memory() -> MutexGuard<'static, Option<Memory>> {
    let mut guard = MEMORY.lock().unwrap_or_else(|e| e.into_inner());
    guard.get_or_insert_with(|| Memory { signatures: Generations::new(SIGNATURES), keys: Generations::new(KEYS) });
    guard
}

/// The fingerprint under which a (key, signature, message) is remembered.
pub(super) fn fingerprint(key: &[u8; 32], signature: &[u8; 64], message: &[u8]) -> [u8; 32] {
    hash::hash("infinit 2026 verified signature", &[key, signature, message])
}

/// Whether the signature of this fingerprint was found valid (or made) here.
pub(super) fn contains(print: &[u8; 32]) -> bool {
    memory().as_mut().is_some_and(|m| m.signatures.get(print).is_some())
}

/// Remember a signature found valid, by its fingerprint.
pub(super) fn remember(print: [u8; 32]) {
    if let Some(memory) = memory().as_mut() {
        memory.signatures.insert(print, ());
    }
}

/// The decompressed form of an Ed25519 public key (a square root each time
/// otherwise).
pub(super) fn verifying_key(bytes: &[u8; 32]) -> Result<VerifyingKey, ed25519_dalek::SignatureError> {
    if let Some(key) = memory().as_mut().and_then(|m| m.keys.get(bytes)) {
        return Ok(key);
    }
    let key = VerifyingKey::from_bytes(bytes)?;
    if let Some(memory) = memory().as_mut() {
        memory.keys.insert(*bytes, key);
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generations_stay_bounded_and_keep_recent_entries() {
        let mut g = Generations::new(4);
        for i in 0..100u32 {
            g.insert(i, i);
        }
        assert!(g.young.len() + g.old.len() <= 8);
        assert_eq!(g.get(&99), Some(99));
        assert_eq!(g.get(&0), None);
    }
}
