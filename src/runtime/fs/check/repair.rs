//! Carrying out the remedies of a [`Report`]: each directory and header is
//! rewritten once, at its next version, with all of its changes; orphans
//! are linked into `/lost+found` first (created if missing), then entries
//! are unlinked and headers fixed, and only then are blocks removed, so a
//! crash midway never leaves an entry naming a block this removed.

use std::collections::{BTreeMap, HashMap};

use super::{Action, CheckError, Dispose, LOST_AND_FOUND, Report, get};
use crate::crypto::KeyPair;
use crate::runtime::block::{AccessList, AclBlock, Address, Block, Tombstone};
use crate::runtime::fs::model::{Entry, Meta, Node, NodeKind, Time};
use crate::runtime::fs::shard;
use crate::runtime::silo::{SetMode, Silo, SiloError};

/// What a repair did.
#[derive(Debug, Clone, Default)]
pub struct RepairReport {
    /// Findings repaired.
    pub repaired: usize,
    /// Findings that could not be, by index in the report, and why.
    pub failed: BTreeMap<usize, String>,
    /// The lost+found directory was created.
    pub created_lost_and_found: bool,
}

/// Per finding: `None` if it has no remedy, else what its repair gave.
type Outcomes = Vec<Option<Result<(), String>>>;

/// Changes to one directory.
#[derive(Debug, Default)]
struct DirChange {
    /// Entries to remove if they still name the address, with their finding.
    unlink: Vec<(String, Address, usize)>,
    /// Entries to add, with their finding (none for lost+found itself).
    link: Vec<(String, Entry, Option<usize>)>,
}

/// Changes to one file header.
#[derive(Debug, Default)]
struct HeaderChange {
    /// Chunks to make holes if they still name the address.
    holes: Vec<(u64, Address, usize)>,
    /// Patches to drop.
    patches: Vec<(Address, usize)>,
    nlink: Option<(u32, usize)>,
}

