//! The built-in backend's SQLite file: schema, connection and time helpers.

use std::{
    path::Path,
    sync::{Arc, Mutex},
};

use rusqlite::Connection;

use super::error::CareError;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS organization (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    org_type TEXT NOT NULL,
    description TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',
    parent_id TEXT REFERENCES organization(id),
    level_cache INTEGER NOT NULL DEFAULT 0,
    active INTEGER NOT NULL DEFAULT 1,
    system_generated INTEGER NOT NULL DEFAULT 0,
    created_date TEXT NOT NULL,
    modified_date TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS organization_parent ON organization(parent_id);
CREATE TABLE IF NOT EXISTS user (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    phone_number TEXT NOT NULL,
    email TEXT NOT NULL,
    user_type TEXT NOT NULL,
    gender TEXT,
    role_name TEXT NOT NULL,
    is_superuser INTEGER NOT NULL DEFAULT 0,
    geo_organization_id TEXT REFERENCES organization(id),
    created_by_id TEXT REFERENCES user(id),
    last_login TEXT,
    deleted INTEGER NOT NULL DEFAULT 0,
    created_date TEXT NOT NULL,
    modified_date TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS facility (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    address TEXT NOT NULL,
    pincode INTEGER,
    phone_number TEXT NOT NULL,
    latitude TEXT,
    longitude TEXT,
    facility_type TEXT NOT NULL,
    is_public INTEGER NOT NULL DEFAULT 1,
    geo_organization_id TEXT REFERENCES organization(id),
    created_by_id TEXT REFERENCES user(id),
    created_date TEXT NOT NULL,
    modified_date TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS facility_user (
    facility_id TEXT NOT NULL REFERENCES facility(id),
    user_id TEXT NOT NULL REFERENCES user(id),
    PRIMARY KEY (facility_id, user_id)
);
CREATE TABLE IF NOT EXISTS revoked_token (
    jti TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
);
"#;

/// One connection behind a mutex: SQLite serialises writers anyway, and every query here
/// is short.
#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
}

impl Db {
    pub fn open(path: &Path) -> Result<Self, rusqlite::Error> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.execute_batch(SCHEMA)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` with the connection.
    pub fn with<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, CareError>,
    ) -> Result<T, CareError> {
        let mut guard = self
            .conn
            .lock()
            .map_err(|_| CareError::Internal("database lock poisoned".into()))?;
        f(&mut guard)
    }
}

/// CARE's timestamp format: UTC, microseconds, `Z`.
pub fn now_iso() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

pub fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}
