//! Where seed 004's queue items live: the replica's own `sync.sqlite3` (one server, the
//! default; [`super::sqlite`]) or PostgreSQL with `--store postgres://…`
//! ([`super::postgres`]), shared by every replica.
//!
//! An item is taken for sending by one conditional update (→ SYNCING), so two requests —
//! on one replica or two — never both send it. A SYNCING claim whose replica stopped before
//! it settled is claimable again once it is older than the longest wait for CARE
//! ([`crate::proxy::IN_FLIGHT_LIMIT`]); sending it again then is safe, because the write
//! carries the item's id as its `Idempotency-Key`.

use std::sync::{
    atomic::{AtomicI64, Ordering},
    Arc,
};

use serde_json::Value;

use super::{postgres, sqlite, Item};
use crate::{
    pg::Pg,
    sync::store::{now_ms, Backing, StoreError, SyncDb},
};

/// How often settled items are pruned at most.
const PRUNE_EVERY_MS: i64 = 3600 * 1000;

/// A new item, as `sync/queue` accepted it.
pub struct NewItem {
    pub item: Item,
    pub now: i64,
}

/// Which unsynced items a listing wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// Everything not yet SYNCED (`sync/pending`).
    Unsynced,
    /// What `sync/retry` may send: PENDING, FAILED, and claims left by a stopped replica.
    Retryable,
}

/// Which statuses a claim takes an item from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimFrom {
    /// Not sent yet, or sent and refused: PENDING, FAILED, CONFLICT (`sync/process`, `retry`).
    Unsent,
    /// Waiting for a resolution: CONFLICT, MANUAL (CLIENT_WINS).
    Unresolved,
}

impl ClaimFrom {
    /// The statuses as an SQL list (constants, never input).
    pub fn sql(self) -> &'static str {
        match self {
            ClaimFrom::Unsent => "'PENDING', 'FAILED', 'CONFLICT'",
            ClaimFrom::Unresolved => "'CONFLICT', 'MANUAL'",
        }
    }
}

/// A claim on an item. While it is held, the item's `updated_at_ms` is the claim's time,
/// so only the holder writes the send's result: a claim taken again after a replica
/// stopped, or a resolution chosen meanwhile, is never overwritten by a late result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    pub at: i64,
}

/// What one send did to the item.
pub enum Settle {
    Synced {
        http_status: u16,
        result_id: Option<String>,
        resolution: Option<String>,
    },
    Conflict {
        server: Value,
    },
    Failed {
        retry_count: i64,
        http_status: u16,
        error: Value,
    },
}

/// A person's resolution of an item in conflict (no send).
pub enum Resolve {
    /// SERVER_WINS (from CONFLICT or MANUAL): the offline write is dropped.
    Discard,
    /// MANUAL (from CONFLICT): flagged for an administrator.
    Flag { by: String },
}

#[derive(Clone)]
pub struct QueueStore {
    backend: Backing,
    /// Claims older than this (ms) belong to a replica that stopped.
    stale_after_ms: i64,
    /// Settled items older than this (ms) are pruned.
    retention_ms: i64,
    last_prune: Arc<AtomicI64>,
}

impl QueueStore {
    pub fn sqlite(db: SyncDb, retention_days: u32) -> Self {
        Self::new(Backing::Sqlite(db), retention_days)
    }

    pub fn postgres(pg: Pg, retention_days: u32) -> Self {
        Self::new(Backing::Postgres(pg), retention_days)
    }

    fn new(backend: Backing, retention_days: u32) -> Self {
        Self {
            backend,
            stale_after_ms: i64::try_from(crate::proxy::IN_FLIGHT_LIMIT.as_millis())
                .unwrap_or(i64::MAX),
            retention_ms: i64::from(retention_days) * 24 * 3600 * 1000,
            last_prune: Arc::new(AtomicI64::new(0)),
        }
    }

