//! Merging a node change that lost a race after the fact (a write-back
//! journal replayed later): what changed from the base version to ours is
//! turned back into [`Intent`]s — entries inserted and removed, attributes
//! and extended attributes set, a link-count delta, new content — and
//! replayed on the version that won, with the same preconditions as a live
//! conflict ([`super::intent`]). Both writers' changes stay; a name both
//! created keeps the loser's node beside it under a conflict name.

use super::intent::{Attributes, Intent, Mode};
use super::model::{Meta, Node};
use crate::crypto::KeyPair;
use crate::runtime::block::Block;
use crate::runtime::consensus::ConflictResolver;

/// Resolves journal conflicts on file system nodes, as the user `keys`.
#[derive(Debug)]
pub struct NodeMerger {
    keys: KeyPair,
}

impl NodeMerger {
    /// A resolver decrypting and re-signing nodes as `keys`.
    pub fn new(keys: KeyPair) -> Self {
        NodeMerger { keys }
    }

    fn node(&self, block: &Block) -> Option<Node> {
        match block {
            Block::Acl(b) => Node::decode(&b.read(&self.keys).ok()?).ok(),
            _ => None,
        }
    }
}

impl ConflictResolver for NodeMerger {
    fn resolve(&self, base: Option<&Block>, mine: &Block, current: &Block) -> Option<Block> {
        let Block::Acl(winner) = current else { return None };
        let base = base.and_then(|b| self.node(b));
        let merged = merge(base.as_ref(), &self.node(mine)?, self.node(current)?)?;
        winner.write(&self.keys, &merged.encode().ok()?).ok().map(Block::Acl)
    }
}

/// `theirs` with the change from `base` to `mine` applied; `None` if the
/// node changed kind.
pub fn merge(base: Option<&Node>, mine: &Node, mut theirs: Node) -> Option<Node> {
    let sharded = |node: &Node| matches!(node, Node::Directory { shards, .. } if !shards.is_empty());
    if sharded(mine) || sharded(&theirs) || base.is_some_and(sharded) {
        return merge_shards(base?, mine, theirs);
    }
    for mut intent in diff(base, mine)? {
        intent.apply(&mut theirs, Mode::Replay).ok()?;
    }
    Some(theirs)
}

/// A sharded directory's change merged shard by shard (the blocks hold
/// only shard lists, not entries): each shard only `mine` changed is
/// taken from `mine`, with the attribute changes. `None` (a conflict left
/// to the caller) when both changed one shard or the shard count.
fn merge_shards(base: &Node, mine: &Node, mut theirs: Node) -> Option<Node> {
    let (Node::Directory { shards: before, .. }, Node::Directory { shards: ours, .. }) = (base, mine) else {
        return None;
    };
    let Node::Directory { shards: now, .. } = &theirs else { return None };
    if before.len() != ours.len() || before.len() != now.len() {
        return None;
    }
    let mut merged = now.clone();
    for (i, (b, o)) in before.iter().zip(ours).enumerate() {
        if o != b {
            if now[i] != *b {
                return None;
            }
            merged[i] = *o;
        }
    }
    let flat = |node: &Node| match node {
        Node::Directory { meta, parent, .. } => Node::Directory {
            meta: meta.clone(),
            entries: Default::default(),
            parent: *parent,
            lease: None,
            shards: Vec::new(),
        },
        other => other.clone(),
    };
    let (base_flat, mine_flat) = (flat(base), flat(mine));
    for mut intent in diff(Some(&base_flat), &mine_flat)? {
        intent.apply(&mut theirs, Mode::Replay).ok()?;
    }
    if let Node::Directory { shards, .. } = &mut theirs {
        *shards = merged;
    }
    Some(theirs)
}

