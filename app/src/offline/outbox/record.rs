//! One queued write: seed 001's `offlineWrites` schema, plus device id, the idempotency key
//! (= the record id), the base snapshot for a three-way merge, and a lease.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::offline::query::options::Millis;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncStatus {
    Pending,
    InFlight,
    Success,
    Failed,
    Conflict,
    /// A parent failed for good; this write cannot be sent as it is.
    Blocked,
    /// CARE said the session ended; kept and resent after the same user signs in again.
    NeedsAuth,
    /// Sent, but its answer was never learnt (the server says `idempotency_outcome_unknown`):
    /// CARE may have saved it. Never resent on its own; the person checks and decides.
    Unknown,
}

impl SyncStatus {
    /// Still to be sent (now or later) without a person deciding anything.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            SyncStatus::Pending | SyncStatus::InFlight | SyncStatus::NeedsAuth
        )
    }

    pub fn label(self) -> &'static str {
        match self {
            SyncStatus::Pending => "Pending",
            SyncStatus::InFlight => "Sending",
            SyncStatus::Success => "Synced",
            SyncStatus::Failed => "Failed",
            SyncStatus::Conflict => "Conflict",
            SyncStatus::Blocked => "Blocked",
            SyncStatus::NeedsAuth => "Needs sign-in",
            SyncStatus::Unknown => "May have reached CARE",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Op {
    Create,
    Update,
    Delete,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxRecord {
    /// The record format (`schema::CURRENT` when written by this version); older ones are
    /// migrated when read (`schema::decode`).
    pub schema_version: u32,
    /// UUIDv4; also the `Idempotency-Key` of every attempt.
    pub id: String,
    pub user_id: String,
    pub device_id: String,
    /// A key of the registry (`patient.create`, `patient.update`, ...).
    pub sync_route_key: String,
    #[serde(rename = "type")]
    pub op: Op,
    pub resource_type: String,
    /// Values for the route's path template (`{patient_id}` …); may hold temporary ids.
    pub path_params: BTreeMap<String, String>,
    pub payload: Value,
    /// The server's response once synced.
    pub response: Option<Value>,
    /// Writes that must succeed first (the patient of a new encounter ...).
    pub parent_mutation_ids: Vec<String>,
    /// The temporary id a create was given offline (replaced by the server's on success).
    pub temp_id: Option<String>,
    pub client_timestamp: Millis,
    /// For updates: the `modified_date` the user's edit was based on.
    pub server_timestamp: Option<String>,
    /// For updates: the record as the user saw it when editing (three-way merge base).
    pub base_snapshot: Option<Value>,
    pub last_attempt_at: Option<Millis>,
    /// When the current `Idempotency-Key` was first sent (the server remembers a key for
    /// its retention from about then). A correction's new key starts unsent.
    pub key_sent_at: Option<Millis>,
    pub next_attempt_at: Option<Millis>,
    pub sync_status: SyncStatus,
    pub last_error: Option<Value>,
    pub retries: u32,
    /// The server's version when a conflict was found.
    pub conflict_data: Option<Value>,
    /// The query (detail) that shows this record, for the `modified_date` check.
    pub query_route_key: Option<String>,
    pub query_params: BTreeMap<String, String>,
    /// While in flight: until when this tab holds it (a crashed tab's lease expires).
    pub lease_until: Option<Millis>,
    pub synced_at: Option<Millis>,
    /// How a conflict was settled: CLIENT_WINS | SERVER_WINS | MANUAL.
    pub resolution: Option<String>,
    /// What the person would call the record ("Asha K · Mon 23 Nov 14:00"), for the sync
    /// page when the payload has no name.
    #[serde(default)]
    pub summary: Option<String>,
    /// How many times the person corrected the payload (sync page "Edit"). Each correction
    /// is a new request, so it gets its own `Idempotency-Key` (the server keeps the answer
    /// to the old one, a refusal included).
    #[serde(default)]
    pub revision: u32,
}

impl OutboxRecord {
    /// The `Idempotency-Key` of every attempt: the write's id, and a suffix per correction.
    pub fn idempotency_key(&self) -> String {
        if self.revision == 0 {
            self.id.clone()
        } else {
            format!("{}.r{}", self.id, self.revision)
        }
    }

    /// Replaces the payload of a write certainly not on the server (the person reopened
    /// its form, or checked CARE and chose "Send again"): a new request with a new key,
    /// pending again, never sent yet. A write being sent, synced, or sent without an
    /// answer cannot change: CARE may have it, and a new key would apply it twice.
    pub fn amend(&mut self, payload: Value) -> Result<(), &'static str> {
        self.can_amend()?;
        self.payload = payload;
        self.revision += 1;
        self.sync_status = SyncStatus::Pending;
        self.retries = 0;
        self.last_error = None;
        self.next_attempt_at = None;
        self.lease_until = None;
        self.last_attempt_at = None;
        self.key_sent_at = None;
        Ok(())
    }

    /// Whether `amend` may give this write a new payload (and so a new key), and why not.
    pub fn can_amend(&self) -> Result<(), &'static str> {
        match self.sync_status {
            SyncStatus::InFlight => {
                Err("This change is being sent right now; try again in a moment.")
            }
            SyncStatus::Success => Err("This change has already reached the server."),
            // The person checked CARE and did not find it.
            SyncStatus::Unknown => Ok(()),
            _ if !self.certainly_not_applied() => Err(
                "This change was sent and its answer never came back, so CARE may already have \
                 it. It cannot be changed until it has synced; edit the record then.",
            ),
            _ => Ok(()),
        }
    }

    /// True when the server has certainly not applied this write: it was never sent, or
    /// the server refused it (`{status, body}`). A write sent without an answer (a retry,
    /// one in flight, an ended session) may have been applied: only the server knows.
    pub fn certainly_not_applied(&self) -> bool {
        let refused = || {
            self.last_error
                .as_ref()
                .is_some_and(|e| e.get("status").is_some())
        };
        match self.sync_status {
            SyncStatus::Success | SyncStatus::InFlight => false,
            SyncStatus::Failed if refused() => true,
            _ => self.last_attempt_at.is_none(),
        }
    }

    /// CARE's body when it refused the write as invalid (a 400): the reasons to put back on
    /// the form that reopens it.
    pub fn refusal_body(&self) -> Option<&Value> {
        let error = self.last_error.as_ref()?;
        (error.get("status").and_then(Value::as_u64) == Some(400))
            .then(|| error.get("body"))
            .flatten()
    }

    /// A readable message from the stored error (CARE's body, or the engine's note).
    pub fn error_message(&self) -> Option<String> {
        self.last_error.as_ref().map(|error| match error {
            Value::String(s) => s.clone(),
            other => {
                let body = other.get("body").unwrap_or(other);
                crate::api::error::describe(
                    other.get("status").and_then(Value::as_u64).unwrap_or(0) as u16,
                    body,
                )
            }
        })
    }

    pub fn new(
        id: String,
        user_id: String,
        device_id: String,
        route: &super::SyncRoute,
        path_params: BTreeMap<String, String>,
        payload: Value,
        now: Millis,
    ) -> Self {
        Self {
            schema_version: super::schema::CURRENT,
            id,
            user_id,
            device_id,
            sync_route_key: route.key.to_string(),
            op: route.op,
            resource_type: route.resource_type.to_string(),
            path_params,
            payload,
            response: None,
            parent_mutation_ids: Vec::new(),
            temp_id: None,
            client_timestamp: now,
            server_timestamp: None,
            base_snapshot: None,
            last_attempt_at: None,
            key_sent_at: None,
            next_attempt_at: None,
            sync_status: SyncStatus::Pending,
            last_error: None,
            retries: 0,
            conflict_data: None,
            query_route_key: None,
            query_params: BTreeMap::new(),
            lease_until: None,
            synced_at: None,
            resolution: None,
            summary: None,
            revision: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::offline::outbox::registry::route;

    fn failed() -> OutboxRecord {
        let mut r = OutboxRecord::new(
            "w".into(),
            "u".into(),
            "d".into(),
            route("patient.create").expect("route"),
            BTreeMap::new(),
            json!({"name": "A"}),
            0,
        );
        r.sync_status = SyncStatus::Failed;
        r.retries = 5;
        r.last_error = Some(json!({"status": 400, "body": {}}));
        r.next_attempt_at = Some(10);
        r
    }

    #[test]
    fn an_unsent_write_takes_the_new_payload_and_is_pending_again() {
        let mut r = failed();
        r.amend(json!({"name": "B"})).expect("amended");
        assert_eq!(r.payload["name"], "B");
        assert_eq!(r.sync_status, SyncStatus::Pending);
        // A new request: a new key (the server keeps its answer to the old one).
        assert_eq!(r.idempotency_key(), "w.r1");
        r.amend(json!({"name": "C"})).expect("amended");
        assert_eq!(r.idempotency_key(), "w.r2");
        assert_eq!(failed().idempotency_key(), "w");
        assert_eq!((r.retries, r.next_attempt_at), (0, None));
        assert!(r.last_error.is_none());
        assert!(r.error_message().is_none());
    }

    #[test]
    fn only_a_write_never_sent_or_refused_is_certainly_not_applied() {
        let mut r = failed();
        assert!(r.certainly_not_applied(), "refused with CARE's answer");
        r.last_error = Some(json!("server answered 503"));
        r.last_attempt_at = Some(5);
        assert!(
            !r.certainly_not_applied(),
            "gave up retrying: it may be there"
        );
        for status in [
            SyncStatus::Pending,
            SyncStatus::NeedsAuth,
            SyncStatus::Blocked,
        ] {
            r.sync_status = status;
            r.last_attempt_at = None;
            assert!(r.certainly_not_applied(), "{status:?}, never sent");
            r.last_attempt_at = Some(5);
            assert!(!r.certainly_not_applied(), "{status:?}, sent before");
        }
        r.last_attempt_at = None;
        for status in [SyncStatus::InFlight, SyncStatus::Success] {
            r.sync_status = status;
            assert!(!r.certainly_not_applied(), "{status:?}");
        }
    }

    #[test]
    fn a_write_sent_without_an_answer_cannot_change_until_a_person_checked_care() {
        let mut r = failed();
        r.sync_status = SyncStatus::Pending;
        r.last_error = Some(json!("response lost"));
        r.last_attempt_at = Some(5);
        r.key_sent_at = Some(5);
        assert!(
            r.amend(json!({"name": "B"})).is_err(),
            "a new key could create it twice"
        );
        assert_eq!(r.idempotency_key(), "w");
        // The person checked CARE and it is not there: "Send again" is allowed.
        r.sync_status = SyncStatus::Unknown;
        r.amend(json!({"name": "B"})).expect("sent again");
        assert_eq!(r.idempotency_key(), "w.r1");
        assert_eq!(
            (r.last_attempt_at, r.key_sent_at),
            (None, None),
            "the new key is unsent"
        );
        assert!(r.certainly_not_applied());
    }

    #[test]
    fn a_write_in_flight_or_synced_cannot_change() {
        for status in [SyncStatus::InFlight, SyncStatus::Success] {
            let mut r = failed();
            r.sync_status = status;
            assert!(r.amend(json!({"name": "B"})).is_err());
            assert_eq!(r.payload["name"], "A");
        }
    }
}
