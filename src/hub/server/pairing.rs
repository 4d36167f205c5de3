//! Device pairing: a user leaves its private key on the hub, protected by a
//! passphrase (see `hub::password`), for a few minutes; another device
//! proves it knows the passphrase and takes it. The hub forgets the pairing
//! when it is received, when it expires, or after [`MAX_FAILURES`] wrong
//! passphrases (so guessing through the hub gets a handful of tries).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::auth::Call;
use super::error::ApiError;
use super::store::{self, PAIRINGS, USERS};
use super::users::{check_name, load as load_user};
use super::{Shared, done, pushed, reply};
use crate::crypto::unb64_array;
use crate::hub::api::{self, Identity, MAX_PAIRING_LIFESPAN, Outcome, PairingUpload};
use crate::hub::password::Protected;

/// Wrong passphrases after which a pairing is destroyed.
pub const MAX_FAILURES: u32 = 5;

/// A pairing waiting for its receiver.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pairing {
    /// The key under the passphrase.
    pub secret: Protected,
    /// When it is forgotten (Unix seconds).
    pub expires: u64,
    /// Wrong passphrases so far.
    #[serde(default)]
    pub failures: u32,
}

fn not_found(user: &str) -> ApiError {
    ApiError::new(
        404,
        "pairing/not_found",
        format!("no identity of user \"{user}\" waits on this hub: transmit it first (infinit device transmit --user)"),
    )
    .named(user)
}

fn gone(user: &str) -> ApiError {
    ApiError::new(
        410,
        "pairing/gone",
        format!(
            "the identity of user \"{user}\" was transmitted too long ago and is no longer available: transmit it again"
        ),
    )
    .named(user)
}

/// `PUT /users/<name>/pairing`: the user leaves its protected key.
pub async fn transmit(State(hub): State<Shared>, Path(user): Path<String>, call: Call) -> Response {
    reply(
        async {
            check_name("user", "user", &user)?;
            let upload: PairingUpload = call.json("pairing")?;
            upload.secret.check().map_err(|e| ApiError::new(422, "pairing/invalid_format/secret", e.to_string()))?;
            if !(1..=MAX_PAIRING_LIFESPAN).contains(&upload.lifespan) {
                return Err(ApiError::new(
                    422,
                    "pairing/invalid_format/lifespan",
                    format!("a pairing lasts 1 to {MAX_PAIRING_LIFESPAN} seconds, not {}", upload.lifespan),
                ));
            }
            if hub.store.read(|txn| load_user(&txn.open_table(USERS)?, &user))?.is_none() {
                return Err(ApiError::not_found("user", &user));
            }
            let signed = hub.authenticate(&call)?;
            if signed.user != user {
                return Err(ApiError::forbidden(format!(
                    "user \"{}\" may not transmit the identity of user \"{user}\"",
                    signed.user
                )));
            }
            let pairing = Pairing { secret: upload.secret, expires: api::unix_now() + upload.lifespan, failures: 0 };
            hub.write(
                Some(&signed),
                Box::new(move |txn| {
                    store::put(&mut txn.open_table(PAIRINGS)?, &user, &pairing)?;
                    Ok(pushed(Outcome::Created))
                }),
            )
            .await
        }
        .await,
    )
}

/// `GET /users/<name>/pairing/params`: what the receiver's proof needs.
pub async fn params(State(hub): State<Shared>, Path(user): Path<String>) -> Response {
    reply((|| {
        check_name("user", "user", &user)?;
        let pairing: Pairing =
            hub.store.read(|txn| store::get(&txn.open_table(PAIRINGS)?, &user))?.ok_or_else(|| not_found(&user))?;
        if pairing.expires <= api::unix_now() {
            return Err(gone(&user));
        }
        Ok((StatusCode::OK, serde_json::to_value(pairing.secret.params()).unwrap_or_default()))
    })())
}

/// `GET /users/<name>/pairing` with the proof header: the user and its
/// wrapped key, once.
pub async fn receive(State(hub): State<Shared>, Path(user): Path<String>, call: Call) -> Response {
    reply(
        async {
            check_name("user", "user", &user)?;
            let Some(proof) = call.header(api::PAIRING_PROOF_HEADER) else {
                return Err(ApiError::new(
                    400,
                    "pairing/missing_proof",
                    format!("missing {} header", api::PAIRING_PROOF_HEADER),
                ));
            };
            let proof = unb64_array::<32>("proof", proof).map_err(|e| ApiError::new(400, "pairing/invalid_proof", e.to_string()))?;
            let record = hub
                .store
                .read(|txn| load_user(&txn.open_table(USERS)?, &user))?
                .ok_or_else(|| ApiError::not_found("user", &user))?;
            let now = api::unix_now();
            hub.write(
                None,
                Box::new(move |txn| {
                    let mut pairings = txn.open_table(PAIRINGS)?;
                    let Some(mut pairing) = store::get::<Pairing>(&pairings, &user)? else {
                        return Err(not_found(&user));
                    };
                    if pairing.expires <= now {
                        pairings.remove(user.as_str())?;
                        return Err(gone(&user));
                    }
                    if pairing.secret.accepts(&proof) {
                        pairings.remove(user.as_str())?;
                        let identity = Identity { user: record.user, wrapped_key: pairing.secret.wrapped_key };
                        return Ok((StatusCode::OK, serde_json::to_value(identity).unwrap_or_default()));
                    }
                    pairing.failures += 1;
                    if pairing.failures >= MAX_FAILURES {
                        pairings.remove(user.as_str())?;
                        return Err(ApiError::new(
                            403,
                            "pairing/invalid_passphrase",
                            format!("wrong passphrase, {MAX_FAILURES} times: the identity of user \"{user}\" was destroyed; transmit it again"),
                        ));
                    }
                    store::put(&mut pairings, &user, &pairing)?;
                    Err(ApiError::new(
                        403,
                        "pairing/invalid_passphrase",
                        format!("wrong passphrase for the identity of user \"{user}\" ({} tries left)", MAX_FAILURES - pairing.failures),
                    ))
                }),
            )
            .await
        }
        .await,
    )
}

/// `DELETE /users/<name>/pairing`: the user withdraws its identity.
pub async fn cancel(State(hub): State<Shared>, Path(user): Path<String>, call: Call) -> Response {
    reply(
        async {
            check_name("user", "user", &user)?;
            let signed = hub.authenticate(&call)?;
            if signed.user != user {
                return Err(ApiError::forbidden(format!(
                    "user \"{}\" may not withdraw the identity of user \"{user}\"",
                    signed.user
                )));
            }
            hub.write(
                Some(&signed),
                Box::new(move |txn| {
                    txn.open_table(PAIRINGS)?.remove(user.as_str())?;
                    Ok(done())
                }),
            )
            .await
        }
        .await,
    )
}
