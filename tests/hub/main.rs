//! Behaviour tests of the hub: a real `infinit-hub` process per test, and
//! people on their own devices (homes) sharing through it with the real
//! `infinit` binary; refusals checked both on the wire (raw HTTP) and as
//! the one-line errors the CLI prints.

#[allow(dead_code)]
#[path = "../cli/support.rs"]
mod cli_support;
mod support;

mod device;
mod drives;
mod flow;
mod nodes;
mod refusals;
