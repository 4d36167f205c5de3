//! `infinit volume`: create, list, export, import, update and delete volume
//! descriptors, push, fetch and pull them on the hub, and check a stored
//! volume offline (`run`/`mount` live in `run.rs`).

use std::path::PathBuf;

use anyhow::bail;
use clap::{Args, Subcommand};
use serde_json::json;

use super::context::{Context, parse_input};
use super::{hub, network, usage};
use crate::cli::{ExportArgs, InputArg, NameArg};
use crate::crypto::KeyPair;
use crate::descriptors::volume::MountOptions;
use crate::descriptors::{DescriptorError, Kind, Volume, owner, units};
use crate::runtime::freshness::FreshnessFloor;
use crate::runtime::fs::check::{self, Finding, FindingKind, Floors, RepairReport, Report};
use crate::runtime::journal::AsyncJournal;
use crate::runtime::node::{NodeError, SiloSpec, open_silo};
use crate::runtime::silo::{Durability, SiloError};

/// Modes of `infinit volume`.
#[derive(Debug, Subcommand)]
pub enum VolumeMode {
    /// Create a volume on a network linked to this device
    Create(CreateArgs),
    /// List local volumes
    #[command(long_about = format!("List local volumes.\n\n{}", super::LIST_DAMAGED_NOTE))]
    List,
    /// Export a volume descriptor (without its local mountpoint)
    Export(ExportArgs),
    /// Import a volume descriptor
    Import(ImportArgs),
    /// Change a volume's default mount options (and, for its creator, its description)
    Update(UpdateArgs),
    /// Delete a local volume descriptor (the data on the network is not touched)
    Delete(NameOnly),
    /// Run this device's node and serve the volume through FUSE until Ctrl-C
    Run(super::run::RunArgs),
    /// Mount the volume: the same as run, on --mountpoint or else the volume's stored mountpoint
    Mount(super::run::RunArgs),
    /// Check the volume as stored in this device's silo, with its node stopped; exit 1 if problems remain
    Check(CheckArgs),
    /// Publish a volume you created on the hub (without its local mount options)
    Push(NameOnly),
    /// Get volumes from the hub: one by name, those of a network, or (neither) all you can reach
    Fetch(FetchArgs),
    /// Remove a volume you created from the hub
    Pull(NameOnly),
}

/// Options of `volume fetch`.
#[derive(Debug, Args)]
pub struct FetchArgs {
    #[command(flatten)]
    name: NameArg,
    /// Every volume of this network
    #[arg(short = 'N', long, conflicts_with_all = ["name", "positional"])]
    network: Option<String>,
}

/// Default mount options stored in the descriptor.
#[derive(Debug, Args)]
pub struct MountArgs {
    /// Default mountpoint
    #[arg(short, long, value_name = "DIR")]
    mountpoint: Option<PathBuf>,
    /// Mount read-only by default
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    readonly: Option<bool>,
    /// Keep a RAM block cache by default
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    cache: Option<bool>,
    /// Write back through the on-disk journal by default
    #[arg(long = "async", num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    async_writes: Option<bool>,
}

impl MountArgs {
    fn options(self) -> MountOptions {
        MountOptions {
            mountpoint: self.mountpoint,
            readonly: self.readonly,
            cache: self.cache,
            async_writes: self.async_writes,
        }
    }
}

/// Options of `volume create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    #[command(flatten)]
    name: NameArg,
    /// Network the volume lives on
    #[arg(short = 'N', long)]
    network: String,
    /// Free text describing the volume
    #[arg(long)]
    description: Option<String>,
    /// Size of file content blocks, e.g. 1MiB (4KiB to 64MiB)
    #[arg(long, default_value = "1MiB", allow_hyphen_values = true, value_name = "SIZE")]
    block_size: String,
    #[command(flatten)]
    mount: MountArgs,
    /// Also publish it on the hub
    #[arg(long)]
    push: bool,
}

