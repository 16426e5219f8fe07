//! Queue items on PostgreSQL (`sync_queue_item`, migration 3), shared by every replica.
//! A claim is one conditional `UPDATE`: under READ COMMITTED a second replica's update of
//! the same row waits for the first to commit, then finds the status changed and takes
//! nothing — one item is never handed to two senders.

use tokio_postgres::{types::ToSql, Row};

use super::{
    store::{ClaimFrom, Listing, NewItem, Resolve, Settle},
    Columns, Item, COLUMNS,
};
use crate::{
    pg::{Pg, PgError},
    sync::store::StoreError,
};

fn read_row(r: &Row) -> Item {
    Item::from_columns(Columns {
        id: r.get(0),
        user_id: r.get(1),
        username: r.get(2),
        device_id: r.get(3),
        operation: r.get(4),
        resource_type: r.get(5),
        resource_id: r.get(6),
        method: r.get(7),
        path: r.get(8),
        record_path: r.get(9),
        data: r.get(10),
        fingerprint: r.get(11),
        base_version: r.get(12),
        version: r.get(13),
        created_at_client: r.get(14),
        queued_at_ms: r.get(15),
        status: r.get(16),
        retry_count: r.get(17),
        last_http_status: r
            .get::<_, Option<i32>>(18)
            .and_then(|s| u16::try_from(s).ok()),
        last_error: r.get(19),
        result_id: r.get(20),
        server_record: r.get(21),
        resolution: r.get(22),
        flagged_at_ms: r.get(23),
        flagged_by: r.get(24),
    })
}

async fn query(pg: &Pg, sql: &str, args: &[&(dyn ToSql + Sync)]) -> Result<Vec<Item>, StoreError> {
    let client = pg.client().await?;
    let rows = client.query(sql, args).await.map_err(PgError::from)?;
    Ok(rows.iter().map(read_row).collect())
}

async fn execute(pg: &Pg, sql: &str, args: &[&(dyn ToSql + Sync)]) -> Result<u64, StoreError> {
    let client = pg.client().await?;
    Ok(client.execute(sql, args).await.map_err(PgError::from)?)
}

pub async fn load(pg: &Pg, id: &str) -> Result<Option<Item>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM sync_queue_item WHERE id = $1");
    Ok(query(pg, &sql, &[&id]).await?.into_iter().next())
}

pub async fn insert(pg: &Pg, new: &NewItem) -> Result<bool, StoreError> {
    let i = &new.item;
    let data = i.write.payload.as_ref().map(ToString::to_string);
    let sql = format!(
        "INSERT INTO sync_queue_item ({COLUMNS}, updated_at_ms) VALUES ($1, $2, $3, $4, $5, $6,
         $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 'PENDING', 0, NULL, NULL, NULL, NULL,
         NULL, NULL, NULL, $16)
         ON CONFLICT (id) DO NOTHING"
    );
    let inserted = execute(
        pg,
        &sql,
        &[
            &i.id,
            &i.user_id,
            &i.username,
            &i.device_id,
            &i.write.operation.as_str(),
            &i.write.resource_type,
            &i.resource_id,
            &i.write.method.as_str(),
            &i.write.path,
            &i.write.record_path,
            &data,
            &i.fingerprint,
            &i.write.base_version,
            &i.version,
            &i.created_at_client,
            &new.now,
        ],
    )
    .await?;
    Ok(inserted == 1)
}

pub async fn list(
    pg: &Pg,
    user: &str,
    device: Option<&str>,
    listing: Listing,
    stale_before: i64,
) -> Result<Vec<Item>, StoreError> {
    let sql = |which: &str| {
        format!(
            "SELECT {COLUMNS} FROM sync_queue_item WHERE user_id = $1
               AND ($2::TEXT IS NULL OR device_id = $2) AND {which} ORDER BY seq"
        )
    };
    match listing {
        Listing::Unsynced => query(pg, &sql("status <> 'SYNCED'"), &[&user, &device]).await,
        Listing::Retryable => {
            query(
                pg,
                &sql("(status IN ('PENDING', 'FAILED')
                       OR (status = 'SYNCING' AND updated_at_ms < $3))"),
                &[&user, &device, &stale_before],
            )
            .await
        }
    }
}

