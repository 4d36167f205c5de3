//! `infinit-hub`, the registry server: axum routes over a redb file.
//!
//! Reads are public except private listings; every write is signed by a
//! registered user (see [`auth`]) and every descriptor is verified before
//! it is stored: its signatures, and its owner's key against the key of the
//! user registered under the owner's name. Names follow the local name
//! rules (`descriptors::names`). Only an owner changes or deletes what it
//! owns (and the users given with `--admin-user`, who may delete anything).

pub mod auth;
pub mod drives;
pub mod error;
pub mod networks;
pub mod pairing;
pub mod store;
pub mod users;
pub mod volumes;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use self::auth::{Call, LoginLimiter, Replays, Signed};
use self::error::{ApiError, json_response};
use self::store::{Answer, Store, Work};
use crate::crypto::PublicKey;
use crate::hub::api::{self, Outcome, Pushed};

/// How `infinit-hub` runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Address to listen on (port 0: any free port).
    pub listen: SocketAddr,
    /// Folder of the database (`hub.redb`), created if missing.
    pub data: PathBuf,
    /// File to write the port to once listening.
    pub port_file: Option<PathBuf>,
    /// Users who may delete anything and list users.
    pub admins: Vec<String>,
}

/// Why the hub could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot open the hub's database: {0}")]
    Database(String),
    #[error("cannot listen on {addr}: {why}")]
    Listen { addr: SocketAddr, why: String },
    #[error("cannot write the port file \"{path}\": {why}")]
    PortFile { path: String, why: String },
    #[error("the server failed: {0}")]
    Serve(String),
}

/// What every handler shares.
pub struct HubState {
    /// The database.
    pub store: Store,
    /// Recent signatures.
    pub replays: Replays,
    /// Wrong login passwords.
    pub logins: LoginLimiter,
    /// Users who may delete anything.
    pub admins: Vec<String>,
}

/// The state as handlers receive it.
pub type Shared = Arc<HubState>;

impl HubState {
    /// The key of registered user `name`.
    pub fn user_key(&self, name: &str) -> Result<Option<PublicKey>, ApiError> {
        Ok(self.store.read(|txn| users::load(&txn.open_table(store::USERS)?, name))?.map(|r| r.user.public_key))
    }

    /// Check `call` is signed by the registered user it names.
    pub fn authenticate(&self, call: &Call) -> Result<Signed, ApiError> {
        auth::verify(call, api::unix_now(), &self.replays, |user| self.user_key(user))
    }

    /// Whether `user` was named with `--admin-user`.
    pub fn is_admin(&self, user: &str) -> bool {
        self.admins.iter().any(|a| a == user)
    }

    /// Run `work` in a durable write, remembering `signed`'s signature.
    pub async fn write(&self, signed: Option<&Signed>, work: Work) -> Answer {
        self.store.write(signed.map(|s| s.memo), work).await
    }
}

/// The response of an [`Answer`].
pub fn reply(answer: Answer) -> Response {
    match answer {
        Ok((status, body)) => json_response(status, &body),
        Err(e) => e.into_response(),
    }
}

/// The answer to a push that did `outcome`.
pub fn pushed(outcome: Outcome) -> (StatusCode, serde_json::Value) {
    let status = if outcome == Outcome::Created { StatusCode::CREATED } else { StatusCode::OK };
    (status, serde_json::to_value(Pushed { outcome }).unwrap_or_default())
}

/// 200 `{}`.
pub fn done() -> (StatusCode, serde_json::Value) {
    (StatusCode::OK, json!({}))
}

