//! The offline checker of a stored volume (`infinit volume check`): it reads
//! the silo directly — list, get, [`Block::decode`],
//! [`Block::validate_alone`] — never a consensus or a mounted
//! [`super::FileSystem`], so it must run while no node serves the silo
//! (the filesystem silo's `.lock` makes a running node fail it clearly).
//!
//! It walks the tree from the volume's root pointer, decrypting every node
//! and every chunk, then looks at every block the walk did not reach, and
//! reports [`Finding`]s:
//! - `dangling`: a directory entry naming a missing block or a tombstone;
//! - `dangling-chunk`: a chunk table or a patch list naming a missing
//!   content block;
//! - `unreadable`: a block that does not decode, validate or decrypt, or a
//!   node that does not decode (with its path when a directory names it);
//! - `orphan`: a readable node no directory names (a crash between storing
//!   a node and the directory naming it leaves one);
//! - `leaked`: a content block no file header names, or the header of a
//!   removed file (link count 0) that was never buried;
//! - `nlink`: a file whose stored link count differs from the number of
//!   entries naming it;
//! - `stale`: an entry naming a directory whose stored parent is another
//!   directory (a rename across directories interrupted by a crash; the
//!   mount hides it, repair unlinks it);
//! - `rollback`: a block older than the highest version the caller knows
//!   was stored (`floors`); `infinit volume check` passes the versions this
//!   device's node has seen (its freshness floor).
//!
//! Not part of the volume, hence never leaked: the root pointer,
//! tombstones (counted apart), blocks of other keys, and the trees of the
//! owner's other volumes in the same silo (found through their root
//! pointers, walked for what they name, not checked). A content block whose
//! owner is unknown (no owner, or an owner block absent from the silo)
//! counts as this volume's only when the silo holds no other user's blocks.
//! An access-controlled block of the owner's key is taken for a node of one
//! of the owner's volumes: orphans of any of them are adopted by the
//! checked one. The check assumes the silo holds every block of the
//! network (a one-node network); when the root, or another volume's root,
//! cannot be read, leaks and orphans are not reported (everything would
//! look unreferenced) and repair touches none.
//!
//! [`repair`] fixes what it can: dangling and unreadable entries are
//! unlinked (an unreadable node is removed with them: nothing can be
//! recovered from it), missing or unreadable chunks become holes (the
//! file reads zeros there instead of failing), link counts are set to the
//! number of names, orphans are linked into `/lost+found` under their
//! address in hex (created if missing) so no data is lost, and leaked
//! blocks are removed. A missing or unreadable patch is dropped from its
//! file (the chunks read as before its writes). Rollbacks and blocks of an unknown format are left
//! alone. Findings inside an orphan's tree carry the path repair gives
//! them (`/lost+found/<hex>/...`), and are repaired in the same pass, so
//! a check after a repair reports only what could not be repaired.

mod repair;
mod report;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

pub use repair::{RepairReport, repair};
use report::{Action, Dispose};
pub use report::{Finding, FindingKind, Report, Summary};

use super::model::{NODE_FORMAT, Node, NodeKind};
use super::root_name;
use super::shard;
use crate::crypto::{KeyPair, PublicKey, seal};
use crate::runtime::block::{Address, Block, BlockError};
use crate::runtime::silo::{Silo, SiloError};

/// Prefix of the named blocks that point to volume roots.
const ROOT_PREFIX: &str = "infinit/volume-root/";

/// Name of the directory at the root that adopts orphans.
pub const LOST_AND_FOUND: &str = "lost+found";

/// The highest version known to have been stored at some addresses.
pub type Floors = BTreeMap<Address, u64>;

/// Why a check could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The silo failed (not a finding: nothing can be concluded).
    #[error("silo \"{silo}\": {source}")]
    Silo { silo: String, source: SiloError },
    /// The named block pointing to the root is missing or not a pointer.
    #[error("volume \"{volume}\": {why}")]
    NoRoot { volume: String, why: String },
    /// A block could not be built or encoded during repair.
    #[error("cannot write block {address}: {why}")]
    Write { address: Address, why: String },
}