    fn stale_before(&self, now: i64) -> i64 {
        now.saturating_sub(self.stale_after_ms)
    }

    pub async fn load(&self, id: &str) -> Result<Option<Item>, StoreError> {
        match &self.backend {
            Backing::Sqlite(db) => sqlite::load(db, id).await,
            Backing::Postgres(pg) => postgres::load(pg, id).await,
        }
    }

    /// Stores a new item as PENDING; false when its id is taken already (the caller then
    /// compares with the stored one).
    pub async fn insert(&self, new: NewItem) -> Result<bool, StoreError> {
        self.prune_now_and_then(new.now).await;
        match &self.backend {
            Backing::Sqlite(db) => sqlite::insert(db, new).await,
            Backing::Postgres(pg) => postgres::insert(pg, &new).await,
        }
    }

    /// A user's items (on one device, when given), oldest first.
    pub async fn list(
        &self,
        user: &str,
        device: Option<&str>,
        listing: Listing,
    ) -> Result<Vec<Item>, StoreError> {
        let stale = self.stale_before(now_ms());
        match &self.backend {
            Backing::Sqlite(db) => sqlite::list(db, user, device, listing, stale).await,
            Backing::Postgres(pg) => postgres::list(pg, user, device, listing, stale).await,
        }
    }

    /// Takes an item for sending (→ SYNCING) if its status is one of `from` (or it is a
    /// stopped replica's claim); None when another request has it.
    pub async fn claim(&self, id: &str, from: ClaimFrom) -> Result<Option<Claim>, StoreError> {
        let now = now_ms();
        let stale = self.stale_before(now);
        let claimed = match &self.backend {
            Backing::Sqlite(db) => sqlite::claim(db, id, from, now, stale).await,
            Backing::Postgres(pg) => postgres::claim(pg, id, from, now, stale).await,
        }?;
        Ok(claimed.then_some(Claim { at: now }))
    }

    /// Writes what the send under `claim` did; false when the claim was lost meanwhile
    /// (the item is someone else's now, and keeps their result).
    pub async fn settle(&self, id: &str, claim: Claim, settle: Settle) -> Result<bool, StoreError> {
        let now = now_ms().max(claim.at);
        match &self.backend {
            Backing::Sqlite(db) => sqlite::settle(db, id, claim.at, settle, now).await,
            Backing::Postgres(pg) => postgres::settle(pg, id, claim.at, &settle, now).await,
        }
    }

    /// Applies a resolution; false when the item is no longer waiting for one (a send took
    /// it, or another resolution came first).
    pub async fn resolve(&self, id: &str, resolve: Resolve) -> Result<bool, StoreError> {
        let now = now_ms();
        match &self.backend {
            Backing::Sqlite(db) => sqlite::resolve(db, id, resolve, now).await,
            Backing::Postgres(pg) => postgres::resolve(pg, id, &resolve, now).await,
        }
    }

    /// Every item flagged MANUAL, oldest flag first.
    pub async fn flagged(&self) -> Result<Vec<Item>, StoreError> {
        match &self.backend {
            Backing::Sqlite(db) => sqlite::flagged(db).await,
            Backing::Postgres(pg) => postgres::flagged(pg).await,
        }
    }

    /// Drops settled items past the retention (their payloads went at sync time already).
    pub async fn prune(&self, now: i64) -> Result<u64, StoreError> {
        self.last_prune.store(now, Ordering::Relaxed);
        let cutoff = now - self.retention_ms;
        match &self.backend {
            Backing::Sqlite(db) => sqlite::prune(db, cutoff).await,
            Backing::Postgres(pg) => postgres::prune(pg, cutoff).await,
        }
    }

    async fn prune_now_and_then(&self, now: i64) {
        if now - self.last_prune.load(Ordering::Relaxed) > PRUNE_EVERY_MS {
            if let Err(e) = self.prune(now).await {
                tracing::warn!("sync queue: prune failed: {e}");
            }
        }
    }
}
