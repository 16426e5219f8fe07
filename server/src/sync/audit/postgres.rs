//! The trail and the ledger on PostgreSQL (`--store postgres://…`), shared by every replica
//! (tables `sync_audit` and `sync_push_ledger`, migration 2). Pruning the shared rows runs
//! on one replica at a time (an advisory lock; the others skip it).

use super::{route_only, Entry, LastActivity, OutcomeRow};
use crate::{
    pg::{Pg, PgError, TRAIL_PRUNE_LOCK},
    sync::store::StoreError,
};

pub async fn prune(pg: &Pg, cutoff: i64, ledger_cutoff: i64) -> Result<usize, StoreError> {
    let mut client = pg.client().await?;
    let tx = client.transaction().await.map_err(PgError::from)?;
    let mine: bool = tx
        .query_one("SELECT pg_try_advisory_xact_lock($1)", &[&TRAIL_PRUNE_LOCK])
        .await
        .map_err(PgError::from)?
        .get(0);
    let removed = if mine {
        let removed = tx
            .execute("DELETE FROM sync_audit WHERE at_ms < $1", &[&cutoff])
            .await
            .map_err(PgError::from)?;
        tx.execute(
            "DELETE FROM sync_push_ledger WHERE at_ms < $1",
            &[&ledger_cutoff],
        )
        .await
        .map_err(PgError::from)?;
        removed
    } else {
        0
    };
    tx.commit().await.map_err(PgError::from)?;
    Ok(usize::try_from(removed).unwrap_or(usize::MAX))
}

pub async fn record(pg: &Pg, now: i64, e: &Entry) -> Result<(), StoreError> {
    let client = pg.client().await?;
    let route = e.route.as_deref().map(route_only);
    let status = e.http_status.map(i32::from);
    client
        .execute(
            "INSERT INTO sync_audit (at_ms, user_id, username, device_id, kind, item_id,
                operation, resource_type, method, route, resource_id, outcome, http_status,
                resolution, detail)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
            &[
                &now,
                &e.user_id,
                &e.username,
                &e.device_id,
                &e.kind,
                &e.item_id,
                &e.operation,
                &e.resource_type,
                &e.method,
                &route,
                &e.resource_id,
                &e.outcome,
                &status,
                &e.resolution,
                &e.detail,
            ],
        )
        .await
        .map_err(PgError::from)?;
    Ok(())
}

pub async fn latest_outcomes(pg: &Pg, user: Option<&str>) -> Result<Vec<OutcomeRow>, StoreError> {
    let client = pg.client().await?;
    let rows = client
        .query(
            "SELECT a.user_id, a.username, COALESCE(a.device_id, ''), a.outcome, COUNT(*),
                    MIN(first.at_ms)
             FROM sync_audit a
             JOIN (SELECT MAX(seq) AS seq, MIN(at_ms) AS at_ms FROM sync_audit
                   WHERE item_id IS NOT NULL AND ($1::TEXT IS NULL OR user_id = $1)
                   GROUP BY user_id, item_id) first ON first.seq = a.seq
             GROUP BY a.user_id, a.username, COALESCE(a.device_id, ''), a.outcome
             ORDER BY a.user_id, 3",
            &[&user],
        )
        .await
        .map_err(PgError::from)?;
    Ok(rows
        .iter()
        .map(|r| {
            (
                r.get(0),
                r.get(1),
                r.get(2),
                r.get(3),
                r.get(4),
                r.get::<_, Option<i64>>(5).unwrap_or_default(),
            )
        })
        .collect())
}

pub async fn last_activity(pg: &Pg) -> Result<LastActivity, StoreError> {
    let client = pg.client().await?;
    let rows = client
        .query(
            "SELECT user_id, COALESCE(device_id, ''), MAX(at_ms) FROM sync_audit
             GROUP BY user_id, COALESCE(device_id, '')",
            &[],
        )
        .await
        .map_err(PgError::from)?;
    Ok(rows
        .iter()
        .map(|r| ((r.get(0), r.get(1)), r.get(2)))
        .collect())
}

pub async fn ledger_get(pg: &Pg, user: &str, item: &str) -> Result<Option<String>, StoreError> {
    let client = pg.client().await?;
    let row = client
        .query_opt(
            "SELECT fingerprint FROM sync_push_ledger WHERE user_id = $1 AND item_id = $2",
            &[&user, &item],
        )
        .await
        .map_err(PgError::from)?;
    Ok(row.map(|r| r.get(0)))
}

pub async fn ledger_put(
    pg: &Pg,
    user: &str,
    item: &str,
    fingerprint: &str,
    outcome: &str,
    now: i64,
) -> Result<(), StoreError> {
    let client = pg.client().await?;
    client
        .execute(
            "INSERT INTO sync_push_ledger (user_id, item_id, fingerprint, outcome, at_ms)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (user_id, item_id) DO UPDATE
             SET fingerprint = EXCLUDED.fingerprint, outcome = EXCLUDED.outcome,
                 at_ms = EXCLUDED.at_ms",
            &[&user, &item, &fingerprint, &outcome, &now],
        )
        .await
        .map_err(PgError::from)?;
    Ok(())
}
