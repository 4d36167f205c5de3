//! Everything a running node does. For now: the block model (kinds,
//! addresses, encoding, validation) and the silos that store encoded blocks.

pub mod block;
pub mod silo;
