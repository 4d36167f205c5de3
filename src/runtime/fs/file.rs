//! File content: reads and writes through per-file buffers. A write
//! patches the chunk it touches in RAM; a chunk is encrypted and stored as
//! an immutable content block as soon as it is full, and the header (size,
//! chunk table, or inline data for small files) is written at flush,
//! fsync, release or truncate. Replaced chunks are removed once the new
//! header no longer references them, so nothing leaks.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use super::intent::Intent;
use super::model::{Chunk, Node, Time};
use super::{FileSystem, FsError, FsResult, lock};
use crate::crypto::{random_bytes, seal};
use crate::runtime::block::{Address, Block, ContentBlock, Tombstone};
use crate::runtime::consensus::{Expect, Fetched, ReadLevel};

/// Files up to this size keep their content inside their header block.
pub const INLINE_MAX: u64 = 64 * 1024;
/// Decrypted chunks kept for sequential reads.
const CHUNK_CACHE: usize = 16;

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
    /// Chunks patched in RAM and not stored yet, by index.
    dirty: BTreeMap<u64, Vec<u8>>,
    /// Chunks stored since the header was last written, by index.
    stored: BTreeMap<u64, Chunk>,
    /// Full chunks being encrypted and stored in the background, oldest
    /// first: (index, upload number, task).
    uploads: VecDeque<(u64, u64, tokio::task::JoinHandle<FsResult<Chunk>>)>,
    /// Plaintext of the latest upload of each index, readable meanwhile.
    sealing: BTreeMap<u64, (u64, Arc<Vec<u8>>)>,
    /// Numbers uploads, to tell a superseded one from the latest.
    upload_count: u64,
    /// The header must be written.
    header_dirty: bool,
    /// When the content last changed, if not recorded in the header yet:
    /// `stat` shows it as mtime and ctime at once, the header gets it.
    pub modified: Option<Time>,
}

/// Chunks of one file stored concurrently while writing goes on.
const UPLOADS_IN_FLIGHT: usize = 2;

/// Recently decrypted chunks (`Debug` shows their addresses only).
#[derive(Default)]
pub struct ChunkCache(VecDeque<(Address, ChunkCell)>);

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
        f.debug_list().entries(self.0.iter().map(|(address, _)| address)).finish()
    }
}

/// A chunk being fetched or fetched: readers and read-ahead share it.
type ChunkCell = Arc<tokio::sync::OnceCell<Result<Arc<Vec<u8>>, String>>>;

/// How many chunks past a read are fetched ahead, in the background.
const READ_AHEAD: u64 = 4;

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

/// Fetch, check and decrypt one chunk.
async fn load_chunk(
    store: Arc<dyn crate::runtime::consensus::Consensus>,
    file: Address,
    index: u64,
    chunk: Chunk,
) -> FsResult<Arc<Vec<u8>>> {
    let block = match store.fetch(chunk.address, ReadLevel::Any).await? {
        Fetched::Found(Block::Content(c)) => c,
        Fetched::Found(_) => return Err(FsError::Corrupt(format!("chunk {} is not a content block", chunk.address))),
        Fetched::Absent | Fetched::Removed(_) | Fetched::Collected { .. } => {
            return Err(FsError::Corrupt(format!("chunk {} is missing", chunk.address)));
        }
    };
    let plain = seal::decrypt(&chunk.key, &block.data, &chunk_aad(&file, index))
        .map_err(|_| FsError::Corrupt(format!("chunk {} does not decrypt", chunk.address)))?;
    Ok(Arc::new(plain))
}

/// The associated data binding a chunk's ciphertext to its file and index.
pub(super) fn chunk_aad(file: &Address, index: u64) -> Vec<u8> {
    let mut aad = b"infinit/fs/chunk/v1".to_vec();
    aad.extend_from_slice(&file.0);
    aad.extend_from_slice(&index.to_be_bytes());
    aad
}

