//! Volumes and key-value stores: objects living on a network, pushed by
//! their owner. A volume is our signed descriptor, verified like a network;
//! a key-value store is kept as the owner's JSON (`name`, `network`,
//! optional `description`), authenticated by the signed request alone. The
//! same name on another network is a conflict (409).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use redb::WriteTransaction;
use serde_json::{Value, json};

use super::auth::Call;
use super::error::ApiError;
use super::networks::{check_owner_key, load as load_network, qualified};
use super::store::{self, KVS, NETWORK_KVS, NETWORK_VOLUMES, Records, VOLUMES};
use super::{Shared, done, pushed, reply};
use crate::descriptors::{Volume, names};
use crate::hub::api::Outcome;

/// A kind of object living on a network: where it and its index live.
#[derive(Clone, Copy)]
pub struct Kind {
    /// In routes and error codes: `volume`, `kvs`.
    pub name: &'static str,
    /// Objects by qualified name.
    pub table: Records,
    /// Index `network\nobject`.
    pub index: Records,
}

/// Volumes.
pub const VOLUME: Kind = Kind { name: "volume", table: VOLUMES, index: NETWORK_VOLUMES };
/// Key-value stores.
pub const KEY_VALUE_STORE: Kind = Kind { name: "kvs", table: KVS, index: NETWORK_KVS };

/// Remove object `name` of `kind` and its index entry.
pub fn remove(txn: &WriteTransaction, kind: Kind, name: &str) -> Result<(), ApiError> {
    let mut table = txn.open_table(kind.table)?;
    if let Some(old) = store::get::<Value>(&table, name)? {
        if let Some(network) = old.get("network").and_then(Value::as_str) {
            txn.open_table(kind.index)?.remove(store::key(&[network, name]).as_str())?;
        }
        table.remove(name)?;
    }
    Ok(())
}

/// Store `value` (whose network is `network`) as object `name` of `kind`:
/// created, unchanged, updated on the same network, or a conflict.
fn save(txn: &WriteTransaction, kind: Kind, name: &str, network: &str, value: &Value) -> super::store::Answer {
    if store::get::<Value>(&txn.open_table(super::store::NETWORKS)?, network)?.is_none() {
        return Err(ApiError::not_found("network", network));
    }
    let mut table = txn.open_table(kind.table)?;
    let outcome = match store::get::<Value>(&table, name)? {
        None => Outcome::Created,
        Some(old) if old == *value => Outcome::Unchanged,
        Some(old) if old.get("network").and_then(Value::as_str) != Some(network) => {
            return Err(ApiError::new(
                409,
                format!("{}/conflict", kind.name),
                format!(
                    "{} \"{name}\" already exists on this hub on network \"{}\"",
                    kind.name,
                    old.get("network").and_then(Value::as_str).unwrap_or("?")
                ),
            )
            .named(name));
        }
        Some(_) => Outcome::Updated,
    };
    if outcome != Outcome::Unchanged {
        store::put(&mut table, name, value)?;
        txn.open_table(kind.index)?.insert(store::key(&[network, name]).as_str(), &[][..])?;
    }
    Ok(pushed(outcome))
}

fn fetch(hub: &Shared, kind: Kind, owner: &str, name: &str) -> Response {
    reply((|| {
        let name = qualified(kind.name, kind.name, owner, name)?;
        let value: Value = hub
            .store
            .read(|txn| store::get(&txn.open_table(kind.table)?, &name))?
            .ok_or_else(|| ApiError::not_found(kind.name, &name))?;
        Ok((StatusCode::OK, value))
    })())
}

async fn pull(hub: &Shared, kind: Kind, owner: &str, name: &str, call: &Call) -> Response {
    reply(
        async {
            let name = qualified(kind.name, kind.name, owner, name)?;
            let exists = hub.store.read(|txn| Ok(txn.open_table(kind.table)?.get(name.as_str())?.is_some()))?;
            if !exists {
                return Err(ApiError::not_found(kind.name, &name));
            }
            let signed = hub.authenticate(call)?;
            if signed.user != owner && !hub.is_admin(&signed.user) {
                return Err(ApiError::forbidden(format!(
                    "user \"{}\" may not delete {} \"{name}\": only its owner \"{owner}\" may",
                    signed.user, kind.name
                ))
                .named(name));
            }
            let purge = kind.name == VOLUME.name && call.purge();
            let owner = owner.to_string();
            hub.write(
                Some(&signed),
                Box::new(move |txn| {
                    if purge {
                        super::drives::remove_owned(txn, &owner, |d| d.volume == name)?;
                    }
                    remove(txn, kind, &name)?;
                    Ok(done())
                }),
            )
            .await
        }
        .await,
    )
}

fn of_network(hub: &Shared, kind: Kind, owner: &str, name: &str, field: &str) -> Response {
    reply((|| {
        let network = qualified("network", "network", owner, name)?;
        let objects = hub.store.read(|txn| {
            load_network(txn, &network)?;
            let table = txn.open_table(kind.table)?;
            let mut out = Vec::new();
            for key in store::scan_keys(&txn.open_table(kind.index)?, &format!("{network}\n"))? {
                if let Some((_, object)) = key.split_once('\n')
                    && let Some(value) = store::get::<Value>(&table, object)?
                {
                    out.push(value);
                }
            }
            Ok(out)
        })?;
        Ok((StatusCode::OK, json!({ field: objects })))
    })())
}

/// `GET /volumes/<owner>/<name>`.
pub async fn fetch_volume(State(hub): State<Shared>, Path((owner, name)): Path<(String, String)>) -> Response {
    fetch(&hub, VOLUME, &owner, &name)
}

