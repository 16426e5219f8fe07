//! The audit trail: one row per sync operation (who, device, what route and resource id,
//! when, outcome, resolution). It never holds payloads or response bodies, and routes are
//! kept without their query string (which may carry a phone number or a name). Rows older
//! than the configured retention are pruned when the server starts and then at most once an
//! hour, on the next write.

use std::sync::{
    atomic::{AtomicI64, Ordering},
    Arc,
};

use rusqlite::params;

use super::store::{now_ms, StoreError, SyncDb};

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
    db: SyncDb,
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

impl Audit {
    /// Opens the trail and prunes it once.
    pub fn new(db: SyncDb, retention_days: u32) -> Result<Self, StoreError> {
        let audit = Self {
            db,
            retention_ms: i64::from(retention_days) * 24 * 3600 * 1000,
            last_prune: Arc::new(AtomicI64::new(0)),
        };
        audit.prune(now_ms())?;
        Ok(audit)
    }

    pub fn retention_days(&self) -> i64 {
        self.retention_ms / (24 * 3600 * 1000)
    }

    /// Deletes what is older than the retention: audit rows, settled queue items (their
    /// payloads went at sync time already) and push-ledger rows past the idempotency TTL.
    pub fn prune(&self, now: i64) -> Result<usize, StoreError> {
        self.last_prune.store(now, Ordering::Relaxed);
        let cutoff = now - self.retention_ms;
        self.db.with(|c| {
            let audit = c.execute("DELETE FROM audit WHERE at_ms < ?1", params![cutoff])?;
            c.execute(
                "DELETE FROM queue_item WHERE status = 'SYNCED' AND updated_at_ms < ?1",
                params![cutoff],
            )?;
            c.execute(
                "DELETE FROM push_ledger WHERE at_ms < ?1",
                params![now - crate::retention::secs() * 1000],
            )?;
            Ok(audit)
        })
    }

    pub fn record(&self, e: &Entry) -> Result<(), StoreError> {
        let now = now_ms();
        if now - self.last_prune.load(Ordering::Relaxed) > PRUNE_EVERY_MS {
            self.prune(now)?;
        }
        self.db.with(|c| {
            c.execute(
                "INSERT INTO audit (at_ms, user_id, username, device_id, kind, item_id, operation,
                    resource_type, method, route, resource_id, outcome, http_status, resolution, detail)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
                params![
                    now,
                    e.user_id,
                    e.username,
                    e.device_id,
                    e.kind,
                    e.item_id,
                    e.operation,
                    e.resource_type,
                    e.method,
                    e.route.as_deref().map(route_only),
                    e.resource_id,
                    e.outcome,
                    e.http_status,
                    e.resolution,
                    e.detail,
                ],
            )
            .map(|_| ())
        })
    }

    /// Records, logging (not failing the operation) when the trail cannot be written: the
    /// write itself has already happened and its answer must reach the device.
    pub fn log(&self, e: &Entry) {
        if let Err(err) = self.record(e) {
            tracing::error!("audit: {err}");
        }
    }

    pub fn db(&self) -> &SyncDb {
        &self.db
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

pub fn latest_outcomes(db: &SyncDb, user: Option<&str>) -> Result<Vec<OutcomeRow>, StoreError> {
    db.with(|c| {
        let mut stmt = c.prepare(
            "SELECT a.user_id, a.username, COALESCE(a.device_id, ''), a.outcome, COUNT(*),
                    MIN(first.at_ms)
             FROM audit a
             JOIN (SELECT MAX(seq) AS seq, MIN(at_ms) AS at_ms FROM audit
                   WHERE item_id IS NOT NULL AND (?1 IS NULL OR user_id = ?1)
                   GROUP BY user_id, item_id) first ON first.seq = a.seq
             GROUP BY a.user_id, a.username, COALESCE(a.device_id, ''), a.outcome
             ORDER BY a.user_id, 3",
        )?;
        let rows = stmt
            .query_map(params![user], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn audit(days: u32) -> (tempfile::TempDir, Audit) {
        let dir = tempfile::tempdir().expect("tmp");
        let db = SyncDb::open(&dir.path().join("s.sqlite3")).expect("open");
        (dir, Audit::new(db, days).expect("audit"))
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

    #[test]
    fn latest_outcome_per_item_counts_once() {
        let (_d, a) = audit(90);
        a.record(&entry("i1", "failed")).expect("rec");
        a.record(&entry("i1", "synced")).expect("rec");
        a.record(&entry("i2", "conflict")).expect("rec");
        let rows = latest_outcomes(a.db(), Some("u1")).expect("rows");
        let mut counts = Counts::default();
        for (_, _, _, outcome, n, _) in &rows {
            counts.add(outcome, *n);
        }
        assert_eq!(counts.total, 2);
        assert_eq!((counts.synced, counts.conflicts, counts.failed), (1, 1, 0));
        assert_eq!(Counts::rate(1, 3), 33.33);
        let route: String = a
            .db()
            .with(|c| c.query_row("SELECT route FROM audit LIMIT 1", [], |r| r.get(0)))
            .expect("route");
        assert_eq!(route, "/api/v1/patient/", "no query string in the trail");
    }

    #[test]
    fn prune_drops_rows_past_retention() {
        let (_d, a) = audit(1);
        a.record(&entry("old", "synced")).expect("rec");
        a.db()
            .with(|c| c.execute("UPDATE audit SET at_ms = at_ms - 2 * 86400000", []))
            .expect("age");
        a.record(&entry("new", "synced")).expect("rec");
        assert_eq!(a.prune(now_ms()).expect("prune"), 1);
        let left: i64 = a
            .db()
            .with(|c| c.query_row("SELECT COUNT(*) FROM audit", [], |r| r.get(0)))
            .expect("count");
        assert_eq!(left, 1);
    }
}
