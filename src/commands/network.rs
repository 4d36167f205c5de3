//! `infinit network`: create, link, unlink, list, export, import, update and
//! delete networks, and push, fetch and pull them on the hub.

use anyhow::bail;
use clap::{Args, Subcommand};
use serde_json::json;

use super::context::{Context, parse_input};
use super::{hub, silo, usage};
use crate::cli::{ExportArgs, InputArg, NameArg};
use crate::crypto::KeyPair;
use crate::descriptors::network::{NetworkSettings, NodeIdentity, Overlay};
use crate::descriptors::passport::Rights;
use crate::descriptors::{DescriptorError, Kind, LinkedNetwork, Network, Passport, User, Volume, owner, units};
use crate::runtime::node_lock::NodeLock;

/// Modes of `infinit network`.
#[derive(Debug, Subcommand)]
pub enum NetworkMode {
    /// Create a network owned by you, and link it to this device
    Create(CreateArgs),
    /// Link a network to this device (needs a passport unless you own it)
    Link(LinkArgs),
    /// Unlink a network from this device
    Unlink(NameOnly),
    /// List networks known on this device
    #[command(long_about = format!("List networks known on this device.\n\n{}", super::LIST_DAMAGED_NOTE))]
    List,
    /// Export a network descriptor (to share it with members)
    Export(ExportArgs),
    /// Import a network descriptor
    Import(InputArg),
    /// Change a network you own (description, replication, eviction delay, peers)
    Update(UpdateArgs),
    /// Delete a network descriptor from this device
    Delete(DeleteArgs),
    /// Run this device's node of the network until Ctrl-C; with --listen, --port or --peer it
    /// joins the other nodes of the network
    Run(super::run::NetworkRunArgs),
    /// Show what this device's running node sees: its peers (endpoints, alive, suspect or down,
    /// space), the blocks it stores and how many have fewer live replicas than the replication factor
    Inspect(NameOnly),
    /// Publish a network you own on the hub
    Push(NameOnly),
    /// Get a network from the hub (without a name: every network you own or hold a passport for)
    Fetch(FetchArgs),
    /// Remove a network you own from the hub, with its passports and endpoints there
    Pull(PullArgs),
}

/// Options of `network fetch`.
#[derive(Debug, Args)]
pub struct FetchArgs {
    #[command(flatten)]
    name: NameArg,
}

/// Options of `network pull`.
#[derive(Debug, Args)]
pub struct PullArgs {
    #[command(flatten)]
    name: NameArg,
    /// Also remove your volumes on it from the hub
    #[arg(long)]
    purge: bool,
}

/// Options of `network create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    #[command(flatten)]
    name: NameArg,
    /// Silo this device contributes (repeat for several); none makes a pure client
    #[arg(short = 'S', long = "silo", value_name = "SILO")]
    silos: Vec<String>,
    /// Number of nodes that keep each block
    #[arg(short, long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=64))]
    replication_factor: u32,
    /// How nodes find each other and place blocks
    #[arg(long, value_enum, default_value_t = Overlay::Gossip)]
    overlay: Overlay,
    /// How long a node may be silent before its blocks are re-replicated elsewhere
    #[arg(short, long, default_value = "10min", value_parser = units::parse_duration)]
    eviction_delay: std::time::Duration,
    /// Bootstrap peer host:port (repeat for several)
    #[arg(long = "peer", value_name = "HOST:PORT")]
    peers: Vec<String>,
    /// Free text describing the network
    #[arg(long)]
    description: Option<String>,
    /// Also publish it on the hub
    #[arg(long)]
    push: bool,
}

/// Options of `network link`.
#[derive(Debug, Args)]
pub struct LinkArgs {
    #[command(flatten)]
    name: NameArg,
    /// Silo this device contributes (repeat for several); needs a passport that allows storage
    #[arg(short = 'S', long = "silo", value_name = "SILO")]
    silos: Vec<String>,
}

/// Options of `network update`.
#[derive(Debug, Args)]
pub struct UpdateArgs {
    #[command(flatten)]
    name: NameArg,
    /// New description
    #[arg(long)]
    description: Option<String>,
    /// New number of nodes that keep each block
    #[arg(short, long, value_parser = clap::value_parser!(u32).range(1..=64))]
    replication_factor: Option<u32>,
    /// New eviction delay
    #[arg(short, long, value_parser = units::parse_duration)]
    eviction_delay: Option<std::time::Duration>,
    /// Replace the bootstrap peers (repeat for several)
    #[arg(long = "peer", value_name = "HOST:PORT")]
    peers: Vec<String>,
    /// Also publish the updated network on the hub
    #[arg(long)]
    push: bool,
}

