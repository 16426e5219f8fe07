//! The audit trail: one row per sync operation (who, device, what route and resource id,
//! when, outcome, resolution). It never holds payloads or response bodies, and routes are
//! kept without their query string (which may carry a phone number or a name). Rows older
//! than the configured retention are pruned when the server starts and then at most once an
//! hour, on the next write.
//!
//! Beside it, the push ledger: which item a user's earlier push settled, and how.
//!
//! Both live where the proxy's idempotency keys live: in `sync.sqlite3` by default
//! ([`sqlite`]), or on PostgreSQL with `--store postgres://…` ([`postgres`]), where every
//! replica reads and writes the same rows.

mod postgres;
mod sqlite;

use std::{
    collections::BTreeMap,
    sync::{
        atomic::{AtomicI64, Ordering},
        Arc,
    },
};

use super::store::{now_ms, Backing, StoreError, SyncDb};
use crate::pg::Pg;

/// How often pruning runs at most.
const PRUNE_EVERY_MS: i64 = 3600 * 1000;

/// One audited operation. Only ids, routes and outcomes: no patient data.
#[derive(Debug, Clone, Default)]
pub struct Entry {
    pub user_id: String,
    pub username: String,
    pub device_id: Option<String>,
    /// push | queue | process | resolve | retry | pull
    pub kind: &'static str,
    pub item_id: Option<String>,
    pub operation: Option<String>,
    pub resource_type: Option<String>,
    pub method: Option<String>,
    pub route: Option<String>,
    pub resource_id: Option<String>,
    /// queued | synced | conflict | failed | blocked | skipped | manual | discarded | ok
    pub outcome: &'static str,
    pub http_status: Option<u16>,
    pub resolution: Option<String>,
    /// A short machine code (`stale_base`, `blocked_by:<item id>`), never a body.
    pub detail: Option<String>,
}

#[derive(Clone)]
pub struct Audit {
    trail: Backing,
    retention_ms: i64,
    last_prune: Arc<AtomicI64>,
}

/// The path of a route without its query string.
pub fn route_only(path: &str) -> String {
    path.split(['?', '#'])
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Per (user, device): when the trail last saw them (ms since the epoch).
pub type LastActivity = BTreeMap<(String, String), i64>;

impl Audit {
    /// The trail in the replica's own `sync.sqlite3`, pruned once.
    pub async fn sqlite(db: SyncDb, retention_days: u32) -> Result<Self, StoreError> {
        Self::open(Backing::Sqlite(db), retention_days).await
    }

    /// The trail on the shared PostgreSQL store, pruned once.
    pub async fn postgres(pg: Pg, retention_days: u32) -> Result<Self, StoreError> {
        Self::open(Backing::Postgres(pg), retention_days).await
    }

    async fn open(trail: Backing, retention_days: u32) -> Result<Self, StoreError> {
        let audit = Self {
            trail,
            retention_ms: i64::from(retention_days) * 24 * 3600 * 1000,
            last_prune: Arc::new(AtomicI64::new(0)),
        };
        audit.prune(now_ms()).await?;
        Ok(audit)
    }

    pub fn retention_days(&self) -> i64 {
        self.retention_ms / (24 * 3600 * 1000)
    }

    /// Deletes what is older than the retention: audit rows, and push-ledger rows past the
    /// idempotency TTL. Returns the audit rows removed (none when another replica is
    /// pruning the shared trail right now).
    pub async fn prune(&self, now: i64) -> Result<usize, StoreError> {
        self.last_prune.store(now, Ordering::Relaxed);
        let cutoff = now - self.retention_ms;
        let ledger_cutoff = now - crate::retention::secs() * 1000;
        match &self.trail {
            Backing::Sqlite(db) => sqlite::prune(db, cutoff, ledger_cutoff).await,
            Backing::Postgres(pg) => postgres::prune(pg, cutoff, ledger_cutoff).await,
        }
    }

    pub async fn record(&self, e: &Entry) -> Result<(), StoreError> {
        let now = now_ms();
        if now - self.last_prune.load(Ordering::Relaxed) > PRUNE_EVERY_MS {
            self.prune(now).await?;
        }
        match &self.trail {
            Backing::Sqlite(db) => sqlite::record(db, now, e).await,
            Backing::Postgres(pg) => postgres::record(pg, now, e).await,
        }
    }

    /// Records, logging (not failing the operation) when the trail cannot be written: the
    /// write itself has already happened and its answer must reach the device.
    pub async fn log(&self, e: &Entry) {
        if let Err(err) = self.record(e).await {
            tracing::error!("audit: {err}");
        }
    }

    /// Per (user, device): each item counted once, by its latest audited outcome. `user`
    /// limits to one user.
    pub async fn latest_outcomes(&self, user: Option<&str>) -> Result<Vec<OutcomeRow>, StoreError> {
        match &self.trail {
            Backing::Sqlite(db) => sqlite::latest_outcomes(db, user).await,
            Backing::Postgres(pg) => postgres::latest_outcomes(pg, user).await,
        }
    }

    /// When each (user, device) was last seen in the trail.
    pub async fn last_activity(&self) -> Result<LastActivity, StoreError> {
        match &self.trail {
            Backing::Sqlite(db) => sqlite::last_activity(db).await,
            Backing::Postgres(pg) => postgres::last_activity(pg).await,
        }
    }

    /// The push ledger: the fingerprint of the item an earlier push of `user` settled.
    pub async fn ledger_get(&self, user: &str, item: &str) -> Result<Option<String>, StoreError> {
        match &self.trail {
            Backing::Sqlite(db) => sqlite::ledger_get(db, user, item).await,
            Backing::Postgres(pg) => postgres::ledger_get(pg, user, item).await,
        }
    }

    pub async fn ledger_put(
        &self,
        user: &str,
        item: &str,
        fingerprint: &str,
        outcome: &str,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        match &self.trail {
            Backing::Sqlite(db) => {
                sqlite::ledger_put(db, user, item, fingerprint, outcome, now).await
            }
            Backing::Postgres(pg) => {
                postgres::ledger_put(pg, user, item, fingerprint, outcome, now).await
            }
        }
    }
}

/// Counts of items by their latest outcome, for `stats` and `health`.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub total: i64,
    pub pending: i64,
    pub synced: i64,
    pub failed: i64,
    pub conflicts: i64,
    pub blocked: i64,
}

