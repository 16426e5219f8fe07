//! The built-in CARE-compatible backend on SQLite, used when no real CARE is configured.
//! Shapes and error bodies follow ../shared/care-api.md and the captured samples.

pub mod appointment;
pub mod auth;
pub mod batch;
pub mod booking;
pub mod clinical;
pub mod db;
pub mod encounter;
pub mod error;
pub mod facility;
pub mod facility_org;
pub mod idempotency;
pub mod identifier;
pub mod jwt;
pub mod organization;
pub mod pagination;
pub mod password;
pub mod patient;
pub mod patient_scope;
pub mod permissions;
pub mod questionnaire;
pub mod questionnaire_answers;
pub mod resource;
pub mod role;
pub mod seed;
pub mod throttle;
pub mod users;
pub mod validate;
pub mod valueset;

use std::{path::Path, sync::LazyLock};

use axum::{
    extract::{Request, State},
    http::{header, Method, StatusCode},
    response::{IntoResponse, Response},
    Json, Router,
};
use base64::Engine;
use rusqlite::params;
use tower::ServiceExt;

pub use error::CareError;

/// Handle to the built-in backend: the database and the token signer.
#[derive(Clone)]
pub struct Care {
    pub db: db::Db,
    pub jwt: jwt::Jwt,
    /// Failed sign-ins, shared by every scope of this backend.
    pub login_throttle: std::sync::Arc<throttle::LoginThrottle>,
}

#[derive(Debug, thiserror::Error)]
pub enum CareInitError {
    #[error("cannot open the database {0}: {1}")]
    Open(String, rusqlite::Error),
    #[error("cannot prepare the database: {0}")]
    Prepare(#[from] CareError),
}

impl Care {
    /// Opens (creating and seeding if new) the SQLite file. The JWT secret lives in the
    /// database, so tokens survive a restart just as the data does.
    pub fn open(path: &Path) -> Result<Self, CareInitError> {
        let db =
            db::Db::open(path).map_err(|e| CareInitError::Open(path.display().to_string(), e))?;
        let secret = db.with_blocking(|conn| {
            seed::seed_if_empty(conn)?;
            let existing: Option<String> = conn
                .query_row("SELECT value FROM meta WHERE key = 'jwt_secret'", [], |r| {
                    r.get(0)
                })
                .ok();
            match existing {
                Some(s) => Ok(s),
                None => {
                    let bytes: [u8; 32] = rand::random();
                    let s = base64::engine::general_purpose::STANDARD.encode(bytes);
                    conn.execute(
                        "INSERT INTO meta (key, value) VALUES ('jwt_secret', ?1)",
                        params![s],
                    )?;
                    Ok(s)
                }
            }
        })?;
        Ok(Self {
            db,
            jwt: jwt::Jwt::new(secret.into_bytes()),
            login_throttle: Default::default(),
        })
    }
}

/// Every endpoint of the built-in backend, without fallbacks. Built once: building the
/// route table costs more than most requests (≈1.4 ms in a debug build), and every request
/// is served on a copy of it with its own `Care` (the shared database, or a scope of it).
fn routes() -> Router<Care> {
    static ROUTES: LazyLock<Router<Care>> = LazyLock::new(|| {
        Router::new()
            .merge(auth::router())
            .merge(users::router())
            .merge(facility::router())
            .merge(organization::router())
            .merge(patient::router())
            .merge(encounter::router())
            .merge(facility_org::router())
            .merge(appointment::router())
            .merge(role::router())
            .merge(valueset::router())
            .merge(clinical::router())
            .merge(questionnaire::router())
            .merge(resource::router())
            .merge(batch::router())
    });
    ROUTES.clone()
}

/// The endpoints served on one `Care` (the shared database, or a scope of it).
pub(crate) fn app(care: Care) -> Router {
    static APP: LazyLock<Router<Care>> = LazyLock::new(|| {
        routes()
            .fallback(not_found)
            .method_not_allowed_fallback(method_not_allowed)
    });
    APP.clone().with_state(care)
}

/// The built-in backend. Every request goes through `dispatch`, which applies writes that
/// carry an `Idempotency-Key` exactly once and hands everything else to the endpoints.
pub fn router() -> Router<Care> {
    Router::new().fallback(dispatch)
}

async fn dispatch(State(care): State<Care>, req: Request) -> Response {
    if let Some(key) = idempotency::key_of(&req) {
        return idempotency::handle(care, key, req).await;
    }
    match app(care).oneshot(req).await {
        Ok(resp) => resp,
        Err(never) => match never {},
    }
}

/// DRF's 405 body for a known route and a method it does not take.
pub(crate) async fn method_not_allowed(method: Method) -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        Json(serde_json::json!({ "detail": format!("Method \"{method}\" not allowed.") })),
    )
        .into_response()
}

/// Unknown routes: a GET without the trailing slash is redirected (Django's APPEND_SLASH);
/// anything else is DRF's 404.
async fn not_found(req: Request) -> Response {
    let uri = req
        .extensions()
        .get::<axum::extract::OriginalUri>()
        .map(|u| u.0.clone())
        .unwrap_or_else(|| req.uri().clone());
    let path = uri.path();
    if req.method() == Method::GET && !path.ends_with('/') {
        let location = match uri.query() {
            Some(q) => format!("{path}/?{q}"),
            None => format!("{path}/"),
        };
        return (
            StatusCode::MOVED_PERMANENTLY,
            [(header::LOCATION, location)],
        )
            .into_response();
    }
    (
        StatusCode::NOT_FOUND,
        Json(serde_json::json!({"detail": "Not found."})),
    )
        .into_response()
}
