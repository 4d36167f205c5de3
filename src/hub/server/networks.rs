//! Networks and what hangs off them: passports, the endpoints nodes publish
//! and their storage statistics.
//!
//! A network is pushed by its owner only, its descriptor signed by the key
//! registered under the owner's name. A passport is pushed by the owner or
//! by the delegate who certified it (whose own passport here allows
//! creating passports), for a holder registered with the passport's key.
//! Endpoints and statistics are published by members only: the owner, or a
//! user whose passport for the network is on the hub.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use redb::{ReadTransaction, ReadableTable as _, WriteTransaction};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::auth::{Call, Signed};
use super::error::ApiError;
use super::store::{self, ENDPOINTS, HOLDERS, NETWORKS, PASSPORTS, STATS, USERS};
use super::users::{check_name, load as load_user};
use super::{Shared, done, pushed, reply};
use crate::crypto::PublicKey;
use crate::descriptors::{Network, Passport};
use crate::hub::api::{self, EndpointsBody, Outcome, PublishedEndpoints, Stat};

/// Check the two parts of a qualified name from a route; `owner/name`.
pub fn qualified(kind: &str, what: &'static str, owner: &str, name: &str) -> Result<String, ApiError> {
    check_name(kind, "user", owner)?;
    check_name(kind, what, name)?;
    Ok(format!("{owner}/{name}"))
}

/// Network `name` as stored, or 404.
pub fn load(txn: &ReadTransaction, name: &str) -> Result<Network, ApiError> {
    store::get(&txn.open_table(NETWORKS)?, name)?.ok_or_else(|| ApiError::not_found("network", name))
}

/// `GET /networks/<owner>/<name>`: the owner's descriptor.
pub async fn fetch(State(hub): State<Shared>, Path((owner, name)): Path<(String, String)>) -> Response {
    reply((|| {
        let network = qualified("network", "network", &owner, &name)?;
        let network = hub.store.read(|txn| load(txn, &network))?;
        Ok((StatusCode::OK, serde_json::to_value(network).unwrap_or_default()))
    })())
}

/// `PUT /networks/<owner>/<name>`: publish or update a network (its owner).
pub async fn push(State(hub): State<Shared>, Path((owner, name)): Path<(String, String)>, call: Call) -> Response {
    reply(
        async {
            let qualified = qualified("network", "network", &owner, &name)?;
            let network: Network = call.json("network")?;
            if network.name != qualified {
                return Err(ApiError::new(
                    422,
                    "network/invalid_format/name",
                    format!("the descriptor is network \"{}\", pushed as \"{qualified}\"", network.name),
                )
                .named(qualified));
            }
            network
                .verify()
                .map_err(|e| ApiError::new(422, "network/invalid_signature", e.to_string()).named(&qualified))?;
            let signed = hub.authenticate(&call)?;
            if signed.user != owner {
                return Err(ApiError::forbidden(format!(
                    "user \"{}\" may not push network \"{qualified}\": only its owner \"{owner}\" may",
                    signed.user
                ))
                .named(qualified));
            }
            check_owner_key("network", &qualified, &owner, &network.owner, &signed.key)?;
            hub.write(
                Some(&signed),
                Box::new(move |txn| {
                    let mut networks = txn.open_table(NETWORKS)?;
                    let outcome = match store::get::<Network>(&networks, &qualified)? {
                        None => Outcome::Created,
                        Some(old) if old == network => Outcome::Unchanged,
                        Some(old) if old.owner != network.owner => {
                            return Err(ApiError::new(
                                409,
                                "network/conflict",
                                format!("network \"{qualified}\" exists on this hub with another owner key"),
                            )
                            .named(qualified));
                        }
                        Some(_) => Outcome::Updated,
                    };
                    if outcome != Outcome::Unchanged {
                        store::put(&mut networks, &qualified, &network)?;
                    }
                    Ok(pushed(outcome))
                }),
            )
            .await
        }
        .await,
    )
}

/// Refuse a descriptor whose owner key is not the registered owner's.
pub fn check_owner_key(
    kind: &str,
    name: &str,
    owner: &str,
    found: &PublicKey,
    registered: &PublicKey,
) -> Result<(), ApiError> {
    if found != registered {
        return Err(ApiError::new(
            422,
            format!("{kind}/foreign_owner"),
            format!(
                "{kind} \"{name}\" is signed by key {}, which is not user \"{owner}\"'s key {}",
                found.short_hash(),
                registered.short_hash()
            ),
        )
        .named(name));
    }
    Ok(())
}

