//! What the `push`, `fetch`, `pull`, `signup`, `login` and `device` modes
//! do with the hub: each call runs on a small runtime of its own, every
//! descriptor fetched is verified like an import (its signatures, and its
//! owner known here with that key — the owner's public user is fetched from
//! the hub first when it is not), and each result is reported like the
//! local modes report theirs.

use std::io::IsTerminal as _;

use anyhow::{Context as _, bail};
use zeroize::Zeroizing;

use super::context::{Context, read_secret_line};
use super::{network, volume};
use crate::crypto::wrap;
use crate::crypto::{KeyPair, PrivateKeys};
use crate::descriptors::user::StoredPrivateKey;
use crate::descriptors::{DescriptorError, Kind, Network, Passport, Saved, User, Volume, names, owner};
use crate::hub::api::Outcome;
use crate::hub::client::Signer;
use crate::hub::password::{self, Protected};
use crate::hub::{Hub, HubError};

/// Environment variable holding the hub password (`user signup --full`, `user login`).
pub const PASSWORD_ENV: &str = "INFINIT_PASSWORD";
/// Environment variable holding a device pairing passphrase.
pub const PAIRING_ENV: &str = "INFINIT_PAIRING_PASSPHRASE";

/// Run `future` to completion on a runtime of its own.
pub fn block_on<F: std::future::Future>(future: F) -> anyhow::Result<F::Output> {
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().context("cannot start the async runtime")?;
    Ok(runtime.block_on(future))
}

/// Report a push: `Remotely pushed network "alice/home".`
pub fn report_push(ctx: &Context, kind: &str, name: &str, outcome: Outcome) {
    let (event, sentence) = match outcome {
        Outcome::Created => ("pushed", format!("Remotely pushed {kind} \"{name}\".")),
        Outcome::Updated => ("pushed", format!("Remotely updated {kind} \"{name}\".")),
        Outcome::Unchanged => ("already_pushed", format!("Remotely already up to date: {kind} \"{name}\".")),
    };
    ctx.out.report(event, kind, name, &sentence);
}

fn report_pull(ctx: &Context, kind: &str, name: &str) {
    ctx.out.report("pulled", kind, name, &format!("Remotely deleted {kind} \"{name}\"."));
}

fn report_fetch(ctx: &Context, kind: Kind, name: &str, saved: Saved) {
    let sentence = match saved {
        Saved::Unchanged => format!("Fetched {kind} \"{name}\": already up to date here."),
        _ => format!("Fetched {kind} \"{name}\" and saved it locally."),
    };
    ctx.out.report("fetched", &kind.to_string(), name, &sentence);
}

/// A new secret: from `env`, else a line of a non-terminal standard input,
/// else typed twice at a prompt (never in script mode).
pub fn new_secret(ctx: &Context, env: &str, what: &str) -> anyhow::Result<Zeroizing<String>> {
    if let Ok(value) = std::env::var(env)
        && !value.is_empty()
    {
        return Ok(Zeroizing::new(value));
    }
    if !std::io::stdin().is_terminal() {
        return read_secret_line().with_context(|| format!("reading the {what} from standard input"));
    }
    if ctx.out.script {
        bail!("the {what} is needed: set {env} or pipe it on standard input (no prompt in script mode)");
    }
    let first = super::prompt::hidden(&format!("{what}: "))?;
    let second = super::prompt::hidden(&format!("{what} again: "))?;
    if first != second {
        bail!("the two {what}s differ");
    }
    if first.is_empty() {
        bail!("the {what} is empty");
    }
    Ok(first)
}

/// The keys of local user `name` (the acting user's, or another local
/// user's when `name` differs).
fn keys_of(ctx: &Context, name: &str) -> anyhow::Result<(User, KeyPair)> {
    if name == ctx.as_user {
        return ctx.my_keys();
    }
    let user = ctx.user(name)?;
    let keys = user.keys(|| {
        ctx.passphrase(&format!("Passphrase of user \"{name}\": ")).map_err(|e| DescriptorError::Invalid {
            kind: Kind::User,
            name: name.to_string(),
            why: e.to_string(),
        })
    })?;
    Ok((user, keys))
}

