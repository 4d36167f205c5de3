//! Assembling a node from plain settings: open its silo, put the consensus
//! on top, and stack the optional layers. Commands translate descriptors
//! into a [`NodeSpec`]; nothing here reads descriptors or the terminal.

use std::path::PathBuf;
use std::sync::Arc;

use super::consensus::{Consensus, SingleNode};
use super::silo::{FilesystemSilo, MemorySilo, Silo, SiloError};

/// Where this node keeps blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SiloSpec {
    /// A local folder.
    Filesystem {
        /// Silo name, for messages.
        name: String,
        /// The folder.
        path: PathBuf,
        /// Byte limit.
        capacity: Option<u64>,
    },
    /// RAM.
    Memory {
        /// Silo name, for messages.
        name: String,
        /// Byte limit.
        capacity: Option<u64>,
    },
}

/// Everything needed to start a node.
#[derive(Debug, Clone)]
pub struct NodeSpec {
    /// The silo this node contributes.
    pub silo: SiloSpec,
}

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("silo \"{name}\": {source}")]
    Silo { name: String, source: SiloError },
}

/// A running node.
#[derive(Debug, Clone)]
pub struct Node {
    /// How blocks are stored and fetched.
    pub consensus: Arc<dyn Consensus>,
}

/// Open a silo from its spec.
pub async fn open_silo(spec: &SiloSpec) -> Result<Arc<dyn Silo>, NodeError> {
    Ok(match spec {
        SiloSpec::Filesystem { name, path, capacity } => Arc::new(
            FilesystemSilo::open(name, path.clone(), *capacity)
                .await
                .map_err(|source| NodeError::Silo { name: name.clone(), source })?,
        ),
        SiloSpec::Memory { name, capacity } => Arc::new(MemorySilo::new(name, *capacity)),
    })
}

impl Node {
    /// Start a single-node network over the spec's silo.
    pub async fn start(spec: &NodeSpec) -> Result<Node, NodeError> {
        let silo = open_silo(&spec.silo).await?;
        Ok(Node { consensus: Arc::new(SingleNode::new(silo)) })
    }
}
