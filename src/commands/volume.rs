//! `infinit volume`: create, list, export, import, update and delete volume
//! descriptors (running and mounting come with the storage engine).

use std::path::PathBuf;

use anyhow::bail;
use clap::{Args, Subcommand};
use serde_json::json;

use super::context::{Context, parse_input};
use super::{network, usage};
use crate::cli::{ExportArgs, InputArg, NameArg};
use crate::descriptors::volume::MountOptions;
use crate::descriptors::{Kind, Volume, units};

/// Modes of `infinit volume`.
#[derive(Debug, Subcommand)]
pub enum VolumeMode {
    /// Create a volume on a network linked to this device
    Create(CreateArgs),
    /// List local volumes
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
    /// Mount the volume (same as run; a mountpoint is required)
    Mount(super::run::RunArgs),
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
    #[arg(long, default_value = "1MiB")]
    block_size: String,
    #[command(flatten)]
    mount: MountArgs,
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
        VolumeMode::Delete(args) => {
            let name = qualified(ctx, &args.name, "volume delete")?;
            if !ctx.store.delete(Kind::Volume, &name)? {
                bail!("volume \"{name}\" does not exist");
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
    Ok(volume)
}

fn create(ctx: &Context, args: CreateArgs) -> anyhow::Result<()> {
    let name = qualified(ctx, &args.name, "volume create")?;
    let net = ctx.qualify("network", &args.network)?;
    let block_size = units::parse_capacity(&args.block_size).map_err(|e| anyhow::anyhow!("--block-size: {e}"))?;
    create_volume(ctx, &name, &net, args.description, block_size, args.mount.options())
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
    for name in ctx.store.list(Kind::Volume, None)? {
        let volume = load(ctx, &name)?;
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
    }
    Ok(())
}

fn import(ctx: &Context, args: ImportArgs) -> anyhow::Result<()> {
    let mut volume: Volume = parse_input(Kind::Volume, &ctx.read_input(args.input.input.as_deref())?)?;
    volume.verify()?;
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
