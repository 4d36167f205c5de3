//! `infinit passport`: create, list, export, import and delete memberships,
//! and push, fetch and pull them on the hub.

use anyhow::bail;
use clap::{Args, Subcommand};
use serde_json::json;

use super::context::{Context, parse_input};
use super::{hub, network};
use crate::cli::{InputArg, OutputArg};
use crate::descriptors::passport::Rights;
use crate::descriptors::{DescriptorError, Kind, Passport, Saved, names, owner};

/// Modes of `infinit passport`.
#[derive(Debug, Subcommand)]
pub enum PassportMode {
    /// Sign a passport letting a user join a network (as its owner or a delegate)
    Create(CreateArgs),
    /// List local passports
    #[command(long_about = format!("List local passports.\n\n{}", super::LIST_DAMAGED_NOTE))]
    List(ListArgs),
    /// Export a passport to give it to its holder
    Export(ExportArgs),
    /// Import a passport (the network must be imported first)
    Import(InputArg),
    /// Delete a local passport
    Delete(TargetArgs),
    /// Publish a passport on the hub (as the network's owner or the delegate who signed it)
    Push(TargetArgs),
    /// Get passports from the hub: yours on a network, all of a network you own, or all you hold
    Fetch(FetchArgs),
    /// Remove a passport from the hub (its network's owner, its holder or its signer)
    Pull(TargetArgs),
}

/// Options of `passport fetch`.
#[derive(Debug, Args)]
pub struct FetchArgs {
    /// Network of the passports [default: every network you hold a passport for]
    #[arg(short = 'N', long)]
    network: Option<String>,
    /// Holder of the passport [default: you; the owner of the network gets them all]
    #[arg(short, long, requires = "network")]
    user: Option<String>,
}

/// Which passport.
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// Network the passport is for
    #[arg(short = 'N', long)]
    network: String,
    /// User who holds the passport
    #[arg(short, long)]
    user: String,
}

/// Options of `passport create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// The holder may only read
    #[arg(long)]
    deny_write: bool,
    /// The holder may not contribute storage
    #[arg(long)]
    deny_storage: bool,
    /// The holder may sign passports for others
    #[arg(long)]
    allow_create_passport: bool,
    /// Also publish it on the hub
    #[arg(long)]
    push: bool,
}

/// Options of `passport list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only the passports of this network
    #[arg(short = 'N', long)]
    network: Option<String>,
}

/// Options of `passport export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    output: OutputArg,
}

/// Run a `passport` mode.
pub fn run(ctx: &Context, mode: PassportMode) -> anyhow::Result<()> {
    match mode {
        PassportMode::Create(args) => create(ctx, args),
        PassportMode::List(args) => list(ctx, args),
        PassportMode::Export(args) => {
            let (network, user) = target(ctx, &args.target)?;
            let passport = load(ctx, &network, &user)?;
            ctx.export("passport", &passport.display(), &passport, args.output.output.as_deref(), false)?;
            Ok(())
        }
        PassportMode::Import(args) => import(ctx, args),
        PassportMode::Delete(args) => {
            let (network, user) = target(ctx, &args)?;
            if !ctx.store.delete(Kind::Passport, &format!("{network}/{user}"))? {
                return Err(
                    DescriptorError::NotFound { kind: Kind::Passport, name: format!("{network}: {user}") }.into()
                );
            }
            let shown = format!("{network}: {user}");
            ctx.out.report("deleted", "passport", &shown, &format!("Locally deleted passport \"{shown}\"."));
            Ok(())
        }
        PassportMode::Push(args) => {
            let (network, user) = target(ctx, &args)?;
            hub::push_passport(ctx, &network, &user)
        }
        PassportMode::Fetch(args) => {
            let network = args.network.as_deref().map(|n| ctx.qualify("network", n)).transpose()?;
            if let Some(user) = &args.user {
                names::check("user", user)?;
            }
            hub::fetch_passports(ctx, network.as_deref(), args.user.as_deref())
        }
        PassportMode::Pull(args) => {
            let (network, user) = target(ctx, &args)?;
            hub::pull_passport(ctx, &network, &user)
        }
    }
}

fn target(ctx: &Context, t: &TargetArgs) -> anyhow::Result<(String, String)> {
    let network = ctx.qualify("network", &t.network)?;
    names::check("user", &t.user)?;
    Ok((network, t.user.clone()))
}

fn load(ctx: &Context, network: &str, user: &str) -> anyhow::Result<Passport> {
    let path = format!("{network}/{user}");
    if !ctx.store.exists(Kind::Passport, &path) {
        return Err(DescriptorError::NotFound { kind: Kind::Passport, name: format!("{network}: {user}") }.into());
    }
    let passport: Passport = ctx.store.load(Kind::Passport, &path)?;
    // Never show or hand out an altered passport (the network may have been deleted since).
    if ctx.store.exists(Kind::Network, network) {
        passport.verify(&network::load(ctx, network)?)?;
    }
    Ok(passport)
}

