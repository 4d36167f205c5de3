//! Behaviour tests of the `infinit` command line, through the real binaries:
//! every mode's success path, its `--script` output and files, the errors
//! people hit, the legacy front-ends and a two-person exchange by file.

mod serving;
mod support;

mod credentials;
mod errors;
mod exchange;
mod help;
mod legacy;
mod lists;
mod network;
mod output;
mod passport;
mod prompts;
mod readme;
mod rough_edges;
mod running;
mod scripts;
mod security;
mod silo;
mod user;
mod volume;
