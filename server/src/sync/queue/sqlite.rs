//! Queue items in the replica's own `sync.sqlite3` (one connection behind a mutex; every
//! statement is short, and runs on the blocking pool: [`SyncDb::run`]).

use rusqlite::{params, OptionalExtension, Row};

use super::{
    store::{ClaimFrom, Listing, NewItem, Resolve, Settle},
    Item, COLUMNS,
};
use crate::sync::store::{StoreError, SyncDb};

fn read_row(r: &Row<'_>) -> rusqlite::Result<Item> {
    Ok(Item::from_columns(super::Columns {
        id: r.get(0)?,
        user_id: r.get(1)?,
        username: r.get(2)?,
        device_id: r.get(3)?,
        operation: r.get(4)?,
        resource_type: r.get(5)?,
        resource_id: r.get(6)?,
        method: r.get(7)?,
        path: r.get(8)?,
        record_path: r.get(9)?,
        data: r.get(10)?,
        fingerprint: r.get(11)?,
        base_version: r.get(12)?,
        version: r.get(13)?,
        created_at_client: r.get(14)?,
        queued_at_ms: r.get(15)?,
        status: r.get(16)?,
        retry_count: r.get(17)?,
        last_http_status: r.get(18)?,
        last_error: r.get(19)?,
        result_id: r.get(20)?,
        server_record: r.get(21)?,
        resolution: r.get(22)?,
        flagged_at_ms: r.get(23)?,
        flagged_by: r.get(24)?,
    }))
}

pub async fn load(db: &SyncDb, id: &str) -> Result<Option<Item>, StoreError> {
    let id = id.to_string();
    db.run(move |c| {
        c.query_row(
            &format!("SELECT {COLUMNS} FROM queue_item WHERE id = ?1"),
            params![id],
            read_row,
        )
        .optional()
    })
    .await
}

pub async fn insert(db: &SyncDb, new: NewItem) -> Result<bool, StoreError> {
    let NewItem { item: i, now } = new;
    let inserted = db
        .run(move |c| {
            c.execute(
                &format!(
                "INSERT OR IGNORE INTO queue_item ({COLUMNS}, seq, updated_at_ms) VALUES (?1, ?2,
                 ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, 'PENDING', 0,
                 NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                 (SELECT COALESCE(MAX(seq), 0) + 1 FROM queue_item), ?16)"
            ),
                params![
                    i.id,
                    i.user_id,
                    i.username,
                    i.device_id,
                    i.write.operation.as_str(),
                    i.write.resource_type,
                    i.resource_id,
                    i.write.method.as_str(),
                    i.write.path,
                    i.write.record_path,
                    i.write.payload.as_ref().map(ToString::to_string),
                    i.fingerprint,
                    i.write.base_version,
                    i.version,
                    i.created_at_client,
                    now,
                ],
            )
        })
        .await?;
    Ok(inserted == 1)
}

pub async fn list(
    db: &SyncDb,
    user: &str,
    device: Option<&str>,
    listing: Listing,
    stale_before: i64,
) -> Result<Vec<Item>, StoreError> {
    let sql = |which: &str| {
        format!(
            "SELECT {COLUMNS} FROM queue_item WHERE user_id = ?1
               AND (?2 IS NULL OR device_id = ?2) AND {which} ORDER BY seq"
        )
    };
    let (user, device) = (user.to_string(), device.map(str::to_string));
    db.run(move |c| match listing {
        Listing::Unsynced => c
            .prepare(&sql("status <> 'SYNCED'"))?
            .query_map(params![user, device], read_row)?
            .collect::<Result<Vec<_>, _>>(),
        Listing::Retryable => c
            .prepare(&sql(
                "(status IN ('PENDING', 'FAILED') OR (status = 'SYNCING' AND updated_at_ms < ?3))",
            ))?
            .query_map(params![user, device, stale_before], read_row)?
            .collect::<Result<Vec<_>, _>>(),
    })
    .await
}

