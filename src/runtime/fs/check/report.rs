//! What a check finds: [`Finding`]s of a few [`FindingKind`]s, each with
//! the remedy [`super::repair`] would apply, and the [`Summary`] counts.

use std::collections::BTreeMap;

use crate::runtime::block::Address;
use crate::runtime::fs::model::NodeKind;

/// The kinds of problems a check reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FindingKind {
    /// An entry naming a missing block or a tombstone.
    Dangling,
    /// A chunk table naming a missing content block.
    DanglingChunk,
    /// A block that does not decode, validate or decrypt.
    Unreadable,
    /// A readable node no directory names.
    Orphan,
    /// A block nothing names.
    Leaked,
    /// A stored link count that differs from the names.
    Nlink,
    /// A block older than its known floor.
    Rollback,
    /// An entry naming a directory that names another parent: what a
    /// rename across directories interrupted by a crash leaves (hidden
    /// from the mount).
    Stale,
}

impl FindingKind {
    /// Every kind, in report order.
    pub const ALL: [FindingKind; 8] = [
        FindingKind::Dangling,
        FindingKind::DanglingChunk,
        FindingKind::Unreadable,
        FindingKind::Orphan,
        FindingKind::Leaked,
        FindingKind::Nlink,
        FindingKind::Rollback,
        FindingKind::Stale,
    ];

    /// The kind's name in reports.
    pub fn name(self) -> &'static str {
        match self {
            FindingKind::Dangling => "dangling",
            FindingKind::DanglingChunk => "dangling-chunk",
            FindingKind::Unreadable => "unreadable",
            FindingKind::Orphan => "orphan",
            FindingKind::Leaked => "leaked",
            FindingKind::Nlink => "nlink",
            FindingKind::Rollback => "rollback",
            FindingKind::Stale => "stale",
        }
    }
}

/// One problem in a stored volume.
#[derive(Debug, Clone)]
pub struct Finding {
    /// What kind of problem.
    pub kind: FindingKind,
    /// The block concerned.
    pub address: Address,
    /// Its path in the tree, when a directory names it.
    pub path: Option<String>,
    /// What is wrong.
    pub detail: String,
    /// What [`super::repair`] does about it.
    pub(super) action: Action,
}

impl Finding {
    /// What [`super::repair`] does about this finding, or `None` if nothing.
    pub fn remedy(&self) -> Option<&'static str> {
        match &self.action {
            Action::Keep => None,
            Action::Unlink { dispose: Dispose::Keep, .. } => Some("unlink the entry"),
            Action::Unlink { .. } => Some("unlink the entry and remove the block"),
            Action::Hole { .. } => Some("make the chunk a hole (reads as zeros)"),
            Action::DropPatch { .. } => Some("drop the patch (the chunks read as before its writes)"),
            Action::SetNlink { .. } => Some("set the link count"),
            Action::Adopt { .. } => Some("link into /lost+found"),
            Action::Dispose(_) => Some("remove the block"),
        }
    }
}

/// How a block is removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Dispose {
    /// Leave it: it may be of a format this build does not know.
    Keep,
    /// Delete its bytes (content blocks, undecodable bytes).
    Erase,
    /// Replace a mutable block of the owner by its tombstone, one version up.
    Bury(u64),
}

/// The repair of one finding.
#[derive(Debug, Clone)]
pub(super) enum Action {
    /// Nothing can be done.
    Keep,
    /// Remove entry `name` (naming the finding's block) from `dir`.
    Unlink { dir: Address, name: String, dispose: Dispose },
    /// Make chunk `index` of `file` a hole; `dispose` the content block.
    Hole { file: Address, index: u64, dispose: Dispose },
    /// Drop the finding's patch from `file`; `dispose` the content block.
    DropPatch { file: Address, dispose: Dispose },
    /// Store `nlink` as the file's link count.
    SetNlink { nlink: u32 },
    /// Link the node into lost+found.
    Adopt { kind: NodeKind },
    /// Remove the block.
    Dispose(Dispose),
}

/// What a check saw of the volume.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Nodes read (the tree, and orphans' trees).
    pub nodes: u64,
    /// Directories among them.
    pub directories: u64,
    /// Regular files among them.
    pub files: u64,
    /// Symbolic links among them.
    pub symlinks: u64,
    /// FIFOs, sockets and device nodes among them.
    pub specials: u64,
    /// Chunks the files name.
    pub chunks: u64,
    /// Patch blocks the files name.
    pub patches: u64,
    /// Bytes in the files (their sizes).
    pub bytes: u64,
    /// Tombstones in the silo.
    pub tombstones: u64,
    /// Blocks in the silo that belong to other volumes or users.
    pub foreign: u64,
}

/// The outcome of a check.
#[derive(Debug, Clone)]
pub struct Report {
    /// The volume's root directory.
    pub root: Address,
    /// Problems, in the order found.
    pub findings: Vec<Finding>,
    /// Counts.
    pub summary: Summary,
    /// Leaks and orphans were looked for (a root could be read).
    pub complete: bool,
}

impl Report {
    /// Whether nothing is wrong.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }

    /// How many findings of each kind (kinds with none left out).
    pub fn counts(&self) -> BTreeMap<FindingKind, usize> {
        let mut counts = BTreeMap::new();
        for f in &self.findings {
            *counts.entry(f.kind).or_insert(0) += 1;
        }
        counts
    }
}
