//! Intents: what a file system operation meant to change in one node
//! ("insert entry `a` naming X", "one more link", "this chunk table"),
//! kept beside the node until the change is stored. The node table stores
//! the node with its intents applied; when another writer won the race for
//! the block, it decodes the current version and applies the intents again,
//! re-checking each one's precondition, instead of overwriting the other
//! writer's change with a stale snapshot.
//!
//! Each intent is applied in one of two modes: [`Mode::Op`] when the
//! operation runs (a failed precondition is the caller's error: `EEXIST`,
//! `ENOENT`), and [`Mode::Replay`] on another writer's version, where what
//! can be reconciled is (an entry someone else already removed stays
//! removed) and what cannot is reported as [`Replayed::Lost`].

use std::collections::BTreeMap;

use super::model::{Chunk, Entry, Node, NodeKind, Patch, Time};
use super::{FsError, FsResult};
use crate::runtime::block::Address;

/// When an intent is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// While the operation runs: preconditions are the caller's errors.
    Op,
    /// Again, on a version another writer stored.
    Replay,
}

/// The outcome of replaying an intent on another writer's version.
#[derive(Debug, PartialEq, Eq)]
pub enum Replayed {
    /// Applied (or already in effect).
    Applied,
    /// It cannot apply any more; the reason, for the log.
    Lost(String),
}

/// Attribute changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attributes {
    pub mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub atime: Option<Time>,
    pub mtime: Option<Time>,
    /// On anything but a directory, clear the set-user-ID bit, the
    /// set-group-ID bit if the group may execute, and the
    /// `security.capability` attribute: what a change of owner, or a write
    /// or truncation by a caller without `CAP_FSETID`, takes away on Linux.
    /// The mount asks the kernel to leave this to the file system
    /// (`FUSE_HANDLE_KILLPRIV_V2`), which spares two round trips per
    /// `chown` and one per `write`.
    pub drop_privileges: bool,
}

/// The extended attribute holding a file's capabilities.
const CAPABILITY_XATTR: &str = "security.capability";

/// Whether `node` holds what [`Attributes::drop_privileges`] takes away.
pub fn holds_privileges(node: &Node) -> bool {
    let meta = node.meta();
    node.kind() != NodeKind::Directory
        && (meta.mode & 0o4000 != 0 || meta.mode & 0o2010 == 0o2010 || meta.xattrs.contains_key(CAPABILITY_XATTR))
}

/// One change to one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    /// The node's first state (a new node).
    Create(Box<Node>),
    /// Name `entry` `name` in a directory; it may replace the entry naming
    /// `replaces` (rename over an existing target). `stale`: other names of
    /// the same directory it took out when applied (see below).
    InsertEntry { name: String, entry: Entry, replaces: Option<Address>, time: Time, stale: Vec<String> },
    /// Remove `name` if it names `address`.
    RemoveEntry { name: String, address: Address, time: Time },
    /// Rename within one directory: `from` (naming `entry`) becomes `to`,
    /// replacing the entry naming `replaces` if any.
    MoveEntry { from: String, to: String, entry: Entry, replaces: Option<Address>, time: Time },
    /// A directory moved from directory `from` to directory `to` (the
    /// commit point of a rename across directories): its parent must still
    /// be `from` (or unknown, for directories of older formats).
    SetParent { from: Address, to: Address, time: Time },
    /// Change attributes.
    SetAttributes { change: Attributes, time: Time },
    /// Set (`Some`) or remove (`None`) an extended attribute.
    SetXattr { name: String, value: Option<Vec<u8>>, time: Time },
    /// Add `delta` to a file's or symlink's link count.
    Links { delta: i32, time: Time },
    /// A file's new content: size, inline data or chunk table and patches.
    Content { size: u64, inline: Vec<u8>, chunks: BTreeMap<u64, Chunk>, patches: Vec<Patch>, time: Time },
    /// Mount `by` asks the holder of the directory's lease to give it up
    /// (nothing to do if there is no lease, or `by` holds it).
    WantLease { by: [u8; 16] },
    /// Mount `by` gives up the directory's lease, if it holds it.
    ReleaseLease { by: [u8; 16] },
}

fn entries_of(node: &mut Node) -> FsResult<(&mut BTreeMap<String, Entry>, &mut super::model::Meta)> {
    match node {
        Node::Directory { entries, meta, .. } => Ok((entries, meta)),
        _ => Err(FsError::NotDirectory),
    }
}

fn touch(meta: &mut super::model::Meta, time: Time) {
    meta.mtime = meta.mtime.max(time);
    meta.ctime = meta.ctime.max(time);
}

