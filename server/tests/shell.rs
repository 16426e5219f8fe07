//! The non-API surface: `/health`, the service worker and the server-rendered shell.

mod common;

#[tokio::test]
async fn health_is_verifiable_json() {
    let s = common::start(&[]).await;
    let resp = common::client()
        .get(s.url("/health"))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .expect("ct")
        .starts_with("application/json"));
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(body["service"], server::health::SERVICE);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["backend"], "builtin");
    assert_eq!(
        body["idempotency_retention_days"], 90,
        "how long a write's key is remembered, for devices holding old writes"
    );
}

#[tokio::test]
async fn service_worker_is_served_with_its_version() {
    let s = common::start(&[]).await;
    let resp = common::client()
        .get(s.url("/sw.js"))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .expect("ct")
        .contains("javascript"));
    let text = resp.text().await.expect("text");
    assert!(!text.contains("__VERSION__") && !text.contains("__ASSETS__"));
    assert!(text.contains("/pkg/care-offline.wasm"));
    assert!(text.contains("\"/api/\""), "the worker skips API requests");
}

#[tokio::test]
async fn login_page_is_server_rendered() {
    let s = common::start(&[]).await;
    let resp = common::client()
        .get(s.url("/login"))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.expect("html");
    assert!(html.contains("Sign in with your CARE account."));
    assert!(
        html.contains("/pkg/care-offline"),
        "hydration scripts are linked"
    );
    assert!(html.contains("manifest.webmanifest"));
}

#[tokio::test]
async fn large_answers_are_compressed_as_the_browser_accepts() {
    let s = common::start(&[]).await;
    let (token, _) = s.login("care-doctor").await;
    let get = |encoding: Option<&'static str>| {
        let mut req = common::client()
            .get(s.url("/api/v1/patient/?limit=100"))
            .bearer_auth(&token);
        if let Some(e) = encoding {
            req = req.header("Accept-Encoding", e);
        }
        req.send()
    };
    let plain = get(None).await.expect("plain");
    assert!(plain.headers().get("content-encoding").is_none());
    let plain_len = plain.bytes().await.expect("body").len();
    assert!(plain_len > 10_000, "a large answer: {plain_len} bytes");
    for (accept, expected) in [("br, gzip", "br"), ("gzip", "gzip")] {
        let resp = get(Some(accept)).await.expect("compressed");
        assert_eq!(resp.headers()["content-encoding"], expected);
        let len = resp.bytes().await.expect("body").len();
        assert!(
            len * 3 < plain_len,
            "{expected}: {len} of {plain_len} bytes"
        );
    }
    // A small answer is not worth it.
    let resp = common::client()
        .get(s.url("/health"))
        .header("Accept-Encoding", "br")
        .send()
        .await
        .expect("health");
    assert!(resp.headers().get("content-encoding").is_none());
}

#[tokio::test]
async fn pages_cannot_be_framed_and_run_only_their_own_scripts() {
    let s = common::start(&[]).await;
    let resp = common::client()
        .get(s.url("/login"))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 200);
    let h = resp.headers().clone();
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(h["x-frame-options"], "DENY");
    let header_policy = h["content-security-policy"].to_str().expect("csp");
    assert!(
        header_policy.contains("frame-ancestors 'none'"),
        "{header_policy}"
    );
    let html = resp.text().await.expect("html");
    // The page's own policy names the nonce its inline hydration script carries.
    let policy_at = html
        .find("http-equiv=\"Content-Security-Policy\"")
        .expect("a policy in the page");
    let nonce = html
        .split("nonce=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the inline script carries a nonce");
    assert!(!nonce.is_empty());
    assert!(
        html.contains(&format!("'nonce-{nonce}'")),
        "the policy allows that script only"
    );
    assert!(
        policy_at < html.find("<script").expect("a script"),
        "the policy comes before any script"
    );
    for directive in [
        "default-src 'self'",
        "'wasm-unsafe-eval'",
        "connect-src 'self'",
    ] {
        assert!(html.contains(directive), "{directive}");
    }
    assert!(
        !html.contains("'unsafe-inline' 'wasm"),
        "no inline script without the nonce"
    );

    // API answers are never sniffed into another type either.
    let resp = common::client()
        .get(s.url("/health"))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
    assert!(resp.headers().get("content-security-policy").is_none());
}

/// A site as the release build leaves it: hashed names, precompressed variants, hash.txt.
fn built_site() -> tempfile::TempDir {
    let site = tempfile::tempdir().expect("tmp");
    let pkg = site.path().join("pkg");
    std::fs::create_dir_all(&pkg).expect("mkdir");
    let hash = "Qx3_kQ9-AbCdEfGhIjKlMn";
    for ext in ["js", "wasm", "css"] {
        let name = format!("care-offline.{hash}.{ext}");
        std::fs::write(pkg.join(&name), format!("plain {ext}")).expect("write");
        std::fs::write(pkg.join(format!("{name}.br")), format!("brotli {ext}")).expect("write");
        std::fs::write(pkg.join(format!("{name}.gz")), format!("gzip {ext}")).expect("write");
    }
    std::fs::write(
        site.path().join("hash.txt"),
        format!("js: {hash}\nwasm: {hash}\ncss: {hash}\n"),
    )
    .expect("write");
    site
}

#[tokio::test]
async fn hashed_files_are_served_precompressed_and_cached_for_good() {
    let site = built_site();
    let root = site.path().to_string_lossy().to_string();
    let s = common::start(&["--site-root", &root]).await;
    let wasm = s.url("/pkg/care-offline.Qx3_kQ9-AbCdEfGhIjKlMn.wasm");
    let resp = common::client()
        .get(&wasm)
        .header("accept-encoding", "br, gzip")
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-encoding"], "br");
    assert_eq!(
        resp.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(resp.bytes().await.expect("body").as_ref(), b"brotli wasm");
    let resp = common::client()
        .get(&wasm)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("get");
    assert_eq!(resp.headers()["content-encoding"], "gzip");

    // The page names the hashed files; it and the worker are never cached unchecked.
    let resp = common::client()
        .get(s.url("/login"))
        .header("accept-encoding", "br")
        .send()
        .await
        .expect("get");
    assert_eq!(resp.headers()["cache-control"], "no-cache");
    assert_eq!(
        resp.headers()["content-encoding"],
        "br",
        "the page itself is compressed"
    );
    let plain_page = common::client()
        .get(s.url("/login"))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("html");
    for ext in ["js", "wasm", "css"] {
        assert!(
            plain_page.contains(&format!("/pkg/care-offline.Qx3_kQ9-AbCdEfGhIjKlMn.{ext}")),
            "the page loads the hashed {ext}"
        );
    }
    let resp = common::client()
        .get(s.url("/sw.js"))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.headers()["cache-control"], "no-cache");
    let etag = resp.headers()["etag"].to_str().expect("etag").to_string();
    let script = resp.text().await.expect("text");
    assert!(script.contains("/pkg/care-offline.Qx3_kQ9-AbCdEfGhIjKlMn.wasm"));
    let again = common::client()
        .get(s.url("/sw.js"))
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("get");
    assert_eq!(
        again.status(),
        304,
        "unchanged worker: revalidated, not resent"
    );
}