/// Check volume `volume` owned by `keys` as stored in `silo` (no node may
/// be serving it). `floors` gives, for some addresses, the highest version
/// known to have been stored: an older block there is a `rollback`.
pub async fn check(silo: &dyn Silo, keys: &KeyPair, volume: &str, floors: &Floors) -> Result<Report, CheckError> {
    let pointer = Address::named(&keys.public(), &root_name(volume));
    let no_root = |why: String| CheckError::NoRoot { volume: volume.to_string(), why };
    let root = match get(silo, pointer).await? {
        None => return Err(no_root("no root pointer in this silo (never run, or another silo)".into())),
        Some(bytes) => match Block::decode(&bytes).and_then(|b| b.validate_alone(&pointer).map(|()| b)) {
            Ok(Block::Named(named)) => named.target,
            Ok(other) => return Err(no_root(format!("the root pointer is a {}", other.kind()))),
            Err(e) => return Err(no_root(format!("the root pointer is unreadable: {e}"))),
        },
    };
    let mut survey = Survey::new(silo, keys, floors);
    survey.visited.insert(pointer);
    let listed: BTreeSet<Address> = silo.list().await.map_err(|e| survey.silo_error(e))?.into_iter().collect();
    let mut complete = survey.walk(root, "/".into(), None, true).await?;

    let loose = survey.classify(&listed).await?;
    for other in &loose.other_roots {
        complete &= survey.walk(*other, String::new(), None, false).await?;
    }
    if complete {
        survey.adopt_orphans(loose.nodes).await?;
        survey.leaks(&loose.contents, &listed, loose.sole_owner, &loose.our_tombstones);
    }
    for (address, problem) in loose.unreadable {
        // A walk may have reached it since, or a header names it (reported with the file).
        if !survey.visited.contains(&address) && !survey.chunks.contains(&address) {
            let dispose = problem.dispose;
            survey.find(FindingKind::Unreadable, address, None, problem.why, Action::Dispose(dispose));
        }
    }
    survey.check_links();
    survey.summary.tombstones = loose.tombstones;
    survey.summary.foreign = loose.foreign;
    Ok(Report { root, findings: survey.findings, summary: survey.summary, complete })
}

/// The bytes at `key`, `None` when missing.
async fn get(silo: &dyn Silo, key: Address) -> Result<Option<Vec<u8>>, CheckError> {
    match silo.get(key).await {
        Ok(bytes) => Ok(Some(bytes)),
        Err(SiloError::NotFound { .. }) => Ok(None),
        Err(source) => Err(CheckError::Silo { silo: silo.name().to_string(), source }),
    }
}

/// Read the shards of directory `node` (at `dir`) from the silo into its
/// entries; `Err` says which shard cannot be read and why.
async fn read_shards(silo: &dyn Silo, dir: Address, node: &mut Node) -> Result<Result<(), String>, CheckError> {
    let Node::Directory { entries, shards, .. } = node else { return Ok(Ok(())) };
    let count = shards.len();
    for (index, chunk) in shards.iter().enumerate() {
        let what = |why: &str| format!("shard {index} ({}) {why}", chunk.address);
        let Some(bytes) = get(silo, chunk.address).await? else { return Ok(Err(what("is missing"))) };
        let data = match Block::decode(&bytes).and_then(|b| b.validate_alone(&chunk.address).map(|()| b)) {
            Ok(Block::Content(content)) => content,
            Ok(other) => return Ok(Err(what(&format!("is a {}", other.kind())))),
            Err(e) => return Ok(Err(what(&e.to_string()))),
        };
        match shard::open(dir, index, count, chunk, data.data()) {
            Ok((part, _)) => entries.extend(part),
            Err(e) => return Ok(Err(e.to_string())),
        }
    }
    Ok(Ok(()))
}

/// Why a node cannot be used.
#[derive(Debug, Clone)]
enum Problem {
    /// Nothing is stored there.
    Missing,
    /// A tombstone is stored there.
    Removed,
    /// Something unusable is stored there.
    Unreadable(Unreadable),
}

/// An unusable block and how to get rid of it.
#[derive(Debug, Clone)]
struct Unreadable {
    why: String,
    dispose: Dispose,
}

fn unreadable(why: impl Into<String>, dispose: Dispose) -> Problem {
    Problem::Unreadable(Unreadable { why: why.into(), dispose })
}

/// How to dispose of bytes that do not make a valid block: keep those of
/// a newer format, erase the rest.
fn undecodable(e: &BlockError) -> Dispose {
    match e {
        BlockError::UnsupportedFormat { .. } => Dispose::Keep,
        _ => Dispose::Erase,
    }
}

/// The entry naming a node: its directory and name (none for a walk's top).
type Via = Option<(Address, String)>;

