//! Sharded directories. A directory of a few thousand entries keeps them in
//! its own block; past [`Policy::above`] they move to *shards*: immutable
//! content blocks, each holding the entries whose name hashes to it
//! ([`index`]), encrypted under a key of their own that only the
//! directory's block names (as a file's chunks). The directory's block then
//! holds its metadata, lease and shard list, and stays the one register
//! that writers compare-and-swap, so leases, intents and conflict replay
//! work as for any node. A change rewrites the shards it touches and the
//! small block naming them: one name added to a directory of 100,000
//! (256 shards) rewrites about 400 entries, not 100,000.
//!
//! Shards are stored before the directory block that names them and
//! removed once a stored version no longer names them (a little later,
//! for readers of the version before), so a crash leaves at worst an
//! unreferenced shard. The shard count is set again, to about
//! [`Policy::per_shard`] entries per shard, when shards average more than
//! four times that or less than a quarter of it (all shards are rewritten
//! then, as a hash table grows).

use std::collections::BTreeMap;

use serde::Serialize;

use super::model::{Chunk, Entry};
use super::{FsError, FsResult};
use crate::crypto::{random_bytes, seal};
use crate::runtime::block::{Address, ContentBlock};

/// Format byte of a shard's plaintext.
const SHARD_FORMAT: u8 = 1;
/// The most shards a directory has (some 130 million entries at 2,048 each).
const MAX_SHARDS: usize = 1 << 16;

/// When directories are sharded and into how many shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// A directory of more entries than this is sharded.
    pub above: usize,
    /// Entries a shard holds on average right after the count changes.
    pub per_shard: usize,
}

impl Default for Policy {
    fn default() -> Self {
        Policy { above: 2048, per_shard: 512 }
    }
}

impl Policy {
    /// How many shards a directory of `entries` entries stored in
    /// `current` shards gets: 0 (its block holds them) up to
    /// [`Policy::above`], then a power of two; kept while shards average
    /// between a quarter and four times [`Policy::per_shard`].
    pub fn count(&self, entries: usize, current: usize) -> usize {
        let per_shard = self.per_shard.max(1);
        let ideal = || entries.div_ceil(per_shard).next_power_of_two().clamp(2, MAX_SHARDS);
        if current == 0 {
            return if entries > self.above { ideal() } else { 0 };
        }
        if entries <= self.above / 2 {
            return 0;
        }
        let crowded = entries > per_shard.saturating_mul(4).saturating_mul(current) && current < MAX_SHARDS;
        let sparse = entries.saturating_mul(4) < per_shard.saturating_mul(current);
        if crowded || sparse { ideal() } else { current }
    }
}

/// The shard of `count` that holds `name`.
pub fn index(name: &str, count: usize) -> usize {
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"infinit/fs/shard/");
    hasher.update(name.as_bytes());
    let hash = hasher.finalize();
    let top = u64::from_be_bytes(hash.as_bytes()[..8].try_into().expect("8 bytes"));
    ((u128::from(top) * count as u128) >> 64) as usize
}

/// The entries of each of `count` shards (at least one), by shard.
pub fn split(entries: &BTreeMap<String, Entry>, count: usize) -> Vec<Vec<(&String, &Entry)>> {
    let mut shards = vec![Vec::new(); count];
    for (name, entry) in entries {
        shards[index(name, count)].push((name, entry));
    }
    shards
}

/// A shard's entries, serialized as the map they are (in name order).
struct Entries<'a>(&'a [(&'a String, &'a Entry)]);

impl Serialize for Entries<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(n, e)| (*n, *e)))
    }
}

/// The plaintext of a shard holding `entries` (sorted by name).
pub fn encode(entries: &[(&String, &Entry)]) -> FsResult<Vec<u8>> {
    let mut out = vec![SHARD_FORMAT];
    let body =
        postcard::to_stdvec(&Entries(entries)).map_err(|e| FsError::Corrupt(format!("cannot encode shard: {e}")))?;
    out.extend_from_slice(&body);
    Ok(out)
}

/// What tells a shard's plaintext from another's (to skip rewriting it).
pub fn digest(plain: &[u8]) -> [u8; 32] {
    *blake3::hash(plain).as_bytes()
}

/// The associated data binding a shard's ciphertext to its directory, its
/// place and the shard count.
fn aad(dir: &Address, index: usize, count: usize) -> Vec<u8> {
    let mut aad = b"infinit/fs/shard/v1".to_vec();
    aad.extend_from_slice(&dir.0);
    aad.extend_from_slice(&(index as u64).to_be_bytes());
    aad.extend_from_slice(&(count as u64).to_be_bytes());
    aad
}

