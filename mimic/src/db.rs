//! The built-in backend's SQLite file: schema, connection and time helpers.

use std::{
    ops::{Deref, DerefMut},
    path::Path,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
};

use rusqlite::Connection;
use tokio::sync::{Mutex, OwnedMutexGuard};

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
CREATE TABLE IF NOT EXISTS role (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    is_system INTEGER NOT NULL DEFAULT 1,
    is_archived INTEGER NOT NULL DEFAULT 0,
    permissions TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS patient (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    gender TEXT NOT NULL,
    phone_number TEXT NOT NULL,
    emergency_phone_number TEXT,
    address TEXT,
    permanent_address TEXT,
    pincode INTEGER,
    deceased_datetime TEXT,
    blood_group TEXT,
    date_of_birth TEXT,
    year_of_birth INTEGER,
    geo_organization_id TEXT REFERENCES organization(id),
    created_by_id TEXT REFERENCES user(id),
    updated_by_id TEXT REFERENCES user(id),
    deleted INTEGER NOT NULL DEFAULT 0,
    created_date TEXT NOT NULL,
    modified_date TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS patient_phone ON patient(phone_number);
-- The list pages: newest first (by either date) among patients not deleted, and its count.
CREATE INDEX IF NOT EXISTS patient_listed_modified ON patient(deleted, modified_date, seq);
CREATE INDEX IF NOT EXISTS patient_listed_created ON patient(deleted, created_date, seq);
-- CARE's PatientIdentifierConfig (facility_id NULL: the instance's) and the values.
CREATE TABLE IF NOT EXISTS patient_identifier_config (
    id TEXT PRIMARY KEY,
    facility_id TEXT REFERENCES facility(id),
    config TEXT NOT NULL,
    status TEXT NOT NULL,
    seq INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS patient_identifier (
    patient_id TEXT NOT NULL REFERENCES patient(id),
    config_id TEXT NOT NULL REFERENCES patient_identifier_config(id),
    value TEXT NOT NULL,
    PRIMARY KEY (patient_id, config_id)
);
CREATE INDEX IF NOT EXISTS patient_identifier_value ON patient_identifier(config_id, value);
CREATE TABLE IF NOT EXISTS patient_user (
    patient_id TEXT NOT NULL REFERENCES patient(id),
    user_id TEXT NOT NULL REFERENCES user(id),
    role_id TEXT NOT NULL REFERENCES role(id),
    created_date TEXT NOT NULL,
    PRIMARY KEY (patient_id, user_id)
);
CREATE TABLE IF NOT EXISTS facility_organization (
    id TEXT PRIMARY KEY,
    facility_id TEXT NOT NULL REFERENCES facility(id),
    name TEXT NOT NULL,
    description TEXT,
    org_type TEXT NOT NULL,
    parent_id TEXT REFERENCES facility_organization(id),
    level_cache INTEGER NOT NULL DEFAULT 0,
    system_generated INTEGER NOT NULL DEFAULT 0,
    created_by_id TEXT REFERENCES user(id),
    created_date TEXT NOT NULL,
    modified_date TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS encounter (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    patient_id TEXT NOT NULL REFERENCES patient(id),
    facility_id TEXT NOT NULL REFERENCES facility(id),
    status TEXT NOT NULL,
    encounter_class TEXT NOT NULL,
    priority TEXT NOT NULL,
    period TEXT NOT NULL DEFAULT '{}',
    hospitalization TEXT NOT NULL DEFAULT '{}',
    external_identifier TEXT,
    discharge_summary_advice TEXT,
    status_history TEXT NOT NULL,
    encounter_class_history TEXT NOT NULL,
    appointment_id TEXT,
    created_by_id TEXT REFERENCES user(id),
    updated_by_id TEXT REFERENCES user(id),
    deleted INTEGER NOT NULL DEFAULT 0,
    created_date TEXT NOT NULL,
    modified_date TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS encounter_patient ON encounter(patient_id);
CREATE TABLE IF NOT EXISTS encounter_organization (
    encounter_id TEXT NOT NULL REFERENCES encounter(id),
    organization_id TEXT NOT NULL REFERENCES facility_organization(id),
    PRIMARY KEY (encounter_id, organization_id)
);
CREATE TABLE IF NOT EXISTS schedule (
    id TEXT PRIMARY KEY,
    facility_id TEXT NOT NULL REFERENCES facility(id),
    name TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_to TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    created_by_id TEXT REFERENCES user(id),
    updated_by_id TEXT REFERENCES user(id),
    deleted INTEGER NOT NULL DEFAULT 0,
    created_date TEXT NOT NULL,
    modified_date TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS availability (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    schedule_id TEXT NOT NULL REFERENCES schedule(id),
    name TEXT NOT NULL,
    slot_type TEXT NOT NULL,
    slot_size_in_minutes INTEGER,
    tokens_per_slot INTEGER,
    reason TEXT,
    availability TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS token_slot (
    id TEXT PRIMARY KEY,
    availability_id TEXT NOT NULL REFERENCES availability(id),
    facility_id TEXT NOT NULL REFERENCES facility(id),
    resource_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    start_datetime TEXT NOT NULL,
    end_datetime TEXT NOT NULL,
    allocated INTEGER NOT NULL DEFAULT 0,
    UNIQUE (availability_id, start_datetime)
);
CREATE TABLE IF NOT EXISTS token_booking (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    token_slot_id TEXT NOT NULL REFERENCES token_slot(id),
    patient_id TEXT NOT NULL REFERENCES patient(id),
    booked_on TEXT NOT NULL,
    booked_by_id TEXT REFERENCES user(id),
    status TEXT NOT NULL,
    note TEXT,
    created_by_id TEXT REFERENCES user(id),
    updated_by_id TEXT REFERENCES user(id),
    created_date TEXT NOT NULL,
    modified_date TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS token_booking_patient ON token_booking(patient_id);
CREATE TABLE IF NOT EXISTS valueset_preference (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL REFERENCES user(id),
    slug TEXT NOT NULL,
    kind TEXT NOT NULL,
    system TEXT NOT NULL,
    code TEXT NOT NULL,
    display TEXT NOT NULL,
    created_date TEXT NOT NULL,
    UNIQUE (user_id, slug, kind, code)
);
CREATE TABLE IF NOT EXISTS clinical (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    patient_id TEXT NOT NULL REFERENCES patient(id),
    encounter_id TEXT REFERENCES encounter(id),
    category TEXT,
    data TEXT NOT NULL,
    created_by_id TEXT REFERENCES user(id),
    updated_by_id TEXT REFERENCES user(id),
    deleted INTEGER NOT NULL DEFAULT 0,
    created_date TEXT NOT NULL,
    modified_date TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS clinical_patient ON clinical(patient_id, kind);
CREATE TABLE IF NOT EXISTS questionnaire_response (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    questionnaire_slug TEXT,
    subject_id TEXT NOT NULL,
    patient_id TEXT NOT NULL REFERENCES patient(id),
    encounter_id TEXT REFERENCES encounter(id),
    responses TEXT NOT NULL,
    structured_responses TEXT NOT NULL,
    structured_response_type TEXT,
    created_by_id TEXT REFERENCES user(id),
    updated_by_id TEXT REFERENCES user(id),
    deleted INTEGER NOT NULL DEFAULT 0,
    created_date TEXT NOT NULL,
    modified_date TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS questionnaire_response_patient ON questionnaire_response(patient_id);
CREATE TABLE IF NOT EXISTS idempotency_key (
    user_id TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL,
    body BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX IF NOT EXISTS idempotency_key_age ON idempotency_key(created_at);
CREATE TABLE IF NOT EXISTS resource_request (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    emergency INTEGER NOT NULL,
    title TEXT NOT NULL,
    reason TEXT NOT NULL,
    referring_facility_contact_name TEXT NOT NULL,
    referring_facility_contact_number TEXT NOT NULL,
    status TEXT NOT NULL,
    category TEXT NOT NULL,
    priority INTEGER NOT NULL,
    origin_facility_id TEXT NOT NULL REFERENCES facility(id),
    approving_facility_id TEXT REFERENCES facility(id),
    assigned_facility_id TEXT REFERENCES facility(id),
    related_patient_id TEXT REFERENCES patient(id),
    assigned_to_id TEXT REFERENCES user(id),
    created_by_id TEXT REFERENCES user(id),
    updated_by_id TEXT REFERENCES user(id),
    deleted INTEGER NOT NULL DEFAULT 0,
    created_date TEXT NOT NULL,
    modified_date TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS resource_comment (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    resource_id TEXT NOT NULL REFERENCES resource_request(id),
    comment TEXT NOT NULL,
    created_by_id TEXT REFERENCES user(id),
    created_date TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS resource_comment_of ON resource_comment(resource_id, created_date);
CREATE TABLE IF NOT EXISTS revoked_token (
    jti TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
);
"#;

/// The connection a handler works on: the shared one, or one held by an enclosing scope.
type Conn = Box<dyn DerefMut<Target = Connection> + Send>;

/// The connection itself, owned.
struct Owned(Connection);

impl Deref for Owned {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.0
    }
}

impl DerefMut for Owned {
    fn deref_mut(&mut self) -> &mut Connection {
        &mut self.0
    }
}

/// A connection held for a whole scope (a batch, an idempotent write) inside a savepoint.
/// Dropped without `commit`, it rolls the savepoint back, so a panic or an early return
/// never leaves half a scope applied or the connection inside an open transaction.
struct Scoped {
    guard: OwnedMutexGuard<Conn>,
    savepoint: String,
    done: Arc<AtomicBool>,
}

impl Deref for Scoped {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.guard
    }
}

impl DerefMut for Scoped {
    fn deref_mut(&mut self) -> &mut Connection {
        &mut self.guard
    }
}

impl Drop for Scoped {
    fn drop(&mut self) {
        if !self.done.load(Ordering::SeqCst) {
            let sp = &self.savepoint;
            if let Err(e) = self
                .guard
                .execute_batch(&format!("ROLLBACK TO {sp}; RELEASE {sp}"))
            {
                tracing::error!("rolling back an abandoned scope failed: {e}");
            }
        }
    }
}

static SAVEPOINTS: AtomicU64 = AtomicU64::new(0);

/// One connection behind an async mutex: SQLite serialises writers anyway, and every query
/// here is short. A scope (`begin`) holds the connection across several requests, which wait
/// for it without blocking a worker thread.
#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Conn>>,
}

/// A scope opened by [`Db::begin`]: requests run on [`Tx::db`] see and make changes that
/// become permanent only on [`Tx::commit`].
pub struct Tx {
    db: Db,
    savepoint: String,
    done: Arc<AtomicBool>,
}

impl Db {
    pub fn open(path: &Path) -> Result<Self, rusqlite::Error> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.execute_batch(SCHEMA)?;
        Ok(Self::wrap(Box::new(Owned(conn))))
    }

    fn wrap(conn: Conn) -> Self {
        Self {
            conn: Arc::new(Mutex::new(conn)),
        }
    }

    /// Runs `f` with the connection.
    pub async fn with<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, CareError>,
    ) -> Result<T, CareError> {
        let mut guard = self.conn.lock().await;
        f(&mut guard)
    }

    /// Like [`Db::with`], for code that runs before the server does (opening, seeding).
    pub fn with_blocking<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, CareError>,
    ) -> Result<T, CareError> {
        let mut guard = self
            .conn
            .try_lock()
            .map_err(|_| CareError::Internal("database busy at start-up".into()))?;
        f(&mut guard)
    }

    /// Takes the connection for a scope: until the returned `Tx` is finished (and every
    /// clone of its `db()` dropped), other users of this `Db` wait.
    pub async fn begin(&self) -> Result<Tx, CareError> {
        let guard = self.conn.clone().lock_owned().await;
        let savepoint = format!("scope_{}", SAVEPOINTS.fetch_add(1, Ordering::Relaxed));
        guard.execute_batch(&format!("SAVEPOINT {savepoint}"))?;
        let done = Arc::new(AtomicBool::new(false));
        let scoped = Scoped {
            guard,
            savepoint: savepoint.clone(),
            done: done.clone(),
        };
        Ok(Tx {
            db: Self::wrap(Box::new(scoped)),
            savepoint,
            done,
        })
    }
}

impl Tx {
    /// The handle requests of this scope use.
    pub fn db(&self) -> Db {
        self.db.clone()
    }

    /// Undoes everything done in the scope so far; the scope stays open.
    pub async fn undo(&self) -> Result<(), CareError> {
        let sp = &self.savepoint;
        self.db
            .with(|conn| Ok(conn.execute_batch(&format!("ROLLBACK TO {sp}"))?))
            .await
    }

    /// Keeps the scope's changes (a commit when the scope is the outermost).
    pub async fn commit(self) -> Result<(), CareError> {
        let sp = &self.savepoint;
        self.db
            .with(|conn| Ok(conn.execute_batch(&format!("RELEASE {sp}"))?))
            .await?;
        self.done.store(true, Ordering::SeqCst);
        Ok(())
    }

    /// Drops the scope's changes.
    pub async fn rollback(self) -> Result<(), CareError> {
        let sp = &self.savepoint;
        self.db
            .with(|conn| Ok(conn.execute_batch(&format!("ROLLBACK TO {sp}; RELEASE {sp}"))?))
            .await?;
        self.done.store(true, Ordering::SeqCst);
        Ok(())
    }
}

/// CARE's timestamp format: UTC, microseconds, `Z`.
pub fn now_iso() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

/// An aware datetime as CARE serialises a stored one: converted to UTC, `Z`.
pub fn to_care_datetime(dt: &chrono::DateTime<chrono::FixedOffset>) -> String {
    dt.with_timezone(&chrono::Utc)
        .format("%Y-%m-%dT%H:%M:%S%.fZ")
        .to_string()
}

pub fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
pub fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}
