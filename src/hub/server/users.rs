//! Users: registration (first come, first served, signed by the key being
//! registered), fetch by name or short key hash, login with a password
//! proof, deletion, and each user's private listings.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use redb::{ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::auth::{Call, Signed};
use super::error::ApiError;
use super::store::{self, Answer, HOLDERS, KVS, NETWORKS, PASSPORTS, USER_HASHES, USERS, VOLUMES};
use super::{Shared, done, pushed, reply};
use crate::crypto::unb64_array;
use crate::descriptors::{Network, Passport, User, Volume, names};
use crate::hub::api::{self, Identity, LoginRequest, Outcome, UserPush};
use crate::hub::password::Protected;

/// A registered user.
#[derive(Clone, Serialize, Deserialize)]
pub struct UserRecord {
    /// The public descriptor.
    pub user: User,
    /// The password-protected key, for users who log in through the hub.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login: Option<Protected>,
}

/// Registered user `name`.
pub fn load(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    name: &str,
) -> Result<Option<UserRecord>, ApiError> {
    store::get(table, name)
}

/// Refuse a name that breaks the name rules.
pub fn check_name(kind: &str, what: &'static str, name: &str) -> Result<(), ApiError> {
    names::check(what, name).map_err(|e| ApiError::invalid_name(kind, e))
}

/// The registered key of `name`, or 404.
fn registered(hub: &Shared, name: &str) -> Result<UserRecord, ApiError> {
    hub.store.read(|txn| load(&txn.open_table(USERS)?, name))?.ok_or_else(|| ApiError::not_found("user", name))
}

/// Authenticate `call` as `user` itself (or an administrator).
fn as_self_or_admin(hub: &Shared, call: &Call, user: &str, doing: &str) -> Result<Signed, ApiError> {
    let signed = hub.authenticate(call)?;
    if signed.user != user && !hub.is_admin(&signed.user) {
        return Err(ApiError::forbidden(format!("user \"{}\" may not {doing} of user \"{user}\"", signed.user)));
    }
    Ok(signed)
}

/// `GET /users`: every user's public descriptor (administrators only).
pub async fn list(State(hub): State<Shared>, call: Call) -> Response {
    reply((|| {
        let signed = hub.authenticate(&call)?;
        if !hub.is_admin(&signed.user) {
            return Err(ApiError::new(403, "auth/admin", "listing users is for the hub's administrators"));
        }
        let users: Vec<User> = hub
            .store
            .read(|txn| store::scan::<UserRecord>(&txn.open_table(USERS)?, ""))?
            .into_iter()
            .map(|(_, r)| r.user)
            .collect();
        Ok((StatusCode::OK, json!({ "users": users })))
    })())
}

/// `GET /users/<name>` or `GET /users/%23abcdef`: the public descriptor.
pub async fn fetch(State(hub): State<Shared>, Path(user): Path<String>) -> Response {
    reply((|| {
        if let Some(hash) = user.strip_prefix('#') {
            let valid = hash.len() == 6 && hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            if !valid {
                return Err(ApiError::new(
                    422,
                    "user/invalid_format/hash",
                    format!("\"{user}\" is not a short key hash (# and 6 lowercase hex digits)"),
                ));
            }
            let names: Vec<String> = hub
                .store
                .read(|txn| store::scan_keys(&txn.open_table(USER_HASHES)?, &format!("{user}\n")))?
                .into_iter()
                .filter_map(|k| k.split_once('\n').map(|(_, n)| n.to_string()))
                .collect();
            return match names.as_slice() {
                [] => Err(ApiError::not_found("user", &user)),
                [name] => Ok((StatusCode::OK, serde_json::to_value(registered(&hub, name)?.user).unwrap_or_default())),
                many => Err(ApiError::new(
                    409,
                    "user/ambiguous_hash",
                    format!("several users have key hash {user}: {}; fetch one by name", many.join(", ")),
                )),
            };
        }
        check_name("user", "user", &user)?;
        Ok((StatusCode::OK, serde_json::to_value(registered(&hub, &user)?.user).unwrap_or_default()))
    })())
}

