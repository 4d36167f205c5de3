//! The hub's client: signed HTTP requests to an `infinit-hub`, one typed
//! call per route, and errors that say what was refused and what to do.
//!
//! Everything is async (reqwest on tokio): running nodes call
//! [`publish_endpoints`] and [`fetch_endpoints`] from their runtime, and
//! the CLI wraps each call in a small runtime of its own.
//!
//! Which hub: [`Hub::configured`] takes the global `--hub URL` option and
//! falls back on the `INFINIT_HUB` environment variable; in the CLI,
//! `Context::hub()` does that (and says how to configure one when neither
//! is set).

use std::time::Duration;

use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::api::{
    self, EndpointsBody, ErrorBody, Identity, LoginRequest, Outcome, PairingUpload, PublishedEndpoints, Pushed, Stat,
    UserPush,
};
use super::password::{ProofParams, Protected};
use crate::crypto::{KeyPair, b64, hash};
use crate::descriptors::{Network, Passport, User, Volume, names};

/// The environment variable naming the hub, like `--hub`.
pub const HUB_ENV: &str = "INFINIT_HUB";
/// Seconds to add to this device's clock when signing hub requests (may be
/// negative): for a device whose clock is off and cannot be fixed.
pub const CLOCK_OFFSET_ENV: &str = "INFINIT_HUB_CLOCK_OFFSET";

/// How long connecting to the hub may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one request may take in all.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What can go wrong talking to the hub.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    /// Neither `--hub` nor `INFINIT_HUB` names a hub.
    #[error("no hub configured: pass --hub URL or set {HUB_ENV} (e.g. {HUB_ENV}=http://127.0.0.1:8080)")]
    NotConfigured,
    /// The hub URL is not an http(s) URL.
    #[error("invalid hub URL \"{url}\": {why}")]
    BadUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        why: String,
    },
    /// No answer: connection refused, DNS, timeout...
    #[error(
        "the hub at {url} is unreachable while {action} ({why}): check --hub or {HUB_ENV}, and that infinit-hub runs there"
    )]
    Unreachable {
        /// The hub.
        url: String,
        /// What was being done.
        action: String,
        /// The transport error.
        why: String,
    },
    /// The hub answered with an error status.
    #[error("the hub refused {action}: {reason} (HTTP {status} {code}){}", hint(*.status, .code, .name.as_deref()))]
    Refused {
        /// What was being done, e.g. `pushing network "alice/home"`.
        action: String,
        /// HTTP status.
        status: u16,
        /// The hub's error code, e.g. `network/not_found`.
        code: String,
        /// The hub's explanation.
        reason: String,
        /// The object concerned, when the hub named one.
        name: Option<String>,
    },
    /// A name that cannot be sent (it would not fit its route).
    #[error("{action}: {why}")]
    InvalidName {
        /// What was being done.
        action: String,
        /// What is wrong with the name.
        why: String,
    },
    /// The hub answered something this client does not understand.
    #[error("the hub at {url} gave an unexpected answer while {action}: {why}")]
    BadReply {
        /// The hub.
        url: String,
        /// What was being done.
        action: String,
        /// What was wrong with the answer.
        why: String,
    },
}

