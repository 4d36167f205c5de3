//! The hub: an optional HTTP/JSON registry where people publish their
//! users, networks, passports and volumes, log in from another device,
//! move an identity between devices, and where nodes publish the endpoints
//! other nodes find them at. It never stores blocks, and nothing needs it:
//! descriptors still travel by file without one.
//!
//! [`api`] is the vocabulary both sides share (routes, signed headers,
//! bodies), [`password`] the password-protected key both login and device
//! pairing use, [`client`] what the CLI and running nodes call, and
//! `server` (cargo feature `hub-server`) the `infinit-hub` registry itself.

pub mod api;
pub mod client;
pub mod password;
#[cfg(feature = "hub-server")]
pub mod server;

pub use client::{Hub, HubError, NodeEndpoints, fetch_endpoints, publish_endpoints, unpublish_endpoints};
