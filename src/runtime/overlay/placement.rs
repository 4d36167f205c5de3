//! Where a block lives: rendezvous (highest random weight) hashing of its
//! address over the network's storage nodes, weighted by the capacity each
//! declares. Every node computes the same replica set from the same
//! member list in one step, and a node joining or leaving moves only the
//! blocks it wins or held (about 1/n of them), never the others.
//!
//! The weight is the *declared* capacity, not the free space: a score
//! must not change as a node fills, or readers would look for a block
//! where it no longer ranks. Unlimited silos weigh as [`UNLIMITED`].

use crate::crypto::hash;
use crate::runtime::block::Address;
use crate::runtime::rpc::PeerId;

/// The weight of a node that declares no capacity (1 TiB).
pub const UNLIMITED: u64 = 1 << 40;

/// A storage node as placement sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    /// The node.
    pub id: PeerId,
    /// Bytes it offers (`None`: unlimited).
    pub capacity: Option<u64>,
}

/// The score of `node` with weight `weight` for `address`: weighted
/// rendezvous hashing (`-w / ln u`, `u` uniform in (0, 1) from the hash),
/// so a node twice as large wins twice as many blocks.
fn score(address: &Address, node: &PeerId, weight: u64) -> f64 {
    let h = hash::hash("infinit 2026 placement", &[&address.0, &node.0]);
    let mut top = [0u8; 8];
    top.copy_from_slice(&h[..8]);
    // 53 bits of the hash, shifted off 0 and 1: u in (0, 1).
    let u = ((u64::from_be_bytes(top) >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    let w = (weight.max(1) as f64) / (1u64 << 30) as f64;
    -w / u.ln()
}

/// The `k` nodes that hold `address`, best first.
pub fn replicas(address: &Address, candidates: &[Candidate], k: usize) -> Vec<PeerId> {
    let mut scored: Vec<(f64, PeerId)> =
        candidates.iter().map(|c| (score(address, &c.id, c.capacity.unwrap_or(UNLIMITED)), c.id)).collect();
    // Ties (never in practice) break on the id, so every node agrees.
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().take(k).map(|(_, id)| id).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes(n: u8, capacity: Option<u64>) -> Vec<Candidate> {
        (0..n).map(|i| Candidate { id: PeerId([i; 32]), capacity }).collect()
    }

    fn address(i: u32) -> Address {
        Address(hash::hash("test", &[&i.to_be_bytes()]))
    }

    #[test]
    fn every_node_computes_the_same_set_whatever_the_order() {
        let mut a = nodes(7, None);
        let b: Vec<Candidate> = a.iter().rev().copied().collect();
        for i in 0..100 {
            assert_eq!(replicas(&address(i), &a, 3), replicas(&address(i), &b, 3));
        }
        a.truncate(2);
        assert_eq!(replicas(&address(1), &a, 3).len(), 2, "fewer nodes than k: all of them");
    }

    #[test]
    fn a_joining_node_moves_about_its_share_and_nothing_else() {
        let before = nodes(9, None);
        let mut after = before.clone();
        after.push(Candidate { id: PeerId([99; 32]), capacity: None });
        let (mut moved, total) = (0, 10_000);
        for i in 0..total {
            let (old, new) = (replicas(&address(i), &before, 1), replicas(&address(i), &after, 1));
            if old != new {
                assert_eq!(new, vec![PeerId([99; 32])], "only the newcomer takes blocks");
                moved += 1;
            }
        }
        // 1/10 expected.
        assert!((700..1300).contains(&moved), "{moved} of {total} moved");
    }

    #[test]
    fn a_larger_node_wins_proportionally_more_blocks() {
        let mut c = nodes(2, Some(1 << 30));
        c[1].capacity = Some(3 << 30);
        let big = (0..10_000).filter(|i| replicas(&address(*i), &c, 1)[0] == c[1].id).count();
        assert!((7_000..8_000).contains(&big), "{big} of 10000 on the node three times as large");
    }
}
