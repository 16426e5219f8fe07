//! The shared idempotency store: every replica on one PostgreSQL.
//!
//! - A key is claimed by one statement (`INSERT … ON CONFLICT`): when the same key reaches
//!   two replicas at once, one inserts and forwards, the other reads the row and answers
//!   in flight (or, later, replays the stored answer).
//! - A replica that stops while CARE has a write cannot mark it unknown at its restart, as
//!   the single SQLite server does: another replica may be forwarding it. Instead a claim
//!   older than `in_flight_limit` (longer than any replica waits for CARE) is unknown.
//! - Keys past the retention are replaced by a new claim, and pruned by one replica at a
//!   time (an advisory lock), at most once a minute per replica.

use std::{
    sync::{
        atomic::{AtomicI64, Ordering},
        Arc,
    },
    time::Duration,
};

use crate::pg::{Pg, PRUNE_LOCK};

use super::{Claim, IdempotencyError, Row, StoreHealth};

/// Seconds between two prunes by one replica.
const PRUNE_EVERY: i64 = 60;

#[derive(Clone)]
pub struct PgStore {
    pg: Pg,
    in_flight_limit: i64,
    last_prune: Arc<AtomicI64>,
}

impl PgStore {
    pub fn new(pg: Pg, in_flight_limit: Duration) -> Self {
        Self {
            pg,
            in_flight_limit: i64::try_from(in_flight_limit.as_secs()).unwrap_or(i64::MAX),
            last_prune: Arc::new(AtomicI64::new(0)),
        }
    }

    pub async fn claim(
        &self,
        user: &str,
        key: &str,
        fingerprint: &str,
        at: i64,
        cutoff: i64,
    ) -> Result<Claim, IdempotencyError> {
        self.prune_now_and_then(at, cutoff);
        let client = self.pg.client().await?;
        // A row removed between the claim and the read (abandoned, pruned) is claimed again.
        for _ in 0..3 {
            let claimed = client
                .execute(
                    "INSERT INTO proxy_idempotency
                         (user_key, idem_key, fingerprint, created_at, claimed_at)
                     VALUES ($1, $2, $3, $4, $4)
                     ON CONFLICT (user_key, idem_key) DO UPDATE
                        SET fingerprint = EXCLUDED.fingerprint, status = NULL,
                            content_type = NULL, body = NULL, unknown = FALSE, sealed = FALSE,
                            created_at = EXCLUDED.created_at, claimed_at = EXCLUDED.claimed_at
                        WHERE proxy_idempotency.created_at < $5",
                    &[&user, &key, &fingerprint, &at, &cutoff],
                )
                .await
                .map_err(crate::pg::PgError::from)?;
            if claimed == 1 {
                return Ok(Claim::Started);
            }
            let row = client
                .query_opt(
                    "SELECT fingerprint, status, content_type, body, unknown, sealed, claimed_at
                     FROM proxy_idempotency WHERE user_key = $1 AND idem_key = $2",
                    &[&user, &key],
                )
                .await
                .map_err(crate::pg::PgError::from)?;
            let Some(row) = row else {
                continue;
            };
            let status: Option<i32> = row.get(1);
            let claimed_at: i64 = row.get(6);
            let mut unknown: bool = row.get(4);
            if status.is_none() && !unknown && claimed_at < at - self.in_flight_limit {
                // No replica waits for CARE this long: the one forwarding it stopped.
                client
                    .execute(
                        "UPDATE proxy_idempotency SET unknown = TRUE
                         WHERE user_key = $1 AND idem_key = $2 AND status IS NULL",
                        &[&user, &key],
                    )
                    .await
                    .map_err(crate::pg::PgError::from)?;
                tracing::warn!(
                    "a proxied write was cut off (its replica stopped): outcome unknown"
                );
                unknown = true;
            }
            return Ok(Claim::Existing(Row {
                fingerprint: row.get(0),
                status: status.and_then(|s| u16::try_from(s).ok()),
                content_type: row.get(2),
                body: row.get(3),
                unknown,
                sealed: row.get(5),
            }));
        }
        Err(IdempotencyError::Task(
            "the key changed hands three times while being claimed".into(),
        ))
    }

    /// Removes keys past the retention, on one replica at a time, in the background.
    fn prune_now_and_then(&self, at: i64, cutoff: i64) {
        let last = self.last_prune.load(Ordering::Relaxed);
        if at - last < PRUNE_EVERY
            || self
                .last_prune
                .compare_exchange(last, at, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let pg = self.pg.clone();
        tokio::spawn(async move {
            let pruned = async {
                let mut client = pg.client().await?;
                let tx = client.transaction().await?;
                let mine: bool = tx
                    .query_one("SELECT pg_try_advisory_xact_lock($1)", &[&PRUNE_LOCK])
                    .await?
                    .get(0);
                let removed = if mine {
                    tx.execute(
                        "DELETE FROM proxy_idempotency WHERE created_at < $1",
                        &[&cutoff],
                    )
                    .await?
                } else {
                    0
                };
                tx.commit().await?;
                Ok::<u64, crate::pg::PgError>(removed)
            };
            match pruned.await {
                Ok(0) => {}
                Ok(n) => tracing::info!("idempotency store: {n} expired key(s) removed"),
                Err(e) => tracing::warn!("idempotency store: prune failed: {e}"),
            }
        });
    }

    pub async fn store_answer(
        &self,
        user: &str,
        key: &str,
        status: u16,
        content_type: Option<String>,
        sealed_body: Vec<u8>,
    ) -> Result<(), IdempotencyError> {
        self.pg
            .client()
            .await?
            .execute(
                "UPDATE proxy_idempotency
                 SET status = $3, content_type = $4, body = $5, sealed = TRUE
                 WHERE user_key = $1 AND idem_key = $2",
                &[&user, &key, &i32::from(status), &content_type, &sealed_body],
            )
            .await
            .map_err(crate::pg::PgError::from)?;
        Ok(())
    }

    pub async fn mark_unknown(&self, user: &str, key: &str) -> Result<(), IdempotencyError> {
        self.pg
            .client()
            .await?
            .execute(
                "UPDATE proxy_idempotency SET unknown = TRUE
                 WHERE user_key = $1 AND idem_key = $2 AND status IS NULL",
                &[&user, &key],
            )
            .await
            .map_err(crate::pg::PgError::from)?;
        Ok(())
    }

    pub async fn abandon(&self, user: &str, key: &str) -> Result<(), IdempotencyError> {
        self.pg
            .client()
            .await?
            .execute(
                "DELETE FROM proxy_idempotency WHERE user_key = $1 AND idem_key = $2",
                &[&user, &key],
            )
            .await
            .map_err(crate::pg::PgError::from)?;
        Ok(())
    }

    pub async fn health(&self) -> StoreHealth {
        let migration = self.pg.version().await;
        StoreHealth {
            kind: "postgres",
            reachable: migration.is_some(),
            migration,
        }
    }
}