/// Options of `network delete`.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    #[command(flatten)]
    name: NameArg,
    /// Also unlink it for every local user who linked it
    #[arg(long)]
    unlink: bool,
    /// Also delete the passports and volumes of this network
    #[arg(long)]
    purge: bool,
}

/// A mode that takes only a name.
#[derive(Debug, Args)]
pub struct NameOnly {
    #[command(flatten)]
    name: NameArg,
}

/// Run a `network` mode.
pub fn run(ctx: &Context, mode: NetworkMode) -> anyhow::Result<()> {
    match mode {
        NetworkMode::Create(args) => create(ctx, args),
        NetworkMode::Link(args) => link(ctx, args),
        NetworkMode::Unlink(args) => unlink(ctx, args),
        NetworkMode::List => list(ctx),
        NetworkMode::Export(args) => export(ctx, args),
        NetworkMode::Import(args) => import(ctx, args),
        NetworkMode::Update(args) => update(ctx, args),
        NetworkMode::Delete(args) => delete(ctx, args),
        NetworkMode::Run(args) => super::run::network_run(ctx, args),
        NetworkMode::Inspect(args) => inspect(ctx, args),
        NetworkMode::Push(args) => hub::push_network(ctx, &qualified(ctx, &args.name, "network push")?),
        NetworkMode::Fetch(args) => {
            let name = args.name.get().map(|n| ctx.qualify("network", n)).transpose()?;
            hub::fetch_network(ctx, name.as_deref())
        }
        NetworkMode::Pull(args) => hub::pull_network(ctx, &qualified(ctx, &args.name, "network pull")?, args.purge),
    }
}

fn qualified(ctx: &Context, name: &NameArg, mode: &str) -> anyhow::Result<String> {
    let name = name.get().ok_or_else(|| usage(mode, "the network name is required: --name NAME"))?;
    ctx.qualify("network", name)
}

/// Load and verify network `name` (qualified).
pub fn load(ctx: &Context, name: &str) -> anyhow::Result<Network> {
    let network: Network = ctx.store.load(Kind::Network, name)?;
    network.verify()?;
    if network.name != name {
        bail!("network file \"{name}\" holds network \"{}\"", network.name);
    }
    Ok(network)
}

/// The link of `network` for `user`, if any.
pub fn linked(ctx: &Context, user: &str, network: &str) -> anyhow::Result<Option<LinkedNetwork>> {
    let path = format!("{user}/{network}");
    if !ctx.store.exists(Kind::LinkedNetwork, &path) {
        return Ok(None);
    }
    Ok(Some(ctx.store.load(Kind::LinkedNetwork, &path)?))
}

/// The link of `network` for `user`, checked again as a node about to run
/// it: the network belongs to the user its name says, the node key is
/// certified by `user` and the passport is signed by the network's owner
/// for `user`'s key (a file altered since linking is refused).
pub fn verified_link(ctx: &Context, user: &User, network: &Network) -> anyhow::Result<LinkedNetwork> {
    owner::check_owner(&ctx.store, Kind::Network, &network.name, &network.owner)?;
    let Some(link) = linked(ctx, &user.name, &network.name)? else {
        bail!(
            "network \"{}\" is not linked to this device for user \"{}\" (link it first: infinit network link {0})",
            network.name,
            user.name
        );
    };
    link.verify(network, user)?;
    Ok(link)
}

fn check_peers(peers: &[String]) -> anyhow::Result<()> {
    for peer in peers {
        let ok = peer
            .rsplit_once(':')
            .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0));
        if !ok {
            bail!("invalid peer \"{peer}\": expected HOST:PORT");
        }
    }
    Ok(())
}

fn check_silos(ctx: &Context, silos: &[String]) -> anyhow::Result<()> {
    for name in silos {
        silo::load(ctx, name)?;
    }
    Ok(())
}

fn create(ctx: &Context, args: CreateArgs) -> anyhow::Result<()> {
    let name = qualified(ctx, &args.name, "network create")?;
    check_peers(&args.peers)?;
    hub::hub_for_push(ctx, args.push)?;
    let settings = NetworkSettings {
        description: args.description,
        replication_factor: args.replication_factor,
        overlay: args.overlay,
        eviction_delay: units::format_duration(args.eviction_delay),
        peers: args.peers,
    };
    create_owned(ctx, &name, settings, args.silos)?;
    if args.push {
        let retry = format!("infinit network push --name {name}");
        hub::after_create(hub::push_network(ctx, &name), "network", &retry)?;
    }
    Ok(())
}

