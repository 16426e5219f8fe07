//! Persistence of queries in the signed-in user's own IndexedDB database.
//!
//! One database per user (`care-offline-<user id>`), one record per query. The database
//! also holds the `outbox` store (pending writes, a later issue's concern); clearing the
//! cache clears only `queries`, never `outbox`.

pub mod record;

#[cfg(feature = "hydrate")]
pub mod idb;

pub use record::{Codec, PersistedQuery, PlainJson, RestoreDecision, SCHEMA_VERSION};

/// The user's database name.
pub fn database_name(user_id: &str) -> String {
    format!("care-offline-{user_id}")
}

pub const QUERIES_STORE: &str = "queries";
pub const OUTBOX_STORE: &str = "outbox";

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
}
