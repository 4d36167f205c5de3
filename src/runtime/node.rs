//! Assembling a node from plain settings: open its silo, put the consensus
//! on top, and stack the optional layers (write-back journal, RAM cache).
//! Commands translate descriptors into a [`NodeSpec`]; nothing here reads
//! descriptors or the terminal.

use std::path::PathBuf;
use std::sync::Arc;

use super::cache::{BlockCache, CacheOptions};
use super::consensus::{Authorized, Fresh, Member, MemberRights};
use super::consensus::{Consensus, SingleNode, TOMBSTONE_GRACE};
use super::freshness::{FreshnessError, FreshnessFloor};
use super::journal::{AsyncJournal, JournalError};
use super::network::{NetworkError, NetworkNode, NetworkSpec};
use super::silo::{CloudConfig, CloudSilo, Durability, FilesystemSilo, MemorySilo, Silo, SiloError, SiloId};

/// Where this node keeps blocks.
#[derive(Debug, Clone)]
pub enum SiloSpec {
    /// A local folder.
    Filesystem {
        /// Silo name, for messages.
        name: String,
        /// The folder.
        path: PathBuf,
        /// The id its marker must hold (`None` for a silo made before markers).
        id: Option<SiloId>,
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
    /// An S3-compatible or GCS bucket.
    Cloud {
        /// Silo name, for messages.
        name: String,
        /// Bucket, credentials and folder.
        config: CloudConfig,
        /// The id its marker must hold (`None` for a silo made before markers).
        id: Option<SiloId>,
        /// Byte limit.
        capacity: Option<u64>,
    },
}

/// Everything needed to start a node.
#[derive(Debug, Clone)]
pub struct NodeSpec {
    /// The silo this node contributes (a node of a network of several may
    /// contribute none: a client).
    pub silo: Option<SiloSpec>,
    /// How the node joins a network of several nodes; `None`: it serves
    /// the network alone, from its own silo.
    pub network: Option<NetworkSpec>,
    /// Folder of the write-back journal, when writes are asynchronous.
    pub journal: Option<PathBuf>,
    /// RAM cache settings, when caching.
    pub cache: Option<CacheOptions>,
    /// The file keeping the highest version seen of each mutable block, so
    /// a silo rolled back to older copies is refused (kept outside the silo,
    /// so restoring the silo does not restore it). `None`: kept in memory.
    pub floor: Option<PathBuf>,
    /// The user this node serves, with its passport's rights: every store
    /// and removal goes through an [`Authorized`] check of them.
    pub member: Member,
}

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("{}", silo_message(name, source))]
    Silo { name: String, source: SiloError },
    #[error("write-back journal: {0}")]
    Journal(#[from] JournalError),
    #[error("freshness floor: {0}")]
    Freshness(#[from] FreshnessError),
    #[error(transparent)]
    Network(#[from] NetworkError),
    #[error("this node has no silo: a node serving a network alone stores its blocks itself")]
    NoSilo,
}

/// `source`, prefixed by the silo's name unless it already says it.
fn silo_message(name: &str, source: &SiloError) -> String {
    if source.names_silo() { source.to_string() } else { format!("silo \"{name}\": {source}") }
}

/// A running node.
#[derive(Debug, Clone)]
pub struct Node {
    /// How blocks are stored and fetched (with the optional layers).
    pub consensus: Arc<dyn Consensus>,
    /// The journal, when writes are asynchronous.
    pub journal: Option<Arc<AsyncJournal>>,
    /// The network side, when the node is one of several.
    pub network: Option<NetworkNode>,
}

/// How often changes are made durable when nothing asked for it sooner.
const SYNC_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);
/// How often tombstones past their grace period are collected.
const SWEEP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);

/// Open a silo from its spec.
pub async fn open_silo(spec: &SiloSpec, durability: Durability) -> Result<Arc<dyn Silo>, NodeError> {
    let at = |name: &String| {
        let name = name.clone();
        move |source| NodeError::Silo { name, source }
    };
    Ok(match spec {
        SiloSpec::Filesystem { name, path, id, capacity } => {
            Arc::new(FilesystemSilo::open_with(name, path.clone(), *id, *capacity, durability).await.map_err(at(name))?)
        }
        SiloSpec::Memory { name, capacity } => Arc::new(MemorySilo::new(name, *capacity)),
        SiloSpec::Cloud { name, config, id, capacity } => {
            Arc::new(CloudSilo::open(name, config.clone(), *id, *capacity).await.map_err(at(name))?)
        }
    })
}

