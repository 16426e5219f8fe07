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

/// Where a write a page queued stands, as the page acts on it.
#[derive(Debug, Clone, PartialEq)]
pub enum Followed {
    /// Being sent now (online, first attempt under way or about to start).
    Sending,
    /// On the server: its answer.
    Synced(Value),
    /// The server refused it as it is: the stored error (`{status, body}` or a note).
    Rejected(Value),
    /// Kept on this device; it syncs later (offline, retrying, waiting for a parent or
    /// for sign-in, or a conflict for the sync page).
    SavedHere,
}

/// How a page reads the write it follows. `online` is the app's connectivity.
pub fn follow(record: Option<&super::OutboxRecord>, online: bool) -> Followed {
    use super::SyncStatus::*;
    let Some(r) = record else {
        return Followed::Sending;
    };
    match r.sync_status {
        Success => Followed::Synced(r.response.clone().unwrap_or(Value::Null)),
        Failed if r.retries == 0 => Followed::Rejected(r.last_error.clone().unwrap_or(Value::Null)),
        Failed | Blocked | Conflict | NeedsAuth => Followed::SavedHere,
        Pending | InFlight if online && r.retries == 0 => Followed::Sending,
        Pending | InFlight => Followed::SavedHere,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::offline::outbox::{registry::route, OutboxRecord, SyncStatus};

    fn rec(status: SyncStatus, retries: u32) -> OutboxRecord {
        let mut r = OutboxRecord::new(
            "w".into(),
            "u".into(),
            "d".into(),
            route("encounter.create").expect("route"),
            BTreeMap::new(),
            Value::Null,
            1,
        );
        r.sync_status = status;
        r.retries = retries;
        r
    }

    #[test]
    fn a_page_reads_its_write() {
        assert_eq!(follow(None, true), Followed::Sending);
        assert_eq!(
            follow(Some(&rec(SyncStatus::Pending, 0)), true),
            Followed::Sending
        );
        assert_eq!(
            follow(Some(&rec(SyncStatus::InFlight, 0)), true),
            Followed::Sending
        );
        assert_eq!(
            follow(Some(&rec(SyncStatus::Pending, 0)), false),
            Followed::SavedHere
        );
        assert_eq!(
            follow(Some(&rec(SyncStatus::Pending, 1)), true),
            Followed::SavedHere
        );
        assert_eq!(
            follow(Some(&rec(SyncStatus::NeedsAuth, 0)), true),
            Followed::SavedHere
        );
        assert_eq!(
            follow(Some(&rec(SyncStatus::Blocked, 0)), true),
            Followed::SavedHere
        );
        let mut ok = rec(SyncStatus::Success, 0);
        ok.response = Some(serde_json::json!({"id": "real"}));
        assert_eq!(
            follow(Some(&ok), true),
            Followed::Synced(serde_json::json!({"id": "real"}))
        );
        let mut refused = rec(SyncStatus::Failed, 0);
        refused.last_error = Some(serde_json::json!({"status": 400}));
        assert_eq!(
            follow(Some(&refused), true),
            Followed::Rejected(serde_json::json!({"status": 400}))
        );
        assert_eq!(
            follow(Some(&rec(SyncStatus::Failed, 6)), true),
            Followed::SavedHere,
            "gave up retrying: the sync page shows it"
        );
    }
}