/// Create network `name` owned by the acting user, link it with `silos` and report.
pub fn create_owned(ctx: &Context, name: &str, settings: NetworkSettings, silos: Vec<String>) -> anyhow::Result<()> {
    let name = name.to_string();
    let (user, keys) = ctx.my_keys()?;
    if !name.starts_with(&format!("{}/", user.name)) {
        bail!(
            "network \"{name}\" would belong to another user: you can only create networks under your own name \"{}\"",
            user.name
        );
    }
    if ctx.store.exists(Kind::Network, &name) {
        bail!("network \"{name}\" already exists");
    }
    check_silos(ctx, &silos)?;
    let network = Network::new(&name, settings, &keys)?;
    let passport = owner_passport(&network, &user, &keys)?;
    ctx.store.create(Kind::Network, &name, &network)?;
    ctx.out.report("saved", "network", &name, &format!("Locally saved network \"{name}\"."));
    save_link(ctx, &name, &user.name, &keys, passport, silos)
}

/// The passport an owner issues itself: every right, never saved as a file.
fn owner_passport(network: &Network, owner: &User, keys: &KeyPair) -> anyhow::Result<Passport> {
    let all = Rights { allow_write: true, allow_storage: true, allow_create_passport: true };
    Ok(Passport::sign(network, &owner.name, owner.public_key, all, keys, None)?)
}

/// Generate this device's node key for `user` on `network`, save the link and report it.
fn save_link(
    ctx: &Context,
    network: &str,
    user: &str,
    keys: &KeyPair,
    passport: Passport,
    silos: Vec<String>,
) -> anyhow::Result<()> {
    let node = NodeIdentity::generate(network, keys)?;
    let link = LinkedNetwork { network: network.to_string(), user: user.to_string(), node, passport, silos };
    ctx.store.create(Kind::LinkedNetwork, &format!("{user}/{network}"), &link)?;
    let sentence = format!("Linked network \"{network}\" to this device for user \"{user}\".");
    ctx.out.report("linked", "network", network, &sentence);
    Ok(())
}

fn link(ctx: &Context, args: LinkArgs) -> anyhow::Result<()> {
    let name = qualified(ctx, &args.name, "network link")?;
    let network = load(ctx, &name)?;
    owner::check_owner(&ctx.store, Kind::Network, &name, &network.owner)?;
    let (user, keys) = ctx.my_keys()?;
    if linked(ctx, &user.name, &name)?.is_some() {
        bail!(
            "network \"{name}\" is already linked to this device for user \"{}\" (unlink it first: infinit network unlink {name})",
            user.name
        );
    }
    let passport = if network.owner == user.public_key {
        owner_passport(&network, &user, &keys)?
    } else {
        let path = format!("{name}/{}", user.name);
        if !ctx.store.exists(Kind::Passport, &path) {
            bail!(
                "network \"{name}\": no passport for user \"{}\" (ask the owner: infinit passport create --network {name} --user {}, then import it)",
                user.name,
                user.name
            );
        }
        let passport: Passport = ctx.store.load(Kind::Passport, &path)?;
        passport.verify(&network)?;
        if passport.user != user.public_key {
            bail!("the passport for \"{}\" on \"{name}\" was issued to a different key", user.name);
        }
        passport
    };
    if !args.silos.is_empty() && !passport.allow_storage {
        bail!(
            "network \"{name}\": the passport of user \"{}\" does not allow contributing storage (--silo)",
            user.name
        );
    }
    check_silos(ctx, &args.silos)?;
    save_link(ctx, &name, &user.name, &keys, passport, args.silos)
}

fn unlink(ctx: &Context, args: NameOnly) -> anyhow::Result<()> {
    let name = qualified(ctx, &args.name, "network unlink")?;
    ensure_stopped(ctx, &ctx.as_user, &name)?;
    if !ctx.store.delete(Kind::LinkedNetwork, &format!("{}/{name}", ctx.as_user))? {
        bail!("network \"{name}\" is not linked to this device for user \"{}\"", ctx.as_user);
    }
    remove_state(ctx, &ctx.as_user, &name)?;
    ctx.out.report(
        "unlinked",
        "network",
        &name,
        &format!("Unlinked network \"{name}\" from this device for user \"{}\".", ctx.as_user),
    );
    Ok(())
}

/// The folder of node state (journal, caches) of `user` on `network`.
pub fn state_dir(ctx: &Context, user: &str, network: &str) -> std::path::PathBuf {
    ctx.store.home.state.join("networks").join(user).join(network)
}

