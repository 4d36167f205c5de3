//! Who sent a request: the raw request ([`Call`], its body read within
//! [`MAX_BODY`]), its signature checked against the signer's registered key
//! and the clock, and the memory of recent signatures that refuses a signed
//! request seen before. Also the limiter of wrong login passwords.
//!
//! A signature covers one request at one instant (see `hub::api`), and is
//! accepted only within [`MAX_CLOCK_SKEW`] of the hub's clock; so a
//! signature needs remembering until `its time + MAX_CLOCK_SKEW` only. The
//! memory holds 16 bytes of each signature (Ed25519 signatures are
//! deterministic and strict verification refuses altered ones, so a replay
//! is byte for byte the same), is pruned by time, and is bounded: when full
//! of unexpired signatures the hub answers 503 rather than forget one.
//! Signatures of writes are also kept in the database with the write, so a
//! restarted hub still refuses them.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, Method, header};
use bytes::Bytes;

use super::error::ApiError;
use crate::crypto::{PublicKey, Signature, unb64_array};
use crate::hub::api::{self, MAX_BODY, MAX_CLOCK_SKEW};

/// A request as the handlers see it: what its signature covers.
#[derive(Debug)]
pub struct Call {
    /// The HTTP method.
    pub method: Method,
    /// The path and query, as sent (percent-encoded).
    pub path: String,
    /// The headers.
    pub headers: HeaderMap,
    /// The body, at most [`MAX_BODY`] bytes.
    pub body: Bytes,
}

impl Call {
    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Whether the query asks to purge (`?purge=...`, any non-empty value).
    pub fn purge(&self) -> bool {
        let Some((_, query)) = self.path.split_once('?') else { return false };
        query.split('&').any(|pair| pair.strip_prefix("purge=").is_some_and(|v| !v.is_empty() && v != "false"))
    }

    /// Parse the body as JSON for `kind`.
    pub fn json<T: serde::de::DeserializeOwned>(&self, kind: &str) -> Result<T, ApiError> {
        serde_json::from_slice(&self.body).map_err(|e| ApiError::bad_body(kind, e))
    }
}

impl<S: Send + Sync> FromRequest<S> for Call {
    type Rejection = ApiError;

    async fn from_request(request: Request, _state: &S) -> Result<Call, ApiError> {
        let (parts, body) = request.into_parts();
        let too_large = || {
            ApiError::new(
                413,
                "request/too_large",
                format!("the request body is larger than the hub's limit of {MAX_BODY} bytes"),
            )
        };
        let declared = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|n| n > MAX_BODY as u64) {
            return Err(too_large());
        }
        let body = axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| too_large())?;
        let path =
            parts.uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| parts.uri.path().into());
        Ok(Call { method: parts.method, path, headers: parts.headers, body })
    }
}

/// A request whose signature verified.
#[derive(Debug, Clone)]
pub struct Signed {
    /// The signer's name (`infinit-user`).
    pub user: String,
    /// The key it verified with.
    pub key: PublicKey,
    /// The key under which the signature is remembered ([`Replays`]).
    pub memo: [u8; 24],
}

fn unauthorized(status: u16, reason: impl Into<String>) -> ApiError {
    ApiError::new(status, "user/unauthorized", reason)
}

/// Check `call`'s signature by `infinit-user`, whose key `key_of` finds
/// (`None`: unknown user), at `now`; remember it in `replays`.
pub fn verify(
    call: &Call,
    now: u64,
    replays: &Replays,
    key_of: impl FnOnce(&str) -> Result<Option<PublicKey>, ApiError>,
) -> Result<Signed, ApiError> {
    let Some(signature) = call.header(api::SIGNATURE_HEADER) else {
        return Err(unauthorized(
            401,
            format!(
                "authentication required: sign the request ({} and {} headers)",
                api::SIGNATURE_HEADER,
                api::TIME_HEADER
            ),
        ));
    };
    let Some(time) = call.header(api::TIME_HEADER) else {
        return Err(unauthorized(400, format!("missing {} header", api::TIME_HEADER)));
    };
    let Some(seconds) = api::parse_time(time) else {
        return Err(unauthorized(400, format!("{} \"{time}\" is not Unix seconds", api::TIME_HEADER)));
    };
    let skew = now.abs_diff(seconds);
    if skew > MAX_CLOCK_SKEW {
        let when = if seconds < now { format!("{skew} s ago") } else { format!("{skew} s in the future") };
        return Err(unauthorized(
            401,
            format!("the request was signed {when} (at most {MAX_CLOCK_SKEW} s apart): check the system clock"),
        ));
    }
    let Some(user) = call.header(api::USER_HEADER).filter(|u| !u.is_empty()) else {
        return Err(unauthorized(401, format!("missing {} header naming the signer", api::USER_HEADER)));
    };
    let user = user.to_string();
    let Some(key) = key_of(&user)? else {
        return Err(unauthorized(401, format!("user \"{user}\" is not registered on this hub")).named(user));
    };
    let bytes = unb64_array::<64>("signature", signature)
        .map_err(|_| unauthorized(403, "invalid authentication: the signature is not 64 bytes of base64"))?;
    let message = api::string_to_sign(call.method.as_str(), &call.path, &call.body, time);
    key.verify(&message, &Signature(bytes)).map_err(|_| {
        unauthorized(403, format!("invalid authentication: the signature is not user \"{user}\"'s over this request"))
    })?;
    let expires = seconds + MAX_CLOCK_SKEW + 1;
    let mut memo = [0u8; 24];
    memo[..8].copy_from_slice(&expires.to_be_bytes());
    memo[8..].copy_from_slice(&bytes[..16]);
    replays.admit(memo, now)?;
    Ok(Signed { user, key, memo })
}

