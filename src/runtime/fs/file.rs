//! File content: reads and writes through per-file buffers. A write that
//! covers a whole chunk replaces it: the chunk is encrypted and stored as an
//! immutable content block at once, in the background. A smaller write is
//! kept as an extent without fetching the chunk, and a flush (fsync,
//! release, truncate) stores the file's extents as one patch block
//! ([`super::patch`]) and records the header (size, chunk table, patches,
//! or inline data for small files); compaction rewrites dense chunks from
//! time to time, in the background on a mounted volume (the flusher runs
//! the compactor; a flush compacts itself only past twice the bounds).
//! Replaced chunks and patches are removed once the new header no longer
//! references them, so nothing leaks.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use super::intent::Intent;
use super::model::{Chunk, Node, Patch, Time};
use super::patch::{self, Extents, FileExtents};
use super::{FileSystem, FsError, FsResult, lock};
use crate::crypto::{random_bytes, seal};
use crate::runtime::block::{Address, Block, ContentBlock};
use crate::runtime::consensus::{Expect, Fetched, ReadLevel};

/// Files up to this size keep their content inside their header block.
pub const INLINE_MAX: u64 = 64 * 1024;
/// Decrypted chunks kept for sequential reads.
const CHUNK_CACHE: usize = 16;
/// Bytes of decoded patches kept for reads and compaction: enough for a
/// sequential read of a file written at random, which needs a consolidated
/// patch of each run of merges (see [`patch::Bounds`]) at once.
const PATCH_CACHE_BYTES: u64 = 16 << 20;

/// The in-memory state of a file being read or written. Its `Debug` shows
/// sizes and chunk indices, never content or chunk keys.
#[derive(Default)]
pub struct OpenFile {
    /// Open handles.
    pub handles: u32,
    /// The last name was removed while open: destroy at the last release.
    pub unlinked: bool,
    /// Current size, including unflushed writes.
    pub size: u64,
    /// Chunks held whole in RAM and not stored yet, by index.
    dirty: BTreeMap<u64, Vec<u8>>,
    /// Partial writes to chunks not held whole in RAM, by index: newer than
    /// whatever the chunk holds (and never beside a dirty buffer of it).
    extents: FileExtents,
    /// Chunks stored since the header was last written, by index.
    stored: BTreeMap<u64, Chunk>,
    /// Full chunks being encrypted and stored in the background, oldest
    /// first: (index, upload number, task).
    uploads: VecDeque<(u64, u64, tokio::task::JoinHandle<FsResult<Chunk>>)>,
    /// Plaintext of the latest upload of each index, readable meanwhile.
    sealing: BTreeMap<u64, (u64, Arc<Vec<u8>>)>,
    /// Numbers uploads, to tell a superseded one from the latest.
    upload_count: u64,
    /// The smallest size a truncate set since the header was last
    /// recorded: what the header stores past it is gone, even if the file
    /// grew again since.
    cut: Option<u64>,
    /// The header must be written.
    header_dirty: bool,
    /// When the content last changed, if not recorded in the header yet:
    /// `stat` shows it as mtime and ctime at once, the header gets it.
    pub modified: Option<Time>,
}

impl OpenFile {
    /// Bytes held in extents.
    fn extent_bytes(&self) -> u64 {
        self.extents.values().map(Extents::bytes).sum()
    }
}

/// Chunks of one file stored concurrently while writing goes on.
const UPLOADS_IN_FLIGHT: usize = 4;

/// Chunks a compaction rewrites at once: one per core of the machines we
/// run on, with the disk reads and writes of one overlapping the
/// encryption of the other.
const FOLDS_AT_ONCE: usize = 2;

/// One chunk to rewrite with every patched byte: what is stored of it
/// (`base`), the extents of the older patches listing it (`under`, by
/// their place in the file's list, oldest first), then the merged newer
/// extents (`over`), cut to the chunk's `len`.
struct Fold {
    base: FoldBase,
    under: Vec<(usize, Arc<FileExtents>)>,
    over: Extents,
    len: usize,
}

/// What a fold starts from.
enum FoldBase {
    /// The stored chunk, to fetch and decrypt.
    Stored(Chunk),
    /// The stored chunk, decrypted already (from the cache).
    Plain(Arc<Vec<u8>>),
    /// A hole: nothing stored.
    Hole,
}

/// A fold's outcome: the chunk stored for `index`, and the bytes it took
/// from each older patch (by place in the file's list).
struct Folded {
    index: u64,
    chunk: Chunk,
    absorbed: Vec<(usize, u64)>,
}

impl Fold {
    async fn run(
        self,
        store: Arc<dyn crate::runtime::consensus::Consensus>,
        file: Address,
        index: u64,
    ) -> FsResult<Folded> {
        let mut plain = match self.base {
            FoldBase::Stored(chunk) => Arc::unwrap_or_clone(load_chunk(store.clone(), file, index, chunk).await?),
            FoldBase::Plain(plain) => Arc::unwrap_or_clone(plain),
            FoldBase::Hole => Vec::new(),
        };
        let mut absorbed = Vec::with_capacity(self.under.len());
        for (k, extents) in &self.under {
            match extents.get(&index) {
                Some(old) => {
                    old.apply(&mut plain);
                    absorbed.push((*k, old.bytes()));
                }
                None => absorbed.push((*k, 0)),
            }
        }
        self.over.apply(&mut plain);
        plain.truncate(self.len);
        let chunk = store_chunk(store, file, index, &plain).await?;
        Ok(Folded { index, chunk, absorbed })
    }
}

/// Recently decrypted chunks (plain, or with their patches laid over) and
/// decoded patches (`Debug` shows their addresses only).
#[derive(Default)]
pub struct ChunkCache {
    chunks: VecDeque<(Address, ChunkCell)>,
    patches: VecDeque<(Address, PatchCell)>,
}

impl std::fmt::Debug for OpenFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenFile")
            .field("handles", &self.handles)
            .field("unlinked", &self.unlinked)
            .field("size", &self.size)
            .field("dirty_chunks", &self.dirty.keys().collect::<Vec<_>>())
            .field("stored_chunks", &self.stored.keys().collect::<Vec<_>>())
            .field("uploads", &self.uploads.len())
            .field("sealing", &self.sealing.keys().collect::<Vec<_>>())
            .field("header_dirty", &self.header_dirty)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for ChunkCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkCache")
            .field("chunks", &self.chunks.iter().map(|(address, _)| address).collect::<Vec<_>>())
            .field("patches", &self.patches.iter().map(|(address, _)| address).collect::<Vec<_>>())
            .finish()
    }
}

/// A chunk being fetched or fetched: readers and read-ahead share it.
type ChunkCell = Arc<tokio::sync::OnceCell<Result<Arc<Vec<u8>>, String>>>;