// Users.

/// `user signup`: create a user, publish it, then save it here (nothing is
/// saved when the hub refuses); with `full`, its private key goes too,
/// protected by a hub password, so that `user login` works elsewhere.
pub fn signup(ctx: &Context, name: &str, description: Option<String>, full: bool) -> anyhow::Result<()> {
    names::check("user", name)?;
    if ctx.store.exists(Kind::User, name) {
        bail!("user \"{name}\" already exists on this device: publish it with: infinit user push --name {name}");
    }
    let hub = ctx.hub()?;
    let password = if full { Some(new_secret(ctx, PASSWORD_ENV, "hub password")?) } else { None };
    let local_passphrase =
        std::env::var(super::context::PASSPHRASE_ENV).ok().filter(|p| !p.is_empty()).map(Zeroizing::new);
    let keys = KeyPair::generate()?;
    let user = User::new(name, description, &keys, local_passphrase.as_ref().map(|p| p.as_str()))?;
    let login = password.map(|p| Protected::new(&keys.private(), &p)).transpose()?;
    block_on(hub.push_user(&user, login, &keys))??;
    ctx.store.create(Kind::User, name, &user)?;
    let what = if full { "with its key protected by the hub password" } else { "public part only" };
    ctx.out.report("signed_up", "user", name, &format!("Signed up user \"{name}\" on the hub ({what})."));
    ctx.out.report("saved", "user", name, &format!("Locally saved user \"{name}\"."));
    Ok(())
}

/// `user push`: publish a local user (with `full`, its key under a hub password).
pub fn push_user(ctx: &Context, name: &str, full: bool) -> anyhow::Result<()> {
    let hub = ctx.hub()?;
    let (user, keys) = keys_of(ctx, name)?;
    let login = if full {
        let password = new_secret(ctx, PASSWORD_ENV, "hub password")?;
        Some(Protected::new(&keys.private(), &password)?)
    } else {
        None
    };
    let outcome = block_on(hub.push_user(&user, login, &keys))??;
    report_push(ctx, "user", name, outcome);
    Ok(())
}

/// `user pull`: remove user `name` from the hub, signed by the acting user.
pub fn pull_user(ctx: &Context, name: &str, purge: bool) -> anyhow::Result<()> {
    names::check("user", name)?;
    let hub = ctx.hub()?;
    let (me, keys) = ctx.my_keys()?;
    block_on(hub.pull_user(name, Signer { user: &me.name, keys: &keys }, purge))??;
    report_pull(ctx, "user", name);
    Ok(())
}

/// Verify a user fetched as `asked` (a name or `#hash`) and save its public
/// part, keeping a local private key.
fn save_fetched_user(ctx: &Context, asked: &str, user: User) -> anyhow::Result<(User, Saved)> {
    if user.has_private_key() {
        bail!("the hub sent user \"{}\" with a private key: refusing it", user.name);
    }
    user.verify()?;
    let matches = match asked.strip_prefix('#') {
        Some(_) => user.public_key.short_hash() == asked,
        None => user.name == asked,
    };
    if !matches {
        bail!("the hub answered user \"{}\" ({}) when asked for \"{asked}\"", user.name, user.public_key.short_hash());
    }
    let name = user.name.clone();
    let saved = match ctx.store.load::<User>(Kind::User, &name) {
        Ok(local) if local.public_key != user.public_key => bail!(
            "user \"{name}\" on the hub ({}) is not the user \"{name}\" known here ({}): refusing to replace it",
            user.public_key.short_hash(),
            local.public_key.short_hash()
        ),
        Ok(local) => {
            let merged = User { private_key: local.private_key.clone(), ..user.clone() };
            ctx.store.replace(Kind::User, &name, &merged)?
        }
        Err(DescriptorError::NotFound { .. }) => ctx.store.create(Kind::User, &name, &user)?,
        Err(e) => return Err(e.into()),
    };
    Ok((user, saved))
}

