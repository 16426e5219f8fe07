//! The server's own state on PostgreSQL (`--store postgres://…`): a connection pool, and
//! versioned migrations applied at start. Several replicas share it; each migration runs
//! once, under an advisory lock, whichever replica starts first.

mod tls;

use std::{path::Path, time::Duration};

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;

/// The migrations, in order; a version once released never changes.
const MIGRATIONS: &[(i32, &str)] = &[
    (1, include_str!("migrations/0001_proxy_idempotency.sql")),
    (2, include_str!("migrations/0002_sync_trail.sql")),
    (3, include_str!("migrations/0003_sync_queue.sql")),
];

/// Advisory lock keys (one per purpose, in this server's own range).
pub const MIGRATION_LOCK: i64 = 0x0CA4_E0FF_0001;
pub const PRUNE_LOCK: i64 = 0x0CA4_E0FF_0002;
pub const TRAIL_PRUNE_LOCK: i64 = 0x0CA4_E0FF_0003;

/// How long a statement may wait for a connection, or a health check for an answer.
const WAIT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum PgError {
    #[error("the store URL is not a PostgreSQL URL: {0}")]
    Url(String),
    #[error("{0}")]
    Db(#[from] tokio_postgres::Error),
    #[error("no connection: {0}")]
    Pool(String),
    #[error("TLS: {0}")]
    Tls(String),
}

impl PgError {
    /// True when the store could not be reached or is shutting down (a passing outage the
    /// caller may retry), false for a statement the store refused (a bug, not an outage).
    pub fn is_outage(&self) -> bool {
        match self {
            PgError::Pool(_) => true,
            PgError::Db(e) => {
                e.is_closed()
                    || e.code().is_none_or(|state| {
                        let code = state.code();
                        // Connection exceptions, shutdowns, too many connections.
                        code.starts_with("08") || code.starts_with("57P") || code.starts_with("53")
                    })
            }
            PgError::Url(_) | PgError::Tls(_) => false,
        }
    }
}

impl From<deadpool_postgres::PoolError> for PgError {
    /// With the causes: "error performing TLS handshake" alone does not say that the
    /// certificate was from an unknown CA.
    fn from(e: deadpool_postgres::PoolError) -> Self {
        let mut message = e.to_string();
        let mut cause = std::error::Error::source(&e);
        while let Some(c) = cause {
            let text = c.to_string();
            if !message.contains(&text) {
                message.push_str(": ");
                message.push_str(&text);
            }
            cause = c.source();
        }
        PgError::Pool(message)
    }
}

/// A pool of connections to the store.
#[derive(Clone)]
pub struct Pg {
    pool: Pool,
}

impl Pg {
    /// Connects and brings the schema up to date. With `sslmode=require` in the URL the
    /// connections are TLS, checked against `ca_file`'s CAs (else the system's).
    pub async fn connect(url: &str, ca_file: Option<&Path>) -> Result<Pg, PgError> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e: tokio_postgres::Error| PgError::Url(e.to_string()))?;
        let recycling = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        let manager = match tls::for_mode(config.get_ssl_mode(), ca_file)? {
            tls::Tls::None => Manager::from_config(config, NoTls, recycling),
            tls::Tls::Verified(connector) => Manager::from_config(config, connector, recycling),
        };
        let pool = Pool::builder(manager)
            .max_size(16)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(WAIT))
            .create_timeout(Some(WAIT))
            .recycle_timeout(Some(WAIT))
            .build()
            .map_err(|e| PgError::Pool(e.to_string()))?;
        let pg = Pg { pool };
        pg.migrate().await?;
        Ok(pg)
    }

    pub async fn client(&self) -> Result<deadpool_postgres::Object, PgError> {
        Ok(self.pool.get().await?)
    }

    async fn migrate(&self) -> Result<(), PgError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS care_offline_schema (
                 version INTEGER PRIMARY KEY,
                 applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
             )",
        )
        .await?;
        let current: Option<i32> = tx
            .query_one("SELECT max(version) FROM care_offline_schema", &[])
            .await?
            .get(0);
        for (version, sql) in MIGRATIONS {
            if current.is_some_and(|c| c >= *version) {
                continue;
            }
            tx.batch_execute(sql).await?;
            tx.execute(
                "INSERT INTO care_offline_schema (version) VALUES ($1)",
                &[version],
            )
            .await?;
            tracing::info!("store: migration {version} applied");
        }
        tx.commit().await?;
        Ok(())
    }

    /// The schema version, if the store answers within a few seconds.
    pub async fn version(&self) -> Option<i32> {
        let check = async {
            let client = self.client().await.ok()?;
            client
                .query_one("SELECT max(version) FROM care_offline_schema", &[])
                .await
                .ok()?
                .get::<_, Option<i32>>(0)
        };
        tokio::time::timeout(WAIT, check).await.ok().flatten()
    }
}

/// The latest migration this build knows.
pub fn latest_version() -> i32 {
    MIGRATIONS.last().map(|(v, _)| *v).unwrap_or(0)
}
