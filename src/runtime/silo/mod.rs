//! Silos: where a node keeps the encoded blocks it stores, keyed by block
//! address. The [`Silo`] trait is dyn-compatible (boxed futures) so a node
//! holds an `Arc<dyn Silo>` whatever the backend; every backend applies the
//! same insert/update/upsert semantics and capacity rule, checked by one
//! shared conformance test. Persistent silos carry a [`marker`] naming
//! them, checked before a node serves them.

pub mod cloud;
pub mod filesystem;
pub mod marker;
pub mod memory;

#[cfg(test)]
mod conformance;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;

pub use cloud::{CloudConfig, CloudSilo, GcsConfig, S3Config};
pub use filesystem::{Durability, FilesystemSilo};
pub use marker::{Mismatch, Place, SiloId};
pub use memory::MemorySilo;

use super::block::Address;

/// The future returned by silo operations.
pub type SiloFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, SiloError>> + Send + 'a>>;

/// The future of [`Silo::get_many`]: one result per key.
pub type BatchFuture<'a, T> = Pin<Box<dyn Future<Output = Vec<Result<T, SiloError>>> + Send + 'a>>;

/// How [`Silo::set`] treats an existing or missing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetMode {
    /// Store a new key; fail with [`SiloError::Exists`] if it is present.
    Insert,
    /// Replace an existing key; fail with [`SiloError::NotFound`] if it is missing.
    Update,
    /// Store whether or not the key is present.
    Upsert,
}

/// What went wrong in a silo operation.
#[derive(Debug, thiserror::Error)]
pub enum SiloError {
    /// No block is stored under the key.
    #[error("no block {key} in this silo")]
    NotFound { key: Address },
    /// An insert found the key already present.
    #[error("block {key} is already in this silo")]
    Exists { key: Address },
    /// Storing would exceed the silo's capacity.
    #[error("silo {silo:?} is full: {needed} more bytes needed, {free} free")]
    Full { silo: String, needed: u64, free: u64 },
    /// Another process already serves the silo's folder.
    #[error("silo folder {} is in use by another process", path.display())]
    Busy { path: PathBuf },
    /// A cloud bucket could not be reached or refused a request.
    #[error("silo {silo:?} ({location}): {why}")]
    Remote {
        silo: String,
        /// The bucket and endpoint.
        location: String,
        /// What failed and what to do about it, on one line.
        why: String,
    },
    /// The silo's settings cannot work (bad bucket name, endpoint, key...).
    #[error("silo {silo:?} is misconfigured: {why}")]
    Invalid { silo: String, why: String },
    /// The folder or bucket is missing or is not this silo's: serving it
    /// would show an empty or foreign volume.
    #[error("silo {silo:?}: {place} {why}; {}", place.remedy())]
    NotThisSilo { silo: String, place: Place, why: Mismatch },
    /// A folder asked to be erased does not carry the silo's own marker.
    #[error("silo {silo:?}: refusing to erase folder {}: {why}", path.display())]
    NotErasable { silo: String, path: PathBuf, why: String },
    /// The operating system refused a file operation.
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
}

impl SiloError {
    /// Whether the message already names the silo (callers then need not).
    pub fn names_silo(&self) -> bool {
        matches!(
            self,
            SiloError::Full { .. }
                | SiloError::Remote { .. }
                | SiloError::Invalid { .. }
                | SiloError::NotThisSilo { .. }
                | SiloError::NotErasable { .. }
        )
    }
}

/// A store of encoded blocks keyed by address.
pub trait Silo: Send + Sync + std::fmt::Debug {
    /// The silo's name, for messages.
    fn name(&self) -> &str;

    /// The bytes stored under `key`.
    fn get(&self, key: Address) -> SiloFuture<'_, Vec<u8>>;

    /// The bytes stored under each of `keys`, in order, each as
    /// [`Silo::get`] would answer. Backends that can read several keys for
    /// the price of one hand-off (one blocking task) override it.
    fn get_many(&self, keys: Vec<Address>) -> BatchFuture<'_, Vec<u8>> {
        Box::pin(futures_util::future::join_all(keys.into_iter().map(|key| self.get(key))))
    }

    /// The first `len` bytes stored under `key` (all of them if fewer):
    /// what a removal reads of a block it erases, to learn the block's kind
    /// and owner without reading a megabyte of chunk. Backends that can
    /// read part of a value override it.
    fn get_head(&self, key: Address, len: usize) -> SiloFuture<'_, Vec<u8>> {
        Box::pin(async move {
            let mut bytes = self.get(key).await?;
            bytes.truncate(len);
            Ok(bytes)
        })
    }

    /// Store `bytes` under `key` following `mode`, within capacity.
    fn set(&self, key: Address, bytes: Vec<u8>, mode: SetMode) -> SiloFuture<'_, ()>;

    /// Remove the bytes stored under `key`.
    fn erase(&self, key: Address) -> SiloFuture<'_, ()>;

    /// Every key stored, in ascending order.
    fn list(&self) -> SiloFuture<'_, Vec<Address>>;

    /// Every key stored with the size of its bytes, in ascending key order
    /// (no block is read).
    fn list_sized(&self) -> SiloFuture<'_, Vec<(Address, u64)>>;

    /// The keys of blocks of at most `max` bytes, with their sizes, in
    /// ascending key order: what [`Silo::list_sized`] gives, without
    /// holding the list of every block where the silo can avoid it.
    fn list_up_to(&self, max: u64) -> SiloFuture<'_, Vec<(Address, u64)>> {
        Box::pin(async move { Ok(self.list_sized().await?.into_iter().filter(|(_, size)| *size <= max).collect()) })
    }

    /// Bytes currently stored (payload sizes, not disk blocks).
    fn usage(&self) -> u64;

    /// The most bytes this silo may hold, if limited.
    fn capacity(&self) -> Option<u64>;

    /// Make every write done so far durable (a no-op where writes already are).
    fn sync(&self) -> SiloFuture<'_, ()> {
        Box::pin(async { Ok(()) })
    }
}

/// Check `mode` against whether `key` exists.
fn check_mode(key: Address, mode: SetMode, exists: bool) -> Result<(), SiloError> {
    match (mode, exists) {
        (SetMode::Insert, true) => Err(SiloError::Exists { key }),
        (SetMode::Update, false) => Err(SiloError::NotFound { key }),
        _ => Ok(()),
    }
}

/// Check that replacing `old` bytes by `new` bytes fits in `capacity`.
fn check_capacity(silo: &str, capacity: Option<u64>, usage: u64, old: u64, new: u64) -> Result<(), SiloError> {
    let Some(capacity) = capacity else {
        return Ok(());
    };
    if new <= old {
        return Ok(());
    }
    let needed = new - old;
    let free = capacity.saturating_sub(usage);
    if needed > free {
        return Err(SiloError::Full { silo: silo.to_owned(), needed, free });
    }
    Ok(())
}
