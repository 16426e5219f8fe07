//! The proxy in front of a real CARE: a second server proxies to a first, then to nothing.

mod common;

use serde_json::{json, Value};

#[tokio::test]
async fn proxies_login_and_authorised_calls() {
    let care = common::start(&[]).await;
    let front = common::start(&["--upstream", &care.base]).await;
    let (access, _) = front.login("care-doctor").await;
    let (status, me) = front
        .get("/api/v1/users/getcurrentuser/", Some(&access))
        .await;
    assert_eq!(status, 200);
    assert_eq!(me["username"], "care-doctor");
    // CARE's own errors pass through untouched (no proxy marker).
    let resp = common::client()
        .get(front.url("/api/v1/users/getcurrentuser/"))
        .bearer_auth("bad")
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 403);
    assert!(resp.headers().get("x-care-offline-proxy").is_none());
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["code"], "token_not_valid");
    // Query strings reach the upstream.
    let (status, roots) = front
        .get("/api/v1/organization/?org_type=govt&parent=", Some(&access))
        .await;
    assert_eq!(status, 200);
    assert_eq!(roots["results"][0]["name"], "Kerala");
    let (_, health) = front.get("/health", None).await;
    assert_eq!(health["backend"], "proxy");
}

#[tokio::test]
async fn upstream_down_is_a_json_502_marked_as_ours() {
    // Bind then drop a listener so the port is known to be closed.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let front = common::start(&["--upstream", &format!("http://127.0.0.1:{port}")]).await;
    let resp = common::client()
        .post(front.url("/api/v1/auth/login/"))
        .json(&json!({"username": "care-doctor", "password": "Ohcn@123"}))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 502);
    assert_eq!(resp.headers()["x-care-offline-proxy"], "1");
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["code"], "upstream_unreachable");
    assert_eq!(body["source"], "care-offline-proxy");
}

#[tokio::test]
async fn slow_upstream_is_a_json_504() {
    // Accepts connections and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = silent.local_addr().expect("addr");
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = silent.accept().await {
            held.push(sock);
        }
    });
    let front = common::start(&[
        "--upstream",
        &format!("http://{addr}"),
        "--upstream-timeout",
        "1",
    ])
    .await;
    let resp = common::client()
        .get(front.url("/api/v1/users/getcurrentuser/"))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 504);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["code"], "upstream_timeout");
    hold.abort();
}