/// Encrypt shard `index` of `count` of directory `dir` under a new key:
/// the content block to store and the reference the directory keeps.
pub fn seal(dir: Address, index: usize, count: usize, plain: &[u8]) -> FsResult<(ContentBlock, Chunk)> {
    let key: [u8; 32] = random_bytes().map_err(|e| FsError::Storage(e.to_string()))?;
    let data = seal::encrypt(&key, plain, &aad(&dir, index, count)).map_err(|e| FsError::Storage(e.to_string()))?;
    let block = ContentBlock::new(Some(dir), data);
    let address = block.address();
    Ok((block, Chunk { address, key }))
}

/// Decrypt and decode shard `index` of `count` of directory `dir`: its
/// entries and digest. Every name must belong to this shard.
pub fn open(
    dir: Address,
    index_: usize,
    count: usize,
    shard: &Chunk,
    data: &[u8],
) -> FsResult<(BTreeMap<String, Entry>, [u8; 32])> {
    let corrupt = |why: &str| FsError::Corrupt(format!("shard {index_} ({}) of directory {dir} {why}", shard.address));
    let plain = seal::decrypt(&shard.key, data, &aad(&dir, index_, count)).map_err(|_| corrupt("does not decrypt"))?;
    let body = match plain.split_first() {
        Some((&SHARD_FORMAT, body)) => body,
        _ => return Err(corrupt("has an unknown format")),
    };
    let (entries, rest): (BTreeMap<String, Entry>, _) =
        postcard::take_from_bytes(body).map_err(|_| corrupt("does not decode"))?;
    if !rest.is_empty() {
        return Err(corrupt("has trailing bytes"));
    }
    if entries.keys().any(|name| index(name, count) != index_) {
        return Err(corrupt("holds a name of another shard"));
    }
    Ok((entries, digest(&plain)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::fs::NodeKind;

    fn entries(n: usize) -> BTreeMap<String, Entry> {
        (0..n)
            .map(|i| (format!("f{i}"), Entry { address: Address([(i % 251) as u8; 32]), kind: NodeKind::File }))
            .collect()
    }

    #[test]
    fn directories_shard_past_the_threshold_and_change_count_only_far_from_the_average() {
        let p = Policy { above: 2048, per_shard: 512 };
        assert_eq!(p.count(2048, 0), 0);
        assert_eq!(p.count(2049, 0), 8);
        assert_eq!(p.count(16_384, 8), 8, "four times the average is still fine");
        assert_eq!(p.count(16_385, 8), 64);
        assert_eq!(p.count(1025, 8), 8, "a quarter of the average is still fine");
        assert_eq!(p.count(1024, 8), 0, "half the threshold: back in the block");
        assert_eq!(p.count(4000, 64), 8, "shrinks when shards hold a quarter of the average");
        assert_eq!(p.count(100_000, 0), 256);
        assert_eq!(p.count(usize::MAX / 2, 0), MAX_SHARDS);
    }

    #[test]
    fn names_spread_over_shards_and_a_split_keeps_every_entry_in_its_shard() {
        let all = entries(8192);
        let shards = split(&all, 16);
        assert_eq!(shards.iter().map(Vec::len).sum::<usize>(), all.len());
        for (i, shard) in shards.iter().enumerate() {
            assert!((256..768).contains(&shard.len()), "shard {i} holds {}", shard.len());
            assert!(shard.iter().all(|(n, _)| index(n, 16) == i));
            assert!(shard.windows(2).all(|w| w[0].0 < w[1].0), "in name order");
        }
        // Doubling splits each shard in two (top bits of the hash).
        assert!(all.keys().all(|n| index(n, 32) / 2 == index(n, 16)));
    }

    #[test]
    fn a_shard_round_trips_and_is_bound_to_its_directory_and_place() {
        let all = entries(100);
        let dir = Address([1; 32]);
        let shards = split(&all, 4);
        let plain = encode(&shards[2]).unwrap();
        let (block, chunk) = seal(dir, 2, 4, &plain).unwrap();
        assert_eq!(chunk.address, block.address());
        let (opened, digest_) = open(dir, 2, 4, &chunk, block.data()).unwrap();
        assert_eq!(opened.len(), shards[2].len());
        assert!(shards[2].iter().all(|(n, e)| opened.get(*n) == Some(*e)));
        assert_eq!(digest_, digest(&plain));
        assert!(open(Address([2; 32]), 2, 4, &chunk, block.data()).is_err(), "another directory");
        assert!(open(dir, 1, 4, &chunk, block.data()).is_err(), "another place");
        assert!(open(dir, 2, 8, &chunk, block.data()).is_err(), "another count");
        // A writer that puts a name in the wrong shard is caught.
        let wrong = encode(&shards[1]).unwrap();
        let (block, chunk) = seal(dir, 2, 4, &wrong).unwrap();
        let err = open(dir, 2, 4, &chunk, block.data()).unwrap_err();
        assert!(err.to_string().contains("another shard"), "{err}");
    }
}
