//! A backup of a user's unsent writes (seed 004's production checklist): the sync page
//! exports them to a file the person keeps when a device must be wiped or handed in, and
//! imports that file after the same user signs in elsewhere. Imported writes keep their
//! ids, so their `Idempotency-Key`s: a write that had reached CARE before the export is
//! answered from CARE's record of it, never applied twice.

use std::collections::{BTreeSet, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{record::OutboxRecord, schema, SyncStatus};
use crate::offline::query::options::Millis;

/// What the file says it is.
pub const FORMAT: &str = "care-offline-unsent-changes";
/// The file layout this version writes and reads.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Backup {
    pub format: String,
    pub format_version: u32,
    pub exported_at: Millis,
    pub user_id: String,
    pub username: String,
    /// Each write as the outbox stores it (its own `schemaVersion` inside).
    pub records: Vec<Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("This file is not a backup of unsent changes from CARE Offline.")]
    NotABackup,
    #[error("This backup was made by a newer version of the app; reload the page and try again.")]
    NewerFormat,
    #[error("These changes belong to {0}; only they can restore them, after signing in.")]
    OtherUser(String),
    #[error("Change {index} in the file cannot be read ({reason}); nothing was restored.")]
    Unreadable { index: usize, reason: String },
}

/// What the file holds for the signed-in user: the unsent writes, plus every write they
/// depend on (a synced parent carries the server id its children's temporary ids become).
pub fn export(records: &[OutboxRecord], user_id: &str, username: &str, now: Millis) -> Backup {
    let mine: Vec<&OutboxRecord> = records.iter().filter(|r| r.user_id == user_id).collect();
    let mut wanted: BTreeSet<&str> = mine
        .iter()
        .filter(|r| r.sync_status != SyncStatus::Success)
        .map(|r| r.id.as_str())
        .collect();
    // Parents of what is exported, transitively.
    loop {
        let before = wanted.len();
        for r in &mine {
            if wanted.contains(r.id.as_str()) {
                wanted.extend(r.parent_mutation_ids.iter().map(String::as_str));
            }
        }
        if wanted.len() == before {
            break;
        }
    }
    Backup {
        format: FORMAT.to_string(),
        format_version: FORMAT_VERSION,
        exported_at: now,
        user_id: user_id.to_string(),
        username: username.to_string(),
        records: mine
            .iter()
            .filter(|r| wanted.contains(r.id.as_str()))
            .filter_map(|r| serde_json::to_value(r).ok())
            .collect(),
    }
}

/// How many writes a file holds that are still to be sent.
pub fn unsent_count(backup: &Backup) -> usize {
    backup
        .records
        .iter()
        .filter(|r| r.get("syncStatus").and_then(Value::as_str) != Some("success"))
        .count()
}

/// The file name a backup is saved under.
pub fn file_name(username: &str, now: Millis) -> String {
    let day = chrono::DateTime::from_timestamp_millis(now)
        .map(|d| d.format("%Y-%m-%d-%H%M").to_string())
        .unwrap_or_default();
    format!("care-offline-unsent-{username}-{day}.json")
}

/// What importing a file adds to the device.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportPlan {
    /// New on this device, ready to store.
    pub add: Vec<OutboxRecord>,
    /// Already on this device (imported before, or never left it): left as they are.
    pub already_here: usize,
}

/// Reads a backup for `user_id`. Nothing is added unless every write in it can be read.
pub fn plan_import(
    text: &str,
    user_id: &str,
    on_device: &HashSet<String>,
) -> Result<ImportPlan, ImportError> {
    let value: Value = serde_json::from_str(text).map_err(|_| ImportError::NotABackup)?;
    if value.get("format").and_then(Value::as_str) != Some(FORMAT) {
        return Err(ImportError::NotABackup);
    }
    let version = value.get("formatVersion").and_then(Value::as_u64);
    if version.is_some_and(|v| v > u64::from(FORMAT_VERSION)) {
        return Err(ImportError::NewerFormat);
    }
    let backup: Backup = serde_json::from_value(value).map_err(|_| ImportError::NotABackup)?;
    if backup.user_id != user_id {
        return Err(ImportError::OtherUser(backup.username));
    }
    let mut plan = ImportPlan {
        add: Vec::new(),
        already_here: 0,
    };
    for (index, raw) in backup.records.into_iter().enumerate() {
        let mut record = schema::decode(raw).map_err(|e| ImportError::Unreadable {
            index: index + 1,
            reason: e.to_string(),
        })?;
        if record.user_id != user_id {
            return Err(ImportError::Unreadable {
                index: index + 1,
                reason: "it belongs to another user".into(),
            });
        }
        if on_device.contains(&record.id) {
            plan.already_here += 1;
            continue;
        }
        settle_for_import(&mut record);
        plan.add.push(record);
    }
    Ok(plan)
}

