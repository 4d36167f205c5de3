//! The cloud silo: blocks as objects `<folder>/<64 hex of address>` in an
//! S3-compatible or Google Cloud Storage bucket, through `object_store`.
//! Like the filesystem silo it keeps an in-memory index of block sizes,
//! rebuilt by listing the folder at open, which accounts usage, enforces
//! capacity before writing and answers `list`. It assumes one node serves a
//! folder at a time (buckets offer no lock): the index is then exact. An
//! insert is still guarded remotely by a conditional put (`If-None-Match: *`)
//! so it never overwrites an object another writer created; with conditional
//! puts turned off it checks with a HEAD first, and a writer slipping in
//! between that HEAD and the PUT is overwritten (a documented race).
//! The folder's marker object (`<folder>/.infinit-silo`) is written at the
//! first open of an empty folder and checked at every open after that.

mod config;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use futures_util::TryStreamExt as _;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt as _, PutMode, PutOptions, PutPayload};

pub use config::{CloudConfig, GcsConfig, S3Config};

use super::marker::{self, Decision, MARKER_NAME, Marker, Mismatch, Place};
use super::{Address, SetMode, Silo, SiloError, SiloFuture, SiloId, check_capacity, check_mode};

/// Number of per-key write locks (keys are hashes, so they spread evenly).
const KEY_LOCKS: usize = 64;

/// A silo storing one object per block in a cloud bucket.
#[derive(Debug, Clone)]
pub struct CloudSilo {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    name: String,
    /// `bucket "b" at <endpoint>`, for messages.
    location: String,
    /// The folder inside the bucket, for messages.
    folder: String,
    prefix: Path,
    capacity: Option<u64>,
    /// Whether an insert relies on a conditional put rather than a HEAD.
    conditional_put: bool,
    store: Arc<dyn ObjectStore>,
    index: Mutex<Index>,
    /// Serialize writes and erases of one key, so the size recorded in the
    /// index is the size of the object the last write left.
    key_locks: [tokio::sync::Mutex<()>; KEY_LOCKS],
}

#[derive(Debug, Default)]
struct Index {
    sizes: HashMap<Address, u64>,
    /// Bytes of committed blocks.
    usage: u64,
    /// Growth promised to writes in flight, counted against capacity.
    reserved: u64,
}

impl CloudSilo {
    /// Open the silo in the bucket `config` describes: check the settings,
    /// then list the folder to index its blocks, and check its marker
    /// against `id` (writing it into a folder without blocks). Fails with
    /// [`SiloError::Invalid`] on bad settings, [`SiloError::Remote`]
    /// (naming the endpoint and bucket) when the bucket cannot be listed,
    /// and [`SiloError::NotThisSilo`] when the folder is another silo's.
    pub async fn open(
        name: &str,
        config: CloudConfig,
        id: Option<SiloId>,
        capacity: Option<u64>,
    ) -> Result<Self, SiloError> {
        let invalid = |why: String| SiloError::Invalid { silo: name.to_owned(), why };
        let prefix = config.prefix().map_err(invalid)?;
        let store = config.build().map_err(invalid)?;
        let conditional_put = match &config {
            CloudConfig::S3(s3) => s3.conditional_put,
            CloudConfig::Gcs(_) => true,
        };
        let inner = Inner {
            name: name.to_owned(),
            location: config.location(),
            folder: config.folder().to_owned(),
            prefix,
            capacity,
            conditional_put,
            store,
            index: Mutex::new(Index::default()),
            key_locks: std::array::from_fn(|_| tokio::sync::Mutex::new(())),
        };
        let index = inner.scan().await?;
        inner.check_marker(id, !index.sizes.is_empty()).await?;
        *inner.index() = index;
        Ok(CloudSilo { inner: Arc::new(inner) })
    }

    /// The object key holding `key`'s block.
    pub fn object_key(&self, key: &Address) -> String {
        self.inner.path(key).to_string()
    }
}

impl Inner {
    fn path(&self, key: &Address) -> Path {
        self.prefix.clone().join(key.to_hex())
    }

    fn index(&self) -> MutexGuard<'_, Index> {
        // Every critical section leaves the index consistent before any call
        // that could panic, so a poisoned lock still holds valid data.
        self.index.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn key_lock(&self, key: &Address) -> &tokio::sync::Mutex<()> {
        &self.key_locks[key.0[0] as usize % KEY_LOCKS]
    }

