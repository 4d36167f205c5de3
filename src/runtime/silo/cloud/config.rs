//! Where a cloud silo's bucket is and how to reach it: the S3 and GCS
//! settings, their validation, the `object_store` client built from them, and
//! the translation of that client's errors into one actionable line. Secrets
//! never appear in `Debug` output or in messages.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use object_store::aws::{AmazonS3Builder, S3ConditionalPut};
use object_store::client::{HttpError, HttpErrorKind};
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::path::Path;
use object_store::{BackoffConfig, ClientOptions, ObjectStore, RetryConfig};

/// Time allowed to open a TCP (and TLS) connection to the endpoint.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Time allowed for one whole request, body included (blocks are a few MiB).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Retries of a failed idempotent request; few, so a dead endpoint is
/// reported in seconds rather than the client's default three minutes.
const MAX_RETRIES: usize = 3;
/// Upper bound on the time spent retrying one request.
const RETRY_TIMEOUT: Duration = Duration::from_secs(20);

/// How to reach the bucket of a cloud silo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CloudConfig {
    /// An S3-compatible service (AWS, MinIO, Garage, Ceph, moto, ...).
    S3(S3Config),
    /// Google Cloud Storage.
    Gcs(GcsConfig),
}

/// Settings of an S3-compatible bucket.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Config {
    /// Endpoint URL such as `http://127.0.0.1:9000`; `None` means AWS itself
    /// (`https://s3.<region>.amazonaws.com`).
    pub endpoint: Option<String>,
    /// Region the requests are signed for (`us-east-1` for most non-AWS servers).
    pub region: String,
    /// Bucket name; the bucket must already exist.
    pub bucket: String,
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
    /// Folder (key prefix) inside the bucket, without leading or trailing `/`; may be empty.
    pub folder: String,
    /// Accept a plain `http://` endpoint (credentials are still never sent, only signatures).
    pub allow_http: bool,
    /// Address the bucket as `<endpoint>/<bucket>/<key>` rather than
    /// `<bucket>.<endpoint>/<key>` (needed by most self-hosted servers).
    pub path_style: bool,
    /// Use `If-None-Match: *` conditional puts so an insert never overwrites
    /// an object; turn off for servers that ignore or reject that header, at
    /// the price of a race between the existence check and the write.
    pub conditional_put: bool,
}

impl S3Config {
    /// Settings for `bucket` at `endpoint` (AWS when `None`), with path-style
    /// addressing for custom endpoints, plain HTTP allowed only for a loopback
    /// endpoint, conditional puts on and no folder.
    pub fn new(
        endpoint: Option<&str>,
        region: &str,
        bucket: &str,
        access_key_id: &str,
        secret_access_key: &str,
    ) -> Self {
        S3Config {
            endpoint: endpoint.map(str::to_owned),
            region: region.to_owned(),
            bucket: bucket.to_owned(),
            access_key_id: access_key_id.to_owned(),
            secret_access_key: secret_access_key.to_owned(),
            folder: String::new(),
            allow_http: endpoint.is_some_and(is_loopback_http),
            path_style: endpoint.is_some(),
            conditional_put: true,
        }
    }

    /// The endpoint requests go to, for messages.
    pub fn endpoint_display(&self) -> String {
        match &self.endpoint {
            Some(endpoint) => endpoint.clone(),
            None => format!("https://s3.{}.amazonaws.com", self.region),
        }
    }
}

impl Drop for S3Config {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.secret_access_key);
    }
}

impl fmt::Debug for S3Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("bucket", &self.bucket)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("folder", &self.folder)
            .field("allow_http", &self.allow_http)
            .field("path_style", &self.path_style)
            .field("conditional_put", &self.conditional_put)
            .finish()
    }
}

/// Settings of a Google Cloud Storage bucket.
#[derive(Clone, PartialEq, Eq)]
pub struct GcsConfig {
    /// Bucket name; the bucket must already exist.
    pub bucket: String,
    /// The service account key, as the JSON text Google hands out.
    pub service_account_key: String,
    /// Folder (key prefix) inside the bucket, without leading or trailing `/`; may be empty.
    pub folder: String,
}