/// Options of `volume import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    input: InputArg,
    /// Default mountpoint on this device
    #[arg(short, long, value_name = "DIR")]
    mountpoint: Option<PathBuf>,
}

/// Options of `volume update`.
#[derive(Debug, Args)]
pub struct UpdateArgs {
    #[command(flatten)]
    name: NameArg,
    /// New description (creator only)
    #[arg(long)]
    description: Option<String>,
    #[command(flatten)]
    mount: MountArgs,
}

/// Options of `volume check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    name: NameArg,
    /// Fix what can be fixed: unlink dangling and stale entries, make lost chunks holes, set link counts,
    /// link orphans into /lost+found, remove leaked blocks; then check again
    #[arg(long)]
    repair: bool,
}

/// A mode that takes only a name.
#[derive(Debug, Args)]
pub struct NameOnly {
    #[command(flatten)]
    name: NameArg,
}

/// Run a `volume` mode.
pub fn run(ctx: &Context, mode: VolumeMode) -> anyhow::Result<()> {
    match mode {
        VolumeMode::Create(args) => create(ctx, args),
        VolumeMode::List => list(ctx),
        VolumeMode::Export(args) => {
            let name = qualified(ctx, &args.name, "volume export")?;
            let volume = load(ctx, &name)?;
            ctx.export("volume", &name, &volume.exported(), args.output.output.as_deref(), false)?;
            Ok(())
        }
        VolumeMode::Import(args) => import(ctx, args),
        VolumeMode::Run(args) => super::run::run(ctx, args, "volume run"),
        VolumeMode::Mount(args) => super::run::run(ctx, args, "volume mount"),
        VolumeMode::Update(args) => update(ctx, args),
        VolumeMode::Check(args) => check(ctx, args),
        VolumeMode::Push(args) => hub::push_volume(ctx, &qualified(ctx, &args.name, "volume push")?),
        VolumeMode::Fetch(args) => {
            let name = args.name.get().map(|n| ctx.qualify("volume", n)).transpose()?;
            let network = args.network.as_deref().map(|n| ctx.qualify("network", n)).transpose()?;
            hub::fetch_volumes(ctx, name.as_deref(), network.as_deref())
        }
        VolumeMode::Pull(args) => hub::pull_volume(ctx, &qualified(ctx, &args.name, "volume pull")?),
        VolumeMode::Delete(args) => {
            let name = qualified(ctx, &args.name, "volume delete")?;
            if !ctx.store.delete(Kind::Volume, &name)? {
                return Err(DescriptorError::NotFound { kind: Kind::Volume, name }.into());
            }
            ctx.out.report("deleted", "volume", &name, &format!("Locally deleted volume \"{name}\"."));
            Ok(())
        }
    }
}

fn qualified(ctx: &Context, name: &NameArg, mode: &str) -> anyhow::Result<String> {
    let name = name.get().ok_or_else(|| usage(mode, "the volume name is required: --name NAME"))?;
    ctx.qualify("volume", name)
}

/// Load and verify volume `name` (qualified).
pub fn load(ctx: &Context, name: &str) -> anyhow::Result<Volume> {
    let volume: Volume = ctx.store.load(Kind::Volume, name)?;
    volume.verify()?;
    if volume.name != name {
        bail!("volume file \"{name}\" holds volume \"{}\"", volume.name);
    }
    Ok(volume)
}

fn create(ctx: &Context, args: CreateArgs) -> anyhow::Result<()> {
    let name = qualified(ctx, &args.name, "volume create")?;
    let net = ctx.qualify("network", &args.network)?;
    let block_size = units::parse_capacity(&args.block_size).map_err(|e| anyhow::anyhow!("--block-size: {e}"))?;
    hub::hub_for_push(ctx, args.push)?;
    create_volume(ctx, &name, &net, args.description, block_size, args.mount.options())?;
    if args.push {
        let retry = format!("infinit volume push --name {name}");
        hub::after_create(hub::push_volume(ctx, &name), "volume", &retry)?;
    }
    Ok(())
}

