//! Exactly-once writes through the proxy. A real CARE has no idempotency, so the proxy keeps
//! (user, `Idempotency-Key`) → response in SQLite and answers a repeat from there: CARE sees
//! each queued write once even when the device never got the first answer.
//!
//! The user is the one CARE says the token belongs to (the proxy asks `getcurrentuser`,
//! cached briefly), so a revoked or forged token never gets someone's stored answer.
//! Policy as the built-in backend: 5xx, 401 and 403 answers are not stored (a retry may
//! succeed); a key reused for a different request is a 422; a repeat while the first is
//! still in flight is a 409. Records are kept for the idempotency retention (`retention`).
//!
//! A write whose outcome can no longer be learnt — the server restarted while CARE had it,
//! or the wait for CARE's answer failed after the request was sent — is marked unknown:
//! CARE may have applied it, so a retry with its key is never forwarded again
//! (`Begin::Unknown`); the person decides.

use std::{
    path::Path,
    sync::{Arc, Mutex},
};

use axum::http::Method;
use rusqlite::{params, Connection, OptionalExtension};

use super::at_rest::answer_aad;

/// fingerprint, status (None while in flight), content type, body, outcome unknown, body
/// sealed.
type Row = (
    String,
    Option<u16>,
    Option<String>,
    Option<Vec<u8>>,
    bool,
    bool,
);

/// A stored answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Begin {
    /// First time: forward it, then `finish` or `abandon`.
    Started,
    Replay(Stored),
    /// Same key, another request.
    Mismatch,
    InFlight,
    /// Sent to CARE, answer never learnt: it may have been applied.
    Unknown,
}

#[derive(Debug, thiserror::Error)]
pub enum IdempotencyError {
    #[error("idempotency store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("idempotency store lock poisoned")]
    Poisoned,
}