/// A patch being fetched or fetched and decoded.
type PatchCell = Arc<tokio::sync::OnceCell<Result<Arc<FileExtents>, String>>>;

/// How many chunks past a read are fetched ahead, in the background.
const READ_AHEAD: u64 = 8;

/// Where the stored content of a chunk comes from, before its patches.
#[derive(Debug, Clone)]
enum Base {
    /// A content block.
    Chunk(Chunk),
    /// The header's inline data (chunk 0 of a small file), or a hole.
    Plain(Arc<Vec<u8>>),
}

/// What the open file holds of a chunk, newer than the header's.
enum Held {
    /// The plaintext of an upload in flight.
    Plain(Arc<Vec<u8>>),
    /// A chunk stored since the header was recorded.
    Chunk(Chunk),
    /// Nothing: the header's content was truncated away.
    Gone,
}

/// Encrypt and store one chunk as a content block owned by `file`.
async fn store_chunk(
    store: Arc<dyn crate::runtime::consensus::Consensus>,
    file: Address,
    index: u64,
    plain: &[u8],
) -> FsResult<Chunk> {
    let key: [u8; 32] = random_bytes().map_err(|e| FsError::Storage(e.to_string()))?;
    let data = seal::encrypt(&key, plain, &chunk_aad(&file, index)).map_err(|e| FsError::Storage(e.to_string()))?;
    let block = ContentBlock::new(Some(file), data);
    let address = block.address();
    store.store(Block::Content(block), Expect::Absent).await?;
    Ok(Chunk { address, key })
}

/// Fetch one content block of `file` (a chunk or a patch).
async fn fetch_content(
    store: &Arc<dyn crate::runtime::consensus::Consensus>,
    what: &str,
    address: Address,
) -> FsResult<ContentBlock> {
    match store.fetch(address, ReadLevel::Any).await? {
        Fetched::Found(Block::Content(c)) => Ok(c),
        Fetched::Found(_) => Err(FsError::Corrupt(format!("{what} {address} is not a content block"))),
        Fetched::Absent | Fetched::Removed(_) | Fetched::Collected { .. } => {
            Err(FsError::Corrupt(format!("{what} {address} is missing")))
        }
    }
}

/// Fetch, check and decrypt one chunk.
async fn load_chunk(
    store: Arc<dyn crate::runtime::consensus::Consensus>,
    file: Address,
    index: u64,
    chunk: Chunk,
) -> FsResult<Arc<Vec<u8>>> {
    let block = fetch_content(&store, "chunk", chunk.address).await?;
    let plain = seal::decrypt(&chunk.key, block.data(), &chunk_aad(&file, index))
        .map_err(|_| FsError::Corrupt(format!("chunk {} does not decrypt", chunk.address)))?;
    Ok(Arc::new(plain))
}

/// Fetch, check, decrypt and decode one patch.
async fn load_patch(
    store: Arc<dyn crate::runtime::consensus::Consensus>,
    file: Address,
    address: Address,
    key: [u8; 32],
    block_size: u64,
) -> FsResult<Arc<FileExtents>> {
    let block = fetch_content(&store, "patch", address).await?;
    let plain = seal::decrypt(&key, block.data(), &patch_aad(&file))
        .map_err(|_| FsError::Corrupt(format!("patch {address} does not decrypt")))?;
    Ok(Arc::new(patch::decode(&plain, block_size)?))
}

/// The associated data binding a chunk's ciphertext to its file and index.
pub(super) fn chunk_aad(file: &Address, index: u64) -> Vec<u8> {
    let mut aad = b"infinit/fs/chunk/v1".to_vec();
    aad.extend_from_slice(&file.0);
    aad.extend_from_slice(&index.to_be_bytes());
    aad
}

/// The associated data binding a patch's ciphertext to its file.
pub(super) fn patch_aad(file: &Address) -> Vec<u8> {
    let mut aad = b"infinit/fs/patch/v1".to_vec();
    aad.extend_from_slice(&file.0);
    aad
}

/// Bytes of decoded extents.
fn extents_bytes(extents: &FileExtents) -> u64 {
    extents.values().map(Extents::bytes).sum()
}

/// A patch record for `extents` stored at `address` with `key`.
fn patch_record(address: Address, key: [u8; 32], extents: &FileExtents) -> Patch {
    let chunks = extents.iter().filter(|(_, e)| !e.is_empty()).map(|(i, _)| *i).collect();
    Patch { address, key, chunks, bytes: extents_bytes(extents) }
}

impl FileSystem {
    /// Compact files against `bounds` instead of the block size's.
    #[cfg(test)]
    pub(super) fn set_patch_bounds(&mut self, bounds: patch::Bounds) {
        self.patch_bounds = bounds;
    }

    /// Open the file at `address` (one more handle).
    pub async fn open_file(&self, address: Address) -> FsResult<()> {
        let size = match self.load_node(address).await? {
            Node::File { size, .. } => size,
            Node::Directory { .. } => return Err(FsError::IsDirectory),
            Node::Symlink { .. } => {
                return Err(FsError::Invalid("cannot open a symbolic link".into()));
            }
            Node::Special { .. } => return Err(FsError::Invalid("not a regular file".into())),
        };
        let mut open = lock(&self.open);
        let file = open.entry(address).or_insert_with(|| OpenFile { size, ..Default::default() });
        file.handles += 1;
        Ok(())
    }

    /// Close one handle: flush, and destroy the file if it was unlinked.
    pub async fn release(&self, address: Address) -> FsResult<()> {
        // The state goes under the content lock: a flush that comes later
        // finds nothing to store, so no store of it outlives the state.
        let _io = self.file_io(address).await;
        let flushed = self.flush_held(address).await;
        let (destroy, closed) = {
            let mut open = lock(&self.open);
            match open.get_mut(&address) {
                Some(f) => {
                    f.handles = f.handles.saturating_sub(1);
                    match (f.handles, f.unlinked) {
                        // `destroy` takes the state: what it stored decides how the file goes.
                        (0, true) => (true, None),
                        (0, false) => (false, open.remove(&address)),
                        _ => (false, None),
                    }
                }
                None => (false, None),
            }
        };
        if let Some(closed) = closed {
            // What the flush could not record is dropped (close reported it).
            self.discard(address, closed);
        }
        if destroy {
            self.destroy(address, Vec::new());
        }
        flushed
    }

    /// Forget the state of a closed or destroyed file: chunks it stored that
    /// no header names are removed, and so are uploads still in flight once
    /// they land, so that a failed flush or a racing removal leaks nothing.
    pub(super) fn discard(&self, address: Address, file: OpenFile) {
        for chunk in file.stored.into_values() {
            self.remove_unnamed_chunk(address, chunk.address);
        }
        for (_, _, task) in file.uploads {
            self.remove_when_landed(address, task);
        }
    }