impl Intent {
    /// The node an entry change makes a directory name, if any: it must be
    /// stored before the directory is.
    pub fn names(&self) -> Option<Address> {
        match self {
            Intent::InsertEntry { entry, .. } | Intent::MoveEntry { entry, .. } => Some(entry.address),
            _ => None,
        }
    }

    /// Whether it changes a directory's names (what a lease is about).
    pub fn is_namespace(&self) -> bool {
        matches!(self, Intent::InsertEntry { .. } | Intent::RemoveEntry { .. } | Intent::MoveEntry { .. })
    }

    /// The directory entry names this intent may change.
    pub fn entry_names(&self) -> Vec<&str> {
        match self {
            Intent::InsertEntry { name, stale, .. } => {
                std::iter::once(name.as_str()).chain(stale.iter().map(String::as_str)).collect()
            }
            Intent::RemoveEntry { name, .. } => vec![name.as_str()],
            Intent::MoveEntry { from, to, .. } => vec![from.as_str(), to.as_str()],
            _ => Vec::new(),
        }
    }

    /// Apply to `node`. In [`Mode::Op`] an error leaves `node` unchanged.
    pub fn apply(&mut self, node: &mut Node, mode: Mode) -> FsResult<Replayed> {
        match self {
            Intent::Create(initial) => {
                *node = (**initial).clone();
            }
            Intent::InsertEntry { name, entry, replaces, time, stale } => {
                let (entries, meta) = entries_of(node)?;
                match entries.get(name.as_str()) {
                    None => {}
                    Some(e) if e.address == entry.address => return Ok(Replayed::Applied),
                    Some(e) if Some(e.address) == *replaces => {}
                    Some(_) if mode == Mode::Op => return Err(FsError::Exists),
                    Some(_) => {
                        // Another writer took the name: keep ours beside it,
                        // under a name that says so, rather than lose it.
                        let renamed = conflict_name(name, &entry.address, entries);
                        let why = format!("another writer created {name:?} first; kept this one as {renamed:?}");
                        entries.insert(renamed.clone(), *entry);
                        *name = renamed;
                        touch(meta, *time);
                        return Ok(Replayed::Lost(why));
                    }
                }
                if entry.kind == NodeKind::Directory {
                    // One directory names another at most once: a stale name
                    // a crashed rename left here goes with the new one.
                    let others: Vec<String> = entries
                        .iter()
                        .filter(|(n, e)| e.address == entry.address && **n != *name)
                        .map(|(n, _)| n.clone())
                        .collect();
                    for other in others {
                        entries.remove(&other);
                        if !stale.contains(&other) {
                            stale.push(other);
                        }
                    }
                }
                entries.insert(name.clone(), *entry);
                touch(meta, *time);
            }
            Intent::RemoveEntry { name, address, time } => {
                let (entries, meta) = entries_of(node)?;
                match entries.get(name.as_str()) {
                    Some(e) if e.address == *address => {
                        entries.remove(name.as_str());
                        touch(meta, *time);
                    }
                    _ if mode == Mode::Op => return Err(FsError::NotFound),
                    // Already removed or replaced by another writer.
                    _ => {}
                }
            }
            Intent::MoveEntry { from, to, entry, replaces, time } => {
                let (entries, meta) = entries_of(node)?;
                let source_ok = entries.get(from.as_str()).is_some_and(|e| e.address == entry.address);
                let target_ok = match entries.get(to.as_str()) {
                    None => true,
                    Some(e) => Some(e.address) == *replaces || e.address == entry.address,
                };
                match (source_ok, target_ok, mode) {
                    (true, true, _) => {
                        entries.remove(from.as_str());
                        entries.insert(to.clone(), *entry);
                        touch(meta, *time);
                    }
                    (false, _, Mode::Op) => return Err(FsError::NotFound),
                    (_, false, Mode::Op) => return Err(FsError::Exists),
                    (false, _, Mode::Replay) => {
                        if entries.get(to.as_str()).is_some_and(|e| e.address == entry.address) {
                            return Ok(Replayed::Applied);
                        }
                        return Ok(Replayed::Lost(format!("{from:?} was removed or renamed by another writer")));
                    }
                    (true, false, Mode::Replay) => {
                        return Ok(Replayed::Lost(format!(
                            "another writer created {to:?} first; {from:?} keeps its name"
                        )));
                    }
                }
            }
            Intent::SetParent { from, to, time } => {
                let Node::Directory { parent, meta, .. } = node else {
                    return match mode {
                        Mode::Op => Err(FsError::NotDirectory),
                        Mode::Replay => Ok(Replayed::Lost("no longer a directory".into())),
                    };
                };
                match *parent {
                    Some(p) if p == *to => {}
                    None => *parent = Some(*to),
                    Some(p) if p == *from => *parent = Some(*to),
                    Some(_) if mode == Mode::Op => return Err(FsError::NotFound),
                    Some(_) => return Ok(Replayed::Lost("another writer moved the directory first".into())),
                }
                meta.ctime = meta.ctime.max(*time);
            }
            Intent::SetAttributes { change, time } => {
                let meta = node.meta_mut();
                if let Some(mode) = change.mode {
                    meta.mode = mode & 0o7777;
                }
                if let Some(uid) = change.uid {
                    meta.uid = uid;
                }
                if let Some(gid) = change.gid {
                    meta.gid = gid;
                }
                if let Some(t) = change.atime {
                    meta.atime = t;
                }
                if let Some(t) = change.mtime {
                    meta.mtime = t;
                }
                if change.drop_privileges && holds_privileges(node) {
                    let meta = node.meta_mut();
                    meta.mode &= if meta.mode & 0o2010 == 0o2010 { !0o6000 } else { !0o4000 };
                    meta.xattrs.remove(CAPABILITY_XATTR);
                }
                let meta = node.meta_mut();
                meta.ctime = meta.ctime.max(*time);
            }
            Intent::SetXattr { name, value, time } => {
                let meta = node.meta_mut();
                match value {
                    Some(v) => {
                        meta.xattrs.insert(name.clone(), v.clone());
                    }
                    None => {
                        if meta.xattrs.remove(name.as_str()).is_none() && mode == Mode::Op {
                            return Err(FsError::NoAttribute);
                        }
                    }
                }
                meta.ctime = meta.ctime.max(*time);
            }
            Intent::Links { delta, time } => match node {
                Node::File { nlink, meta, .. }
                | Node::Symlink { nlink, meta, .. }
                | Node::Special { nlink, meta, .. } => {
                    *nlink = nlink.saturating_add_signed(*delta);
                    meta.ctime = meta.ctime.max(*time);
                }
                Node::Directory { .. } if mode == Mode::Op => {
                    return Err(FsError::NotPermitted("hard links to directories".into()));
                }
                Node::Directory { .. } => {}
            },
            Intent::Content { size, inline, chunks, patches, time } => match node {
                Node::File { size: s, inline: i, chunks: c, patches: p, meta, .. } => {
                    *s = *size;
                    *i = inline.clone();
                    *c = chunks.clone();
                    *p = patches.clone();
                    touch(meta, *time);
                }
                _ if mode == Mode::Op => return Err(FsError::IsDirectory),
                _ => return Ok(Replayed::Lost("the file became another kind of node".into())),
            },
            Intent::ReleaseLease { by } => {
                if let Node::Directory { lease, .. } = node
                    && lease.is_some_and(|l| l.holder == *by)
                {
                    *lease = None;
                }
            }
            Intent::WantLease { by } => {
                if let Node::Directory { lease: Some(lease), .. } = node
                    && lease.holder != *by
                {
                    lease.wanted = true;
                }
            }
        }
        Ok(Replayed::Applied)
    }
}