pub async fn claim(
    db: &SyncDb,
    id: &str,
    from: ClaimFrom,
    now: i64,
    stale_before: i64,
) -> Result<bool, StoreError> {
    let (id, from) = (id.to_string(), from.sql());
    let claimed = db
        .run(move |c| {
            c.execute(
                &format!(
                    "UPDATE queue_item SET status = 'SYNCING', updated_at_ms = ?2
                 WHERE id = ?1 AND (status IN ({from})
                     OR (status = 'SYNCING' AND updated_at_ms < ?3))"
                ),
                params![id, now, stale_before],
            )
        })
        .await?;
    Ok(claimed == 1)
}

pub async fn settle(
    db: &SyncDb,
    id: &str,
    claimed_at: i64,
    settle: Settle,
    now: i64,
) -> Result<bool, StoreError> {
    let id = id.to_string();
    let changed = db
        .run(move |c| match settle {
            Settle::Synced {
                http_status,
                result_id,
                resolution,
            } => c.execute(
                "UPDATE queue_item SET status = 'SYNCED', data = NULL, server_record = NULL,
                   last_error = NULL, last_http_status = ?2, result_id = ?3, resolution = ?4,
                   synced_at_ms = ?5, updated_at_ms = ?5
                 WHERE id = ?1 AND status = 'SYNCING' AND updated_at_ms = ?6",
                params![id, http_status, result_id, resolution, now, claimed_at],
            ),
            Settle::Conflict { server } => c.execute(
                "UPDATE queue_item SET status = 'CONFLICT', server_record = ?2,
                   last_http_status = 409, updated_at_ms = ?3
                 WHERE id = ?1 AND status = 'SYNCING' AND updated_at_ms = ?4",
                params![id, server.to_string(), now, claimed_at],
            ),
            Settle::Failed {
                retry_count,
                http_status,
                error,
            } => c.execute(
                "UPDATE queue_item SET status = 'FAILED', retry_count = ?2, last_http_status = ?3,
                   last_error = ?4, updated_at_ms = ?5
                 WHERE id = ?1 AND status = 'SYNCING' AND updated_at_ms = ?6",
                params![
                    id,
                    retry_count,
                    http_status,
                    error.to_string(),
                    now,
                    claimed_at
                ],
            ),
        })
        .await?;
    Ok(changed == 1)
}

pub async fn resolve(
    db: &SyncDb,
    id: &str,
    resolve: Resolve,
    now: i64,
) -> Result<bool, StoreError> {
    let id = id.to_string();
    let changed = db
        .run(move |c| match resolve {
            Resolve::Discard => c.execute(
                "UPDATE queue_item SET status = 'SYNCED', resolution = 'SERVER_WINS', data = NULL,
                   server_record = NULL, synced_at_ms = ?2, updated_at_ms = ?2
                 WHERE id = ?1 AND status IN ('CONFLICT', 'MANUAL')",
                params![id, now],
            ),
            Resolve::Flag { by } => c.execute(
                "UPDATE queue_item SET status = 'MANUAL', resolution = 'MANUAL',
                   flagged_at_ms = ?2, flagged_by = ?3, updated_at_ms = ?2
                 WHERE id = ?1 AND status = 'CONFLICT'",
                params![id, now, by],
            ),
        })
        .await?;
    Ok(changed == 1)
}

pub async fn flagged(db: &SyncDb) -> Result<Vec<Item>, StoreError> {
    db.run(|c| {
        c.prepare(&format!(
            "SELECT {COLUMNS} FROM queue_item WHERE status = 'MANUAL' ORDER BY flagged_at_ms, seq"
        ))?
        .query_map([], read_row)?
        .collect::<Result<Vec<_>, _>>()
    })
    .await
}

pub async fn prune(db: &SyncDb, cutoff: i64) -> Result<u64, StoreError> {
    let removed = db
        .run(move |c| {
            c.execute(
                "DELETE FROM queue_item WHERE status = 'SYNCED' AND updated_at_ms < ?1",
                params![cutoff],
            )
        })
        .await?;
    Ok(u64::try_from(removed).unwrap_or(u64::MAX))
}
