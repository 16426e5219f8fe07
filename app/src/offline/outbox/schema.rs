//! The outbox record's schema version and the migrations between versions.
//!
//! Every record carries `schemaVersion`. A record written by an earlier version of the app
//! is migrated step by step when read (each step a plain function over its JSON, tested
//! with a record as that version wrote it); one written by a LATER version is not guessed
//! at: it stays in the store, unread, and the sync page lists it until this tab reloads
//! into the newer app.

use serde_json::Value;

use super::record::OutboxRecord;

/// The version this app writes.
pub const CURRENT: u32 = 2;

/// Why a stored record could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error(
        "it was saved by a newer version of the app (record format {0}); reload the page to \
         get that version"
    )]
    Newer(u32),
    #[error("it is not a queued change this app understands: {0}")]
    Invalid(String),
}

/// A stored record as this version reads it: migrated, then decoded.
pub fn decode(mut raw: Value) -> Result<OutboxRecord, DecodeError> {
    let Some(fields) = raw.as_object() else {
        return Err(DecodeError::Invalid("not an object".into()));
    };
    // Records from before versions were written are version 1.
    let version = match fields.get("schemaVersion") {
        None => 1,
        Some(v) => v
            .as_u64()
            .and_then(|v| u32::try_from(v).ok())
            .ok_or_else(|| DecodeError::Invalid(format!("schemaVersion {v}")))?,
    };
    if version > CURRENT {
        return Err(DecodeError::Newer(version));
    }
    for from in version..CURRENT {
        migrate_step(from, &mut raw);
    }
    serde_json::from_value(raw).map_err(|e| DecodeError::Invalid(e.to_string()))
}

/// Rewrites a record of version `from` into version `from + 1`.
fn migrate_step(from: u32, raw: &mut Value) {
    let Some(fields) = raw.as_object_mut() else {
        return;
    };
    if from == 1 {
        v1_to_v2(fields);
    }
    fields.insert("schemaVersion".into(), Value::from(from + 1));
}

/// Version 1 had no `summary` or `revision` in its first records, no `keySentAt`, and an
/// in-flight lease
/// written by a tab of the old version: that tab no longer runs the new code, so its lease
/// is dropped and the write is sent again with its key (the server answers a replay).
fn v1_to_v2(fields: &mut serde_json::Map<String, Value>) {
    fields.entry("summary").or_insert(Value::Null);
    fields.entry("revision").or_insert(Value::from(0));
    // When its key was first sent was not kept: when the write was made is the safe guess
    // (the key cannot have been sent earlier), so it is held for a person no later.
    let sent = fields.get("lastAttemptAt").is_some_and(|v| !v.is_null());
    let made = fields
        .get("clientTimestamp")
        .cloned()
        .unwrap_or(Value::Null);
    fields
        .entry("keySentAt")
        .or_insert(if sent { made } else { Value::Null });
    if fields.get("syncStatus").and_then(Value::as_str) == Some("in_flight") {
        fields.insert("syncStatus".into(), Value::from("pending"));
        fields.insert("leaseUntil".into(), Value::Null);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::offline::outbox::SyncStatus;

    /// A record exactly as version 1 of the app stored it (before `schemaVersion`, and
    /// from before `summary` and `revision`), caught mid-send by an update.
    fn written_by_v1() -> Value {
        json!({
            "id": "5b0c2d47-63d4-4e7e-9d1a-2f7d0a5c9e11",
            "userId": "u-1",
            "deviceId": "d-1",
            "syncRouteKey": "patient.create",
            "type": "CREATE",
            "resourceType": "patient",
            "pathParams": {},
            "payload": {"name": "Asha K", "phone_number": "+919812345678"},
            "response": null,
            "parentMutationIds": [],
            "tempId": "temp-1",
            "clientTimestamp": 1_764_900_000_000i64,
            "serverTimestamp": null,
            "baseSnapshot": null,
            "lastAttemptAt": 1_764_900_001_000i64,
            "nextAttemptAt": null,
            "syncStatus": "in_flight",
            "lastError": null,
            "retries": 1,
            "conflictData": null,
            "queryRouteKey": null,
            "queryParams": {},
            "leaseUntil": 1_764_900_031_000i64,
            "syncedAt": null,
            "resolution": null
        })
    }

    #[test]
    fn a_record_written_by_version_1_is_read_by_this_version() {
        let record = decode(written_by_v1()).expect("migrated");
        assert_eq!(record.schema_version, CURRENT);
        assert_eq!(record.payload["name"], "Asha K", "nothing typed is lost");
        assert_eq!((record.revision, record.summary.as_deref()), (0, None));
        assert_eq!(
            record.idempotency_key(),
            "5b0c2d47-63d4-4e7e-9d1a-2f7d0a5c9e11",
            "the same key: a resend is a replay, never a second patient"
        );
        assert_eq!(record.sync_status, SyncStatus::Pending);
        assert_eq!(record.lease_until, None);
        assert_eq!(record.last_attempt_at, Some(1_764_900_001_000));
        assert_eq!(
            record.key_sent_at,
            Some(1_764_900_000_000),
            "no later than made"
        );
        assert!(!record.certainly_not_applied(), "it was sent once");
    }

    #[test]
    fn a_record_this_version_writes_reads_back_unchanged() {
        let mut r = decode(written_by_v1()).expect("migrated");
        r.summary = Some("Asha K".into());
        r.revision = 3;
        let written = serde_json::to_value(&r).expect("encode");
        assert_eq!(written["schemaVersion"], CURRENT);
        assert_eq!(decode(written).expect("decoded"), r);
    }

    #[test]
    fn a_record_of_a_newer_version_is_not_guessed_at() {
        let mut raw = written_by_v1();
        raw["schemaVersion"] = json!(CURRENT + 1);
        assert_eq!(decode(raw), Err(DecodeError::Newer(CURRENT + 1)));
        assert!(DecodeError::Newer(3).to_string().contains("reload"));
    }

    #[test]
    fn damaged_records_say_why() {
        assert!(matches!(decode(json!("x")), Err(DecodeError::Invalid(_))));
        let mut raw = written_by_v1();
        raw["schemaVersion"] = json!("two");
        assert!(matches!(decode(raw), Err(DecodeError::Invalid(_))));
        let mut raw = written_by_v1();
        raw.as_object_mut().expect("object").remove("payload");
        // `payload` is required; a missing one is damage, not an empty write.
        assert!(matches!(decode(raw), Err(DecodeError::Invalid(_))));
        let mut raw = written_by_v1();
        raw["syncStatus"] = json!("from_the_future");
        assert!(matches!(decode(raw), Err(DecodeError::Invalid(_))));
    }
}
