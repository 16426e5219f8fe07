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