    /// Make sure a state exists for `address` (for writes without open handles).
    async fn ensure_state(&self, address: Address) -> FsResult<()> {
        if lock(&self.open).contains_key(&address) {
            return Ok(());
        }
        let size = match self.load_node(address).await? {
            Node::File { size, .. } => size,
            Node::Directory { .. } => return Err(FsError::IsDirectory),
            Node::Symlink { .. } | Node::Special { .. } => return Err(FsError::Invalid("not a regular file".into())),
        };
        lock(&self.open).entry(address).or_insert_with(|| OpenFile { size, ..Default::default() });
        Ok(())
    }

    /// The plaintext of chunk `index` as last written (possibly shorter than
    /// a block; empty for holes), to modify.
    async fn chunk_plain(&self, address: Address, index: u64) -> FsResult<Vec<u8>> {
        Ok(Arc::unwrap_or_clone(self.chunk_shared(address, index).await?))
    }

    /// The plaintext of chunk `index`, shared with the chunk cache (no copy)
    /// unless the open file holds newer extents of it.
    async fn chunk_shared(&self, address: Address, index: u64) -> FsResult<Arc<Vec<u8>>> {
        let (held, patched) = {
            let open = lock(&self.open);
            match open.get(&address) {
                Some(f) => {
                    if let Some(buf) = f.dirty.get(&index) {
                        return Ok(Arc::new(buf.clone()));
                    }
                    let held = if let Some((_, plain)) = f.sealing.get(&index) {
                        Some(Held::Plain(plain.clone()))
                    } else if let Some(chunk) = f.stored.get(&index) {
                        Some(Held::Chunk(*chunk))
                    } else if f.cut.is_some_and(|cut| index >= cut.div_ceil(self.block_size)) {
                        Some(Held::Gone)
                    } else {
                        None
                    };
                    (held, f.extents.get(&index).is_some_and(|e| !e.is_empty()))
                }
                None => (None, false),
            }
        };
        // What the open file holds is newer than the header's patches.
        let base = match held {
            Some(Held::Plain(plain)) => plain,
            Some(Held::Chunk(chunk)) => self.fetch_chunk(address, index, chunk).await?,
            Some(Held::Gone) => Arc::new(Vec::new()),
            None => self.stored_chunk(address, index).await?,
        };
        if !patched {
            return Ok(base);
        }
        let mut plain = Arc::unwrap_or_clone(base);
        if let Some(e) = lock(&self.open).get(&address).and_then(|f| f.extents.get(&index)) {
            e.apply(&mut plain);
        }
        Ok(Arc::new(plain))
    }

    /// Chunk `index` as the header stores it: its chunk (or inline data, or
    /// a hole) with the patches listing it laid over, in order.
    async fn stored_chunk(&self, address: Address, index: u64) -> FsResult<Arc<Vec<u8>>> {
        let (base, patches) = self
            .view(address, |node| match node {
                Node::File { inline, chunks, patches, .. } => {
                    let base = if chunks.is_empty() {
                        Base::Plain(Arc::new(if index == 0 { inline.clone() } else { Vec::new() }))
                    } else {
                        match chunks.get(&index) {
                            Some(c) => Base::Chunk(*c),
                            None => Base::Plain(Arc::new(Vec::new())),
                        }
                    };
                    let listing: Vec<(Address, [u8; 32])> = patches
                        .iter()
                        .filter(|p| p.chunks.binary_search(&index).is_ok())
                        .map(|p| (p.address, p.key))
                        .collect();
                    Ok((base, listing))
                }
                _ => Err(FsError::IsDirectory),
            })
            .await??;
        if patches.is_empty() {
            return match base {
                Base::Chunk(c) => self.fetch_chunk(address, index, c).await,
                Base::Plain(plain) => Ok(plain),
            };
        }
        // The patched chunk is cached under a name of its parts.
        let mut parts: Vec<&[u8]> = vec![&address.0];
        let index_bytes = index.to_be_bytes();
        parts.push(&index_bytes);
        if let Base::Chunk(c) = &base {
            parts.push(&c.address.0);
        }
        parts.extend(patches.iter().map(|(a, _)| &a.0[..]));
        let name = Address(crate::crypto::hash::hash("infinit/fs/patched-chunk/v1", &parts));
        let cell = self.chunk_cell(name);
        let loaded = cell
            .get_or_init(|| async {
                let overlay = async {
                    let mut plain = match &base {
                        Base::Chunk(c) => Arc::unwrap_or_clone(self.fetch_chunk(address, index, *c).await?),
                        Base::Plain(plain) => plain.to_vec(),
                    };
                    for (patch, key) in &patches {
                        if let Some(e) = self.fetch_patch(address, *patch, *key).await?.get(&index) {
                            e.apply(&mut plain);
                        }
                    }
                    Ok::<_, FsError>(Arc::new(plain))
                };
                overlay.await.map_err(|e| e.to_string())
            })
            .await
            .clone();
        loaded.map_err(|why| {
            lock(&self.chunks).chunks.retain(|(a, _)| *a != name);
            FsError::Corrupt(why)
        })
    }

    /// Chunk `address`, if the cache holds it decrypted.
    fn cached_chunk(&self, address: Address) -> Option<Arc<Vec<u8>>> {
        let cache = lock(&self.chunks);
        let (_, cell) = cache.chunks.iter().find(|(a, _)| *a == address)?;
        cell.get()?.as_ref().ok().cloned()
    }

    /// The shared cell of chunk `address` in the cache (created if absent).
    fn chunk_cell(&self, address: Address) -> ChunkCell {
        let mut cache = lock(&self.chunks);
        if let Some((_, cell)) = cache.chunks.iter().find(|(a, _)| *a == address) {
            return cell.clone();
        }
        let cell = ChunkCell::default();
        cache.chunks.push_back((address, cell.clone()));
        if cache.chunks.len() > CHUNK_CACHE {
            cache.chunks.pop_front();
        }
        cell
    }

    /// The shared cell of patch `address` in the cache (created if absent);
    /// the oldest go while the decoded ones hold more than [`PATCH_CACHE_BYTES`].
    fn patch_cell(&self, address: Address) -> PatchCell {
        let mut cache = lock(&self.chunks);
        if let Some((_, cell)) = cache.patches.iter().find(|(a, _)| *a == address) {
            return cell.clone();
        }
        let cell = PatchCell::default();
        cache.patches.push_back((address, cell.clone()));
        let held = |cell: &PatchCell| match cell.get() {
            Some(Ok(extents)) => extents_bytes(extents),
            _ => 0,
        };
        let mut total: u64 = cache.patches.iter().map(|(_, c)| held(c)).sum();
        while total > PATCH_CACHE_BYTES && cache.patches.len() > 1 {
            if let Some((_, old)) = cache.patches.pop_front() {
                total -= held(&old);
            }
        }
        cell
    }