/// The blocks the walk did not reach, sorted out.
#[derive(Debug, Default)]
struct Loose {
    /// Readable nodes of the owner, with their version.
    nodes: BTreeMap<Address, (Node, u64)>,
    /// Content blocks: owner and size.
    contents: Vec<(Address, Option<Address>, u64)>,
    /// Blocks that do not decode, validate or decrypt.
    unreadable: Vec<(Address, Unreadable)>,
    /// Roots of the owner's other volumes.
    other_roots: Vec<Address>,
    /// Addresses removed by the owner (tombstones it signed).
    our_tombstones: HashSet<Address>,
    tombstones: u64,
    foreign: u64,
    /// No block of another key is in the silo.
    sole_owner: bool,
}

/// The state of one check.
struct Survey<'a> {
    silo: &'a dyn Silo,
    keys: &'a KeyPair,
    owner: PublicKey,
    floors: &'a Floors,
    /// Blocks reached (or the root pointer).
    visited: HashSet<Address>,
    /// Nodes reached that are unusable, to report every entry naming them.
    failed: HashMap<Address, Problem>,
    /// Entries naming each address (orphans count their future one).
    names: HashMap<Address, u32>,
    /// Content blocks a header names.
    chunks: HashSet<Address>,
    /// Files and symlinks reached: stored link count and a path.
    links: BTreeMap<Address, (u32, String)>,
    /// The stored parent of each directory loaded (`None`: unknown).
    parents: HashMap<Address, Option<Address>>,
    findings: Vec<Finding>,
    summary: Summary,
}

/// What is wrong with content block `address` (`of` names it in the
/// finding), if anything: missing, invalid, removed, of another kind, or
/// refused by `open` (which decrypts and decodes its data).
async fn content_problem(
    silo: &dyn Silo,
    address: Address,
    of: &str,
    open: impl FnOnce(&[u8]) -> Result<(), String>,
) -> Result<Option<(FindingKind, String, Dispose)>, CheckError> {
    Ok(match get(silo, address).await? {
        None => Some((FindingKind::DanglingChunk, format!("{of} is missing"), Dispose::Keep)),
        Some(bytes) => match Block::decode(&bytes).and_then(|b| b.validate_alone(&address).map(|()| b)) {
            Err(e) => Some((FindingKind::Unreadable, format!("{of}: {e}"), undecodable(&e))),
            Ok(Block::Content(content)) => {
                open(content.data()).err().map(|why| (FindingKind::Unreadable, why, Dispose::Erase))
            }
            Ok(Block::Tombstone(_)) => Some((FindingKind::DanglingChunk, format!("{of} was removed"), Dispose::Keep)),
            Ok(other) => Some((
                FindingKind::Unreadable,
                format!("{of} is a {}, not a content block", other.kind()),
                Dispose::Keep,
            )),
        },
    })
}

impl<'a> Survey<'a> {
    fn new(silo: &'a dyn Silo, keys: &'a KeyPair, floors: &'a Floors) -> Self {
        Survey {
            silo,
            keys,
            owner: keys.public(),
            floors,
            visited: HashSet::new(),
            failed: HashMap::new(),
            names: HashMap::new(),
            chunks: HashSet::new(),
            links: BTreeMap::new(),
            parents: HashMap::new(),
            findings: Vec::new(),
            summary: Summary::default(),
        }
    }

    fn silo_error(&self, source: SiloError) -> CheckError {
        CheckError::Silo { silo: self.silo.name().to_string(), source }
    }

    fn find(&mut self, kind: FindingKind, address: Address, path: Option<String>, detail: String, action: Action) {
        self.findings.push(Finding { kind, address, path, detail, action });
    }

    /// The node at `address` and its version.
    async fn load(&self, address: Address) -> Result<Result<(Node, u64), Problem>, CheckError> {
        let Some(bytes) = get(self.silo, address).await? else {
            return Ok(Err(Problem::Missing));
        };
        let block = match Block::decode(&bytes).and_then(|b| b.validate_alone(&address).map(|()| b)) {
            Ok(block) => block,
            Err(e) => return Ok(Err(unreadable(e.to_string(), undecodable(&e)))),
        };
        Ok(match block {
            Block::Acl(acl) if acl.owner == self.owner => self.open(address, &acl).await?,
            Block::Acl(_) => Err(unreadable("a node of another key", Dispose::Keep)),
            Block::Tombstone(_) => Err(Problem::Removed),
            other => Err(unreadable(format!("a {}, not a node", other.kind()), Dispose::Keep)),
        })
    }

