//! Two server replicas in proxy mode on one PostgreSQL store, in front of an upstream that
//! creates a record on every POST (as CARE does, with no idempotency of its own): every
//! write sent twice, at once, half to each replica, reaches it once.

mod common;

use std::{collections::HashMap, sync::atomic::Ordering};

use common::upstream::{counting_upstream, token_for};
use serde_json::{json, Value};

const WRITES: usize = 500;

/// Pairs of copies on the wire at once (a thousand new connections at one instant would
/// test the loopback's accept queue, not the store).
const AT_ONCE: usize = 16;

/// Sends one keyed create; a 409 in flight is retried as a device would, until settled.
async fn send_until_settled(
    client: reqwest::Client,
    front: String,
    token: String,
    key: String,
) -> (u16, Value) {
    for _ in 0..200 {
        let resp = client
            .post(format!("{front}/api/v1/patient/"))
            .bearer_auth(&token)
            .header("Idempotency-Key", &key)
            .json(&json!({"name": format!("Replica {key}")}))
            .send()
            .await
            .expect("send");
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if status == 409 && body["code"] == "idempotency_in_flight" {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            continue;
        }
        return (status, body);
    }
    panic!("key {key} stayed in flight");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_write_sent_to_two_replicas_at_once_reaches_care_once() {
    let cluster = common::pg::PgCluster::start();
    let (upstream, hits, _task) = counting_upstream().await;
    let (_secret, a, b) = two_replicas(&cluster, &upstream).await;
    let token = token_for("doctor");

    // Every write twice, at the same moment: one copy to each replica.
    let client = common::client();
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(AT_ONCE));
    let mut tasks = Vec::with_capacity(WRITES);
    for i in 0..WRITES {
        let key = format!("write-{i}");
        let (first, second) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
        let (first, second) = (first.base.clone(), second.base.clone());
        let (client, token, gate) = (client.clone(), token.clone(), gate.clone());
        tasks.push(tokio::spawn(async move {
            let _turn = gate.acquire_owned().await.expect("gate");
            let (one, two) = tokio::join!(
                send_until_settled(client.clone(), first, token.clone(), key.clone()),
                send_until_settled(client, second, token, key.clone()),
            );
            (key, [one, two])
        }));
    }
    let mut ids: HashMap<String, Vec<String>> = HashMap::new();
    for t in tasks {
        let (key, answers) = t.await.expect("task");
        for (status, body) in answers {
            assert_eq!(status, 200, "{key}: {body}");
            ids.entry(key.clone())
                .or_default()
                .push(body["id"].as_str().expect("id").to_string());
        }
    }
    assert_eq!(
        hits.load(Ordering::SeqCst),
        WRITES,
        "CARE saw each write once"
    );
    assert_eq!(ids.len(), WRITES);
    for (key, got) in &ids {
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], got[1], "{key}: both copies got CARE's one answer");
    }

    // Both replicas say where their state is.
    for front in [&a, &b] {
        let (status, health) = front.get("/health", None).await;
        assert_eq!(status, 200, "{health}");
        assert_eq!(health["store"]["kind"], "postgres");
        assert_eq!(health["store"]["reachable"], true);
        assert_eq!(health["store"]["migration"], server::pg::latest_version());
    }

    // Without its store a replica says so, and a load balancer takes it out.
    cluster.stop();
    let (status, health) = a.get("/health", None).await;
    assert_eq!(status, 503, "{health}");
    assert_eq!(health["status"], "store_unreachable");
    assert_eq!(health["store"]["reachable"], false);
    // A write it cannot record is refused, never forwarded unrecorded.
    let before = hits.load(Ordering::SeqCst);
    let resp = common::client()
        .post(a.url("/api/v1/patient/"))
        .bearer_auth(&token)
        .header("Idempotency-Key", "after-the-store-went")
        .json(&json!({"name": "Not recorded"}))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 500);
    assert_eq!(hits.load(Ordering::SeqCst), before);
}

