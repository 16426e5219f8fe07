//! Exactly-once writes through the proxy. A real CARE has no idempotency, so the proxy keeps
//! (user, `Idempotency-Key`) → response and answers a repeat from there: CARE sees each
//! queued write once even when the device never got the first answer.
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
//!
//! Two stores keep the keys: SQLite (`sqlite`, the embedded default for one server) and
//! PostgreSQL (`postgres`, shared by several replicas, where a key is claimed in one
//! statement so two replicas never both forward it). CARE's answers are sealed here, before
//! either store sees them.

pub mod postgres;
pub mod sqlite;

use std::time::Duration;

use axum::http::Method;

use super::at_rest::{answer_aad, AtRest};

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
    #[error("idempotency store (PostgreSQL): {0}")]
    Postgres(#[from] crate::pg::PgError),
    #[error("idempotency store lock poisoned")]
    Poisoned,
    #[error("idempotency store task failed: {0}")]
    Task(String),
}

/// What a store holds for a key that was already claimed.
#[derive(Debug, Clone)]
pub struct Row {
    pub fingerprint: String,
    /// `None` while in flight.
    pub status: Option<u16>,
    pub content_type: Option<String>,
    pub body: Option<Vec<u8>>,
    pub unknown: bool,
    pub sealed: bool,
}

/// The outcome of claiming a key.
#[derive(Debug, Clone)]
pub enum Claim {
    /// The key is this request's: forward it.
    Started,
    Existing(Row),
}

/// What `/health` says about the store.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StoreHealth {
    /// `sqlite` or `postgres`.
    pub kind: &'static str,
    pub reachable: bool,
    /// The schema version (PostgreSQL's versioned migrations; SQLite files upgrade in place).
    pub migration: Option<i32>,
}

#[derive(Clone)]
enum Backend {
    Sqlite(sqlite::SqliteStore),
    Postgres(postgres::PgStore),
}

#[derive(Clone)]
pub struct IdempotencyStore {
    backend: Backend,
    /// CARE's answers are stored sealed (they hold patient data).
    at_rest: AtRest,
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl IdempotencyStore {
    /// The embedded store: one SQLite file, one server.
    pub fn open_sqlite(path: &std::path::Path, at_rest: AtRest) -> Result<Self, IdempotencyError> {
        Ok(Self {
            backend: Backend::Sqlite(sqlite::SqliteStore::open(path)?),
            at_rest,
        })
    }

    /// The shared store: every replica on one PostgreSQL. A write still in flight after
    /// `in_flight_limit` was cut off (its replica stopped while CARE had it): unknown.
    pub fn postgres(pool: crate::pg::Pg, at_rest: AtRest, in_flight_limit: Duration) -> Self {
        Self {
            backend: Backend::Postgres(postgres::PgStore::new(pool, in_flight_limit)),
            at_rest,
        }
    }

    pub async fn begin(
        &self,
        user: &str,
        key: &str,
        fingerprint: &str,
    ) -> Result<Begin, IdempotencyError> {
        let at = now();
        let cutoff = at - crate::retention::secs();
        let claim = match &self.backend {
            Backend::Sqlite(s) => s.claim(user, key, fingerprint, at, cutoff).await?,
            Backend::Postgres(p) => p.claim(user, key, fingerprint, at, cutoff).await?,
        };
        Ok(match claim {
            Claim::Started => Begin::Started,
            Claim::Existing(row) => self.existing(user, key, fingerprint, row),
        })
    }

    /// What a repeat of a claimed key gets.
    fn existing(&self, user: &str, key: &str, fingerprint: &str, row: Row) -> Begin {
        if row.fingerprint != fingerprint {
            return Begin::Mismatch;
        }
        let Some(status) = row.status else {
            return if row.unknown {
                Begin::Unknown
            } else {
                Begin::InFlight
            };
        };
        let body = row.body.unwrap_or_default();
        let body = if row.sealed {
            match self.at_rest.open(&answer_aad(user, key), &body) {
                Some(plain) => plain,
                // Sealed under another server secret: the answer is lost, and CARE may
                // have the write, so it is never forwarded again.
                None => return Begin::Unknown,
            }
        } else {
            body
        };
        Begin::Replay(Stored {
            status,
            content_type: row.content_type,
            body,
        })
    }

    /// Records the answer (or forgets the key when the answer must not be replayed).
    pub async fn finish(
        &self,
        user: &str,
        key: &str,
        answer: &Stored,
    ) -> Result<(), IdempotencyError> {
        if !storable(answer.status) {
            return self.abandon(user, key).await;
        }
        let Some(sealed) = self.at_rest.seal(&answer_aad(user, key), &answer.body) else {
            // Without a nonce nothing is stored in clear: the write counts as sent, its
            // answer unknown.
            return self.mark_unknown(user, key).await;
        };
        let (status, content_type) = (answer.status, answer.content_type.clone());
        match &self.backend {
            Backend::Sqlite(s) => {
                s.store_answer(user, key, status, content_type, sealed)
                    .await
            }
            Backend::Postgres(p) => {
                p.store_answer(user, key, status, content_type, sealed)
                    .await
            }
        }
    }

    /// The write went to CARE and its answer will never be known here.
    pub async fn mark_unknown(&self, user: &str, key: &str) -> Result<(), IdempotencyError> {
        match &self.backend {
            Backend::Sqlite(s) => s.mark_unknown(user, key).await,
            Backend::Postgres(p) => p.mark_unknown(user, key).await,
        }
    }

    /// The write did not reach CARE (or its answer must not be kept): a retry may go through.
    pub async fn abandon(&self, user: &str, key: &str) -> Result<(), IdempotencyError> {
        match &self.backend {
            Backend::Sqlite(s) => s.abandon(user, key).await,
            Backend::Postgres(p) => p.abandon(user, key).await,
        }
    }

    pub async fn health(&self) -> StoreHealth {
        match &self.backend {
            Backend::Sqlite(s) => StoreHealth {
                kind: "sqlite",
                reachable: s.reachable().await,
                migration: None,
            },
            Backend::Postgres(p) => p.health().await,
        }
    }
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
