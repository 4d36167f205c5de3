//! What the hub's client and server agree on: the routes, how a request is
//! signed, the bodies exchanged and the limits both sides enforce.
//!
//! A request that changes something (and a GET of private listings) is
//! signed by the acting user's Ed25519 key over
//! `METHOD;path;base64(sha256(body));time` where `path` is the request path
//! without its leading `/` (with `?query` when there is one: unlike the
//! original hub, the query is signed too, so `?purge` cannot be added to a
//! signed DELETE) and `time` is the `infinit-time` header verbatim: Unix
//! seconds, with up to nine decimals so that two identical requests in the
//! same second still differ (the hub refuses a signature it has seen).

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use super::password::Protected;
use crate::crypto::b64;
use crate::crypto::wrap::WrappedKey;
use crate::descriptors::User;

/// Header naming the user who signed the request.
pub const USER_HEADER: &str = "infinit-user";
/// Header holding the time the request was signed at (Unix seconds).
pub const TIME_HEADER: &str = "infinit-time";
/// Header holding the base64 Ed25519 signature.
pub const SIGNATURE_HEADER: &str = "infinit-signature";
/// Header proving knowledge of a pairing passphrase (base64).
pub const PAIRING_PROOF_HEADER: &str = "infinit-pairing-proof";

/// How far a signed request's time may be from the hub's clock, in seconds.
pub const MAX_CLOCK_SKEW: u64 = 300;
/// The largest request body the hub reads.
pub const MAX_BODY: usize = 1 << 20;
/// The most endpoints one node may publish.
pub const MAX_ENDPOINTS_PER_NODE: usize = 32;
/// The most nodes one user may publish endpoints for on one network.
pub const MAX_NODES_PER_USER: usize = 64;
/// How long published endpoints are shown without being published again:
/// a node refreshes its own well within this (see
/// [`super::client::publish_endpoints`]).
pub const ENDPOINT_TTL: u64 = 3600;
/// How long a device pairing waits for its receiver by default, in seconds.
pub const PAIRING_LIFESPAN: u64 = 300;
/// The longest a device pairing may wait, in seconds.
pub const MAX_PAIRING_LIFESPAN: u64 = 1800;

/// The bytes a request's signature covers.
pub fn string_to_sign(method: &str, path_and_query: &str, body: &[u8], time: &str) -> Vec<u8> {
    let path = path_and_query.strip_prefix('/').unwrap_or(path_and_query);
    let digest = sha2::Sha256::digest(body);
    format!("{method};{path};{};{time}", b64(&digest)).into_bytes()
}

/// Now as an `infinit-time` value: seconds and nanoseconds.
pub fn time_now() -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    format!("{}.{:09}", now.as_secs(), now.subsec_nanos())
}

/// Parse an `infinit-time` value into whole seconds (the fraction, up to
/// nine digits, is only there to make signatures unique).
pub fn parse_time(text: &str) -> Option<u64> {
    let (secs, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if secs.is_empty() || secs.len() > 12 || !digits(secs) || fraction.len() > 9 || !digits(fraction) {
        return None;
    }
    if text.contains('.') && fraction.is_empty() {
        return None;
    }
    secs.parse().ok()
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Every error the hub answers: a `kind/reason` code, a sentence, and the
/// object concerned when there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Machine code, e.g. `network/not_found`.
    pub error: String,
    /// For people.
    pub reason: String,
    /// The object the error is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// What a push did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Nothing was there under that name (HTTP 201).
    Created,
    /// The owner replaced an older version (HTTP 200).
    Updated,
    /// The very same object was already there (HTTP 200).
    Unchanged,
}

/// The answer to a push.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Pushed {
    /// What the push did.
    pub outcome: Outcome,
}

/// The body of `PUT /users/<name>`: the user's public descriptor and, for
/// a user who logs in through the hub, its private key protected by the
/// hub password (never the key in clear: the hub refuses a descriptor
/// carrying a private key).
#[derive(Clone, Serialize, Deserialize)]
pub struct UserPush {
    /// The public descriptor (self-signed).
    pub user: User,
    /// The password-protected private key, for `user login`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login: Option<Protected>,
}

