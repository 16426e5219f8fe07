//! Throughput of the built-in backend: patient list, search and create at concurrency 1 and
//! 8, and draining 1,000 queued writes one request each (the client's sync path), then
//! replaying them (answered from the idempotency store).
//!
//! Not a test: `cargo bench -p server --bench throughput` (bench profile = release).
//! See `benches/README.md` for measured figures. `BENCH_SCALE=0.2` shrinks every request
//! count (for a quick smoke run).

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use serde_json::{json, Value};

mod common;
use common::{scaled, start_server};

const USER: &str = "care-doctor";
const PASSWORD: &str = "Ohcn@123";

/// One measured scenario.
struct Row {
    name: String,
    concurrency: usize,
    requests: usize,
    elapsed: Duration,
    /// Sorted latencies.
    latencies: Vec<Duration>,
}

impl Row {
    fn new(
        name: &str,
        concurrency: usize,
        elapsed: Duration,
        mut latencies: Vec<Duration>,
    ) -> Self {
        latencies.sort();
        Self {
            name: name.to_string(),
            concurrency,
            requests: latencies.len(),
            elapsed,
            latencies,
        }
    }

    fn pct(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return 0.0;
        }
        let i = ((p / 100.0) * self.latencies.len() as f64).ceil() as usize;
        ms(self.latencies[i.clamp(1, self.latencies.len()) - 1])
    }

    fn rps(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[derive(Clone)]
struct Bench {
    base: String,
    http: reqwest::Client,
}

impl Bench {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A fresh access token (they live 10 minutes; every scenario takes a new one).
    async fn login(&self) -> String {
        let resp = self
            .http
            .post(self.url("/api/v1/auth/login/"))
            .json(&json!({"username": USER, "password": PASSWORD}))
            .send()
            .await
            .expect("login");
        assert_eq!(resp.status(), 200, "login");
        let body: Value = resp.json().await.expect("login json");
        body["access"].as_str().expect("access").to_string()
    }

    async fn get_json(&self, path: &str, token: &str) -> Value {
        let resp = self
            .http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("get");
        assert_eq!(resp.status(), 200, "GET {path}");
        resp.json().await.expect("json")
    }

    /// Runs `total` requests made by `make(i)` on `concurrency` workers; every answer must
    /// be a 200. Returns the wall time and each request's latency (body read included).
    async fn run<F>(&self, concurrency: usize, total: usize, make: F) -> (Duration, Vec<Duration>)
    where
        F: Fn(&reqwest::Client, usize) -> reqwest::RequestBuilder + Send + Sync + 'static,
    {
        let next = Arc::new(AtomicUsize::new(0));
        let make = Arc::new(make);
        let start = Instant::now();
        let workers: Vec<_> = (0..concurrency)
            .map(|_| {
                let next = next.clone();
                let make = make.clone();
                let http = self.http.clone();
                tokio::spawn(async move {
                    let mut lat = Vec::with_capacity(total / concurrency + 1);
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= total {
                            break;
                        }
                        let t = Instant::now();
                        let resp = make(&http, i).send().await.expect("send");
                        let status = resp.status();
                        let body = resp.bytes().await.expect("body");
                        lat.push(t.elapsed());
                        assert_eq!(
                            status,
                            200,
                            "request {i}: {}",
                            String::from_utf8_lossy(&body)
                        );
                    }
                    lat
                })
            })
            .collect();
        let mut all = Vec::with_capacity(total);
        for w in workers {
            all.extend(w.await.expect("worker"));
        }
        (start.elapsed(), all)
    }
}

/// A create body like the captured sample; `n` makes the phone number and name unique.
fn patient_body(n: usize, geo: &str) -> Value {
    json!({
        "name": format!("Bench Patient {n}"),
        "gender": if n.is_multiple_of(2) { "female" } else { "male" },
        "phone_number": format!("+9198{:08}", n % 100_000_000),
        "date_of_birth": "1990-05-14",
        "address": "12 MG Road, Kochi",
        "permanent_address": "12 MG Road, Kochi",
        "geo_organization": geo,
        "identifiers": [],
        "tags": []
    })
}

fn print_table(rows: &[Row]) {
    println!();
    println!(
        "| {:<44} | {:>4} | {:>6} | {:>9} | {:>8} | {:>8} | {:>8} |",
        "scenario", "conc", "reqs", "req/s", "p50 ms", "p95 ms", "p99 ms"
    );
    println!(
        "|{:-<46}|{:->6}|{:->8}|{:->11}|{:->10}|{:->10}|{:->10}|",
        "", "", "", "", "", "", ""
    );
    for r in rows {
        println!(
            "| {:<44} | {:>4} | {:>6} | {:>9.1} | {:>8.2} | {:>8.2} | {:>8.2} |",
            r.name,
            r.concurrency,
            r.requests,
            r.rps(),
            r.pct(50.0),
            r.pct(95.0),
            r.pct(99.0)
        );
    }
}

fn main() {
    // `cargo bench` passes `--bench`. Without it (`cargo test --all-targets` runs bench
    // targets as tests) do nothing: this takes minutes and measures, it does not test.
    if !std::env::args().any(|a| a == "--bench") {
        println!("throughput: skipped (run `cargo bench -p server --bench throughput`)");
        return;
    }
    let data = tempfile::tempdir().expect("temp dir");
    let base = start_server(&data.path().to_string_lossy());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("client runtime");
    rt.block_on(bench(base));
}

