//! Durable acceptor state: one [`AcceptorState`] per register, written
//! before the acceptor's reply leaves ([`super::Handled::commit`]). An
//! acceptor that forgets a promise or an accept after a crash can let two
//! values be chosen, so `save` returns only once the state is on disk.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition};

use super::acceptor::AcceptorState;
use crate::runtime::block::Address;

/// Acceptor states by register address, postcard-encoded.
const ACCEPTORS: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("paxos_acceptor_v1");

/// Where acceptor states are kept.
pub trait AcceptorStore {
    /// Why the store failed.
    type Error: std::error::Error;
    /// The state of `register`, `None` if this node never promised on it.
    fn load(&self, register: &Address) -> Result<Option<AcceptorState>, Self::Error>;
    /// Replace the state of `register`; durable when this returns.
    fn save(&self, register: &Address, state: &AcceptorState) -> Result<(), Self::Error>;
}

/// Why an acceptor store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened, read or written.
    #[error("acceptor state store {what}: {why}")]
    Database {
        /// What was being done.
        what: &'static str,
        /// The underlying error.
        why: String,
    },
    /// A stored state does not decode.
    #[error("acceptor state of block {register} is corrupt: {why}")]
    Corrupt {
        /// The register.
        register: Address,
        /// The decoding error.
        why: String,
    },
}

/// Acceptor states in memory (tests, models).
#[derive(Debug, Default)]
pub struct MemoryStore {
    states: Mutex<HashMap<Address, AcceptorState>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }
}

impl AcceptorStore for MemoryStore {
    type Error = std::convert::Infallible;

    fn load(&self, register: &Address) -> Result<Option<AcceptorState>, Self::Error> {
        Ok(self.states.lock().unwrap_or_else(|e| e.into_inner()).get(register).cloned())
    }

    fn save(&self, register: &Address, state: &AcceptorState) -> Result<(), Self::Error> {
        self.states.lock().unwrap_or_else(|e| e.into_inner()).insert(*register, state.clone());
        Ok(())
    }
}

/// Acceptor states in a redb file, each save a durable commit.
#[derive(Debug)]
pub struct RedbStore {
    db: Database,
}

/// The acceptor state's page cache.
const CACHE_BYTES: usize = 32 << 20;

fn db_error<E: std::fmt::Display>(what: &'static str) -> impl Fn(E) -> StoreError {
    move |e| StoreError::Database { what, why: e.to_string() }
}

impl RedbStore {
    /// Open (or create) the store at `path`.
    pub fn open(path: &Path) -> Result<RedbStore, StoreError> {
        // redb caches up to 1 GiB by default: a storage node keeps less.
        let db = redb::Builder::new().set_cache_size(CACHE_BYTES).create(path).map_err(db_error("open"))?;
        let txn = db.begin_write().map_err(db_error("open"))?;
        txn.open_table(ACCEPTORS).map_err(db_error("open"))?;
        txn.commit().map_err(db_error("open"))?;
        Ok(RedbStore { db })
    }
}

impl RedbStore {
    /// Save several registers' states in one durable transaction (one
    /// fsync for all: the group commit of a busy replica).
    pub fn save_many(&self, states: &[(Address, AcceptorState)]) -> Result<(), StoreError> {
        let mut txn = self.db.begin_write().map_err(db_error("write"))?;
        txn.set_durability(Durability::Immediate).map_err(db_error("write"))?;
        {
            let mut table = txn.open_table(ACCEPTORS).map_err(db_error("write"))?;
            for (register, state) in states {
                let bytes = postcard::to_stdvec(state).map_err(db_error("encode"))?;
                table.insert(&register.0, bytes.as_slice()).map_err(db_error("write"))?;
            }
        }
        txn.commit().map_err(db_error("write"))
    }

    /// Every register with acceptor state, and the bytes of the value
    /// accepted there.
    pub fn registers(&self) -> Result<Vec<(Address, u64)>, StoreError> {
        let txn = self.db.begin_read().map_err(db_error("read"))?;
        let table = txn.open_table(ACCEPTORS).map_err(db_error("read"))?;
        let mut all = Vec::new();
        for row in table.iter().map_err(db_error("read"))? {
            let (key, value) = row.map_err(db_error("read"))?;
            all.push((Address(*key.value()), value.value().len() as u64));
        }
        Ok(all)
    }
}

impl AcceptorStore for RedbStore {
    type Error = StoreError;

    fn load(&self, register: &Address) -> Result<Option<AcceptorState>, StoreError> {
        let txn = self.db.begin_read().map_err(db_error("read"))?;
        let table = txn.open_table(ACCEPTORS).map_err(db_error("read"))?;
        let Some(bytes) = table.get(&register.0).map_err(db_error("read"))? else { return Ok(None) };
        postcard::from_bytes(bytes.value())
            .map(Some)
            .map_err(|e| StoreError::Corrupt { register: *register, why: e.to_string() })
    }

    fn save(&self, register: &Address, state: &AcceptorState) -> Result<(), StoreError> {
        let bytes = postcard::to_stdvec(state).map_err(db_error("encode"))?;
        let mut txn = self.db.begin_write().map_err(db_error("write"))?;
        txn.set_durability(Durability::Immediate).map_err(db_error("write"))?;
        {
            let mut table = txn.open_table(ACCEPTORS).map_err(db_error("write"))?;
            table.insert(&register.0, bytes.as_slice()).map_err(db_error("write"))?;
        }
        txn.commit().map_err(db_error("write"))
    }
}