impl GcsConfig {
    /// Settings for `bucket` with the service account key `key_json` and no folder.
    pub fn new(bucket: &str, key_json: &str) -> Self {
        GcsConfig { bucket: bucket.to_owned(), service_account_key: key_json.to_owned(), folder: String::new() }
    }
}

impl Drop for GcsConfig {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.service_account_key);
    }
}

impl fmt::Debug for GcsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GcsConfig")
            .field("bucket", &self.bucket)
            .field("service_account_key", &"<redacted>")
            .field("folder", &self.folder)
            .finish()
    }
}

impl CloudConfig {
    /// The bucket and endpoint, for messages: `bucket "b" at http://host:port`.
    pub fn location(&self) -> String {
        match self {
            CloudConfig::S3(s3) => {
                format!("bucket {:?} at {}", s3.bucket, s3.endpoint_display())
            }
            CloudConfig::Gcs(gcs) => format!("GCS bucket {:?}", gcs.bucket),
        }
    }

    /// The folder inside the bucket.
    pub fn folder(&self) -> &str {
        match self {
            CloudConfig::S3(s3) => &s3.folder,
            CloudConfig::Gcs(gcs) => &gcs.folder,
        }
    }

    /// The key prefix every block lives under, or why the folder is unusable.
    pub(super) fn prefix(&self) -> Result<Path, String> {
        let folder = self.folder().trim_matches('/');
        Path::parse(folder).map_err(|e| {
            format!(
                "folder {folder:?} is not a valid key prefix ({}): use names separated by single '/'",
                one_line(&e.to_string())
            )
        })
    }

    /// Build the client, checking what can be checked without the network.
    pub(super) fn build(&self) -> Result<Arc<dyn ObjectStore>, String> {
        // reqwest is built without a bundled TLS provider (to keep aws-lc out
        // of the build); install ring unless the process already chose one.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let retry = RetryConfig {
            backoff: BackoffConfig {
                init_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_secs(2),
                base: 2.0,
            },
            max_retries: MAX_RETRIES,
            retry_timeout: RETRY_TIMEOUT,
        };
        let options = ClientOptions::new().with_connect_timeout(CONNECT_TIMEOUT).with_timeout(REQUEST_TIMEOUT);
        match self {
            CloudConfig::S3(s3) => {
                check_bucket(&s3.bucket)?;
                if s3.region.trim().is_empty() {
                    return Err("no region given (use us-east-1 for most S3-compatible servers)".into());
                }
                if s3.access_key_id.is_empty() || s3.secret_access_key.is_empty() {
                    return Err("the access key id and the secret access key are both required".into());
                }
                let mut builder = AmazonS3Builder::new()
                    .with_region(&s3.region)
                    .with_bucket_name(&s3.bucket)
                    .with_access_key_id(&s3.access_key_id)
                    .with_secret_access_key(&s3.secret_access_key)
                    .with_virtual_hosted_style_request(!s3.path_style)
                    .with_conditional_put(if s3.conditional_put {
                        S3ConditionalPut::ETagMatch
                    } else {
                        S3ConditionalPut::Disabled
                    })
                    .with_retry(retry)
                    .with_client_options(options.with_allow_http(s3.allow_http));
                if let Some(endpoint) = &s3.endpoint {
                    check_endpoint(endpoint, s3.allow_http)?;
                    builder = builder.with_endpoint(endpoint.trim_end_matches('/'));
                }
                let store = builder.build().map_err(|e| one_line(&chain(&e)))?;
                Ok(Arc::new(store))
            }
            CloudConfig::Gcs(gcs) => {
                check_bucket(&gcs.bucket)?;
                let loopback = check_service_account_key(&gcs.service_account_key)?;
                let store = GoogleCloudStorageBuilder::new()
                    .with_bucket_name(&gcs.bucket)
                    .with_service_account_key(&gcs.service_account_key)
                    .with_retry(retry)
                    .with_client_options(options.with_allow_http(loopback))
                    .build()
                    .map_err(|e| one_line(&chain(&e)))?;
                Ok(Arc::new(store))
            }
        }
    }
}