/// The most signatures remembered at once (about 64 MiB at worst).
const MAX_REMEMBERED: usize = 1 << 20;

/// Recent signatures, to refuse a request seen before.
#[derive(Default)]
pub struct Replays {
    inner: Mutex<ReplayMemory>,
}

#[derive(Default)]
struct ReplayMemory {
    /// Signature prefix → expiry.
    seen: HashMap<[u8; 16], u64>,
    /// (expiry, signature prefix), in arrival order, for pruning.
    order: VecDeque<(u64, [u8; 16])>,
}

impl Replays {
    /// Remember `memo` (expiry || signature prefix) unless already seen.
    pub fn admit(&self, memo: [u8; 24], now: u64) -> Result<(), ApiError> {
        let (expires, prefix) = split_memo(&memo);
        let mut m = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        m.prune(now);
        if m.seen.contains_key(&prefix) {
            return Err(unauthorized(
                401,
                "this signed request was already received (a replay): sign each request anew",
            ));
        }
        if m.seen.len() >= MAX_REMEMBERED {
            return Err(ApiError::new(
                503,
                "hub/busy",
                "too many signed requests in the last minutes to remember them all: try again shortly",
            ));
        }
        m.seen.insert(prefix, expires);
        m.order.push_back((expires, prefix));
        Ok(())
    }

    /// How many signatures are remembered.
    pub fn len(&self) -> usize {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).seen.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl ReplayMemory {
    /// Forget what expired; arrival order is nearly expiry order (times
    /// within the skew of each other), so a later expiry may keep an
    /// earlier one a little longer, never shorter.
    fn prune(&mut self, now: u64) {
        while let Some(&(expires, prefix)) = self.order.front() {
            if expires > now {
                break;
            }
            self.order.pop_front();
            if self.seen.get(&prefix) == Some(&expires) {
                self.seen.remove(&prefix);
            }
        }
    }
}

fn split_memo(memo: &[u8; 24]) -> (u64, [u8; 16]) {
    let mut expires = [0u8; 8];
    expires.copy_from_slice(&memo[..8]);
    let mut prefix = [0u8; 16];
    prefix.copy_from_slice(&memo[8..]);
    (u64::from_be_bytes(expires), prefix)
}

/// Wrong passwords allowed per user within [`LOGIN_WINDOW`].
pub const LOGIN_ATTEMPTS: u32 = 10;
/// The window of [`LOGIN_ATTEMPTS`], in seconds.
pub const LOGIN_WINDOW: u64 = 600;

/// Counts wrong login passwords per user, to slow guessing through the hub.
#[derive(Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, (u64, u32)>>,
}

impl LoginLimiter {
    /// Refuse when `user` had too many wrong passwords lately.
    pub fn check(&self, user: &str, now: u64) -> Result<(), ApiError> {
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        match failures.get(user) {
            Some(&(since, count)) if now < since + LOGIN_WINDOW && count >= LOGIN_ATTEMPTS => Err(ApiError::new(
                429,
                "user/too_many_attempts",
                format!(
                    "{count} wrong passwords for user \"{user}\" in the last minutes: wait {} s",
                    since + LOGIN_WINDOW - now
                ),
            )
            .named(user)),
            _ => Ok(()),
        }
    }

    /// Count a wrong password for `user`.
    pub fn failed(&self, user: &str, now: u64) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() > 100_000 {
            failures.retain(|_, (since, _)| now < *since + LOGIN_WINDOW);
        }
        let entry = failures.entry(user.to_string()).or_insert((now, 0));
        if now >= entry.0 + LOGIN_WINDOW {
            *entry = (now, 0);
        }
        entry.1 += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memo(expires: u64, tag: u8) -> [u8; 24] {
        let mut m = [tag; 24];
        m[..8].copy_from_slice(&expires.to_be_bytes());
        m
    }

    #[test]
    fn a_signature_is_refused_until_it_expires_then_forgotten() {
        let replays = Replays::default();
        replays.admit(memo(100, 1), 10).unwrap();
        assert_eq!(replays.admit(memo(100, 1), 50).unwrap_err().status.as_u16(), 401);
        replays.admit(memo(100, 2), 50).unwrap();
        assert_eq!(replays.len(), 2);
        replays.admit(memo(200, 3), 101).unwrap();
        assert_eq!(replays.len(), 1, "expired signatures are pruned");
    }

    #[test]
    fn wrong_passwords_are_limited_per_user_and_window() {
        let limiter = LoginLimiter::default();
        for _ in 0..LOGIN_ATTEMPTS {
            limiter.check("alice", 0).unwrap();
            limiter.failed("alice", 0);
        }
        assert_eq!(limiter.check("alice", 1).unwrap_err().status.as_u16(), 429);
        limiter.check("bob", 1).unwrap();
        limiter.check("alice", LOGIN_WINDOW).unwrap();
    }
}