fn create(ctx: &Context, args: CreateArgs) -> anyhow::Result<()> {
    let (name, holder) = target(ctx, &args.target)?;
    hub::hub_for_push(ctx, args.push)?;
    let network = network::load(ctx, &name)?;
    let holder = ctx.user(&holder)?;
    let (signer, keys) = ctx.my_keys()?;
    let delegation = if signer.public_key == network.owner {
        None
    } else {
        let path = format!("{name}/{}", signer.name);
        if !ctx.store.exists(Kind::Passport, &path) {
            bail!(
                "user \"{}\" may not sign passports for network \"{name}\": only its owner or a member whose passport allows it can",
                signer.name
            );
        }
        Some(ctx.store.load::<Passport>(Kind::Passport, &path)?)
    };
    let rights = Rights {
        allow_write: !args.deny_write,
        allow_storage: !args.deny_storage,
        allow_create_passport: args.allow_create_passport,
    };
    let passport = Passport::sign(&network, &holder.name, holder.public_key, rights, &keys, delegation.as_ref())?;
    if delegation.is_some() && !ctx.out.script {
        eprintln!(
            "infinit: note: passport signed by delegate \"{}\"; it carries the delegate's own passport as proof",
            signer.name
        );
    }
    let shown = passport.display();
    let path = format!("{name}/{}", holder.name);
    let saved = ctx.store.create(Kind::Passport, &path, &passport).map_err(|e| match e {
        DescriptorError::Exists { .. } => anyhow::anyhow!(
            "passport \"{shown}\" already exists with other rights (delete it first: infinit passport delete --network {name} --user {})",
            holder.name
        ),
        e => e.into(),
    })?;
    if saved == Saved::Unchanged {
        let sentence = format!("Passport \"{shown}\" already exists with these rights: unchanged.");
        ctx.out.report("unchanged", "passport", &shown, &sentence);
    } else {
        ctx.out.report("saved", "passport", &shown, &format!("Locally saved passport \"{shown}\"."));
    }
    if args.push {
        let retry = format!("infinit passport push --network {name} --user {}", holder.name);
        hub::after_create(hub::push_passport(ctx, &name, &holder.name), "passport", &retry)?;
    }
    Ok(())
}

fn list(ctx: &Context, args: ListArgs) -> anyhow::Result<()> {
    let prefix = args.network.as_deref().map(|n| ctx.qualify("network", n)).transpose()?;
    let load = |path: &str| {
        let (network, user) = path.rsplit_once('/').ok_or_else(|| anyhow::anyhow!("not in a folder of its network"))?;
        load(ctx, network, user)
    };
    ctx.list_each(Kind::Passport, prefix.as_deref(), load, |_, passport| {
        let mut value = json!({
            "network": passport.network,
            "user": passport.user_name,
            "allow_write": passport.allow_write,
            "allow_storage": passport.allow_storage,
            "allow_create_passport": passport.allow_create_passport,
        });
        if let Some(c) = passport.certifier {
            value["certifier"] = json!(c.short_hash());
        }
        let mut rights = vec![if passport.allow_write { "read-write" } else { "read-only" }];
        if passport.allow_storage {
            rights.push("storage");
        }
        if passport.allow_create_passport {
            rights.push("may create passports");
        }
        ctx.out.item(&format!("{}: {}", passport.display(), rights.join(", ")), &value);
    })
}

fn import(ctx: &Context, args: InputArg) -> anyhow::Result<()> {
    let passport: Passport = parse_input(Kind::Passport, &ctx.read_input(args.input.as_deref())?)?;
    names::qualify("network", &passport.network, "x")?;
    names::check("user", &passport.user_name)?;
    if !ctx.store.exists(Kind::Network, &passport.network) {
        bail!(
            "passport \"{}\": network \"{}\" is unknown on this device (import the network first: infinit network import)",
            passport.display(),
            passport.network
        );
    }
    let network = network::load(ctx, &passport.network)?;
    owner::check_owner(&ctx.store, Kind::Network, &network.name, &network.owner)?;
    passport.verify(&network)?;
    if let Ok(local) = ctx.user(&passport.user_name)
        && local.public_key != passport.user
    {
        bail!("passport \"{}\" was issued to a different key than local user \"{}\"", passport.display(), local.name);
    }
    // The holder's name binds to its key only through a user known here.
    owner::check_user(&ctx.store, Kind::Passport, &passport.display(), &passport.user_name, &passport.user)?;
    let path = format!("{}/{}", passport.network, passport.user_name);
    ctx.import(Kind::Passport, &passport.display(), &path, &passport, args.force)?;
    Ok(())
}