/// `DELETE /networks/<owner>/<name>[?purge=true]`: remove a network with
/// its passports, endpoints and statistics (and with `purge`, its owner's
/// drives, volumes and key-value stores on it).
pub async fn pull(State(hub): State<Shared>, Path((owner, name)): Path<(String, String)>, call: Call) -> Response {
    reply(
        async {
            let qualified = qualified("network", "network", &owner, &name)?;
            hub.store.read(|txn| load(txn, &qualified))?;
            let signed = hub.authenticate(&call)?;
            if signed.user != owner && !hub.is_admin(&signed.user) {
                return Err(ApiError::forbidden(format!(
                    "user \"{}\" may not delete network \"{qualified}\": only its owner \"{owner}\" may",
                    signed.user
                ))
                .named(qualified));
            }
            let purge = call.purge();
            hub.write(
                Some(&signed),
                Box::new(move |txn| {
                    if store::get::<Network>(&txn.open_table(NETWORKS)?, &qualified)?.is_none() {
                        return Err(ApiError::not_found("network", &qualified));
                    }
                    remove_network(txn, &qualified, purge)?;
                    Ok(done())
                }),
            )
            .await
        }
        .await,
    )
}

/// Remove network `name` and everything that hangs off it; with `purge`,
/// its owner's drives, volumes and key-value stores on it too.
pub fn remove_network(txn: &WriteTransaction, name: &str, purge: bool) -> Result<(), ApiError> {
    txn.open_table(NETWORKS)?.remove(name)?;
    let prefix = format!("{name}\n");
    for key in store::scan_keys(&txn.open_table(PASSPORTS)?, &prefix)? {
        if let Some((_, holder)) = key.split_once('\n') {
            txn.open_table(HOLDERS)?.remove(store::key(&[holder, name]).as_str())?;
        }
    }
    store::remove_prefix(&mut txn.open_table(PASSPORTS)?, &prefix)?;
    store::remove_prefix(&mut txn.open_table(ENDPOINTS)?, &prefix)?;
    store::remove_prefix(&mut txn.open_table(STATS)?, &prefix)?;
    if purge {
        let user = name.split('/').next().unwrap_or_default();
        super::drives::remove_owned(txn, user, |d| d.network == name)?;
        let owner = format!("{user}/");
        for kind in [super::volumes::VOLUME, super::volumes::KEY_VALUE_STORE] {
            // Listed first: `remove` opens the index again, and redb refuses
            // a table opened twice in one transaction.
            let on_network = store::scan_keys(&txn.open_table(kind.index)?, &prefix)?;
            for key in on_network {
                if let Some((_, object)) = key.split_once('\n')
                    && object.starts_with(&owner)
                {
                    super::volumes::remove(txn, kind, object)?;
                }
            }
        }
    }
    Ok(())
}

/// Whether `user` (signing with `key`) holds a passport of `network` on
/// the hub allowing it to create passports.
fn is_delegate(txn: &ReadTransaction, network: &str, user: &str, key: &PublicKey) -> Result<bool, ApiError> {
    let own: Option<Passport> = store::get(&txn.open_table(PASSPORTS)?, &store::key(&[network, user]))?;
    Ok(own.is_some_and(|p| p.allow_create_passport && p.user == *key))
}

/// Whether `user` (signing with `key`) is a member of `network`: its
/// owner, or the holder of a passport for it on the hub.
fn is_member(txn: &ReadTransaction, network: &Network, user: &str, key: &PublicKey) -> Result<bool, ApiError> {
    if network.owner == *key && network.name.split('/').next() == Some(user) {
        return Ok(true);
    }
    let own: Option<Passport> = store::get(&txn.open_table(PASSPORTS)?, &store::key(&[&network.name, user]))?;
    Ok(own.is_some_and(|p| p.user == *key))
}

fn not_a_member(user: &str, network: &str) -> ApiError {
    ApiError::new(
        403,
        "user/not_a_member",
        format!(
            "user \"{user}\" is not a member of network \"{network}\" on this hub: the owner pushes its passport (infinit passport push --network {network} --user {user})"
        ),
    )
    .named(network)
}

/// `GET /networks/<owner>/<name>/passports`: every passport (the owner).
pub async fn passports(State(hub): State<Shared>, Path((owner, name)): Path<(String, String)>, call: Call) -> Response {
    reply((|| {
        let qualified = qualified("network", "network", &owner, &name)?;
        hub.store.read(|txn| load(txn, &qualified))?;
        let signed = hub.authenticate(&call)?;
        if signed.user != owner && !hub.is_admin(&signed.user) {
            return Err(ApiError::forbidden(format!(
                "user \"{}\" may not list the passports of network \"{qualified}\": only its owner may",
                signed.user
            )));
        }
        let all: Vec<Passport> = hub
            .store
            .read(|txn| store::scan(&txn.open_table(PASSPORTS)?, &format!("{qualified}\n")))?
            .into_iter()
            .map(|(_, p)| p)
            .collect();
        Ok((StatusCode::OK, json!({ "passports": all })))
    })())
}

