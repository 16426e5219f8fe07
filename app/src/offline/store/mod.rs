//! Persistence of queries in the signed-in user's own IndexedDB database.
//!
//! One database per user (`care-offline-<user id>`), one record per query. The database
//! also holds the `outbox` store (queued writes) and `local` (drafts, favourites); clearing
//! the cache clears only `queries`. Every record is sealed by the user's vault
//! (`offline::vault`).

pub mod local;
pub mod record;

#[cfg(feature = "hydrate")]
pub mod idb;
#[cfg(feature = "hydrate")]
pub mod version_watch;

pub use record::{Codec, PersistedQuery, PlainJson, RestoreDecision, SCHEMA_VERSION};

/// The user's database name.
pub fn database_name(user_id: &str) -> String {
    format!("care-offline-{user_id}")
}

pub const QUERIES_STORE: &str = "queries";
pub const OUTBOX_STORE: &str = "outbox";
/// Drafts and code favourites (sealed key → value).
pub const LOCAL_STORE: &str = "local";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("this browser does not allow saving data on the device: {0}")]
    Unavailable(String),
    #[error("saving on the device failed: {0}")]
    Write(String),
    #[error("reading saved data failed: {0}")]
    Read(String),
    #[error("a saved record could not be read: {0}")]
    Codec(String),
    #[error(
        "a newer version of the app has updated the data saved on this device; reload this page"
    )]
    Outdated,
}

/// Asks the browser to keep this origin's storage under pressure (called after login);
/// returns whether it agreed.
#[cfg(feature = "hydrate")]
pub async fn request_persistent_storage() -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let Ok(promise) = window.navigator().storage().persist() else {
        return false;
    };
    wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

/// Bytes used and available to this origin, for the sync page.
#[cfg(feature = "hydrate")]
pub async fn storage_estimate() -> Option<(f64, f64)> {
    let promise = web_sys::window()?.navigator().storage().estimate().ok()?;
    let estimate = wasm_bindgen_futures::JsFuture::from(promise).await.ok()?;
    let field = |name: &str| {
        js_sys::Reflect::get(&estimate, &wasm_bindgen::JsValue::from_str(name))
            .ok()?
            .as_f64()
    };
    Some((field("usage")?, field("quota")?))
}
