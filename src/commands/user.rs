//! `infinit user`: create, export, import, list, delete and hash identities,
//! and exchange them with the hub (signup, login, fetch, push, pull).

use std::io::IsTerminal as _;

use anyhow::bail;
use clap::{Args, Subcommand};
use serde_json::json;
use zeroize::Zeroizing;

use super::context::{Context, PASSPHRASE_ENV, parse_input, read_secret_line, read_stdin_line};
use super::{hub, network, usage};
use crate::cli::{InputArg, NameArg, OutputArg};
use crate::crypto::KeyPair;
use crate::descriptors::{Kind, LinkedNetwork, Network, Passport, User, Volume, names};

/// Modes of `infinit user`.
#[derive(Debug, Subcommand)]
pub enum UserMode {
    /// Create a user: a new Ed25519 signing key and X25519 encryption key
    Create(CreateArgs),
    /// Export a user (public part unless --full) to stdout or a file
    Export(ExportArgs),
    /// Import a user exported by someone (or by yourself with --full)
    Import(InputArg),
    /// List local users
    #[command(long_about = format!("List local users.\n\n{}", super::LIST_DAMAGED_NOTE))]
    List,
    /// Delete a local user (asks for confirmation if its private key is here)
    Delete(DeleteArgs),
    /// Print the short hash of a user's key, e.g. #3fa9c1
    Hash(NameOnly),
    /// Create a user and publish it on the hub (with --full, to log in from other devices)
    Signup(SignupArgs),
    /// Get your user from the hub on this device, with its hub password (after signup --full)
    Login(NameOnly),
    /// Get someone's public user from the hub, by name or by key hash (#3fa9c1)
    Fetch(NameOnly),
    /// Publish a local user on the hub (with --full, its key protected by a hub password)
    Push(PushArgs),
    /// Remove a user from the hub (the local user stays)
    Pull(PullArgs),
}

/// Options of `user signup`.
#[derive(Debug, Args)]
pub struct SignupArgs {
    #[command(flatten)]
    name: NameArg,
    /// Free text describing the user
    #[arg(long)]
    description: Option<String>,
    /// Also keep the private key on the hub, protected by a hub password, so that
    /// `user login` works on other devices
    #[arg(long)]
    full: bool,
    /// Ask for the hub password (INFINIT_PASSWORD, else a line of standard input, else a prompt);
    /// implied by --full
    #[arg(long, requires = "full")]
    password: bool,
}

/// Options of `user push`.
#[derive(Debug, Args)]
pub struct PushArgs {
    #[command(flatten)]
    name: NameArg,
    /// Also keep the private key on the hub, protected by a hub password
    #[arg(long)]
    full: bool,
    /// Ask for the hub password (INFINIT_PASSWORD, else a line of standard input, else a prompt);
    /// implied by --full
    #[arg(long, requires = "full")]
    password: bool,
}

/// Options of `user pull`.
#[derive(Debug, Args)]
pub struct PullArgs {
    #[command(flatten)]
    name: NameArg,
    /// Also remove the networks, volumes and passports the user has on the hub
    #[arg(long)]
    purge: bool,
}

/// Options of `user create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    #[command(flatten)]
    name: NameArg,
    /// Free text describing the user
    #[arg(long)]
    description: Option<String>,
    /// Protect the private key with a passphrase typed at a prompt (or taken from INFINIT_PASSPHRASE)
    #[arg(long)]
    passphrase: bool,
    /// Protect the private key with a passphrase read from the first line of standard input
    #[arg(long, conflicts_with = "passphrase")]
    passphrase_stdin: bool,
}

/// Options of `user export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    name: NameArg,
    /// Include the private key (keep the result secret)
    #[arg(long)]
    full: bool,
    #[command(flatten)]
    output: OutputArg,
}

/// Options of `user delete`.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    #[command(flatten)]
    name: NameArg,
    /// Do not ask for confirmation (required with --script when the private key is here)
    #[arg(short, long)]
    yes: bool,
    /// Also delete the networks, volumes and passports this user owns
    #[arg(long)]
    purge: bool,
}

/// A mode that takes only a name.
#[derive(Debug, Args)]
pub struct NameOnly {
    #[command(flatten)]
    name: NameArg,
}

/// Run a `user` mode.
pub fn run(ctx: &Context, mode: UserMode) -> anyhow::Result<()> {
    match mode {
        UserMode::Create(args) => create(ctx, args),
        UserMode::Export(args) => export(ctx, args),
        UserMode::Import(args) => import(ctx, args),
        UserMode::List => list(ctx),
        UserMode::Delete(args) => delete(ctx, args),
        UserMode::Hash(args) => hash(ctx, args),
        UserMode::Signup(args) => {
            let name = args.name.get().unwrap_or(&ctx.as_user).to_string();
            hub::signup(ctx, &name, args.description, args.full)
        }
        UserMode::Login(args) => hub::login(ctx, args.name.get().unwrap_or(&ctx.as_user)),
        UserMode::Fetch(args) => match args.name.get() {
            Some(name) => hub::fetch_user(ctx, name),
            None => Err(usage("user fetch", "the user to fetch is required: --name NAME (or #HASH)")),
        },
        UserMode::Push(args) => hub::push_user(ctx, args.name.get().unwrap_or(&ctx.as_user), args.full),
        UserMode::Pull(args) => hub::pull_user(ctx, args.name.get().unwrap_or(&ctx.as_user), args.purge),
    }
}

