//! Exactly-once writes through the proxy, in front of an upstream with no idempotency of
//! its own (as real CARE): each keyed write reaches it once.

mod common;

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};

use axum::{routing::post, Json, Router};
use serde_json::{json, Value};

/// An upstream that creates a new record on every POST and counts them.
async fn counting_upstream() -> (String, Arc<AtomicUsize>, tokio::task::JoinHandle<()>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let app = Router::new()
        .route(
            "/api/v1/patient/",
            post(move |Json(body): Json<Value>| {
                let counter = counter.clone();
                async move {
                    let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
                    Json(json!({"id": format!("patient-{n}"), "name": body["name"]}))
                }
            }),
        )
        .route(
            "/api/v1/failing/",
            post(|| async {
                (
                    axum::http::StatusCode::SERVICE_UNAVAILABLE,
                    Json(json!({"detail": "busy"})),
                )
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), hits, task)
}

fn token_for(user: &str) -> String {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
    let payload = URL_SAFE_NO_PAD.encode(format!(r#"{{"user_id":"{user}"}}"#));
    format!("h.{payload}.s")
}

async fn post_keyed(
    front: &common::TestServer,
    path: &str,
    token: &str,
    key: &str,
    body: Value,
) -> (u16, Option<String>, Value) {
    let resp = common::client()
        .post(front.url(path))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(&body)
        .send()
        .await
        .expect("send");
    let status = resp.status().as_u16();
    let replayed = resp
        .headers()
        .get("idempotent-replayed")
        .map(|v| v.to_str().unwrap_or("").to_string());
    (status, replayed, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_repeated_write_reaches_care_once() {
    let (upstream, hits, _task) = counting_upstream().await;
    let front = common::start(&["--upstream", &upstream]).await;
    let doctor = token_for("doctor");
    let (s1, r1, b1) = post_keyed(
        &front,
        "/api/v1/patient/",
        &doctor,
        "key-1",
        json!({"name": "Asha"}),
    )
    .await;
    let (s2, r2, b2) = post_keyed(
        &front,
        "/api/v1/patient/",
        &doctor,
        "key-1",
        json!({"name": "Asha"}),
    )
    .await;
    assert_eq!((s1, s2), (200, 200));
    assert_eq!(b1, b2, "the repeat gets the first answer");
    assert_eq!((r1, r2.as_deref()), (None, Some("true")));
    assert_eq!(hits.load(Ordering::SeqCst), 1, "CARE saw the write once");

    // The same key for a different request is refused.
    let (s3, _, b3) = post_keyed(
        &front,
        "/api/v1/patient/",
        &doctor,
        "key-1",
        json!({"name": "Other"}),
    )
    .await;
    assert_eq!(s3, 422);
    assert_eq!(b3["code"], "idempotency_key_reused");
    // Keys are per user.
    let (s4, r4, b4) = post_keyed(
        &front,
        "/api/v1/patient/",
        &token_for("nurse"),
        "key-1",
        json!({"name": "Asha"}),
    )
    .await;
    assert_eq!((s4, r4), (200, None));
    assert_ne!(b4["id"], b1["id"]);
    assert_eq!(hits.load(Ordering::SeqCst), 2);
    // Writes without a key pass through as before.
    let resp = common::client()
        .post(front.url("/api/v1/patient/"))
        .bearer_auth(&doctor)
        .json(&json!({"name": "No key"}))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 200);
    assert_eq!(hits.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn an_answer_care_never_gave_is_not_kept() {
    let (upstream, _hits, task) = counting_upstream().await;
    let front = common::start(&["--upstream", &upstream]).await;
    let doctor = token_for("doctor");
    // A 5xx from CARE is not replayed: the retry goes through again.
    let (s, r, _) = post_keyed(&front, "/api/v1/failing/", &doctor, "key-f", json!({})).await;
    assert_eq!((s, r), (503, None));
    let (s, r, _) = post_keyed(&front, "/api/v1/failing/", &doctor, "key-f", json!({})).await;
    assert_eq!((s, r), (503, None));
    // CARE down: 502 from the proxy, and the key stays free for the retry.
    task.abort();
    let _ = task.await;
    let (s, _, b) = post_keyed(
        &front,
        "/api/v1/patient/",
        &doctor,
        "key-down",
        json!({"name": "Later"}),
    )
    .await;
    assert_eq!(s, 502);
    assert_eq!(b["code"], "upstream_unreachable");
    let (upstream2, hits2, _task2) = counting_upstream().await;
    let front2 = common::start_in(front.data, &["--upstream", &upstream2]).await;
    let (s, r, _) = post_keyed(
        &front2,
        "/api/v1/patient/",
        &doctor,
        "key-down",
        json!({"name": "Later"}),
    )
    .await;
    assert_eq!((s, r), (200, None));
    assert_eq!(hits2.load(Ordering::SeqCst), 1);
}
