//! The sync API's one error type. Every rejection is JSON
//! `{"detail", "code", "source": "care-offline-sync"}` (plus `fields` for bad items), so a
//! client tells a sync-layer refusal apart from an answer CARE itself gave.

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use serde_json::{json, Value};

use super::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// Malformed input: `code` names the problem, `fields` lists per-field messages.
    #[error("bad request: {detail}")]
    BadRequest {
        code: &'static str,
        detail: String,
        fields: Vec<(String, String)>,
    },
    #[error("too large: {0}")]
    TooLarge(String),
    /// CARE refused (bad credentials, no permission): its own status and body are passed on.
    #[error("refused by CARE: {0}")]
    Care(StatusCode, Value),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("conflict: {detail}")]
    Conflict { code: &'static str, detail: String },
    /// The backend could not be asked (CARE unreachable or answering 5xx).
    #[error("backend: {detail}")]
    Backend { status: StatusCode, detail: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SyncError {
    pub fn bad(code: &'static str, detail: impl Into<String>) -> Self {
        SyncError::BadRequest {
            code,
            detail: detail.into(),
            fields: Vec::new(),
        }
    }
}

fn body(detail: &str, code: &str) -> Value {
    json!({"detail": detail, "code": code, "source": "care-offline-sync"})
}

impl IntoResponse for SyncError {
    fn into_response(self) -> Response {
        let (status, value) = match self {
            SyncError::BadRequest {
                code,
                detail,
                fields,
            } => {
                let mut v = body(&detail, code);
                if !fields.is_empty() {
                    v["fields"] = fields
                        .into_iter()
                        .map(|(f, m)| json!({"field": f, "msg": m}))
                        .collect();
                }
                (StatusCode::BAD_REQUEST, v)
            }
            SyncError::TooLarge(detail) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                body(&detail, "payload_too_large"),
            ),
            SyncError::Care(status, v) => (status, v),
            SyncError::Forbidden(detail) => (StatusCode::FORBIDDEN, body(&detail, "forbidden")),
            SyncError::NotFound(detail) => (StatusCode::NOT_FOUND, body(&detail, "not_found")),
            SyncError::Conflict { code, detail } => (StatusCode::CONFLICT, body(&detail, code)),
            SyncError::Backend { status, detail } => (status, body(&detail, "backend_unavailable")),
            SyncError::Store(e) => {
                tracing::error!("{e}");
                // A shared store that does not answer is a passing outage: the device
                // retries later (and a load balancer may move it to another replica).
                let status = match e {
                    StoreError::Postgres(pg) if pg.is_outage() => StatusCode::SERVICE_UNAVAILABLE,
                    _ => StatusCode::INTERNAL_SERVER_ERROR,
                };
                (
                    status,
                    body("The sync store could not be used.", "sync_store"),
                )
            }
        };
        (status, Json(value)).into_response()
    }
}
