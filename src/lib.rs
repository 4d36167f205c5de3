//! infinit: decentralized, encrypted, self-healing storage.
//!
//! Layers call downwards only: `cli`/`commands` → `runtime`/`descriptors` → `crypto`.

pub mod cli;
pub mod commands;
pub mod crypto;
pub mod descriptors;
pub mod hub;
pub mod runtime;
