//! The sync API's own SQLite file (`sync.sqlite3` in the data dir, beside the proxy's
//! idempotency store): the audit trail, the server-side queue of seed 004 and the push ledger.
//! Kept apart from the built-in backend's database so it works in front of a real CARE too.

use std::{
    path::Path,
    sync::{Arc, Mutex},
};

use rusqlite::Connection;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms INTEGER NOT NULL,
    user_id TEXT NOT NULL,
    username TEXT NOT NULL,
    device_id TEXT,
    kind TEXT NOT NULL,
    item_id TEXT,
    operation TEXT,
    resource_type TEXT,
    method TEXT,
    route TEXT,
    resource_id TEXT,
    outcome TEXT NOT NULL,
    http_status INTEGER,
    resolution TEXT,
    detail TEXT
);
CREATE INDEX IF NOT EXISTS audit_at ON audit(at_ms);
CREATE INDEX IF NOT EXISTS audit_user_item ON audit(user_id, item_id);
CREATE TABLE IF NOT EXISTS queue_item (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL UNIQUE,
    user_id TEXT NOT NULL,
    username TEXT NOT NULL,
    device_id TEXT NOT NULL,
    operation TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id TEXT,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    record_path TEXT NOT NULL,
    data TEXT,
    fingerprint TEXT NOT NULL,
    base_version TEXT,
    version INTEGER,
    created_at_client TEXT,
    queued_at_ms INTEGER NOT NULL,
    status TEXT NOT NULL,
    retry_count INTEGER NOT NULL DEFAULT 0,
    last_http_status INTEGER,
    last_error TEXT,
    result_id TEXT,
    server_record TEXT,
    resolution TEXT,
    flagged_at_ms INTEGER,
    flagged_by TEXT,
    synced_at_ms INTEGER,
    updated_at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS queue_item_owner ON queue_item(user_id, device_id, status);
CREATE TABLE IF NOT EXISTS push_ledger (
    user_id TEXT NOT NULL,
    item_id TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    outcome TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    PRIMARY KEY (user_id, item_id)
);
"#;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sync store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("sync store lock poisoned")]
    Poisoned,
    #[error("sync store task: {0}")]
    Task(String),
    #[error("sync store (PostgreSQL): {0}")]
    Postgres(#[from] crate::pg::PgError),
}

/// Where the sync API keeps its state (the audit trail, the push ledger, seed 004's
/// queue): the replica's own `sync.sqlite3`, or PostgreSQL shared by every replica.
#[derive(Clone)]
pub enum Backing {
    Sqlite(SyncDb),
    Postgres(crate::pg::Pg),
}

/// One connection behind a mutex: every statement here is short.
#[derive(Clone)]
pub struct SyncDb {
    conn: Arc<Mutex<Connection>>,
}

impl SyncDb {
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // WAL + NORMAL: a commit survives a crash of the server, and only a power cut can
        // lose the last few rows; without an fsync per row, audit and ledger writes do not
        // double the cost of every synced item.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.execute_batch(SCHEMA)?;
        // A process interrupted by a restart is pending again (the backend's idempotency
        // store answers a repeat of a write that did go through).
        conn.execute(
            "UPDATE queue_item SET status = 'PENDING' WHERE status = 'SYNCING'",
            [],
        )?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` on the blocking pool (never on the async runtime's threads).
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, rusqlite::Error> + Send + 'static,
    ) -> Result<T, StoreError> {
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.with(f))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// Runs `f` on this thread: for start-up and tests.
    pub fn with<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, rusqlite::Error>,
    ) -> Result<T, StoreError> {
        let mut guard = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        Ok(f(&mut guard)?)
    }
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Milliseconds since the epoch as CARE writes timestamps (UTC, `Z`).
pub fn iso_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}