impl FileSystem {
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
        let flushed = self.flush(address).await;
        let (destroy, closed) = {
            let mut open = lock(&self.open);
            match open.get_mut(&address) {
                Some(f) => {
                    f.handles = f.handles.saturating_sub(1);
                    if f.handles == 0 { (f.unlinked, open.remove(&address)) } else { (false, None) }
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
            let store = self.store.clone();
            let keys = self.keys.clone();
            tokio::spawn(async move {
                if let Ok(Ok(chunk)) = task.await {
                    // Best effort: `volume check` reports what could not be removed.
                    let _ = store.remove(Tombstone::for_content(&keys, chunk.address)).await;
                }
            });
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

    /// The plaintext of chunk `index`, shared with the chunk cache (no copy).
    async fn chunk_shared(&self, address: Address, index: u64) -> FsResult<Arc<Vec<u8>>> {
        let stored = {
            let open = lock(&self.open);
            match open.get(&address) {
                Some(f) => {
                    if let Some(buf) = f.dirty.get(&index) {
                        return Ok(Arc::new(buf.clone()));
                    }
                    if let Some((_, plain)) = f.sealing.get(&index) {
                        return Ok(plain.clone());
                    }
                    f.stored.get(&index).copied()
                }
                None => None,
            }
        };
        let chunk = match stored {
            Some(c) => Some(c),
            None => {
                let found = self
                    .view(address, |node| match node {
                        Node::File { inline, chunks, .. } if chunks.is_empty() => {
                            Ok(Err(if index == 0 { inline.clone() } else { Vec::new() }))
                        }
                        Node::File { chunks, .. } => Ok(Ok(chunks.get(&index).copied())),
                        _ => Err(FsError::IsDirectory),
                    })
                    .await??;
                match found {
                    Ok(chunk) => chunk,
                    Err(inline) => return Ok(Arc::new(inline)),
                }
            }
        };
        match chunk {
            Some(c) => self.fetch_chunk(address, index, c).await,
            None => Ok(Arc::new(Vec::new())),
        }
    }

    /// The shared cell of chunk `address` in the cache (created if absent).
    fn chunk_cell(&self, address: Address) -> ChunkCell {
        let mut cache = lock(&self.chunks);
        if let Some((_, cell)) = cache.0.iter().find(|(a, _)| *a == address) {
            return cell.clone();
        }
        let cell = ChunkCell::default();
        cache.0.push_back((address, cell.clone()));
        if cache.0.len() > CHUNK_CACHE {
            cache.0.pop_front();
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
            lock(&self.chunks).0.retain(|(a, _)| *a != chunk.address);
            FsError::Corrupt(why)
        })
    }

    /// Start fetching the stored chunks after `last` in the background.
    async fn read_ahead(&self, address: Address, last: u64) {
        if lock(&self.open)
            .get(&address)
            .is_some_and(|f| !f.dirty.is_empty() || !f.stored.is_empty() || !f.sealing.is_empty())
        {
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
        store_chunk(self.store.clone(), file, index, plain).await
    }

    /// Store a full chunk in the background (at most [`UPLOADS_IN_FLIGHT`]
    /// per file: beyond, wait for the oldest).
    async fn upload(&self, file: Address, index: u64, plain: Vec<u8>) -> FsResult<()> {
        let plain = Arc::new(plain);
        let store = self.store.clone();
        let task_plain = plain.clone();
        let task = tokio::spawn(async move { store_chunk(store, file, index, &task_plain).await });
        let waiting = {
            let mut open = lock(&self.open);
            let Some(f) = open.get_mut(&file) else { return Ok(()) };
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
                            f.dirty.entry(index).or_insert_with(|| Arc::unwrap_or_clone(plain));
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
        let _io = self.io.lock().await;
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

    /// Write `data` at `offset`; returns the number of bytes written.
    pub async fn write(&self, address: Address, offset: u64, data: &[u8]) -> FsResult<u32> {
        let _io = self.io.lock().await;
        self.ensure_state(address).await?;
        let bs = self.block_size;
        let end = offset
            .checked_add(data.len() as u64)
            .ok_or_else(|| FsError::Invalid("write beyond the largest file size".into()))?;
        let mut pos = offset;
        let mut consumed = 0usize;
        while pos < end {
            let index = pos / bs;
            let within = (pos % bs) as usize;
            let n = ((bs - within as u64).min(end - pos)) as usize;
            let taken = lock(&self.open).get_mut(&address).and_then(|f| f.dirty.remove(&index));
            let mut buf = match taken {
                Some(b) => b,
                None => self.chunk_plain(address, index).await?,
            };
            if buf.len() < within + n {
                buf.resize(within + n, 0);
            }
            buf[within..within + n].copy_from_slice(&data[consumed..consumed + n]);
            if buf.len() as u64 == bs {
                self.upload(address, index, buf).await?;
            } else if let Some(f) = lock(&self.open).get_mut(&address) {
                f.dirty.insert(index, buf);
            }
            pos += n as u64;
            consumed += n;
        }
        if let Some(f) = lock(&self.open).get_mut(&address) {
            f.size = f.size.max(end);
            f.header_dirty = true;
            f.modified = Some(Time::now());
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

    /// `fsync`: flush the file (or every file), write every changed node,
    /// and make everything stored durable. Reports a failure of the
    /// background flusher since the last call.
    pub async fn sync(&self, address: Option<Address>) -> FsResult<()> {
        match address {
            Some(address) => self.flush(address).await?,
            None => self.flush_all().await?,
        }
        self.flush_metadata().await?;
        self.store.sync().await?;
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
        {
            let _io = self.io.lock().await;
            self.flush_locked(address).await?;
        }
        if self.durable_close {
            self.flush_metadata().await?;
        }
        Ok(())
    }

    /// Store the file's pending chunks, then record its new header as an
    /// intent. Nothing is taken out of the open file before it is stored:
    /// a failed store leaves every buffer in place for the next attempt,
    /// so a transient error never turns written data into a hole.
    /// Chunks stored before a failure stay in the open file; if it is
    /// closed without a successful flush, [`FileSystem::discard`] removes
    /// them.
    async fn flush_locked(&self, address: Address) -> FsResult<()> {
        self.finish_uploads(address, 0).await?;
        let (size, mut indices) = {
            let open = lock(&self.open);
            let Some(f) = open.get(&address).filter(|f| f.header_dirty) else {
                return Ok(());
            };
            (f.size, f.dirty.keys().copied().collect::<Vec<u64>>())
        };
        let (old_inline, old_chunks) = match self.load_node(address).await? {
            Node::File { inline, chunks, .. } => (inline, chunks),
            Node::Directory { .. } => return Err(FsError::IsDirectory),
            Node::Symlink { .. } | Node::Special { .. } => return Err(FsError::Invalid("not a regular file".into())),
        };
        let bs = self.block_size;
        let inline_limit = INLINE_MAX.min(bs);
        let last = size.div_ceil(bs);
        let mut inline = Vec::new();
        if size <= inline_limit {
            inline = self.chunk_plain(address, 0).await?;
            inline.resize(size as usize, 0);
        } else {
            // Chunk 0 may still live inline in the header: give it a block.
            let stored_zero = lock(&self.open).get(&address).is_some_and(|f| f.stored.contains_key(&0));
            if old_chunks.is_empty() && !old_inline.is_empty() && !indices.contains(&0) && !stored_zero {
                let plain = self.chunk_plain(address, 0).await?;
                if let Some(f) = lock(&self.open).get_mut(&address) {
                    f.dirty.insert(0, plain);
                }
                indices.insert(0, 0);
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
        }
        let stored: BTreeMap<u64, Chunk> = lock(&self.open).get(&address).map(|f| f.stored.clone()).unwrap_or_default();
        let mut chunks: BTreeMap<u64, Chunk> = BTreeMap::new();
        if size > inline_limit {
            chunks.extend(old_chunks.range(..last).map(|(i, c)| (*i, *c)));
            chunks.extend(stored.range(..last).map(|(i, c)| (*i, *c)));
        }
        let kept: std::collections::HashSet<Address> = chunks.values().map(|c| c.address).collect();
        let dropped: Vec<Address> = old_chunks.values().map(|c| c.address).filter(|a| !kept.contains(a)).collect();
        let unused: Vec<Address> = stored.values().map(|c| c.address).filter(|a| !kept.contains(a)).collect();
        let modified = lock(&self.open).get(&address).and_then(|f| f.modified);
        let intent = Intent::Content { size, inline, chunks, time: modified.unwrap_or_else(Time::now) };
        let recorded = self.change(address, intent, Vec::new()).await?;
        for chunk in unused {
            self.remove_unnamed_chunk(address, chunk);
        }
        for chunk in dropped {
            // The stored header names them until this change is stored.
            self.remove_chunk(chunk, vec![recorded]);
        }
        if let Some(f) = lock(&self.open).get_mut(&address) {
            f.stored.retain(|i, c| stored.get(i).is_none_or(|s| s.address != c.address));
            f.header_dirty = !f.dirty.is_empty() || !f.stored.is_empty();
            if !f.header_dirty {
                f.modified = None;
            }
        }
        Ok(())
    }

    /// Set the size to `size`, dropping or zero-extending content.
    pub async fn truncate(&self, address: Address, size: u64) -> FsResult<()> {
        let _io = self.io.lock().await;
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
                let dropped = f.stored.split_off(&last);
                if partial > 0 {
                    f.dirty.insert(last, tail);
                }
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
