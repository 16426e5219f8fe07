//! `Idempotency-Key`: a write is applied once per (user, key); a repeat replays the stored
//! answer; a different request under the same key is a 422.

mod common;

use serde_json::{json, Value};

async fn send(
    s: &common::TestServer,
    method: reqwest::Method,
    path: &str,
    body: &Value,
    token: &str,
    key: &str,
) -> (u16, Value, bool) {
    let resp = common::client()
        .request(method, s.url(path))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .expect("send");
    let status = resp.status().as_u16();
    let replayed = resp.headers().get("idempotent-replayed").is_some();
    (status, resp.json().await.unwrap_or(Value::Null), replayed)
}

async fn count_named(s: &common::TestServer, token: &str, name: &str) -> i64 {
    let (_, list) = s
        .get(&format!("/api/v1/patient/?name={name}"), Some(token))
        .await;
    list["count"].as_i64().unwrap_or(-1)
}

async fn patient(s: &common::TestServer, token: &str, name: &str) -> Value {
    let geo = s.geo_id(token, "Kerala").await;
    json!({"name": name, "gender": "female", "phone_number": "+919811111111",
           "date_of_birth": "1990-01-01", "geo_organization": geo})
}

#[tokio::test]
async fn a_repeat_replays_and_creates_nothing() {
    let s = common::start(&[]).await;
    let (token, _) = s.login("care-doctor").await;
    let body = patient(&s, &token, "Idem Once").await;
    let post = reqwest::Method::POST;
    let (status, first, replayed) =
        send(&s, post.clone(), "/api/v1/patient/", &body, &token, "k-1").await;
    assert_eq!((status, replayed), (200, false));
    let (status, again, replayed) =
        send(&s, post.clone(), "/api/v1/patient/", &body, &token, "k-1").await;
    assert_eq!((status, replayed), (200, true));
    assert_eq!(first, again);
    assert_eq!(count_named(&s, &token, "Idem Once").await, 1);

    // Key order does not matter; a different body does.
    let reordered: Value = serde_json::from_str(&{
        let mut fields: Vec<(String, Value)> = body
            .as_object()
            .map(|o| o.clone().into_iter().collect())
            .unwrap_or_default();
        fields.reverse();
        format!(
            "{{{}}}",
            fields
                .iter()
                .map(|(k, v)| format!("{:?}:{}", k, v))
                .collect::<Vec<_>>()
                .join(",")
        )
    })
    .unwrap_or(Value::Null);
    let (status, _, replayed) = send(
        &s,
        post.clone(),
        "/api/v1/patient/",
        &reordered,
        &token,
        "k-1",
    )
    .await;
    assert_eq!((status, replayed), (200, true));
    let mut other = body.clone();
    other["name"] = json!("Idem Other");
    let (status, err, _) = send(&s, post.clone(), "/api/v1/patient/", &other, &token, "k-1").await;
    assert_eq!(status, 422);
    assert_eq!(err["errors"][0]["type"], "idempotency_key_reused");
    assert_eq!(count_named(&s, &token, "Idem Other").await, 0);
    // The same key on another endpoint is also a different request.
    let pid = first["id"].as_str().unwrap_or_default().to_string();
    let (status, _, _) = send(
        &s,
        reqwest::Method::PUT,
        &format!("/api/v1/patient/{pid}/"),
        &body,
        &token,
        "k-1",
    )
    .await;
    assert_eq!(status, 422);

    // PUT: applied once; a later change by someone else is not undone by a replay.
    let mut renamed = body.clone();
    renamed["name"] = json!("Idem Renamed");
    let path = format!("/api/v1/patient/{pid}/");
    let (status, put, _) = send(&s, reqwest::Method::PUT, &path, &renamed, &token, "k-2").await;
    assert_eq!(status, 200);
    s.put(&path, json!({"name": "Idem Later"}), Some(&token))
        .await;
    let (_, replay, replayed) =
        send(&s, reqwest::Method::PUT, &path, &renamed, &token, "k-2").await;
    assert!(replayed);
    assert_eq!(replay, put);
    let (_, now) = s.get(&path, Some(&token)).await;
    assert_eq!(now["name"], "Idem Later");

    // Survives a restart.
    let common::TestServer { data, task, .. } = s;
    drop(task);
    let s = common::start_in(data, &[]).await;
    let (status, again, replayed) = send(&s, post, "/api/v1/patient/", &body, &token, "k-1").await;
    assert_eq!((status, replayed), (200, true));
    assert_eq!(again, first);
    assert_eq!(
        count_named(&s, &token, "Idem Later").await,
        1,
        "still one patient"
    );
}