/// Two replicas on one store and one secret, in front of a counting upstream. One secret for
/// both, as a deployment mounts it: each replica's own would leave the other unable to open
/// the answers it stored.
async fn two_replicas(
    cluster: &common::pg::PgCluster,
    upstream: &str,
) -> (tempfile::TempDir, common::TestServer, common::TestServer) {
    let shared = tempfile::tempdir().expect("tmp");
    let secret = shared.path().join("server-secret.key");
    std::fs::write(&secret, [42u8; 32]).expect("secret");
    let secret = secret.to_string_lossy().to_string();
    let replica = [
        "--upstream",
        upstream,
        "--store",
        &cluster.url,
        "--secret-file",
        &secret,
    ];
    let a = common::start(&replica).await;
    let b = common::start(&replica).await;
    (shared, a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_through_one_replica_is_in_the_sync_health_of_the_other() {
    let cluster = common::pg::PgCluster::start();
    let (upstream, hits, _task) = counting_upstream().await;
    let (_secret, a, b) = two_replicas(&cluster, &upstream).await;
    let (doctor, admin) = (token_for("doctor"), token_for("superuser-1"));
    let item = "5b0c2a52-3f0e-4c35-9a53-1d1f4f7f0a01";
    let push = json!({"deviceId": "tab-9", "items": [
        {"id": item, "operation": "CREATE", "resourceType": "patient",
         "path": "/api/v1/patient/", "payload": {"name": "Pushed Once"},
         "clientTimestamp": "2026-12-07T10:00:00.000Z"},
    ]});
    let (status, first) = a
        .post("/api/v1/sync/push", push.clone(), Some(&doctor))
        .await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["results"][0]["status"], "synced", "{first}");

    // The administrator's view from the other replica has the device and its write.
    let (status, health) = b.get("/api/v1/sync/health", Some(&admin)).await;
    assert_eq!(status, 200, "{health}");
    let devices = health["devices"].as_array().expect("devices");
    let tab = devices
        .iter()
        .find(|d| d["userId"] == "doctor" && d["deviceId"] == "tab-9")
        .unwrap_or_else(|| panic!("replica b sees the device: {health}"));
    assert_eq!(
        (tab["total"].as_i64(), tab["synced"].as_i64()),
        (Some(1), Some(1)),
        "{tab}"
    );
    assert!(tab["lastActivityAt"].is_string(), "{tab}");

    // The device lost the answer and pushes again, to the other replica: answered, not
    // applied again, and still one item in the trail.
    let (status, second) = b.post("/api/v1/sync/push", push, Some(&doctor)).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["results"][0]["status"], "synced", "{second}");
    assert_eq!(
        second["results"][0]["response"]["id"], first["results"][0]["response"]["id"],
        "{second}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 1, "CARE saw the write once");
    let (status, stats) = a.get("/api/v1/sync/stats", Some(&doctor)).await;
    assert_eq!(status, 200, "{stats}");
    assert_eq!(
        (stats["total"].as_i64(), stats["synced"].as_i64()),
        (Some(1), Some(1)),
        "{stats}"
    );

    // Without the store, the trail cannot be read: a passing outage (503), not a fault.
    cluster.stop();
    let (status, body) = b.get("/api/v1/sync/health", Some(&admin)).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["code"], "sync_store", "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_queued_item_is_sent_once_whichever_replicas_process_it() {
    let cluster = common::pg::PgCluster::start();
    let (upstream, hits, _task) = counting_upstream().await;
    let (_secret, a, b) = two_replicas(&cluster, &upstream).await;
    let doctor = token_for("doctor");
    let ids: Vec<String> = (0..20)
        .map(|i| format!("7c1d0a52-3f0e-4c35-9a53-1d1f4f7f{i:04x}"))
        .collect();
    for id in &ids {
        let body = json!({"id": id, "deviceId": "tab-3", "operation": "CREATE",
            "resourceType": "patient", "path": "/api/v1/patient/",
            "data": {"name": format!("Queued {id}")}});
        let (status, out) = a
            .post("/api/v1/sync/queue", body.clone(), Some(&doctor))
            .await;
        assert_eq!(status, 201, "{out}");
        // Queued again through the other replica: the same item, not a second one.
        let (status, again) = b.post("/api/v1/sync/queue", body, Some(&doctor)).await;
        assert_eq!(
            (status, again["status"].as_str()),
            (200, Some("PENDING")),
            "{again}"
        );
    }
    let (status, pending) = b
        .get("/api/v1/sync/pending?deviceId=tab-3", Some(&doctor))
        .await;
    assert_eq!(status, 200, "{pending}");
    assert_eq!(
        pending.as_array().map(Vec::len),
        Some(ids.len()),
        "replica b lists what a queued"
    );

    // Every item processed through both replicas at the same moment.
    let mut tasks = Vec::new();
    for id in &ids {
        for front in [a.base.clone(), b.base.clone()] {
            let (id, token) = (id.clone(), doctor.clone());
            tasks.push(tokio::spawn(async move {
                let resp = common::client()
                    .post(format!("{front}/api/v1/sync/process/{id}"))
                    .bearer_auth(token)
                    .send()
                    .await
                    .expect("process");
                let status = resp.status().as_u16();
                (
                    id,
                    status,
                    resp.json::<Value>().await.unwrap_or(Value::Null),
                )
            }));
        }
    }
    let mut synced: HashMap<String, Vec<String>> = HashMap::new();
    for t in tasks {
        let (id, status, body) = t.await.expect("task");
        match (status, body["status"].as_str(), body["code"].as_str()) {
            (200, Some("SYNCED"), _) => synced.entry(id).or_default().push(
                body["result"]["id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            ),
            (409, _, Some("in_progress")) => {}
            other => panic!("{id}: {other:?} {body}"),
        }
    }
    assert_eq!(
        hits.load(Ordering::SeqCst),
        ids.len(),
        "CARE saw each item once"
    );
    for id in &ids {
        let got = synced.get(id).unwrap_or_else(|| panic!("{id} was synced"));
        assert!(
            got.iter().all(|r| r == &got[0] && !r.is_empty()),
            "{id}: {got:?}"
        );
    }
    let (_, pending) = a
        .get("/api/v1/sync/pending?deviceId=tab-3", Some(&doctor))
        .await;
    assert_eq!(pending, json!([]));

    // A replica stopped while it was sending an item: the claim it left stands while the
    // send could still be under way, and is taken again once it cannot be.
    let id = "7c1d0a52-3f0e-4c35-9a53-1d1f4f7fffff";
    let body = json!({"id": id, "deviceId": "tab-3", "operation": "CREATE",
        "resourceType": "patient", "path": "/api/v1/patient/", "data": {"name": "Cut off"}});
    let (status, _) = a.post("/api/v1/sync/queue", body, Some(&doctor)).await;
    assert_eq!(status, 201);
    let pg = server::pg::Pg::connect(&cluster.url, None)
        .await
        .expect("store");
    let client = pg.client().await.expect("client");
    let now = chrono::Utc::now().timestamp_millis();
    let age = |ms: i64| {
        let client = &client;
        async move {
            client
                .execute(
                    "UPDATE sync_queue_item SET status = 'SYNCING', updated_at_ms = $2 WHERE id = $1",
                    &[&id, &ms],
                )
                .await
                .expect("age the claim")
        }
    };
    age(now).await;
    let path = format!("/api/v1/sync/process/{id}");
    let (status, out) = b.post(&path, json!({}), Some(&doctor)).await;
    assert_eq!(
        (status, out["code"].as_str()),
        (409, Some("in_progress")),
        "{out}"
    );
    let limit = i64::try_from(server::proxy::IN_FLIGHT_LIMIT.as_millis()).expect("ms");
    age(now - limit - 1_000).await;
    let (status, out) = b.post(&path, json!({}), Some(&doctor)).await;
    assert_eq!(
        (status, out["status"].as_str()),
        (200, Some("SYNCED")),
        "{out}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), ids.len() + 1);

    // Everything is on the store: a replica holds nothing of its own.
    for front in [&a, &b] {
        let files: Vec<_> = std::fs::read_dir(front.data.path())
            .expect("data dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert!(files.is_empty(), "{files:?}");
    }
}

#[tokio::test]
async fn replicas_without_a_shared_secret_or_with_a_missing_one_do_not_start() {
    use clap::Parser;
    let data = tempfile::tempdir().expect("tmp");
    let data_dir = data.path().to_string_lossy().to_string();
    let base = [
        "server",
        "--data-dir",
        &data_dir,
        "--upstream",
        "http://127.0.0.1:9",
        "--store",
        "postgres://care@127.0.0.1:1/offline",
    ];
    let err = server::config::Config::try_parse_from(base)
        .expect("flags")
        .resolve()
        .expect_err("a replica needs the shared secret");
    assert!(err.to_string().contains("--secret-file"), "{err}");
    let missing = data
        .path()
        .join("not-there.key")
        .to_string_lossy()
        .to_string();
    let mut args = base.to_vec();
    args.extend(["--secret-file", &missing]);
    let config = server::config::Config::try_parse_from(args)
        .expect("flags")
        .resolve()
        .expect("config");
    let err = server::state::AppState::open(&config)
        .await
        .err()
        .expect("a missing shared secret is never made up");
    assert!(err.to_string().contains("does not exist"), "{err}");
    assert!(!std::path::Path::new(&missing).exists());
}

#[tokio::test]
async fn a_postgres_store_with_the_built_in_backend_is_refused_clearly() {
    use clap::Parser;
    let err = server::config::Config::try_parse_from([
        "server",
        "--store",
        "postgres://care@127.0.0.1:1/offline",
    ])
    .expect("flags")
    .resolve()
    .expect_err("refused");
    assert!(err.to_string().contains("proxy mode"), "{err}");
}
