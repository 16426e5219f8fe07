//! The CARE Offline server's sync API as the admin page reads it.

use crate::{
    api::{ApiError, Method},
    model::sync_health::SyncHealth,
    offline::query::QueryKey,
    session::Session,
};

pub fn health() -> QueryKey {
    QueryKey::new(["sync", "health"])
}

pub async fn get_health(session: Session) -> Result<SyncHealth, ApiError> {
    session.call(Method::Get, "/sync/health", None).await
}

/// Settles a reviewed write: `CLIENT_WINS` sends the offline change, `SERVER_WINS` drops it.
pub async fn resolve(session: Session, id: String, resolution: &str) -> Result<(), ApiError> {
    session
        .call::<serde_json::Value>(
            Method::Patch,
            &format!("/sync/resolve/{id}?resolution={resolution}"),
            None,
        )
        .await
        .map(|_| ())
}