#[tokio::test]
async fn keys_are_per_user_errors_are_replayed_and_bad_keys_refused() {
    let s = common::start(&[]).await;
    let (doctor, _) = s.login("care-doctor").await;
    let (nurse, _) = s.login("care-nurse").await;
    let body = patient(&s, &doctor, "Idem Shared").await;
    let post = reqwest::Method::POST;
    let (_, a, _) = send(&s, post.clone(), "/api/v1/patient/", &body, &doctor, "same").await;
    let (status, b, replayed) =
        send(&s, post.clone(), "/api/v1/patient/", &body, &nurse, "same").await;
    assert_eq!((status, replayed), (200, false));
    assert_ne!(a["id"], b["id"]);
    assert_eq!(count_named(&s, &doctor, "Idem Shared").await, 2);
    let mut other = body.clone();
    other["name"] = json!("Idem Nurse Other");
    let (status, _, _) = send(&s, post.clone(), "/api/v1/patient/", &other, &nurse, "same").await;
    assert_eq!(status, 422);

    // A rejected write is remembered too (and left nothing behind).
    let bad = json!({"name": "Idem Bad"});
    let (status, first, _) =
        send(&s, post.clone(), "/api/v1/patient/", &bad, &doctor, "bad-1").await;
    assert_eq!(status, 400);
    let (status, again, replayed) =
        send(&s, post.clone(), "/api/v1/patient/", &bad, &doctor, "bad-1").await;
    assert_eq!((status, replayed), (400, true));
    assert_eq!(first, again);
    // 403s are not stored: the volunteer's refusal does not stick to the key.
    let (volunteer, _) = s.login("care-volunteer").await;
    let pid = a["id"].as_str().unwrap_or_default().to_string();
    let path = format!("/api/v1/patient/{pid}/");
    let (status, _, _) = send(
        &s,
        reqwest::Method::PUT,
        &path,
        &json!({"name": "V"}),
        &volunteer,
        "v-1",
    )
    .await;
    assert_eq!(status, 403);
    let (_, _, replayed) = send(
        &s,
        reqwest::Method::PUT,
        &path,
        &json!({"name": "V"}),
        &volunteer,
        "v-1",
    )
    .await;
    assert!(!replayed);

    let long = "k".repeat(256);
    let (status, err, _) = send(&s, post.clone(), "/api/v1/patient/", &body, &doctor, &long).await;
    assert_eq!(status, 400);
    assert_eq!(err["errors"][0]["type"], "validation_error");
    // GETs ignore the header; without credentials the endpoint answers as usual.
    let (status, _, replayed) = send(
        &s,
        reqwest::Method::POST,
        "/api/v1/patient/",
        &body,
        "bogus",
        "x",
    )
    .await;
    assert_eq!((status, replayed), (403, false));
}

#[tokio::test]
async fn concurrent_repeats_apply_once_and_batches_replay() {
    let s = common::start(&[]).await;
    let (token, _) = s.login("care-doctor").await;
    let body = patient(&s, &token, "Idem Race").await;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (url, t, b) = (s.url("/api/v1/patient/"), token.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let resp = common::client()
                .post(url)
                .bearer_auth(t)
                .header("Idempotency-Key", "race")
                .json(&b)
                .send()
                .await
                .expect("send");
            (
                resp.status().as_u16(),
                resp.json::<Value>().await.unwrap_or(Value::Null),
            )
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        let (status, v) = t.await.expect("task");
        assert_eq!(status, 200);
        ids.push(v["id"].clone());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "one patient for eight tries");
    assert_eq!(count_named(&s, &token, "Idem Race").await, 1);

    let (pid, eid) = s.patient_with_encounter(&token, "+919800000401").await;
    let batch = json!({"requests": [{"url": format!("/api/v1/patient/{pid}/symptom/upsert/"), "method": "POST",
        "reference_id": "s", "body": {"datapoints": [{"verification_status": "confirmed", "encounter": eid,
        "code": {"system": "http://snomed.info/sct", "code": "49727002"}}]}}]});
    let (status, first, _) = send(
        &s,
        reqwest::Method::POST,
        "/api/v1/batch_requests/",
        &batch,
        &token,
        "b-1",
    )
    .await;
    assert_eq!(status, 200);
    let (_, again, replayed) = send(
        &s,
        reqwest::Method::POST,
        "/api/v1/batch_requests/",
        &batch,
        &token,
        "b-1",
    )
    .await;
    assert!(replayed);
    assert_eq!(first, again);
    let (_, list) = s
        .get(&format!("/api/v1/patient/{pid}/symptom/"), Some(&token))
        .await;
    assert_eq!(list["count"], 1);
}

#[tokio::test]
async fn records_are_kept_for_the_retention_then_pruned() {
    let s = common::start(&[]).await;
    let (token, _) = s.login("care-doctor").await;
    let body = patient(&s, &token, "Idem Old").await;
    let post = reqwest::Method::POST;
    send(&s, post.clone(), "/api/v1/patient/", &body, &token, "old").await;
    {
        let conn = rusqlite::Connection::open(s.data.path().join("care.sqlite3")).expect("open");
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .expect("timeout");
        // Two weeks offline: still remembered (the default retention is 90 days).
        let two_weeks = 14 * 24 * 3600;
        conn.execute(
            "UPDATE idempotency_key SET created_at = created_at - ?1 WHERE key = 'old'",
            [two_weeks],
        )
        .expect("age");
    }
    let (_, replayed_body, replayed) =
        send(&s, post.clone(), "/api/v1/patient/", &body, &token, "old").await;
    assert!(
        replayed,
        "a key two weeks old is still answered from the store: {replayed_body}"
    );
    {
        let conn = rusqlite::Connection::open(s.data.path().join("care.sqlite3")).expect("open");
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .expect("timeout");
        let past_retention = 80 * 24 * 3600;
        conn.execute(
            "UPDATE idempotency_key SET created_at = created_at - ?1 WHERE key = 'old'",
            [past_retention],
        )
        .expect("age");
    }
    // Any idempotent write prunes; afterwards the old key is free again.
    send(
        &s,
        post.clone(),
        "/api/v1/patient/",
        &patient(&s, &token, "Idem New").await,
        &token,
        "new",
    )
    .await;
    let mut other = body.clone();
    other["name"] = json!("Idem Reused");
    let (status, _, replayed) = send(&s, post, "/api/v1/patient/", &other, &token, "old").await;
    assert_eq!((status, replayed), (200, false));
}