/// Apply the remedies of `report` (from [`super::check`] on the same
/// silo, with nothing written since) as the volume owner `keys`.
pub async fn repair(silo: &dyn Silo, keys: &KeyPair, report: &Report) -> Result<RepairReport, CheckError> {
    let mut outcomes: Outcomes = report.findings.iter().map(|_| None).collect();
    let mut dirs: BTreeMap<Address, DirChange> = BTreeMap::new();
    let mut headers: BTreeMap<Address, HeaderChange> = BTreeMap::new();
    let mut disposals: BTreeMap<Address, (Dispose, Vec<usize>)> = BTreeMap::new();
    let mut adoptions: Vec<(String, Entry, usize)> = Vec::new();
    let mut dispose = |address: Address, how: Dispose, index: usize| {
        if how != Dispose::Keep {
            disposals.entry(address).or_insert((how, Vec::new())).1.push(index);
        }
    };
    for (i, finding) in report.findings.iter().enumerate() {
        let address = finding.address;
        match &finding.action {
            Action::Keep => continue,
            Action::Unlink { dir, name, dispose: how } => {
                dirs.entry(*dir).or_default().unlink.push((name.clone(), address, i));
                dispose(address, *how, i);
            }
            Action::Hole { file, index, dispose: how } => {
                headers.entry(*file).or_default().holes.push((*index, address, i));
                dispose(address, *how, i);
            }
            Action::DropPatch { file, dispose: how } => {
                headers.entry(*file).or_default().patches.push((address, i));
                dispose(address, *how, i);
            }
            Action::SetNlink { nlink } => headers.entry(address).or_default().nlink = Some((*nlink, i)),
            Action::Adopt { kind } => adoptions.push((address.to_hex(), Entry { address, kind: *kind }, i)),
            Action::Dispose(how) => dispose(address, *how, i),
        }
        outcomes[i] = Some(Ok(()));
    }
    let mut result = RepairReport::default();

    // Adopted directories then name lost+found as their parent.
    let mut reparent: Vec<(Address, Address, usize)> = Vec::new();
    if !adoptions.is_empty() {
        let adopted_dirs = |lost: Address| {
            adoptions
                .iter()
                .filter(|(_, e, _)| e.kind == NodeKind::Directory)
                .map(move |(_, e, i)| (e.address, lost, *i))
        };
        match lost_and_found(silo, report.root, keys).await {
            Ok(Some(existing)) => {
                reparent.extend(adopted_dirs(existing));
                dirs.entry(existing)
                    .or_default()
                    .link
                    .extend(adoptions.iter().map(|(n, e, i)| (n.clone(), *e, Some(*i))));
            }
            Ok(None) => {
                let entries = adoptions.iter().map(|(n, e, _)| (n.clone(), *e)).collect();
                let node = Node::Directory {
                    meta: Meta::new(0o700, 0, 0),
                    entries,
                    parent: Some(report.root),
                    lease: None,
                    shards: Vec::new(),
                };
                match create(silo, keys, &node).await {
                    Ok(address) => {
                        reparent.extend(adopted_dirs(address));
                        result.created_lost_and_found = true;
                        let entry = Entry { address, kind: NodeKind::Directory };
                        dirs.entry(report.root).or_default().link.push((LOST_AND_FOUND.to_string(), entry, None));
                    }
                    Err(why) => fail(&mut outcomes, adoptions.iter().map(|a| a.2), &why),
                }
            }
            Err(why) => fail(&mut outcomes, adoptions.iter().map(|a| a.2), &why),
        }
    }

    for (dir, change) in dirs {
        let mut items: HashMap<usize, Result<(), String>> = HashMap::new();
        let rewritten = rewrite(silo, keys, dir, |node| {
            let Node::Directory { entries, meta, .. } = node else {
                return Err("no longer a directory".to_string());
            };
            for (name, target, i) in &change.unlink {
                let item = match entries.get(name) {
                    Some(e) if e.address == *target => {
                        entries.remove(name);
                        Ok(())
                    }
                    _ => Err(format!("entry {name:?} changed")),
                };
                items.insert(*i, item);
            }
            for (name, entry, i) in &change.link {
                let item = match entries.get(name) {
                    None => {
                        entries.insert(name.clone(), *entry);
                        Ok(())
                    }
                    Some(e) if e.address == entry.address => Ok(()),
                    Some(_) => Err(format!("name {name:?} is taken")),
                };
                if let Some(i) = i {
                    items.insert(*i, item);
                }
            }
            let now = Time::now();
            meta.mtime = now;
            meta.ctime = now;
            Ok(())
        })
        .await;
        let all = change.unlink.iter().map(|u| u.2).chain(change.link.iter().filter_map(|l| l.2));
        match rewritten {
            Ok(()) => {
                for (i, item) in items {
                    if let Err(why) = item {
                        fail(&mut outcomes, [i], &why);
                    }
                }
            }
            Err(why) => fail(&mut outcomes, all, &format!("directory {dir}: {why}")),
        }
    }

    for (dir, lost, i) in reparent {
        if matches!(outcomes[i], Some(Err(_))) {
            continue;
        }
        let rewritten = rewrite(silo, keys, dir, |node| match node {
            Node::Directory { parent, meta, .. } => {
                *parent = Some(lost);
                meta.ctime = Time::now();
                Ok(())
            }
            _ => Err("no longer a directory".to_string()),
        })
        .await;
        if let Err(why) = rewritten {
            fail(&mut outcomes, [i], &format!("directory {dir}: {why}"));
        }
    }

    for (file, change) in headers {
        let mut items: HashMap<usize, Result<(), String>> = HashMap::new();
        let rewritten = rewrite(silo, keys, file, |node| {
            let (Node::File { nlink, meta, .. }
            | Node::Symlink { nlink, meta, .. }
            | Node::Special { nlink, meta, .. }) = node
            else {
                return Err("no longer a file".to_string());
            };
            if let Some((count, i)) = change.nlink {
                *nlink = count;
                meta.ctime = Time::now();
                items.insert(i, Ok(()));
            }
            if let Node::File { chunks, patches, .. } = node {
                for (address, i) in &change.patches {
                    let before = patches.len();
                    patches.retain(|p| p.address != *address);
                    let item = if patches.len() < before { Ok(()) } else { Err(format!("patch {address} changed")) };
                    items.insert(*i, item);
                }
                for (index, address, i) in &change.holes {
                    let item = match chunks.get(index) {
                        Some(c) if c.address == *address => {
                            chunks.remove(index);
                            Ok(())
                        }
                        _ => Err(format!("chunk {index} changed")),
                    };
                    items.insert(*i, item);
                }
            }
            Ok(())
        })
        .await;
        let all =
            change.holes.iter().map(|h| h.2).chain(change.patches.iter().map(|p| p.1)).chain(change.nlink.map(|n| n.1));
        match rewritten {
            Ok(()) => {
                for (i, item) in items {
                    if let Err(why) = item {
                        fail(&mut outcomes, [i], &why);
                    }
                }
            }
            Err(why) => fail(&mut outcomes, all, &format!("file {file}: {why}")),
        }
    }

    for (address, (how, findings)) in disposals {
        // Remove only what no longer has a name: every finding that unlinked it succeeded.
        if findings.iter().any(|&i| matches!(outcomes[i], Some(Err(_)))) {
            continue;
        }
        if let Err(why) = remove(silo, keys, address, how).await {
            fail(&mut outcomes, findings, &format!("removing {address}: {why}"));
        }
    }
    silo.sync().await.map_err(|source| CheckError::Silo { silo: silo.name().to_string(), source })?;

    for (i, outcome) in outcomes.into_iter().enumerate() {
        match outcome {
            Some(Ok(())) => result.repaired += 1,
            Some(Err(why)) => {
                result.failed.insert(i, why);
            }
            None => {}
        }
    }
    Ok(result)
}

/// Mark findings `which` as not repaired.
fn fail(outcomes: &mut Outcomes, which: impl IntoIterator<Item = usize>, why: &str) {
    for i in which {
        if let Some(slot) = outcomes.get_mut(i)
            && !matches!(slot, Some(Err(_)))
        {
            *slot = Some(Err(why.to_string()));
        }
    }
}

