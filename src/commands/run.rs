//! `infinit volume run` / `volume mount`: start this device's node for the
//! volume's network and serve the volume through FUSE until Ctrl-C,
//! SIGTERM or an outside unmount.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use clap::Args;

use super::context::Context;
use super::peers::{self, HubPeers, NetArgs};
use super::{network, silo, usage, volume};
use crate::cli::NameArg;
use crate::descriptors::{Kind, LinkedNetwork, Network, User, owner, units};
use crate::runtime::cache::CacheOptions;
use crate::runtime::consensus::{Member, MemberRights};
use crate::runtime::fs::fuse::{self, MountSettings};
use crate::runtime::fs::merge::NodeMerger;
use crate::runtime::fs::mountpoint::Mountpoint;
use crate::runtime::fs::{FileSystem, FsError};
use crate::runtime::journal::AsyncJournal;
use crate::runtime::node::{Node, NodeError, NodeSpec, SiloSpec};
use crate::runtime::node_lock::{NodeLock, NodeLockError};
use crate::runtime::silo::SiloError;

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
    /// Keep a RAM cache of blocks [default: the volume's stored setting, else off]
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    cache: Option<bool>,
    /// Size of the RAM cache, e.g. 256MiB (implies --cache)
    #[arg(long, value_name = "SIZE", allow_hyphen_values = true)]
    cache_ram_size: Option<String>,
    /// Acknowledge writes once they are in the on-disk journal, and store them in the background;
    /// the journal survives crashes and is replayed at the next start
    #[arg(long = "async", num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    async_writes: Option<bool>,
    /// How long a cached file or directory is trusted before it is read again, so that changes by
    /// another writer of the same blocks show within about this delay (e.g. 500ms, 5s; 0s reads
    /// every time)
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = crate::descriptors::units::parse_duration)]
    revalidate: std::time::Duration,
    #[command(flatten)]
    net: NetArgs,
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
    /// RAM cache override.
    pub cache: Option<bool>,
    /// RAM cache size.
    pub cache_ram_size: Option<String>,
    /// Write-back journal override.
    pub async_writes: Option<bool>,
    /// How long a cached node is trusted (default [`crate::runtime::fs::REVALIDATE`]).
    pub revalidate: Option<std::time::Duration>,
    /// How the node joins a network of several nodes.
    pub net: NetArgs,
}

/// Run the volume named in `args`.
pub fn run(ctx: &Context, args: RunArgs, mode: &str) -> anyhow::Result<()> {
    let name = args.name.get().ok_or_else(|| usage(mode, "the volume name is required: --name NAME"))?;
    let name = ctx.qualify("volume", name)?;
    let serve_args = Serve {
        mountpoint: args.mountpoint,
        readonly: args.readonly,
        fuse_options: args.fuse_options,
        cache: args.cache,
        cache_ram_size: args.cache_ram_size,
        async_writes: args.async_writes,
        revalidate: Some(args.revalidate),
        net: args.net,
    };
    serve(ctx, &name, serve_args, mode)
}