/// `PUT /users/<name>`: register a user, or update its description or
/// login. Signed by the key being registered; a name taken by another key
/// is a 409.
pub async fn push(State(hub): State<Shared>, Path(user): Path<String>, call: Call) -> Response {
    reply(push_user(&hub, user, &call).await)
}

async fn push_user(hub: &Shared, name: String, call: &Call) -> Answer {
    check_name("user", "user", &name)?;
    let body: UserPush = call.json("user")?;
    let user = body.user;
    if user.name != name {
        return Err(ApiError::new(
            409,
            "user/names_do_not_match",
            format!("the descriptor is user \"{}\", pushed as \"{name}\"", user.name),
        )
        .named(name));
    }
    if user.has_private_key() {
        return Err(ApiError::new(
            422,
            "user/private_key_in_clear",
            "the hub never stores a private key in clear: push the public descriptor, with the key protected by a password (login) if wanted",
        )
        .named(name));
    }
    user.verify().map_err(|e| ApiError::new(422, "user/invalid_signature", e.to_string()).named(&name))?;
    if let Some(login) = &body.login {
        login.check().map_err(|e| ApiError::new(422, "user/invalid_login", format!("the protected key: {e}")))?;
    }
    // The pusher proves it holds the key it pushes; under a name registered
    // with another key, that is a conflict (409), not a forgery.
    let key = user.public_key;
    let signed = super::auth::verify(call, api::unix_now(), &hub.replays, |signer| {
        if signer == name { Ok(Some(key)) } else { hub.user_key(signer) }
    })?;
    if signed.user != name {
        return Err(ApiError::forbidden(format!(
            "user \"{}\" may not push user \"{name}\": a user is pushed by itself, signed with its own key",
            signed.user
        )));
    }
    let existing = hub.store.read(|txn| load(&txn.open_table(USERS)?, &name))?;
    if existing.as_ref().is_some_and(|r| r.user.public_key != user.public_key) {
        return Err(conflict(&name));
    }
    let login = body.login;
    hub.write(
        Some(&signed),
        Box::new(move |txn| {
            let mut users = txn.open_table(USERS)?;
            let old = load(&users, &name)?;
            let record =
                UserRecord { login: login.or_else(|| old.as_ref().and_then(|o| o.login.clone())), user: user.clone() };
            let outcome = match &old {
                Some(old) if old.user.public_key != user.public_key => return Err(conflict(&name)),
                Some(old) if serde_json::to_value(old).ok() == serde_json::to_value(&record).ok() => Outcome::Unchanged,
                Some(_) => Outcome::Updated,
                None => Outcome::Created,
            };
            if outcome != Outcome::Unchanged {
                store::put(&mut users, &name, &record)?;
                let hash = store::key(&[&user.public_key.short_hash(), &name]);
                txn.open_table(USER_HASHES)?.insert(hash.as_str(), &[][..])?;
            }
            Ok(pushed(outcome))
        }),
    )
    .await
}

fn conflict(name: &str) -> ApiError {
    ApiError::new(409, "user/conflict", format!("user \"{name}\" already exists on this hub with another key"))
        .named(name)
}

/// `DELETE /users/<name>[?purge=true]`: by the user or an administrator.
/// A user who still owns networks, volumes, key-value stores or drives
/// here is removed only with `purge`, which removes them too (so that
/// whoever registers the name next cannot act as their owner). Its
/// invitations to others' drives go in any case.
pub async fn pull(State(hub): State<Shared>, Path(user): Path<String>, call: Call) -> Response {
    reply(
        async {
            check_name("user", "user", &user)?;
            registered(&hub, &user)?;
            let signed = as_self_or_admin(&hub, &call, &user, "delete the registration")?;
            let purge = call.purge();
            hub.write(Some(&signed), Box::new(move |txn| delete_user(txn, &user, purge))).await
        }
        .await,
    )
}

