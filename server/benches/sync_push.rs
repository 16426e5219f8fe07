//! Draining 1,000 queued writes: one request each (`POST /patient/` + `Idempotency-Key`, the
//! client's fallback) versus `POST /api/v1/sync/push` in batches, then replaying the pushes.
//!
//! Not a test: `cargo bench -p server --bench sync_push` (bench profile = release). Results
//! and the ratio are in `benches/README.md`. `BENCH_SCALE=0.2` shrinks the write count.
//! `BENCH_RTT_MS=50` adds that much delay to each request on the client side, to model a
//! slow link (the server's work is unchanged).

use std::time::{Duration, Instant};

use serde_json::{json, Value};

mod common;
use common::{scaled, start_server};

fn rtt() -> Duration {
    Duration::from_millis(
        std::env::var("BENCH_RTT_MS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0),
    )
}

fn patient_body(n: usize, geo: &str) -> Value {
    json!({
        "name": format!("Sync Bench {n}"),
        "gender": if n.is_multiple_of(2) { "female" } else { "male" },
        "phone_number": format!("+9197{:08}", n % 100_000_000),
        "date_of_birth": "1990-05-14",
        "address": "12 MG Road, Kochi",
        "geo_organization": geo,
    })
}

struct Bench {
    base: String,
    http: reqwest::Client,
}

impl Bench {
    async fn login(&self) -> String {
        let body: Value = self
            .http
            .post(format!("{}/api/v1/auth/login/", self.base))
            .json(&json!({"username": "care-doctor", "password": "Ohcn@123"}))
            .send()
            .await
            .expect("login")
            .json()
            .await
            .expect("login json");
        body["access"].as_str().expect("access").to_string()
    }

    /// One request per write; returns the wall time.
    async fn one_each(&self, token: &str, writes: &[(String, Value)]) -> Duration {
        let start = Instant::now();
        for (key, body) in writes {
            tokio::time::sleep(rtt()).await;
            let resp = self
                .http
                .post(format!("{}/api/v1/patient/", self.base))
                .bearer_auth(token)
                .header("Idempotency-Key", key)
                .json(body)
                .send()
                .await
                .expect("send");
            let status = resp.status();
            let _ = resp.bytes().await.expect("body");
            assert_eq!(status, 200);
        }
        start.elapsed()
    }

    /// `sync/push` in batches of `batch`; returns the wall time and how many were replayed.
    async fn pushed(
        &self,
        token: &str,
        writes: &[(String, Value)],
        batch: usize,
    ) -> (Duration, usize) {
        let start = Instant::now();
        let mut replayed = 0;
        for chunk in writes.chunks(batch) {
            let items: Vec<Value> = chunk
                .iter()
                .map(|(key, body)| {
                    json!({"id": key, "operation": "CREATE", "resourceType": "patient",
                           "path": "/api/v1/patient/", "payload": body})
                })
                .collect();
            tokio::time::sleep(rtt()).await;
            let resp = self
                .http
                .post(format!("{}/api/v1/sync/push", self.base))
                .bearer_auth(token)
                .json(&json!({"deviceId": "bench", "items": items}))
                .send()
                .await
                .expect("push");
            assert_eq!(resp.status(), 200);
            let out: Value = resp.json().await.expect("push json");
            assert_eq!(out["summary"]["synced"], chunk.len(), "{}", out["summary"]);
            replayed += out["results"]
                .as_array()
                .map_or(0, |r| r.iter().filter(|x| x["replayed"] == true).count());
        }
        (start.elapsed(), replayed)
    }
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("sync_push: skipped (run `cargo bench -p server --bench sync_push`)");
        return;
    }
    let data = tempfile::tempdir().expect("temp dir");
    let base = start_server(&data.path().to_string_lossy());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("client runtime");
    rt.block_on(async move {
        let b = Bench {
            base,
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(4)
                .build()
                .expect("client"),
        };
        let token = b.login().await;
        let orgs: Value = b
            .http
            .get(format!("{}/api/v1/organization/?org_type=govt&parent=", b.base))
            .bearer_auth(&token)
            .send()
            .await
            .expect("orgs")
            .json()
            .await
            .expect("orgs json");
        let geo = orgs["results"][0]["id"].as_str().expect("geo").to_string();
        let n = scaled(1000);
        let mut next = 0;
        let mut writes = |count: usize| -> Vec<(String, Value)> {
            (0..count)
                .map(|_| {
                    next += 1;
                    (uuid::Uuid::new_v4().to_string(), patient_body(next, &geo))
                })
                .collect()
        };
        // Warm-up (connections, route tables, page cache), not measured.
        let warm = writes(50);
        b.one_each(&token, &warm[..25]).await;
        b.pushed(&token, &warm[25..], 25).await;

        let rtt_ms = rtt().as_millis();
        println!("\n{n} writes, client-side delay per request {rtt_ms} ms\n");
        println!("| drain | requests | total s | ms per write | vs one each |");
        println!("|---|---|---|---|---|");
        let single = writes(n);
        let token = b.login().await;
        let t_single = b.one_each(&token, &single).await;
        let per = |d: Duration| d.as_secs_f64() * 1000.0 / n as f64;
        println!(
            "| one request each (POST /patient/ + Idempotency-Key) | {n} | {:.2} | {:.3} | 1.00× |",
            t_single.as_secs_f64(),
            per(t_single)
        );
        for batch in [100, 500] {
            let w = writes(n);
            let token = b.login().await;
            let (t, replayed) = b.pushed(&token, &w, batch).await;
            assert_eq!(replayed, 0);
            println!(
                "| sync/push, batches of {batch} | {} | {:.2} | {:.3} | {:.2}× faster |",
                n.div_ceil(batch),
                t.as_secs_f64(),
                per(t),
                t_single.as_secs_f64() / t.as_secs_f64()
            );
            if batch == 100 {
                let (t, replayed) = b.pushed(&token, &w, batch).await;
                assert_eq!(replayed, n, "a repeated push is answered from the stores");
                println!(
                    "| replay: the same pushes again (batches of {batch}) | {} | {:.2} | {:.3} | {:.2}× faster |",
                    n.div_ceil(batch),
                    t.as_secs_f64(),
                    per(t),
                    t_single.as_secs_f64() / t.as_secs_f64()
                );
            }
        }
    });
}
