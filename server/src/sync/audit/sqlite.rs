//! The trail and the ledger in the replica's own `sync.sqlite3` (one server, the default).
//! Every statement is short, and runs on the blocking pool ([`SyncDb::run`]).

use rusqlite::{params, OptionalExtension};

use super::{route_only, Entry, LastActivity, OutcomeRow};
use crate::sync::store::{StoreError, SyncDb};

pub async fn prune(db: &SyncDb, cutoff: i64, ledger_cutoff: i64) -> Result<usize, StoreError> {
    db.run(move |c| {
        let audit = c.execute("DELETE FROM audit WHERE at_ms < ?1", params![cutoff])?;
        c.execute(
            "DELETE FROM push_ledger WHERE at_ms < ?1",
            params![ledger_cutoff],
        )?;
        Ok(audit)
    })
    .await
}

pub async fn record(db: &SyncDb, now: i64, e: &Entry) -> Result<(), StoreError> {
    let e = e.clone();
    db.run(move |c| {
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
    .await
}

pub async fn latest_outcomes(
    db: &SyncDb,
    user: Option<&str>,
) -> Result<Vec<OutcomeRow>, StoreError> {
    let user = user.map(str::to_string);
    db.run(move |c| {
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
    .await
}

pub async fn last_activity(db: &SyncDb) -> Result<LastActivity, StoreError> {
    db.run(|c| {
        c.prepare(
            "SELECT user_id, COALESCE(device_id, ''), MAX(at_ms) FROM audit
             GROUP BY user_id, COALESCE(device_id, '')",
        )?
        .query_map(params![], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))?
        .collect::<Result<_, _>>()
    })
    .await
}

pub async fn ledger_get(db: &SyncDb, user: &str, item: &str) -> Result<Option<String>, StoreError> {
    let (user, item) = (user.to_string(), item.to_string());
    db.run(move |c| {
        c.query_row(
            "SELECT fingerprint FROM push_ledger WHERE user_id = ?1 AND item_id = ?2",
            params![user, item],
            |r| r.get(0),
        )
        .optional()
    })
    .await
}

pub async fn ledger_put(
    db: &SyncDb,
    user: &str,
    item: &str,
    fingerprint: &str,
    outcome: &str,
    now: i64,
) -> Result<(), StoreError> {
    let row = [user, item, fingerprint, outcome].map(str::to_string);
    db.run(move |c| {
        let [user, item, fingerprint, outcome] = row;
        c.execute(
            "INSERT OR REPLACE INTO push_ledger (user_id, item_id, fingerprint, outcome, at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![user, item, fingerprint, outcome, now],
        )
        .map(|_| ())
    })
    .await
}
