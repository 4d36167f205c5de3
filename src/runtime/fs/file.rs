//! File content: reads and writes through per-file buffers. A write
//! patches the chunk it touches in RAM; a chunk is encrypted and stored as
//! an immutable content block as soon as it is full, and the header (size,
//! chunk table, or inline data for small files) is written at flush,
//! fsync, release or truncate. Replaced chunks are removed once the new
//! header no longer references them, so nothing leaks.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use super::model::{Chunk, Node, Time};
use super::{FileSystem, FsError, FsResult, lock};
use crate::crypto::{random_bytes, seal};
use crate::runtime::block::{Address, Block, ContentBlock};

/// Files up to this size keep their content inside their header block.
pub const INLINE_MAX: u64 = 64 * 1024;
/// Decrypted chunks kept for sequential reads.
const CHUNK_CACHE: usize = 16;

/// The in-memory state of a file being read or written.
#[derive(Debug, Default)]
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
}

/// Chunks of one file stored concurrently while writing goes on.
const UPLOADS_IN_FLIGHT: usize = 2;

/// Recently decrypted chunks.
#[derive(Debug, Default)]
pub struct ChunkCache(VecDeque<(Address, ChunkCell)>);

/// A chunk being fetched or fetched: readers and read-ahead share it.
type ChunkCell = Arc<tokio::sync::OnceCell<Result<Arc<Vec<u8>>, String>>>;

/// How many chunks past a read are fetched ahead, in the background.
const READ_AHEAD: u64 = 2;

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
    store.store(Block::Content(block)).await?;
    Ok(Chunk { address, key })
}