/// `user fetch`: get a user's public part (by name or `#hash`) and save it.
pub fn fetch_user(ctx: &Context, asked: &str) -> anyhow::Result<()> {
    if !asked.starts_with('#') {
        names::check("user", asked)?;
    }
    let hub = ctx.hub()?;
    let user = block_on(hub.fetch_user(asked))??;
    let (user, saved) = save_fetched_user(ctx, asked, user)?;
    report_fetch(ctx, Kind::User, &user.name, saved);
    Ok(())
}

/// User `name` as known here, else fetched from the hub (and saved).
fn known_user(ctx: &Context, hub: &Hub, name: &str) -> anyhow::Result<User> {
    if ctx.store.exists(Kind::User, name) {
        return ctx.user(name);
    }
    let user = block_on(hub.fetch_user(name))??;
    let (user, saved) = save_fetched_user(ctx, name, user)?;
    report_fetch(ctx, Kind::User, name, saved);
    Ok(user)
}

/// Save the identity a login or a device receive brought: `user` with the
/// private key `private`, which must match it.
fn save_identity(ctx: &Context, user: User, private: PrivateKeys, asked: &str) -> anyhow::Result<Saved> {
    user.verify()?;
    if user.name != asked {
        bail!("the hub answered user \"{}\" when asked for \"{asked}\"", user.name);
    }
    if KeyPair::from_private(&private).public() != user.public_key {
        bail!("the key the hub kept for user \"{asked}\" does not match its public key: refusing it");
    }
    let full = User { private_key: Some(StoredPrivateKey::None(private)), ..user };
    full.verify()?;
    match ctx.store.load::<User>(Kind::User, asked) {
        Ok(local) if local.public_key != full.public_key => bail!(
            "a different user \"{asked}\" ({}) already exists on this device: delete it first (infinit user delete --name {asked})",
            local.public_key.short_hash()
        ),
        Ok(local) if local.has_private_key() => Ok(Saved::Unchanged),
        Ok(_) => Ok(ctx.store.replace(Kind::User, asked, &full)?),
        Err(DescriptorError::NotFound { .. }) => Ok(ctx.store.create(Kind::User, asked, &full)?),
        Err(e) => Err(e.into()),
    }
}

/// `user login`: get user `name`'s key from the hub with its password and
/// save the user here.
pub fn login(ctx: &Context, name: &str) -> anyhow::Result<()> {
    names::check("user", name)?;
    let hub = ctx.hub()?;
    let params = block_on(hub.login_params(name))??;
    let password = ctx.secret(PASSWORD_ENV, &format!("Hub password of user \"{name}\""))?;
    let proof = password::proof(&password, &params)?;
    let identity = block_on(hub.login(name, &proof))??;
    let private = wrap::unwrap(&identity.wrapped_key, &password)
        .map_err(|e| anyhow::anyhow!("cannot open the key the hub kept for user \"{name}\": {e}"))?;
    let saved = save_identity(ctx, identity.user, private, name)?;
    let sentence = match saved {
        Saved::Unchanged => format!("Logged in as user \"{name}\": its key was already on this device."),
        _ => format!("Logged in as user \"{name}\": saved it with its private key on this device."),
    };
    ctx.out.report("logged_in", "user", name, &sentence);
    Ok(())
}

// Device pairing.

