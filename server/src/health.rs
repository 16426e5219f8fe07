//! `GET /health`: a small JSON body the client checks field by field, so a captive portal's
//! `200 text/html` never passes for a reachable server.

use axum::{extract::State, http::StatusCode, routing::get, Json, Router};
use serde::Serialize;

use crate::{state::AppState, sync::idempotency::StoreHealth};

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
    /// Where the server keeps its own state, and whether it answers. A replica whose store
    /// does not answer says 503, so a load balancer takes it out.
    pub store: StoreHealth,
}

pub fn router() -> Router<AppState> {
    Router::new().route("/health", get(health))
}

async fn store_health(state: &AppState) -> StoreHealth {
    if let Some(proxy) = &state.proxy {
        return proxy.idempotency.health().await;
    }
    let reachable = match &state.care {
        Some(care) => care
            .db
            .with(|c| Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?))
            .await
            .is_ok(),
        None => false,
    };
    StoreHealth {
        kind: "sqlite",
        reachable,
        migration: None,
    }
}

async fn health(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let store = store_health(&state).await;
    let (code, status) = if store.reachable {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "store_unreachable")
    };
    (
        code,
        Json(Health {
            service: SERVICE,
            status,
            version: env!("CARGO_PKG_VERSION"),
            backend: if state.care.is_some() {
                "builtin"
            } else {
                "proxy"
            },
            idempotency_retention_days: crate::retention::days(),
            store,
        }),
    )
}