/// Serve volume `name` (qualified) until stopped.
pub fn serve(ctx: &Context, name: &str, args: Serve, mode: &str) -> anyhow::Result<()> {
    let name = name.to_string();
    let descriptor = volume::load(ctx, &name)?;
    let network = network::load(ctx, &descriptor.network)?;
    let (user, keys) = ctx.my_keys()?;
    // Every run checks the descriptors again: an altered or forged file
    // since they were imported or linked is refused.
    owner::check_owner(&ctx.store, Kind::Volume, &descriptor.name, &descriptor.owner)?;
    let link = network::verified_link(ctx, &user, &network)?;
    let spec = node_spec(
        ctx,
        &link,
        &user,
        (&network, &args.net),
        args.cache.or(descriptor.mount_options.cache),
        args.cache_ram_size.as_deref(),
        args.async_writes.or(descriptor.mount_options.async_writes).unwrap_or(false),
    )?;
    let mountpoint = args
        .mountpoint
        .or(descriptor.mount_options.mountpoint.clone())
        .ok_or_else(|| usage(mode, format!("volume \"{name}\" has no stored mountpoint: give --mountpoint DIR")))?;
    let readonly = match (link.passport.allow_write, args.readonly) {
        (true, requested) => requested.or(descriptor.mount_options.readonly).unwrap_or(false),
        (false, Some(false)) => bail!(
            "network \"{}\": the passport of user \"{}\" is read-only: volume \"{name}\" cannot be mounted read-write",
            network.name,
            user.name
        ),
        // A read-only passport mounts read-only: the kernel answers EROFS.
        (false, _) => true,
    };
    let settings = MountSettings { readonly, fuse_options: args.fuse_options, fsname: format!("infinit:{name}") };
    let creator = descriptor.owner == user.public_key;
    let revalidate = args.revalidate.unwrap_or(crate::runtime::fs::REVALIDATE);

    crate::runtime::memory::limit_arenas();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let shown = std::path::absolute(&mountpoint).unwrap_or_else(|_| mountpoint.clone());
    let _lock = lock_node(ctx, &user.name, &network.name, &format!("infinit {mode} {name} on {}", shown.display()))?;
    let mountpoint = Mountpoint::prepare(&mountpoint)?;
    let state = network::state_dir(ctx, &user.name, &network.name);
    let signatures = KnownSignatures::load(&state, &keys);
    let net_args = args.net;
    let served = runtime.block_on(async {
        let stop = stop_signals()?;
        let node = start_node(&spec).await?;
        let hub_peers = match &node.network {
            Some(net) => HubPeers::start(ctx, &net_args, &network.name, &user.name, Some(keys.clone()), net)?,
            None => None,
        };
        crate::runtime::memory::spawn_trimmer();
        if let Some(journal) = &node.journal {
            // A journaled change that lost a race at replay is merged, not refused.
            journal.set_resolver(Arc::new(NodeMerger::new(keys.clone())));
        }
        if let Some(net) = &node.network {
            serve_inspection(net, &state);
            let waiting = format!("Waiting for the storage nodes of network \"{}\".", network.name);
            ctx.out.report("waiting", "network", &network.name, &waiting);
            net.wait_for_storage(STORAGE_PATIENCE).await?;
        }
        let owner = &descriptor.owner;
        let opened = FileSystem::open_as(node.consensus.clone(), keys, owner, &name, descriptor.block_size, creator);
        let fs = match opened.await {
            Ok(mut fs) => {
                // With the journal, writes are acknowledged once local: so is `close`.
                fs.set_durable_close(node.journal.is_some());
                fs.set_revalidate(revalidate);
                // Other nodes may write the same directories: each namespace
                // operation gets its answer once its change is stored.
                fs.set_write_through(node.network.is_some());
                let fs = Arc::new(fs);
                FileSystem::spawn_flusher(Arc::downgrade(&fs));
                fs
            }
            Err(FsError::NotFound) if node.network.is_some() => bail!(
                "volume \"{name}\" has no root directory on network \"{}\" yet: only its creator can make it, at their first `infinit volume run {name}` on this network",
                network.name
            ),
            Err(FsError::NotFound) => bail!(
                "volume \"{name}\" has no root directory in this device's silo, and only its creator can make it (at their first run); to share it with other devices, run their nodes on one network (--peer HOST:PORT or a hub)"
            ),
            Err(e) => return Err(anyhow::anyhow!("volume \"{name}\": {e}")),
        };
        let mounted = fuse::mount(fs.clone(), tokio::runtime::Handle::current(), &mountpoint.path, &settings)
            .map_err(|e| mount_error(e, &mountpoint.path, &settings.fuse_options))?;
        ctx.out.report(
            "running",
            "volume",
            &name,
            &format!("Running volume \"{name}\" on \"{}\".", mountpoint.path.display()),
        );
        let busy = |e: &std::io::Error| {
            ctx.out.warn(&format!(
                "cannot unmount \"{}\" ({e}): files are open or a shell is inside; close them, or signal again to force",
                mountpoint.path.display()
            ))
        };
        let next_stop = || {
            let stop = stop.clone();
            async move { stop.notified().await }
        };
        mounted.serve_until(next_stop, busy).await.context("the FUSE session failed")?;
        fs.sync_for_unmount().await.map_err(|e| anyhow::anyhow!("volume \"{name}\": syncing at unmount: {e}"))?;
        signatures.save();
        if let Some(journal) = &node.journal {
            // Give the journal a moment to drain; what remains is replayed at the next start.
            let _ = tokio::time::timeout(std::time::Duration::from_secs(30), journal.flush()).await;
        }
        if let Some(hub_peers) = hub_peers {
            hub_peers.stop().await;
        }
        if let Some(net) = &node.network {
            net.stop();
        }
        Ok(())
    });
    // A forced stop may leave the FUSE session thread blocked: do not wait for it.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    mountpoint.cleanup();
    served?;
    ctx.out.report("stopped", "volume", &name, &format!("Unmounted volume \"{name}\"."));
    Ok(())
}

