//! One file per object: each declares its modes' arguments and executes
//! them by calling into `descriptors` (and later `runtime`), then renders
//! the result through [`output::Output`].

pub mod cluster;
pub mod context;
pub mod credentials;
pub mod device;
pub mod generated;
pub mod hub;
pub mod journal;
pub mod legacy;
pub mod manual;
pub mod network;
pub mod output;
pub mod passport;
pub mod peers;
pub mod prompt;
pub mod run;
pub mod silo;
pub mod user;
pub mod volume;

use std::ffi::OsString;

pub use context::Context;

use crate::cli::{Cli, Object};

/// A mistake in the command line detected after parsing (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{message}\n\nFor more information, try '{help}'.")]
pub struct UsageError {
    /// What is wrong.
    pub message: String,
    /// The help command to suggest.
    pub help: String,
}

/// Failures already reported on stderr, one line each (a listing's damaged
/// files): the command exits 1 without another line.
#[derive(Debug, thiserror::Error)]
#[error("{count} damaged descriptor file(s) reported above")]
pub struct Reported {
    /// How many were reported.
    pub count: usize,
}

/// What every list mode's long help says about damaged files.
pub const LIST_DAMAGED_NOTE: &str = "A damaged or unreadable descriptor file does not stop the listing: each one is \
    reported on stderr (`infinit: error: ` and the file's path), the others are listed, and the exit status is then 1.";

/// Build a usage error pointing at `infinit <object> <mode> --help`.
pub fn usage(object_mode: &str, message: impl Into<String>) -> anyhow::Error {
    UsageError { message: message.into(), help: format!("infinit {object_mode} --help") }.into()
}

/// Send the runtime's log lines to stderr as `infinit: warning: ...`,
/// filtered by `INFINIT_LOG` (default: warnings and errors).
fn init_logging() {
    use tracing_subscriber::fmt::format::FmtSpan;
    let filter = tracing_subscriber::EnvFilter::try_from_env("INFINIT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_span_events(FmtSpan::NONE)
        .with_ansi(false);
    // Seconds since start on each line, to follow a node through a test.
    let _ = if std::env::var_os("INFINIT_LOG_TIME").is_some() {
        builder.with_timer(tracing_subscriber::fmt::time::uptime()).try_init()
    } else {
        builder.without_time().try_init()
    };
}

/// Parse `args`, run the command and return the process exit code.
pub fn main(args: impl IntoIterator<Item = OsString>) -> i32 {
    init_logging();
    let args: Vec<OsString> = args.into_iter().collect();
    let cli = match crate::cli::parse(args.iter().cloned()) {
        Ok(cli) => cli,
        Err(e) => {
            if let Some(hint) = silo::missing_type(&e, &args) {
                eprintln!("error: {hint}");
                return 2;
            }
            let _ = e.print();
            return e.exit_code();
        }
    };
    match run(cli) {
        Ok(()) => 0,
        Err(e) => {
            if let Some(u) = e.downcast_ref::<UsageError>() {
                eprintln!("error: {u}");
                return 2;
            }
            if e.downcast_ref::<Reported>().is_some() {
                return 1;
            }
            eprintln!("infinit: error: {}", one_line(&e));
            1
        }
    }
}

/// The error and its causes on one line, skipping causes whose text the
/// message already includes (many errors quote their source).
pub fn one_line(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let part = cause.to_string();
        if !text.contains(&part) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&part);
        }
    }
    text.replace('\n', " ")
}

/// Run a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let ctx = Context::new(&cli.global)?;
    let result = match cli.object {
        Object::User(mode) => user::run(&ctx, mode),
        Object::Silo(mode) => silo::run(&ctx, mode),
        Object::Credentials(mode) => credentials::run(&ctx, mode),
        Object::Network(mode) => network::run(&ctx, mode),
        Object::Passport(mode) => passport::run(&ctx, mode),
        Object::Volume(mode) => volume::run(&ctx, mode),
        Object::Cluster(mode) => cluster::run(&ctx, mode),
        Object::Journal(mode) => journal::run(&ctx, mode),
        Object::Device(mode) => device::run(&ctx, mode),
    };
    result.map_err(|e| ctx.explain_unknown_acting_user(e))
}