async fn bench(base: String) {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(16)
        .build()
        .expect("client");
    let b = Bench { base, http };
    let mut rows = Vec::new();

    let token = b.login().await;
    let list = b.get_json("/api/v1/patient/?limit=14", &token).await;
    let seeded = list["count"].as_i64().unwrap_or(0);
    let phone = list["results"][0]["phone_number"]
        .as_str()
        .expect("a demo patient's phone")
        .to_string();
    let orgs = b
        .get_json("/api/v1/organization/?org_type=govt&parent=", &token)
        .await;
    let geo = orgs["results"][0]["id"]
        .as_str()
        .expect("a govt organization")
        .to_string();
    let matches = b
        .http
        .post(b.url("/api/v1/patient/search/"))
        .bearer_auth(&token)
        .json(&json!({"phone_number": phone}))
        .send()
        .await
        .expect("search")
        .json::<Value>()
        .await
        .expect("search json")["results"]
        .as_array()
        .map_or(0, Vec::len);
    eprintln!(
        "server {}; {seeded} demo patients; search phone {phone} ({matches} match); geo {geo}",
        b.base
    );

    // Warm-up: connections, route table, SQLite page cache.
    let (t, url) = (token.clone(), b.url("/api/v1/patient/?limit=14"));
    b.run(4, 200, move |h, _| h.get(&url).bearer_auth(&t)).await;

    for (label, path_or_search) in [
        ("GET /patient/?limit=14", None),
        ("POST /patient/search/ (phone)", Some(phone.clone())),
    ] {
        for conc in [1, 8] {
            let token = b.login().await;
            let url_list = b.url("/api/v1/patient/?limit=14");
            let url_search = b.url("/api/v1/patient/search/");
            let phone = path_or_search.clone();
            let total = scaled(if conc == 1 { 2000 } else { 4000 });
            let (elapsed, lat) = b
                .run(conc, total, move |h, _| match &phone {
                    None => h.get(&url_list).bearer_auth(&token),
                    Some(p) => h
                        .post(&url_search)
                        .bearer_auth(&token)
                        .json(&json!({"phone_number": p})),
                })
                .await;
            rows.push(Row::new(label, conc, elapsed, lat));
        }
    }

    let created = Arc::new(AtomicUsize::new(0));
    for conc in [1, 8] {
        let token = b.login().await;
        let url = b.url("/api/v1/patient/");
        let geo = geo.clone();
        let created = created.clone();
        let total = scaled(500);
        let (elapsed, lat) = b
            .run(conc, total, move |h, _| {
                let n = created.fetch_add(1, Ordering::Relaxed);
                h.post(&url)
                    .bearer_auth(&token)
                    .json(&patient_body(n, &geo))
            })
            .await;
        rows.push(Row::new("POST /patient/ (create)", conc, elapsed, lat));
    }

    // The sync path: each queued write is its own request with its own Idempotency-Key,
    // sent one after another.
    let drain = scaled(1000);
    let bodies: Vec<Value> = (0..drain)
        .map(|_| patient_body(created.fetch_add(1, Ordering::Relaxed), &geo))
        .collect();
    let keys: Vec<String> = (0..drain)
        .map(|_| uuid::Uuid::new_v4().to_string())
        .collect();
    for (label, expect_replayed) in [
        ("drain: POST /patient/ + Idempotency-Key", false),
        ("replay: same keys (idempotency store)", true),
    ] {
        let token = b.login().await;
        let mut lat = Vec::with_capacity(drain);
        let mut replayed = 0;
        let start = Instant::now();
        for (body, key) in bodies.iter().zip(&keys) {
            let t = Instant::now();
            let resp = b
                .http
                .post(b.url("/api/v1/patient/"))
                .bearer_auth(&token)
                .header("Idempotency-Key", key)
                .json(body)
                .send()
                .await
                .expect("send");
            let status = resp.status();
            if resp.headers().contains_key("idempotent-replayed") {
                replayed += 1;
            }
            let text = resp.bytes().await.expect("body");
            lat.push(t.elapsed());
            assert_eq!(status, 200, "{}", String::from_utf8_lossy(&text));
        }
        let elapsed = start.elapsed();
        assert_eq!(
            replayed,
            if expect_replayed { drain } else { 0 },
            "{label}: replayed answers"
        );
        eprintln!(
            "{label}: {drain} writes in {:.2} s = {:.2} ms per write",
            elapsed.as_secs_f64(),
            ms(elapsed) / drain as f64
        );
        rows.push(Row::new(label, 1, elapsed, lat));
    }

    // The list again, now that the table has grown by every patient created above.
    let token = b.login().await;
    let count = b.get_json("/api/v1/patient/?limit=14", &token).await["count"]
        .as_i64()
        .unwrap_or(0);
    for conc in [1, 8] {
        let token = b.login().await;
        let url = b.url("/api/v1/patient/?limit=14");
        let (elapsed, lat) = b
            .run(conc, scaled(1000), move |h, _| {
                h.get(&url).bearer_auth(&token)
            })
            .await;
        rows.push(Row::new(
            &format!("GET /patient/?limit=14 ({count} patients)"),
            conc,
            elapsed,
            lat,
        ));
    }

    print_table(&rows);
}
