//! infinit: decentralized, encrypted, self-healing storage.
//!
//! Layers call downwards only: `commands` → `descriptors` → `crypto`.

pub mod crypto;
pub mod runtime;