/// Refuse when a node of `user` on `network` runs on this device (a
/// mounted volume, `network run`): its link and state must not vanish under it.
pub fn ensure_stopped(ctx: &Context, user: &str, network: &str) -> anyhow::Result<()> {
    let dir = state_dir(ctx, user, network);
    if let Some(holder) = NodeLock::holder(&dir)? {
        bail!(
            "network \"{network}\" is in use on this device by a running node of user \"{user}\" ({holder}): stop it first (Ctrl-C where it runs, or kill its pid)"
        );
    }
    Ok(())
}

/// Remove the node state a link kept (caches, journals) for `user` on `network`.
fn remove_state(ctx: &Context, user: &str, network: &str) -> anyhow::Result<()> {
    let dir = state_dir(ctx, user, network);
    match std::fs::remove_dir_all(&dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(anyhow::anyhow!("cannot remove \"{}\": {e}", dir.display())),
    }
}

fn list(ctx: &Context) -> anyhow::Result<()> {
    ctx.list_each(
        Kind::Network,
        None,
        |name| load(ctx, name),
        |name, network| {
            let is_linked = ctx.store.exists(Kind::LinkedNetwork, &format!("{}/{name}", ctx.as_user));
            let description = network.description.as_deref().map(|d| format!(" \"{d}\"")).unwrap_or_default();
            let mut value = json!({
                "name": name,
                "linked": is_linked,
                "replication_factor": network.replication_factor,
                "overlay": network.overlay.as_str(),
            });
            if let Some(d) = &network.description {
                value["description"] = json!(d);
            }
            let state = if is_linked { "linked" } else { "not linked" };
            ctx.out.item(&format!("{name}{description}: {state}"), &value);
        },
    )
}

fn export(ctx: &Context, args: ExportArgs) -> anyhow::Result<()> {
    let name = qualified(ctx, &args.name, "network export")?;
    let network = load(ctx, &name)?;
    ctx.export("network", &name, &network, args.output.output.as_deref(), false)?;
    Ok(())
}

fn import(ctx: &Context, args: InputArg) -> anyhow::Result<()> {
    let network: Network = parse_input(Kind::Network, &ctx.read_input(args.input.as_deref())?)?;
    network.verify()?;
    let name = network.name.clone();
    owner::check_owner(&ctx.store, Kind::Network, &name, &network.owner)?;
    if args.force
        && let Ok(old) = ctx.store.load::<Network>(Kind::Network, &name)
        && old.owner != network.owner
    {
        bail!("network \"{name}\": the import has a different owner than the local copy; refusing to replace it");
    }
    ctx.import(Kind::Network, &name, &name, &network, args.force)
}

fn update(ctx: &Context, args: UpdateArgs) -> anyhow::Result<()> {
    let name = qualified(ctx, &args.name, "network update")?;
    hub::hub_for_push(ctx, args.push)?;
    let mut network = load(ctx, &name)?;
    let (user, keys): (User, KeyPair) = ctx.my_keys()?;
    if network.owner != user.public_key {
        bail!("network \"{name}\" belongs to someone else: only its owner can update it");
    }
    check_peers(&args.peers)?;
    let mut settings = network.settings();
    if let Some(d) = args.description {
        settings.description = Some(d);
    }
    if let Some(r) = args.replication_factor {
        settings.replication_factor = r;
    }
    if let Some(e) = args.eviction_delay {
        settings.eviction_delay = units::format_duration(e);
    }
    if !args.peers.is_empty() {
        settings.peers = args.peers;
    }
    network.apply(settings, &keys)?;
    ctx.store.replace(Kind::Network, &name, &network)?;
    ctx.out.report("updated", "network", &name, &format!("Locally updated network \"{name}\"."));
    if args.push {
        let retry = format!("infinit network push --name {name}");
        hub::after_create(hub::push_network(ctx, &name), "network", &retry)?;
    }
    Ok(())
}