impl Node {
    /// Start a single-node network: silo, consensus, the passport check,
    /// then journal and cache.
    /// Without a journal, writes are made durable at `fsync` and every few
    /// seconds (like a local file system); the journal instead needs each
    /// write durable before it forgets it.
    pub async fn start(spec: &NodeSpec) -> Result<Node, NodeError> {
        let durability = if spec.journal.is_some() { Durability::EveryWrite } else { Durability::OnSync };
        let silo = match &spec.silo {
            Some(silo) => Some(open_silo(silo, durability).await?),
            None => None,
        };
        let floor = match &spec.floor {
            Some(path) => {
                // Created only once the silo is known good: a refused start leaves nothing.
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(|e| FreshnessError::Open {
                        path: path.clone(),
                        why: format!("cannot create its folder: {e}"),
                    })?;
                }
                FreshnessFloor::open(path)?
            }
            None => FreshnessFloor::in_memory(),
        };
        let floor = Arc::new(floor);
        let (below, network, member): (Arc<dyn Consensus>, _, _) = match &spec.network {
            None => {
                let silo = silo.ok_or(NodeError::NoSilo)?;
                let single = Arc::new(SingleNode::collecting(silo, floor.clone(), TOMBSTONE_GRACE));
                spawn_tombstone_collection(Arc::downgrade(&single));
                (single, None, spec.member)
            }
            Some(net) => {
                let capacity = silo.as_ref().and_then(|s| s.capacity());
                let node = NetworkNode::start(net, silo, capacity).await?;
                // The storage nodes keep the blocks: a client writes with its
                // passport's write right alone (every replica checks it again).
                let rights = MemberRights { storage: true, ..spec.member.rights };
                (node.consensus.clone(), Some(node), Member { rights, ..spec.member })
            }
        };
        let fresh: Arc<dyn Consensus> = Arc::new(Fresh::new(below, floor));
        // Rights are checked in the store path itself, below the journal:
        // a write the passport does not allow never reaches the silo.
        let mut consensus: Arc<dyn Consensus> = Arc::new(Authorized::new(fresh, member));
        let syncing = Arc::downgrade(&consensus);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(SYNC_INTERVAL).await;
                let Some(consensus) = syncing.upgrade() else { break };
                // A failure here resurfaces at the next fsync, which reports it.
                let _ = consensus.sync().await;
            }
        });
        let journal = match &spec.journal {
            Some(dir) => {
                let journal = AsyncJournal::open(dir, consensus).await?;
                consensus = journal.clone();
                Some(journal)
            }
            None => None,
        };
        if let Some(options) = &spec.cache {
            consensus = Arc::new(BlockCache::new(consensus, *options));
        }
        Ok(Node { consensus, journal, network })
    }
}

/// Queue the tombstones the silo already holds, then collect those past
/// their grace period every [`SWEEP_INTERVAL`] while the node lives.
fn spawn_tombstone_collection(single: std::sync::Weak<SingleNode>) {
    tokio::spawn(async move {
        let Some(node) = single.upgrade() else { return };
        match node.recover_tombstones().await {
            Ok(0) => {}
            Ok(n) => tracing::info!("{n} tombstones found in the silo; collected after the grace period"),
            Err(e) => tracing::warn!("tombstones in the silo could not be listed (they stay): {e}"),
        }
        drop(node);
        loop {
            tokio::time::sleep(SWEEP_INTERVAL).await;
            let Some(node) = single.upgrade() else { break };
            // What a failed sweep did not erase stays queued for the next one.
            if let Err(e) = node.collect_tombstones(std::time::Instant::now()).await {
                tracing::warn!("tombstone collection failed (will retry): {e}");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::KeyPair;
    use crate::runtime::block::{Block, OwnerBlock};
    use crate::runtime::consensus::{ConsensusError, ConsensusExt, MemberRights};

    fn spec(key: crate::crypto::PublicKey, write: bool, cache: bool) -> NodeSpec {
        NodeSpec {
            silo: Some(SiloSpec::Memory { name: "ram".into(), capacity: None }),
            network: None,
            journal: None,
            cache: cache.then(CacheOptions::default),
            floor: None,
            member: Member { key, rights: MemberRights { write, storage: true } },
        }
    }

    #[tokio::test]
    async fn a_node_serving_a_read_only_passport_refuses_every_store() {
        let keys = KeyPair::generate().unwrap();
        for cache in [false, true] {
            let node = Node::start(&spec(keys.public(), false, cache)).await.unwrap();
            let block = Block::Mutable(OwnerBlock::create(&keys, b"data".to_vec()).unwrap());
            let error = node.consensus.store_next(block.clone()).await.unwrap_err();
            assert!(matches!(error, ConsensusError::Unauthorized(_)), "{error}");
            assert_eq!(node.consensus.fetch_block(block.address()).await.unwrap(), None);
            let writer = Node::start(&spec(keys.public(), true, cache)).await.unwrap();
            writer.consensus.store_next(block).await.unwrap();
        }
    }
}
