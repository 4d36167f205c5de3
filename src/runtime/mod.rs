//! Everything a running node does: the block model (kinds, addresses,
//! encoding, validation), the silos that store encoded blocks, the
//! consensus that stores and fetches them, and the file system on top.
//! Layers call downwards only: fs → consensus → silo, block.

pub mod block;
pub mod consensus;
pub mod fs;
pub mod node;
pub mod silo;
