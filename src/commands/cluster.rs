//! `infinit cluster`: whole-deployment shortcuts. `cluster init` sets up
//! everything a one-node volume needs, reusing what already exists, then
//! mounts it.

use std::path::PathBuf;

use anyhow::bail;
use clap::{Args, Subcommand};

use super::context::Context;
use super::run::{self, Serve};
use super::{network, silo, user, volume};
use crate::descriptors::network::{NetworkSettings, Overlay};
use crate::descriptors::silo::SiloBackend;
use crate::descriptors::volume::{DEFAULT_BLOCK_SIZE, MountOptions};
use crate::descriptors::{Kind, Silo, names, units};

/// Modes of `infinit cluster`.
#[derive(Debug, Subcommand)]
pub enum ClusterMode {
    /// Create (if missing) a user, a silo, a one-node network and a volume, then mount it
    Init(InitArgs),
}

/// Options of `cluster init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to mount the volume
    #[arg(short, long, value_name = "DIR")]
    mountpoint: PathBuf,
    /// Name of the silo, network and volume
    #[arg(short, long, default_value = "cluster")]
    name: String,
    /// Space the silo offers, e.g. 10GB
    #[arg(short, long, default_value = "10GB", allow_hyphen_values = true, value_name = "SIZE")]
    capacity: String,
    /// Set everything up but do not mount
    #[arg(long)]
    no_mount: bool,
}

/// Run a `cluster` mode.
pub fn run(ctx: &Context, mode: ClusterMode) -> anyhow::Result<()> {
    match mode {
        ClusterMode::Init(args) => init(ctx, args),
    }
}

fn init(ctx: &Context, args: InitArgs) -> anyhow::Result<()> {
    names::check("cluster", &args.name)?;
    names::check("user", &ctx.as_user)?;
    let capacity = units::parse_capacity(&args.capacity).map_err(|e| anyhow::anyhow!("--capacity: {e}"))?;
    if !ctx.store.exists(Kind::User, &ctx.as_user) {
        user::create_user(ctx, &ctx.as_user, None, None)?;
    }
    let silo_name = args.name.clone();
    if ctx.store.exists(Kind::Silo, &silo_name) {
        silo::load(ctx, &silo_name)?;
    } else {
        let (path, id) = silo::prepare_folder(&silo_name, &ctx.store.home.state.join("silos").join(&silo_name))?;
        let backend = SiloBackend::Filesystem { path };
        let descriptor =
            Silo { name: silo_name.clone(), description: None, capacity: Some(capacity), id: Some(id), backend };
        silo::save_new(ctx, descriptor)?;
    }
    let net = ctx.qualify("network", &args.name)?;
    if ctx.store.exists(Kind::Network, &net) {
        let Some(link) = network::linked(ctx, &ctx.as_user, &net)? else {
            bail!("network \"{net}\" exists but is not linked for \"{}\": link it or pick another --name", ctx.as_user);
        };
        if link.silos.is_empty() {
            bail!("network \"{net}\" is linked without a silo on this device: pick another --name");
        }
    } else {
        let settings = NetworkSettings {
            description: Some("one-node network made by infinit cluster init".into()),
            replication_factor: 1,
            overlay: Overlay::Single,
            eviction_delay: "10min".into(),
            peers: Vec::new(),
        };
        network::create_owned(ctx, &net, settings, vec![silo_name])?;
    }
    let vol = ctx.qualify("volume", &args.name)?;
    let mountpoint = std::path::absolute(&args.mountpoint)?;
    if ctx.store.exists(Kind::Volume, &vol) {
        volume::load(ctx, &vol)?;
    } else {
        let mount = MountOptions { mountpoint: Some(mountpoint.clone()), ..Default::default() };
        volume::create_volume(ctx, &vol, &net, None, DEFAULT_BLOCK_SIZE, mount)?;
    }
    if args.no_mount {
        return Ok(());
    }
    run::serve(ctx, &vol, Serve { mountpoint: Some(mountpoint), ..Default::default() }, "cluster init")
}