impl HubError {
    /// The HTTP status of a refusal.
    pub fn status(&self) -> Option<u16> {
        match self {
            HubError::Refused { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The hub's error code of a refusal, e.g. `network/not_found`.
    pub fn code(&self) -> Option<&str> {
        match self {
            HubError::Refused { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// What to do about a refusal, after the hub's own reason.
fn hint(status: u16, code: &str, name: Option<&str>) -> String {
    let named = name.is_some();
    let name = name.unwrap_or("NAME");
    let kind = code.split('/').next().unwrap_or_default();
    match (status, kind) {
        (404, "user") => {
            format!(": user \"{name}\" must sign up (infinit user signup) or push itself (infinit user push)")
        }
        (404, "network") => format!(": its owner publishes it with: infinit network push --name {name}"),
        (404, "volume") => format!(": its owner publishes it with: infinit volume push --name {name}"),
        (404, "passport") => match name.split_once(": ") {
            Some((network, user)) => format!(
                ": the network's owner publishes it with: infinit passport push --network {network} --user {user}"
            ),
            None => ": the network's owner publishes it with: infinit passport push".into(),
        },
        (409, _) if code == "user/conflict" => {
            ": that name is taken on the hub by someone else; pick another name".into()
        }
        (409, _) if code == "user/not_empty" => {
            format!(": or remove everything at once with: infinit user pull --name {name} --purge")
        }
        (409, _) => ": pull the one on the hub first, or pick another name".into(),
        (403, _) => ": act as the user allowed to with --as USER".into(),
        // The hub names the user only when it does not know it; the other
        // refusals (unsigned, stale, replayed) say what to do themselves.
        (401, _) if named => format!(": publish that user first: infinit user push --name {name}"),
        (401, _) => String::new(),
        _ => String::new(),
    }
}

/// Who signs a request: a user's name and keys.
#[derive(Debug, Clone, Copy)]
pub struct Signer<'a> {
    /// The user's name on the hub.
    pub user: &'a str,
    /// The user's keys.
    pub keys: &'a KeyPair,
}

/// A connection to one hub.
#[derive(Debug, Clone)]
pub struct Hub {
    url: String,
    http: reqwest::Client,
}

impl Hub {
    /// A client of the hub at `url` (`http://` or `https://`, no path).
    pub fn new(url: &str) -> Result<Hub, HubError> {
        let bad = |why: &str| HubError::BadUrl { url: url.to_string(), why: why.to_string() };
        let trimmed = url.trim_end_matches('/');
        let rest = trimmed
            .strip_prefix("http://")
            .or_else(|| trimmed.strip_prefix("https://"))
            .ok_or_else(|| bad("expected http://HOST:PORT or https://HOST"))?;
        if rest.is_empty() || rest.contains(['/', '?', '#', ' ']) {
            return Err(bad("expected http://HOST:PORT or https://HOST, without a path"));
        }
        // reqwest is built without a bundled TLS provider: ring, as elsewhere.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| bad(&e.to_string()))?;
        Ok(Hub { url: trimmed.to_string(), http })
    }

    /// The hub named by `flag` (the `--hub` option) or else by `INFINIT_HUB`;
    /// `None` when neither is set.
    pub fn configured(flag: Option<&str>) -> Option<Result<Hub, HubError>> {
        let env = std::env::var(HUB_ENV).ok().filter(|u| !u.is_empty());
        let url = flag.map(str::to_string).or(env)?;
        Some(Hub::new(&url))
    }

    /// The hub's base URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Send one request; a 2xx answer's status and body, or the refusal.
    /// `path` starts with `/`; `signer` signs it; `extra` is one more header.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        signer: Option<Signer<'_>>,
        extra: Option<(&str, String)>,
        action: &str,
    ) -> Result<(u16, bytes::Bytes), HubError> {
        let body = body.unwrap_or_default();
        let mut request = self.http.request(method.clone(), format!("{}{path}", self.url));
        if let Some(signer) = signer {
            let time = signing_time();
            let signature = signer.keys.sign(&api::string_to_sign(method.as_str(), path, &body, &time));
            request = request
                .header(api::USER_HEADER, signer.user)
                .header(api::TIME_HEADER, time)
                .header(api::SIGNATURE_HEADER, b64(&signature.0));
        }
        if let Some((name, value)) = extra {
            request = request.header(name, value);
        }
        if !body.is_empty() {
            request = request.header("content-type", "application/json").body(body);
        }
        let unreachable = |e: reqwest::Error| HubError::Unreachable {
            url: self.url.clone(),
            action: action.to_string(),
            why: describe(&e),
        };
        let response = request.send().await.map_err(unreachable)?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(unreachable)?;
        if (200..300).contains(&status) {
            return Ok((status, bytes));
        }
        let refusal = serde_json::from_slice::<ErrorBody>(&bytes).unwrap_or_else(|_| ErrorBody {
            error: format!("http/{status}"),
            reason: String::from_utf8_lossy(&bytes).chars().take(200).collect::<String>().trim().to_string(),
            name: None,
        });
        Err(HubError::Refused {
            action: action.to_string(),
            status,
            code: refusal.error,
            reason: refusal.reason,
            name: refusal.name,
        })
    }

    /// GET `path` and parse the JSON answer.
    async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        signer: Option<Signer<'_>>,
        action: &str,
    ) -> Result<T, HubError> {
        let (_, body) = self.call(Method::GET, path, None, signer, None, action).await?;
        self.parse(&body, action)
    }

    /// PUT `value` as JSON at `path`, signed.
    async fn put<T: Serialize>(
        &self,
        path: &str,
        value: &T,
        signer: Signer<'_>,
        action: &str,
    ) -> Result<Outcome, HubError> {
        let body = serde_json::to_vec(value).map_err(|e| self.bad_reply(action, e))?;
        let (status, reply) = self.call(Method::PUT, path, Some(body), Some(signer), None, action).await?;
        match serde_json::from_slice::<Pushed>(&reply) {
            Ok(pushed) => Ok(pushed.outcome),
            Err(_) if status == 201 => Ok(Outcome::Created),
            Err(_) => Ok(Outcome::Updated),
        }
    }

    /// DELETE `path`, signed.
    async fn delete(&self, path: &str, signer: Signer<'_>, action: &str) -> Result<(), HubError> {
        self.call(Method::DELETE, path, None, Some(signer), None, action).await.map(|_| ())
    }

    fn parse<T: DeserializeOwned>(&self, body: &[u8], action: &str) -> Result<T, HubError> {
        serde_json::from_slice(body).map_err(|e| self.bad_reply(action, e))
    }

    fn bad_reply(&self, action: &str, e: impl std::fmt::Display) -> HubError {
        HubError::BadReply { url: self.url.clone(), action: action.to_string(), why: e.to_string() }
    }

    // Users.

    /// Publish `user` (public part), with its password-protected key for
    /// `user login` when `login` is given; signed by the user itself.
    pub async fn push_user(&self, user: &User, login: Option<Protected>, keys: &KeyPair) -> Result<Outcome, HubError> {
        let action = format!("pushing user \"{}\"", user.name);
        let path = user_path(&user.name, &action)?;
        let body = UserPush { user: user.public(), login };
        self.put(&path, &body, Signer { user: &user.name, keys }, &action).await
    }

    /// A user's public descriptor, by name or by short key hash (`#3fa9c1`).
    /// Its self-signature is not checked here: callers verify it.
    pub async fn fetch_user(&self, name: &str) -> Result<User, HubError> {
        let action = format!("fetching user \"{name}\"");
        let path = match name.strip_prefix('#') {
            Some(hash) if hash.len() == 6 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
                format!("/users/%23{}", hash.to_ascii_lowercase())
            }
            _ => user_path(name, &action)?,
        };
        self.get(&path, None, &action).await
    }

    /// Remove user `name` from the hub (with what it owns there when `purge`).
    pub async fn pull_user(&self, name: &str, signer: Signer<'_>, purge: bool) -> Result<(), HubError> {
        let action = format!("pulling user \"{name}\"");
        let mut path = user_path(name, &action)?;
        if purge {
            path.push_str("?purge=true");
        }
        self.delete(&path, signer, &action).await
    }

    /// What a login needs to compute its proof.
    pub async fn login_params(&self, name: &str) -> Result<ProofParams, HubError> {
        let action = format!("logging in as \"{name}\"");
        let path = format!("{}/login", user_path(name, &action)?);
        self.get(&path, None, &action).await
    }

    /// Log in: the user and its wrapped private key, given the proof.
    pub async fn login(&self, name: &str, proof: &[u8; 32]) -> Result<Identity, HubError> {
        let action = format!("logging in as \"{name}\"");
        let path = format!("{}/login", user_path(name, &action)?);
        let body = serde_json::to_vec(&LoginRequest { proof: b64(proof) }).map_err(|e| self.bad_reply(&action, e))?;
        let (_, reply) = self.call(Method::POST, &path, Some(body), None, None, &action).await?;
        self.parse(&reply, &action)
    }

    /// The networks `signer` owns or holds a passport for.
    pub async fn user_networks(&self, signer: Signer<'_>) -> Result<Vec<Network>, HubError> {
        self.user_listing(signer, "networks").await
    }

    /// The passports `signer` holds.
    pub async fn user_passports(&self, signer: Signer<'_>) -> Result<Vec<Passport>, HubError> {
        self.user_listing(signer, "passports").await
    }

    /// The volumes `signer` owns or can reach through its networks.
    pub async fn user_volumes(&self, signer: Signer<'_>) -> Result<Vec<Volume>, HubError> {
        self.user_listing(signer, "volumes").await
    }

    async fn user_listing<T: DeserializeOwned>(&self, signer: Signer<'_>, what: &str) -> Result<Vec<T>, HubError> {
        let action = format!("listing the {what} of user \"{}\"", signer.user);
        let path = format!("{}/{what}", user_path(signer.user, &action)?);
        let mut listing: serde_json::Map<String, serde_json::Value> = self.get(&path, Some(signer), &action).await?;
        let items = listing.remove(what).unwrap_or_default();
        serde_json::from_value(items).map_err(|e| self.bad_reply(&action, e))
    }

    // Device pairing.

    /// Leave `signer`'s private key on the hub, protected by a passphrase,
    /// for `lifespan` seconds or one receive.
    pub async fn transmit(&self, signer: Signer<'_>, secret: Protected, lifespan: u64) -> Result<Outcome, HubError> {
        let action = format!("transmitting user \"{}\"", signer.user);
        let path = format!("{}/pairing", user_path(signer.user, &action)?);
        self.put(&path, &PairingUpload { secret, lifespan }, signer, &action).await
    }

    /// What a receiver needs to compute its proof for `name`'s pairing.
    pub async fn pairing_params(&self, name: &str) -> Result<ProofParams, HubError> {
        let action = format!("receiving user \"{name}\"");
        let path = format!("{}/pairing/params", user_path(name, &action)?);
        self.get(&path, None, &action).await
    }

    /// Take `name`'s pairing off the hub (it is then gone), given the proof.
    pub async fn receive(&self, name: &str, proof: &[u8; 32]) -> Result<Identity, HubError> {
        let action = format!("receiving user \"{name}\"");
        let path = format!("{}/pairing", user_path(name, &action)?);
        let header = Some((api::PAIRING_PROOF_HEADER, b64(proof)));
        let (_, reply) = self.call(Method::GET, &path, None, None, header, &action).await?;
        self.parse(&reply, &action)
    }

    // Networks.

    /// Publish network `network`, signed by its owner.
    pub async fn push_network(&self, network: &Network, signer: Signer<'_>) -> Result<Outcome, HubError> {
        let action = format!("pushing network \"{}\"", network.name);
        let path = qualified_path("networks", "network", &network.name, &action)?;
        self.put(&path, network, signer, &action).await
    }

    /// Network `name` (qualified) as published. Callers verify it.
    pub async fn fetch_network(&self, name: &str) -> Result<Network, HubError> {
        let action = format!("fetching network \"{name}\"");
        let path = qualified_path("networks", "network", name, &action)?;
        self.get(&path, None, &action).await
    }

    /// Remove network `name` from the hub, with its passports and endpoints
    /// (and its owner's volumes on it when `purge`).
    pub async fn pull_network(&self, name: &str, signer: Signer<'_>, purge: bool) -> Result<(), HubError> {
        let action = format!("pulling network \"{name}\"");
        let mut path = qualified_path("networks", "network", name, &action)?;
        if purge {
            path.push_str("?purge=true");
        }
        self.delete(&path, signer, &action).await
    }

    /// The volumes published on network `name`.
    pub async fn network_volumes(&self, name: &str) -> Result<Vec<Volume>, HubError> {
        let action = format!("listing the volumes of network \"{name}\"");
        let path = format!("{}/volumes", qualified_path("networks", "network", name, &action)?);
        let mut listing: serde_json::Map<String, serde_json::Value> = self.get(&path, None, &action).await?;
        serde_json::from_value(listing.remove("volumes").unwrap_or_default()).map_err(|e| self.bad_reply(&action, e))
    }

    /// Every passport of network `name` (its owner only).
    pub async fn network_passports(&self, name: &str, signer: Signer<'_>) -> Result<Vec<Passport>, HubError> {
        let action = format!("listing the passports of network \"{name}\"");
        let path = format!("{}/passports", qualified_path("networks", "network", name, &action)?);
        let mut listing: serde_json::Map<String, serde_json::Value> = self.get(&path, Some(signer), &action).await?;
        serde_json::from_value(listing.remove("passports").unwrap_or_default()).map_err(|e| self.bad_reply(&action, e))
    }

    /// The sum of the storage statistics the nodes of `name` published.
    pub async fn network_stat(&self, name: &str) -> Result<Stat, HubError> {
        let action = format!("reading the statistics of network \"{name}\"");
        let path = format!("{}/stat", qualified_path("networks", "network", name, &action)?);
        self.get(&path, None, &action).await
    }

    /// Publish a node's storage statistics on network `network`.
    pub async fn publish_stat(
        &self,
        signer: Signer<'_>,
        network: &str,
        node_id: &[u8; 32],
        stat: Stat,
    ) -> Result<(), HubError> {
        let action = format!("publishing the statistics of a node of network \"{network}\"");
        let path = format!(
            "{}/stat/{}/{}",
            qualified_path("networks", "network", network, &action)?,
            user_segment(signer.user, &action)?,
            hash::hex(node_id)
        );
        self.put(&path, &stat, signer, &action).await.map(|_| ())
    }

    // Passports.

    /// Publish `passport`, signed by the network's owner or the delegate
    /// who certified it.
    pub async fn push_passport(&self, passport: &Passport, signer: Signer<'_>) -> Result<Outcome, HubError> {
        let action = format!("pushing passport \"{}\"", passport.display());
        let path = passport_path(&passport.network, &passport.user_name, &action)?;
        self.put(&path, passport, signer, &action).await
    }

    /// The passport of `user` on `network`, asked by its holder, the
    /// network's owner or a delegate. Callers verify it.
    pub async fn fetch_passport(&self, network: &str, user: &str, signer: Signer<'_>) -> Result<Passport, HubError> {
        let action = format!("fetching passport \"{network}: {user}\"");
        let path = passport_path(network, user, &action)?;
        self.get(&path, Some(signer), &action).await
    }

    /// Remove the passport of `user` on `network` from the hub.
    pub async fn pull_passport(&self, network: &str, user: &str, signer: Signer<'_>) -> Result<(), HubError> {
        let action = format!("pulling passport \"{network}: {user}\"");
        let path = passport_path(network, user, &action)?;
        self.delete(&path, signer, &action).await
    }

    // Volumes.

    /// Publish `volume` (without its local mountpoint), signed by its owner.
    pub async fn push_volume(&self, volume: &Volume, signer: Signer<'_>) -> Result<Outcome, HubError> {
        let action = format!("pushing volume \"{}\"", volume.name);
        let path = qualified_path("volumes", "volume", &volume.name, &action)?;
        let mut shared = volume.exported();
        shared.mount_options = Default::default();
        self.put(&path, &shared, signer, &action).await
    }

    /// Volume `name` (qualified) as published. Callers verify it.
    pub async fn fetch_volume(&self, name: &str) -> Result<Volume, HubError> {
        let action = format!("fetching volume \"{name}\"");
        let path = qualified_path("volumes", "volume", name, &action)?;
        self.get(&path, None, &action).await
    }

    /// Remove volume `name` from the hub.
    pub async fn pull_volume(&self, name: &str, signer: Signer<'_>) -> Result<(), HubError> {
        let action = format!("pulling volume \"{name}\"");
        let path = qualified_path("volumes", "volume", name, &action)?;
        self.delete(&path, signer, &action).await
    }
}

/// One node's endpoints on a network, as [`fetch_endpoints`] returns them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeEndpoints {
    /// The user the node runs as (who published them).
    pub user: String,
    /// The node id (the fingerprint of the node key, `NodeIdentity::id`).
    pub node_id: [u8; 32],
    /// `host:port` strings to dial, as published.
    pub endpoints: Vec<String>,
    /// When they were last published (Unix seconds).
    pub updated: u64,
}

/// Publish where this node can be reached on `network` (qualified,
/// `owner/name`), replacing what it published before.
///
/// - `user`, `keys`: the user the node runs as; the request is signed with
///   these keys, and the hub accepts it only from the network's owner or a
///   user holding a passport pushed to the hub for that network.
/// - `node_id`: `LinkedNetwork::node.id` (64 hex digits in the route).
/// - `endpoints`: `host:port` strings (`127.0.0.2:4000`, `[::1]:4000`,
///   `node.example:4000`), at most [`api::MAX_ENDPOINTS_PER_NODE`]; a user
///   has at most [`api::MAX_NODES_PER_USER`] nodes per network.
///
/// The hub shows published endpoints for [`api::ENDPOINT_TTL`] (an hour)
/// after their last publication: publish again periodically (every few
/// minutes) while the node runs, and call [`unpublish_endpoints`] when it
/// stops. Errors are [`HubError`]s: `Unreachable`, or `Refused` with status
/// 401/403 (signature, clock, not a member), 404 (network or user not on
/// the hub), 422 (a malformed endpoint).
pub async fn publish_endpoints(
    hub: &Hub,
    user: &str,
    keys: &KeyPair,
    network: &str,
    node_id: &[u8; 32],
    endpoints: &[String],
) -> Result<(), HubError> {
    let action = format!("publishing the endpoints of a node of network \"{network}\"");
    let path = endpoint_path(network, user, node_id, &action)?;
    let body = EndpointsBody { endpoints: endpoints.to_vec() };
    hub.put(&path, &body, Signer { user, keys }, &action).await.map(|_| ())
}

/// Withdraw what [`publish_endpoints`] published for this node (a node
/// stopping). Withdrawing endpoints that are not there succeeds.
pub async fn unpublish_endpoints(
    hub: &Hub,
    user: &str,
    keys: &KeyPair,
    network: &str,
    node_id: &[u8; 32],
) -> Result<(), HubError> {
    let action = format!("withdrawing the endpoints of a node of network \"{network}\"");
    let path = endpoint_path(network, user, node_id, &action)?;
    hub.delete(&path, Signer { user, keys }, &action).await
}

/// Every node's published endpoints on `network` (qualified), published
/// within the last [`api::ENDPOINT_TTL`], sorted by user then node id. No
/// signature is needed. These are only hints of where to dial: a peer is
/// admitted by its passport and node certificate when it connects, never
/// because the hub listed it. A published node id that is not 64 hex digits
/// is skipped.
pub async fn fetch_endpoints(hub: &Hub, network: &str) -> Result<Vec<NodeEndpoints>, HubError> {
    type Listing = std::collections::BTreeMap<String, std::collections::BTreeMap<String, PublishedEndpoints>>;
    let action = format!("fetching the endpoints of network \"{network}\"");
    let path = format!("{}/endpoints", qualified_path("networks", "network", network, &action)?);
    let listing: Listing = hub.get(&path, None, &action).await?;
    let mut nodes = Vec::new();
    for (user, published) in listing {
        for (node, entry) in published {
            let Some(node_id) = parse_node_id(&node) else { continue };
            nodes.push(NodeEndpoints {
                user: user.clone(),
                node_id,
                endpoints: entry.endpoints,
                updated: entry.updated,
            });
        }
    }
    Ok(nodes)
}

/// Now as an `infinit-time` value, shifted by [`CLOCK_OFFSET_ENV`].
fn signing_time() -> String {
    let offset: i64 = std::env::var(CLOCK_OFFSET_ENV).ok().and_then(|o| o.trim().parse().ok()).unwrap_or(0);
    if offset == 0 {
        return api::time_now();
    }
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let seconds = (now.as_secs() as i64).saturating_add(offset).max(0);
    format!("{seconds}.{:09}", now.subsec_nanos())
}

/// A node id from its 64 hex digits.
fn parse_node_id(hex: &str) -> Option<[u8; 32]> {
    api::check_node_id(hex).ok()?;
    let mut id = [0u8; 32];
    for (i, byte) in id.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(id)
}

/// A transport error by its root cause (reqwest's own text is generic:
/// "error sending request").
fn describe(e: &reqwest::Error) -> String {
    let mut root: &dyn std::error::Error = e;
    while let Some(cause) = root.source() {
        root = cause;
    }
    match (e.is_timeout(), root.to_string()) {
        (true, cause) => format!("timed out: {cause}"),
        (false, cause) => cause,
    }
}

/// A local refusal of a malformed name, before anything is sent.
fn invalid(action: &str, e: impl std::fmt::Display) -> HubError {
    HubError::InvalidName { action: action.to_string(), why: e.to_string() }
}

fn user_segment<'a>(name: &'a str, action: &str) -> Result<&'a str, HubError> {
    names::check("user", name).map_err(|e| invalid(action, e))?;
    Ok(name)
}