fn delete_user(txn: &WriteTransaction, name: &str, purge: bool) -> Answer {
    let Some(record) = load(&txn.open_table(USERS)?, name)? else {
        return Err(ApiError::not_found("user", name));
    };
    let mine = format!("{name}/");
    let networks = store::scan_keys(&txn.open_table(NETWORKS)?, &mine)?;
    let volumes = store::scan_keys(&txn.open_table(VOLUMES)?, &mine)?;
    let kvs = store::scan_keys(&txn.open_table(KVS)?, &mine)?;
    let drives = super::drives::owned(txn, name)?;
    let owns_nothing = networks.is_empty() && volumes.is_empty() && kvs.is_empty() && drives.is_empty();
    if !purge && !owns_nothing {
        let owned: Vec<String> = networks
            .iter()
            .map(|n| format!("network {n}"))
            .chain(volumes.iter().map(|v| format!("volume {v}")))
            .chain(kvs.iter().map(|k| format!("key-value store {k}")))
            .chain(drives.iter().map(|d| format!("drive {d}")))
            .collect();
        return Err(ApiError::new(
            409,
            "user/not_empty",
            format!(
                "user \"{name}\" still owns {} on this hub: pull them first, or pull the user with purge",
                owned.join(", ")
            ),
        )
        .named(name));
    }
    for drive in &drives {
        super::drives::remove(txn, drive)?;
    }
    super::drives::forget_invitee(txn, name)?;
    for network in &networks {
        super::networks::remove_network(txn, network, true)?;
    }
    for volume in &volumes {
        super::volumes::remove(txn, super::volumes::VOLUME, volume)?;
    }
    for store_name in &kvs {
        super::volumes::remove(txn, super::volumes::KEY_VALUE_STORE, store_name)?;
    }
    if purge {
        let held = store::scan_keys(&txn.open_table(HOLDERS)?, &format!("{name}\n"))?;
        for index in held {
            if let Some((_, network)) = index.split_once('\n') {
                txn.open_table(PASSPORTS)?.remove(store::key(&[network, name]).as_str())?;
            }
            txn.open_table(HOLDERS)?.remove(index.as_str())?;
        }
        for table in [store::ENDPOINTS, store::STATS] {
            let mut table = txn.open_table(table)?;
            let published: Vec<String> =
                store::scan_keys(&table, "")?.into_iter().filter(|k| k.split('\n').nth(1) == Some(name)).collect();
            for key in published {
                table.remove(key.as_str())?;
            }
        }
    }
    txn.open_table(store::PAIRINGS)?.remove(name)?;
    txn.open_table(USERS)?.remove(name)?;
    txn.open_table(USER_HASHES)?.remove(store::key(&[&record.user.public_key.short_hash(), name]).as_str())?;
    Ok(done())
}

/// `GET /users/<name>/login`: what a login's proof needs.
pub async fn login_params(State(hub): State<Shared>, Path(user): Path<String>) -> Response {
    reply((|| {
        check_name("user", "user", &user)?;
        let record = registered(&hub, &user)?;
        let login = protected(&record)?;
        Ok((StatusCode::OK, serde_json::to_value(login.params()).unwrap_or_default()))
    })())
}

fn protected(record: &UserRecord) -> Result<&Protected, ApiError> {
    record.login.as_ref().ok_or_else(|| {
        ApiError::new(
            404,
            "user/no_login",
            format!(
                "user \"{}\" does not keep its key on this hub: it logs in nowhere but its own devices (or signs up with --full)",
                record.user.name
            ),
        )
        .named(&record.user.name)
    })
}

/// `POST /users/<name>/login`: the user and its wrapped key, for a proof
/// of the password.
pub async fn login(State(hub): State<Shared>, Path(user): Path<String>, call: Call) -> Response {
    reply((|| {
        check_name("user", "user", &user)?;
        let request: LoginRequest = call.json("login")?;
        let record = registered(&hub, &user)?;
        let login = protected(&record)?;
        let now = api::unix_now();
        hub.logins.check(&user, now)?;
        let proof = unb64_array::<32>("proof", &request.proof).map_err(|e| ApiError::bad_body("login", e))?;
        if !login.accepts(&proof) {
            hub.logins.failed(&user, now);
            return Err(
                ApiError::new(403, "user/invalid_password", format!("wrong password for user \"{user}\"")).named(&user)
            );
        }
        let identity = Identity { user: record.user.clone(), wrapped_key: login.wrapped_key.clone() };
        Ok((StatusCode::OK, serde_json::to_value(identity).unwrap_or_default()))
    })())
}