/// Create and save volume `name` on network `net` as the acting user, and report.
pub fn create_volume(
    ctx: &Context,
    name: &str,
    net: &str,
    description: Option<String>,
    block_size: u64,
    mount: MountOptions,
) -> anyhow::Result<()> {
    network::load(ctx, net)?;
    let (user, keys) = ctx.my_keys()?;
    if !name.starts_with(&format!("{}/", user.name)) {
        bail!("volume \"{name}\" would belong to another user: create volumes under your own name \"{}\"", user.name);
    }
    let Some(link) = network::linked(ctx, &user.name, net)? else {
        bail!(
            "network \"{net}\" is not linked to this device for user \"{}\" (link it first: infinit network link {net})",
            user.name
        );
    };
    if !link.passport.allow_write {
        bail!("network \"{net}\": the passport of user \"{}\" is read-only; it cannot create volumes", user.name);
    }
    if ctx.store.exists(Kind::Volume, name) {
        bail!("volume \"{name}\" already exists");
    }
    let volume = Volume::new(name, net, description, block_size, mount, &keys)?;
    ctx.store.create(Kind::Volume, name, &volume)?;
    ctx.out.report("saved", "volume", name, &format!("Locally saved volume \"{name}\"."));
    Ok(())
}

fn list(ctx: &Context) -> anyhow::Result<()> {
    ctx.list_each(
        Kind::Volume,
        None,
        |name| load(ctx, name),
        |name, volume| {
            let description = volume.description.as_deref().map(|d| format!(" \"{d}\"")).unwrap_or_default();
            let mut value = json!({"name": name, "network": volume.network, "block_size": volume.block_size});
            if let Some(d) = &volume.description {
                value["description"] = json!(d);
            }
            let mount = match &volume.mount_options.mountpoint {
                Some(m) => {
                    value["mountpoint"] = json!(m);
                    format!(", mounts on {}", m.display())
                }
                None => String::new(),
            };
            ctx.out.item(&format!("{name}{description}: on network {}{mount}", volume.network), &value);
        },
    )
}

fn import(ctx: &Context, args: ImportArgs) -> anyhow::Result<()> {
    let mut volume: Volume = parse_input(Kind::Volume, &ctx.read_input(args.input.input.as_deref())?)?;
    volume.verify()?;
    owner::check_owner(&ctx.store, Kind::Volume, &volume.name, &volume.owner)?;
    if args.mountpoint.is_some() {
        volume.mount_options.mountpoint = args.mountpoint;
    } else if let Ok(local) = ctx.store.load::<Volume>(Kind::Volume, &volume.name) {
        volume.mount_options.mountpoint = local.mount_options.mountpoint;
    }
    let name = volume.name.clone();
    ctx.import(Kind::Volume, &name, &name, &volume, args.input.force)?;
    Ok(())
}

fn update(ctx: &Context, args: UpdateArgs) -> anyhow::Result<()> {
    let name = qualified(ctx, &args.name, "volume update")?;
    let mut volume = load(ctx, &name)?;
    if let Some(description) = args.description {
        let (_, keys) = ctx.my_keys()?;
        volume.description = Some(description);
        volume.resign(&keys)?;
    }
    volume.mount_options.merge(args.mount.options());
    ctx.store.replace(Kind::Volume, &name, &volume)?;
    ctx.out.report("updated", "volume", &name, &format!("Locally updated volume \"{name}\"."));
    Ok(())
}

