//! The one state shared by every handler.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;

use care_mimic::Care;

use crate::{
    config::{Resolved, StoreChoice},
    proxy::{Proxy, ProxyError},
    pwa::ServiceWorker,
    sync::{idempotency::IdempotencyStore, store::StoreError, SyncApi},
};

#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    /// The built-in CARE backend, when no upstream is configured.
    pub care: Option<Care>,
    /// The proxy to a real CARE, when one is configured.
    pub proxy: Option<Proxy>,
    /// The sync API (`/api/v1/sync/*`), in front of whichever backend serves.
    pub sync: Option<SyncApi>,
    pub service_worker: Arc<ServiceWorker>,
    /// Hands each user's vault escrow key out with a successful sign-in.
    pub escrow: crate::vault_escrow::EscrowKey,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot create the data directory {0}: {1}")]
    DataDir(String, std::io::Error),
    #[error(transparent)]
    Care(#[from] care_mimic::CareInitError),
    #[error(transparent)]
    Proxy(#[from] ProxyError),
    #[error(transparent)]
    Sync(#[from] StoreError),
    #[error(transparent)]
    Secret(#[from] crate::secret::SecretError),
    #[error("cannot open the PostgreSQL store: {0}")]
    Store(#[from] crate::pg::PgError),
}

impl AppState {
    pub async fn open(config: &Resolved) -> Result<Self, StateError> {
        crate::retention::set_days(config.idempotency_retention_days);
        std::fs::create_dir_all(&config.data_dir)
            .map_err(|e| StateError::DataDir(config.data_dir.display().to_string(), e))?;
        let bundle = crate::assets::Bundle::for_site(&config.site_root, "pkg", "care-offline");
        let leptos_options = LeptosOptions::builder()
            .output_name("care-offline")
            .site_root(config.site_root.to_string_lossy().to_string())
            .site_pkg_dir("pkg")
            .site_addr(config.addr)
            .hash_files(bundle.hashed)
            .hash_file(std::sync::Arc::<str>::from(
                crate::assets::Bundle::hash_file(&config.site_root).to_string_lossy(),
            ))
            .build();
        let routes: Vec<String> = leptos_axum::generate_route_list(app::App)
            .iter()
            .map(|r| r.path().to_string())
            .collect();
        let service_worker = Arc::new(ServiceWorker::for_site(&config.site_root, &bundle, &routes));
        let secret = match &config.secret_file {
            Some(path) => crate::secret::ServerSecret::open_file(path)?,
            None => crate::secret::ServerSecret::open(&config.data_dir)?,
        };
        let pg = match &config.store {
            StoreChoice::Postgres(url) => {
                Some(crate::pg::Pg::connect(url, config.store_ca.as_deref()).await?)
            }
            StoreChoice::Sqlite => None,
        };
        let (care, proxy) = match &config.upstream {
            Some(url) => {
                let at_rest = crate::sync::at_rest::AtRest::from_secret(&secret);
                let store = match &pg {
                    None => IdempotencyStore::open_sqlite(
                        &config.data_dir.join("proxy-idempotency.sqlite3"),
                        at_rest,
                    )
                    .map_err(ProxyError::from)?,
                    Some(pg) => IdempotencyStore::postgres(
                        pg.clone(),
                        at_rest,
                        crate::proxy::IN_FLIGHT_LIMIT,
                    ),
                };
                (
                    None,
                    Some(Proxy::new(url.clone(), config.upstream_timeout, store)?),
                )
            }
            None => (
                Some(Care::open(&config.data_dir.join("care.sqlite3"))?),
                None,
            ),
        };
        let sync = match (&care, &proxy) {
            (None, None) => None,
            _ => Some(
                SyncApi::open(
                    &config.data_dir,
                    pg,
                    crate::backend_api(&care, &proxy),
                    care.clone(),
                    config.audit_retention_days,
                )
                .await?,
            ),
        };
        let escrow = crate::vault_escrow::EscrowKey::new(&secret);
        Ok(Self {
            leptos_options,
            care,
            proxy,
            sync,
            service_worker,
            escrow,
        })
    }
}
