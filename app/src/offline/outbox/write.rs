//! What a page asks the outbox to queue, and the timestamps of optimistic records.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::offline::query::QueryKey;

/// One write to queue: the registry route, its path params and payload, and the cached
/// queries as they should read until it syncs (stored in the same device transaction).
#[derive(Debug, Clone, Default)]
pub struct WriteSpec {
    /// The write's id (its `Idempotency-Key`) when the caller already sent it once.
    pub id: Option<String>,
    pub route_key: &'static str,
    pub path_params: BTreeMap<String, String>,
    pub payload: Value,
    /// The temporary id of a record created offline.
    pub temp_id: Option<String>,
    /// Outbox ids of writes that must reach the server first.
    pub parents: Vec<String>,
    /// Cached queries as they should read until the write syncs.
    pub optimistic: Vec<(QueryKey, Value)>,
    /// For updates: the record as the person saw it (three-way merge base).
    pub base_snapshot: Option<Value>,
    /// For updates: the `modified_date` the edit was based on.
    pub server_timestamp: Option<String>,
    /// What the sync page calls the record when the payload has no name.
    pub summary: Option<String>,
}

impl WriteSpec {
    pub fn new(route_key: &'static str, payload: Value) -> Self {
        WriteSpec {
            route_key,
            payload,
            ..Default::default()
        }
    }

    pub fn param(mut self, name: &str, value: &str) -> Self {
        self.path_params.insert(name.to_string(), value.to_string());
        self
    }
}

/// Now, as CARE writes `created_date` / `modified_date`.
pub fn now_iso() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}