    /// Decrypt and decode a node block of the owner (at `address`), with
    /// the entries of a sharded directory's shards. A directory with a
    /// shard that cannot be read is unreadable but kept: its other shards
    /// hold entries.
    async fn open(
        &self,
        address: Address,
        acl: &crate::runtime::block::AclBlock,
    ) -> Result<Result<(Node, u64), Problem>, CheckError> {
        let bury = Dispose::Bury(acl.version);
        let plain = match acl.read(self.keys) {
            Ok(plain) => plain,
            Err(e) => return Ok(Err(unreadable(e.to_string(), bury))),
        };
        let mut node = match Node::decode(&plain) {
            Ok(node) => node,
            // A node format this build does not know: not corrupt, keep it.
            Err(e) if plain.first().is_some_and(|&v| v > NODE_FORMAT) => {
                return Ok(Err(unreadable(e.to_string(), Dispose::Keep)));
            }
            Err(e) => return Ok(Err(unreadable(e.to_string(), bury))),
        };
        Ok(match read_shards(self.silo, address, &mut node).await? {
            Ok(()) => Ok((node, acl.version)),
            Err(why) => Err(unreadable(why, Dispose::Keep)),
        })
    }

    /// Walk the tree under `top`; `report` records findings and counts
    /// (off for the owner's other volumes, walked only for what they
    /// name). Returns whether `top` itself could be read.
    async fn walk(&mut self, top: Address, path: String, via: Via, report: bool) -> Result<bool, CheckError> {
        let mut stack = vec![(top, path, via)];
        let mut top_read = true;
        while let Some((address, path, via)) = stack.pop() {
            if let Some(problem) = self.failed.get(&address).cloned() {
                self.report_entry(address, path, via, problem, report);
                continue;
            }
            if self.visited.contains(&address) {
                if let Some(&parent) = self.parents.get(&address) {
                    self.check_parent(address, parent, path, via, report);
                }
                continue;
            }
            let (node, version) = match self.load(address).await? {
                Ok(loaded) => loaded,
                Err(problem) => {
                    self.visited.insert(address);
                    top_read &= address != top;
                    self.failed.insert(address, problem.clone());
                    self.report_entry(address, path, via, problem, report);
                    continue;
                }
            };
            if let Node::Directory { parent, .. } = &node {
                self.parents.insert(address, *parent);
                // Not reached through a stale entry: through its parent,
                // or as an orphan if its parent no longer names it.
                if !self.check_parent(address, *parent, path.clone(), via.clone(), report) {
                    continue;
                }
            }
            self.visited.insert(address);
            if !report {
                self.note_names(address, &node, &path, &mut stack);
                continue;
            }
            if let Some(&floor) = self.floors.get(&address)
                && version < floor
            {
                let detail = format!("version {version} is older than version {floor}, known to have been stored");
                self.find(FindingKind::Rollback, address, Some(path.clone()), detail, Action::Keep);
            }
            self.summary.nodes += 1;
            match &node {
                Node::Directory { .. } => self.summary.directories += 1,
                Node::File { nlink, size, .. } => {
                    self.summary.files += 1;
                    self.summary.bytes += size;
                    self.links.insert(address, (*nlink, path.clone()));
                    self.check_chunks(address, &node, &path).await?;
                }
                Node::Symlink { nlink, .. } => {
                    self.summary.symlinks += 1;
                    self.links.insert(address, (*nlink, path.clone()));
                }
                Node::Special { nlink, .. } => {
                    self.summary.specials += 1;
                    self.links.insert(address, (*nlink, path.clone()));
                }
            }
            self.note_names(address, &node, &path, &mut stack);
        }
        Ok(top_read)
    }

    /// Count what `node` names and queue its children.
    fn note_names(&mut self, address: Address, node: &Node, path: &str, stack: &mut Vec<(Address, String, Via)>) {
        match node {
            Node::Directory { entries, shards, .. } => {
                self.chunks.extend(shards.iter().map(|c| c.address));
                for (name, entry) in entries.iter().rev() {
                    *self.names.entry(entry.address).or_insert(0) += 1;
                    let child = if path.ends_with('/') { format!("{path}{name}") } else { format!("{path}/{name}") };
                    stack.push((entry.address, child, Some((address, name.clone()))));
                }
            }
            Node::File { chunks, patches, .. } => {
                self.chunks.extend(chunks.values().map(|c| c.address).chain(patches.iter().map(|p| p.address)))
            }
            Node::Symlink { .. } | Node::Special { .. } => {}
        }
    }