/// The intents that turn `base` (nothing: an empty node of the same kind)
/// into `mine`.
fn diff(base: Option<&Node>, mine: &Node) -> Option<Vec<Intent>> {
    if base.is_some_and(|b| b.kind() != mine.kind()) {
        return None;
    }
    let time = mine.meta().ctime;
    let mut out = meta_diff(base.map(Node::meta), mine.meta());
    match (base, mine) {
        (base, Node::Directory { entries, parent, .. }) => {
            let empty = Default::default();
            let (before, old_parent) = match base {
                Some(Node::Directory { entries, parent, .. }) => (entries, *parent),
                _ => (&empty, None),
            };
            if let Some(to) = *parent
                && old_parent != Some(to)
            {
                out.push(Intent::SetParent { from: old_parent.unwrap_or(to), to, time });
            }
            for (name, old) in before {
                if entries.get(name).is_none_or(|e| e.address != old.address) {
                    out.push(Intent::RemoveEntry { name: name.clone(), address: old.address, time });
                }
            }
            for (name, entry) in entries {
                let old = before.get(name);
                if old.is_none_or(|o| o.address != entry.address) {
                    let replaces = old.map(|o| o.address);
                    out.push(Intent::InsertEntry {
                        name: name.clone(),
                        entry: *entry,
                        replaces,
                        time,
                        stale: Vec::new(),
                    });
                }
            }
        }
        (base, Node::File { nlink, size, inline, chunks, patches, .. }) => {
            let (old_links, same_content) = match base {
                Some(Node::File { nlink: l, size: s, inline: i, chunks: c, patches: p, .. }) => {
                    (*l, s == size && i == inline && c == chunks && p == patches)
                }
                _ => (*nlink, false),
            };
            links(&mut out, old_links, *nlink, time);
            if !same_content {
                let (inline, chunks, patches) = (inline.clone(), chunks.clone(), patches.clone());
                out.push(Intent::Content { size: *size, inline, chunks, patches, time });
            }
        }
        (base, Node::Symlink { nlink, .. } | Node::Special { nlink, .. }) => {
            let old_links = match base {
                Some(Node::Symlink { nlink: l, .. } | Node::Special { nlink: l, .. }) => *l,
                _ => *nlink,
            };
            links(&mut out, old_links, *nlink, time);
        }
    }
    Some(out)
}

fn links(out: &mut Vec<Intent>, before: u32, after: u32, time: super::Time) {
    let delta = i64::from(after) - i64::from(before);
    if delta != 0 {
        out.push(Intent::Links { delta: delta.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32, time });
    }
}

