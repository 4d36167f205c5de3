//! Everything a running node does: the block model (kinds, addresses,
//! encoding, validation), the silos that store encoded blocks, the
//! consensus that stores and fetches them, the consensus decorators a node
//! stacks in front of it (RAM cache, write-back journal), the freshness
//! floor that refuses rolled-back blocks, and the file system on top. Layers call downwards only: fs → consensus → silo, block.

pub mod block;
pub mod cache;
pub mod consensus;
pub mod disk;
pub mod freshness;
pub mod fs;
pub mod journal;
pub mod memory;
pub mod network;
pub mod node;
pub mod node_lock;
pub mod overlay;
pub mod rpc;
pub mod silo;