/// `device transmit --user`: leave the acting user's key on the hub under
/// a passphrase for `lifespan` seconds.
pub fn transmit(ctx: &Context, lifespan: u64) -> anyhow::Result<()> {
    let hub = ctx.hub()?;
    let (me, keys) = ctx.my_keys()?;
    let passphrase = new_secret(ctx, PAIRING_ENV, "pairing passphrase")?;
    let secret = Protected::new(&keys.private(), &passphrase)?;
    block_on(hub.transmit(Signer { user: &me.name, keys: &keys }, secret, lifespan))??;
    let name = &me.name;
    let within = crate::descriptors::units::format_duration(std::time::Duration::from_secs(lifespan));
    ctx.out.report(
        "transmitted",
        "user",
        name,
        &format!(
            "Transmitted user \"{name}\" to the hub for {within}: on the other device, run infinit device receive --user --name {name} with the same passphrase."
        ),
    );
    Ok(())
}

/// `device receive --user`: take user `name`'s key off the hub.
pub fn receive(ctx: &Context, name: &str) -> anyhow::Result<()> {
    names::check("user", name)?;
    let hub = ctx.hub()?;
    let params = block_on(hub.pairing_params(name))??;
    let passphrase = ctx.secret(PAIRING_ENV, &format!("Pairing passphrase of user \"{name}\""))?;
    let proof = password::proof(&passphrase, &params)?;
    let identity = block_on(hub.receive(name, &proof))??;
    let private = wrap::unwrap(&identity.wrapped_key, &passphrase)
        .map_err(|e| anyhow::anyhow!("cannot open the identity of user \"{name}\": {e}"))?;
    let saved = save_identity(ctx, identity.user, private, name)?;
    let sentence = match saved {
        Saved::Unchanged => format!("Received user \"{name}\": it was already on this device."),
        _ => format!("Received user \"{name}\" and saved it with its private key on this device."),
    };
    ctx.out.report("received", "user", name, &sentence);
    Ok(())
}

// Networks.

/// `network push`: publish a network the acting user owns.
pub fn push_network(ctx: &Context, name: &str) -> anyhow::Result<()> {
    let hub = ctx.hub()?;
    let network = network::load(ctx, name)?;
    let (me, keys) = ctx.my_keys()?;
    if network.owner != me.public_key {
        bail!("network \"{name}\" belongs to someone else: only its owner pushes it (act as them with --as)");
    }
    let outcome = block_on(hub.push_network(&network, Signer { user: &me.name, keys: &keys }))??;
    report_push(ctx, "network", name, outcome);
    Ok(())
}

/// Verify a network fetched as `asked` and save it (replacing an older
/// version from the same owner).
fn save_network(ctx: &Context, hub: &Hub, asked: &str, network: Network) -> anyhow::Result<()> {
    network.verify()?;
    if network.name != asked {
        bail!("the hub answered network \"{}\" when asked for \"{asked}\"", network.name);
    }
    let (owner_name, _) = names::split(asked);
    known_user(ctx, hub, owner_name)?;
    owner::check_owner(&ctx.store, Kind::Network, asked, &network.owner)?;
    if let Ok(local) = ctx.store.load::<Network>(Kind::Network, asked)
        && local.owner != network.owner
    {
        bail!("network \"{asked}\" on the hub has another owner than the one known here: refusing to replace it");
    }
    let saved = ctx.store.replace(Kind::Network, asked, &network)?;
    report_fetch(ctx, Kind::Network, asked, saved);
    Ok(())
}

/// `network fetch`: network `name`, or every network of the acting user
/// (owned, or with a passport) when `name` is `None`.
pub fn fetch_network(ctx: &Context, name: Option<&str>) -> anyhow::Result<()> {
    let hub = ctx.hub()?;
    if let Some(name) = name {
        let network = block_on(hub.fetch_network(name))??;
        return save_network(ctx, &hub, name, network);
    }
    let (me, keys) = ctx.my_keys()?;
    let networks = block_on(hub.user_networks(Signer { user: &me.name, keys: &keys }))??;
    if networks.is_empty() {
        ctx.out.warn(&format!("user \"{}\" has no network on the hub", me.name));
    }
    for network in networks {
        let name = network.name.clone();
        save_network(ctx, &hub, &name, network)?;
    }
    Ok(())
}

