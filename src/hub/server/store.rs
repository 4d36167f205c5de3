//! The hub's database: one redb file of JSON records, read directly by the
//! request handlers and written by one writer thread that commits every
//! write waiting in its queue in one durable transaction (group commit:
//! sixteen concurrent pushes cost one fsync, not sixteen).
//!
//! A write is a closure run inside the shared transaction. It must decide
//! before it writes: the batch is committed whatever each closure answers,
//! so a closure that writes and then refuses keeps its writes (the pairing
//! counter of wrong passphrases relies on that).
//!
//! Keys join their parts with `\n`, which no name contains: a network is
//! `alice/home`, its passport for bob `alice/home\nbob`, a node's endpoints
//! `alice/home\nbob\n<node id>`, so every listing is a prefix scan.

use std::path::Path;
use std::sync::Arc;

use axum::http::StatusCode;
use redb::{Database, Durability, ReadTransaction, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// A table of JSON records by key.
pub type Records = TableDefinition<'static, &'static str, &'static [u8]>;

/// Users by name: [`super::users::UserRecord`].
pub const USERS: Records = TableDefinition::new("users_v1");
/// Index `#abcdef\nname` of users by short key hash.
pub const USER_HASHES: Records = TableDefinition::new("user_hashes_v1");
/// Networks by qualified name: the owner's descriptor.
pub const NETWORKS: Records = TableDefinition::new("networks_v1");
/// Passports by `network\nholder`.
pub const PASSPORTS: Records = TableDefinition::new("passports_v1");
/// Index `holder\nnetwork` of passports by holder.
pub const HOLDERS: Records = TableDefinition::new("passport_holders_v1");
/// Volumes by qualified name.
pub const VOLUMES: Records = TableDefinition::new("volumes_v1");
/// Index `network\nvolume` of volumes by network.
pub const NETWORK_VOLUMES: Records = TableDefinition::new("network_volumes_v1");
/// Key-value stores by qualified name (opaque JSON).
pub const KVS: Records = TableDefinition::new("kvs_v1");
/// Index `network\nkvs` of key-value stores by network.
pub const NETWORK_KVS: Records = TableDefinition::new("network_kvs_v1");
/// Drives by qualified name: [`super::drives::Drive`].
pub const DRIVES: Records = TableDefinition::new("drives_v1");
/// Index `invitee\ndrive` of drives by invitee.
pub const DRIVE_MEMBERS: Records = TableDefinition::new("drive_members_v1");
/// Published endpoints by `network\nuser\nnode`.
pub const ENDPOINTS: Records = TableDefinition::new("endpoints_v1");
/// Storage statistics by `network\nuser\nnode`.
pub const STATS: Records = TableDefinition::new("stats_v1");
/// Device pairings by user.
pub const PAIRINGS: Records = TableDefinition::new("pairings_v1");
/// Signatures of recent signed requests, by `expiry (8 bytes, big endian)
/// || first 16 bytes of the signature`, so that expired ones are a range.
pub const SIGNATURES: TableDefinition<'static, &'static [u8], ()> = TableDefinition::new("signatures_v1");

/// Every record table, created when the database is.
const ALL: [Records; 14] = [
    USERS,
    USER_HASHES,
    NETWORKS,
    PASSPORTS,
    HOLDERS,
    VOLUMES,
    NETWORK_VOLUMES,
    KVS,
    NETWORK_KVS,
    DRIVES,
    DRIVE_MEMBERS,
    ENDPOINTS,
    STATS,
    PAIRINGS,
];

/// How many queued writes one transaction takes at most.
const BATCH: usize = 256;

/// What a write answers: the status and JSON body of the response.
pub type Answer = Result<(StatusCode, serde_json::Value), ApiError>;

/// A write to run in the writer's transaction.
pub type Work = Box<dyn FnOnce(&WriteTransaction) -> Answer + Send>;

struct Job {
    work: Work,
    /// A signature to remember (its [`SIGNATURES`] key) with this write.
    signature: Option<[u8; 24]>,
    reply: tokio::sync::oneshot::Sender<Answer>,
}

/// The hub's database.
#[derive(Clone)]
pub struct Store {
    db: Arc<Database>,
    writer: std::sync::mpsc::Sender<Job>,
}

impl Store {
    /// Open (or create) `dir/hub.redb` and start its writer thread.
    pub fn open(dir: &Path) -> Result<Store, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create \"{}\": {e}", dir.display()))?;
        let path = dir.join("hub.redb");
        let db = Database::create(&path).map_err(|e| format!("cannot open \"{}\": {e}", path.display()))?;
        let txn = db.begin_write().map_err(|e| e.to_string())?;
        for table in ALL {
            txn.open_table(table).map_err(|e| e.to_string())?;
        }
        txn.open_table(SIGNATURES).map_err(|e| e.to_string())?;
        txn.commit().map_err(|e| e.to_string())?;
        let db = Arc::new(db);
        let (writer, queue) = std::sync::mpsc::channel::<Job>();
        let writer_db = db.clone();
        std::thread::Builder::new()
            .name("hub-writer".into())
            .spawn(move || write_loop(&writer_db, &queue))
            .map_err(|e| format!("cannot start the database writer: {e}"))?;
        Ok(Store { db, writer })
    }

    /// Run `read` in a read transaction.
    pub fn read<T>(&self, read: impl FnOnce(&ReadTransaction) -> Result<T, ApiError>) -> Result<T, ApiError> {
        let txn = self.db.begin_read()?;
        read(&txn)
    }

    /// Run `work` in the next durable write transaction, remembering
    /// `signature` (a [`SIGNATURES`] key) in the same commit.
    pub async fn write(&self, signature: Option<[u8; 24]>, work: Work) -> Answer {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.writer
            .send(Job { work, signature, reply })
            .map_err(|_| ApiError::storage("the database writer stopped"))?;
        answer.await.map_err(|_| ApiError::storage("the database writer stopped"))?
    }

    /// The signatures remembered and not expired at `now`: their keys.
    pub fn recent_signatures(&self, now: u64) -> Result<Vec<[u8; 24]>, ApiError> {
        self.read(|txn| {
            let table = txn.open_table(SIGNATURES)?;
            let from = now.to_be_bytes();
            let mut keys = Vec::new();
            for row in table.range::<&[u8]>(&from[..]..)? {
                let (key, _) = row?;
                if let Ok(key) = <[u8; 24]>::try_from(key.value()) {
                    keys.push(key);
                }
            }
            Ok(keys)
        })
    }
}

