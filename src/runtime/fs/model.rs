//! What the file system stores in its blocks: directories (entries and
//! metadata), files (metadata, inline data or a chunk table of encrypted
//! content blocks, and patches of small writes over it) and symlinks,
//! encoded with postcard behind a version byte.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::FsError;
use crate::runtime::block::Address;

/// Format version of encoded nodes: 6 has large directories stored in
/// shards.
pub(super) const NODE_FORMAT: u8 = 6;
/// Format 5: directories without shards.
const NODE_FORMAT_LEASE: u8 = 5;
/// Directories that name their parent, without leases, still read.
const NODE_FORMAT_PARENT: u8 = 4;
/// Patches of small writes, directories without a parent, still read.
const NODE_FORMAT_PATCHES: u8 = 3;
/// Sparse chunk tables without patches, still read.
const NODE_FORMAT_SPARSE: u8 = 2;
/// The first format: dense chunk tables, still read.
const NODE_FORMAT_DENSE: u8 = 1;

/// A point in time: seconds and nanoseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Time {
    /// Seconds since the epoch.
    pub secs: i64,
    /// Nanoseconds within the second.
    pub nanos: u32,
}

impl Time {
    /// The current time.
    pub fn now() -> Time {
        let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        Time { secs: d.as_secs() as i64, nanos: d.subsec_nanos() }
    }

    /// As a `SystemTime`.
    pub fn to_system(self) -> std::time::SystemTime {
        if self.secs >= 0 {
            std::time::UNIX_EPOCH + std::time::Duration::new(self.secs as u64, self.nanos)
        } else {
            std::time::UNIX_EPOCH - std::time::Duration::from_secs(self.secs.unsigned_abs())
        }
    }

    /// From a `SystemTime`.
    pub fn from_system(t: std::time::SystemTime) -> Time {
        match t.duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => Time { secs: d.as_secs() as i64, nanos: d.subsec_nanos() },
            Err(e) => Time { secs: -(e.duration().as_secs() as i64), nanos: 0 },
        }
    }
}

/// The kind of a file system node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NodeKind {
    /// A directory.
    Directory,
    /// A regular file.
    File,
    /// A symbolic link.
    Symlink,
    /// A named pipe (FIFO): the kernel serves it, the volume keeps its metadata.
    Fifo,
    /// A unix domain socket's name.
    Socket,
    /// A character device node.
    CharDevice,
    /// A block device node.
    BlockDevice,
}

impl NodeKind {
    /// A kind of node the kernel serves itself (pipes, sockets, devices).
    pub fn is_special(self) -> bool {
        matches!(self, NodeKind::Fifo | NodeKind::Socket | NodeKind::CharDevice | NodeKind::BlockDevice)
    }
}

/// Metadata every node has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    /// Permission bits (07777).
    pub mode: u32,
    /// Owner user id.
    pub uid: u32,
    /// Owner group id.
    pub gid: u32,
    /// Last access.
    pub atime: Time,
    /// Last content change.
    pub mtime: Time,
    /// Last metadata change.
    pub ctime: Time,
    /// Extended attributes.
    pub xattrs: BTreeMap<String, Vec<u8>>,
}

impl Meta {
    /// Fresh metadata with `mode`, owned by `uid:gid`, all times now.
    pub fn new(mode: u32, uid: u32, gid: u32) -> Meta {
        let now = Time::now();
        Meta { mode: mode & 0o7777, uid, gid, atime: now, mtime: now, ctime: now, xattrs: BTreeMap::new() }
    }
}

/// One directory entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The node's block.
    pub address: Address,
    /// The node's kind.
    pub kind: NodeKind,
}

/// One chunk of file content: an immutable content block and its key
/// (never shown by `Debug`).
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chunk {
    /// The content block holding the encrypted chunk.
    pub address: Address,
    /// The chunk's encryption key (XChaCha20-Poly1305).
    pub key: [u8; 32],
}

impl std::fmt::Debug for Chunk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chunk").field("address", &self.address).field("key", &"<redacted>").finish()
    }
}

