//! Memory of signatures already known to be valid, so that a block read,
//! revalidated or stored again by this process does not pay for the same
//! Ed25519 verification twice — and a block this process signed is never
//! verified at all. A signature enters only after a successful
//! verification or when this process made it; an entry is the BLAKE3 hash
//! of key, signature and message together, so a hit proves the very same
//! bytes were found valid before. Both tables are bounded: two generations,
//! the older dropped when the newer fills up.
//!
//! A node keeps the signatures it knows across runs ([`save`], [`load`]):
//! a fingerprint states a fact that never stops being true (these bytes
//! carry a valid signature by this key), so a file of them written by an
//! earlier run — even one killed halfway — is as good as the memory it
//! came from. The file is authenticated with a key only its user holds:
//! one altered without it is ignored, and everything is verified again.

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

/// Header of a saved memory file.
const SAVED_MAGIC: &[u8; 8] = b"IVSIG\x00\x00\x01";

/// The fingerprints remembered now, most recent first (for [`save`]).
fn snapshot() -> Vec<[u8; 32]> {
    let guard = memory();
    let Some(memory) = guard.as_ref() else { return Vec::new() };
    memory.signatures.young.keys().chain(memory.signatures.old.keys()).copied().collect()
}

/// The authentication tag of a saved memory's contents under `key`.
fn tag(key: &[u8; 32], body: &[u8]) -> [u8; 32] {
    *blake3::keyed_hash(key, body).as_bytes()
}

/// Write what is remembered to `path` (atomically), authenticated with
/// `key` (a secret of the user the node runs as).
pub fn save(path: &std::path::Path, key: &[u8; 32]) -> std::io::Result<()> {
    let prints = snapshot();
    let mut body = Vec::with_capacity(SAVED_MAGIC.len() + 8 + prints.len() * 32);
    body.extend_from_slice(SAVED_MAGIC);
    body.extend_from_slice(&(prints.len() as u64).to_le_bytes());
    for p in &prints {
        body.extend_from_slice(p);
    }
    let tag = tag(key, &body);
    body.extend_from_slice(&tag);
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, &body)?;
    std::fs::rename(&tmp, path)
}

/// Remember the fingerprints saved in `path` if its tag holds under `key`;
/// how many were read (0 for a missing, foreign or altered file).
pub fn load(path: &std::path::Path, key: &[u8; 32]) -> usize {
    let Ok(bytes) = std::fs::read(path) else { return 0 };
    let header = SAVED_MAGIC.len() + 8;
    if bytes.len() < header + 32 || !bytes.starts_with(SAVED_MAGIC) {
        return 0;
    }
    let (body, saved_tag) = bytes.split_at(bytes.len() - 32);
    let Ok(saved_tag) = <[u8; 32]>::try_from(saved_tag) else { return 0 };
    // `blake3::Hash` compares in constant time: the tag is a MAC.
    if blake3::keyed_hash(key, body) != blake3::Hash::from_bytes(saved_tag) {
        return 0;
    }
    let count = u64::from_le_bytes(body[SAVED_MAGIC.len()..header].try_into().unwrap_or_default()) as usize;
    if body.len() != header + count.saturating_mul(32) {
        return 0;
    }
    // Oldest first, so the most recent end up in the young generation.
    let prints: Vec<[u8; 32]> =
        body[header..].chunks_exact(32).filter_map(|c| c.try_into().ok()).take(2 * SIGNATURES).collect();
    for p in prints.iter().rev() {
        remember(*p);
    }
    prints.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_memory_loads_only_under_its_key_and_unaltered() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("verified");
        let print = fingerprint(&[1; 32], &[2; 64], b"saved test message");
        remember(print);
        save(&path, &[9; 32]).unwrap();
        assert_eq!(load(&path, &[8; 32]), 0, "another key");
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[20] ^= 1;
        std::fs::write(dir.path().join("altered"), &bytes).unwrap();
        assert_eq!(load(&dir.path().join("altered"), &[9; 32]), 0, "an altered file");
        assert!(load(&path, &[9; 32]) > 0);
        assert!(contains(&print));
    }

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