/// Why a mount failed, in words: the kernel's EINVAL after extra options
/// means one of them is not a FUSE mount option.
fn mount_error(e: std::io::Error, path: &std::path::Path, fuse_options: &[String]) -> anyhow::Error {
    let invalid = e.raw_os_error() == Some(libc::EINVAL)
        || e.kind() == std::io::ErrorKind::InvalidInput
        || e.to_string().contains("EINVAL");
    if invalid && !fuse_options.is_empty() {
        let given: Vec<String> = fuse_options.iter().map(|o| format!("--fuse-option {o}")).collect();
        return anyhow::anyhow!(
            "cannot mount on \"{}\": the kernel refused the mount options ({}): one is not a FUSE mount option or has a bad value (valid ones are in mount.fuse3(8), e.g. allow_other, max_read=N)",
            path.display(),
            given.join(", ")
        );
    }
    anyhow::Error::new(e).context(format!("cannot mount on \"{}\"", path.display()))
}

/// The silo this device contributes to `network` for `user`.
pub fn local_silo(ctx: &Context, user: &str, network: &str) -> anyhow::Result<SiloSpec> {
    let Some(link) = network::linked(ctx, user, network)? else {
        bail!(
            "network \"{network}\" is not linked to this device for user \"{user}\" (link it first: infinit network link {network})"
        );
    };
    let silo_name = match link.silos.as_slice() {
        [one] => one.clone(),
        [] => bail!(
            "network \"{network}\" has no silo on this device: a one-node network stores its blocks locally (relink with: infinit network link {network} --silo SILO)"
        ),
        _ => bail!("network \"{network}\": several silos on one node are not supported yet; link it with one --silo"),
    };
    silo::node_spec(ctx, &silo::load(ctx, &silo_name)?)
}

/// How long a node about to serve a volume waits to know enough storage nodes.
const STORAGE_PATIENCE: std::time::Duration = std::time::Duration::from_secs(60);

/// Answer `network inspect` for `node` on the socket in `state`.
fn serve_inspection(node: &crate::runtime::network::NetworkNode, state: &std::path::Path) {
    if let Err(e) = node.serve_inspection(state.join(INSPECT_SOCKET)) {
        tracing::warn!("network inspect will not reach this node: {e}");
    }
}

/// The socket a running node answers `network inspect` on, in its state folder.
pub const INSPECT_SOCKET: &str = "node.sock";

/// How this device's node for `user` is assembled, from its verified `link`.
fn node_spec(
    ctx: &Context,
    link: &LinkedNetwork,
    user: &User,
    (descriptor, net): (&Network, &NetArgs),
    cache: Option<bool>,
    cache_ram_size: Option<&str>,
    async_writes: bool,
) -> anyhow::Result<NodeSpec> {
    let (network, user_key, user) = (link.network.as_str(), user.public_key, user.name.as_str());
    let networked = net.networked(descriptor);
    let silo = if networked && link.silos.is_empty() { None } else { Some(local_silo(ctx, user, network)?) };
    let network_spec = if networked { Some(peers::network_spec(ctx, net, descriptor, link)?) } else { None };
    let cache_size =
        cache_ram_size.map(units::parse_capacity).transpose().map_err(|e| anyhow::anyhow!("--cache-ram-size: {e}"))?;
    let cache = match (cache, cache_size) {
        (Some(false), _) => None,
        (Some(true), size) | (None, size @ Some(_)) => {
            let defaults = CacheOptions::default();
            Some(CacheOptions { budget: size.unwrap_or(defaults.budget), ..defaults })
        }
        (None, None) => None,
    };
    let state = network::state_dir(ctx, user, network);
    let journal_dir = state.join("async");
    // Operations left by a crash are replayed whatever this run's setting.
    let replay = AsyncJournal::has_pending(&journal_dir);
    if replay && !async_writes {
        ctx.out.warn(
            "the write-back journal holds operations from an earlier run: replaying them (--async is on for this run)",
        );
    }
    let journal = (async_writes || replay).then_some(journal_dir);
    let floor = Some(state.join("freshness.redb"));
    let rights = MemberRights { write: link.passport.allow_write, storage: link.passport.allow_storage };
    let member = Member { key: user_key, rights };
    Ok(NodeSpec { silo, network: network_spec, journal, cache, floor, member })
}

/// The signatures this device's node found valid, kept across runs (see
/// [`crate::crypto::verified`]): a fresh mount then checks again only what
/// it never saw, not every directory and file it lists.
struct KnownSignatures {
    path: std::path::PathBuf,
    key: zeroize::Zeroizing<[u8; 32]>,
}

impl KnownSignatures {
    /// Remember what the file in `state` holds, if `keys` authenticated it.
    fn load(state: &std::path::Path, keys: &crate::crypto::KeyPair) -> KnownSignatures {
        let known = KnownSignatures {
            path: state.join("verified-signatures"),
            key: keys.derive_secret("infinit 2026 node: verified signatures"),
        };
        let read = crate::crypto::verified::load(&known.path, &known.key);
        tracing::debug!("{read} verified signatures remembered from the last run");
        known
    }