/// Small writes stored since the chunks they fall in were last rewritten:
/// an immutable content block of extents (see [`super::patch`]), laid over
/// the chunks it lists, after the patches before it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Patch {
    /// The content block holding the encrypted extents.
    pub address: Address,
    /// The patch's encryption key (XChaCha20-Poly1305).
    pub key: [u8; 32],
    /// The chunks it still applies to, ascending: a chunk rewritten since
    /// (it holds the patch's bytes, or newer ones) is no longer listed.
    pub chunks: Vec<u64>,
    /// Bytes of data its extents hold, less what folds took out of it
    /// since (a chunk rewritten by a whole-chunk write leaves its bytes
    /// counted): what the compaction policy weighs.
    pub bytes: u64,
}

impl std::fmt::Debug for Patch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Patch")
            .field("address", &self.address)
            .field("key", &"<redacted>")
            .field("chunks", &self.chunks)
            .field("bytes", &self.bytes)
            .finish()
    }
}

/// A writer's claim on a directory's names, on a network: while it holds,
/// only the holder changes the entries, so the holder answers namespace
/// operations at once and stores them behind, as on one node; any other
/// writer asks for it (`wanted`) and waits until the holder gives it up or
/// it runs out. See `super::lease` for the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// The mount holding it (a random identifier per mount).
    pub holder: [u8; 16],
    /// When it runs out, in milliseconds since the Unix epoch, by the
    /// holder's clock.
    pub until_ms: u64,
    /// Another writer asked for the directory: the holder gives the lease
    /// up with its next store of the directory and takes no new one soon.
    pub wanted: bool,
}

/// A node as stored in its access-controlled block. Its `Debug` shows the
/// length of inline content, not the content.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Node {
    /// A directory.
    Directory {
        /// Metadata.
        meta: Meta,
        /// Entries by name.
        entries: BTreeMap<String, Entry>,
        /// The directory whose entry names this one (`..`); `None` for the
        /// root and for directories of format 3 and before. A rename across
        /// directories stores the new entry, then this, then removes the
        /// old entry: this is its commit point, and an entry naming a
        /// directory whose parent is another directory is a stale leftover
        /// of a crashed rename (see [`Node::names_as_parent`]).
        parent: Option<Address>,
        /// The writer that alone may change the entries for now, if any
        /// (on a network; see [`Lease`]).
        lease: Option<Lease>,
        /// Where the entries of a large directory are stored: empty for a
        /// directory whose block holds its entries; else one content block
        /// per shard (`super::shard`), the block holding none. In memory,
        /// `entries` holds every entry either way and this lists the
        /// shards of the stored version.
        shards: Vec<Chunk>,
    },
    /// A regular file.
    File {
        /// Metadata.
        meta: Meta,
        /// Number of directory entries naming this file.
        nlink: u32,
        /// Size in bytes.
        size: u64,
        /// Content of small files, stored in the header itself.
        inline: Vec<u8>,
        /// Content blocks of `block_size` bytes each, by index; a missing
        /// index is a hole (so a huge sparse file costs nothing).
        chunks: BTreeMap<u64, Chunk>,
        /// Small writes laid over the chunks, oldest first.
        patches: Vec<Patch>,
    },
    /// A symbolic link.
    Symlink {
        /// Metadata.
        meta: Meta,
        /// Number of directory entries naming this link.
        nlink: u32,
        /// The target path.
        target: Vec<u8>,
    },
    /// A FIFO, socket or device node: only metadata (appended last, so
    /// format 2 nodes written before it still decode).
    Special {
        /// Metadata.
        meta: Meta,
        /// Number of directory entries naming this node.
        nlink: u32,
        /// Which of the special kinds ([`NodeKind::is_special`]).
        kind: NodeKind,
        /// The device number of a device node (0 otherwise).
        rdev: u64,
    },
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Node::Directory { meta, entries, parent, lease, shards } => f
                .debug_struct("Directory")
                .field("meta", meta)
                .field("entries", entries)
                .field("parent", parent)
                .field("lease", lease)
                .field("shards", shards)
                .finish(),
            Node::File { meta, nlink, size, inline, chunks, patches } => f
                .debug_struct("File")
                .field("meta", meta)
                .field("nlink", nlink)
                .field("size", size)
                .field("inline", &format_args!("<{} bytes>", inline.len()))
                .field("chunks", chunks)
                .field("patches", patches)
                .finish(),
            Node::Symlink { meta, nlink, target } => f
                .debug_struct("Symlink")
                .field("meta", meta)
                .field("nlink", nlink)
                .field("target", &String::from_utf8_lossy(target))
                .finish(),
            Node::Special { meta, nlink, kind, rdev } => f
                .debug_struct("Special")
                .field("meta", meta)
                .field("nlink", nlink)
                .field("kind", kind)
                .field("rdev", rdev)
                .finish(),
        }
    }
}