fn passport_route(owner: &str, name: &str, user: &str) -> Result<(String, String), ApiError> {
    let network = qualified("passport", "network", owner, name)?;
    check_name("passport", "user", user)?;
    let shown = format!("{network}: {user}");
    Ok((network, shown))
}

/// `GET /networks/<owner>/<name>/passports/<user>`: by its holder, the
/// network's owner or a delegate.
pub async fn fetch_passport(
    State(hub): State<Shared>,
    Path((owner, name, user)): Path<(String, String, String)>,
    call: Call,
) -> Response {
    reply((|| {
        let (network, shown) = passport_route(&owner, &name, &user)?;
        hub.store.read(|txn| load(txn, &network))?;
        let signed = hub.authenticate(&call)?;
        let allowed = signed.user == owner
            || signed.user == user
            || hub.is_admin(&signed.user)
            || hub.store.read(|txn| is_delegate(txn, &network, &signed.user, &signed.key))?;
        if !allowed {
            return Err(ApiError::forbidden(format!(
                "user \"{}\" may not read passport \"{shown}\": only its holder, the network's owner or a delegate may",
                signed.user
            ))
            .named(shown));
        }
        let passport: Passport = hub
            .store
            .read(|txn| store::get(&txn.open_table(PASSPORTS)?, &store::key(&[&network, &user])))?
            .ok_or_else(|| ApiError::not_found("passport", &shown))?;
        Ok((StatusCode::OK, serde_json::to_value(passport).unwrap_or_default()))
    })())
}

/// `PUT /networks/<owner>/<name>/passports/<user>`: by the owner, or the
/// delegate who certified it.
pub async fn push_passport(
    State(hub): State<Shared>,
    Path((owner, name, user)): Path<(String, String, String)>,
    call: Call,
) -> Response {
    reply(
        async {
            let (network_name, shown) = passport_route(&owner, &name, &user)?;
            let passport: Passport = call.json("passport")?;
            if passport.network != network_name || passport.user_name != user {
                return Err(ApiError::new(
                    422,
                    "passport/invalid_format/name",
                    format!("the body is passport \"{}\", pushed as \"{shown}\"", passport.display()),
                )
                .named(shown));
            }
            let network = hub.store.read(|txn| load(txn, &network_name))?;
            passport.verify(&network).map_err(|e| ApiError::new(422, "passport/invalid_signature", e.to_string()).named(&shown))?;
            let holder = hub
                .store
                .read(|txn| load_user(&txn.open_table(USERS)?, &user))?
                .ok_or_else(|| ApiError::not_found("user", &user))?;
            if holder.user.public_key != passport.user {
                return Err(ApiError::new(
                    422,
                    "passport/foreign_holder",
                    format!(
                        "passport \"{shown}\" is issued to key {}, but user \"{user}\" has key {} on this hub",
                        passport.user.short_hash(),
                        holder.user.public_key.short_hash()
                    ),
                )
                .named(shown));
            }
            let signed = hub.authenticate(&call)?;
            let by_owner = signed.user == owner && signed.key == network.owner;
            let by_certifier = passport.certifier == Some(signed.key)
                && hub.store.read(|txn| is_delegate(txn, &network_name, &signed.user, &signed.key))?;
            if !by_owner && !by_certifier {
                return Err(ApiError::forbidden(format!(
                    "user \"{}\" may not push passport \"{shown}\": only the network's owner \"{owner}\", or the delegate who signed it, may",
                    signed.user
                ))
                .named(shown));
            }
            hub.write(
                Some(&signed),
                Box::new(move |txn| {
                    if store::get::<Network>(&txn.open_table(NETWORKS)?, &network_name)?.is_none() {
                        return Err(ApiError::not_found("network", &network_name));
                    }
                    let mut passports = txn.open_table(PASSPORTS)?;
                    let key = store::key(&[&network_name, &user]);
                    let outcome = match store::get::<Passport>(&passports, &key)? {
                        None => Outcome::Created,
                        Some(old) if old == passport => Outcome::Unchanged,
                        Some(_) => Outcome::Updated,
                    };
                    if outcome != Outcome::Unchanged {
                        store::put(&mut passports, &key, &passport)?;
                        txn.open_table(HOLDERS)?.insert(store::key(&[&user, &network_name]).as_str(), &[][..])?;
                    }
                    Ok(pushed(outcome))
                }),
            )
            .await
        }
        .await,
    )
}

