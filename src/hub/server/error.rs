//! The hub's answers when it refuses: an HTTP status and the JSON body
//! `{"error": "<kind>/<reason>", "reason": "...", "name"?: "..."}`, and the
//! layer that turns the few answers made outside our handlers (unknown
//! method, undecodable path) into the same shape.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::hub::api::ErrorBody;

/// A refusal.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// `kind/reason`, e.g. `network/not_found`.
    pub code: String,
    /// For people.
    pub reason: String,
    /// The object concerned.
    pub name: Option<String>,
}

impl ApiError {
    /// A refusal with `status` (a valid HTTP status), `code` and `reason`.
    pub fn new(status: u16, code: impl Into<String>, reason: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            code: code.into(),
            reason: reason.into(),
            name: None,
        }
    }

    /// The same, naming the object concerned.
    pub fn named(mut self, name: impl Into<String>) -> ApiError {
        self.name = Some(name.into());
        self
    }

    /// 404: `kind` `name` is not on this hub.
    pub fn not_found(kind: &str, name: &str) -> ApiError {
        ApiError::new(404, format!("{kind}/not_found"), format!("{kind} \"{name}\" does not exist on this hub"))
            .named(name)
    }

    /// 400: the body is not the JSON this route takes.
    pub fn bad_body(kind: &str, e: impl std::fmt::Display) -> ApiError {
        ApiError::new(400, format!("{kind}/invalid_body"), format!("the body is not a valid {kind}: {e}"))
    }

    /// 422: a name breaks the name rules.
    pub fn invalid_name(kind: &str, e: impl std::fmt::Display) -> ApiError {
        ApiError::new(422, format!("{kind}/invalid_format/name"), e.to_string())
    }

    /// 403: the authenticated user may not do this.
    pub fn forbidden(reason: impl Into<String>) -> ApiError {
        ApiError::new(403, "user/forbidden", reason)
    }

    /// 500: the database failed.
    pub fn storage(e: impl std::fmt::Display) -> ApiError {
        tracing::error!("hub database: {e}");
        ApiError::new(500, "hub/storage", format!("the hub's database failed: {e}"))
    }
}

macro_rules! storage_errors {
    ($($t:ty),*) => {$(
        impl From<$t> for ApiError {
            fn from(e: $t) -> ApiError {
                ApiError::storage(e)
            }
        }
    )*};
}
storage_errors!(
    redb::Error,
    redb::StorageError,
    redb::TableError,
    redb::TransactionError,
    redb::CommitError,
    redb::DatabaseError
);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody { error: self.code, reason: self.reason, name: self.name };
        json_response(self.status, &body)
    }
}

/// A JSON answer.
pub fn json_response<T: serde::Serialize>(status: StatusCode, value: &T) -> Response {
    let bytes = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// Make every error answer JSON: answers from axum itself (405, a path
/// that does not decode, a body over the limit) come as plain text.
pub async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let text = match axum::body::to_bytes(response.into_body(), 4096).await {
        Ok(bytes) if !bytes.is_empty() => String::from_utf8_lossy(&bytes).trim().to_string(),
        _ => status.canonical_reason().unwrap_or("error").to_string(),
    };
    let code = match status {
        StatusCode::METHOD_NOT_ALLOWED => "request/method_not_allowed".to_string(),
        StatusCode::PAYLOAD_TOO_LARGE => "request/too_large".to_string(),
        StatusCode::NOT_FOUND => "route/not_found".to_string(),
        StatusCode::BAD_REQUEST => "request/invalid".to_string(),
        other => format!("http/{}", other.as_u16()),
    };
    ApiError { status, code, reason: text, name: None }.into_response()
}