/// The current version of the node at `address` and the node.
async fn load(silo: &dyn Silo, keys: &KeyPair, address: Address) -> Result<(AclBlock, Node), String> {
    let bytes = get(silo, address).await.map_err(|e| e.to_string())?.ok_or("missing")?;
    let block = Block::decode(&bytes).map_err(|e| e.to_string())?;
    block.validate_alone(&address).map_err(|e| e.to_string())?;
    let Block::Acl(acl) = block else { return Err(format!("a {}, not a node", block.kind())) };
    let mut node = Node::decode(&acl.read(keys).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    super::read_shards(silo, address, &mut node).await.map_err(|e| e.to_string())??;
    Ok((acl, node))
}

/// The existing lost+found directory, `None` if there is none yet.
async fn lost_and_found(silo: &dyn Silo, root: Address, keys: &KeyPair) -> Result<Option<Address>, String> {
    let (_, node) = load(silo, keys, root).await.map_err(|why| format!("root directory: {why}"))?;
    let Node::Directory { entries, .. } = node else { return Err("the root is not a directory".into()) };
    match entries.get(LOST_AND_FOUND) {
        None => Ok(None),
        Some(e) if e.kind == NodeKind::Directory => Ok(Some(e.address)),
        Some(_) => Err(format!("/{LOST_AND_FOUND} is not a directory")),
    }
}

/// Store `block` at its address over `previous`, checked as a node would.
async fn store(silo: &dyn Silo, block: Block, previous: Option<&Block>) -> Result<(), String> {
    let address = block.address();
    block.validate(&address, previous).map_err(|e| e.to_string())?;
    let bytes = block.encode().map_err(|e| e.to_string())?;
    let mode = if previous.is_some() { SetMode::Update } else { SetMode::Insert };
    silo.set(address, bytes, mode).await.map_err(|e| e.to_string())
}

/// Store a new node; its address.
async fn create(silo: &dyn Silo, keys: &KeyPair, node: &Node) -> Result<Address, String> {
    let encoded = node.encode().map_err(|e| e.to_string())?;
    let block = AclBlock::create(keys, AccessList::default(), &encoded).map_err(|e| e.to_string())?;
    let address = block.address();
    store(silo, Block::Acl(block), None).await?;
    Ok(address)
}

/// Apply `change` to the node at `address` and store its next version.
pub(super) async fn rewrite(
    silo: &dyn Silo,
    keys: &KeyPair,
    address: Address,
    change: impl FnOnce(&mut Node) -> Result<(), String>,
) -> Result<(), String> {
    let (current, mut node) = load(silo, keys, address).await?;
    change(&mut node)?;
    let old = reshard(silo, address, &mut node).await?;
    let next = current.write(keys, &node.encode().map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    store(silo, Block::Acl(next), Some(&Block::Acl(current))).await?;
    for shard in old {
        // (As repair removes any content block no header names.)
        remove(silo, keys, shard, Dispose::Erase).await?;
    }
    Ok(())
}

/// Store the entries of directory `node` (at `dir`) in new shards if it
/// is to be sharded, naming them in `node`; the shards it named before,
/// which the new version does not.
async fn reshard(silo: &dyn Silo, dir: Address, node: &mut Node) -> Result<Vec<Address>, String> {
    let Node::Directory { entries, shards, .. } = node else { return Ok(Vec::new()) };
    let old: Vec<Address> = shards.iter().map(|c| c.address).collect();
    let count = shard::Policy::default().count(entries.len(), old.len());
    let mut list = Vec::with_capacity(count);
    if count > 0 {
        for (index, group) in shard::split(entries, count).iter().enumerate() {
            let plain = shard::encode(group).map_err(|e| e.to_string())?;
            let (block, chunk) = shard::seal(dir, index, count, &plain).map_err(|e| e.to_string())?;
            store(silo, Block::Content(block), None).await?;
            list.push(chunk);
        }
        entries.clear();
    }
    *shards = list;
    Ok(old)
}

/// Remove the block at `address` as `how` says.
async fn remove(silo: &dyn Silo, keys: &KeyPair, address: Address, how: Dispose) -> Result<(), String> {
    match how {
        Dispose::Keep => Ok(()),
        Dispose::Erase => match silo.erase(address).await {
            Ok(()) | Err(SiloError::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.to_string()),
        },
        Dispose::Bury(version) => {
            let Some(bytes) = get(silo, address).await.map_err(|e| e.to_string())? else { return Ok(()) };
            let current = Block::decode(&bytes).map_err(|e| e.to_string())?;
            if let Block::Tombstone(_) = current {
                return Ok(());
            }
            if current.version() != version {
                return Err(format!("now at version {}, not {version}", current.version()));
            }
            let tombstone = Tombstone::for_block(keys, &current).map_err(|e| e.to_string())?;
            store(silo, Block::Tombstone(tombstone), Some(&current)).await
        }
    }
}