    /// Keep what is known now for the next run (best effort: without it,
    /// the next run verifies again).
    fn save(&self) {
        if let Err(e) = crate::crypto::verified::save(&self.path, &self.key) {
            tracing::warn!("cannot keep the verified signatures in {}: {e}", self.path.display());
        }
    }
}

/// Mark this device's node of `user` on `network` as running (`what` says
/// how, for whoever finds it locked), or say which process already runs it.
fn lock_node(ctx: &Context, user: &str, network: &str, what: &str) -> anyhow::Result<NodeLock> {
    NodeLock::acquire(&network::state_dir(ctx, user, network), what).map_err(|e| match e {
        NodeLockError::Running { holder } => {
            anyhow::anyhow!("network \"{network}\" is already served on this device for user \"{user}\" ({holder})")
        }
        e => e.into(),
    })
}

/// Start the node; a silo refused as not being itself points at where its
/// descriptor says it lives.
async fn start_node(spec: &NodeSpec) -> anyhow::Result<Node> {
    Node::start(spec).await.map_err(|e| match &e {
        NodeError::Silo { name, source: SiloError::NotThisSilo { .. } } => {
            anyhow::anyhow!("{e} (infinit silo export --name {name} shows it)")
        }
        _ => e.into(),
    })
}

/// Options of `network run`.
#[derive(Debug, Args)]
pub struct NetworkRunArgs {
    #[command(flatten)]
    name: NameArg,
    #[command(flatten)]
    net: NetArgs,
}

/// `network run`: serve this device's node of a network until stopped.
/// On a one-node network that means holding its silo (locked against a
/// second node) and storing what the write-back journal still holds.
pub fn network_run(ctx: &Context, args: NetworkRunArgs) -> anyhow::Result<()> {
    let name = args.name.get().ok_or_else(|| usage("network run", "the network name is required: --name NAME"))?;
    let name = ctx.qualify("network", name)?;
    let network = network::load(ctx, &name)?;
    let user = ctx.me()?;
    let link = network::verified_link(ctx, &user, &network)?;
    let spec = node_spec(ctx, &link, &user, (&network, &args.net), None, None, false)?;
    let state = network::state_dir(ctx, &user.name, &network.name);
    let _lock = lock_node(ctx, &user.name, &network.name, &format!("infinit network run {name}"))?;
    // Publications on the hub are signed with the user's key.
    let publisher = if args.net.publish { Some(ctx.my_keys()?.1) } else { None };
    crate::runtime::memory::limit_arenas();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let stop = stop_signals()?;
        let node = start_node(&spec).await?;
        crate::runtime::memory::spawn_trimmer();
        if let Some(net) = &node.network {
            serve_inspection(net, &state);
        }
        let hub_peers = match &node.network {
            Some(net) => HubPeers::start(ctx, &args.net, &network.name, &user.name, publisher, net)?,
            None => None,
        };
        let at = node.network.as_ref().and_then(|n| n.local_addr()).map(|a| format!(" on {a}")).unwrap_or_default();
        ctx.out.report("running", "network", &name, &format!("Running network \"{name}\"{at}."));
        if let Some(journal) = &node.journal {
            journal.flush().await;
            let stats = journal.stats();
            let sentence =
                format!("Stored the journaled operations of network \"{name}\" ({} refused).", stats.rejected.len());
            ctx.out.report("replayed", "network", &name, &sentence);
        }
        stop.notified().await;
        node.consensus.sync().await.map_err(|e| anyhow::anyhow!("network \"{name}\": {e}"))?;
        if let Some(hub_peers) = hub_peers {
            hub_peers.stop().await;
        }
        if let Some(net) = &node.network {
            net.stop();
        }
        Ok::<_, anyhow::Error>(())
    })?;
    ctx.out.report("stopped", "network", &name, &format!("Stopped network \"{name}\"."));
    Ok(())
}

/// SIGINT and SIGTERM, caught from the moment this is called (before
/// anything is mounted, so an early signal is never fatal); each one adds a
/// permit to the returned `Notify`.
fn stop_signals() -> anyhow::Result<Arc<tokio::sync::Notify>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot catch SIGINT")?;
    let mut terminate = signal(SignalKind::terminate()).context("cannot catch SIGTERM")?;
    let stop = Arc::new(tokio::sync::Notify::new());
    let notify = stop.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                Some(()) = interrupt.recv() => notify.notify_one(),
                Some(()) = terminate.recv() => notify.notify_one(),
                else => break,
            }
        }
    });
    Ok(stop)
}
