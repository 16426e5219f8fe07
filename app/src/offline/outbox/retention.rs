//! How long synced writes stay on the device (a person can look back at what was sent),
//! set per device on the sync page.

use super::record::{OutboxRecord, SyncStatus};
use crate::offline::query::options::{Millis, DAY};

pub const STORAGE_KEY: &str = "care_offline_keep_synced_days";
pub const DEFAULT_DAYS: i64 = 7;
pub const MAX_DAYS: i64 = 90;

/// The stored setting, or the default when missing or unreadable.
pub fn from_stored(stored: Option<&str>) -> i64 {
    stored
        .and_then(|s| parse_days(s).ok())
        .unwrap_or(DEFAULT_DAYS)
}

/// What a person typed: whole days, 1 to 90.
pub fn parse_days(input: &str) -> Result<i64, String> {
    match input.trim().parse::<i64>() {
        Ok(d) if (1..=MAX_DAYS).contains(&d) => Ok(d),
        _ => Err(format!(
            "Enter a whole number of days from 1 to {MAX_DAYS}."
        )),
    }
}

/// A synced write older than the kept period (only synced writes are ever cleaned up).
pub fn is_expired(record: &OutboxRecord, now: Millis, days: i64) -> bool {
    record.sync_status == SyncStatus::Success
        && record.synced_at.is_some_and(|t| t < now - days * DAY)
}

/// The writes to clean up: expired ones, except a parent of a write not yet synced (which
/// still needs it: its server id, and the proof it synced).
pub fn expired(records: &[OutboxRecord], now: Millis, days: i64) -> Vec<String> {
    let needed = needed_parents(records);
    records
        .iter()
        .filter(|r| is_expired(r, now, days) && !needed.contains(r.id.as_str()))
        .map(|r| r.id.clone())
        .collect()
}

/// What signing out removes from the device: the user's synced writes (their payloads and
/// CARE's answers hold patient data nobody needs here any more), except a parent that a
/// write not yet synced still needs. Unsynced writes stay for their owner.
pub fn on_sign_out(records: &[OutboxRecord], user_id: &str) -> Vec<String> {
    let needed = needed_parents(records);
    records
        .iter()
        .filter(|r| r.user_id == user_id && r.sync_status == SyncStatus::Success)
        .filter(|r| !needed.contains(r.id.as_str()))
        .map(|r| r.id.clone())
        .collect()
}

fn needed_parents(records: &[OutboxRecord]) -> std::collections::HashSet<&str> {
    records
        .iter()
        .filter(|r| r.sync_status != SyncStatus::Success)
        .flat_map(|r| r.parent_mutation_ids.iter().map(String::as_str))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use crate::offline::outbox::registry::route;

    fn record(status: SyncStatus, synced_at: Option<Millis>) -> OutboxRecord {
        let route = route("patient.create").expect("route");
        let mut r = OutboxRecord::new(
            "w".into(),
            "u".into(),
            "d".into(),
            route,
            BTreeMap::new(),
            json!({}),
            0,
        );
        r.sync_status = status;
        r.synced_at = synced_at;
        r
    }

    #[test]
    fn a_parent_of_an_unsynced_write_is_kept() {
        let now = 100 * DAY;
        let mut parent = record(SyncStatus::Success, Some(now - 30 * DAY));
        parent.id = "parent".into();
        let mut old = record(SyncStatus::Success, Some(now - 30 * DAY));
        old.id = "old".into();
        let mut child = record(SyncStatus::Failed, None);
        child.id = "child".into();
        child.parent_mutation_ids = vec!["parent".into()];
        let all = vec![parent, old, child.clone()];
        assert_eq!(expired(&all, now, 7), vec!["old".to_string()]);
        child.sync_status = SyncStatus::Success;
        child.synced_at = Some(now - 30 * DAY);
        let all = vec![all[0].clone(), all[1].clone(), child];
        assert_eq!(expired(&all, now, 7).len(), 3);
    }

    #[test]
    fn days_are_parsed_or_explained() {
        assert_eq!(parse_days(" 30 "), Ok(30));
        assert!(parse_days("0").is_err());
        assert!(parse_days("91").is_err());
        assert!(parse_days("a week").is_err());
        assert_eq!(from_stored(Some("14")), 14);
        assert_eq!(from_stored(Some("junk")), DEFAULT_DAYS);
        assert_eq!(from_stored(None), DEFAULT_DAYS);
    }

    #[test]
    fn only_synced_writes_past_the_period_expire() {
        let now = 100 * DAY;
        assert!(is_expired(
            &record(SyncStatus::Success, Some(now - 8 * DAY)),
            now,
            7
        ));
        assert!(!is_expired(
            &record(SyncStatus::Success, Some(now - 6 * DAY)),
            now,
            7
        ));
        assert!(!is_expired(
            &record(SyncStatus::Success, Some(now - 8 * DAY)),
            now,
            30
        ));
        for status in [
            SyncStatus::Pending,
            SyncStatus::Failed,
            SyncStatus::Conflict,
            SyncStatus::Blocked,
            SyncStatus::NeedsAuth,
        ] {
            assert!(!is_expired(&record(status, Some(0)), now, 1), "{status:?}");
        }
    }

    #[test]
    fn signing_out_removes_the_users_synced_writes_but_not_what_is_still_needed() {
        let mut parent = record(SyncStatus::Success, Some(1));
        parent.id = "parent".into();
        let mut child = record(SyncStatus::Pending, None);
        child.id = "child".into();
        child.parent_mutation_ids = vec!["parent".into()];
        let mut done = record(SyncStatus::Success, Some(1));
        done.id = "done".into();
        let mut theirs = done.clone();
        theirs.id = "theirs".into();
        theirs.user_id = "someone-else".into();
        let owner = done.user_id.clone();
        let records = [parent, child, done, theirs];
        assert_eq!(on_sign_out(&records, &owner), ["done"]);
    }
}