/// The hub's routes.
pub fn router(state: Shared) -> Router {
    use axum::routing::{get as g, put};
    Router::new()
        .route(
            "/",
            get(|| async {
                json_response(StatusCode::OK, &json!({"service": "infinit-hub", "version": env!("CARGO_PKG_VERSION")}))
            }),
        )
        .route("/users", g(users::list))
        .route("/users/{user}", g(users::fetch).put(users::push).delete(users::pull))
        .route("/users/{user}/login", g(users::login_params).post(users::login))
        .route("/users/{user}/networks", g(users::networks))
        .route("/users/{user}/passports", g(users::passports))
        .route("/users/{user}/volumes", g(users::volumes))
        .route("/users/{user}/kvs", g(users::kvs))
        .route("/users/{user}/drives", g(users::drives))
        .route("/users/{user}/pairing", g(pairing::receive).put(pairing::transmit).delete(pairing::cancel))
        .route("/users/{user}/pairing/params", g(pairing::params))
        .route("/networks/{owner}/{name}", g(networks::fetch).put(networks::push).delete(networks::pull))
        .route("/networks/{owner}/{name}/passports", g(networks::passports))
        .route(
            "/networks/{owner}/{name}/passports/{user}",
            g(networks::fetch_passport).put(networks::push_passport).delete(networks::pull_passport),
        )
        .route("/networks/{owner}/{name}/endpoints", g(networks::endpoints))
        .route(
            "/networks/{owner}/{name}/endpoints/{user}/{node}",
            put(networks::publish_endpoints).delete(networks::withdraw_endpoints),
        )
        .route("/networks/{owner}/{name}/stat", g(networks::stat))
        .route("/networks/{owner}/{name}/stat/{user}/{node}", put(networks::publish_stat))
        .route("/networks/{owner}/{name}/volumes", g(volumes::of_network_volumes))
        .route("/networks/{owner}/{name}/kvs", g(volumes::of_network_kvs))
        .route(
            "/volumes/{owner}/{name}",
            g(volumes::fetch_volume).put(volumes::push_volume).delete(volumes::pull_volume),
        )
        .route("/kvs/{owner}/{name}", g(volumes::fetch_kvs).put(volumes::push_kvs).delete(volumes::pull_kvs))
        .route("/drives/{owner}/{name}", g(drives::fetch).put(drives::push).delete(drives::pull))
        .route("/drives/{owner}/{name}/invitations", put(drives::invite_all))
        .route("/drives/{owner}/{name}/invitations/{user}", put(drives::invite).delete(drives::uninvite))
        .fallback(|| async { ApiError::new(404, "route/not_found", "no such route on this hub") })
        .layer(axum::middleware::map_response(error::json_errors))
        .with_state(state)
}

/// A hub listening: its address, and the task serving it.
pub struct Running {
    /// The address bound (the actual port when 0 was asked).
    pub addr: SocketAddr,
    /// The server task; it ends on [`Running::shutdown`] or an error.
    pub task: tokio::task::JoinHandle<Result<(), ServerError>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    pruner: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stop accepting requests and let the server task end.
    pub fn shutdown(&mut self) {
        self.pruner.abort();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// How often expired pairings, signatures and endpoints are forgotten.
const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// Open the database, bind, write the port file and serve in a task of
/// the current tokio runtime.
pub async fn start(options: Options) -> Result<Running, ServerError> {
    let store = Store::open(&options.data).map_err(ServerError::Database)?;
    let replays = Replays::default();
    let now = api::unix_now();
    for memo in store.recent_signatures(now).map_err(|e| ServerError::Database(e.reason))? {
        let _ = replays.admit(memo, now);
    }
    let state = Arc::new(HubState { store, replays, logins: LoginLimiter::default(), admins: options.admins });
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .map_err(|e| ServerError::Listen { addr: options.listen, why: e.to_string() })?;
    let addr = listener.local_addr().map_err(|e| ServerError::Listen { addr: options.listen, why: e.to_string() })?;
    if let Some(path) = &options.port_file {
        write_port_file(path, addr.port())
            .map_err(|e| ServerError::PortFile { path: path.display().to_string(), why: e.to_string() })?;
    }
    let pruning = state.clone();
    let pruner = tokio::spawn(async move {
        let mut every = tokio::time::interval(PRUNE_EVERY);
        loop {
            every.tick().await;
            let now = api::unix_now();
            let work: Work = Box::new(move |txn| store::prune(txn, now, api::ENDPOINT_TTL).map(|()| done()));
            if let Err(e) = pruning.store.write(None, work).await {
                tracing::warn!("pruning expired records: {}", e.reason);
            }
        }
    });
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let app = router(state);
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
            .map_err(|e| ServerError::Serve(e.to_string()))
    });
    Ok(Running { addr, task, stop: Some(stop), pruner })
}

/// Write `port` to `path` atomically (a reader never sees it half written).
fn write_port_file(path: &std::path::Path, port: u16) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, format!("{port}\n"))?;
    std::fs::rename(&tmp, path)
}