/// A free name for a node that lost the race for `name`.
fn conflict_name(name: &str, address: &Address, entries: &BTreeMap<String, Entry>) -> String {
    let tag = crate::crypto::hash::hex(&address.0[..3]);
    let mut candidate = format!("{name}.conflict-{tag}");
    let mut n = 1;
    while entries.contains_key(&candidate) {
        n += 1;
        candidate = format!("{name}.conflict-{tag}-{n}");
    }
    candidate
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::fs::model::Meta;

    fn dir() -> Node {
        Node::Directory {
            meta: Meta::new(0o755, 0, 0),
            entries: BTreeMap::new(),
            parent: None,
            lease: None,
            shards: Vec::new(),
        }
    }

    fn entry(n: u8) -> Entry {
        Entry { address: Address([n; 32]), kind: NodeKind::File }
    }

    fn insert(name: &str, n: u8) -> Intent {
        Intent::InsertEntry { name: name.into(), entry: entry(n), replaces: None, time: Time::now(), stale: Vec::new() }
    }

    #[test]
    fn a_taken_name_is_the_callers_error_but_survives_replay_under_a_conflict_name() {
        let mut node = dir();
        insert("a", 1).apply(&mut node, Mode::Op).unwrap();
        assert!(matches!(insert("a", 2).apply(&mut node, Mode::Op), Err(FsError::Exists)));
        let mut replayed = insert("a", 2);
        assert!(matches!(replayed.apply(&mut node, Mode::Replay).unwrap(), Replayed::Lost(_)));
        let Node::Directory { entries, .. } = &node else { unreachable!() };
        assert_eq!(entries.len(), 2);
        assert_eq!(entries["a"], entry(1));
        assert!(entries.iter().any(|(n, e)| n.starts_with("a.conflict-") && *e == entry(2)));
        // The intent now names where it landed, so a second replay is a no-op.
        assert_eq!(replayed.apply(&mut node, Mode::Replay).unwrap(), Replayed::Applied);
    }

    #[test]
    fn removals_and_moves_reconcile_with_what_another_writer_did() {
        let mut node = dir();
        insert("a", 1).apply(&mut node, Mode::Op).unwrap();
        let mut remove = Intent::RemoveEntry { name: "a".into(), address: Address([1; 32]), time: Time::now() };
        remove.apply(&mut node, Mode::Op).unwrap();
        assert!(remove.apply(&mut node, Mode::Op).is_err());
        assert_eq!(remove.apply(&mut node, Mode::Replay).unwrap(), Replayed::Applied);
        insert("b", 2).apply(&mut node, Mode::Op).unwrap();
        let mut mv =
            Intent::MoveEntry { from: "b".into(), to: "c".into(), entry: entry(2), replaces: None, time: Time::now() };
        mv.apply(&mut node, Mode::Op).unwrap();
        // Replaying the same move on the moved tree changes nothing.
        assert_eq!(mv.apply(&mut node, Mode::Replay).unwrap(), Replayed::Applied);
        let Node::Directory { entries, .. } = &node else { unreachable!() };
        assert_eq!(entries.keys().collect::<Vec<_>>(), vec!["c"]);
    }

    #[test]
    fn link_counts_are_deltas_so_concurrent_links_add_up() {
        let mut node = Node::File {
            meta: Meta::new(0o644, 0, 0),
            nlink: 1,
            size: 0,
            inline: Vec::new(),
            chunks: BTreeMap::new(),
            patches: Vec::new(),
        };
        Intent::Links { delta: 1, time: Time::now() }.apply(&mut node, Mode::Replay).unwrap();
        Intent::Links { delta: 1, time: Time::now() }.apply(&mut node, Mode::Replay).unwrap();
        Intent::Links { delta: -1, time: Time::now() }.apply(&mut node, Mode::Replay).unwrap();
        assert!(matches!(node, Node::File { nlink: 2, .. }));
    }

    #[test]
    fn a_directory_is_named_once_per_directory_and_moves_only_from_its_parent() {
        let sub = Entry { address: Address([4; 32]), kind: NodeKind::Directory };
        let mut node = dir();
        let insert_sub = |name: &str, node: &mut Node| {
            Intent::InsertEntry { name: name.into(), entry: sub, replaces: None, time: Time::now(), stale: Vec::new() }
                .apply(node, Mode::Op)
                .unwrap()
        };
        insert_sub("stale", &mut node);
        insert_sub("again", &mut node);
        let Node::Directory { entries, .. } = &node else { unreachable!() };
        assert_eq!(entries.keys().collect::<Vec<_>>(), vec!["again"], "the older name of the directory is gone");
        // The insert says which names it changed, the stale one too (its shard is rewritten).
        let mut third = Intent::InsertEntry {
            name: "third".into(),
            entry: sub,
            replaces: None,
            time: Time::now(),
            stale: Vec::new(),
        };
        third.apply(&mut node, Mode::Op).unwrap();
        assert_eq!(third.entry_names(), ["third", "again"]);

        let (p, q, r) = (Address([1; 32]), Address([2; 32]), Address([3; 32]));
        let mut moved = dir();
        Intent::SetParent { from: p, to: q, time: Time::now() }.apply(&mut moved, Mode::Op).unwrap();
        assert!(matches!(moved, Node::Directory { parent: Some(x), .. } if x == q), "an unknown parent is replaced");
        let mut again = Intent::SetParent { from: p, to: q, time: Time::now() };
        assert_eq!(again.apply(&mut moved, Mode::Replay).unwrap(), Replayed::Applied);
        let mut late = Intent::SetParent { from: p, to: r, time: Time::now() };
        assert!(matches!(late.apply(&mut moved, Mode::Op), Err(FsError::NotFound)), "moved away meanwhile");
        assert!(matches!(late.apply(&mut moved, Mode::Replay).unwrap(), Replayed::Lost(_)));
        assert!(matches!(moved, Node::Directory { parent: Some(x), .. } if x == q));
    }
}
