//! The embedded idempotency store: one SQLite file (`proxy-idempotency.sqlite3`) behind a
//! mutex, for one server. Statements run on the blocking pool, never on the async runtime.

use std::{
    path::Path,
    sync::{Arc, Mutex},
};

use rusqlite::{params, Connection, OptionalExtension};

use super::{Claim, IdempotencyError, Row};

#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
}

impl SqliteStore {
    pub fn open(path: &Path) -> Result<Self, IdempotencyError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS proxy_idempotency (
                user_key TEXT NOT NULL,
                idem_key TEXT NOT NULL,
                fingerprint TEXT NOT NULL,
                status INTEGER,
                content_type TEXT,
                body BLOB,
                created_at INTEGER NOT NULL,
                PRIMARY KEY (user_key, idem_key)
            )",
        )?;
        add_column_if_missing(&conn, "unknown INTEGER NOT NULL DEFAULT 0")?;
        // Answers stored before sealing existed stay readable (`sealed` = 0).
        add_column_if_missing(&conn, "sealed INTEGER NOT NULL DEFAULT 0")?;
        // Nothing is forwarding for this store yet: a write still "in flight" was cut off
        // by a restart while CARE had it, and its outcome can no longer be learnt.
        let cut_off = conn.execute(
            "UPDATE proxy_idempotency SET unknown = 1 WHERE status IS NULL AND unknown = 0",
            [],
        )?;
        if cut_off > 0 {
            tracing::warn!("{cut_off} proxied write(s) were cut off by a restart: outcome unknown");
        }
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` on the blocking pool with the connection.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, rusqlite::Error> + Send + 'static,
    ) -> Result<T, IdempotencyError> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let guard = conn.lock().map_err(|_| IdempotencyError::Poisoned)?;
            Ok(f(&guard)?)
        })
        .await
        .map_err(|e| IdempotencyError::Task(e.to_string()))?
    }

    /// Claims the key for this request, or reads what it already holds. Keys older than
    /// `cutoff` are forgotten first.
    pub async fn claim(
        &self,
        user: &str,
        key: &str,
        fingerprint: &str,
        at: i64,
        cutoff: i64,
    ) -> Result<Claim, IdempotencyError> {
        let (user, key, fingerprint) = (user.to_string(), key.to_string(), fingerprint.to_string());
        self.run(move |c| {
            c.execute(
                "DELETE FROM proxy_idempotency WHERE created_at < ?1",
                params![cutoff],
            )?;
            let row = c
                .query_row(
                    "SELECT fingerprint, status, content_type, body, unknown, sealed
                     FROM proxy_idempotency WHERE user_key = ?1 AND idem_key = ?2",
                    params![user, key],
                    |r| {
                        Ok(Row {
                            fingerprint: r.get(0)?,
                            status: r.get(1)?,
                            content_type: r.get(2)?,
                            body: r.get(3)?,
                            unknown: r.get(4)?,
                            sealed: r.get(5)?,
                        })
                    },
                )
                .optional()?;
            if let Some(row) = row {
                return Ok(Claim::Existing(row));
            }
            c.execute(
                "INSERT INTO proxy_idempotency (user_key, idem_key, fingerprint, created_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![user, key, fingerprint, at],
            )?;
            Ok(Claim::Started)
        })
        .await
    }

    pub async fn store_answer(
        &self,
        user: &str,
        key: &str,
        status: u16,
        content_type: Option<String>,
        sealed_body: Vec<u8>,
    ) -> Result<(), IdempotencyError> {
        let (user, key) = (user.to_string(), key.to_string());
        self.run(move |c| {
            c.execute(
                "UPDATE proxy_idempotency SET status = ?3, content_type = ?4, body = ?5, sealed = 1
                 WHERE user_key = ?1 AND idem_key = ?2",
                params![user, key, status, content_type, sealed_body],
            )
            .map(|_| ())
        })
        .await
    }

    pub async fn mark_unknown(&self, user: &str, key: &str) -> Result<(), IdempotencyError> {
        let (user, key) = (user.to_string(), key.to_string());
        self.run(move |c| {
            c.execute(
                "UPDATE proxy_idempotency SET unknown = 1
                 WHERE user_key = ?1 AND idem_key = ?2 AND status IS NULL",
                params![user, key],
            )
            .map(|_| ())
        })
        .await
    }

    pub async fn abandon(&self, user: &str, key: &str) -> Result<(), IdempotencyError> {
        let (user, key) = (user.to_string(), key.to_string());
        self.run(move |c| {
            c.execute(
                "DELETE FROM proxy_idempotency WHERE user_key = ?1 AND idem_key = ?2",
                params![user, key],
            )
            .map(|_| ())
        })
        .await
    }

    pub async fn reachable(&self) -> bool {
        self.run(|c| c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0)))
            .await
            .is_ok()
    }
}

/// Adds a column an older store lacks (`definition` starts with its name).
fn add_column_if_missing(conn: &Connection, definition: &str) -> Result<(), rusqlite::Error> {
    let name = definition.split_whitespace().next().unwrap_or_default();
    let present: bool = conn.query_row(
        "SELECT COUNT(*) > 0 FROM pragma_table_info('proxy_idempotency') WHERE name = ?1",
        [name],
        |r| r.get(0),
    )?;
    if !present {
        conn.execute_batch(&format!(
            "ALTER TABLE proxy_idempotency ADD COLUMN {definition}"
        ))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! What only the SQLite file shows: sealing on disk, older rows, restarts. The behaviour
    //! both stores share is tested in `tests/idempotency_store.rs`.
    use super::super::{Begin, IdempotencyStore, Stored};
    use crate::sync::at_rest::AtRest;
    use rusqlite::Connection;

    fn test_key() -> AtRest {
        AtRest::new([5; 32])
    }

    #[tokio::test]
    async fn answers_are_sealed_at_rest_and_another_secret_makes_them_unknown() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("i.sqlite3");
        let s = IdempotencyStore::open_sqlite(&path, test_key()).expect("open");
        s.begin("u", "k", "fp").await.expect("begin");
        let body = br#"{"name":"Asha Kumari","phone_number":"+919800000001"}"#.to_vec();
        let answer = Stored {
            status: 200,
            content_type: Some("application/json".into()),
            body: body.clone(),
        };
        s.finish("u", "k", &answer).await.expect("finish");
        let raw: Vec<u8> = Connection::open(&path)
            .expect("raw")
            .query_row("SELECT body FROM proxy_idempotency", [], |r| r.get(0))
            .expect("row");
        assert!(
            !raw.windows(5).any(|w| w == b"Kumar"),
            "no name in the file"
        );
        assert!(
            !raw.windows(6).any(|w| w == b"980000"),
            "no phone in the file"
        );
        assert_eq!(
            s.begin("u", "k", "fp").await.expect("replay"),
            Begin::Replay(answer)
        );
        drop(s);
        // The server's secret was replaced: the answer cannot be read, and the write may
        // be in CARE, so it is never forwarded again.
        let rotated = IdempotencyStore::open_sqlite(&path, AtRest::new([6; 32])).expect("reopen");
        assert_eq!(
            rotated.begin("u", "k", "fp").await.expect("begin"),
            Begin::Unknown
        );
    }

    #[tokio::test]
    async fn answers_stored_before_sealing_still_replay() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("i.sqlite3");
        let s = IdempotencyStore::open_sqlite(&path, test_key()).expect("open");
        s.begin("u", "old", "fp").await.expect("begin");
        Connection::open(&path)
            .expect("raw")
            .execute(
                "UPDATE proxy_idempotency SET status = 201, body = X'7B7D', sealed = 0",
                [],
            )
            .expect("as an older version stored it");
        match s.begin("u", "old", "fp").await.expect("replay") {
            Begin::Replay(stored) => assert_eq!(stored.body, b"{}"),
            other => panic!("replay expected, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_write_cut_off_by_a_restart_is_unknown_never_forwarded_again() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("i.sqlite3");
        let s = IdempotencyStore::open_sqlite(&path, test_key()).expect("open");
        assert_eq!(
            s.begin("u", "cut", "fp").await.expect("begin"),
            Begin::Started
        );
        assert_eq!(
            s.begin("u", "cut", "fp").await.expect("begin"),
            Begin::InFlight
        );
        drop(s);
        let s = IdempotencyStore::open_sqlite(&path, test_key()).expect("reopen");
        assert_eq!(
            s.begin("u", "cut", "fp").await.expect("begin"),
            Begin::Unknown
        );
        assert_eq!(
            s.begin("u", "cut", "other").await.expect("begin"),
            Begin::Mismatch
        );
    }
}