#[derive(Clone)]
pub struct IdempotencyStore {
    conn: Arc<Mutex<Connection>>,
    /// CARE's answers are stored sealed (they hold patient data).
    at_rest: super::at_rest::AtRest,
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl IdempotencyStore {
    pub fn open(path: &Path, at_rest: super::at_rest::AtRest) -> Result<Self, IdempotencyError> {
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
            at_rest,
        })
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, rusqlite::Error>,
    ) -> Result<T, IdempotencyError> {
        let guard = self.conn.lock().map_err(|_| IdempotencyError::Poisoned)?;
        Ok(f(&guard)?)
    }

    pub fn begin(
        &self,
        user: &str,
        key: &str,
        fingerprint: &str,
    ) -> Result<Begin, IdempotencyError> {
        let at = now();
        self.with(|c| {
            c.execute(
                "DELETE FROM proxy_idempotency WHERE created_at < ?1",
                params![at - crate::retention::secs()],
            )?;
            let row: Option<Row> = c
                .query_row(
                    "SELECT fingerprint, status, content_type, body, unknown, sealed
                     FROM proxy_idempotency WHERE user_key = ?1 AND idem_key = ?2",
                    params![user, key],
                    |r| {
                        Ok((
                            r.get(0)?,
                            r.get(1)?,
                            r.get(2)?,
                            r.get(3)?,
                            r.get(4)?,
                            r.get(5)?,
                        ))
                    },
                )
                .optional()?;
            Ok(match row {
                None => {
                    c.execute(
                        "INSERT INTO proxy_idempotency (user_key, idem_key, fingerprint, created_at)
                         VALUES (?1, ?2, ?3, ?4)",
                        params![user, key, fingerprint, at],
                    )?;
                    Begin::Started
                }
                Some((fp, ..)) if fp != fingerprint => Begin::Mismatch,
                Some((_, None, _, _, true, _)) => Begin::Unknown,
                Some((_, None, _, _, false, _)) => Begin::InFlight,
                Some((_, Some(status), content_type, body, _, sealed)) => {
                    let body = body.unwrap_or_default();
                    let body = if sealed {
                        match self.at_rest.open(&answer_aad(user, key), &body) {
                            Some(plain) => plain,
                            // Sealed under another server secret: the answer is lost, and
                            // CARE may have the write, so it is never forwarded again.
                            None => return Ok(Begin::Unknown),
                        }
                    } else {
                        body
                    };
                    Begin::Replay(Stored {
                        status,
                        content_type,
                        body,
                    })
                }
            })
        })
    }

    /// Records the answer (or forgets the key when the answer must not be replayed).
    pub fn finish(&self, user: &str, key: &str, answer: &Stored) -> Result<(), IdempotencyError> {
        if !storable(answer.status) {
            return self.abandon(user, key);
        }
        let Some(sealed) = self.at_rest.seal(&answer_aad(user, key), &answer.body) else {
            // Without a nonce nothing is stored in clear: the write counts as sent, its
            // answer unknown.
            return self.mark_unknown(user, key);
        };
        self.with(|c| {
            c.execute(
                "UPDATE proxy_idempotency SET status = ?3, content_type = ?4, body = ?5, sealed = 1
                 WHERE user_key = ?1 AND idem_key = ?2",
                params![user, key, answer.status, answer.content_type, sealed],
            )
            .map(|_| ())
        })
    }

    /// The write went to CARE and its answer will never be known here.
    pub fn mark_unknown(&self, user: &str, key: &str) -> Result<(), IdempotencyError> {
        self.with(|c| {
            c.execute(
                "UPDATE proxy_idempotency SET unknown = 1
                 WHERE user_key = ?1 AND idem_key = ?2 AND status IS NULL",
                params![user, key],
            )
            .map(|_| ())
        })
    }

    /// The write did not reach CARE (or its answer must not be kept): a retry may go through.
    pub fn abandon(&self, user: &str, key: &str) -> Result<(), IdempotencyError> {
        self.with(|c| {
            c.execute(
                "DELETE FROM proxy_idempotency WHERE user_key = ?1 AND idem_key = ?2",
                params![user, key],
            )
            .map(|_| ())
        })
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

/// 2xx and 4xx answers are final for a request; 5xx, 401 and 403 are not.
pub fn storable(status: u16) -> bool {
    status < 500 && status != 401 && status != 403
}

pub fn is_write(method: &Method) -> bool {
    matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::at_rest::AtRest;

    fn test_key() -> AtRest {
        AtRest::new([5; 32])
    }

    #[test]
    fn answers_are_sealed_at_rest_and_another_secret_makes_them_unknown() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("i.sqlite3");
        let s = IdempotencyStore::open(&path, test_key()).expect("open");
        s.begin("u", "k", "fp").expect("begin");
        let body = br#"{"name":"Asha Kumari","phone_number":"+919800000001"}"#.to_vec();
        let answer = Stored {
            status: 200,
            content_type: Some("application/json".into()),
            body: body.clone(),
        };
        s.finish("u", "k", &answer).expect("finish");
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
            s.begin("u", "k", "fp").expect("replay"),
            Begin::Replay(answer)
        );
        drop(s);
        // The server's secret was replaced: the answer cannot be read, and the write may
        // be in CARE, so it is never forwarded again.
        let rotated = IdempotencyStore::open(&path, AtRest::new([6; 32])).expect("reopen");
        assert_eq!(
            rotated.begin("u", "k", "fp").expect("begin"),
            Begin::Unknown
        );
    }

    #[test]
    fn answers_stored_before_sealing_still_replay() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("i.sqlite3");
        let s = IdempotencyStore::open(&path, test_key()).expect("open");
        s.begin("u", "old", "fp").expect("begin");
        Connection::open(&path)
            .expect("raw")
            .execute(
                "UPDATE proxy_idempotency SET status = 201, body = X'7B7D', sealed = 0",
                [],
            )
            .expect("as an older version stored it");
        match s.begin("u", "old", "fp").expect("replay") {
            Begin::Replay(stored) => assert_eq!(stored.body, b"{}"),
            other => panic!("replay expected, got {other:?}"),
        }
    }

    fn store() -> (tempfile::TempDir, IdempotencyStore) {
        let dir = tempfile::tempdir().expect("tmp");
        let s = IdempotencyStore::open(&dir.path().join("i.sqlite3"), test_key()).expect("open");
        (dir, s)
    }

    #[test]
    fn first_then_replay_then_mismatch() {
        let (_d, s) = store();
        assert_eq!(s.begin("u", "k", "fp").expect("begin"), Begin::Started);
        assert_eq!(s.begin("u", "k", "fp").expect("begin"), Begin::InFlight);
        let answer = Stored {
            status: 200,
            content_type: Some("application/json".into()),
            body: b"{}".to_vec(),
        };
        s.finish("u", "k", &answer).expect("finish");
        assert_eq!(
            s.begin("u", "k", "fp").expect("begin"),
            Begin::Replay(answer)
        );
        assert_eq!(s.begin("u", "k", "other").expect("begin"), Begin::Mismatch);
        assert_eq!(
            s.begin("someone-else", "k", "other").expect("begin"),
            Begin::Started,
            "per user"
        );
    }

    #[test]
    fn a_write_cut_off_by_a_restart_or_a_lost_wait_is_unknown_never_forwarded_again() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("i.sqlite3");
        let s = IdempotencyStore::open(&path, test_key()).expect("open");
        assert_eq!(s.begin("u", "cut", "fp").expect("begin"), Begin::Started);
        assert_eq!(s.begin("u", "lost", "fp").expect("begin"), Begin::Started);
        s.mark_unknown("u", "lost").expect("unknown");
        assert_eq!(s.begin("u", "lost", "fp").expect("begin"), Begin::Unknown);
        assert_eq!(s.begin("u", "cut", "fp").expect("begin"), Begin::InFlight);
        drop(s);
        let s = IdempotencyStore::open(&path, test_key()).expect("reopen");
        assert_eq!(s.begin("u", "cut", "fp").expect("begin"), Begin::Unknown);
        assert_eq!(
            s.begin("u", "cut", "other").expect("begin"),
            Begin::Mismatch
        );
        // CARE's answer arriving late still wins over "unknown".
        let answer = Stored {
            status: 201,
            content_type: None,
            body: b"{}".to_vec(),
        };
        s.finish("u", "lost", &answer).expect("finish");
        assert_eq!(
            s.begin("u", "lost", "fp").expect("begin"),
            Begin::Replay(answer)
        );
    }

    #[test]
    fn server_errors_and_auth_failures_are_not_kept() {
        let (_d, s) = store();
        for status in [500, 502, 401, 403] {
            let key = format!("k{status}");
            assert_eq!(s.begin("u", &key, "fp").expect("begin"), Begin::Started);
            s.finish(
                "u",
                &key,
                &Stored {
                    status,
                    content_type: None,
                    body: vec![],
                },
            )
            .expect("finish");
            assert_eq!(
                s.begin("u", &key, "fp").expect("begin"),
                Begin::Started,
                "{status} may be retried"
            );
        }
        assert!(storable(400) && storable(201) && !storable(503));
    }
}
