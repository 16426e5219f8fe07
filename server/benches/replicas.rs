//! Seed 004's stress test for the proxy's exactly-once store: 200 simulated devices each
//! push 50 writes (one request each, with its `Idempotency-Key`) in front of an upstream
//! that creates a record per POST, as CARE does. One write in ten is sent again at once, as
//! a device does when it never got the answer (to the other replica when there are two).
//!
//! Two set-ups: SQLite with one server, and PostgreSQL with two replicas (a private
//! cluster). Reports throughput, p50/p99 latency, duplicates and lost writes (both must be
//! 0). `BENCH_SCALE` scales the devices. Not run by `cargo test`:
//!
//! ```sh
//! cargo bench -p server --bench replicas
//! ```
// Leptos view types nest deeply (the server links the app).
#![recursion_limit = "512"]

#[allow(dead_code)]
#[path = "common/mod.rs"]
mod common;
#[allow(dead_code)]
#[path = "../tests/common/pg.rs"]
mod pg;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    routing::{get, post},
    Json, Router,
};
use serde_json::{json, Value};

const WRITES_PER_DEVICE: usize = 50;
const DEVICES: usize = 200;

/// Creates per name, to count duplicates; knows every test token as user `bench`.
async fn upstream() -> (String, Arc<Mutex<HashMap<String, usize>>>) {
    let created: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let seen = created.clone();
    let app = Router::new()
        .route(
            "/api/v1/users/getcurrentuser/",
            get(|| async { Json(json!({"id": "bench", "username": "bench"})) }),
        )
        .route(
            "/api/v1/patient/",
            post(move |Json(body): Json<Value>| {
                let seen = seen.clone();
                async move {
                    let name = body["name"].as_str().unwrap_or_default().to_string();
                    let n = {
                        let mut map = seen.lock().expect("counts");
                        let count = map.entry(name.clone()).or_default();
                        *count += 1;
                        map.len()
                    };
                    Json(json!({"id": format!("p-{n}"), "name": name}))
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), created)
}

/// One write until it is settled: in flight is retried as the app retries it.
async fn send(client: &reqwest::Client, front: &str, key: &str) -> Duration {
    let t0 = Instant::now();
    loop {
        let resp = client
            .post(format!("{front}/api/v1/patient/"))
            .bearer_auth("h.e30.s")
            .header("Idempotency-Key", key)
            .json(&json!({"name": key}))
            .send()
            .await
            .expect("send");
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if status == 409 && body["code"] == "idempotency_in_flight" {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        }
        assert_eq!(status, 200, "{key}: {body}");
        return t0.elapsed();
    }
}

struct Report {
    writes: usize,
    requests: usize,
    seconds: f64,
    p50_ms: f64,
    p99_ms: f64,
    duplicates: usize,
    lost: usize,
}

async fn run(fronts: Vec<String>, created: Arc<Mutex<HashMap<String, usize>>>) -> Report {
    let devices = common::scaled(DEVICES);
    let client = reqwest::Client::new();
    let t0 = Instant::now();
    let tasks: Vec<_> = (0..devices)
        .map(|d| {
            let (client, fronts) = (client.clone(), fronts.clone());
            tokio::spawn(async move {
                let mine = &fronts[d % fronts.len()];
                let other = &fronts[(d + 1) % fronts.len()];
                let mut latencies = Vec::with_capacity(WRITES_PER_DEVICE + 5);
                for w in 0..WRITES_PER_DEVICE {
                    let key = format!("device-{d}-write-{w}");
                    if w % 10 == 0 {
                        // The answer was lost: the device sends it again at once.
                        let (a, b) =
                            tokio::join!(send(&client, mine, &key), send(&client, other, &key));
                        latencies.extend([a, b]);
                    } else {
                        latencies.push(send(&client, mine, &key).await);
                    }
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.expect("device"));
    }
    let seconds = t0.elapsed().as_secs_f64();
    latencies.sort();
    let pick = |q: f64| {
        latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)].as_secs_f64()
            * 1000.0
    };
    let writes = devices * WRITES_PER_DEVICE;
    let counts = created.lock().expect("counts");
    let duplicates = counts.values().map(|c| c - 1).sum();
    Report {
        writes,
        requests: latencies.len(),
        seconds,
        p50_ms: pick(0.5),
        p99_ms: pick(0.99),
        duplicates,
        lost: writes - counts.len(),
    }
}

fn print(label: &str, r: &Report) {
    println!(
        "| {label:<32} | {:>6} | {:>8} | {:>7.2} | {:>8.0} | {:>6.2} | {:>6.2} | {:>4} | {:>4} |",
        r.writes,
        r.requests,
        r.seconds,
        r.writes as f64 / r.seconds,
        r.p50_ms,
        r.p99_ms,
        r.duplicates,
        r.lost
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("client runtime");
    println!(
        "| set-up                           | writes | requests | total s | writes/s | p50 ms | p99 ms | dup  | lost |"
    );
    println!(
        "|----------------------------------|--------|----------|---------|----------|--------|--------|------|------|"
    );

    // SQLite, one server.
    let (up, created) = rt.block_on(upstream());
    let data = tempfile::tempdir().expect("tmp");
    let one = common::start_server_with(&data.path().to_string_lossy(), &["--upstream".into(), up]);
    let report = rt.block_on(run(vec![one], created));
    print("SQLite, one server", &report);

    // PostgreSQL, two replicas with one secret.
    let cluster = pg::PgCluster::start();
    let (up, created) = rt.block_on(upstream());
    let shared = tempfile::tempdir().expect("tmp");
    let secret = shared.path().join("secret.key");
    std::fs::write(&secret, [7u8; 32]).expect("secret");
    let flags = vec![
        "--upstream".to_string(),
        up,
        "--store".into(),
        cluster.url.clone(),
        "--secret-file".into(),
        secret.to_string_lossy().to_string(),
    ];
    let (da, db) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );
    let a = common::start_server_with(&da.path().to_string_lossy(), &flags);
    let b = common::start_server_with(&db.path().to_string_lossy(), &flags);
    let report = rt.block_on(run(vec![a, b], created));
    print("PostgreSQL, two replicas", &report);
    assert_eq!(report.duplicates, 0);
    assert_eq!(report.lost, 0);
}