/// The writer thread: take every queued job, run them in one transaction,
/// commit durably, then answer each.
fn write_loop(db: &Database, queue: &std::sync::mpsc::Receiver<Job>) {
    while let Ok(first) = queue.recv() {
        let mut jobs = vec![first];
        while jobs.len() < BATCH {
            match queue.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let mut answers = Vec::with_capacity(jobs.len());
        let committed = (|| -> Result<(), ApiError> {
            let mut txn = db.begin_write()?;
            txn.set_durability(Durability::Immediate).map_err(ApiError::storage)?;
            for job in jobs {
                if let Some(key) = job.signature {
                    txn.open_table(SIGNATURES)?.insert(&key[..], ())?;
                }
                answers.push((job.reply, (job.work)(&txn)));
            }
            txn.commit()?;
            Ok(())
        })();
        for (reply, answer) in answers {
            let answer = match &committed {
                Ok(()) => answer,
                Err(e) => Err(e.clone()),
            };
            let _ = reply.send(answer);
        }
    }
}

/// Join key parts with `\n`.
pub fn key(parts: &[&str]) -> String {
    parts.join("\n")
}

/// Read and parse record `key` of `table`.
pub fn get<T: DeserializeOwned>(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    key: &str,
) -> Result<Option<T>, ApiError> {
    let Some(bytes) = table.get(key)? else { return Ok(None) };
    serde_json::from_slice(bytes.value())
        .map(Some)
        .map_err(|e| ApiError::storage(format!("record \"{}\" does not parse: {e}", key.replace('\n', " "))))
}

/// Serialise and store `value` as record `key` of `table`.
pub fn put<T: Serialize>(
    table: &mut redb::Table<&'static str, &'static [u8]>,
    key: &str,
    value: &T,
) -> Result<(), ApiError> {
    let bytes = serde_json::to_vec(value).map_err(ApiError::storage)?;
    table.insert(key, bytes.as_slice())?;
    Ok(())
}

/// Every key of `table` starting with `prefix`, with its parsed record.
pub fn scan<T: DeserializeOwned>(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    prefix: &str,
) -> Result<Vec<(String, T)>, ApiError> {
    let mut out = Vec::new();
    for row in table.range::<&str>(prefix..)? {
        let (key, value) = row?;
        let key = key.value();
        if !key.starts_with(prefix) {
            break;
        }
        let value = serde_json::from_slice(value.value())
            .map_err(|e| ApiError::storage(format!("record \"{}\" does not parse: {e}", key.replace('\n', " "))))?;
        out.push((key.to_string(), value));
    }
    Ok(out)
}

/// Every key of `table` starting with `prefix`.
pub fn scan_keys(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    prefix: &str,
) -> Result<Vec<String>, ApiError> {
    let mut out = Vec::new();
    for row in table.range::<&str>(prefix..)? {
        let (key, _) = row?;
        let key = key.value();
        if !key.starts_with(prefix) {
            break;
        }
        out.push(key.to_string());
    }
    Ok(out)
}

/// Remove every key of `table` starting with `prefix`; how many went.
pub fn remove_prefix(table: &mut redb::Table<&'static str, &'static [u8]>, prefix: &str) -> Result<usize, ApiError> {
    let keys = scan_keys(table, prefix)?;
    for key in &keys {
        table.remove(key.as_str())?;
    }
    Ok(keys.len())
}

/// Forget what expired by `now`: remembered signatures, pairings, and
/// endpoints not published again within their time to live.
pub fn prune(txn: &WriteTransaction, now: u64, endpoint_ttl: u64) -> Result<(), ApiError> {
    {
        let mut signatures = txn.open_table(SIGNATURES)?;
        let until = now.to_be_bytes();
        signatures.retain_in::<&[u8], _>(..&until[..], |_, _| false)?;
    }
    {
        let mut pairings = txn.open_table(PAIRINGS)?;
        let expired: Vec<String> = scan::<super::pairing::Pairing>(&pairings, "")?
            .into_iter()
            .filter(|(_, p)| p.expires <= now)
            .map(|(k, _)| k)
            .collect();
        for user in expired {
            pairings.remove(user.as_str())?;
        }
    }
    let mut endpoints = txn.open_table(ENDPOINTS)?;
    let stale: Vec<String> = scan::<crate::hub::api::PublishedEndpoints>(&endpoints, "")?
        .into_iter()
        .filter(|(_, e)| e.updated.saturating_add(endpoint_ttl) < now)
        .map(|(k, _)| k)
        .collect();
    for key in stale {
        endpoints.remove(key.as_str())?;
    }
    Ok(())
}