fn meta_diff(base: Option<&Meta>, mine: &Meta) -> Vec<Intent> {
    let time = mine.ctime;
    let changed = |f: fn(&Meta) -> u32| base.is_none_or(|b| f(b) != f(mine)).then(|| f(mine));
    let change = Attributes {
        mode: changed(|m| m.mode),
        uid: changed(|m| m.uid),
        gid: changed(|m| m.gid),
        atime: base.is_none_or(|b| b.atime != mine.atime).then_some(mine.atime),
        mtime: base.is_none_or(|b| b.mtime != mine.mtime).then_some(mine.mtime),
        drop_privileges: false,
    };
    let mut out = Vec::new();
    if change != Attributes::default() {
        out.push(Intent::SetAttributes { change, time });
    }
    for (name, value) in &mine.xattrs {
        if base.is_none_or(|b| b.xattrs.get(name) != Some(value)) {
            out.push(Intent::SetXattr { name: name.clone(), value: Some(value.clone()), time });
        }
    }
    if let Some(b) = base {
        for name in b.xattrs.keys().filter(|n| !mine.xattrs.contains_key(*n)) {
            out.push(Intent::SetXattr { name: name.clone(), value: None, time });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::runtime::block::Address;
    use crate::runtime::fs::model::{Entry, NodeKind};

    fn dir(names: &[(&str, u8)]) -> Node {
        let entries: BTreeMap<String, Entry> = names
            .iter()
            .map(|(n, a)| (n.to_string(), Entry { address: Address([*a; 32]), kind: NodeKind::File }))
            .collect();
        Node::Directory { meta: Meta::new(0o755, 0, 0), entries, parent: None, lease: None, shards: Vec::new() }
    }

    fn names(node: &Node) -> Vec<(String, u8)> {
        let Node::Directory { entries, .. } = node else { panic!("a directory") };
        entries.iter().map(|(n, e)| (n.clone(), e.address.0[0])).collect()
    }

    #[test]
    fn both_writers_entries_stay_and_removals_and_renames_carry_over() {
        let base = dir(&[("a", 1), ("b", 2), ("c", 3)]);
        // Mine: removed b, renamed c to d, created e.
        let mine = dir(&[("a", 1), ("d", 3), ("e", 5)]);
        // Theirs: created x, kept the rest.
        let theirs = dir(&[("a", 1), ("b", 2), ("c", 3), ("x", 9)]);
        let merged = merge(Some(&base), &mine, theirs).unwrap();
        let expected = [("a", 1), ("d", 3), ("e", 5), ("x", 9)].map(|(n, a)| (n.to_string(), a));
        assert_eq!(names(&merged), expected);
    }

    #[test]
    fn a_name_both_created_keeps_both_nodes() {
        let base = dir(&[]);
        let merged = merge(Some(&base), &dir(&[("n", 1)]), dir(&[("n", 2)])).unwrap();
        let got = names(&merged);
        assert_eq!(got.len(), 2);
        assert!(got.contains(&("n".to_string(), 2)), "the winner keeps the name");
        assert!(got.iter().any(|(n, a)| n.starts_with("n.conflict-") && *a == 1));
    }

    #[test]
    fn link_counts_merge_as_deltas_and_content_as_the_later_write() {
        let file = |nlink, size| Node::File {
            meta: Meta::new(0o644, 0, 0),
            nlink,
            size,
            inline: vec![7; size as usize],
            chunks: BTreeMap::new(),
            patches: Vec::new(),
        };
        // Mine linked it once more and wrote 5 bytes; theirs linked it too.
        let merged = merge(Some(&file(1, 0)), &file(2, 5), file(2, 0)).unwrap();
        let Node::File { nlink, size, .. } = merged else { panic!("a file") };
        assert_eq!((nlink, size), (3, 5));
        assert!(merge(Some(&file(1, 0)), &dir(&[]), file(1, 0)).is_none(), "a kind change cannot merge");
    }

    #[test]
    fn sharded_directories_merge_shard_by_shard_and_a_shard_both_changed_is_a_conflict() {
        use crate::runtime::fs::model::Chunk;
        let shard = |a: u8| Chunk { address: Address([a; 32]), key: [a; 32] };
        let sharded = |list: [u8; 4], mode: u32| Node::Directory {
            meta: Meta::new(mode, 0, 0),
            entries: BTreeMap::new(),
            parent: None,
            lease: None,
            shards: list.map(shard).to_vec(),
        };
        let base = sharded([1, 2, 3, 4], 0o755);
        // Mine changed shard 0 and the mode; theirs changed shard 3.
        let merged = merge(Some(&base), &sharded([5, 2, 3, 4], 0o700), sharded([1, 2, 3, 6], 0o755)).unwrap();
        let Node::Directory { shards, meta, .. } = &merged else { panic!("a directory") };
        assert_eq!(shards, &[5, 2, 3, 6].map(shard).to_vec());
        assert_eq!(meta.mode, 0o700);
        assert!(merge(Some(&base), &sharded([5, 2, 3, 4], 0o755), sharded([7, 2, 3, 4], 0o755)).is_none());
        assert!(merge(None, &sharded([5, 2, 3, 4], 0o755), sharded([1, 2, 3, 4], 0o755)).is_none());
        assert!(merge(Some(&base), &dir(&[("a", 1)]), sharded([1, 2, 3, 4], 0o755)).is_none(), "unsharded meanwhile");
    }
}
