//! The built app's files under `/pkg`: their names (content-hashed when the build wrote
//! `hash.txt` into the site, `care-offline.<hash>.wasm`), and how they are served:
//! precompressed (brotli 11 / gzip files written at build time) in the variant the browser
//! accepts, and — for hashed names, which never change content — cached for a year,
//! `immutable`.

use std::path::{Path, PathBuf};

use axum::{
    extract::Request,
    http::{header, HeaderValue},
    middleware::Next,
    response::Response,
    Router,
};
use tower_http::services::ServeDir;

/// The file the build writes next to the site (`hash-file-name` in Cargo.toml).
pub const HASH_FILE: &str = "hash.txt";

/// The three files the page loads, as served paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    pub js: String,
    pub wasm: String,
    pub css: String,
    /// True when the names carry content hashes.
    pub hashed: bool,
}

impl Bundle {
    /// Reads `hash.txt` (`js: <hash>` / `wasm: <hash>` / `css: <hash>` lines) when the
    /// build wrote one; otherwise the plain names.
    pub fn for_site(site_root: &Path, pkg_dir: &str, output_name: &str) -> Self {
        let text = std::fs::read_to_string(site_root.join(HASH_FILE)).unwrap_or_default();
        let hash_of = |ext: &str| {
            text.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                (k.trim() == ext && !v.trim().is_empty()).then(|| v.trim().to_string())
            })
        };
        let (js, wasm, css) = (hash_of("js"), hash_of("wasm"), hash_of("css"));
        let hashed = js.is_some() && wasm.is_some() && css.is_some();
        let name = |ext: &str, hash: Option<String>| match hash.filter(|_| hashed) {
            Some(h) => format!("/{pkg_dir}/{output_name}.{h}.{ext}"),
            None => format!("/{pkg_dir}/{output_name}.{ext}"),
        };
        Self {
            js: name("js", js),
            wasm: name("wasm", wasm),
            css: name("css", css),
            hashed,
        }
    }

    /// Where leptos reads the hashes when rendering the page's script and style tags.
    pub fn hash_file(site_root: &Path) -> PathBuf {
        let path = site_root.join(HASH_FILE);
        std::path::absolute(&path).unwrap_or(path)
    }
}

/// A `/pkg` file name with a content hash: `name.<hash>.ext` (the hash: 16+ base64url
/// characters, as cargo-leptos writes them).
pub fn is_hashed(file_name: &str) -> bool {
    let mut parts = file_name.rsplitn(3, '.');
    let (Some(_ext), Some(hash), Some(_stem)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    hash.len() >= 16
        && hash
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `/pkg/*` from the site's pkg directory, precompressed files preferred.
pub fn router<S: Clone + Send + Sync + 'static>(site_root: &Path, pkg_dir: &str) -> Router<S> {
    let dir = ServeDir::new(site_root.join(pkg_dir))
        .precompressed_br()
        .precompressed_gzip();
    Router::new().nest_service(
        &format!("/{pkg_dir}"),
        tower::ServiceBuilder::new()
            .layer(axum::middleware::from_fn(cache_headers))
            .service(dir),
    )
}

async fn cache_headers(req: Request, next: Next) -> Response {
    let hashed = req.uri().path().rsplit('/').next().is_some_and(is_hashed);
    let mut resp = next.run(req).await;
    if resp.status().is_success() {
        let value = if hashed {
            "public, max-age=31536000, immutable"
        } else {
            // Same name, new content on every build: always ask.
            "no-cache"
        };
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_are_told_from_plain_ones() {
        assert!(is_hashed("care-offline.Xy3_kQ9-AbCdEfGhIjKlMn.wasm"));
        assert!(!is_hashed("care-offline.wasm"));
        assert!(!is_hashed("care-offline.short.js"));
        assert!(!is_hashed("care-offline.has spaces in it ok.js"));
    }

    #[test]
    fn the_bundle_follows_the_hash_file() {
        let dir = tempfile::tempdir().expect("tmp");
        let plain = Bundle::for_site(dir.path(), "pkg", "app");
        assert_eq!(plain.wasm, "/pkg/app.wasm");
        assert!(!plain.hashed);
        std::fs::write(
            dir.path().join(HASH_FILE),
            "js: AAAAAAAAAAAAAAAAAAAAAA\nwasm: BBBBBBBBBBBBBBBBBBBBBB\ncss: CCCCCCCCCCCCCCCCCCCCCC\n",
        )
        .expect("write");
        let hashed = Bundle::for_site(dir.path(), "pkg", "app");
        assert!(hashed.hashed);
        assert_eq!(hashed.wasm, "/pkg/app.BBBBBBBBBBBBBBBBBBBBBB.wasm");
        assert_eq!(hashed.css, "/pkg/app.CCCCCCCCCCCCCCCCCCCCCC.css");
        assert!(Bundle::hash_file(dir.path()).is_absolute());
    }
}
