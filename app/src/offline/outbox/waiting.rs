//! Who has writes waiting on this device, kept where the sign-in page can read it.
//!
//! A session can end with writes still queued (CARE revoked the tokens, the person signed
//! out). Their records stay in the owner's own database, which nobody else opens; this
//! small list — user, name, how many writes of which kind, never a payload or a patient —
//! lets the sign-in page say "3 changes saved on this device are waiting for Asha's
//! sign-in" before anyone signs in, and tell a different user those stay with their owner.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{registry::route, OutboxRecord, SyncStatus};

/// localStorage key of the list (plain: it holds no patient data).
pub const STORAGE_KEY: &str = "care_offline_waiting";

/// One user's writes not yet on the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiting {
    pub user_id: String,
    pub username: String,
    /// As the person is greeted ("Asha Nair"; the username when CARE has no name).
    pub name: String,
    /// Write kind ("Register patient") → how many.
    pub kinds: BTreeMap<String, usize>,
}

impl Waiting {
    /// The writes of `user_id` in `records` that have not reached the server.
    pub fn of(user_id: &str, username: &str, name: &str, records: &[OutboxRecord]) -> Self {
        let mut kinds = BTreeMap::new();
        for r in records
            .iter()
            .filter(|r| r.user_id == user_id && r.sync_status != SyncStatus::Success)
        {
            let kind = route(&r.sync_route_key).map_or("Change", |r| r.label);
            *kinds.entry(kind.to_string()).or_insert(0) += 1;
        }
        Self {
            user_id: user_id.to_string(),
            username: username.to_string(),
            name: if name.trim().is_empty() {
                username.to_string()
            } else {
                name.trim().to_string()
            },
            kinds,
        }
    }

    pub fn count(&self) -> usize {
        self.kinds.values().sum()
    }

    /// "3 changes saved on this device are waiting for Asha Nair's sign-in."
    pub fn headline(&self) -> String {
        let n = self.count();
        let (changes, are) = if n == 1 {
            ("change", "is")
        } else {
            ("changes", "are")
        };
        format!(
            "{n} {changes} saved on this device {are} waiting for {}'s sign-in.",
            self.name
        )
    }

    /// "2 × Register patient, 1 × Book appointment".
    pub fn breakdown(&self) -> String {
        self.kinds
            .iter()
            .map(|(kind, n)| format!("{n} × {kind}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Said to someone about to sign in (or signed in) as another user.
    pub fn stays_with_owner(&self) -> String {
        format!(
            "They stay on this device for {}: signing in as someone else does not send or show them.",
            self.name
        )
    }

    /// Whether `username` (as typed on the sign-in form) is this list's owner.
    pub fn is_owner(&self, username: &str) -> bool {
        self.username.eq_ignore_ascii_case(username.trim())
    }
}

/// The stored list; anything unreadable counts as empty (it is only a notice).
pub fn parse(stored: Option<&str>) -> Vec<Waiting> {
    stored
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_default()
}

/// The list as this browser keeps it (empty while rendering on the server).
pub fn stored() -> Vec<Waiting> {
    parse(crate::session::storage::get(STORAGE_KEY).as_deref())
}

/// `list` with `entry` replacing its user's (or without that user when nothing waits).
pub fn with(list: &[Waiting], entry: Waiting) -> Vec<Waiting> {
    let mut out: Vec<Waiting> = list
        .iter()
        .filter(|w| w.user_id != entry.user_id)
        .cloned()
        .collect();
    if entry.count() > 0 {
        out.push(entry);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(user: &str, key: &str, status: SyncStatus) -> OutboxRecord {
        let mut r = OutboxRecord::new(
            uuid::Uuid::new_v4().to_string(),
            user.into(),
            "d".into(),
            route(key).expect("route"),
            BTreeMap::new(),
            serde_json::json!({"name": "Patient Name"}),
            0,
        );
        r.sync_status = status;
        r
    }

    #[test]
    fn counts_what_has_not_reached_the_server_by_kind() {
        let records = [
            rec("u1", "patient.create", SyncStatus::NeedsAuth),
            rec("u1", "patient.create", SyncStatus::Pending),
            rec("u1", "patient.create", SyncStatus::Success),
            rec("u1", "appointment.create", SyncStatus::Failed),
            rec("u2", "patient.create", SyncStatus::Pending),
        ];
        let w = Waiting::of("u1", "care-nurse", "Asha Nair", &records);
        assert_eq!(w.count(), 3);
        assert_eq!(
            w.headline(),
            "3 changes saved on this device are waiting for Asha Nair's sign-in."
        );
        assert_eq!(w.breakdown(), "1 × Book appointment, 2 × Register patient");
        let one = Waiting::of("u2", "care-doctor", " ", &records);
        assert_eq!(
            one.headline(),
            "1 change saved on this device is waiting for care-doctor's sign-in."
        );
    }

    #[test]
    fn the_list_keeps_one_entry_per_user_and_drops_users_with_nothing_waiting() {
        let records = [rec("u1", "patient.create", SyncStatus::Pending)];
        let a = Waiting::of("u1", "a", "A", &records);
        let b = Waiting::of(
            "u2",
            "b",
            "B",
            &[rec("u2", "patient.create", SyncStatus::Pending)],
        );
        let list = with(&with(&[], a.clone()), b.clone());
        assert_eq!(list.len(), 2);
        let list = with(&list, Waiting::of("u1", "a", "A", &[]));
        assert_eq!(list, vec![b]);
        let stored = serde_json::to_string(&list).expect("json");
        assert_eq!(parse(Some(&stored)), list);
        assert!(parse(Some("not json")).is_empty());
        assert!(parse(None).is_empty());
    }

    #[test]
    fn the_owner_is_recognised_as_typed() {
        let w = Waiting::of("u1", "care-nurse", "Asha", &[]);
        assert!(w.is_owner(" Care-Nurse "));
        assert!(!w.is_owner("care-doctor"));
    }
}
