//! What became of a write a page queued: the page moves on when it synced, shows CARE's
//! answer when refused, and shows the record with its badge when it was saved for later.

use serde_json::Value;

use crate::offline::outbox::{OutboxRecord, SyncStatus};

#[derive(Debug, Clone, PartialEq)]
pub enum Followed {
    /// Being sent now.
    Waiting,
    /// On the server: its answer.
    Synced(Value),
    /// Kept on this device, to be sent later (offline, server unreachable, conflict).
    Saved,
    /// CARE refused it: why.
    Refused(String),
}

pub fn followed(record: Option<&OutboxRecord>, online: bool) -> Followed {
    let Some(r) = record else {
        return Followed::Waiting;
    };
    match r.sync_status {
        SyncStatus::Success => Followed::Synced(r.response.clone().unwrap_or(Value::Null)),
        SyncStatus::Failed => Followed::Refused(
            r.error_message()
                .unwrap_or_else(|| "CARE refused this change.".into()),
        ),
        SyncStatus::Conflict | SyncStatus::NeedsAuth | SyncStatus::Blocked => Followed::Saved,
        SyncStatus::Pending if r.retries > 0 || !online => Followed::Saved,
        SyncStatus::Pending | SyncStatus::InFlight => Followed::Waiting,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use crate::offline::outbox::registry;

    fn rec(status: SyncStatus) -> OutboxRecord {
        let mut r = OutboxRecord::new(
            "w".into(),
            "u".into(),
            "d".into(),
            registry::route("appointment.create").expect("route"),
            BTreeMap::new(),
            json!({}),
            1,
        );
        r.sync_status = status;
        r
    }

    #[test]
    fn online_writes_are_waited_for_offline_ones_are_saved() {
        assert_eq!(followed(None, true), Followed::Waiting);
        assert_eq!(
            followed(Some(&rec(SyncStatus::Pending)), true),
            Followed::Waiting
        );
        assert_eq!(
            followed(Some(&rec(SyncStatus::Pending)), false),
            Followed::Saved
        );
        let mut retrying = rec(SyncStatus::Pending);
        retrying.retries = 1;
        assert_eq!(followed(Some(&retrying), true), Followed::Saved);
        let mut done = rec(SyncStatus::Success);
        done.response = Some(json!({"id": "real"}));
        assert_eq!(
            followed(Some(&done), true),
            Followed::Synced(json!({"id": "real"}))
        );
        let mut refused = rec(SyncStatus::Failed);
        refused.last_error =
            Some(json!({"status": 400, "body": {"errors": [{"msg": "Slot is already full"}]}}));
        assert_eq!(
            followed(Some(&refused), true),
            Followed::Refused("Slot is already full".into())
        );
    }
}