fn check_bucket(bucket: &str) -> Result<(), String> {
    let valid = (3..=63).contains(&bucket.len())
        && bucket.bytes().all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_'));
    if valid {
        Ok(())
    } else {
        Err(format!("bucket name {bucket:?} is invalid: use 3 to 63 lowercase letters, digits, '-', '.' or '_'"))
    }
}

fn check_endpoint(endpoint: &str, allow_http: bool) -> Result<(), String> {
    if endpoint.starts_with("https://") {
        Ok(())
    } else if endpoint.starts_with("http://") {
        if allow_http {
            Ok(())
        } else {
            Err(format!(
                "endpoint {endpoint} uses plain http: allow http explicitly (sensible only on loopback or a trusted network) or use https"
            ))
        }
    } else {
        Err(format!("endpoint {endpoint:?} is not a URL: write it as https://host[:port] or http://host:port"))
    }
}

/// Check the parts of a service account key that the client needs, so a
/// wrong file is reported at open with a hint rather than at first request.
/// Returns whether the key points the client at a plain-http loopback
/// emulator (its `gcs_base_url`), the one case where http is allowed.
fn check_service_account_key(key: &str) -> Result<bool, String> {
    let value: serde_json::Value = serde_json::from_str(key)
        .map_err(|e| format!("the service account key is not JSON ({e}): pass the key file Google Cloud gave you"))?;
    for field in ["client_email", "private_key", "private_key_id"] {
        if value.get(field).and_then(|v| v.as_str()).is_none() {
            return Err(format!(
                "the service account key has no {field:?}: pass a service account key file (type \"service_account\")"
            ));
        }
    }
    let base_url = value.get("gcs_base_url").and_then(|v| v.as_str());
    Ok(base_url.is_some_and(is_loopback_http))
}

/// Whether `endpoint` is a plain-http URL to this machine.
fn is_loopback_http(endpoint: &str) -> bool {
    let Some(rest) = endpoint.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split('/').next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// One line saying why a request failed and what to do about it.
pub(super) fn describe(error: &object_store::Error) -> String {
    let text = chain(error);
    if let Some(code) = xml_tag(&text, "Code") {
        return match code {
            "SignatureDoesNotMatch"
            | "InvalidAccessKeyId"
            | "AccessDenied"
            | "ExpiredToken"
            | "InvalidToken"
            | "AuthorizationHeaderMalformed"
            | "InvalidSecurity" => {
                format!("the credentials were refused ({code}): check the access key id and secret, and the region")
            }
            "NoSuchBucket" => "the bucket does not exist: create it first".to_owned(),
            _ => match xml_tag(&text, "Message") {
                Some(message) => one_line(&format!("the server answered {code}: {message}")),
                None => format!("the server answered {code}"),
            },
        };
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if let Some(http) = e.downcast_ref::<HttpError>() {
            match http.kind() {
                HttpErrorKind::Connect => {
                    return "cannot connect: check the endpoint URL and that the server is up".to_owned();
                }
                HttpErrorKind::Timeout => {
                    return "the request timed out: check the network and the endpoint".to_owned();
                }
                _ => {}
            }
        }
        source = e.source();
    }
    match error {
        object_store::Error::Unauthenticated { .. } | object_store::Error::PermissionDenied { .. } => {
            format!("the credentials were refused: check them ({})", one_line(&text))
        }
        _ => one_line(&text),
    }
}

/// An error and its sources, joined.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let part = e.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = e.source();
    }
    text
}

/// The text of the first `<tag>...</tag>` in `text`.
fn xml_tag<'a>(text: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let start = text.find(&open)? + open.len();
    let len = text[start..].find(&format!("</{tag}>"))?;
    Some(text[start..start + len].trim())
}