/// `DELETE /volumes/<owner>/<name>[?purge=true]`: its owner; with
/// `purge`, the owner's drives of the volume go too.
pub async fn pull_volume(
    State(hub): State<Shared>,
    Path((owner, name)): Path<(String, String)>,
    call: Call,
) -> Response {
    pull(&hub, VOLUME, &owner, &name, &call).await
}

/// `GET /networks/<owner>/<name>/volumes`.
pub async fn of_network_volumes(State(hub): State<Shared>, Path((owner, name)): Path<(String, String)>) -> Response {
    of_network(&hub, VOLUME, &owner, &name, "volumes")
}

/// `PUT /volumes/<owner>/<name>`: its owner publishes a volume of a
/// network on the hub (without the local mount options).
pub async fn push_volume(
    State(hub): State<Shared>,
    Path((owner, name)): Path<(String, String)>,
    call: Call,
) -> Response {
    reply(
        async {
            let qualified = qualified("volume", "volume", &owner, &name)?;
            let mut volume: Volume = call.json("volume")?;
            if volume.name != qualified {
                return Err(ApiError::new(
                    422,
                    "volume/invalid_format/name",
                    format!("the descriptor is volume \"{}\", pushed as \"{qualified}\"", volume.name),
                )
                .named(qualified));
            }
            volume
                .verify()
                .map_err(|e| ApiError::new(422, "volume/invalid_signature", e.to_string()).named(&qualified))?;
            let signed = hub.authenticate(&call)?;
            if signed.user != owner {
                return Err(ApiError::forbidden(format!(
                    "user \"{}\" may not push volume \"{qualified}\": only its owner \"{owner}\" may",
                    signed.user
                ))
                .named(qualified));
            }
            check_owner_key("volume", &qualified, &owner, &volume.owner, &signed.key)?;
            volume.mount_options = Default::default();
            let network = volume.network.clone();
            let value = serde_json::to_value(&volume).map_err(ApiError::storage)?;
            hub.write(Some(&signed), Box::new(move |txn| save(txn, VOLUME, &qualified, &network, &value))).await
        }
        .await,
    )
}

/// `GET /kvs/<owner>/<name>`.
pub async fn fetch_kvs(State(hub): State<Shared>, Path((owner, name)): Path<(String, String)>) -> Response {
    fetch(&hub, KEY_VALUE_STORE, &owner, &name)
}

/// `DELETE /kvs/<owner>/<name>`: its owner.
pub async fn pull_kvs(State(hub): State<Shared>, Path((owner, name)): Path<(String, String)>, call: Call) -> Response {
    pull(&hub, KEY_VALUE_STORE, &owner, &name, &call).await
}

/// `GET /networks/<owner>/<name>/kvs`.
pub async fn of_network_kvs(State(hub): State<Shared>, Path((owner, name)): Path<(String, String)>) -> Response {
    of_network(&hub, KEY_VALUE_STORE, &owner, &name, "kvs")
}

/// The longest description accepted, in characters.
const MAX_DESCRIPTION: usize = 2048;

/// Refuse a description field of `kind` that is not one line of at most
/// [`MAX_DESCRIPTION`] characters; the description, if any.
pub fn check_description(kind: &str, field: Option<&Value>) -> Result<Option<String>, ApiError> {
    let Some(field) = field else { return Ok(None) };
    match field.as_str() {
        Some(d) if d.chars().count() <= MAX_DESCRIPTION && !d.contains('\n') => Ok(Some(d.to_string())),
        _ => Err(ApiError::new(
            422,
            format!("{kind}/invalid_format/description"),
            format!("the description must be one line of at most {MAX_DESCRIPTION} characters"),
        )),
    }
}

/// `PUT /kvs/<owner>/<name>`: a JSON object with `name` (this one),
/// `network` (on the hub) and optionally `description`, by its owner.
pub async fn push_kvs(State(hub): State<Shared>, Path((owner, name)): Path<(String, String)>, call: Call) -> Response {
    reply(
        async {
            let qualified = qualified("kvs", "kvs", &owner, &name)?;
            let value: Value = call.json("kvs")?;
            let field = |f: &str| value.get(f).and_then(Value::as_str);
            if !value.is_object() {
                return Err(ApiError::bad_body("kvs", "expected a JSON object"));
            }
            match field("name") {
                None => return Err(ApiError::new(400, "kvs/missing_field/name", "missing field name")),
                Some(n) if n != qualified => {
                    return Err(ApiError::new(
                        422,
                        "kvs/invalid_format/name",
                        format!("the body is kvs \"{n}\", pushed as \"{qualified}\""),
                    ));
                }
                Some(_) => {}
            }
            let Some(network) = field("network").map(str::to_string) else {
                return Err(ApiError::new(400, "kvs/missing_field/network", "missing field network"));
            };
            if names::qualify("network", &network, "x").ok().as_deref() != Some(network.as_str()) {
                return Err(ApiError::new(
                    422,
                    "kvs/invalid_format/network",
                    format!("\"{network}\" is not owner/network"),
                ));
            }
            check_description("kvs", value.get("description"))?;
            let signed = hub.authenticate(&call)?;
            if signed.user != owner {
                return Err(ApiError::forbidden(format!(
                    "user \"{}\" may not push kvs \"{qualified}\": only its owner \"{owner}\" may",
                    signed.user
                )));
            }
            hub.write(Some(&signed), Box::new(move |txn| save(txn, KEY_VALUE_STORE, &qualified, &network, &value)))
                .await
        }
        .await,
    )
}
