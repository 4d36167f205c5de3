//! The journal's on-disk format and folder layout. Each pending operation is
//! one file `<sequence, 20 digits>.op` holding a format-version byte, the
//! postcard encoding of a [`Record`] (sequence, time, kind, address, the
//! block's canonical bytes and those of the version it was built on) and a
//! BLAKE3 checksum of everything before it.
//! Files are written to a dot-prefixed temporary name, fsynced, renamed and
//! the folder fsynced, so a crash leaves a whole operation or none. Refused
//! operations move to `rejected/` next to a `.why` text file.

use std::fs::{self, File};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::JournalError;
use crate::crypto::hash;
use crate::runtime::block::{Address, Block};

/// The format version this build writes: 2 keeps the base version.
pub const FORMAT_VERSION: u8 = 2;
/// The first format (no base version), still read.
const FORMAT_NO_BASE: u8 = 1;
/// Domain of the checksum closing each operation file.
const CHECKSUM: &str = "infinit 2026 journal operation checksum v1";
/// Suffix of operation files.
const OP_SUFFIX: &str = ".op";
/// Suffix of temporary files; their names also start with a dot.
const TEMP_SUFFIX: &str = ".tmp";
/// Suffix of the text file explaining why an operation was rejected.
const WHY_SUFFIX: &str = ".why";
/// Subfolder receiving operations the inner consensus refused.
pub const REJECTED_DIR: &str = "rejected";
/// File in the journal folder that the serving process holds a lock on.
pub const LOCK_FILE: &str = ".lock";

/// What an operation does to its address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OperationKind {
    /// Store a block where none was known.
    Insert,
    /// Store a new version of a known block.
    Update,
    /// Remove the block (the operation holds a tombstone).
    Remove,
}

impl std::fmt::Display for OperationKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            OperationKind::Insert => "insert",
            OperationKind::Update => "update",
            OperationKind::Remove => "remove",
        })
    }
}

/// One journaled operation, as `infinit journal describe` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationSummary {
    /// Position in the journal; operations apply in increasing order.
    pub sequence: u64,
    /// The block's address.
    pub address: Address,
    /// Insert, update or remove.
    pub kind: OperationKind,
    /// Size of the block's canonical encoding in bytes.
    pub size: u64,
    /// When the operation was journaled.
    pub time: SystemTime,
}

/// An operation the inner consensus refused, kept in `rejected/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedOperation {
    /// The refused operation.
    pub operation: OperationSummary,
    /// The refusal, as the inner consensus worded it.
    pub why: String,
}

/// The serialized body of an operation file.
#[derive(Serialize, Deserialize)]
struct Record {
    sequence: u64,
    /// Milliseconds since the Unix epoch.
    time_ms: u64,
    kind: OperationKind,
    address: Address,
    /// [`Block::encode`] of the block, or of the tombstone for a removal.
    #[serde(with = "serde_bytes")]
    block: Vec<u8>,
    /// [`Block::encode`] of the version this one replaces, if known: what a
    /// conflict at replay is resolved against.
    #[serde(with = "serde_bytes")]
    base: Vec<u8>,
}

/// The body of a format-1 operation file.
#[derive(Deserialize)]
struct RecordNoBase {
    sequence: u64,
    time_ms: u64,
    kind: OperationKind,
    address: Address,
    #[serde(with = "serde_bytes")]
    block: Vec<u8>,
}

/// A decoded operation file.
#[derive(Debug, Clone)]
pub struct Operation {
    /// What the file describes.
    pub summary: OperationSummary,
    /// The block to store, or the tombstone to apply.
    pub block: Block,
    /// The version `block` replaces, if it was known when journaled.
    pub base: Option<Block>,
}

/// The name of operation `sequence`'s file (zero-padded so names sort in order).
pub fn file_name(sequence: u64) -> String {
    format!("{sequence:020}{OP_SUFFIX}")
}

/// The sequence number an operation file name carries, if it is one.
fn parse_file_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(OP_SUFFIX)?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