/// `volume check`: check (and with `--repair`, fix) the stored volume.
/// Exit 0 when it is clean (after repair, when repairing), else 1.
fn check(ctx: &Context, args: CheckArgs) -> anyhow::Result<()> {
    let name = qualified(ctx, &args.name, "volume check")?;
    let descriptor = load(ctx, &name)?;
    let network = network::load(ctx, &descriptor.network)?;
    let (user, keys) = ctx.my_keys()?;
    if descriptor.owner != user.public_key {
        bail!("volume \"{name}\" belongs to another user: only its owner can read its nodes to check them");
    }
    network::verified_link(ctx, &user, &network)?;
    let journal = network::state_dir(ctx, &user.name, &network.name).join("async");
    if AsyncJournal::has_pending(&journal) {
        bail!(
            "network \"{}\": the write-back journal holds operations not stored yet; store them first (infinit network run --name {}, then stop it) and check again",
            network.name,
            network.name
        );
    }
    let spec = super::run::local_silo(ctx, &user.name, &network.name)?;
    match &spec {
        SiloSpec::Memory { name: silo, .. } => {
            bail!("silo \"{silo}\" keeps its blocks in RAM: nothing is stored to check")
        }
        SiloSpec::Cloud { name: silo, .. } => ctx.out.warn(&format!(
            "nothing locks bucket silo \"{silo}\": make sure no node serves network \"{}\" during the check",
            network.name
        )),
        SiloSpec::Filesystem { .. } => {}
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))?;
    let floor = network::state_dir(ctx, &user.name, &network.name).join("freshness.redb");
    runtime.block_on(check_stored(ctx, &name, &network.name, &spec, &floor, &keys, args.repair))
}

/// Check the volume `name` in the silo `spec`, repairing it if asked.
async fn check_stored(
    ctx: &Context,
    name: &str,
    network: &str,
    spec: &SiloSpec,
    floor: &std::path::Path,
    keys: &KeyPair,
    repair: bool,
) -> anyhow::Result<()> {
    let silo = match open_silo(spec, Durability::EveryWrite).await {
        Ok(silo) => silo,
        Err(NodeError::Silo { name: silo, source: SiloError::Busy { .. } }) => bail!(
            "silo \"{silo}\" is in use by a running node: volume check reads it offline; stop the node serving network \"{network}\" (volume run, network run) first"
        ),
        Err(e) => return Err(e.into()),
    };
    // The versions this device's node saw: an older block in the silo is a rollback.
    let floors: Floors = if floor.exists() {
        FreshnessFloor::open(floor)
            .map_err(|e| anyhow::anyhow!("cannot read the versions this node has seen: {e}"))?
            .snapshot()
            .map_err(|e| anyhow::anyhow!("cannot read the versions this node has seen: {e}"))?
            .into_iter()
            .collect()
    } else {
        Floors::new()
    };
    let report = check::check(&*silo, keys, name, &floors).await?;
    if !report.complete {
        ctx.out.warn("a root directory cannot be read: leaked blocks and orphans were not looked for");
    }
    if !repair {
        render_findings(ctx, "finding", &report.findings, None);
        render_summary(ctx, name, &report, None);
        let problems = report.findings.len();
        if problems == 0 {
            return Ok(());
        }
        let command = format!("infinit volume check --name {name} --repair");
        let hint = match report.findings.iter().filter(|f| f.remedy().is_some()).count() {
            0 => "none can be repaired automatically".to_string(),
            n if n == problems => format!("run with --repair to fix them: {command}"),
            n => format!("{n} can be repaired: {command}"),
        };
        bail!("volume \"{name}\": {} found ({hint})", problems_count(problems));
    }
    let repaired = check::repair(&*silo, keys, &report).await?;
    render_findings(ctx, "finding", &report.findings, Some(&repaired));
    let after = check::check(&*silo, keys, name, &floors).await?;
    render_findings(ctx, "remaining", &after.findings, None);
    render_summary(ctx, name, &after, Some(&repaired));
    if !after.is_clean() {
        bail!("volume \"{name}\": {} left after repair", problems_count(after.findings.len()));
    }
    Ok(())
}