fn user_path(name: &str, action: &str) -> Result<String, HubError> {
    Ok(format!("/users/{}", user_segment(name, action)?))
}

/// `/<collection>/<owner>/<name>` for a qualified name, checked.
fn qualified_path(collection: &str, what: &'static str, name: &str, action: &str) -> Result<String, HubError> {
    let (owner, short) =
        name.split_once('/').ok_or_else(|| invalid(action, format!("\"{name}\" is not owner/name")))?;
    let qualified = names::qualify(what, name, owner).map_err(|e| invalid(action, e))?;
    if qualified != format!("{owner}/{short}") {
        return Err(invalid(action, format!("\"{name}\" is not owner/name")));
    }
    Ok(format!("/{collection}/{qualified}"))
}

fn passport_path(network: &str, user: &str, action: &str) -> Result<String, HubError> {
    Ok(format!("{}/passports/{}", qualified_path("networks", "network", network, action)?, user_segment(user, action)?))
}

fn endpoint_path(network: &str, user: &str, node_id: &[u8; 32], action: &str) -> Result<String, HubError> {
    Ok(format!(
        "{}/endpoints/{}/{}",
        qualified_path("networks", "network", network, action)?,
        user_segment(user, action)?,
        hash::hex(node_id)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hub_urls_are_checked() {
        Hub::new("http://127.0.0.1:8080").unwrap();
        assert_eq!(Hub::new("https://hub.example/").unwrap().url(), "https://hub.example");
        for bad in ["127.0.0.1:8080", "ftp://x", "http://", "http://h/path", "http://h?q"] {
            assert!(matches!(Hub::new(bad), Err(HubError::BadUrl { .. })), "{bad}");
        }
    }

    #[test]
    fn node_ids_round_trip_through_hex() {
        let id = [0xab; 32];
        assert_eq!(parse_node_id(&hash::hex(&id)), Some(id));
        assert_eq!(parse_node_id("xyz"), None);
    }

    #[test]
    fn paths_refuse_names_that_would_escape_their_route() {
        assert_eq!(qualified_path("networks", "network", "alice/home", "a").unwrap(), "/networks/alice/home");
        for bad in ["alice", "alice/home/x", "alice/../x", "alice/ho?me", "Alice/home"] {
            assert!(qualified_path("networks", "network", bad, "a").is_err(), "{bad}");
        }
        assert!(user_path("../admin", "a").is_err());
    }
}

/// [`publish_endpoints`] and [`fetch_endpoints`] against a real hub,
/// started in this process on a free loopback port.
#[cfg(all(test, feature = "hub-server"))]
mod endpoint_tests {
    use super::*;
    use crate::descriptors::network::{NetworkSettings, Overlay};
    use crate::descriptors::passport::Rights;
    use crate::hub::server::{Options, start};

    async fn registered(hub: &Hub, name: &str) -> KeyPair {
        let keys = KeyPair::generate().unwrap();
        let user = User::new(name, None, &keys, None).unwrap();
        assert_eq!(hub.push_user(&user, None, &keys).await.unwrap(), Outcome::Created);
        keys
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn endpoints_published_by_members_are_fetched_replaced_and_withdrawn() {
        let dir = tempfile::tempdir().unwrap();
        let options = Options {
            listen: "127.0.0.1:0".parse().unwrap(),
            data: dir.path().to_path_buf(),
            port_file: None,
            admins: vec![],
        };
        let mut running = start(options).await.unwrap();
        let hub = Hub::new(&format!("http://{}", running.addr)).unwrap();
        let alice = registered(&hub, "alice").await;
        let bob = registered(&hub, "bob").await;
        let settings = NetworkSettings {
            description: None,
            replication_factor: 2,
            overlay: Overlay::Gossip,
            eviction_delay: "10min".into(),
            peers: vec![],
        };
        let network = Network::new("alice/net", settings, &alice).unwrap();
        hub.push_network(&network, Signer { user: "alice", keys: &alice }).await.unwrap();
        assert!(fetch_endpoints(&hub, "alice/net").await.unwrap().is_empty());

        let (node_a, node_b) = ([1u8; 32], [2u8; 32]);
        let here = vec!["127.0.0.2:4000".to_string()];
        publish_endpoints(&hub, "alice", &alice, "alice/net", &node_a, &here).await.unwrap();
        let found = fetch_endpoints(&hub, "alice/net").await.unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].user.as_str(), found[0].node_id, &found[0].endpoints), ("alice", node_a, &here));
        assert!(found[0].updated > 0);

        // Bob is no member until his passport is on the hub.
        let refused = publish_endpoints(&hub, "bob", &bob, "alice/net", &node_b, &here).await.unwrap_err();
        assert_eq!((refused.status(), refused.code()), (Some(403), Some("user/not_a_member")), "{refused}");
        let rights = Rights { allow_write: true, allow_storage: true, allow_create_passport: false };
        let passport = Passport::sign(&network, "bob", bob.public(), rights, &alice, None).unwrap();
        hub.push_passport(&passport, Signer { user: "alice", keys: &alice }).await.unwrap();
        let there = vec!["127.0.0.3:4001".to_string(), "[::1]:4001".to_string()];
        publish_endpoints(&hub, "bob", &bob, "alice/net", &node_b, &there).await.unwrap();

        // Publishing again replaces; results come sorted by user, then node.
        let moved = vec!["127.0.0.4:5000".to_string()];
        publish_endpoints(&hub, "alice", &alice, "alice/net", &node_a, &moved).await.unwrap();
        let found = fetch_endpoints(&hub, "alice/net").await.unwrap();
        let summary: Vec<(&str, [u8; 32], Vec<String>)> =
            found.iter().map(|n| (n.user.as_str(), n.node_id, n.endpoints.clone())).collect();
        assert_eq!(summary, vec![("alice", node_a, moved.clone()), ("bob", node_b, there.clone())]);

        // Malformed endpoints, someone else's keys, an unknown network.
        let bad =
            publish_endpoints(&hub, "alice", &alice, "alice/net", &node_a, &["nowhere".into()]).await.unwrap_err();
        assert_eq!(bad.status(), Some(422), "{bad}");
        let forged = publish_endpoints(&hub, "alice", &bob, "alice/net", &node_a, &here).await.unwrap_err();
        assert_eq!(forged.status(), Some(403), "{forged}");
        let missing = fetch_endpoints(&hub, "alice/nothing").await.unwrap_err();
        assert_eq!((missing.status(), missing.code()), (Some(404), Some("network/not_found")), "{missing}");
        assert!(missing.to_string().contains("infinit network push --name alice/nothing"), "{missing}");

        // Withdrawn, twice without complaint.
        unpublish_endpoints(&hub, "alice", &alice, "alice/net", &node_a).await.unwrap();
        unpublish_endpoints(&hub, "alice", &alice, "alice/net", &node_a).await.unwrap();
        let left = fetch_endpoints(&hub, "alice/net").await.unwrap();
        assert_eq!(left.iter().map(|n| n.user.as_str()).collect::<Vec<_>>(), ["bob"]);

        // Storage statistics sum over the nodes.
        let stat = Stat { usage: 10, capacity: Some(100) };
        hub.publish_stat(Signer { user: "bob", keys: &bob }, "alice/net", &node_b, stat).await.unwrap();
        hub.publish_stat(
            Signer { user: "alice", keys: &alice },
            "alice/net",
            &node_a,
            Stat { usage: 5, capacity: None },
        )
        .await
        .unwrap();
        assert_eq!(hub.network_stat("alice/net").await.unwrap(), Stat { usage: 15, capacity: Some(100) });

        running.shutdown();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_unreachable_hub_is_named_in_the_error() {
        let hub = Hub::new("http://127.0.0.1:9").unwrap();
        let error = fetch_endpoints(&hub, "alice/net").await.unwrap_err();
        assert!(matches!(error, HubError::Unreachable { .. }), "{error}");
        assert!(error.to_string().contains("http://127.0.0.1:9"), "{error}");
    }
}
