//! Command-line flags, each also read from the environment.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use clap::Parser;

/// CARE Offline server: renders the app, serves the PWA, and answers `/api/v1/*`
/// either from the built-in CARE-compatible backend or by proxying to a real CARE.
#[derive(Debug, Parser)]
#[command(name = "server", version)]
pub struct Config {
    /// Address to listen on (HOST:PORT; port 0 picks a free one).
    #[arg(long, env = "CARE_OFFLINE_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,

    /// Directory for the SQLite database (built-in backend, idempotency store).
    #[arg(long = "data-dir", env = "CARE_OFFLINE_DATA", default_value = "data")]
    pub data_dir: PathBuf,

    /// Base URL of a real CARE backend (e.g. https://care.example.org). When set,
    /// `/api/v1/*` is proxied there instead of served by the built-in backend.
    #[arg(long, env = "CARE_API_URL")]
    pub upstream: Option<String>,

    /// Seconds to wait for the upstream before answering 504.
    #[arg(
        long = "upstream-timeout",
        env = "CARE_UPSTREAM_TIMEOUT",
        default_value_t = 30
    )]
    pub upstream_timeout_secs: u64,

    /// Days the sync audit trail is kept (pruned at start and hourly after).
    #[arg(
        long = "sync-audit-retention-days",
        env = "CARE_SYNC_AUDIT_RETENTION_DAYS",
        default_value_t = 90
    )]
    pub audit_retention_days: u32,

    /// Days an `Idempotency-Key` and its answer are remembered (proxy, built-in backend,
    /// push ledger): at least as long as a device may keep a write queued.
    #[arg(
        long = "idempotency-retention-days",
        env = "CARE_IDEMPOTENCY_RETENTION_DAYS",
        default_value_t = crate::retention::DEFAULT_DAYS
    )]
    pub idempotency_retention_days: u32,

    /// Where the server keeps its own state (the proxy's idempotency keys): `sqlite` (files
    /// in the data dir, one server) or a PostgreSQL URL (`postgres://user:pass@host/db`),
    /// shared by several replicas in front of one CARE (proxy mode only).
    #[arg(long, env = "CARE_OFFLINE_STORE", default_value = "sqlite")]
    pub store: String,

    /// CA certificates (PEM) trusted for the PostgreSQL store's certificate, instead of the
    /// system's; needs `sslmode=require` in the store URL.
    #[arg(long = "store-ca", env = "CARE_OFFLINE_STORE_CA")]
    pub store_ca: Option<PathBuf>,

    /// The server's secret (32 bytes: vault escrow, answers sealed at rest). Default:
    /// `<data-dir>/server-secret.key`, created on first start. Replicas sharing a
    /// PostgreSQL store must all read the same file, which must exist.
    #[arg(long = "secret-file", env = "CARE_OFFLINE_SECRET_FILE")]
    pub secret_file: Option<PathBuf>,

    /// Directory holding the built site (`pkg/`, service worker, icons). Defaults to
    /// `LEPTOS_SITE_ROOT`, else `target/site` next to the binary's target directory.
    #[arg(long = "site-root", env = "LEPTOS_SITE_ROOT")]
    pub site_root: Option<PathBuf>,
}

/// A configuration that has been checked.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    pub upstream: Option<reqwest::Url>,
    pub upstream_timeout: Duration,
    pub site_root: PathBuf,
    pub audit_retention_days: u32,
    pub idempotency_retention_days: u32,
    pub store: StoreChoice,
    pub store_ca: Option<PathBuf>,
    pub secret_file: Option<PathBuf>,
}

/// The store for the server's own state.
#[derive(Debug, Clone, PartialEq)]
pub enum StoreChoice {
    Sqlite,
    /// The connection URL.
    Postgres(String),
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("--upstream / CARE_API_URL {0:?} is not a valid http(s) URL: {1}")]
    BadUpstream(String, String),
    #[error("--upstream-timeout must be at least 1 second")]
    ZeroTimeout,
    #[error("--sync-audit-retention-days and --idempotency-retention-days must be at least 1")]
    ZeroRetention,
    #[error("--store / CARE_OFFLINE_STORE must be `sqlite` or a postgres:// URL, not {0:?}")]
    BadStore(String),
    #[error("--store postgres://… is for proxy mode (set --upstream / CARE_API_URL); the built-in backend keeps SQLite")]
    PostgresNeedsUpstream,
    #[error("--store-ca / CARE_OFFLINE_STORE_CA is for a PostgreSQL store (--store postgres://…?sslmode=require)")]
    CaWithoutPostgres,
    #[error("--store postgres://… is shared by several replicas: give them one secret with --secret-file / CARE_OFFLINE_SECRET_FILE (each replica's own would make the others' stored answers and vault escrows unreadable)")]
    PostgresNeedsSharedSecret,
}