/// `text` on one line, at most 300 characters.
pub(super) fn one_line(text: &str) -> String {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if joined.chars().count() <= 300 {
        joined
    } else {
        let cut: String = joined.chars().take(299).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s3() -> S3Config {
        S3Config::new(Some("http://127.0.0.1:9000"), "us-east-1", "blocks", "AKID", "s3cr3t")
    }

    #[test]
    fn plain_http_is_allowed_by_default_only_on_loopback() {
        assert!(s3().allow_http && s3().path_style && s3().conditional_put);
        for endpoint in ["http://localhost:9000", "http://[::1]:9000/", "http://127.0.0.9"] {
            assert!(is_loopback_http(endpoint), "{endpoint}");
        }
        let remote = S3Config::new(Some("http://10.0.0.1:9000"), "r", "blocks", "a", "s");
        assert!(!remote.allow_http);
        let err = CloudConfig::S3(remote).build().err().unwrap();
        assert!(err.contains("plain http") && err.contains("10.0.0.1"), "{err}");
        let aws = S3Config::new(None, "eu-west-3", "blocks", "a", "s");
        assert!(!aws.allow_http && !aws.path_style);
        assert_eq!(CloudConfig::S3(aws).location(), "bucket \"blocks\" at https://s3.eu-west-3.amazonaws.com");
    }

    #[test]
    fn invalid_s3_settings_are_refused_before_any_request() {
        type Change = fn(&mut S3Config);
        let cases: [(Change, &str); 5] = [
            (|c| c.bucket = "B!".into(), "bucket name \"B!\" is invalid"),
            (|c| c.region.clear(), "no region"),
            (|c| c.secret_access_key.clear(), "both required"),
            (|c| c.endpoint = Some("127.0.0.1:9000".into()), "is not a URL"),
            (|c| c.folder = "a//b".into(), "not a valid key prefix"),
        ];
        for (change, expected) in cases {
            let mut config = s3();
            change(&mut config);
            let config = CloudConfig::S3(config);
            let err = config.prefix().and(config.build().map(|_| ())).err();
            let err = err.unwrap_or_default();
            assert!(err.contains(expected), "{err:?} lacks {expected:?}");
        }
        let config = CloudConfig::S3(s3());
        assert!(config.build().is_ok());
        assert!(config.prefix().unwrap().is_root());
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let s3 = format!("{:?}", s3());
        assert!(!s3.contains("s3cr3t") && s3.contains("AKID"), "{s3}");
        let gcs = format!("{:?}", GcsConfig::new("blocks", "{\"private_key\":\"PEM\"}"));
        assert!(!gcs.contains("PEM"), "{gcs}");
    }

    #[test]
    fn gcs_settings_are_checked_at_construction() {
        let bad_json = CloudConfig::Gcs(GcsConfig::new("blocks", "not json"));
        let err = bad_json.build().err().unwrap_or_default();
        assert!(err.contains("is not JSON"), "{err}");
        let no_key = CloudConfig::Gcs(GcsConfig::new("blocks", r#"{"client_email":"a@b"}"#));
        let err = no_key.build().err().unwrap_or_default();
        assert!(err.contains("\"private_key\""), "{err}");
        let bad_bucket = CloudConfig::Gcs(GcsConfig::new("x", "{}"));
        let err = bad_bucket.build().err().unwrap_or_default();
        assert!(err.contains("bucket name"), "{err}");
        let key = r#"{"client_email":"silo@p.iam.gserviceaccount.com","private_key":"-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n","private_key_id":"k"}"#;
        let mut config = GcsConfig::new("blocks", key);
        config.folder = "nodes/n1".into();
        let config = CloudConfig::Gcs(config);
        assert_eq!(config.location(), "GCS bucket \"blocks\"");
        assert_eq!(config.prefix().unwrap().as_ref(), "nodes/n1");
        let emulator = r#"{"gcs_base_url":"http://127.0.0.1:4443","disable_oauth":true,"client_email":"","private_key":"","private_key_id":""}"#;
        assert_eq!(check_service_account_key(emulator), Ok(true));
        assert_eq!(check_service_account_key(key), Ok(false));
        // A malformed private key is either refused now or at first request;
        // either way building must not panic.
        let _ = config.build();
    }

    #[test]
    fn server_error_codes_become_advice() {
        let text = "<Error><Code>NoSuchBucket</Code><Message>gone</Message></Error>";
        assert_eq!(xml_tag(text, "Code"), Some("NoSuchBucket"));
        assert_eq!(xml_tag(text, "Message"), Some("gone"));
        assert_eq!(one_line("a\n  b\tc"), "a b c");
        assert_eq!(one_line(&"x".repeat(400)).chars().count(), 300);
    }
}