impl Counts {
    pub fn add(&mut self, outcome: &str, n: i64) {
        self.total += n;
        match outcome {
            "synced" | "discarded" => self.synced += n,
            "failed" => self.failed += n,
            "conflict" | "manual" => self.conflicts += n,
            "blocked" => self.blocked += n,
            // queued, skipped: still to be sent.
            _ => self.pending += n,
        }
    }

    /// `part / total` in percent, two decimals.
    pub fn rate(part: i64, total: i64) -> f64 {
        if total == 0 {
            return 0.0;
        }
        ((part as f64 / total as f64) * 10000.0).round() / 100.0
    }
}

/// Per (user, device): each item counted once, by its latest audited outcome. `user` limits
/// to one user. Rows: (user_id, username, device_id, outcome, count, oldest at_ms of those).
pub type OutcomeRow = (String, String, String, String, i64, i64);

#[cfg(test)]
mod tests {
    use super::*;

    async fn audit(days: u32) -> (tempfile::TempDir, SyncDb, Audit) {
        let dir = tempfile::tempdir().expect("tmp");
        let db = SyncDb::open(&dir.path().join("s.sqlite3")).expect("open");
        let audit = Audit::sqlite(db.clone(), days).await.expect("audit");
        (dir, db, audit)
    }

    fn entry(item: &str, outcome: &'static str) -> Entry {
        Entry {
            user_id: "u1".into(),
            username: "care-doctor".into(),
            device_id: Some("d1".into()),
            kind: "push",
            item_id: Some(item.into()),
            route: Some("/api/v1/patient/?phone_number=+919".into()),
            outcome,
            ..Entry::default()
        }
    }

    #[tokio::test]
    async fn latest_outcome_per_item_counts_once() {
        let (_d, db, a) = audit(90).await;
        a.record(&entry("i1", "failed")).await.expect("rec");
        a.record(&entry("i1", "synced")).await.expect("rec");
        a.record(&entry("i2", "conflict")).await.expect("rec");
        let rows = a.latest_outcomes(Some("u1")).await.expect("rows");
        let mut counts = Counts::default();
        for (_, _, _, outcome, n, _) in &rows {
            counts.add(outcome, *n);
        }
        assert_eq!(counts.total, 2);
        assert_eq!((counts.synced, counts.conflicts, counts.failed), (1, 1, 0));
        assert_eq!(Counts::rate(1, 3), 33.33);
        let route: String = db
            .with(|c| c.query_row("SELECT route FROM audit LIMIT 1", [], |r| r.get(0)))
            .expect("route");
        assert_eq!(route, "/api/v1/patient/", "no query string in the trail");
    }

    #[tokio::test]
    async fn prune_drops_rows_past_retention() {
        let (_d, db, a) = audit(1).await;
        a.record(&entry("old", "synced")).await.expect("rec");
        db.with(|c| c.execute("UPDATE audit SET at_ms = at_ms - 2 * 86400000", []))
            .expect("age");
        a.record(&entry("new", "synced")).await.expect("rec");
        assert_eq!(a.prune(now_ms()).await.expect("prune"), 1);
        let left: i64 = db
            .with(|c| c.query_row("SELECT COUNT(*) FROM audit", [], |r| r.get(0)))
            .expect("count");
        assert_eq!(left, 1);
    }
}
