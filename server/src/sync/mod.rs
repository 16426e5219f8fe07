//! What the server adds for offline sync, in front of whichever backend serves (the built-in
//! CARE or the proxy to a real one): exactly-once writes through the proxy (`idempotency`),
//! and the sync API under `/api/v1/sync/`:
//!
//! | route | module |
//! |---|---|
//! | `POST /sync/push` | [`push`] — a batch of queued writes, in order, each once |
//! | `GET /sync/pull?since&facility` | [`pull`] — what changed since a checkpoint |
//! | `POST /sync/queue`, `GET /sync/pending`, `POST /sync/process/{id}`, `PATCH /sync/resolve/{id}`, `POST /sync/retry`, `GET /sync/stats`, `GET /sync/review` | [`queue`] — seed 004's server-side queue |
//! | `GET /sync/health` | [`health`] — per user and device, for administrators |
//!
//! Every write goes through the same `/api/v1` router devices use ([`backend`]), with the
//! caller's token and the item's id as `Idempotency-Key`; every operation is written to the
//! [`audit`] trail.

pub mod apply;
pub mod at_rest;
pub mod audit;
pub mod authz;
pub mod backend;
pub mod error;
pub mod health;
pub mod idempotency;
pub mod pull;
pub mod push;
pub mod queue;
pub mod scope;
pub mod store;

use std::path::Path;

use axum::{
    http::{HeaderMap, Method},
    response::{IntoResponse, Response},
    routing::{get, patch, post},
    Router,
};

use authz::{Caller, Identities};
use care_mimic::Care;
use error::SyncError;

/// The sync API's state.
#[derive(Clone)]
pub struct SyncApi {
    pub backend: backend::Backend,
    pub audit: audit::Audit,
    pub queue: queue::store::QueueStore,
    identities: Identities,
    /// The built-in backend when it serves (pull reads its tables directly).
    pub care: Option<Care>,
}

impl SyncApi {
    /// Opens the sync API's state: on `pg` when given (shared by every replica), else in
    /// `sync.sqlite3` in `data_dir`. Prunes the audit trail and settled queue items once.
    pub async fn open(
        data_dir: &Path,
        pg: Option<crate::pg::Pg>,
        api: Router,
        care: Option<Care>,
        retention_days: u32,
    ) -> Result<Self, store::StoreError> {
        let (audit, queue) = match pg {
            Some(pg) => (
                audit::Audit::postgres(pg.clone(), retention_days).await?,
                queue::store::QueueStore::postgres(pg, retention_days),
            ),
            None => {
                let db = store::SyncDb::open(&data_dir.join("sync.sqlite3"))?;
                (
                    audit::Audit::sqlite(db.clone(), retention_days).await?,
                    queue::store::QueueStore::sqlite(db, retention_days),
                )
            }
        };
        queue.prune(store::now_ms()).await?;
        Ok(Self {
            backend: backend::Backend::new(api),
            audit,
            queue,
            identities: Identities::default(),
            care,
        })
    }

    pub async fn caller(&self, headers: &HeaderMap) -> Result<Caller, SyncError> {
        self.identities.caller(&self.backend, headers).await
    }
}

pub fn router() -> Router<SyncApi> {
    Router::new()
        .route("/push", post(push::push))
        .route("/pull", get(pull::pull))
        .route("/queue", post(queue::enqueue))
        .route("/pending", get(queue::pending))
        .route("/process/{id}", post(queue::process))
        .route("/resolve/{id}", patch(queue::resolve))
        .route("/retry", post(queue::retry))
        .route("/stats", get(queue::stats))
        .route("/review", get(queue::review))
        .route("/health", get(health::health))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

async fn not_found() -> Response {
    SyncError::NotFound("No such sync route.".into()).into_response()
}

async fn method_not_allowed(method: Method) -> Response {
    (
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        axum::Json(serde_json::json!({
            "detail": format!("Method \"{method}\" not allowed."),
            "code": "method_not_allowed",
            "source": "care-offline-sync",
        })),
    )
        .into_response()
}

/// Parses a query string into `T`, with a JSON 400 for anything malformed.
pub fn query<T: serde::de::DeserializeOwned>(uri: &axum::http::Uri) -> Result<T, SyncError> {
    axum::extract::Query::<T>::try_from_uri(uri)
        .map(|q| q.0)
        .map_err(|e| SyncError::bad("invalid_query", e.body_text()))
}