pub async fn claim(
    pg: &Pg,
    id: &str,
    from: ClaimFrom,
    now: i64,
    stale_before: i64,
) -> Result<bool, StoreError> {
    let sql = format!(
        "UPDATE sync_queue_item SET status = 'SYNCING', updated_at_ms = $2
         WHERE id = $1 AND (status IN ({})
             OR (status = 'SYNCING' AND updated_at_ms < $3))",
        from.sql()
    );
    Ok(execute(pg, &sql, &[&id, &now, &stale_before]).await? == 1)
}

pub async fn settle(
    pg: &Pg,
    id: &str,
    claimed_at: i64,
    settle: &Settle,
    now: i64,
) -> Result<bool, StoreError> {
    let changed =
        match settle {
            Settle::Synced {
                http_status,
                result_id,
                resolution,
            } => execute(
                pg,
                "UPDATE sync_queue_item SET status = 'SYNCED', data = NULL, server_record = NULL,
                   last_error = NULL, last_http_status = $2, result_id = $3, resolution = $4,
                   synced_at_ms = $5, updated_at_ms = $5
                 WHERE id = $1 AND status = 'SYNCING' AND updated_at_ms = $6",
                &[
                    &id,
                    &i32::from(*http_status),
                    result_id,
                    resolution,
                    &now,
                    &claimed_at,
                ],
            )
            .await?,
            Settle::Conflict { server } => {
                execute(
                    pg,
                    "UPDATE sync_queue_item SET status = 'CONFLICT', server_record = $2,
                   last_http_status = 409, updated_at_ms = $3
                 WHERE id = $1 AND status = 'SYNCING' AND updated_at_ms = $4",
                    &[&id, &server.to_string(), &now, &claimed_at],
                )
                .await?
            }
            Settle::Failed {
                retry_count,
                http_status,
                error,
            } => {
                execute(
                    pg,
                    "UPDATE sync_queue_item SET status = 'FAILED', retry_count = $2,
                   last_http_status = $3, last_error = $4, updated_at_ms = $5
                 WHERE id = $1 AND status = 'SYNCING' AND updated_at_ms = $6",
                    &[
                        &id,
                        retry_count,
                        &i32::from(*http_status),
                        &error.to_string(),
                        &now,
                        &claimed_at,
                    ],
                )
                .await?
            }
        };
    Ok(changed == 1)
}

pub async fn resolve(pg: &Pg, id: &str, resolve: &Resolve, now: i64) -> Result<bool, StoreError> {
    let changed = match resolve {
        Resolve::Discard => {
            execute(
                pg,
                "UPDATE sync_queue_item SET status = 'SYNCED', resolution = 'SERVER_WINS',
                   data = NULL, server_record = NULL, synced_at_ms = $2, updated_at_ms = $2
                 WHERE id = $1 AND status IN ('CONFLICT', 'MANUAL')",
                &[&id, &now],
            )
            .await?
        }
        Resolve::Flag { by } => {
            execute(
                pg,
                "UPDATE sync_queue_item SET status = 'MANUAL', resolution = 'MANUAL',
                   flagged_at_ms = $2, flagged_by = $3, updated_at_ms = $2
                 WHERE id = $1 AND status = 'CONFLICT'",
                &[&id, &now, by],
            )
            .await?
        }
    };
    Ok(changed == 1)
}

pub async fn flagged(pg: &Pg) -> Result<Vec<Item>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM sync_queue_item WHERE status = 'MANUAL'
         ORDER BY flagged_at_ms, seq"
    );
    query(pg, &sql, &[]).await
}

pub async fn prune(pg: &Pg, cutoff: i64) -> Result<u64, StoreError> {
    execute(
        pg,
        "DELETE FROM sync_queue_item WHERE status = 'SYNCED' AND updated_at_ms < $1",
        &[&cutoff],
    )
    .await
}
