//! The backend the sync API writes through: the same `/api/v1` router that serves devices
//! directly (the built-in CARE or the proxy to a real one), called in-process. Every request
//! carries the caller's `Authorization`, and writes their `Idempotency-Key`, so each store
//! and permission check applies exactly as for a single request.

use axum::{
    body::Body,
    http::{header, HeaderValue, Method, Request, StatusCode},
    Router,
};
use serde_json::Value;
use tower::ServiceExt;

use care_mimic::idempotency::REPLAYED;

use crate::proxy::PROXY_ERROR_HEADER;

/// Largest backend answer read back.
const MAX_BODY: usize = 16 * 1024 * 1024;

#[derive(Clone)]
pub struct Backend {
    /// `/api/v1/*` of the serving backend (without the sync routes).
    api: Router,
}

/// A backend answer, body parsed (`Null` when empty or not JSON).
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    /// Answered from an idempotency store (the write had been applied before).
    pub replayed: bool,
    /// Made up by the proxy (CARE unreachable, timed out): CARE did not answer.
    pub unreachable: bool,
}

impl Reply {
    pub fn ok(&self) -> bool {
        self.status.is_success()
    }

    /// CARE's answer to an expired or invalid session (403 `token_not_valid`, or a 401).
    pub fn auth_expired(&self) -> bool {
        self.status == StatusCode::UNAUTHORIZED
            || (self.status == StatusCode::FORBIDDEN
                && (self.body["code"] == "token_not_valid"
                    || self.body["detail"] == "Authentication credentials were not provided."))
    }

    /// Worth sending again later: CARE unreachable, a 5xx, 429, or an expired session.
    pub fn retryable(&self) -> bool {
        self.unreachable
            || self.status.is_server_error()
            || self.status == StatusCode::TOO_MANY_REQUESTS
            || self.auth_expired()
    }
}

impl Backend {
    pub fn new(api: Router) -> Self {
        Self {
            api: Router::new().nest("/api/v1", api),
        }
    }

    /// Sends one request. `path` is below `/api/v1` (with or without that prefix).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        auth: &HeaderValue,
        idempotency_key: Option<&str>,
        body: Option<&Value>,
    ) -> Reply {
        let uri = format!("/api/v1{}", strip_api_prefix(path));
        let mut builder = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, auth.clone());
        if let Some(key) = idempotency_key {
            builder = builder.header(care_mimic::idempotency::HEADER, key);
        }
        let body = match body {
            Some(v) => {
                builder = builder.header(header::CONTENT_TYPE, "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        let req = match builder.body(body) {
            Ok(r) => r,
            Err(_) => {
                return Reply {
                    status: StatusCode::BAD_REQUEST,
                    body: serde_json::json!({"detail": "invalid route"}),
                    replayed: false,
                    unreachable: false,
                }
            }
        };
        let resp = match self.api.clone().oneshot(req).await {
            Ok(r) => r,
            Err(never) => match never {},
        };
        let status = resp.status();
        let replayed = resp.headers().contains_key(REPLAYED);
        let unreachable = resp.headers().contains_key(PROXY_ERROR_HEADER);
        let body = match axum::body::to_bytes(resp.into_body(), MAX_BODY).await {
            Ok(bytes) if !bytes.is_empty() => serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            Ok(_) => Value::Null,
            Err(e) => {
                tracing::warn!("reading a backend answer failed: {e}");
                return Reply {
                    status: StatusCode::BAD_GATEWAY,
                    body: serde_json::json!({"detail": "The backend's answer could not be read."}),
                    replayed: false,
                    unreachable: true,
                };
            }
        };
        Reply {
            status,
            body,
            replayed,
            unreachable,
        }
    }
}

/// `/api/v1/patient/` → `/patient/`; `/patient/` stays.
pub fn strip_api_prefix(path: &str) -> &str {
    path.strip_prefix("/api/v1").unwrap_or(path)
}