/// `DELETE /networks/<owner>/<name>/passports/<user>`: by the owner, the
/// holder, or the delegate who certified it.
pub async fn pull_passport(
    State(hub): State<Shared>,
    Path((owner, name, user)): Path<(String, String, String)>,
    call: Call,
) -> Response {
    reply(
        async {
            let (network, shown) = passport_route(&owner, &name, &user)?;
            hub.store.read(|txn| load(txn, &network))?;
            let key = store::key(&[&network, &user]);
            let existing: Passport = hub
                .store
                .read(|txn| store::get(&txn.open_table(PASSPORTS)?, &key))?
                .ok_or_else(|| ApiError::not_found("passport", &shown))?;
            let signed = hub.authenticate(&call)?;
            let allowed = signed.user == owner
                || signed.user == user
                || hub.is_admin(&signed.user)
                || (existing.certifier == Some(signed.key)
                    && hub.store.read(|txn| is_delegate(txn, &network, &signed.user, &signed.key))?);
            if !allowed {
                return Err(ApiError::forbidden(format!(
                    "user \"{}\" may not delete passport \"{shown}\": only the network's owner, its holder or the delegate who signed it may",
                    signed.user
                ))
                .named(shown));
            }
            hub.write(
                Some(&signed),
                Box::new(move |txn| {
                    txn.open_table(PASSPORTS)?.remove(key.as_str())?;
                    txn.open_table(HOLDERS)?.remove(store::key(&[&user, &network]).as_str())?;
                    Ok(done())
                }),
            )
            .await
        }
        .await,
    )
}

/// `GET /networks/<owner>/<name>/endpoints`: `{user: {node: {endpoints,
/// updated}}}`, without what was not published again within its time to live.
pub async fn endpoints(State(hub): State<Shared>, Path((owner, name)): Path<(String, String)>) -> Response {
    reply((|| {
        let network = qualified("network", "network", &owner, &name)?;
        let now = api::unix_now();
        let published = hub.store.read(|txn| {
            load(txn, &network)?;
            store::scan::<PublishedEndpoints>(&txn.open_table(ENDPOINTS)?, &format!("{network}\n"))
        })?;
        let mut by_user: BTreeMap<String, BTreeMap<String, PublishedEndpoints>> = BTreeMap::new();
        for (key, entry) in published {
            if entry.updated.saturating_add(api::ENDPOINT_TTL) < now {
                continue;
            }
            let mut parts = key.split('\n').skip(1);
            if let (Some(user), Some(node)) = (parts.next(), parts.next()) {
                by_user.entry(user.to_string()).or_default().insert(node.to_string(), entry);
            }
        }
        Ok((StatusCode::OK, serde_json::to_value(by_user).unwrap_or_default()))
    })())
}

/// Check a node route and authenticate its publisher as a member.
fn node_route(
    hub: &Shared,
    call: &Call,
    owner: &str,
    name: &str,
    user: &str,
    node: &str,
) -> Result<(String, Signed), ApiError> {
    let network_name = qualified("network", "network", owner, name)?;
    check_name("endpoints", "user", user)?;
    api::check_node_id(node).map_err(|e| ApiError::new(422, "endpoints/invalid_format/node", e))?;
    let network = hub.store.read(|txn| load(txn, &network_name))?;
    let signed = hub.authenticate(call)?;
    if signed.user != user {
        return Err(ApiError::forbidden(format!(
            "user \"{}\" may not publish for user \"{user}\": each user publishes its own nodes",
            signed.user
        )));
    }
    if !hub.store.read(|txn| is_member(txn, &network, user, &signed.key))? {
        return Err(not_a_member(user, &network_name));
    }
    Ok((network_name, signed))
}

