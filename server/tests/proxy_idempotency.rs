//! Exactly-once writes through the proxy, in front of an upstream with no idempotency of
//! its own (as real CARE): each keyed write reaches it once.

mod common;

use common::upstream::{counting_upstream, current_user, post_keyed, token_for};

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};

use axum::{
    routing::{get, post},
    Json, Router,
};
use serde_json::{json, Value};

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

/// An upstream that saves a patient at once and answers only after `delay` (a slow CARE).
async fn slow_upstream(
    delay: std::time::Duration,
) -> (String, Arc<AtomicUsize>, tokio::task::JoinHandle<()>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let app = Router::new()
        .route("/api/v1/users/getcurrentuser/", get(current_user))
        .route(
            "/api/v1/patient/",
            post(move |Json(body): Json<Value>| {
                let counter = counter.clone();
                async move {
                    let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
                    tokio::time::sleep(delay).await;
                    Json(json!({"id": format!("patient-{n}"), "name": body["name"]}))
                }
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

/// An upstream that reads the whole request, counts it as saved, and closes the
/// connection without answering; it also keeps the request heads it read.
async fn resetting_upstream() -> (
    String,
    Arc<AtomicUsize>,
    Arc<std::sync::Mutex<Vec<String>>>,
    tokio::task::JoinHandle<()>,
) {
    use tokio::io::AsyncReadExt;
    let hits = Arc::new(AtomicUsize::new(0));
    let heads = Arc::new(std::sync::Mutex::new(Vec::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (counter, seen) = (hits.clone(), heads.clone());
    let task = tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let (counter, seen) = (counter.clone(), seen.clone());
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let Ok(n) = socket.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    let Some(end) = text.find("\r\n\r\n") else {
                        continue;
                    };
                    let head = text[..end].to_ascii_lowercase();
                    if head.starts_with("get /api/v1/users/getcurrentuser/") {
                        use tokio::io::AsyncWriteExt;
                        let body = r#"{"id":"doctor","username":"doctor"}"#;
                        let answer = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                            body.len()
                        );
                        let _ = socket.write_all(answer.as_bytes()).await;
                        return;
                    }
                    let length = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if buf.len() >= end + 4 + length {
                        seen.lock().expect("heads").push(head);
                        counter.fetch_add(1, Ordering::SeqCst);
                        // Saved, then the line drops before any answer.
                        drop(socket);
                        return;
                    }
                }
            });
        }
    });
    (format!("http://{addr}"), hits, heads, task)
}