    fn remote(&self, error: &object_store::Error) -> SiloError {
        SiloError::Remote { silo: self.name.clone(), location: self.location.clone(), why: config::describe(error) }
    }

    fn marker_path(&self) -> Path {
        self.prefix.clone().join(MARKER_NAME)
    }

    fn refuse(&self, why: Mismatch) -> SiloError {
        let place = Place::Bucket(format!("{}, folder {:?}", self.location, self.folder));
        SiloError::NotThisSilo { silo: self.name.clone(), place, why }
    }

    /// The folder's marker, if there is one.
    async fn read_marker(&self) -> Result<Option<Marker>, SiloError> {
        let bytes = match self.store.get(&self.marker_path()).await {
            Ok(result) => result.bytes().await.map_err(|e| self.remote(&e))?,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(self.remote(&e)),
        };
        Marker::parse(&bytes).map(Some).map_err(|why| self.refuse(Mismatch::BadMarker(why)))
    }

    /// Check the folder's marker against `expected`, writing it into a
    /// folder without one when [`marker::decide`] says so.
    async fn check_marker(&self, expected: Option<SiloId>, blocks: bool) -> Result<(), SiloError> {
        let found = self.read_marker().await?;
        let id = match marker::decide(&self.name, expected, found.as_ref(), blocks, true) {
            Decision::Serve => return Ok(()),
            Decision::Refuse(why) => return Err(self.refuse(why)),
            Decision::WriteMarker(Some(id)) => id,
            Decision::WriteMarker(None) => SiloId::random().map_err(|e| SiloError::Remote {
                silo: self.name.clone(),
                location: self.location.clone(),
                why: format!("cannot draw a silo id: {e}"),
            })?,
        };
        let mode = if self.conditional_put { PutMode::Create } else { PutMode::Overwrite };
        let payload = PutPayload::from(Marker::new(&self.name, id).to_bytes());
        match self.store.put_opts(&self.marker_path(), payload, PutOptions { mode, ..PutOptions::default() }).await {
            Ok(_) => Ok(()),
            // Another node wrote a marker first: it must be this silo's.
            Err(object_store::Error::AlreadyExists { .. } | object_store::Error::Precondition { .. }) => {
                let found = self.read_marker().await?;
                match marker::decide(&self.name, expected, found.as_ref(), blocks, true) {
                    Decision::Serve => Ok(()),
                    Decision::Refuse(why) => Err(self.refuse(why)),
                    Decision::WriteMarker(_) => {
                        Err(self.refuse(Mismatch::BadMarker("it vanished while written".into())))
                    }
                }
            }
            Err(e) => Err(self.remote(&e)),
        }
    }

    /// Index every block object directly in the folder, skipping anything
    /// else (an operator's notes, objects of a nested folder).
    async fn scan(&self) -> Result<Index, SiloError> {
        let prefix = (!self.prefix.is_root()).then_some(&self.prefix);
        let mut objects = self.store.list(prefix);
        let mut index = Index::default();
        while let Some(meta) = objects.try_next().await.map_err(|e| self.remote(&e))? {
            let Some(mut rest) = meta.location.prefix_match(&self.prefix) else {
                continue;
            };
            let (Some(name), None) = (rest.next(), rest.next()) else {
                continue;
            };
            let Some(address) = Address::from_hex(name.as_ref()) else {
                continue;
            };
            if address.to_hex() != name.as_ref() {
                continue;
            }
            index.sizes.insert(address, meta.size);
            index.usage += meta.size;
        }
        Ok(index)
    }

    async fn get(&self, key: Address) -> Result<Vec<u8>, SiloError> {
        let not_found = |e: &object_store::Error| match e {
            object_store::Error::NotFound { .. } => SiloError::NotFound { key },
            _ => self.remote(e),
        };
        let result = self.store.get(&self.path(&key)).await.map_err(|e| not_found(&e))?;
        let bytes = result.bytes().await.map_err(|e| not_found(&e))?;
        Ok(bytes.to_vec())
    }