    async fn fetch_chunk(&self, file: Address, index: u64, chunk: Chunk) -> FsResult<Arc<Vec<u8>>> {
        let cell = self.chunk_cell(chunk.address);
        let store = self.store.clone();
        let loaded = cell
            .get_or_init(|| async move { load_chunk(store, file, index, chunk).await.map_err(|e| e.to_string()) })
            .await
            .clone();
        loaded.map_err(|why| {
            // Do not keep a failure: the next read tries again.
            lock(&self.chunks).chunks.retain(|(a, _)| *a != chunk.address);
            FsError::Corrupt(why)
        })
    }

    /// The decoded extents of patch `address` of `file`.
    async fn fetch_patch(&self, file: Address, address: Address, key: [u8; 32]) -> FsResult<Arc<FileExtents>> {
        let cell = self.patch_cell(address);
        let store = self.store.clone();
        let bs = self.block_size;
        let loaded = cell
            .get_or_init(|| async move { load_patch(store, file, address, key, bs).await.map_err(|e| e.to_string()) })
            .await
            .clone();
        loaded.map_err(|why| {
            lock(&self.chunks).patches.retain(|(a, _)| *a != address);
            FsError::Corrupt(why)
        })
    }

    /// Start fetching the stored chunks after `last` in the background.
    async fn read_ahead(&self, address: Address, last: u64) {
        if lock(&self.open).get(&address).is_some_and(|f| {
            !f.dirty.is_empty() || !f.stored.is_empty() || !f.sealing.is_empty() || !f.extents.is_empty()
        }) {
            return;
        }
        let ahead = self
            .view(address, |node| match node {
                Node::File { chunks, .. } => {
                    (last + 1..=last + READ_AHEAD).filter_map(|i| chunks.get(&i).copied().map(|c| (i, c))).collect()
                }
                _ => Vec::new(),
            })
            .await
            .unwrap_or_default();
        for (index, chunk) in ahead {
            let cell = self.chunk_cell(chunk.address);
            if cell.initialized() {
                continue;
            }
            let store = self.store.clone();
            tokio::spawn(async move {
                let _ = cell
                    .get_or_init(
                        || async move { load_chunk(store, address, index, chunk).await.map_err(|e| e.to_string()) },
                    )
                    .await;
            });
        }
    }

    async fn store_chunk(&self, file: Address, index: u64, plain: &[u8]) -> FsResult<Chunk> {
        self.content_began(file);
        store_chunk(self.store.clone(), file, index, plain).await
    }

    /// Encrypt and store `extents` as one patch block owned by `file`; its
    /// decoded form goes to the cache, for reads and the next compaction.
    async fn store_patch(&self, file: Address, extents: FileExtents) -> FsResult<Patch> {
        let key: [u8; 32] = random_bytes().map_err(|e| FsError::Storage(e.to_string()))?;
        let plain = patch::encode(&extents)?;
        let data = seal::encrypt(&key, &plain, &patch_aad(&file)).map_err(|e| FsError::Storage(e.to_string()))?;
        drop(plain);
        let block = ContentBlock::new(Some(file), data);
        let address = block.address();
        self.content_began(file);
        self.store.store(Block::Content(block), Expect::Absent).await?;
        let record = patch_record(address, key, &extents);
        let _ = self.patch_cell(address).set(Ok(Arc::new(extents)));
        Ok(record)
    }

    /// Store a full chunk in the background (at most [`UPLOADS_IN_FLIGHT`]
    /// per file: beyond, wait for the oldest).
    async fn upload(&self, file: Address, index: u64, plain: Vec<u8>) -> FsResult<()> {
        let plain = Arc::new(plain);
        let store = self.store.clone();
        let task_plain = plain.clone();
        self.content_began(file);
        let waiting = {
            let mut open = lock(&self.open);
            // Gone (destroyed meanwhile): nothing may store for it now.
            let Some(f) = open.get_mut(&file) else { return Ok(()) };
            let task = tokio::spawn(async move { store_chunk(store, file, index, &task_plain).await });
            f.upload_count += 1;
            let number = f.upload_count;
            f.sealing.insert(index, (number, plain));
            f.uploads.push_back((index, number, task));
            f.uploads.len() > UPLOADS_IN_FLIGHT
        };
        if waiting {
            self.finish_uploads(file, UPLOADS_IN_FLIGHT).await?;
        }
        Ok(())
    }

    /// Wait for uploads of `file` until at most `keep` are in flight. Every
    /// upload waited for is settled even when an earlier one failed (its
    /// chunk recorded in the open file, or its data put back as dirty), so
    /// none is left unaccounted for; the first failure is returned.
    async fn finish_uploads(&self, file: Address, keep: usize) -> FsResult<()> {
        let mut first_error = None;
        loop {
            let next = {
                let mut open = lock(&self.open);
                match open.get_mut(&file) {
                    Some(f) if f.uploads.len() > keep => f.uploads.pop_front(),
                    _ => None,
                }
            };
            let Some((index, number, task)) = next else {
                return match first_error {
                    Some(e) => Err(e),
                    None => Ok(()),
                };
            };
            let uploaded =
                task.await.map_err(|e| FsError::Storage(format!("chunk upload failed: {e}"))).and_then(|r| r);
            let chunk = match uploaded {
                Ok(chunk) => chunk,
                Err(e) => {
                    // Keep the data: a later flush tries to store it again.
                    let mut open = lock(&self.open);
                    if let Some(f) = open.get_mut(&file)
                        && let Some((n, plain)) = f.sealing.remove(&index)
                    {
                        if n == number {
                            if !f.dirty.contains_key(&index) {
                                // Extents written since the upload began are newer.
                                let mut plain = Arc::unwrap_or_clone(plain);
                                if let Some(e) = f.extents.remove(&index) {
                                    e.apply(&mut plain);
                                }
                                f.dirty.insert(index, plain);
                            }
                        } else {
                            f.sealing.insert(index, (n, plain));
                        }
                    }
                    first_error.get_or_insert(e);
                    continue;
                }
            };
            let superseded = {
                let mut open = lock(&self.open);
                match open.get_mut(&file) {
                    Some(f) if f.sealing.get(&index).is_some_and(|(n, _)| *n == number) => {
                        f.sealing.remove(&index);
                        f.stored.insert(index, chunk)
                    }
                    // A later write replaced this chunk, or the file is gone.
                    _ => Some(chunk),
                }
            };
            if let Some(old) = superseded {
                // Never named by a stored header.
                self.remove_unnamed_chunk(file, old.address);
            }
        }
    }