/// `network pull`: remove network `name` from the hub.
pub fn pull_network(ctx: &Context, name: &str, purge: bool) -> anyhow::Result<()> {
    let hub = ctx.hub()?;
    let (me, keys) = ctx.my_keys()?;
    block_on(hub.pull_network(name, Signer { user: &me.name, keys: &keys }, purge))??;
    report_pull(ctx, "network", name);
    Ok(())
}

/// Network `name` as known here, else fetched from the hub (and saved).
fn known_network(ctx: &Context, hub: &Hub, name: &str) -> anyhow::Result<Network> {
    if !ctx.store.exists(Kind::Network, name) {
        let network = block_on(hub.fetch_network(name))??;
        save_network(ctx, hub, name, network)?;
    }
    let network = network::load(ctx, name)?;
    owner::check_owner(&ctx.store, Kind::Network, name, &network.owner)?;
    Ok(network)
}

// Passports.

/// `passport push`: publish the passport of `user` on `network` (as the
/// network's owner or the delegate who signed it).
pub fn push_passport(ctx: &Context, network: &str, user: &str) -> anyhow::Result<()> {
    let hub = ctx.hub()?;
    let path = format!("{network}/{user}");
    if !ctx.store.exists(Kind::Passport, &path) {
        return Err(DescriptorError::NotFound { kind: Kind::Passport, name: format!("{network}: {user}") }.into());
    }
    let passport: Passport = ctx.store.load(Kind::Passport, &path)?;
    passport.verify(&network::load(ctx, network)?)?;
    let (me, keys) = ctx.my_keys()?;
    let outcome = block_on(hub.push_passport(&passport, Signer { user: &me.name, keys: &keys }))??;
    report_push(ctx, "passport", &passport.display(), outcome);
    Ok(())
}

/// Verify a passport fetched from the hub and save it.
fn save_passport(ctx: &Context, hub: &Hub, passport: Passport) -> anyhow::Result<()> {
    names::qualify("network", &passport.network, "x")?;
    names::check("user", &passport.user_name)?;
    let network = known_network(ctx, hub, &passport.network)?;
    passport.verify(&network)?;
    let holder = known_user(ctx, hub, &passport.user_name)?;
    if holder.public_key != passport.user {
        bail!("passport \"{}\" was issued to another key than user \"{}\"'s", passport.display(), holder.name);
    }
    let path = format!("{}/{}", passport.network, passport.user_name);
    let saved = ctx.store.replace(Kind::Passport, &path, &passport)?;
    report_fetch(ctx, Kind::Passport, &passport.display(), saved);
    Ok(())
}

/// `passport fetch`: one passport (`network` and `user`, the user defaulting
/// to the acting one), every passport of a network its owner asks for, or
/// every passport the acting user holds.
pub fn fetch_passports(ctx: &Context, network: Option<&str>, user: Option<&str>) -> anyhow::Result<()> {
    let hub = ctx.hub()?;
    let (me, keys) = ctx.my_keys()?;
    let signer = Signer { user: &me.name, keys: &keys };
    let passports = match (network, user) {
        (Some(network), Some(user)) => vec![block_on(hub.fetch_passport(network, user, signer))??],
        (Some(network), None) => {
            // The hub lists a network's passports to its owner only.
            if names::split(network).0 == me.name {
                block_on(hub.network_passports(network, signer))??
            } else {
                vec![block_on(hub.fetch_passport(network, &me.name, signer))??]
            }
        }
        (None, _) => block_on(hub.user_passports(signer))??,
    };
    if passports.is_empty() {
        ctx.out.warn("no passport on the hub");
    }
    for passport in passports {
        save_passport(ctx, &hub, passport)?;
    }
    Ok(())
}

