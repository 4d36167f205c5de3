//! The command-line grammar: `infinit <object> <mode> [options]`, with the
//! options every mode accepts. Each object's modes live in `commands/`.

use std::path::PathBuf;

use clap::{Args, CommandFactory as _, FromArgMatches as _, Parser, Subcommand};

use crate::commands::{cluster, credentials, device, journal, network, passport, silo, user, volume};

/// Decentralized, encrypted, self-healing storage.
#[derive(Debug, Parser)]
#[command(
    name = "infinit",
    version,
    about = "Decentralized, encrypted, self-healing storage",
    long_about = "Decentralized, encrypted, self-healing storage.\n\n\
        Manage users, silos, credentials, networks, passports and volumes, and exchange them \
        with other people by file or through a hub (infinit-hub).",
    subcommand_required = true,
    arg_required_else_help = true,
    propagate_version = true
)]
pub struct Cli {
    /// Options every mode accepts.
    #[command(flatten)]
    pub global: Global,
    /// The object to act on.
    #[command(subcommand)]
    pub object: Object,
}

/// Heading of the options every mode accepts, apart from each mode's own.
pub const GLOBAL_HEADING: &str = "Global options";

/// Options accepted by every mode.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = GLOBAL_HEADING)]
pub struct Global {
    /// Act as this local user [default: the login name]
    #[arg(short = 'a', long = "as", global = true, env = "INFINIT_USER", hide_env_values = true, value_name = "USER")]
    pub as_user: Option<String>,
    /// Machine mode: one compact JSON document per line on stdout, no prompts
    #[arg(short, long, global = true)]
    pub script: bool,
    /// Base directory for infinit's data and state [default: $HOME]
    #[arg(long, global = true, env = "INFINIT_HOME", hide_env_values = true, value_name = "DIR")]
    pub home: Option<PathBuf>,
    /// The hub to push to, fetch from and log in through, e.g. http://127.0.0.1:8080
    #[arg(long, global = true, env = "INFINIT_HUB", hide_env_values = true, value_name = "URL")]
    pub hub: Option<String>,
}

/// The whole command tree, as parsing, `--help`, man pages and completions
/// see it: the derived tree, with each mode's `--name` and positional NAME
/// saying which object they name ("Name of the network").
pub fn command() -> clap::Command {
    Cli::command().mut_subcommands(|object| {
        let what = object.get_name().to_string();
        name_the_object(object, &what)
    })
}

/// Give the name arguments of `cmd` and its descendants the object they name.
fn name_the_object(mut cmd: clap::Command, what: &str) -> clap::Command {
    let generic = |id: &str| {
        cmd.get_arguments()
            .any(|a| a.get_id() == id && a.get_help().is_some_and(|h| h.to_string().starts_with(NAME_HELP)))
    };
    let (name, positional) = (generic("name"), generic("positional"));
    if name {
        cmd = cmd.mut_arg("name", |a| a.help(format!("Name of the {what}")));
    }
    if positional {
        cmd = cmd.mut_arg("positional", |a| a.help(format!("Name of the {what} (the same as --name)")));
    }
    cmd.mut_subcommands(|sub| name_the_object(sub, what))
}

/// Parse `args` with [`command`].
pub fn parse(args: impl IntoIterator<Item = std::ffi::OsString>) -> Result<Cli, clap::Error> {
    let mut cmd = command();
    let matches = cmd.try_get_matches_from_mut(args)?;
    Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut cmd))
}

/// The help of [`NameArg::name`] before [`command`] says which object it names.
const NAME_HELP: &str = "Name of the object";

/// The objects infinit manages.
#[derive(Debug, Subcommand)]
pub enum Object {
    /// Users: identities made of a signing key and an encryption key
    #[command(subcommand, subcommand_required = true, arg_required_else_help = true)]
    User(user::UserMode),
    /// Silos: where a node keeps its blocks (a folder, RAM, an S3 or GCS bucket)
    #[command(subcommand, visible_alias = "storage", subcommand_required = true, arg_required_else_help = true)]
    Silo(silo::SiloMode),
    /// Credentials for cloud silos (AWS/S3-compatible, Google Cloud Storage)
    #[command(subcommand, subcommand_required = true, arg_required_else_help = true)]
    Credentials(credentials::CredentialsMode),
    /// Networks: groups of nodes that store each other's blocks
    #[command(subcommand, subcommand_required = true, arg_required_else_help = true)]
    Network(network::NetworkMode),
    /// Passports: signed memberships of a network
    #[command(subcommand, subcommand_required = true, arg_required_else_help = true)]
    Passport(passport::PassportMode),
    /// Volumes: file systems living on a network
    #[command(subcommand, subcommand_required = true, arg_required_else_help = true)]
    Volume(volume::VolumeMode),
    /// Whole deployments: `cluster init` makes and mounts a one-node volume in one command
    #[command(subcommand, subcommand_required = true, arg_required_else_help = true)]
    Cluster(cluster::ClusterMode),
    /// The write-back journal of asynchronous volumes: what is still waiting to be stored
    #[command(subcommand, subcommand_required = true, arg_required_else_help = true)]
    Journal(journal::JournalMode),
    /// Devices: move a user's identity to another device through the hub
    #[command(subcommand, subcommand_required = true, arg_required_else_help = true)]
    Device(device::DeviceMode),
}

/// A descriptor name given as `--name NAME` or as the first bare word.
#[derive(Debug, Clone, Args)]
pub struct NameArg {
    /// Name of the object
    #[arg(short, long, value_name = "NAME")]
    pub name: Option<String>,
    /// Name of the object (the same as --name)
    #[arg(value_name = "NAME", conflicts_with = "name")]
    pub positional: Option<String>,
}

impl NameArg {
    /// The name, if given either way.
    pub fn get(&self) -> Option<&str> {
        self.name.as_deref().or(self.positional.as_deref())
    }
}

/// Where an export goes.
#[derive(Debug, Clone, Args)]
pub struct OutputArg {
    /// Write to this file (or into this folder, as <name>.<kind>) instead of standard output
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Options of an export that names one descriptor.
#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub name: NameArg,
    #[command(flatten)]
    pub output: OutputArg,
}

/// Where an import comes from.
#[derive(Debug, Clone, Args)]
pub struct InputArg {
    /// Read from this file instead of standard input
    #[arg(short, long, value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// Replace an existing descriptor of the same name with different content
    #[arg(long)]
    pub force: bool,
}