    /// Whether the entry `via` naming directory `address` (whose stored
    /// parent is `parent`) is a real name; a stale one is reported.
    fn check_parent(
        &mut self,
        address: Address,
        parent: Option<Address>,
        path: String,
        via: Via,
        report: bool,
    ) -> bool {
        let Some((dir, name)) = via else { return true };
        if parent.is_none_or(|p| p == dir) {
            return true;
        }
        if report {
            let detail = format!(
                "names directory {address}, whose parent is directory {} (a rename interrupted by a crash)",
                parent.map(|p| p.to_string()).unwrap_or_default()
            );
            self.find(
                FindingKind::Stale,
                address,
                Some(path),
                detail,
                Action::Unlink { dir, name, dispose: Dispose::Keep },
            );
        }
        false
    }

    /// Report an entry (or the top of a walk) naming an unusable node.
    fn report_entry(&mut self, address: Address, path: String, via: Via, problem: Problem, report: bool) {
        if !report {
            return;
        }
        let (kind, detail, dispose) = match problem {
            Problem::Missing => (FindingKind::Dangling, format!("names {address}, which is missing"), Dispose::Keep),
            Problem::Removed => (FindingKind::Dangling, format!("names {address}, which was removed"), Dispose::Keep),
            Problem::Unreadable(u) => (FindingKind::Unreadable, format!("{address}: {}", u.why), u.dispose),
        };
        let action = match via {
            // Keep an unlinked block of unknown format: unlink nothing either.
            Some((dir, name)) if kind == FindingKind::Dangling || dispose != Dispose::Keep => {
                Action::Unlink { dir, name, dispose }
            }
            _ => Action::Keep,
        };
        self.find(kind, address, Some(path), detail, action);
    }

    /// Fetch, validate and decrypt every chunk and patch of file `file`.
    async fn check_chunks(&mut self, file: Address, node: &Node, path: &str) -> Result<(), CheckError> {
        let Node::File { chunks, patches, .. } = node else { return Ok(()) };
        let count = patches.len();
        for (k, patch) in patches.iter().enumerate() {
            self.summary.patches += 1;
            let of = format!("patch {} of {count} ({})", k + 1, patch.address);
            let problem = content_problem(self.silo, patch.address, &of, |data| {
                let plain = seal::decrypt(&patch.key, data, &super::file::patch_aad(&file))
                    .map_err(|_| format!("{of} does not decrypt"))?;
                super::patch::decode(&plain, u64::MAX).map(|_| ()).map_err(|e| format!("{of}: {e}"))
            })
            .await?;
            if let Some((kind, detail, dispose)) = problem {
                let action = Action::DropPatch { file, dispose };
                self.find(kind, patch.address, Some(path.to_string()), detail, action);
            }
        }
        let total = chunks.len();
        for (&index, chunk) in chunks {
            self.summary.chunks += 1;
            let of = format!("chunk {index} of {total} ({})", chunk.address);
            let problem = content_problem(self.silo, chunk.address, &of, |data| {
                seal::decrypt(&chunk.key, data, &super::file::chunk_aad(&file, index))
                    .map(|_| ())
                    .map_err(|_| format!("{of} does not decrypt"))
            })
            .await?;
            if let Some((kind, detail, dispose)) = problem {
                let action = Action::Hole { file, index, dispose };
                self.find(kind, chunk.address, Some(path.to_string()), detail, action);
            }
        }
        Ok(())
    }

    /// Sort out every listed block the walk did not reach.
    async fn classify(&mut self, listed: &BTreeSet<Address>) -> Result<Loose, CheckError> {
        let mut loose = Loose { sole_owner: true, ..Loose::default() };
        for &address in listed {
            if self.visited.contains(&address) || self.chunks.contains(&address) {
                continue;
            }
            let Some(bytes) = get(self.silo, address).await? else { continue };
            let block = match Block::decode(&bytes).and_then(|b| b.validate_alone(&address).map(|()| b)) {
                Ok(block) => block,
                Err(e) => {
                    loose.unreadable.push((address, Unreadable { why: e.to_string(), dispose: undecodable(&e) }));
                    continue;
                }
            };
            match block {
                Block::Tombstone(t) => {
                    loose.tombstones += 1;
                    if t.signer == self.owner {
                        loose.our_tombstones.insert(address);
                    }
                }
                Block::Content(c) => loose.contents.push((address, c.owner, bytes.len() as u64)),
                Block::Acl(acl) if acl.owner == self.owner => match self.open(address, &acl).await? {
                    Ok(node) => {
                        loose.nodes.insert(address, node);
                    }
                    Err(Problem::Unreadable(u)) => loose.unreadable.push((address, u)),
                    Err(_) => {}
                },
                Block::Named(named) if named.owner == self.owner && named.name.starts_with(ROOT_PREFIX) => {
                    loose.other_roots.push(named.target);
                }
                Block::Acl(_) | Block::Named(_) => {
                    loose.foreign += 1;
                    loose.sole_owner = false;
                }
                Block::Mutable(_) | Block::User(_) | Block::Group(_) => loose.foreign += 1,
            }
        }
        Ok(loose)
    }