    async fn set(&self, key: Address, bytes: Vec<u8>, mode: SetMode) -> Result<(), SiloError> {
        let _key = self.key_lock(&key).lock().await;
        let new = bytes.len() as u64;
        let (old, growth) = {
            let mut index = self.index();
            let old = index.sizes.get(&key).copied();
            check_mode(key, mode, old.is_some())?;
            let old = old.unwrap_or(0);
            check_capacity(&self.name, self.capacity, index.usage + index.reserved, old, new)?;
            let growth = new.saturating_sub(old);
            index.reserved += growth;
            (old, growth)
        };
        let written = self.put(key, bytes, mode).await;
        let mut index = self.index();
        index.reserved -= growth;
        match written {
            Ok(()) => {
                index.sizes.insert(key, new);
                index.usage = index.usage - old + new;
                Ok(())
            }
            Err(Found(size)) => {
                // Another writer created the object: adopt it, so that list
                // and usage match the bucket again.
                if let Some(size) = size {
                    index.sizes.insert(key, size);
                    index.usage += size;
                }
                Err(SiloError::Exists { key })
            }
            Err(Failed(e)) => Err(e),
        }
    }

    /// Write the object; an insert never replaces an existing one.
    async fn put(&self, key: Address, bytes: Vec<u8>, mode: SetMode) -> Result<(), PutError> {
        let path = self.path(&key);
        let put_mode =
            if mode == SetMode::Insert && self.conditional_put { PutMode::Create } else { PutMode::Overwrite };
        if mode == SetMode::Insert && !self.conditional_put {
            match self.store.head(&path).await {
                Ok(meta) => return Err(Found(Some(meta.size))),
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(Failed(self.remote(&e))),
            }
        }
        let options = PutOptions { mode: put_mode, ..PutOptions::default() };
        match self.store.put_opts(&path, PutPayload::from(bytes), options).await {
            Ok(_) => Ok(()),
            Err(object_store::Error::AlreadyExists { .. } | object_store::Error::Precondition { .. }) => {
                let size = self.store.head(&path).await.ok().map(|meta| meta.size);
                Err(Found(size))
            }
            Err(e) => Err(Failed(self.remote(&e))),
        }
    }

    async fn erase(&self, key: Address) -> Result<(), SiloError> {
        let _key = self.key_lock(&key).lock().await;
        if !self.index().sizes.contains_key(&key) {
            return Err(SiloError::NotFound { key });
        }
        match self.store.delete(&self.path(&key)).await {
            // Already gone behind our back: the index catches up below.
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(self.remote(&e)),
        }
        let mut index = self.index();
        if let Some(size) = index.sizes.remove(&key) {
            index.usage -= size;
        }
        Ok(())
    }
}

/// Why a write did not happen.
enum PutError {
    /// The object already exists (an insert), with its size if known.
    Found(Option<u64>),
    /// The request failed.
    Failed(SiloError),
}
use PutError::{Failed, Found};

impl Silo for CloudSilo {
    fn name(&self) -> &str {
        &self.inner.name
    }

    fn get(&self, key: Address) -> SiloFuture<'_, Vec<u8>> {
        Box::pin(self.inner.get(key))
    }

    fn set(&self, key: Address, bytes: Vec<u8>, mode: SetMode) -> SiloFuture<'_, ()> {
        let inner = self.inner.clone();
        // Run to completion even if the caller stops waiting, so the index
        // records every write that reached the bucket.
        Box::pin(async move {
            let task = tokio::spawn(async move { inner.set(key, bytes, mode).await });
            self.joined(task.await)
        })
    }

    fn erase(&self, key: Address) -> SiloFuture<'_, ()> {
        let inner = self.inner.clone();
        Box::pin(async move {
            let task = tokio::spawn(async move { inner.erase(key).await });
            self.joined(task.await)
        })
    }

    fn list(&self) -> SiloFuture<'_, Vec<Address>> {
        let mut keys: Vec<Address> = self.inner.index().sizes.keys().copied().collect();
        keys.sort();
        Box::pin(std::future::ready(Ok(keys)))
    }

    fn list_sized(&self) -> SiloFuture<'_, Vec<(Address, u64)>> {
        let mut sized: Vec<(Address, u64)> = self.inner.index().sizes.iter().map(|(k, s)| (*k, *s)).collect();
        sized.sort();
        Box::pin(std::future::ready(Ok(sized)))
    }

    fn usage(&self) -> u64 {
        self.inner.index().usage
    }

    fn capacity(&self) -> Option<u64> {
        self.inner.capacity
    }
}

impl CloudSilo {
    fn joined(&self, result: Result<Result<(), SiloError>, tokio::task::JoinError>) -> Result<(), SiloError> {
        result.unwrap_or_else(|e| {
            Err(SiloError::Remote {
                silo: self.inner.name.clone(),
                location: self.inner.location.clone(),
                why: format!("the request task failed: {e}"),
            })
        })
    }
}