fn create(ctx: &Context, args: CreateArgs) -> anyhow::Result<()> {
    let name = args.name.get().unwrap_or(&ctx.as_user).to_string();
    names::check("user", &name)?;
    if ctx.store.exists(Kind::User, &name) {
        bail!("user \"{name}\" already exists on this device");
    }
    let passphrase = if args.passphrase_stdin {
        Some(read_secret_line().map_err(|e| anyhow::anyhow!("--passphrase-stdin: {e}"))?)
    } else if args.passphrase {
        Some(new_passphrase(ctx)?)
    } else {
        std::env::var(PASSPHRASE_ENV).ok().filter(|p| !p.is_empty()).map(Zeroizing::new)
    };
    create_user(ctx, &name, args.description, passphrase.as_ref().map(|p| p.as_str()))
}

/// Generate and save user `name` (plain 0600 keys unless `passphrase`), and report.
pub fn create_user(
    ctx: &Context,
    name: &str,
    description: Option<String>,
    passphrase: Option<&str>,
) -> anyhow::Result<()> {
    let keys = KeyPair::generate()?;
    let user = User::new(name, description, &keys, passphrase)?;
    ctx.store.create(Kind::User, name, &user)?;
    ctx.out.report("saved", "user", name, &format!("Locally saved user \"{name}\"."));
    Ok(())
}

fn new_passphrase(ctx: &Context) -> anyhow::Result<Zeroizing<String>> {
    if let Ok(p) = std::env::var(PASSPHRASE_ENV)
        && !p.is_empty()
    {
        return Ok(Zeroizing::new(p));
    }
    if ctx.out.script || !std::io::stdin().is_terminal() {
        bail!("--passphrase prompts on a terminal: in scripts use --passphrase-stdin or set {PASSPHRASE_ENV}");
    }
    let first = super::prompt::hidden("Passphrase: ")?;
    let second = super::prompt::hidden("Passphrase again: ")?;
    if first != second {
        bail!("the two passphrases differ");
    }
    if first.is_empty() {
        bail!("the passphrase is empty");
    }
    Ok(first)
}

fn export(ctx: &Context, args: ExportArgs) -> anyhow::Result<()> {
    let name = args.name.get().unwrap_or(&ctx.as_user).to_string();
    let user = ctx.user(&name)?;
    let exported = if args.full {
        if !user.has_private_key() {
            bail!("user \"{name}\" has no private key on this device: --full cannot export one");
        }
        ctx.out.warn(&format!("the export of \"{name}\" contains its private key: keep it secret"));
        user
    } else {
        user.public()
    };
    ctx.export("user", &name, &exported, args.output.output.as_deref(), args.full)?;
    Ok(())
}

fn import(ctx: &Context, args: InputArg) -> anyhow::Result<()> {
    let user: User = parse_input(Kind::User, &ctx.read_input(args.input.as_deref())?)?;
    user.verify()?;
    ctx.import(Kind::User, &user.name, &user.name, &user, args.force)?;
    Ok(())
}

fn list(ctx: &Context) -> anyhow::Result<()> {
    ctx.list_each(
        Kind::User,
        None,
        |name| ctx.user(name),
        |name, user| {
            let keys = if user.has_private_key() { "public and private keys" } else { "public key only" };
            let marker = if name == ctx.as_user { "* " } else { "  " };
            let description = user.description.as_deref().map(|d| format!(" \"{d}\"")).unwrap_or_default();
            let mut value = json!({
                "name": name,
                "has_private_key": user.has_private_key(),
                "key_hash": user.public_key.short_hash(),
            });
            if let Some(d) = &user.description {
                value["description"] = json!(d);
            }
            ctx.out.item(&format!("{marker}{name}{description}: {keys}, {}", user.public_key.short_hash()), &value);
        },
    )
}

fn delete(ctx: &Context, args: DeleteArgs) -> anyhow::Result<()> {
    let Some(name) = args.name.get().map(str::to_string) else {
        return Err(usage("user delete", "the user to delete is required: --name NAME"));
    };
    let user = ctx.user(&name)?;
    if user.has_private_key() && !args.yes {
        if ctx.out.script {
            bail!("deleting user \"{name}\" destroys its private key: add --yes to confirm (script mode never asks)");
        }
        confirm_delete(ctx, &user, args.purge)?;
    }
    if args.purge {
        ensure_stopped(ctx, &user)?;
        purge(ctx, &user)?;
    }
    ctx.store.delete(Kind::User, &name)?;
    ctx.out.report("deleted", "user", &name, &format!("Locally deleted user \"{name}\"."));
    Ok(())
}