/// Retries until the answer is no longer "still in flight" (CARE is slow, the proxy waits).
async fn retry_until_settled(
    front: &common::TestServer,
    token: &str,
    key: &str,
    body: Value,
) -> (u16, Option<String>, Value) {
    for _ in 0..80 {
        let got = post_keyed(front, "/api/v1/patient/", token, key, body.clone()).await;
        if !(got.0 == 409 && got.2["code"] == "idempotency_in_flight") {
            return got;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the write stayed in flight");
}

#[tokio::test]
async fn care_answering_after_the_timeout_applies_the_write_once_and_the_retry_gets_its_answer() {
    let (upstream, hits, _task) = slow_upstream(std::time::Duration::from_millis(2500)).await;
    let front = common::start(&["--upstream", &upstream, "--upstream-timeout", "1"]).await;
    let doctor = token_for("doctor");
    let body = json!({"name": "Slow Asha"});
    let (s, _, b) = post_keyed(&front, "/api/v1/patient/", &doctor, "slow-1", body.clone()).await;
    assert_eq!(s, 504, "the device is told CARE did not answer in time");
    assert_eq!(b["code"], "upstream_timeout");
    // The device retries at once: the proxy is still waiting for CARE, so nothing is sent.
    let (s, _, b) = post_keyed(&front, "/api/v1/patient/", &doctor, "slow-1", body.clone()).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (409, Some("idempotency_in_flight"))
    );
    let (s, replayed, b) = retry_until_settled(&front, &doctor, "slow-1", body).await;
    assert_eq!((s, replayed.as_deref()), (200, Some("true")));
    assert_eq!(b["id"], "patient-1", "CARE's own answer, kept by the proxy");
    assert_eq!(hits.load(Ordering::SeqCst), 1, "CARE saw the write once");
}

#[tokio::test]
async fn a_write_whose_answer_was_lost_after_care_read_it_is_never_forwarded_again() {
    let (upstream, hits, heads, _task) = resetting_upstream().await;
    let front = common::start(&["--upstream", &upstream]).await;
    let doctor = token_for("doctor");
    let body = json!({"name": "Reset Ravi"});
    let resp = common::client()
        .post(front.url("/api/v1/patient/"))
        .bearer_auth(&doctor)
        .header("Idempotency-Key", "reset-1")
        .header("Accept-Encoding", "gzip, br")
        .json(&body)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 502);
    assert!(resp.headers().contains_key("x-care-offline-proxy"));
    let b: Value = resp.json().await.expect("json");
    assert_eq!(b["code"], "upstream_answer_lost");
    let (s, _, b) = post_keyed(&front, "/api/v1/patient/", &doctor, "reset-1", body.clone()).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (409, Some("idempotency_outcome_unknown"))
    );
    assert_eq!(hits.load(Ordering::SeqCst), 1, "not forwarded again");
    // A stored answer must be readable by whoever gets it: writes go out uncompressed.
    let heads = heads.lock().expect("heads").clone();
    assert!(
        heads.iter().all(|h| !h.contains("accept-encoding")),
        "{heads:?}"
    );
    // Another key (the person chose "send again") goes through.
    let (s, _, b) = post_keyed(&front, "/api/v1/patient/", &doctor, "reset-1.r1", body).await;
    assert_eq!((s, b["code"].as_str()), (502, Some("upstream_answer_lost")));
    assert_eq!(hits.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_restart_while_care_has_the_write_leaves_its_outcome_unknown() {
    let (upstream, hits, _task) = slow_upstream(std::time::Duration::from_secs(3600)).await;
    let front = common::start(&["--upstream", &upstream, "--upstream-timeout", "1"]).await;
    let doctor = token_for("doctor");
    let body = json!({"name": "Cut Off"});
    let (s, _, _) = post_keyed(&front, "/api/v1/patient/", &doctor, "cut-1", body.clone()).await;
    assert_eq!(s, 504);
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    // The server stops (a deploy, a crash) while CARE still has the write, and starts again
    // on the same data.
    let common::TestServer { data, task, .. } = front;
    drop(task);
    let front = common::start_in(data, &["--upstream", &upstream, "--upstream-timeout", "1"]).await;
    let (s, _, b) = post_keyed(&front, "/api/v1/patient/", &doctor, "cut-1", body).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (409, Some("idempotency_outcome_unknown"))
    );
    assert_eq!(hits.load(Ordering::SeqCst), 1, "not forwarded again");
}

#[tokio::test]
async fn replays_follow_the_user_care_names_and_a_refused_token_gets_none() {
    let (upstream, hits, _task) = counting_upstream().await;
    let front = common::start(&["--upstream", &upstream]).await;
    let doctor = token_for("doctor");
    let body = json!({"name": "Scoped"});
    let (s, _, first) = post_keyed(
        &front,
        "/api/v1/patient/",
        &doctor,
        "scoped-1",
        body.clone(),
    )
    .await;
    assert_eq!(s, 200);
    // The doctor's token, revoked since: CARE's refusal, not the stored answer.
    let revoked = doctor.replace(".s", ".revoked");
    let (s, replayed, b) = post_keyed(
        &front,
        "/api/v1/patient/",
        &revoked,
        "scoped-1",
        body.clone(),
    )
    .await;
    assert_eq!((s, replayed), (403, None));
    assert_eq!(
        b,
        json!({"detail": "Invalid Token", "code": "token_not_valid"})
    );
    // A token claiming to be the doctor's that CARE knows as the nurse's: no replay of the
    // doctor's answer (it is the nurse's own first write with that key).
    let forged = doctor.replace(".s", ".as-nurse");
    let (s, replayed, b) = post_keyed(
        &front,
        "/api/v1/patient/",
        &forged,
        "scoped-1",
        body.clone(),
    )
    .await;
    assert_eq!((s, replayed), (200, None));
    assert_ne!(b["id"], first["id"]);
    // The doctor's own retry is replayed.
    let (s, replayed, b) = post_keyed(&front, "/api/v1/patient/", &doctor, "scoped-1", body).await;
    assert_eq!((s, replayed.as_deref()), (200, Some("true")));
    assert_eq!(b["id"], first["id"]);
    assert_eq!(hits.load(Ordering::SeqCst), 2);
}
