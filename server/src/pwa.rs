//! The service worker, served with the build's asset list and a content hash as its version:
//! a new build changes `/sw.js`, so browsers install the new worker, precache the new
//! assets and drop the old cache. The worker never stores API responses.

use std::{path::Path, sync::Arc};

use axum::{
    extract::State,
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use sha2::{Digest, Sha256};

const TEMPLATE: &str = include_str!("sw.js");

/// The rendered service worker for one build.
#[derive(Clone, Debug)]
pub struct ServiceWorker {
    pub version: String,
    pub script: String,
}

impl ServiceWorker {
    /// Hashes the built `pkg/` files so the version changes exactly when the app does.
    /// `routes` are the app's route patterns (`/facility/:facility_id/patients`): the worker
    /// precaches one shell per pattern, so every page works offline from the first visit.
    pub fn for_site(site_root: &Path, bundle: &crate::assets::Bundle, routes: &[String]) -> Self {
        // All or nothing: without these the app does not open offline.
        let critical = vec![
            "/".to_string(),
            bundle.js.clone(),
            bundle.wasm.clone(),
            bundle.css.clone(),
        ];
        let optional = vec![
            "/manifest.webmanifest".to_string(),
            "/icons/icon-192.png".to_string(),
            "/icons/icon-512.png".to_string(),
            "/favicon.ico".to_string(),
        ];
        let assets: Vec<&String> = critical.iter().chain(&optional).collect();
        let mut hasher = Sha256::new();
        hasher.update(TEMPLATE.as_bytes());
        for asset in &assets {
            hasher.update(asset.as_bytes());
            // A missing file (an API-only test server) still gives a stable version.
            if let Ok(bytes) = std::fs::read(site_root.join(asset.trim_start_matches('/'))) {
                hasher.update(&bytes);
            }
        }
        for route in routes {
            hasher.update(route.as_bytes());
        }
        let version: String = hasher
            .finalize()
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect();
        let json = |v: &[String]| serde_json::to_string(v).unwrap_or_else(|_| "[]".to_string());
        let script = TEMPLATE
            .replace("__VERSION__", &version)
            .replace("__CRITICAL__", &json(&critical))
            .replace("__OPTIONAL__", &json(&optional))
            .replace("__ROUTES__", &json(routes))
            .replace("__CSS__", &bundle.css);
        Self { version, script }
    }
}

/// `/sw.js` for this build's worker (its own state, so the app's state stays out of here).
pub fn router<S>(worker: Arc<ServiceWorker>) -> Router<S> {
    Router::new()
        .route("/sw.js", get(service_worker))
        .with_state(worker)
}

async fn service_worker(State(sw): State<Arc<ServiceWorker>>, headers: HeaderMap) -> Response {
    let etag = format!("\"{}\"", sw.version);
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut resp = if unchanged {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        sw.script.clone().into_response()
    };
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    // The browser must always see a new build's worker; it revalidates with the ETag.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_follows_asset_content() {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::create_dir_all(dir.path().join("pkg")).expect("mkdir");
        std::fs::write(dir.path().join("pkg/app.wasm"), b"one").expect("write");
        let routes = vec!["/facility/:facility_id".to_string()];
        let bundle = crate::assets::Bundle::for_site(dir.path(), "pkg", "app");
        let a = ServiceWorker::for_site(dir.path(), &bundle, &routes);
        std::fs::write(dir.path().join("pkg/app.wasm"), b"two").expect("write");
        let b = ServiceWorker::for_site(dir.path(), &bundle, &routes);
        assert_ne!(a.version, b.version);
        assert!(b.script.contains(&b.version));
        assert!(b.script.contains("\"/pkg/app.wasm\""));
        for placeholder in [
            "__CRITICAL__",
            "__OPTIONAL__",
            "__ROUTES__",
            "__VERSION__",
            "__CSS__",
        ] {
            assert!(!b.script.contains(placeholder), "{placeholder}");
        }
        let critical = b.script.lines().find(|l| l.starts_with("const CRITICAL"));
        assert!(critical.is_some_and(|l| l.contains("/pkg/app.wasm") && l.contains("\"/\"")));
        assert!(b.script.contains("/facility/:facility_id"));
    }
}