/// What `user` owns on this device: networks and volumes (qualified names).
fn owned(ctx: &Context, user: &User) -> anyhow::Result<(Vec<String>, Vec<String>)> {
    let store = &ctx.store;
    let mut networks = Vec::new();
    for name in store.list(Kind::Network, None)? {
        // A damaged file is not this question's business: `network list` names it.
        if let Ok(network) = store.load::<Network>(Kind::Network, &name)
            && network.owner == user.public_key
        {
            networks.push(name);
        }
    }
    let mut volumes = Vec::new();
    for name in store.list(Kind::Volume, None)? {
        if let Ok(volume) = store.load::<Volume>(Kind::Volume, &name)
            && volume.owner == user.public_key
        {
            volumes.push(name);
        }
    }
    Ok((networks, volumes))
}

/// Warn about what deleting `user`'s private key loses, and ask for its name.
fn confirm_delete(ctx: &Context, user: &User, purge: bool) -> anyhow::Result<()> {
    let name = &user.name;
    let (networks, volumes) = owned(ctx, user)?;
    eprintln!(
        "infinit: warning: deleting user \"{name}\" destroys its private key: data only it can read becomes unreadable, and nobody can act as it any more."
    );
    let listed = |what: &str, names: &[String]| {
        if !names.is_empty() {
            let fate = if purge { "deleted too (--purge)" } else { "kept, but nobody can change them any more" };
            eprintln!("infinit: warning: {name} owns {what} {}: {fate}.", names.join(", "));
        }
    };
    listed(if networks.len() == 1 { "network" } else { "networks" }, &networks);
    listed(if volumes.len() == 1 { "volume" } else { "volumes" }, &volumes);
    eprint!("Type the name of the user to delete to confirm: ");
    let answer = read_stdin_line().unwrap_or_default();
    if !std::io::stdin().is_terminal() {
        // Nothing echoed the answer: end the prompt line so an error gets its own.
        eprintln!();
    }
    if answer.trim() != name {
        bail!("deletion of user \"{name}\" aborted: the confirmation did not match");
    }
    Ok(())
}

/// Refuse to purge while a node runs on a link the purge would remove: the
/// user's own links, and every link to a network the user owns.
fn ensure_stopped(ctx: &Context, user: &User) -> anyhow::Result<()> {
    let (networks, _) = owned(ctx, user)?;
    for link in ctx.store.list(Kind::LinkedNetwork, None)? {
        let Some((holder, network)) = link.split_once('/') else { continue };
        if holder == user.name || networks.iter().any(|n| n == network) {
            network::ensure_stopped(ctx, holder, network)?;
        }
    }
    Ok(())
}

/// Delete the networks (with every local link), volumes and passports `user` owns or holds.
fn purge(ctx: &Context, user: &User) -> anyhow::Result<()> {
    let store = &ctx.store;
    for name in store.list(Kind::Network, None)? {
        let network: Network = store.load(Kind::Network, &name)?;
        if network.owner != user.public_key {
            continue;
        }
        for link in store.list(Kind::LinkedNetwork, None)? {
            if link.ends_with(&format!("/{name}")) {
                store.delete(Kind::LinkedNetwork, &link)?;
                ctx.out.report("unlinked", "network", &name, &format!("Locally unlinked network \"{name}\"."));
            }
        }
        for passport in store.list(Kind::Passport, Some(&name))? {
            store.delete(Kind::Passport, &passport)?;
        }
        store.delete(Kind::Network, &name)?;
        ctx.out.report("deleted", "network", &name, &format!("Locally deleted network \"{name}\"."));
    }
    for name in store.list(Kind::Volume, None)? {
        let volume: Volume = store.load(Kind::Volume, &name)?;
        if volume.owner == user.public_key {
            store.delete(Kind::Volume, &name)?;
            ctx.out.report("deleted", "volume", &name, &format!("Locally deleted volume \"{name}\"."));
        }
    }
    for name in store.list(Kind::Passport, None)? {
        let passport: Passport = store.load(Kind::Passport, &name)?;
        if passport.user == user.public_key {
            store.delete(Kind::Passport, &name)?;
            ctx.out.report(
                "deleted",
                "passport",
                &passport.display(),
                &format!("Locally deleted passport \"{}\".", passport.display()),
            );
        }
    }
    for link in store.list(Kind::LinkedNetwork, Some(&user.name))? {
        let linked: LinkedNetwork = store.load(Kind::LinkedNetwork, &link)?;
        store.delete(Kind::LinkedNetwork, &link)?;
        ctx.out.report(
            "unlinked",
            "network",
            &linked.network,
            &format!("Locally unlinked network \"{}\".", linked.network),
        );
    }
    Ok(())
}

fn hash(ctx: &Context, args: NameOnly) -> anyhow::Result<()> {
    let name = args.name.get().unwrap_or(&ctx.as_user).to_string();
    let user = ctx.user(&name)?;
    let hash = user.public_key.short_hash();
    ctx.out.item(&format!("{name}: {hash}"), &json!({"name": name, "hash": hash}));
    Ok(())
}