/// `passport pull`: remove the passport of `user` on `network` from the hub.
pub fn pull_passport(ctx: &Context, network: &str, user: &str) -> anyhow::Result<()> {
    let hub = ctx.hub()?;
    let (me, keys) = ctx.my_keys()?;
    block_on(hub.pull_passport(network, user, Signer { user: &me.name, keys: &keys }))??;
    report_pull(ctx, "passport", &format!("{network}: {user}"));
    Ok(())
}

// Volumes.

/// `volume push`: publish a volume the acting user created.
pub fn push_volume(ctx: &Context, name: &str) -> anyhow::Result<()> {
    let hub = ctx.hub()?;
    let volume = volume::load(ctx, name)?;
    let (me, keys) = ctx.my_keys()?;
    if volume.owner != me.public_key {
        bail!("volume \"{name}\" belongs to someone else: only its owner pushes it (act as them with --as)");
    }
    let outcome = block_on(hub.push_volume(&volume, Signer { user: &me.name, keys: &keys }))??;
    report_push(ctx, "volume", name, outcome);
    Ok(())
}

/// Verify a volume fetched as `asked` and save it, keeping the local
/// mount options.
fn save_volume(ctx: &Context, hub: &Hub, asked: &str, mut volume: Volume) -> anyhow::Result<()> {
    volume.verify()?;
    if volume.name != asked {
        bail!("the hub answered volume \"{}\" when asked for \"{asked}\"", volume.name);
    }
    let (owner_name, _) = names::split(asked);
    known_user(ctx, hub, owner_name)?;
    owner::check_owner(&ctx.store, Kind::Volume, asked, &volume.owner)?;
    volume.mount_options = Default::default();
    if let Ok(local) = ctx.store.load::<Volume>(Kind::Volume, asked) {
        if local.owner != volume.owner {
            bail!("volume \"{asked}\" on the hub has another owner than the one known here: refusing to replace it");
        }
        volume.mount_options = local.mount_options;
    }
    let saved = ctx.store.replace(Kind::Volume, asked, &volume)?;
    report_fetch(ctx, Kind::Volume, asked, saved);
    Ok(())
}

/// `volume fetch`: volume `name`, the volumes of `network`, or every volume
/// the acting user owns or reaches through its networks.
pub fn fetch_volumes(ctx: &Context, name: Option<&str>, network: Option<&str>) -> anyhow::Result<()> {
    let hub = ctx.hub()?;
    let volumes = match (name, network) {
        (Some(name), _) => vec![block_on(hub.fetch_volume(name))??],
        (None, Some(network)) => block_on(hub.network_volumes(network))??,
        (None, None) => {
            let (me, keys) = ctx.my_keys()?;
            block_on(hub.user_volumes(Signer { user: &me.name, keys: &keys }))??
        }
    };
    if volumes.is_empty() {
        ctx.out.warn("no volume on the hub");
    }
    for volume in volumes {
        let name = volume.name.clone();
        save_volume(ctx, &hub, &name, volume)?;
    }
    Ok(())
}

/// `volume pull`: remove volume `name` from the hub.
pub fn pull_volume(ctx: &Context, name: &str) -> anyhow::Result<()> {
    let hub = ctx.hub()?;
    let (me, keys) = ctx.my_keys()?;
    block_on(hub.pull_volume(name, Signer { user: &me.name, keys: &keys }))??;
    report_pull(ctx, "volume", name);
    Ok(())
}

/// The hub, checked before a `create --push` writes anything locally.
pub fn hub_for_push(ctx: &Context, push: bool) -> anyhow::Result<()> {
    if push {
        ctx.hub()?;
    }
    Ok(())
}

/// Explain a failed push after a local create: what was saved, how to retry.
pub fn after_create(result: anyhow::Result<()>, kind: &str, retry: &str) -> anyhow::Result<()> {
    result.map_err(|e| {
        let hub = e.downcast_ref::<HubError>().is_some();
        if hub {
            e.context(format!("the {kind} was saved locally but not pushed (push it again with: {retry})"))
        } else {
            e
        }
    })
}
