//! File system errors and the POSIX error numbers they become.

use crate::runtime::block::BlockError;
use crate::runtime::consensus::ConsensusError;
use crate::runtime::silo::SiloError;

/// Why a file system operation failed.
#[derive(Debug, thiserror::Error)]
pub enum FsError {
    #[error("no such file or directory")]
    NotFound,
    #[error("file exists")]
    Exists,
    #[error("directory not empty")]
    NotEmpty,
    #[error("is a directory")]
    IsDirectory,
    #[error("not a directory")]
    NotDirectory,
    #[error("permission denied: {0}")]
    Denied(String),
    #[error("operation not permitted: {0}")]
    NotPermitted(String),
    #[error("no space left: {0}")]
    NoSpace(String),
    #[error("file name too long")]
    NameTooLong,
    #[error("invalid argument: {0}")]
    Invalid(String),
    #[error("no such attribute")]
    NoAttribute,
    #[error("operation not supported: {0}")]
    Unsupported(String),
    #[error("corrupt data: {0}")]
    Corrupt(String),
    #[error("storage error: {0}")]
    Storage(String),
    /// Another mount holds the directory's lease (see `super::lease`):
    /// the operation waits for it and runs again.
    #[error("directory {0} is held by another writer")]
    Busy(crate::runtime::block::Address),
}

impl FsError {
    /// The errno to hand to the kernel.
    pub fn errno(&self) -> i32 {
        match self {
            FsError::NotFound => libc_errno::ENOENT,
            FsError::Exists => libc_errno::EEXIST,
            FsError::NotEmpty => libc_errno::ENOTEMPTY,
            FsError::IsDirectory => libc_errno::EISDIR,
            FsError::NotDirectory => libc_errno::ENOTDIR,
            FsError::Denied(_) => libc_errno::EACCES,
            FsError::NotPermitted(_) => libc_errno::EPERM,
            FsError::NoSpace(_) => libc_errno::ENOSPC,
            FsError::NameTooLong => libc_errno::ENAMETOOLONG,
            FsError::Invalid(_) => libc_errno::EINVAL,
            FsError::NoAttribute => libc_errno::ENODATA,
            FsError::Unsupported(_) => libc_errno::EOPNOTSUPP,
            FsError::Corrupt(_) | FsError::Storage(_) => libc_errno::EIO,
            FsError::Busy(_) => libc_errno::EAGAIN,
        }
    }
}

/// Linux error numbers (stable ABI values), to avoid a libc dependency here.
pub mod libc_errno {
    pub const EPERM: i32 = 1;
    pub const ENOENT: i32 = 2;
    pub const EIO: i32 = 5;
    pub const EAGAIN: i32 = 11;
    pub const EACCES: i32 = 13;
    pub const EEXIST: i32 = 17;
    pub const EXDEV: i32 = 18;
    pub const ENOTDIR: i32 = 20;
    pub const EISDIR: i32 = 21;
    pub const EINVAL: i32 = 22;
    pub const ENOSPC: i32 = 28;
    pub const ERANGE: i32 = 34;
    pub const ENAMETOOLONG: i32 = 36;
    pub const ENOSYS: i32 = 38;
    pub const ENOTEMPTY: i32 = 39;
    pub const ENODATA: i32 = 61;
    pub const EOPNOTSUPP: i32 = 95;
}

impl From<ConsensusError> for FsError {
    fn from(e: ConsensusError) -> Self {
        match e {
            ConsensusError::Silo(SiloError::Full { .. }) => FsError::NoSpace(e.to_string()),
            ConsensusError::Unauthorized(_) => FsError::Denied(e.to_string()),
            ConsensusError::Corrupt { .. } | ConsensusError::Rollback { .. } => FsError::Corrupt(e.to_string()),
            other => FsError::Storage(other.to_string()),
        }
    }
}

impl From<BlockError> for FsError {
    fn from(e: BlockError) -> Self {
        match e {
            BlockError::Denied { .. } | BlockError::NotReader { .. } => FsError::Denied(e.to_string()),
            other => FsError::Corrupt(other.to_string()),
        }
    }
}