pub(super) fn io_at(path: &Path) -> impl FnOnce(io::Error) -> JournalError + '_ {
    move |source| JournalError::Io { path: path.to_owned(), source }
}

/// Encode `block` as operation `sequence` of `kind`, stamped `time`.
pub fn encode(
    sequence: u64,
    kind: OperationKind,
    block: &Block,
    base: Option<&Block>,
    time: SystemTime,
) -> Result<(Vec<u8>, OperationSummary), JournalError> {
    let address = block.address();
    let encoded = block.encode().map_err(|e| JournalError::Encode { address, why: e.to_string() })?;
    let base = match base {
        Some(b) => b.encode().map_err(|e| JournalError::Encode { address, why: e.to_string() })?,
        None => Vec::new(),
    };
    let time_ms =
        time.duration_since(UNIX_EPOCH).map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)).unwrap_or(0);
    let summary = OperationSummary {
        sequence,
        address,
        kind,
        size: encoded.len() as u64,
        time: UNIX_EPOCH + Duration::from_millis(time_ms),
    };
    let record = Record { sequence, time_ms, kind, address, block: encoded, base };
    let mut out = vec![FORMAT_VERSION];
    postcard::to_io(&record, &mut out).map_err(|e| JournalError::Encode { address, why: e.to_string() })?;
    let checksum = hash::hash(CHECKSUM, &[&out]);
    out.extend_from_slice(&checksum);
    Ok((out, summary))
}

