//! `infinit volume run` / `volume mount`: start this device's node for the
//! volume's network and serve the volume through FUSE until Ctrl-C,
//! SIGTERM or an outside unmount.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use clap::Args;

use super::context::Context;
use super::{network, silo, usage, volume};
use crate::cli::NameArg;
use crate::descriptors::silo::SiloBackend;
use crate::runtime::fs::fuse::{self, MountSettings};
use crate::runtime::fs::mountpoint::Mountpoint;
use crate::runtime::fs::{FileSystem, FsError};
use crate::runtime::node::{Node, NodeSpec, SiloSpec};

/// Options of `volume run` and `volume mount`.
#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    name: NameArg,
    /// Where to mount [default: the volume's stored mountpoint]
    #[arg(short, long, value_name = "DIR")]
    mountpoint: Option<PathBuf>,
    /// Mount read-only
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    readonly: Option<bool>,
    /// Extra FUSE mount option, e.g. allow_other (repeat for several)
    #[arg(long = "fuse-option", value_name = "OPTION")]
    fuse_options: Vec<String>,
}

/// How to serve a volume, beyond its stored defaults.
#[derive(Debug, Default)]
pub struct Serve {
    /// Mountpoint overriding the stored one.
    pub mountpoint: Option<PathBuf>,
    /// Read-only override.
    pub readonly: Option<bool>,
    /// Extra FUSE options.
    pub fuse_options: Vec<String>,
}

/// Run the volume named in `args`.
pub fn run(ctx: &Context, args: RunArgs, mode: &str) -> anyhow::Result<()> {
    let name = args.name.get().ok_or_else(|| usage(mode, "the volume name is required: --name NAME"))?;
    let name = ctx.qualify("volume", name)?;
    let serve_args = Serve { mountpoint: args.mountpoint, readonly: args.readonly, fuse_options: args.fuse_options };
    serve(ctx, &name, serve_args, mode)
}

/// Serve volume `name` (qualified) until stopped.
pub fn serve(ctx: &Context, name: &str, args: Serve, mode: &str) -> anyhow::Result<()> {
    let name = name.to_string();
    let descriptor = volume::load(ctx, &name)?;
    let network = network::load(ctx, &descriptor.network)?;
    let (user, keys) = ctx.my_keys()?;
    let Some(link) = network::linked(ctx, &user.name, &network.name)? else {
        bail!(
            "network \"{}\" is not linked to this device for user \"{}\" (link it first: infinit network link {})",
            network.name,
            user.name,
            network.name
        );
    };
    let silo_name = match link.silos.as_slice() {
        [one] => one.clone(),
        [] => bail!(
            "network \"{}\" has no silo on this device: a one-node network stores its blocks locally (relink with: infinit network link {} --silo SILO)",
            network.name,
            network.name
        ),
        _ => bail!(
            "network \"{}\": several silos on one node are not supported yet; link it with one --silo",
            network.name
        ),
    };
    let silo = silo::load(ctx, &silo_name)?;
    let spec = match silo.backend {
        SiloBackend::Filesystem { path } => SiloSpec::Filesystem { name: silo.name, path, capacity: silo.capacity },
        SiloBackend::Memory => SiloSpec::Memory { name: silo.name, capacity: silo.capacity },
        other => bail!("silo \"{silo_name}\": {} silos cannot be served yet", other.type_name()),
    };
    let mountpoint = args
        .mountpoint
        .or(descriptor.mount_options.mountpoint.clone())
        .ok_or_else(|| usage(mode, format!("volume \"{name}\" has no stored mountpoint: give --mountpoint DIR")))?;
    let readonly = args.readonly.or(descriptor.mount_options.readonly).unwrap_or(false);
    let settings = MountSettings { readonly, fuse_options: args.fuse_options, fsname: format!("infinit:{name}") };
    let creator = descriptor.owner == user.public_key;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let mountpoint = Mountpoint::prepare(&mountpoint)?;
    let served = runtime.block_on(async {
        let node = Node::start(&NodeSpec { silo: spec }).await?;
        let fs = match FileSystem::open(node.consensus.clone(), keys, &name, descriptor.block_size, creator).await {
            Ok(fs) => Arc::new(fs),
            Err(FsError::NotFound) => bail!(
                "volume \"{name}\" has no root directory yet, and only its creator can make it: ask them to run it once"
            ),
            Err(e) => return Err(anyhow::anyhow!("volume \"{name}\": {e}")),
        };
        let mounted = fuse::mount(fs.clone(), tokio::runtime::Handle::current(), &mountpoint.path, &settings)
            .with_context(|| format!("cannot mount on \"{}\"", mountpoint.path.display()))?;
        ctx.out.report(
            "running",
            "volume",
            &name,
            &format!("Running volume \"{name}\" on \"{}\".", mountpoint.path.display()),
        );
        mounted.serve_until(stop_signal()).await.context("the FUSE session failed")?;
        fs.flush_all().await.map_err(|e| anyhow::anyhow!("volume \"{name}\": flushing at unmount: {e}"))?;
        Ok(())
    });
    mountpoint.cleanup();
    served?;
    ctx.out.report("stopped", "volume", &name, &format!("Unmounted volume \"{name}\"."));
    Ok(())
}

/// Completes at the first SIGINT or SIGTERM.
async fn stop_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
}