impl Node {
    /// The node's kind.
    pub fn kind(&self) -> NodeKind {
        match self {
            Node::Directory { .. } => NodeKind::Directory,
            Node::File { .. } => NodeKind::File,
            Node::Symlink { .. } => NodeKind::Symlink,
            Node::Special { kind, .. } => *kind,
        }
    }

    /// Whether an entry in directory `dir` naming this node is a real name:
    /// always, but for a directory whose stored parent is another directory
    /// (what a rename interrupted by a crash leaves behind).
    pub fn names_as_parent(&self, dir: Address) -> bool {
        match self {
            Node::Directory { parent: Some(parent), .. } => *parent == dir,
            _ => true,
        }
    }

    /// The node's metadata.
    pub fn meta(&self) -> &Meta {
        match self {
            Node::Directory { meta, .. }
            | Node::File { meta, .. }
            | Node::Symlink { meta, .. }
            | Node::Special { meta, .. } => meta,
        }
    }

    /// The node's metadata, mutably.
    pub fn meta_mut(&mut self) -> &mut Meta {
        match self {
            Node::Directory { meta, .. }
            | Node::File { meta, .. }
            | Node::Symlink { meta, .. }
            | Node::Special { meta, .. } => meta,
        }
    }

    /// Encode with the format byte.
    pub fn encode(&self) -> Result<Vec<u8>, FsError> {
        let mut out = vec![NODE_FORMAT];
        let body = postcard::to_stdvec(self).map_err(|e| FsError::Corrupt(format!("cannot encode node: {e}")))?;
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Decode, refusing unknown formats and trailing bytes.
    pub fn decode(bytes: &[u8]) -> Result<Node, FsError> {
        match bytes.split_first() {
            Some((&NODE_FORMAT, body)) => decode_whole(body),
            Some((&NODE_FORMAT_LEASE, body)) => Ok(decode_whole::<LeasedNode>(body)?.into()),
            Some((&NODE_FORMAT_PARENT, body)) => Ok(decode_whole::<ParentNode>(body)?.into()),
            Some((&NODE_FORMAT_PATCHES, body)) => Ok(decode_whole::<PatchedNode>(body)?.into()),
            Some((&NODE_FORMAT_SPARSE, body)) => Ok(decode_whole::<SparseNode>(body)?.into()),
            Some((&NODE_FORMAT_DENSE, body)) => Ok(decode_whole::<DenseNode>(body)?.into()),
            Some((v, _)) => Err(FsError::Corrupt(format!("unknown node format {v}"))),
            None => Err(FsError::Corrupt("empty node".into())),
        }
    }
}

/// `body` decoded as a `T`, refusing trailing bytes.
fn decode_whole<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, FsError> {
    let (node, rest) =
        postcard::take_from_bytes(body).map_err(|e| FsError::Corrupt(format!("undecodable node: {e}")))?;
    if !rest.is_empty() {
        return Err(FsError::Corrupt("trailing bytes after node".into()));
    }
    Ok(node)
}

/// A node of format 5: directories without shards.
#[derive(Deserialize)]
enum LeasedNode {
    Directory { meta: Meta, entries: BTreeMap<String, Entry>, parent: Option<Address>, lease: Option<Lease> },
    File { meta: Meta, nlink: u32, size: u64, inline: Vec<u8>, chunks: BTreeMap<u64, Chunk>, patches: Vec<Patch> },
    Symlink { meta: Meta, nlink: u32, target: Vec<u8> },
    Special { meta: Meta, nlink: u32, kind: NodeKind, rdev: u64 },
}

impl From<LeasedNode> for Node {
    fn from(node: LeasedNode) -> Node {
        match node {
            LeasedNode::Directory { meta, entries, parent, lease } => {
                Node::Directory { meta, entries, parent, lease, shards: Vec::new() }
            }
            LeasedNode::File { meta, nlink, size, inline, chunks, patches } => {
                Node::File { meta, nlink, size, inline, chunks, patches }
            }
            LeasedNode::Symlink { meta, nlink, target } => Node::Symlink { meta, nlink, target },
            LeasedNode::Special { meta, nlink, kind, rdev } => Node::Special { meta, nlink, kind, rdev },
        }
    }
}

/// A node of format 4: directories without a lease.
#[derive(Deserialize)]
enum ParentNode {
    Directory { meta: Meta, entries: BTreeMap<String, Entry>, parent: Option<Address> },
    File { meta: Meta, nlink: u32, size: u64, inline: Vec<u8>, chunks: BTreeMap<u64, Chunk>, patches: Vec<Patch> },
    Symlink { meta: Meta, nlink: u32, target: Vec<u8> },
    Special { meta: Meta, nlink: u32, kind: NodeKind, rdev: u64 },
}

impl From<ParentNode> for Node {
    fn from(node: ParentNode) -> Node {
        match node {
            ParentNode::Directory { meta, entries, parent } => {
                Node::Directory { meta, entries, parent, lease: None, shards: Vec::new() }
            }
            ParentNode::File { meta, nlink, size, inline, chunks, patches } => {
                Node::File { meta, nlink, size, inline, chunks, patches }
            }
            ParentNode::Symlink { meta, nlink, target } => Node::Symlink { meta, nlink, target },
            ParentNode::Special { meta, nlink, kind, rdev } => Node::Special { meta, nlink, kind, rdev },
        }
    }
}

/// A node of format 3: directories without a parent.
#[derive(Deserialize)]
enum PatchedNode {
    Directory { meta: Meta, entries: BTreeMap<String, Entry> },
    File { meta: Meta, nlink: u32, size: u64, inline: Vec<u8>, chunks: BTreeMap<u64, Chunk>, patches: Vec<Patch> },
    Symlink { meta: Meta, nlink: u32, target: Vec<u8> },
    Special { meta: Meta, nlink: u32, kind: NodeKind, rdev: u64 },
}

impl From<PatchedNode> for Node {
    fn from(node: PatchedNode) -> Node {
        match node {
            PatchedNode::Directory { meta, entries } => {
                Node::Directory { meta, entries, parent: None, lease: None, shards: Vec::new() }
            }
            PatchedNode::File { meta, nlink, size, inline, chunks, patches } => {
                Node::File { meta, nlink, size, inline, chunks, patches }
            }
            PatchedNode::Symlink { meta, nlink, target } => Node::Symlink { meta, nlink, target },
            PatchedNode::Special { meta, nlink, kind, rdev } => Node::Special { meta, nlink, kind, rdev },
        }
    }
}

/// A node of format 2: sparse chunk tables, no patches.
#[derive(Deserialize)]
enum SparseNode {
    Directory { meta: Meta, entries: BTreeMap<String, Entry> },
    File { meta: Meta, nlink: u32, size: u64, inline: Vec<u8>, chunks: BTreeMap<u64, Chunk> },
    Symlink { meta: Meta, nlink: u32, target: Vec<u8> },
}

impl From<SparseNode> for Node {
    fn from(node: SparseNode) -> Node {
        match node {
            SparseNode::Directory { meta, entries } => {
                Node::Directory { meta, entries, parent: None, lease: None, shards: Vec::new() }
            }
            SparseNode::File { meta, nlink, size, inline, chunks } => {
                Node::File { meta, nlink, size, inline, chunks, patches: Vec::new() }
            }
            SparseNode::Symlink { meta, nlink, target } => Node::Symlink { meta, nlink, target },
        }
    }
}

/// A node of format 1, whose chunk table was dense.
#[derive(Deserialize)]
enum DenseNode {
    Directory { meta: Meta, entries: BTreeMap<String, Entry> },
    File { meta: Meta, nlink: u32, size: u64, inline: Vec<u8>, chunks: Vec<Option<Chunk>> },
    Symlink { meta: Meta, nlink: u32, target: Vec<u8> },
}

impl From<DenseNode> for Node {
    fn from(node: DenseNode) -> Node {
        match node {
            DenseNode::Directory { meta, entries } => {
                Node::Directory { meta, entries, parent: None, lease: None, shards: Vec::new() }
            }
            DenseNode::File { meta, nlink, size, inline, chunks } => {
                let chunks = chunks.into_iter().enumerate().filter_map(|(i, c)| c.map(|c| (i as u64, c))).collect();
                Node::File { meta, nlink, size, inline, chunks, patches: Vec::new() }
            }
            DenseNode::Symlink { meta, nlink, target } => Node::Symlink { meta, nlink, target },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_neither_chunk_keys_nor_inline_content() {
        let key = [0x5a; 32];
        let chunk = Chunk { address: Address([1; 32]), key };
        let node = Node::File {
            meta: Meta::new(0o644, 0, 0),
            nlink: 1,
            size: 12,
            inline: b"INLINE-PLAIN".to_vec(),
            chunks: BTreeMap::from([(0, chunk)]),
            patches: vec![Patch { address: Address([2; 32]), key, chunks: vec![0], bytes: 3 }],
        };
        let shown = format!("{chunk:?} {node:?} {node:#?}");
        assert!(!shown.contains("INLINE-PLAIN") && !shown.contains("73, 78, 76"), "{shown}");
        assert!(!shown.contains(&format!("{:?}", key)) && !shown.contains("90, 90"), "{shown}");
        assert!(shown.contains("<redacted>") && shown.contains("<12 bytes>"), "{shown}");
    }

    #[test]
    fn nodes_round_trip_and_garbage_is_refused() {
        let mut entries = BTreeMap::new();
        entries.insert("a".to_string(), Entry { address: Address([3; 32]), kind: NodeKind::File });
        let node = Node::Directory {
            meta: Meta::new(0o755, 1, 2),
            entries,
            parent: Some(Address([9; 32])),
            lease: None,
            shards: Vec::new(),
        };
        let bytes = node.encode().unwrap();
        assert_eq!(Node::decode(&bytes).unwrap(), node);
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(Node::decode(&trailing).is_err());
        let mut version = bytes;
        version[0] = 9;
        assert!(Node::decode(&version).is_err());
    }

    #[test]
    fn files_of_format_2_decode_without_patches_and_format_3_keeps_them() {
        #[derive(Serialize)]
        enum V2 {
            #[allow(dead_code)]
            Directory {
                meta: Meta,
                entries: BTreeMap<String, Entry>,
            },
            File {
                meta: Meta,
                nlink: u32,
                size: u64,
                inline: Vec<u8>,
                chunks: BTreeMap<u64, Chunk>,
            },
        }
        let chunks: BTreeMap<u64, Chunk> = [(4, Chunk { address: Address([4; 32]), key: [5; 32] })].into();
        let meta = Meta::new(0o644, 1, 2);
        let old = V2::File { meta: meta.clone(), nlink: 1, size: 5 << 20, inline: Vec::new(), chunks: chunks.clone() };
        let mut bytes = vec![NODE_FORMAT_SPARSE];
        bytes.extend(postcard::to_stdvec(&old).unwrap());
        let node = Node::decode(&bytes).unwrap();
        let expected = Node::File { meta, nlink: 1, size: 5 << 20, inline: Vec::new(), chunks, patches: Vec::new() };
        assert_eq!(node, expected);
        let Node::File { meta, nlink, size, inline, chunks, .. } = expected else { unreachable!() };
        let patch = Patch { address: Address([6; 32]), key: [7; 32], chunks: vec![1, 4], bytes: 12 };
        let patched = Node::File { meta, nlink, size, inline, chunks, patches: vec![patch] };
        let encoded = patched.encode().unwrap();
        assert_eq!(encoded[0], NODE_FORMAT);
        assert_eq!(Node::decode(&encoded).unwrap(), patched);
    }

    #[test]
    fn directories_of_format_3_decode_without_a_parent_and_accept_any_entry() {
        #[derive(Serialize)]
        enum V3 {
            Directory { meta: Meta, entries: BTreeMap<String, Entry> },
        }
        let entries: BTreeMap<String, Entry> =
            [("x".to_string(), Entry { address: Address([1; 32]), kind: NodeKind::File })].into();
        let meta = Meta::new(0o755, 1, 2);
        let mut bytes = vec![NODE_FORMAT_PATCHES];
        bytes.extend(postcard::to_stdvec(&V3::Directory { meta: meta.clone(), entries: entries.clone() }).unwrap());
        let node = Node::decode(&bytes).unwrap();
        assert_eq!(
            node,
            Node::Directory {
                meta: meta.clone(),
                entries: entries.clone(),
                parent: None,
                lease: None,
                shards: Vec::new()
            }
        );
        assert!(node.names_as_parent(Address([7; 32])), "a directory of unknown parent is named by any entry");
        let moved = Node::Directory { meta, entries, parent: Some(Address([8; 32])), lease: None, shards: Vec::new() };
        assert!(moved.names_as_parent(Address([8; 32])));
        assert!(!moved.names_as_parent(Address([7; 32])), "an entry in another directory is stale");
        assert_eq!(Node::decode(&moved.encode().unwrap()).unwrap(), moved);
    }

    #[test]
    fn directories_of_format_4_decode_without_a_lease_and_leases_round_trip() {
        #[derive(Serialize)]
        enum V4 {
            Directory { meta: Meta, entries: BTreeMap<String, Entry>, parent: Option<Address> },
        }
        let entries: BTreeMap<String, Entry> =
            [("y".to_string(), Entry { address: Address([2; 32]), kind: NodeKind::Directory })].into();
        let meta = Meta::new(0o700, 3, 4);
        let parent = Some(Address([5; 32]));
        let mut bytes = vec![NODE_FORMAT_PARENT];
        let old = V4::Directory { meta: meta.clone(), entries: entries.clone(), parent };
        bytes.extend(postcard::to_stdvec(&old).unwrap());
        let node = Node::decode(&bytes).unwrap();
        assert_eq!(
            node,
            Node::Directory { meta: meta.clone(), entries: entries.clone(), parent, lease: None, shards: Vec::new() }
        );
        let lease = Some(Lease { holder: [6; 16], until_ms: 1_800_000_000_000, wanted: true });
        let leased = Node::Directory { meta, entries, parent, lease, shards: Vec::new() };
        let encoded = leased.encode().unwrap();
        assert_eq!(encoded[0], NODE_FORMAT);
        assert_eq!(Node::decode(&encoded).unwrap(), leased);
    }

    #[test]
    fn directories_of_format_5_decode_unsharded_and_shards_round_trip() {
        #[derive(Serialize)]
        enum V5 {
            Directory { meta: Meta, entries: BTreeMap<String, Entry>, parent: Option<Address>, lease: Option<Lease> },
        }
        let entries: BTreeMap<String, Entry> =
            [("z".to_string(), Entry { address: Address([3; 32]), kind: NodeKind::File })].into();
        let meta = Meta::new(0o750, 5, 6);
        let (parent, lease) = (Some(Address([4; 32])), Some(Lease { holder: [1; 16], until_ms: 9, wanted: false }));
        let mut bytes = vec![NODE_FORMAT_LEASE];
        let old = V5::Directory { meta: meta.clone(), entries: entries.clone(), parent, lease };
        bytes.extend(postcard::to_stdvec(&old).unwrap());
        let node = Node::decode(&bytes).unwrap();
        let unsharded = Node::Directory { meta: meta.clone(), entries, parent, lease, shards: Vec::new() };
        assert_eq!(node, unsharded);
        let shards =
            vec![Chunk { address: Address([7; 32]), key: [8; 32] }, Chunk { address: Address([9; 32]), key: [1; 32] }];
        let sharded = Node::Directory { meta, entries: BTreeMap::new(), parent, lease, shards };
        let encoded = sharded.encode().unwrap();
        assert_eq!(encoded[0], NODE_FORMAT);
        assert_eq!(Node::decode(&encoded).unwrap(), sharded);
    }
}