/// The qualified names of the networks `user` (key `key`) owns or holds a
/// passport for on the hub.
pub fn networks_of(txn: &redb::ReadTransaction, user: &str) -> Result<Vec<String>, ApiError> {
    let mut names = store::scan_keys(&txn.open_table(NETWORKS)?, &format!("{user}/"))?;
    for index in store::scan_keys(&txn.open_table(HOLDERS)?, &format!("{user}\n"))? {
        if let Some((_, network)) = index.split_once('\n')
            && !names.iter().any(|n| n == network)
        {
            names.push(network.to_string());
        }
    }
    names.sort();
    Ok(names)
}

/// `GET /users/<name>/networks` (signed by the user).
pub async fn networks(State(hub): State<Shared>, Path(user): Path<String>, call: Call) -> Response {
    listing(&hub, &user, &call, "networks", |txn, user| {
        let table = txn.open_table(NETWORKS)?;
        let mut out = Vec::new();
        for name in networks_of(txn, user)? {
            if let Some(network) = store::get::<Network>(&table, &name)? {
                out.push(serde_json::to_value(network).unwrap_or_default());
            }
        }
        Ok(out)
    })
}

/// `GET /users/<name>/passports` (signed by the user): the passports it holds.
pub async fn passports(State(hub): State<Shared>, Path(user): Path<String>, call: Call) -> Response {
    listing(&hub, &user, &call, "passports", |txn, user| {
        let table = txn.open_table(PASSPORTS)?;
        let mut out = Vec::new();
        for index in store::scan_keys(&txn.open_table(HOLDERS)?, &format!("{user}\n"))? {
            if let Some((_, network)) = index.split_once('\n')
                && let Some(passport) = store::get::<Passport>(&table, &store::key(&[network, user]))?
            {
                out.push(serde_json::to_value(passport).unwrap_or_default());
            }
        }
        Ok(out)
    })
}

/// `GET /users/<name>/volumes` (signed by the user): its own volumes and
/// those of the networks it belongs to.
pub async fn volumes(State(hub): State<Shared>, Path(user): Path<String>, call: Call) -> Response {
    listing(&hub, &user, &call, "volumes", |txn, user| reachable::<Volume>(txn, user, super::volumes::VOLUME))
}

/// `GET /users/<name>/kvs` (signed by the user), as for volumes.
pub async fn kvs(State(hub): State<Shared>, Path(user): Path<String>, call: Call) -> Response {
    listing(&hub, &user, &call, "kvs", |txn, user| {
        reachable::<serde_json::Value>(txn, user, super::volumes::KEY_VALUE_STORE)
    })
}

/// `GET /users/<name>/drives` (signed by the user): the drives it owns
/// or is invited to.
pub async fn drives(State(hub): State<Shared>, Path(user): Path<String>, call: Call) -> Response {
    listing(&hub, &user, &call, "drives", super::drives::of_user)
}

fn reachable<T: Serialize + serde::de::DeserializeOwned>(
    txn: &redb::ReadTransaction,
    user: &str,
    kind: super::volumes::Kind,
) -> Result<Vec<serde_json::Value>, ApiError> {
    let table = txn.open_table(kind.table)?;
    let mut names = store::scan_keys(&table, &format!("{user}/"))?;
    let index = txn.open_table(kind.index)?;
    for network in networks_of(txn, user)? {
        for key in store::scan_keys(&index, &format!("{network}\n"))? {
            if let Some((_, name)) = key.split_once('\n')
                && !names.iter().any(|n| n == name)
            {
                names.push(name.to_string());
            }
        }
    }
    names.sort();
    let mut out = Vec::new();
    for name in names {
        if let Some(value) = store::get::<T>(&table, &name)? {
            out.push(serde_json::to_value(value).unwrap_or_default());
        }
    }
    Ok(out)
}

fn listing(
    hub: &Shared,
    user: &str,
    call: &Call,
    what: &str,
    list: impl FnOnce(&redb::ReadTransaction, &str) -> Result<Vec<serde_json::Value>, ApiError>,
) -> Response {
    reply((|| {
        check_name("user", "user", user)?;
        registered(hub, user)?;
        as_self_or_admin(hub, call, user, &format!("list the {what}"))?;
        let items = hub.store.read(|txn| list(txn, user))?;
        Ok((StatusCode::OK, json!({ what: items })))
    })())
}