    /// Read up to `len` bytes at `offset`.
    pub async fn read(&self, address: Address, offset: u64, len: u32) -> FsResult<Vec<u8>> {
        let _io = self.file_io(address).await;
        let buffered = lock(&self.open).get(&address).map(|f| f.size);
        let size = match buffered {
            Some(size) => size,
            None => match self.load_node(address).await? {
                Node::File { size, .. } => size,
                Node::Directory { .. } => return Err(FsError::IsDirectory),
                Node::Symlink { .. } | Node::Special { .. } => {
                    return Err(FsError::Invalid("not a regular file".into()));
                }
            },
        };
        let end = size.min(offset.saturating_add(u64::from(len)));
        let mut out = Vec::with_capacity(end.saturating_sub(offset) as usize);
        let bs = self.block_size;
        let mut pos = offset;
        while pos < end {
            let index = pos / bs;
            let within = (pos % bs) as usize;
            let n = ((bs - within as u64).min(end - pos)) as usize;
            let plain = self.chunk_shared(address, index).await?;
            let have = plain.len().saturating_sub(within).min(n);
            if have > 0 {
                out.extend_from_slice(&plain[within..within + have]);
            }
            out.resize(out.len() + (n - have), 0);
            pos += n as u64;
        }
        if end > offset {
            self.read_ahead(address, (end - 1) / bs).await;
        }
        Ok(out)
    }

    /// Write `data` at `offset`; returns the number of bytes written. A
    /// whole chunk replaces the chunk; less patches a chunk held in RAM, or
    /// is kept as an extent (the stored chunk is not fetched).
    pub async fn write(&self, address: Address, offset: u64, data: &[u8]) -> FsResult<u32> {
        let _io = self.file_io(address).await;
        self.ensure_state(address).await?;
        let bs = self.block_size;
        let end = offset
            .checked_add(data.len() as u64)
            .ok_or_else(|| FsError::Invalid("write beyond the largest file size".into()))?;
        let mut pos = offset;
        let mut consumed = 0usize;
        while pos < end {
            let index = pos / bs;
            let within = pos % bs;
            let n = ((bs - within).min(end - pos)) as usize;
            let piece = &data[consumed..consumed + n];
            let whole = if n as u64 == bs {
                if let Some(f) = lock(&self.open).get_mut(&address) {
                    // Older writes to the chunk are all overwritten.
                    f.dirty.remove(&index);
                    f.extents.remove(&index);
                }
                Some(piece.to_vec())
            } else {
                let mut open = lock(&self.open);
                let Some(f) = open.get_mut(&address) else { break };
                match f.dirty.get_mut(&index) {
                    Some(buf) => {
                        let (at, end) = (within as usize, within as usize + n);
                        if buf.len() < end {
                            buf.resize(end, 0);
                        }
                        buf[at..end].copy_from_slice(piece);
                        if buf.len() as u64 == bs { f.dirty.remove(&index) } else { None }
                    }
                    None => {
                        let extents = f.extents.entry(index).or_default();
                        extents.write(within, piece);
                        // Extents grown over the whole chunk (a sequential writer) replace it.
                        if extents.whole(bs).is_some() {
                            f.extents.remove(&index).and_then(|e| e.into_whole(bs))
                        } else {
                            None
                        }
                    }
                }
            };
            if let Some(buf) = whole {
                self.upload(address, index, buf).await?;
            }
            pos += n as u64;
            consumed += n;
        }
        let crowded = match lock(&self.open).get_mut(&address) {
            Some(f) => {
                f.size = f.size.max(end);
                f.header_dirty = true;
                f.modified = Some(Time::now());
                f.extent_bytes() > self.patch_bounds.open_bytes
            }
            None => false,
        };
        if crowded {
            // Bound what RAM holds for a writer that never flushes.
            self.flush_locked(address).await?;
        }
        Ok(data.len() as u32)
    }

    /// Flush every file with unwritten data (at unmount).
    pub async fn flush_all(&self) -> FsResult<()> {
        let pending: Vec<Address> = lock(&self.open).keys().copied().collect();
        for address in pending {
            self.flush(address).await?;
        }
        Ok(())
    }

