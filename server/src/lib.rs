//! The CARE Offline server: SSR shell, PWA files, `/health`, and `/api/v1/*` from either the
//! built-in CARE-compatible backend or a proxied real CARE.
// Leptos view types nest deeply (the registration form).
#![recursion_limit = "512"]

pub mod assets;
pub mod config;
pub mod health;
pub mod logging;
pub mod pg;
pub mod proxy;
pub mod pwa;
pub mod retention;
pub mod secret;
pub mod security;
pub mod ssr;
pub mod state;
pub mod sync;
pub mod vault_escrow;

use axum::Router;
use state::AppState;

/// `/api/v1/*` of the serving backend (the built-in CARE, else the proxy), without the sync
/// API. The sync API writes through this same router.
pub fn backend_api<S: Clone + Send + Sync + 'static>(
    care: &Option<care_mimic::Care>,
    proxy: &Option<proxy::Proxy>,
) -> Router<S> {
    match (care, proxy) {
        (Some(care), _) => care_mimic::router().with_state(care.clone()),
        (None, Some(proxy)) => proxy::router().with_state(proxy.clone()),
        (None, None) => Router::new().fallback(|| async {
            proxy::proxy_error(
                axum::http::StatusCode::BAD_GATEWAY,
                "upstream_not_configured",
                "No CARE backend is configured.",
            )
        }),
    }
}

/// The whole application as a router, so tests can serve it on any listener.
pub fn router(state: AppState) -> Router {
    let mut api: Router<AppState> = backend_api(&state.care, &state.proxy);
    if let Some(sync) = &state.sync {
        api = Router::new()
            .nest("/sync", sync::router().with_state(sync.clone()))
            .merge(api);
    }
    let api = api.layer(axum::middleware::from_fn_with_state(
        state.escrow.clone(),
        vault_escrow::attach,
    ));
    Router::new()
        .nest("/api/v1", api)
        .merge(health::router())
        .merge(pwa::router(state.service_worker.clone()))
        .merge(assets::router(
            std::path::Path::new(state.leptos_options.site_root.as_ref()),
            &state.leptos_options.site_pkg_dir,
        ))
        .merge(ssr::router(&state))
        .layer(compression())
        .layer(axum::middleware::from_fn(security::headers))
        .layer(axum::middleware::from_fn(logging::log_request))
        .with_state(state)
}

/// Brotli or gzip, as the browser accepts, for anything over 1 KiB that is not already
/// encoded (a proxied CARE answer that is passes through untouched). A middle quality:
/// most of the size win at a small cost per request (the service worker keeps the app's
/// files, so each device fetches them once per version).
fn compression(
) -> tower_http::compression::CompressionLayer<impl tower_http::compression::Predicate> {
    use tower_http::compression::{
        predicate::{NotForContentType, SizeAbove},
        CompressionLayer, CompressionLevel, Predicate,
    };
    CompressionLayer::new()
        .br(true)
        .gzip(true)
        .quality(CompressionLevel::Precise(5))
        .compress_when(
            SizeAbove::new(1024)
                .and(NotForContentType::IMAGES)
                .and(NotForContentType::const_new("text/event-stream")),
        )
}

/// Serves until Ctrl-C / SIGTERM.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    // The peer address reaches handlers (the login throttle counts failures per address).
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
}