/// `PUT /networks/<owner>/<name>/endpoints/<user>/<node>`: a member
/// publishes where one of its nodes listens.
pub async fn publish_endpoints(
    State(hub): State<Shared>,
    Path((owner, name, user, node)): Path<(String, String, String, String)>,
    call: Call,
) -> Response {
    reply(
        async {
            let body: EndpointsBody = call.json("endpoints")?;
            if body.endpoints.len() > api::MAX_ENDPOINTS_PER_NODE {
                return Err(ApiError::new(
                    422,
                    "endpoints/too_many",
                    format!("{} endpoints for one node: at most {}", body.endpoints.len(), api::MAX_ENDPOINTS_PER_NODE),
                ));
            }
            for endpoint in &body.endpoints {
                api::check_endpoint(endpoint)
                    .map_err(|e| ApiError::new(422, "endpoints/invalid_format/endpoint", e))?;
            }
            let (network, signed) = node_route(&hub, &call, &owner, &name, &user, &node)?;
            let now = api::unix_now();
            hub.write(
                Some(&signed),
                Box::new(move |txn| {
                    let mut table = txn.open_table(ENDPOINTS)?;
                    let key = store::key(&[&network, &user, &node]);
                    let others = store::scan::<PublishedEndpoints>(&table, &format!("{network}\n{user}\n"))?
                        .into_iter()
                        .filter(|(k, e)| *k != key && e.updated.saturating_add(api::ENDPOINT_TTL) >= now)
                        .count();
                    if others >= api::MAX_NODES_PER_USER {
                        return Err(ApiError::new(
                            422,
                            "endpoints/too_many_nodes",
                            format!(
                                "user \"{user}\" publishes {others} other nodes on \"{network}\": at most {}",
                                api::MAX_NODES_PER_USER
                            ),
                        ));
                    }
                    let existed = table.get(key.as_str())?.is_some();
                    store::put(&mut table, &key, &PublishedEndpoints { endpoints: body.endpoints, updated: now })?;
                    Ok(pushed(if existed { Outcome::Updated } else { Outcome::Created }))
                }),
            )
            .await
        }
        .await,
    )
}

/// `DELETE /networks/<owner>/<name>/endpoints/<user>/<node>`: by that user
/// or the network's owner; withdrawing what is not there succeeds.
pub async fn withdraw_endpoints(
    State(hub): State<Shared>,
    Path((owner, name, user, node)): Path<(String, String, String, String)>,
    call: Call,
) -> Response {
    reply(
        async {
            let network = qualified("network", "network", &owner, &name)?;
            check_name("endpoints", "user", &user)?;
            api::check_node_id(&node).map_err(|e| ApiError::new(422, "endpoints/invalid_format/node", e))?;
            hub.store.read(|txn| load(txn, &network))?;
            let signed = hub.authenticate(&call)?;
            if signed.user != user && signed.user != owner && !hub.is_admin(&signed.user) {
                return Err(ApiError::forbidden(format!(
                    "user \"{}\" may not withdraw the endpoints of user \"{user}\"",
                    signed.user
                )));
            }
            hub.write(
                Some(&signed),
                Box::new(move |txn| {
                    txn.open_table(ENDPOINTS)?.remove(store::key(&[&network, &user, &node]).as_str())?;
                    Ok(done())
                }),
            )
            .await
        }
        .await,
    )
}

/// A node's statistics as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredStat {
    stat: Stat,
    updated: u64,
}

/// `PUT /networks/<owner>/<name>/stat/<user>/<node>`: a member publishes
/// what one of its nodes stores and offers.
pub async fn publish_stat(
    State(hub): State<Shared>,
    Path((owner, name, user, node)): Path<(String, String, String, String)>,
    call: Call,
) -> Response {
    reply(
        async {
            let stat: Stat = call.json("stat")?;
            let (network, signed) = node_route(&hub, &call, &owner, &name, &user, &node)?;
            let now = api::unix_now();
            hub.write(
                Some(&signed),
                Box::new(move |txn| {
                    let mut table = txn.open_table(STATS)?;
                    let key = store::key(&[&network, &user, &node]);
                    let existed = table.get(key.as_str())?.is_some();
                    store::put(&mut table, &key, &StoredStat { stat, updated: now })?;
                    Ok(pushed(if existed { Outcome::Updated } else { Outcome::Created }))
                }),
            )
            .await
        }
        .await,
    )
}

/// `GET /networks/<owner>/<name>/stat`: usage and capacity summed over
/// every node that published them (no limit counts as 0).
pub async fn stat(State(hub): State<Shared>, Path((owner, name)): Path<(String, String)>) -> Response {
    reply((|| {
        let network = qualified("network", "network", &owner, &name)?;
        let all = hub.store.read(|txn| {
            load(txn, &network)?;
            store::scan::<StoredStat>(&txn.open_table(STATS)?, &format!("{network}\n"))
        })?;
        let mut sum = Stat { usage: 0, capacity: Some(0) };
        for (_, s) in &all {
            sum.usage = sum.usage.saturating_add(s.stat.usage);
            sum.capacity = Some(sum.capacity.unwrap_or(0).saturating_add(s.stat.capacity.unwrap_or(0)));
        }
        Ok((StatusCode::OK, json!({"usage": sum.usage, "capacity": sum.capacity, "nodes": all.len()})))
    })())
}