    /// Hold the content lock of the file at `address`.
    async fn file_io(&self, address: Address) -> super::FileIo<'_> {
        let mutex = lock(&self.io).entry(address).or_default().clone();
        let guard = mutex.lock_owned().await;
        super::FileIo { fs: self, address, guard: Some(guard) }
    }

    /// Make everything stored so far durable, sharing one sync of the store
    /// with the `fsync`s that run meanwhile.
    async fn sync_store(&self) -> FsResult<()> {
        use std::sync::atomic::Ordering::SeqCst;
        let ticket = self.syncs.requested.fetch_add(1, SeqCst) + 1;
        let _running = self.syncs.running.lock().await;
        if self.syncs.covered.load(SeqCst) >= ticket {
            return Ok(());
        }
        let covering = self.syncs.requested.load(SeqCst);
        self.store.sync().await?;
        self.syncs.covered.fetch_max(covering, SeqCst);
        Ok(())
    }

    /// `fsync`: flush the file (or every file), write every changed node,
    /// and make everything stored durable. Reports a failure of the
    /// background flusher since the last call.
    pub async fn sync(&self, address: Option<Address>) -> FsResult<()> {
        match address {
            Some(address) => self.flush(address).await?,
            None => self.flush_all().await?,
        }
        self.flush_metadata().await?;
        self.sync_store().await?;
        if let Some(e) = lock(&self.last_error).take() {
            return Err(FsError::Storage(format!("an earlier background write failed: {e}")));
        }
        Ok(())
    }

    /// Store pending chunks and record the header (`close` calls this).
    /// The header itself goes with the next metadata batch (or `fsync`), so
    /// closing many small files costs one write each, not two — unless
    /// closes are durable (`--async`), where the batch is written now.
    pub async fn flush(&self, address: Address) -> FsResult<()> {
        let _io = self.file_io(address).await;
        self.flush_held(address).await
    }

    /// [`FileSystem::flush`], the file's content lock held.
    async fn flush_held(&self, address: Address) -> FsResult<()> {
        self.flush_locked(address).await?;
        if self.durable_close {
            self.flush_metadata().await?;
        }
        Ok(())
    }

    /// Store the file's pending chunks and extents, then record its new
    /// header as an intent. Nothing is taken out of the open file before it
    /// is stored: a failed store leaves every buffer and extent in place for
    /// the next attempt, so a transient error never turns written data into
    /// a hole. Chunks stored before a failure stay in the open file; if it
    /// is closed without a successful flush, [`FileSystem::discard`]
    /// removes them. The extents go into one patch block, unless the
    /// patches are over their bounds: then the file is compacted.
    async fn flush_locked(&self, address: Address) -> FsResult<()> {
        self.finish_uploads(address, 0).await?;
        let (size, cut, mut indices) = {
            let open = lock(&self.open);
            let Some(f) = open.get(&address).filter(|f| f.header_dirty) else {
                return Ok(());
            };
            (f.size, f.cut, f.dirty.keys().copied().collect::<Vec<u64>>())
        };
        let (old_inline, old_chunks, old_patches) = match self.load_node(address).await? {
            Node::File { inline, chunks, patches, .. } => (inline, chunks, patches),
            Node::Directory { .. } => return Err(FsError::IsDirectory),
            Node::Symlink { .. } | Node::Special { .. } => return Err(FsError::Invalid("not a regular file".into())),
        };
        let bs = self.block_size;
        let inline_limit = INLINE_MAX.min(bs);
        let last = size.div_ceil(bs);
        // What the header stores from chunk `kept` on was truncated away.
        let kept = cut.map_or(last, |c| c.div_ceil(bs).min(last));
        let mut inline = Vec::new();
        let mut patches = Vec::new();
        // Patches stored here: nothing names them until the header is recorded.
        let mut new_patches = Vec::new();
        if size <= inline_limit {
            inline = self.chunk_plain(address, 0).await?;
            inline.resize(size as usize, 0);
        } else {
            // Chunk 0 may still live inline in the header: give it a block.
            let stored_zero = lock(&self.open).get(&address).is_some_and(|f| f.stored.contains_key(&0));
            if old_chunks.is_empty() && !old_inline.is_empty() && kept > 0 && !indices.contains(&0) && !stored_zero {
                let plain = self.chunk_plain(address, 0).await?;
                if let Some(f) = lock(&self.open).get_mut(&address) {
                    f.extents.remove(&0);
                    f.dirty.insert(0, plain);
                }
                indices.insert(0, 0);
            }
            // Extents from the start of a chunk that stores nothing (the
            // tail of a sequential writer) are that chunk: no patch needed.
            if let Some(f) = lock(&self.open).get_mut(&address) {
                let unpatched = |i: &u64| !old_patches.iter().any(|p| p.chunks.binary_search(i).is_ok());
                let fresh: Vec<u64> = f
                    .extents
                    .iter()
                    .filter(|(i, e)| {
                        **i < last
                            && e.from_start().is_some()
                            && !f.stored.contains_key(i)
                            && (**i >= kept || (!old_chunks.contains_key(i) && unpatched(i)))
                    })
                    .map(|(i, _)| *i)
                    .collect();
                for index in fresh {
                    if let Some(run) = f.extents.remove(&index).and_then(Extents::into_from_start) {
                        f.dirty.insert(index, run);
                        indices.push(index);
                    }
                }
                indices.sort_unstable();
                indices.dedup();
            }
            for index in indices {
                let plain = {
                    let mut open = lock(&self.open);
                    let Some(f) = open.get_mut(&address) else { return Ok(()) };
                    if index >= last {
                        f.dirty.remove(&index);
                        continue;
                    }
                    let Some(plain) = f.dirty.get(&index) else { continue };
                    let keep = (size - index * bs).min(bs) as usize;
                    plain[..plain.len().min(keep)].to_vec()
                };
                let chunk = self.store_chunk(address, index, &plain).await?;
                let superseded = {
                    let mut open = lock(&self.open);
                    match open.get_mut(&address) {
                        Some(f) => {
                            f.dirty.remove(&index);
                            f.stored.insert(index, chunk)
                        }
                        // Destroyed while this chunk was being stored: nothing will name it.
                        None => Some(chunk),
                    }
                };
                if let Some(old) = superseded {
                    self.remove_unnamed_chunk(address, old.address);
                }
            }
            let (stored, extents) = match lock(&self.open).get(&address) {
                Some(f) => (f.stored.clone(), f.extents.range(..last).map(|(i, e)| (*i, e.clone())).collect()),
                None => return Ok(()),
            };
            // A rewritten chunk holds what the patches wrote to it; past the end, nothing is left.
            patches = old_patches
                .iter()
                .filter_map(|p| {
                    let mut p = p.clone();
                    p.chunks.retain(|i| *i < kept && !stored.contains_key(i));
                    (!p.chunks.is_empty()).then_some(p)
                })
                .collect();
            let new_bytes = extents_bytes(&extents);
            let over_bounds = self.patch_bounds.needs_compaction(&patches, new_bytes, size);
            let deferred = over_bounds
                && self.background_compaction.load(std::sync::atomic::Ordering::Relaxed)
                && self.patch_bounds.may_wait(&patches, new_bytes, size);
            if deferred {
                // The background compactor does it, off this flush's path.
                lock(&self.compactions).insert(address);
            }
            if over_bounds && !deferred {
                let mut table: BTreeMap<u64, Chunk> = old_chunks.range(..kept).map(|(i, c)| (*i, *c)).collect();
                table.extend(stored.range(..last).map(|(i, c)| (*i, *c)));
                let (kept_patches, merged) = self.compact(address, size, &table, patches, extents, None).await?;
                new_patches.extend(merged.iter().map(|p| p.address));
                patches = kept_patches;
                patches.extend(merged);
            } else if new_bytes > 0 {
                let patch = self.store_patch(address, extents).await?;
                new_patches.push(patch.address);
                patches.push(patch);
            }
        }
        let stored: BTreeMap<u64, Chunk> = lock(&self.open).get(&address).map(|f| f.stored.clone()).unwrap_or_default();
        let mut chunks: BTreeMap<u64, Chunk> = BTreeMap::new();
        if size > inline_limit {
            chunks.extend(old_chunks.range(..kept).map(|(i, c)| (*i, *c)));
            chunks.extend(stored.range(..last).map(|(i, c)| (*i, *c)));
        }
        let kept: std::collections::HashSet<Address> = chunks.values().map(|c| c.address).collect();
        let named: std::collections::HashSet<Address> = patches.iter().map(|p| p.address).collect();
        let dropped: Vec<Address> = old_chunks
            .values()
            .map(|c| c.address)
            .filter(|a| !kept.contains(a))
            .chain(old_patches.iter().map(|p| p.address).filter(|a| !named.contains(a)))
            .collect();
        let unused: Vec<Address> = stored.values().map(|c| c.address).filter(|a| !kept.contains(a)).collect();
        let modified = lock(&self.open).get(&address).and_then(|f| f.modified);
        let intent = Intent::Content { size, inline, chunks, patches, time: modified.unwrap_or_else(Time::now) };
        let recorded = match self.change(address, intent, Vec::new()).await {
            Ok(recorded) => recorded,
            Err(e) => {
                for patch in new_patches {
                    self.remove_unnamed_chunk(address, patch);
                }
                return Err(e);
            }
        };
        for chunk in unused {
            self.remove_unnamed_chunk(address, chunk);
        }
        for block in dropped {
            // The stored header names them until this change is stored.
            self.remove_chunk(block, vec![recorded]);
        }
        if let Some(f) = lock(&self.open).get_mut(&address) {
            f.stored.retain(|i, c| stored.get(i).is_none_or(|s| s.address != c.address));
            // Every extent is in the recorded patches or inline data.
            f.extents.clear();
            f.cut = None;
            f.header_dirty = !f.dirty.is_empty() || !f.stored.is_empty();
            if !f.header_dirty {
                f.modified = None;
            }
        }
        Ok(())
    }

    /// Compact the patches of file `address` (of `size` bytes, chunk table
    /// `table`) with its new `extents`: the newest patches
    /// [`patch::Bounds::plan_merge`] picks are merged with them; the chunks
    /// [`patch::Bounds::plan_folds`] picks among the merged ones are
    /// rewritten with every patched byte (recorded as stored) and leave the
    /// older patches' lists; the rest of the merge is stored again as a few
    /// consolidated patches. Returns the older patches (as they stay) and
    /// the consolidated ones, to follow them.
    async fn compact(
        &self,
        address: Address,
        size: u64,
        table: &BTreeMap<u64, Chunk>,
        patches: Vec<Patch>,
        extents: FileExtents,
        mut folds: Option<&mut BTreeMap<u64, Chunk>>,
    ) -> FsResult<(Vec<Patch>, Vec<Patch>)> {
        let bs = self.block_size;
        // Folds store chunks on tasks of their own.
        self.content_began(address);
        let _one_at_a_time =
            self.compacting.acquire().await.map_err(|_| FsError::Storage("the file system is shutting down".into()))?;
        let start = self.patch_bounds.plan_merge(&patches, extents_bytes(&extents));
        let mut older = patches;
        let newer = older.split_off(start);
        let mut merged = FileExtents::new();
        for p in &newer {
            let decoded = self.fetch_patch(address, p.address, p.key).await?;
            for index in &p.chunks {
                if let Some(e) = decoded.get(index) {
                    merged.entry(*index).or_default().overlay(e);
                }
            }
        }
        for (index, e) in extents {
            match merged.get_mut(&index) {
                Some(older) => older.overlay(&e),
                None => {
                    merged.insert(index, e);
                }
            }
        }
        // Live bytes of each merged chunk: its merged extents, and an
        // even share of each older patch listing it.
        let mut live: BTreeMap<u64, u64> = merged.iter().map(|(i, e)| (*i, e.bytes())).collect();
        for p in &older {
            let share = p.bytes / p.chunks.len().max(1) as u64;
            for index in &p.chunks {
                if let Some(bytes) = live.get_mut(index) {
                    *bytes += share;
                }
            }
        }
        let held = older.iter().map(|p| p.bytes).sum::<u64>() + merged.values().map(Extents::bytes).sum::<u64>();
        // Folds run [`FOLDS_AT_ONCE`] at a time, each on its own task (a
        // chunk's read, decryption, encryption and write). The older
        // patches they lay over are decoded here, in chunk order, and kept
        // while a later fold may need them: the patch cache is shared by
        // every file and would drop them between folds.
        let last_listed: Vec<Option<u64>> = older.iter().map(|p| p.chunks.last().copied()).collect();
        let mut decoded: BTreeMap<usize, Arc<FileExtents>> = BTreeMap::new();
        let mut running = VecDeque::new();
        let mut failed = None;
        for index in self.patch_bounds.plan_folds(&live, held, size) {
            decoded.retain(|k, _| last_listed[*k].is_some_and(|last| last >= index));
            let Some(over) = merged.remove(&index) else { continue };
            // The older patches listing the chunk, oldest first.
            let mut under = Vec::new();
            for (k, p) in older.iter().enumerate() {
                if p.chunks.binary_search(&index).is_ok() {
                    let extents = match decoded.get(&k) {
                        Some(extents) => extents.clone(),
                        None => match self.fetch_patch(address, p.address, p.key).await {
                            Ok(extents) => {
                                decoded.insert(k, extents.clone());
                                extents
                            }
                            Err(e) => {
                                failed = Some(e);
                                break;
                            }
                        },
                    };
                    under.push((k, extents));
                }
            }
            if failed.is_some() {
                break;
            }
            if running.len() == FOLDS_AT_ONCE
                && let Err(e) = self.folded(address, &mut older, running.pop_front(), folds.as_deref_mut()).await
            {
                failed = Some(e);
                break;
            }
            let base = match table.get(&index) {
                Some(chunk) => match self.cached_chunk(chunk.address) {
                    Some(plain) => FoldBase::Plain(plain),
                    None => FoldBase::Stored(*chunk),
                },
                None => FoldBase::Hole,
            };
            let fold = Fold { base, under, over, len: (size - index * bs).min(bs) as usize };
            running.push_back(tokio::spawn(fold.run(self.store.clone(), address, index)));
        }
        // Every fold started is waited for, also after a failure: a chunk
        // stored is recorded in the open file, never left unnamed.
        while !running.is_empty() {
            if let Err(e) = self.folded(address, &mut older, running.pop_front(), folds.as_deref_mut()).await {
                failed.get_or_insert(e);
            }
        }
        if let Some(e) = failed {
            return Err(e);
        }
        // An older patch no longer listing any chunk is released with the header.
        older.retain(|p| !p.chunks.is_empty());
        let mut consolidated = Vec::new();
        for part in self.patch_bounds.consolidate(merged) {
            match self.store_patch(address, part).await {
                Ok(p) => consolidated.push(p),
                Err(e) => {
                    for p in consolidated {
                        self.remove_unnamed_chunk(address, p.address);
                    }
                    return Err(e);
                }
            }
        }
        Ok((older, consolidated))
    }

    /// Let flushes leave compactions to [`FileSystem::compact_waiting`]
    /// (the flusher turns this on), for tests that run it themselves.
    #[cfg(test)]
    pub(super) fn set_background_compaction(&self, on: bool) {
        self.background_compaction.store(on, std::sync::atomic::Ordering::SeqCst);
    }

    /// Compact, one after the other, the files whose flushes left their
    /// compaction to the background ([`FileSystem::spawn_flusher`] starts
    /// this while some wait), until none waits or the volume unmounts.
    pub(super) async fn compact_waiting(&self) {
        let _running = self.compactor.lock().await;
        while !self.nodes.draining.load(std::sync::atomic::Ordering::SeqCst) {
            let Some(address) = lock(&self.compactions).pop_first() else { return };
            if let Err(e) = self.compact_in_background(address).await {
                // The file's next flush over the bounds asks again.
                self.report(&format!("compaction of file {address} failed (its flushes will retry): {e}"));
            }
        }
    }

    /// Compact file `address` without holding its content lock for the
    /// work: its writes and `fsync`s go on meanwhile. The chunks and
    /// patches of its header are read under the lock, compacted without
    /// it, and the result is recorded under it again only if the header
    /// still has those chunks and starts with those patches (flushes
    /// meanwhile may have added patches, which stay after the compacted
    /// ones). Otherwise, or on a failure, what the compaction stored is
    /// removed again; nothing else changes.
    async fn compact_in_background(&self, address: Address) -> FsResult<()> {
        let (size, table, patches) = {
            let _io = self.file_io(address).await;
            match self.load_node(address).await {
                Ok(Node::File { size, inline, chunks, patches, .. }) if inline.is_empty() => (size, chunks, patches),
                // Removed, or small again, since the flush asked.
                Ok(_) | Err(FsError::NotFound) => return Ok(()),
                Err(e) => return Err(e),
            }
        };
        if !self.patch_bounds.needs_compaction(&patches, 0, size) {
            return Ok(());
        }
        let mut folds = BTreeMap::new();
        let compacted =
            self.compact(address, size, &table, patches.clone(), FileExtents::new(), Some(&mut folds)).await;
        let (older, consolidated) = match compacted {
            Ok(parts) => parts,
            Err(e) => {
                for chunk in folds.values() {
                    self.remove_unnamed_chunk(address, chunk.address);
                }
                return Err(e);
            }
        };
        let made: Vec<Address> =
            folds.values().map(|c| c.address).chain(consolidated.iter().map(|p| p.address)).collect();
        #[cfg(test)]
        {
            self.at_install.notify_one();
            drop(self.install_gate.lock().await);
        }
        let _io = self.file_io(address).await;
        let unchanged = |now: &Node| match now {
            Node::File { size: now_size, inline, chunks, patches: now_patches, .. } => {
                *now_size == size
                    && inline.is_empty()
                    && *chunks == table
                    && now_patches.starts_with(&patches)
                    && lock(&self.open).get(&address).is_none_or(|f| f.cut.is_none())
            }
            _ => false,
        };
        let recorded = match self.load_node(address).await {
            Ok(now @ Node::File { .. }) if unchanged(&now) => {
                let Node::File { chunks, patches: now_patches, .. } = now else { unreachable!() };
                let mut new_chunks = chunks;
                new_chunks.extend(folds.iter().map(|(i, c)| (*i, *c)));
                let mut new_patches = older;
                new_patches.extend(consolidated);
                new_patches.extend_from_slice(&now_patches[patches.len()..]);
                let named: std::collections::HashSet<Address> = new_patches.iter().map(|p| p.address).collect();
                let dropped: Vec<Address> = folds
                    .keys()
                    .filter_map(|i| table.get(i))
                    .map(|c| c.address)
                    .chain(patches.iter().map(|p| p.address).filter(|a| !named.contains(a)))
                    .collect();
                // No new time: `Content` only ever moves times forward.
                let intent = Intent::Content {
                    size,
                    inline: Vec::new(),
                    chunks: new_chunks,
                    patches: new_patches,
                    time: Time::default(),
                };
                self.change(address, intent, Vec::new()).await.map(|recorded| Some((recorded, dropped)))
            }
            Ok(_) | Err(FsError::NotFound) => Ok(None),
            Err(e) => Err(e),
        };
        match recorded {
            Ok(Some((recorded, dropped))) => {
                for block in dropped {
                    // The stored header names them until this change is stored.
                    self.remove_chunk(block, vec![recorded]);
                }
                Ok(())
            }
            other => {
                for block in made {
                    self.remove_unnamed_chunk(address, block);
                }
                other.map(|_| ())
            }
        }
    }

    /// Record the chunk a fold stored (the open file names it from now
    /// on) and take it out of the lists of the older patches it absorbed.
    async fn folded(
        &self,
        address: Address,
        older: &mut [Patch],
        fold: Option<tokio::task::JoinHandle<FsResult<Folded>>>,
        into: Option<&mut BTreeMap<u64, Chunk>>,
    ) -> FsResult<()> {
        let Some(fold) = fold else { return Ok(()) };
        let Folded { index, chunk, absorbed } =
            fold.await.map_err(|e| FsError::Storage(format!("a chunk's compaction stopped: {e}")))??;
        let superseded = match into {
            Some(folds) => folds.insert(index, chunk),
            None => match lock(&self.open).get_mut(&address) {
                Some(f) => f.stored.insert(index, chunk),
                None => Some(chunk),
            },
        };
        if let Some(old) = superseded {
            self.remove_unnamed_chunk(address, old.address);
        }
        for (k, bytes) in absorbed {
            let p = &mut older[k];
            p.chunks.retain(|i| *i != index);
            p.bytes = p.bytes.saturating_sub(bytes);
        }
        Ok(())
    }

    /// Set the size to `size`, dropping or zero-extending content.
    pub async fn truncate(&self, address: Address, size: u64) -> FsResult<()> {
        let _io = self.file_io(address).await;
        self.ensure_state(address).await?;
        self.finish_uploads(address, 0).await?;
        let bs = self.block_size;
        let current = lock(&self.open).get(&address).map(|f| f.size).unwrap_or(0);
        if size < current {
            let last = size / bs;
            let partial = size % bs;
            let mut tail = if partial > 0 { self.chunk_plain(address, last).await? } else { Vec::new() };
            tail.truncate(partial as usize);
            let superseded: Vec<Chunk> = {
                let mut open = lock(&self.open);
                let Some(f) = open.get_mut(&address) else {
                    return Ok(());
                };
                f.dirty.retain(|&i, _| i < last);
                // The tail's extents are in `tail`; later ones are cut off.
                f.extents.retain(|&i, _| i < last);
                let dropped = f.stored.split_off(&last);
                if partial > 0 {
                    f.dirty.insert(last, tail);
                }
                f.cut = Some(f.cut.map_or(size, |c| c.min(size)));
                dropped.into_values().collect()
            };
            for c in superseded {
                // Stored since the last header: no header names them.
                self.remove_unnamed_chunk(address, c.address);
            }
        }
        let close = {
            let mut open = lock(&self.open);
            match open.get_mut(&address) {
                Some(f) => {
                    f.size = size;
                    f.header_dirty = true;
                    f.handles == 0
                }
                None => false,
            }
        };
        self.flush_locked(address).await?;
        if close {
            let closed = lock(&self.open).remove(&address);
            if let Some(closed) = closed {
                self.discard(address, closed);
            }
        }
        Ok(())
    }
}
