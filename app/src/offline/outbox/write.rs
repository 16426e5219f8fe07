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

/// What undoing an earlier change of this device takes, decided over the device's writes
/// while no sync pass runs (`Outbox::queue_undo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Undo {
    /// The change's write never reached the server: drop it (this id), send nothing.
    Withdraw(String),
    /// Send the undoing write after these writes (the change may be on the server already,
    /// or will be before the undoing write is sent).
    Send { parents: Vec<String> },
}

/// Now, as CARE writes `created_date` / `modified_date`.
pub fn now_iso() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

/// Where a write a page queued stands, as the page acts on it and as `WriteStatus` says it.
#[derive(Debug, Clone, PartialEq)]
pub enum Followed {
    /// Being sent now (online, no attempt has failed yet).
    Sending,
    /// On the server: its answer.
    Synced(Value),
    /// The server refused it as it is: CARE's body (field errors) and its reason.
    Rejected { body: Value, message: String },
    /// Kept on this device; it is not going through now.
    SavedHere(Held),
}

/// Why a write is kept on this device.
#[derive(Debug, Clone, PartialEq)]
pub enum Held {
    /// Sent when the server is reachable: offline, retrying after no answer, or behind a
    /// write it depends on.
    UntilReachable,
    /// The session ended: sent once the same person signs in again.
    UntilSignIn,
    /// A person decides on the Sync status page: why (it gave up retrying, a write it
    /// depends on failed, or the record changed on the server meanwhile).
    ForReview(String),
}

/// How a page reads the write it follows (`None`: not on the device yet). `online` is the
/// app's connectivity. Pages follow writes through `use_follow`, which adds a patience
/// limit; this is the pure rule under it.
pub fn follow(record: Option<&super::OutboxRecord>, online: bool) -> Followed {
    use super::SyncStatus::*;
    let Some(r) = record else {
        return Followed::Sending;
    };
    let why = || {
        r.error_message()
            .unwrap_or_else(|| r.sync_status.label().to_string())
    };
    match r.sync_status {
        Success => Followed::Synced(r.response.clone().unwrap_or(Value::Null)),
        // An answer from the server (`{status, body}`), not the engine's note that it gave
        // up retrying: the server refused this write as it is.
        Failed => match r.last_error.as_ref().filter(|e| e.get("status").is_some()) {
            Some(error) => Followed::Rejected {
                body: error.get("body").cloned().unwrap_or(Value::Null),
                message: why(),
            },
            None => Followed::SavedHere(Held::ForReview(why())),
        },
        Blocked | Conflict | Unknown => Followed::SavedHere(Held::ForReview(why())),
        NeedsAuth => Followed::SavedHere(Held::UntilSignIn),
        Pending | InFlight if online && r.retries == 0 => Followed::Sending,
        Pending | InFlight => Followed::SavedHere(Held::UntilReachable),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

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

    fn follow_of(r: &OutboxRecord, online: bool) -> Followed {
        follow(Some(r), online)
    }

    #[test]
    fn a_write_not_on_the_device_yet_is_being_sent() {
        assert_eq!(follow(None, true), Followed::Sending);
        assert_eq!(follow(None, false), Followed::Sending);
    }

    #[test]
    fn pending_and_in_flight_are_sending_only_online_and_before_a_failed_attempt() {
        for status in [SyncStatus::Pending, SyncStatus::InFlight] {
            assert_eq!(follow_of(&rec(status, 0), true), Followed::Sending);
            let held = Followed::SavedHere(Held::UntilReachable);
            assert_eq!(
                follow_of(&rec(status, 0), false),
                held,
                "{status:?} offline"
            );
            assert_eq!(
                follow_of(&rec(status, 1), true),
                held,
                "{status:?} retrying"
            );
        }
    }

    #[test]
    fn success_carries_the_answer() {
        let mut ok = rec(SyncStatus::Success, 0);
        ok.response = Some(json!({"id": "real"}));
        assert_eq!(
            follow_of(&ok, false),
            Followed::Synced(json!({"id": "real"}))
        );
        assert_eq!(
            follow_of(&rec(SyncStatus::Success, 0), true),
            Followed::Synced(Value::Null)
        );
    }

    #[test]
    fn a_refusal_carries_cares_body_and_reason_whenever_it_came() {
        for retries in [0, 2] {
            let mut refused = rec(SyncStatus::Failed, retries);
            refused.last_error =
                Some(json!({"status": 400, "body": {"errors": [{"msg": "Slot is already full"}]}}));
            assert_eq!(
                follow_of(&refused, true),
                Followed::Rejected {
                    body: json!({"errors": [{"msg": "Slot is already full"}]}),
                    message: "Slot is already full".into(),
                }
            );
        }
    }

    #[test]
    fn giving_up_blocked_and_conflicts_wait_for_a_person() {
        let mut gave_up = rec(SyncStatus::Failed, 6);
        gave_up.last_error = Some(json!("server answered 503"));
        assert_eq!(
            follow_of(&gave_up, true),
            Followed::SavedHere(Held::ForReview("server answered 503".into()))
        );
        let mut blocked = rec(SyncStatus::Blocked, 0);
        blocked.last_error = Some(json!("A write it depends on failed."));
        assert_eq!(
            follow_of(&blocked, true),
            Followed::SavedHere(Held::ForReview("A write it depends on failed.".into()))
        );
        assert_eq!(
            follow_of(&rec(SyncStatus::Conflict, 0), false),
            Followed::SavedHere(Held::ForReview("Conflict".into())),
            "no stored reason: the status names it"
        );
    }

    #[test]
    fn an_ended_session_waits_for_sign_in() {
        for online in [true, false] {
            assert_eq!(
                follow_of(&rec(SyncStatus::NeedsAuth, 0), online),
                Followed::SavedHere(Held::UntilSignIn)
            );
        }
    }
}