/// The body of `POST /users/<name>/login`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginRequest {
    /// Base64 proof derived from the password ([`super::password::proof`]).
    pub proof: String,
}

/// What a successful login or device receive returns: the user and its
/// private key, still wrapped under the password or passphrase.
#[derive(Clone, Serialize, Deserialize)]
pub struct Identity {
    /// The public descriptor.
    pub user: User,
    /// The private key, to unwrap locally.
    pub wrapped_key: WrappedKey,
}

/// The body of `PUT /users/<name>/pairing`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PairingUpload {
    /// The private key under the pairing passphrase.
    pub secret: Protected,
    /// Seconds the pairing waits for its receiver.
    #[serde(default = "default_lifespan")]
    pub lifespan: u64,
}

fn default_lifespan() -> u64 {
    PAIRING_LIFESPAN
}

/// The body of `PUT /networks/<o>/<n>/endpoints/<user>/<node>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointsBody {
    /// `host:port` strings other nodes may dial.
    pub endpoints: Vec<String>,
}

/// One node's endpoints as `GET /networks/<o>/<n>/endpoints` shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedEndpoints {
    /// `host:port` strings.
    pub endpoints: Vec<String>,
    /// When they were last published (Unix seconds).
    pub updated: u64,
}

/// A node's storage statistics (`PUT .../stat/<user>/<node>`), and their
/// sum over a network (`GET .../stat`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stat {
    /// Bytes stored.
    pub usage: u64,
    /// Bytes offered; `None` for no limit (counted as 0 in sums).
    #[serde(default)]
    pub capacity: Option<u64>,
}

/// Check one published endpoint: `host:port`, a port above 0, a host of at
/// most 253 printable characters (an IPv6 address in brackets).
pub fn check_endpoint(endpoint: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("endpoint \"{endpoint}\": {why} (expected HOST:PORT)"));
    let Some((host, port)) = endpoint.rsplit_once(':') else { return bad("no port") };
    if !port.parse::<u16>().is_ok_and(|p| p > 0) {
        return bad("invalid port");
    }
    if host.is_empty() || host.len() > 253 {
        return bad("invalid host");
    }
    if !host.bytes().all(|b| b.is_ascii_graphic()) || host.contains('/') || host.contains('@') {
        return bad("invalid character in the host");
    }
    if host.contains(':') && !(host.starts_with('[') && host.ends_with(']')) {
        return bad("an IPv6 address goes in brackets");
    }
    Ok(())
}

/// Check a node id as it appears in routes: 64 lowercase hex digits.
pub fn check_node_id(id: &str) -> Result<(), String> {
    if id.len() == 64 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        Ok(())
    } else {
        Err(format!("node id \"{id}\" is not 64 lowercase hexadecimal digits"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_values_parse_with_or_without_a_fraction() {
        assert_eq!(parse_time("1733000000"), Some(1_733_000_000));
        assert_eq!(parse_time("1733000000.123456789"), Some(1_733_000_000));
        for bad in ["", "1.", ".5", "1.1234567890", "-1", "1e9", "12a", " 1", "1.2.3", "9999999999999"] {
            assert_eq!(parse_time(bad), None, "{bad:?}");
        }
        assert!(parse_time(&time_now()).is_some());
    }

    #[test]
    fn the_signed_string_has_its_four_fields() {
        let s = String::from_utf8(string_to_sign("PUT", "/networks/a/b", b"", "12")).unwrap();
        assert_eq!(s, "PUT;networks/a/b;47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;12");
    }

    #[test]
    fn endpoints_are_host_and_port() {
        for good in ["127.0.0.1:4000", "node.example:1", "[::1]:9"] {
            check_endpoint(good).unwrap();
        }
        for bad in ["127.0.0.1", "h:0", ":80", "::1:9", "a b:1", "h:99999", "u@h:1"] {
            assert!(check_endpoint(bad).is_err(), "{bad}");
        }
    }
}