impl Config {
    pub fn resolve(self) -> Result<Resolved, ConfigError> {
        let upstream = match self.upstream.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => Some(parse_upstream(raw)?),
        };
        if self.upstream_timeout_secs == 0 {
            return Err(ConfigError::ZeroTimeout);
        }
        if self.audit_retention_days == 0 || self.idempotency_retention_days == 0 {
            return Err(ConfigError::ZeroRetention);
        }
        let store = parse_store(&self.store)?;
        if store == StoreChoice::Sqlite && self.store_ca.is_some() {
            return Err(ConfigError::CaWithoutPostgres);
        }
        if store != StoreChoice::Sqlite {
            if upstream.is_none() {
                return Err(ConfigError::PostgresNeedsUpstream);
            }
            if self.secret_file.is_none() {
                return Err(ConfigError::PostgresNeedsSharedSecret);
            }
        }
        Ok(Resolved {
            addr: self.addr,
            data_dir: self.data_dir,
            upstream,
            upstream_timeout: Duration::from_secs(self.upstream_timeout_secs),
            site_root: self.site_root.unwrap_or_else(default_site_root),
            audit_retention_days: self.audit_retention_days,
            idempotency_retention_days: self.idempotency_retention_days,
            store,
            store_ca: self.store_ca,
            secret_file: self.secret_file,
        })
    }
}

fn parse_store(raw: &str) -> Result<StoreChoice, ConfigError> {
    let raw = raw.trim();
    if raw.is_empty() || raw == "sqlite" {
        return Ok(StoreChoice::Sqlite);
    }
    if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
        return Ok(StoreChoice::Postgres(raw.to_string()));
    }
    // The value may hold a password: say only its start.
    Err(ConfigError::BadStore(raw.chars().take(12).collect()))
}

fn parse_upstream(raw: &str) -> Result<reqwest::Url, ConfigError> {
    let url = reqwest::Url::parse(raw)
        .map_err(|e| ConfigError::BadUpstream(raw.to_string(), e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(ConfigError::BadUpstream(
            raw.to_string(),
            "expected http:// or https:// with a host".to_string(),
        ));
    }
    Ok(url)
}

/// `target/release/server` → `target/site`, so the binary works from any directory.
fn default_site_root() -> PathBuf {
    let beside_exe = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent()?.parent().map(|t| t.join("site")))
        .filter(|p| p.is_dir());
    beside_exe.unwrap_or_else(|| PathBuf::from("target/site"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(upstream: Option<&str>) -> Config {
        Config {
            addr: "127.0.0.1:0".parse().expect("addr"),
            data_dir: "d".into(),
            upstream: upstream.map(str::to_string),
            upstream_timeout_secs: 5,
            site_root: None,
            audit_retention_days: 90,
            idempotency_retention_days: 90,
            store: "sqlite".into(),
            store_ca: None,
            secret_file: None,
        }
    }

    #[test]
    fn a_store_ca_without_a_postgres_store_is_refused() {
        let mut c = config(Some("https://care.example.org"));
        c.store_ca = Some("ca.pem".into());
        assert!(matches!(c.resolve(), Err(ConfigError::CaWithoutPostgres)));
    }

    #[test]
    fn empty_upstream_means_built_in_backend() {
        assert!(config(Some("  ")).resolve().expect("ok").upstream.is_none());
        assert!(config(None).resolve().expect("ok").upstream.is_none());
    }

    #[test]
    fn audit_retention_must_be_positive() {
        let mut c = config(None);
        c.audit_retention_days = 0;
        assert!(matches!(c.resolve(), Err(ConfigError::ZeroRetention)));
        let parsed = Config::try_parse_from(["server", "--sync-audit-retention-days", "7"])
            .expect("flags")
            .resolve()
            .expect("config");
        assert_eq!(parsed.audit_retention_days, 7);
        assert_eq!(parsed.idempotency_retention_days, 90, "the default");
        let mut c = config(None);
        c.idempotency_retention_days = 0;
        assert!(matches!(c.resolve(), Err(ConfigError::ZeroRetention)));
    }

    #[test]
    fn upstream_must_be_http() {
        let err = config(Some("ftp://x")).resolve().expect_err("ftp");
        assert!(err.to_string().contains("ftp://x"));
        assert!(config(Some("not a url")).resolve().is_err());
        let ok = config(Some("https://care.example.org"))
            .resolve()
            .expect("https");
        assert_eq!(
            ok.upstream.expect("set").host_str(),
            Some("care.example.org")
        );
    }

    #[test]
    fn the_store_is_sqlite_or_a_postgres_url_and_postgres_only_in_front_of_care() {
        let with = |upstream: Option<&str>, store: &str| {
            let mut c = config(upstream);
            c.store = store.into();
            c.resolve()
        };
        assert_eq!(
            with(None, "sqlite").expect("default").store,
            StoreChoice::Sqlite
        );
        assert!(matches!(
            with(
                Some("https://care.example.org"),
                "postgres://care@db/offline"
            ),
            Err(ConfigError::PostgresNeedsSharedSecret)
        ));
        let mut shared = config(Some("https://care.example.org"));
        shared.store = "postgres://care@db/offline".into();
        shared.secret_file = Some("/run/secrets/care-offline".into());
        let pg = shared
            .resolve()
            .expect("proxy on postgres with a shared secret");
        assert_eq!(
            pg.store,
            StoreChoice::Postgres("postgres://care@db/offline".into())
        );
        assert!(matches!(
            with(None, "postgres://care@db/offline"),
            Err(ConfigError::PostgresNeedsUpstream)
        ));
        match with(Some("https://care.example.org"), "mysql://root:secret@db/x") {
            Err(ConfigError::BadStore(shown)) => assert!(!shown.contains("secret")),
            other => panic!("a bad store is refused: {other:?}"),
        }
    }
}