/// Fetch, check and decrypt one chunk.
async fn load_chunk(
    store: Arc<dyn crate::runtime::consensus::Consensus>,
    file: Address,
    index: u64,
    chunk: Chunk,
) -> FsResult<Arc<Vec<u8>>> {
    let block = match store.fetch(chunk.address).await? {
        Some(Block::Content(c)) => c,
        Some(_) => return Err(FsError::Corrupt(format!("chunk {} is not a content block", chunk.address))),
        None => return Err(FsError::Corrupt(format!("chunk {} is missing", chunk.address))),
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
        };
        let mut open = lock(&self.open);
        let file = open.entry(address).or_insert_with(|| OpenFile { size, ..Default::default() });
        file.handles += 1;
        Ok(())
    }

    /// Close one handle: flush, and destroy the file if it was unlinked.
    pub async fn release(&self, address: Address) -> FsResult<()> {
        let flushed = self.flush(address).await;
        let destroy = {
            let mut open = lock(&self.open);
            match open.get_mut(&address) {
                Some(f) => {
                    f.handles = f.handles.saturating_sub(1);
                    if f.handles == 0 {
                        let unlinked = f.unlinked;
                        open.remove(&address);
                        unlinked
                    } else {
                        false
                    }
                }
                None => false,
            }
        };
        if destroy {
            self.destroy(address);
        }
        flushed
    }

    /// Make sure a state exists for `address` (for writes without open handles).
    async fn ensure_state(&self, address: Address) -> FsResult<()> {
        if lock(&self.open).contains_key(&address) {
            return Ok(());
        }
        let size = match self.load_node(address).await? {
            Node::File { size, .. } => size,
            Node::Directory { .. } => return Err(FsError::IsDirectory),
            Node::Symlink { .. } => return Err(FsError::Invalid("not a regular file".into())),
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
                        Node::File { chunks, .. } => Ok(Ok(chunks.get(index as usize).copied().flatten())),
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
                Node::File { chunks, .. } => (last + 1..=last + READ_AHEAD)
                    .filter_map(|i| chunks.get(i as usize).copied().flatten().map(|c| (i, c)))
                    .collect(),
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

    /// Wait for uploads of `file` until at most `keep` are in flight.
    async fn finish_uploads(&self, file: Address, keep: usize) -> FsResult<()> {
        loop {
            let next = {
                let mut open = lock(&self.open);
                match open.get_mut(&file) {
                    Some(f) if f.uploads.len() > keep => f.uploads.pop_front(),
                    _ => None,
                }
            };
            let Some((index, number, task)) = next else { return Ok(()) };
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
                    return Err(e);
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
                self.remove_chunk(old.address);
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
                Node::Symlink { .. } => return Err(FsError::Invalid("not a regular file".into())),
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

    /// Store pending chunks and write the header.
    pub async fn flush(&self, address: Address) -> FsResult<()> {
        let _io = self.io.lock().await;
        // The header itself goes with the next metadata batch (or `fsync`),
        // so closing many small files costs one write each, not two.
        self.flush_locked(address).await
    }

    async fn flush_locked(&self, address: Address) -> FsResult<()> {
        self.finish_uploads(address, 0).await?;
        let (size, dirty) = {
            let mut open = lock(&self.open);
            let Some(f) = open.get_mut(&address) else {
                return Ok(());
            };
            if !f.header_dirty {
                return Ok(());
            }
            (f.size, std::mem::take(&mut f.dirty))
        };
        let bs = self.block_size;
        let inline_limit = INLINE_MAX.min(bs);
        let mut inline = Vec::new();
        let mut new_chunks: BTreeMap<u64, Chunk> =
            lock(&self.open).get_mut(&address).map(|f| std::mem::take(&mut f.stored)).unwrap_or_default();
        if size <= inline_limit {
            inline = self.chunk_plain_with(address, 0, &dirty, &new_chunks).await?;
            inline.resize(size as usize, 0);
            for (_, c) in std::mem::take(&mut new_chunks) {
                self.remove_chunk(c.address);
            }
        } else {
            // Chunk 0 may still live inline in the header: give it a block.
            let was_inline = matches!(self.load_node(address).await?, Node::File { ref chunks, ref inline, .. } if chunks.is_empty() && !inline.is_empty());
            let mut pending = dirty;
            if was_inline && !pending.contains_key(&0) && !new_chunks.contains_key(&0) {
                let plain = self.chunk_plain_with(address, 0, &pending, &new_chunks).await?;
                pending.insert(0, plain);
            }
            let last = size.div_ceil(bs);
            for (index, mut plain) in pending {
                if index >= last {
                    continue;
                }
                let keep = (size - index * bs).min(bs) as usize;
                plain.truncate(keep);
                let chunk = self.store_chunk(address, index, &plain).await?;
                if let Some(old) = new_chunks.insert(index, chunk) {
                    self.remove_chunk(old.address);
                }
            }
        }
        let count = if inline.is_empty() && size > inline_limit { size.div_ceil(bs) as usize } else { 0 };
        let now = Time::now();
        let mut dropped = Vec::new();
        self.modify(address, |node| {
            let Node::File { size: s, inline: i, chunks, meta, .. } = node else {
                return Err(FsError::IsDirectory);
            };
            let old: Vec<Chunk> = chunks.iter().flatten().copied().collect();
            chunks.resize(count, None);
            for (&index, &chunk) in &new_chunks {
                if (index as usize) < count {
                    chunks[index as usize] = Some(chunk);
                }
            }
            *s = size;
            *i = inline.clone();
            meta.mtime = now;
            meta.ctime = now;
            let kept: std::collections::HashSet<Address> = chunks.iter().flatten().map(|c| c.address).collect();
            dropped = old.into_iter().filter(|c| !kept.contains(&c.address)).collect();
            Ok(())
        })
        .await?;
        for (&index, chunk) in &new_chunks {
            if index as usize >= count {
                self.remove_chunk(chunk.address);
            }
        }
        for chunk in dropped {
            self.remove_chunk(chunk.address);
        }
        if let Some(f) = lock(&self.open).get_mut(&address) {
            f.header_dirty = !f.dirty.is_empty() || !f.stored.is_empty();
        }
        Ok(())
    }

    /// [`FileSystem::chunk_plain`] looking first at buffers taken out of the state.
    async fn chunk_plain_with(
        &self,
        address: Address,
        index: u64,
        dirty: &BTreeMap<u64, Vec<u8>>,
        stored: &BTreeMap<u64, Chunk>,
    ) -> FsResult<Vec<u8>> {
        if let Some(buf) = dirty.get(&index) {
            return Ok(buf.clone());
        }
        if let Some(c) = stored.get(&index) {
            return Ok(self.fetch_chunk(address, index, *c).await?.to_vec());
        }
        self.chunk_plain(address, index).await
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
                self.remove_chunk(c.address);
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
            lock(&self.open).remove(&address);
        }
        Ok(())
    }
}