    /// Report readable nodes nothing names: the tops of orphaned trees are
    /// adopted (their trees walked as if under lost+found), removed files
    /// (link count 0) are leaks.
    async fn adopt_orphans(&mut self, mut nodes: BTreeMap<Address, (Node, u64)>) -> Result<(), CheckError> {
        nodes.retain(|a, _| !self.visited.contains(a));
        let named: HashSet<Address> = nodes
            .values()
            .filter_map(|(n, _)| match n {
                Node::Directory { entries, .. } => Some(entries.values().map(|e| e.address)),
                _ => None,
            })
            .flatten()
            .collect();
        // Tops first; what a cycle of orphans leaves behind is adopted after.
        let mut order: Vec<Address> = nodes.keys().filter(|a| !named.contains(a)).copied().collect();
        order.extend(nodes.keys().filter(|a| named.contains(a)).copied());
        for address in order {
            if self.visited.contains(&address) {
                continue;
            }
            let Some((node, version)) = nodes.get(&address) else { continue };
            let kind = node.kind();
            if let Node::File { nlink: 0, .. } | Node::Symlink { nlink: 0, .. } | Node::Special { nlink: 0, .. } = node
            {
                self.visited.insert(address);
                let detail = "the header of a removed file (link count 0)".to_string();
                self.find(FindingKind::Leaked, address, None, detail, Action::Dispose(Dispose::Bury(*version)));
                continue;
            }
            let what = match kind {
                NodeKind::Directory => "directory",
                NodeKind::File => "file",
                NodeKind::Symlink => "symbolic link",
                NodeKind::Fifo => "named pipe",
                NodeKind::Socket => "socket",
                NodeKind::CharDevice => "character device",
                NodeKind::BlockDevice => "block device",
            };
            let detail = format!("a {what} no directory names");
            let path = format!("/{LOST_AND_FOUND}/{}", address.to_hex());
            self.find(FindingKind::Orphan, address, None, detail, Action::Adopt { kind });
            *self.names.entry(address).or_insert(0) += 1;
            self.walk(address, path, None, true).await?;
        }
        Ok(())
    }

    /// Report content blocks of this volume that no header names.
    fn leaks(
        &mut self,
        contents: &[(Address, Option<Address>, u64)],
        listed: &BTreeSet<Address>,
        sole_owner: bool,
        our_tombstones: &HashSet<Address>,
    ) {
        for &(address, owner, size) in contents {
            if self.chunks.contains(&address) {
                continue;
            }
            let ours = match owner {
                // Visited blocks are this owner's nodes (or unusable ones a walk met).
                Some(o) if self.visited.contains(&o) || our_tombstones.contains(&o) => true,
                _ => sole_owner,
            };
            if !ours {
                self.summary.foreign += 1;
                continue;
            }
            let whose = match owner {
                Some(o) if our_tombstones.contains(&o) => format!(", of removed file {o}"),
                Some(o) if !listed.contains(&o) => format!(", of file {o}, never stored"),
                _ => String::new(),
            };
            let detail = format!("a content block of {size} bytes no file names{whose}");
            self.find(FindingKind::Leaked, address, None, detail, Action::Dispose(Dispose::Erase));
        }
    }

    /// Report files whose link count differs from the entries naming them.
    fn check_links(&mut self) {
        let links = std::mem::take(&mut self.links);
        for (address, (stored, path)) in links {
            let names = self.names.get(&address).copied().unwrap_or(0);
            if names != stored {
                let detail = format!("link count {stored}, but {names} entries name it");
                self.find(FindingKind::Nlink, address, Some(path), detail, Action::SetNlink { nlink: names });
            }
        }
    }
}