/// Decode the operation file at `path` (its name must match its sequence).
pub fn decode(path: &Path, bytes: &[u8]) -> Result<Operation, JournalError> {
    let corrupt = |why: String| JournalError::Corrupt { path: path.to_owned(), why };
    let Some((&version, _)) = bytes.split_first() else {
        return Err(corrupt("the file is empty".into()));
    };
    if version != FORMAT_VERSION && version != FORMAT_NO_BASE {
        return Err(JournalError::UnsupportedFormat {
            path: path.to_owned(),
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    let Some(split) = bytes.len().checked_sub(32).filter(|&n| n > 1) else {
        return Err(corrupt(format!("only {} bytes long", bytes.len())));
    };
    let (body, checksum) = bytes.split_at(split);
    if hash::hash(CHECKSUM, &[body]) != checksum {
        return Err(corrupt("checksum mismatch (truncated or altered)".into()));
    }
    let (record, rest): (Record, _) = if version == FORMAT_NO_BASE {
        let (r, rest): (RecordNoBase, _) = postcard::take_from_bytes(&body[1..]).map_err(|e| corrupt(e.to_string()))?;
        let RecordNoBase { sequence, time_ms, kind, address, block } = r;
        (Record { sequence, time_ms, kind, address, block, base: Vec::new() }, rest)
    } else {
        postcard::take_from_bytes(&body[1..]).map_err(|e| corrupt(e.to_string()))?
    };
    if !rest.is_empty() {
        return Err(corrupt(format!("{} trailing bytes", rest.len())));
    }
    let named = path.file_name().and_then(|n| n.to_str()).and_then(parse_file_name);
    if named.is_some_and(|n| n != record.sequence) {
        return Err(corrupt(format!("holds operation {} under another number's name", record.sequence)));
    }
    let block = Block::decode(&record.block).map_err(|e| corrupt(e.to_string()))?;
    if block.address() != record.address {
        return Err(corrupt(format!("block derives {}, not the recorded {}", block.address(), record.address)));
    }
    let base = if record.base.is_empty() {
        None
    } else {
        Some(Block::decode(&record.base).map_err(|e| corrupt(format!("base version: {e}")))?)
    };
    let is_removal = matches!(block, Block::Tombstone(_));
    if is_removal != (record.kind == OperationKind::Remove) {
        return Err(corrupt(format!("a {} cannot {}", block.kind(), record.kind)));
    }
    Ok(Operation {
        summary: OperationSummary {
            sequence: record.sequence,
            address: record.address,
            kind: record.kind,
            size: record.block.len() as u64,
            time: UNIX_EPOCH + Duration::from_millis(record.time_ms),
        },
        block,
        base,
    })
}

/// Read and decode the operation file at `path`.
pub fn read(path: &Path) -> Result<Operation, JournalError> {
    let bytes = fs::read(path).map_err(io_at(path))?;
    decode(path, &bytes)
}

/// Durably write `bytes` as operation `sequence` in `dir`.
pub fn write(dir: &Path, sequence: u64, bytes: &[u8]) -> Result<PathBuf, JournalError> {
    let path = dir.join(file_name(sequence));
    let temp = dir.join(format!(".{}{TEMP_SUFFIX}", file_name(sequence)));
    let written = File::create(&temp)
        .and_then(|mut file| {
            file.write_all(bytes)?;
            file.sync_all()
        })
        .map_err(io_at(&temp))
        .and_then(|()| fs::rename(&temp, &path).map_err(io_at(&path)));
    if let Err(e) = written {
        let _ = fs::remove_file(&temp);
        return Err(e);
    }
    sync_dir(dir)?;
    Ok(path)
}

/// Delete an applied operation's file, durably (a replayed old version
/// would otherwise be refused as a rollback).
pub fn delete(dir: &Path, sequence: u64) -> Result<(), JournalError> {
    let path = dir.join(file_name(sequence));
    match fs::remove_file(&path) {
        Ok(()) => sync_dir(dir),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(JournalError::Io { path, source: e }),
    }
}

/// Move operation `sequence` into `rejected/` with the reason next to it.
pub fn reject(dir: &Path, sequence: u64, why: &str) -> Result<(), JournalError> {
    let rejected = dir.join(REJECTED_DIR);
    fs::create_dir_all(&rejected).map_err(io_at(&rejected))?;
    let why_path = rejected.join(format!("{}{WHY_SUFFIX}", file_name(sequence)));
    fs::write(&why_path, format!("{why}\n")).map_err(io_at(&why_path))?;
    let from = dir.join(file_name(sequence));
    let to = rejected.join(file_name(sequence));
    match fs::rename(&from, &to) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(JournalError::Io { path: from, source: e });
        }
    }
    sync_dir(&rejected)?;
    sync_dir(dir)
}

/// Make renames and removals in `dir` durable.
fn sync_dir(dir: &Path) -> Result<(), JournalError> {
    crate::runtime::disk::sync_dir(dir).map_err(io_at(dir))
}

/// The operation files in `dir`, in sequence order. With `clean`, temporary
/// files left by a crash (operations never acknowledged) are deleted.
pub fn list(dir: &Path, clean: bool) -> Result<Vec<(u64, PathBuf)>, JournalError> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_at(dir))? {
        let entry = entry.map_err(io_at(dir))?;
        let path = entry.path();
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            continue;
        };
        if clean && name.starts_with('.') && name.ends_with(TEMP_SUFFIX) {
            match fs::remove_file(&path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => {
                    return Err(JournalError::Io { path, source: e });
                }
                _ => continue,
            }
        }
        if let Some(sequence) = parse_file_name(name) {
            found.push((sequence, path));
        }
    }
    found.sort();
    Ok(found)
}

/// The operations in `rejected/` under `dir`, with their reasons.
pub fn list_rejected(dir: &Path) -> Result<Vec<RejectedOperation>, JournalError> {
    let rejected = dir.join(REJECTED_DIR);
    if !rejected.is_dir() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for (_, path) in list(&rejected, false)? {
        let operation = read(&path)?.summary;
        let mut why_path = path.clone().into_os_string();
        why_path.push(WHY_SUFFIX);
        let why = match fs::read_to_string(&why_path) {
            Ok(text) => text.trim_end().to_owned(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => "reason not recorded".to_owned(),
            Err(e) => return Err(io_at(Path::new(&why_path))(e)),
        };
        out.push(RejectedOperation { operation, why });
    }
    Ok(out)
}