fn delete(ctx: &Context, args: DeleteArgs) -> anyhow::Result<()> {
    let name = qualified(ctx, &args.name, "network delete")?;
    if !ctx.store.exists(Kind::Network, &name) {
        return Err(DescriptorError::NotFound { kind: Kind::Network, name }.into());
    }
    let links: Vec<String> = ctx
        .store
        .list(Kind::LinkedNetwork, None)?
        .into_iter()
        .filter(|l| l.split_once('/').is_some_and(|(_, n)| n == name))
        .collect();
    if !links.is_empty() && !args.unlink {
        let users: Vec<&str> = links.iter().filter_map(|l| l.split_once('/').map(|(u, _)| u)).collect();
        bail!(
            "network \"{name}\" is still linked on this device by {}: unlink it first or add --unlink",
            users.join(", ")
        );
    }
    for link in &links {
        if let Some((user, _)) = link.split_once('/') {
            ensure_stopped(ctx, user, &name)?;
        }
    }
    for link in &links {
        ctx.store.delete(Kind::LinkedNetwork, link)?;
        if let Some((user, _)) = link.split_once('/') {
            remove_state(ctx, user, &name)?;
            ctx.out.report("unlinked", "network", &name, &format!("Unlinked network \"{name}\" for user \"{user}\"."));
        }
    }
    if args.purge {
        for passport in ctx.store.list(Kind::Passport, Some(&name))? {
            ctx.store.delete(Kind::Passport, &passport)?;
            // Name it as every other passport report does: `owner/network: user`.
            let holder = passport.rsplit('/').next().unwrap_or_default();
            let shown = format!("{name}: {holder}");
            ctx.out.report("deleted", "passport", &shown, &format!("Locally deleted passport \"{shown}\"."));
        }
        for volume in ctx.store.list(Kind::Volume, None)? {
            let v: Volume = ctx.store.load(Kind::Volume, &volume)?;
            if v.network == name {
                ctx.store.delete(Kind::Volume, &volume)?;
                ctx.out.report("deleted", "volume", &volume, &format!("Locally deleted volume \"{volume}\"."));
            }
        }
    }
    ctx.store.delete(Kind::Network, &name)?;
    ctx.out.report("deleted", "network", &name, &format!("Locally deleted network \"{name}\"."));
    Ok(())
}

/// `network inspect`: ask this device's running node of the network,
/// through the socket in its state folder, what it sees.
fn inspect(ctx: &Context, args: NameOnly) -> anyhow::Result<()> {
    use anyhow::Context as _;
    use std::io::BufRead as _;
    let name = args.name.get().ok_or_else(|| usage("network inspect", "the network name is required: --name NAME"))?;
    let name = ctx.qualify("network", name)?;
    let network = load(ctx, &name)?;
    let user = ctx.me()?;
    let socket = state_dir(ctx, &user.name, &network.name).join(super::run::INSPECT_SOCKET);
    let stream = std::os::unix::net::UnixStream::connect(&socket).map_err(|e| {
        anyhow::anyhow!(
            "no node of network \"{name}\" runs on this device for user \"{}\" ({e}): start one with infinit network run --name {name} --peer HOST:PORT (or volume run)",
            user.name
        )
    })?;
    stream.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
    let mut line = String::new();
    std::io::BufReader::new(stream).read_line(&mut line).context("reading the node's answer")?;
    let view: serde_json::Value = serde_json::from_str(&line).context("the node's answer is not JSON")?;
    let capacity = |v: &serde_json::Value| match v.as_u64() {
        Some(c) => units::format_capacity(c),
        None => "unlimited".into(),
    };
    let row = |p: &serde_json::Value| {
        let endpoints: Vec<String> =
            p["endpoints"].as_array().into_iter().flatten().filter_map(|e| e.as_str().map(String::from)).collect();
        format!(
            "{:<14} {:<10} {:<8} {:<24} {:>10} / {:<10} {}",
            p["id"].as_str().map(|i| &i[..12.min(i.len())]).unwrap_or("?"),
            p["user"].as_str().unwrap_or("?"),
            p["state"].as_str().unwrap_or("?"),
            if endpoints.is_empty() { "-".to_string() } else { endpoints.join(",") },
            units::format_capacity(p["used"].as_u64().unwrap_or(0)),
            capacity(&p["capacity"]),
            if p["stores"].as_bool() == Some(true) { "stores" } else { "client" }
        )
    };
    if ctx.out.script {
        let mut me = view["node"].clone();
        me["event"] = "node".into();
        ctx.out.json(&me);
        for peer in view["peers"].as_array().into_iter().flatten() {
            let mut peer = peer.clone();
            peer["event"] = "peer".into();
            ctx.out.json(&peer);
        }
        ctx.out.json(&serde_json::json!({
            "event": "blocks",
            "stored": view["blocks"],
            "under_replicated": view["under_replicated"],
            "replication_factor": view["replication_factor"],
        }));
    } else {
        ctx.out.line(&format!(
            "{:<14} {:<10} {:<8} {:<24} {:>10}   {:<10} {}",
            "NODE", "USER", "STATE", "ENDPOINTS", "USED", "CAPACITY", "ROLE"
        ));
        ctx.out.line(&row(&view["node"]));
        for peer in view["peers"].as_array().into_iter().flatten() {
            ctx.out.line(&row(peer));
        }
        ctx.out.line(&format!(
            "{} blocks stored here, {} with fewer live replicas than the replication factor ({}).",
            view["blocks"], view["under_replicated"], view["replication_factor"]
        ));
    }
    Ok(())
}
