//! Which form reopens a queued write ("Edit" on the sync page), with `?write=<id>` so the
//! form corrects that write instead of queueing another.

use serde_json::Value;

use crate::offline::outbox::{OutboxRecord, SyncStatus};

/// The form's address for a write that can still change; None when it is being sent, has
/// synced, is a conflict (the merge dialog handles those) or has no form.
pub fn edit_href(record: &OutboxRecord, facility_id: &str) -> Option<String> {
    // Unknown writes are decided by "Send again"; the others reopen only when a correction
    // may be made (`OutboxRecord::can_amend`: never sent, or refused).
    if !matches!(
        record.sync_status,
        SyncStatus::Pending | SyncStatus::Failed | SyncStatus::NeedsAuth | SyncStatus::Blocked
    ) || record.can_amend().is_err()
    {
        return None;
    }
    let id = &record.id;
    let base = format!("/facility/{facility_id}");
    match record.sync_route_key.as_str() {
        "patient.create" => Some(format!("{base}/patients/new?write={id}")),
        "patient.update" => {
            let patient = record.path_params.get("patient_id")?;
            Some(format!("{base}/patients/{patient}/edit?write={id}"))
        }
        "resource.create" => {
            let patient = record
                .payload
                .get("related_patient")
                .and_then(Value::as_str)?;
            Some(format!(
                "{base}/patients/{patient}/resources/new?write={id}"
            ))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use crate::offline::outbox::registry::route;

    fn record(key: &str, status: SyncStatus) -> OutboxRecord {
        let mut params = BTreeMap::new();
        params.insert("patient_id".to_string(), "p1".to_string());
        let mut r = OutboxRecord::new(
            "w1".into(),
            "u".into(),
            "d".into(),
            route(key).expect("route"),
            params,
            json!({"related_patient": "p2"}),
            0,
        );
        r.sync_status = status;
        r
    }

    #[test]
    fn each_form_reopens_its_write() {
        let f = |k| edit_href(&record(k, SyncStatus::Failed), "f");
        assert_eq!(
            f("patient.create").as_deref(),
            Some("/facility/f/patients/new?write=w1")
        );
        assert_eq!(
            f("patient.update").as_deref(),
            Some("/facility/f/patients/p1/edit?write=w1")
        );
        assert_eq!(
            f("resource.create").as_deref(),
            Some("/facility/f/patients/p2/resources/new?write=w1")
        );
        assert_eq!(f("patient.add_user"), None);
    }

    #[test]
    fn writes_being_sent_synced_or_in_conflict_are_not_reopened() {
        for status in [
            SyncStatus::InFlight,
            SyncStatus::Success,
            SyncStatus::Conflict,
        ] {
            assert_eq!(edit_href(&record("patient.create", status), "f"), None);
        }
        assert!(edit_href(&record("patient.create", SyncStatus::Pending), "f").is_some());
        // Sent, no answer: CARE may have it; a correction would be a second request.
        let mut sent = record("patient.create", SyncStatus::Pending);
        sent.last_attempt_at = Some(1);
        assert_eq!(edit_href(&sent, "f"), None);
    }
}
