//! Behaviour tests of mounted volumes: `infinit volume run` serves a
//! one-node volume through FUSE, and these tests use it like any program
//! would, through std::fs and a few raw syscalls. Each test owns its home,
//! silo and mountpoint, so they run in parallel; they skip (with a printed
//! reason) only where /dev/fuse is missing, and fail there under CI.

mod support;

mod check;
mod crash;
mod errors;
mod model;
mod options;
mod persistence;
mod posix;
mod security;
mod space;