/// One row per finding: a table for people, one JSON document each with `--script`.
fn render_findings(ctx: &Context, event: &str, findings: &[Finding], repaired: Option<&RepairReport>) {
    let place = |f: &Finding| f.path.clone().unwrap_or_else(|| f.address.to_string());
    let outcome = |i: usize, f: &Finding| match (f.remedy(), repaired) {
        (None, _) => "none".to_string(),
        (Some(remedy), None) => remedy.to_string(),
        (Some(remedy), Some(r)) => match r.failed.get(&i) {
            Some(why) => format!("failed: {why}"),
            None => format!("done: {remedy}"),
        },
    };
    if ctx.out.script {
        for (i, f) in findings.iter().enumerate() {
            let mut value = json!({
                "event": event, "kind": f.kind.name(), "address": f.address.to_string(), "path": f.path,
                "detail": f.detail, "repair": f.remedy(),
            });
            if let Some(r) = repaired
                && f.remedy().is_some()
            {
                value["repaired"] = json!(!r.failed.contains_key(&i));
                if let Some(why) = r.failed.get(&i) {
                    value["repair_error"] = json!(why);
                }
            }
            ctx.out.json(&value);
        }
        return;
    }
    if findings.is_empty() {
        return;
    }
    if event == "remaining" {
        ctx.out.line("Left after repair:");
    }
    let header = ["KIND", "WHERE", "PROBLEM", "REPAIR"];
    let rows: Vec<[String; 4]> = findings
        .iter()
        .enumerate()
        .map(|(i, f)| [f.kind.name().to_string(), place(f), f.detail.clone(), outcome(i, f)])
        .collect();
    let width = |c: usize| rows.iter().map(|r| r[c].chars().count()).chain([header[c].len()]).max().unwrap_or(0);
    let (w0, w1, w2) = (width(0), width(1), width(2));
    ctx.out.line(&format!("{:w0$}  {:w1$}  {:w2$}  {}", header[0], header[1], header[2], header[3]));
    for r in &rows {
        ctx.out.line(&format!("{:w0$}  {:w1$}  {:w2$}  {}", r[0], r[1], r[2], r[3]));
    }
}

/// The final line (or document): what the volume holds and what is wrong.
fn render_summary(ctx: &Context, name: &str, report: &Report, repaired: Option<&RepairReport>) {
    let s = &report.summary;
    let counts = report.counts();
    let mut value = json!({
        "event": "summary", "volume": name, "clean": report.is_clean(), "complete": report.complete,
        "nodes": s.nodes, "directories": s.directories, "files": s.files, "symlinks": s.symlinks,
        "chunks": s.chunks, "patches": s.patches, "bytes": s.bytes, "tombstones": s.tombstones, "foreign": s.foreign,
    });
    let by_kind = FindingKind::ALL.iter().map(|k| (k.name().to_string(), json!(counts.get(k).copied().unwrap_or(0))));
    value["findings"] = serde_json::Value::Object(by_kind.collect());
    let mut human = String::new();
    if let Some(r) = repaired {
        value["repaired"] = json!(r.repaired);
        value["repair_failed"] = json!(r.failed.len());
        value["created_lost_and_found"] = json!(r.created_lost_and_found);
        human.push_str(&format!("Repaired {} ({} failed). ", problems_count(r.repaired), r.failed.len()));
    }
    human.push_str(&format!(
        "Volume \"{name}\": {} directories, {} files, {} symbolic links, {} chunks, {} patches, {} in files; {} tombstones, {} blocks of other volumes; ",
        s.directories,
        s.files,
        s.symlinks,
        s.chunks,
        s.patches,
        units::format_capacity(s.bytes),
        s.tombstones,
        s.foreign
    ));
    if report.is_clean() {
        human.push_str("clean.");
    } else {
        let by_kind: Vec<String> = counts.iter().map(|(k, n)| format!("{n} {}", k.name())).collect();
        human.push_str(&format!("{} ({}).", problems_count(report.findings.len()), by_kind.join(", ")));
    }
    ctx.out.item(&human, &value);
}

/// "1 problem", "2 problems".
fn problems_count(n: usize) -> String {
    if n == 1 { "1 problem".to_string() } else { format!("{n} problems") }
}