/// A write as it arrives on another device: anything this device's tabs do not hold is due
/// now. Its key, revision and attempts are kept (a write that may have reached CARE is
/// still answered by CARE's record of its key).
fn settle_for_import(record: &mut OutboxRecord) {
    record.schema_version = schema::CURRENT;
    record.lease_until = None;
    if matches!(
        record.sync_status,
        SyncStatus::InFlight | SyncStatus::NeedsAuth
    ) {
        record.sync_status = SyncStatus::Pending;
    }
    if record.sync_status == SyncStatus::Pending {
        record.next_attempt_at = None;
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use crate::offline::outbox::registry::route;

    fn rec(id: &str, key: &str, user: &str, status: SyncStatus) -> OutboxRecord {
        let mut r = OutboxRecord::new(
            id.into(),
            user.into(),
            "device-a".into(),
            route(key).expect("route"),
            BTreeMap::new(),
            json!({"name": id}),
            1,
        );
        r.sync_status = status;
        r
    }

    fn queue() -> Vec<OutboxRecord> {
        let parent = rec("p", "patient.create", "u1", SyncStatus::Success);
        let mut child = rec("e", "encounter.create", "u1", SyncStatus::InFlight);
        child.parent_mutation_ids = vec!["p".into()];
        child.lease_until = Some(99);
        child.revision = 2;
        let done = rec("d", "patient.create", "u1", SyncStatus::Success);
        let other = rec("x", "patient.create", "u2", SyncStatus::Pending);
        let mut asked = rec("n", "patient.update", "u1", SyncStatus::NeedsAuth);
        asked.next_attempt_at = Some(50);
        vec![parent, child, done, other, asked]
    }

    fn ids(b: &Backup) -> Vec<String> {
        b.records
            .iter()
            .map(|r| r["id"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    #[test]
    fn the_backup_holds_the_users_unsent_writes_and_what_they_depend_on() {
        let backup = export(&queue(), "u1", "care-doctor", 5);
        assert_eq!(
            ids(&backup),
            ["p", "e", "n"],
            "not the synced 'd', not u2's 'x'"
        );
        assert_eq!(unsent_count(&backup), 2);
        assert_eq!(backup.records[0]["schemaVersion"], schema::CURRENT);
    }

    #[test]
    fn an_imported_write_keeps_its_key_and_is_due_now() {
        let text = serde_json::to_string(&export(&queue(), "u1", "care-doctor", 5)).expect("json");
        let plan = plan_import(&text, "u1", &HashSet::new()).expect("plan");
        assert_eq!(plan.already_here, 0);
        let by_id = |id: &str| plan.add.iter().find(|r| r.id == id).expect(id).clone();
        let child = by_id("e");
        assert_eq!(
            child.idempotency_key(),
            "e.r2",
            "the same key: a replay, not a copy"
        );
        assert_eq!(child.sync_status, SyncStatus::Pending);
        assert_eq!(child.lease_until, None);
        assert_eq!(child.parent_mutation_ids, vec!["p".to_string()]);
        assert_eq!(by_id("p").sync_status, SyncStatus::Success);
        let asked = by_id("n");
        assert_eq!(
            (asked.sync_status, asked.next_attempt_at),
            (SyncStatus::Pending, None)
        );
    }

    #[test]
    fn importing_twice_adds_nothing_the_second_time() {
        let text = serde_json::to_string(&export(&queue(), "u1", "care-doctor", 5)).expect("json");
        let here: HashSet<String> = ["p", "e", "n"].iter().map(|s| s.to_string()).collect();
        let plan = plan_import(&text, "u1", &here).expect("plan");
        assert!(plan.add.is_empty());
        assert_eq!(plan.already_here, 3);
    }

    #[test]
    fn a_file_of_another_user_or_not_a_backup_is_refused_whole() {
        let text = serde_json::to_string(&export(&queue(), "u1", "care-doctor", 5)).expect("json");
        assert_eq!(
            plan_import(&text, "u2", &HashSet::new()),
            Err(ImportError::OtherUser("care-doctor".into()))
        );
        for junk in ["", "[]", "{\"format\":\"x\"}", "not json"] {
            assert_eq!(
                plan_import(junk, "u1", &HashSet::new()),
                Err(ImportError::NotABackup),
                "{junk}"
            );
        }
        let mut newer: Value = serde_json::from_str(&text).expect("json");
        newer["formatVersion"] = json!(FORMAT_VERSION + 1);
        assert_eq!(
            plan_import(&newer.to_string(), "u1", &HashSet::new()),
            Err(ImportError::NewerFormat)
        );
        let mut damaged: Value = serde_json::from_str(&text).expect("json");
        damaged["records"][1]["syncStatus"] = json!("from_the_future");
        assert!(matches!(
            plan_import(&damaged.to_string(), "u1", &HashSet::new()),
            Err(ImportError::Unreadable { index: 2, .. })
        ));
        let mut smuggled: Value = serde_json::from_str(&text).expect("json");
        smuggled["records"][0]["userId"] = json!("u2");
        assert!(matches!(
            plan_import(&smuggled.to_string(), "u1", &HashSet::new()),
            Err(ImportError::Unreadable { index: 1, .. })
        ));
    }

    #[test]
    fn the_file_name_says_whose_and_when() {
        assert_eq!(
            file_name("care-doctor", 1_764_900_000_000),
            "care-offline-unsent-care-doctor-2025-12-05-0200.json"
        );
    }
}
