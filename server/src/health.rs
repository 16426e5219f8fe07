//! `GET /health`: a small JSON body the client checks field by field, so a captive portal's
//! `200 text/html` never passes for a reachable server.

use axum::{extract::State, routing::get, Json, Router};
use serde::Serialize;

use crate::state::AppState;

/// The body's `service` value; the app compares it before trusting the server is reachable.
pub const SERVICE: &str = "care-offline";

#[derive(Debug, Serialize)]
pub struct Health {
    pub service: &'static str,
    pub status: &'static str,
    pub version: &'static str,
    /// `builtin` or `proxy`.
    pub backend: &'static str,
    /// Days a write's `Idempotency-Key` is remembered: a device never resends on its own
    /// a write it may have sent longer ago than this.
    pub idempotency_retention_days: i64,
}

pub fn router() -> Router<AppState> {
    Router::new().route("/health", get(health))
}

async fn health(State(state): State<AppState>) -> Json<Health> {
    Json(Health {
        service: SERVICE,
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        backend: if state.care.is_some() {
            "builtin"
        } else {
            "proxy"
        },
        idempotency_retention_days: crate::retention::days(),
    })
}
