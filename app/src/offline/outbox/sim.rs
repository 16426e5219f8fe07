//! The sync core against a simulated server and network, over many seeds: requests and
//! responses dropped, duplicated and delayed, 5xx, 429, expired sessions, and a crash
//! between any two steps. Writes go one request each or, as the browser pass does when
//! several are ready, in one `sync/push` (items skipped, failed or blocked inside it).
//! The proxy in front of CARE is modelled too: CARE answering after the proxy gave up (the
//! answer is stored for a retry), the proxy restarting while it waits (the key's outcome
//! becomes unknown: the device holds the write and a person checks CARE), and a device
//! offline for longer than the server remembers keys.
//! Properties: no write lost, no server effect twice, parents before children,
//! needs-sign-in never dropped, a write of unknown outcome never resent on its own.
//!
//! The test command runs 64 cases; the long job runs more with `SIM_CASES`:
//! `SIM_CASES=10000 cargo test --release -p app --lib sim::`

use std::collections::{BTreeMap, HashMap, HashSet};

use proptest::prelude::*;
use rand::{rngs::StdRng, Rng, SeedableRng};
use serde_json::{json, Value};

use super::{
    engine::{self, Outcome},
    push,
    record::{OutboxRecord, SyncStatus},
    registry,
};
use crate::{api::ApiError, offline::query::options::DAY};

/// How long the server remembers a key (days), and so how long a device resends alone.
const RETENTION_DAYS: i64 = 90;

/// The proxy's record of a key whose answer it did not give the device.
enum Proxied {
    /// Still waiting for CARE in the background; its answer (None: the wait fails) is
    /// known at `ready_at`.
    Waiting {
        ready_at: i64,
        answer: Option<Value>,
    },
    /// The wait can no longer finish (the proxy restarted, or CARE reset the connection).
    Unknown,
}

/// A CARE-like server that honours `Idempotency-Key`, behind our proxy.
#[derive(Default)]
struct Server {
    patients: HashMap<String, Value>,
    encounters: HashMap<String, Value>,
    /// key → (answer, when it was stored); forgotten after the retention.
    idempotency: HashMap<String, (Value, i64)>,
    /// Every applied write, in order: (kind, id).
    effects: Vec<(String, String)>,
    /// What CARE holds for each write (by write id): what a person finds when checking.
    found: HashMap<String, Value>,
    /// How many times each write was applied.
    applied: HashMap<String, usize>,
    proxy: HashMap<String, Proxied>,
    next_id: u64,
    /// Writes applied through `sync/push`.
    pushed: usize,
    now: i64,
}

/// The write a key belongs to (`id` or `id.rN`).
fn write_of(key: &str) -> &str {
    key.split_once(".r").map_or(key, |(id, _)| id)
}

fn proxy_error(code: &str) -> ApiError {
    ApiError::Http {
        status: 409,
        body: json!({"code": code, "source": "care-offline-proxy"}),
    }
}

impl Server {
    fn apply(&mut self, p: &engine::Prepared) -> Result<Value, ApiError> {
        self.write(&p.idempotency_key, &p.path, &p.body)
    }

    /// One request through the proxy: a key it is still waiting on, or whose outcome it
    /// lost, is never forwarded again.
    fn through_proxy(&mut self, p: &engine::Prepared) -> Option<Result<Value, ApiError>> {
        match self.proxy.get(&p.idempotency_key)? {
            Proxied::Waiting { ready_at, .. } if *ready_at > self.now => {
                Some(Err(proxy_error("idempotency_in_flight")))
            }
            Proxied::Waiting { answer, .. } => {
                let answer = answer.clone();
                match answer {
                    // CARE's late answer was stored: the retry gets it.
                    Some(v) => {
                        self.proxy.remove(&p.idempotency_key);
                        Some(Ok(v))
                    }
                    None => {
                        self.proxy
                            .insert(p.idempotency_key.clone(), Proxied::Unknown);
                        Some(Err(proxy_error("idempotency_outcome_unknown")))
                    }
                }
            }
            Proxied::Unknown => Some(Err(proxy_error("idempotency_outcome_unknown"))),
        }
    }

    /// The proxy restarts: every background wait is lost.
    fn restart_proxy(&mut self) {
        for state in self.proxy.values_mut() {
            if matches!(state, Proxied::Waiting { ready_at, .. } if *ready_at > self.now) {
                *state = Proxied::Unknown;
            }
        }
    }

    /// Keys older than the retention are forgotten (proxy records too).
    fn prune(&mut self) {
        let limit = RETENTION_DAYS * DAY;
        let now = self.now;
        self.idempotency.retain(|_, (_, at)| now - *at <= limit);
    }

    fn write(&mut self, key: &str, path: &str, body: &Value) -> Result<Value, ApiError> {
        if let Some((stored, _)) = self.idempotency.get(key) {
            return Ok(stored.clone());
        }
        self.next_id += 1;
        let id = format!("srv-{}", self.next_id);
        let response = if path == "/patient/" {
            let v = json!({"id": id, "name": body["name"], "modified_date": "t0"});
            self.patients.insert(id.clone(), v.clone());
            self.effects.push(("patient".into(), id.clone()));
            v
        } else if path == "/encounter/" {
            let patient = body["patient"].as_str().unwrap_or_default().to_string();
            if !self.patients.contains_key(&patient) {
                return Err(ApiError::Http {
                    status: 400,
                    body: json!({"errors": [{"msg": "unknown patient"}]}),
                });
            }
            let v = json!({"id": id, "patient": patient});
            self.encounters.insert(id.clone(), v.clone());
            self.effects.push(("encounter".into(), id.clone()));
            v
        } else {
            return Err(ApiError::Http {
                status: 404,
                body: json!({"detail": "Not found."}),
            });
        };
        self.idempotency
            .insert(key.to_string(), (response.clone(), self.now));
        self.found
            .insert(write_of(key).to_string(), response.clone());
        *self.applied.entry(write_of(key).to_string()).or_default() += 1;
        Ok(response)
    }

    /// `sync/push` as the axum server answers it: items in order; a created record's
    /// `tempId` replaced in later items; an item that does not sync blocks the items that
    /// name it; CARE out of reach (`skipped`) or a 503 for an item (`failed`, retryable).
    fn push(&mut self, body: &Value, rng: &mut StdRng, faults: &Faults, healed: bool) -> Value {
        let chance = |p: f64| if healed { 0.0 } else { p };
        let mut temp: HashMap<String, String> = HashMap::new();
        let mut unsynced: HashSet<String> = HashSet::new();
        let mut results = Vec::new();
        for item in body["items"].as_array().into_iter().flatten() {
            let id = item["id"].as_str().unwrap_or_default().to_string();
            let temp_id = item["tempId"].as_str().map(str::to_string);
            let not_synced = |unsynced: &mut HashSet<String>| {
                unsynced.insert(id.clone());
                if let Some(t) = &temp_id {
                    unsynced.insert(t.clone());
                }
            };
            let text = format!("{} {}", item["path"], item["payload"]);
            let blocked_by = item["parents"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .find(|p| unsynced.contains(*p))
                .map(str::to_string)
                .or_else(|| unsynced.iter().find(|u| text.contains(u.as_str())).cloned());
            if let Some(by) = blocked_by {
                not_synced(&mut unsynced);
                results.push(json!({"id": id, "status": "blocked", "blockedBy": by}));
                continue;
            }
            if rng.gen_bool(chance(faults.server_error)) {
                not_synced(&mut unsynced);
                results
                    .push(json!({"id": id, "status": "skipped", "reason": "backend_unreachable"}));
                continue;
            }
            if rng.gen_bool(chance(faults.rate_limited)) {
                not_synced(&mut unsynced);
                results.push(json!({"id": id, "status": "failed", "httpStatus": 503,
                                    "retryable": true, "error": {"detail": "busy"}}));
                continue;
            }
            let replace = |s: &str| {
                temp.iter().fold(s.to_string(), |acc, (t, real)| {
                    acc.replace(t.as_str(), real)
                })
            };
            let path = replace(item["path"].as_str().unwrap_or_default());
            let path = path.strip_prefix("/api/v1").unwrap_or(&path).to_string();
            let payload: Value =
                serde_json::from_str(&replace(&item["payload"].to_string())).unwrap_or(Value::Null);
            match self.write(&id, &path, &payload) {
                Ok(v) => {
                    self.pushed += 1;
                    if let (Some(t), Some(real)) = (&temp_id, v["id"].as_str()) {
                        temp.insert(t.clone(), real.to_string());
                    }
                    results.push(
                        json!({"id": id, "status": "synced", "httpStatus": 200, "response": v}),
                    );
                }
                Err(ApiError::Http { status, body }) => {
                    not_synced(&mut unsynced);
                    results.push(json!({"id": id, "status": "failed", "httpStatus": status,
                                        "retryable": false, "error": body}));
                }
                Err(_) => {
                    not_synced(&mut unsynced);
                    results.push(
                        json!({"id": id, "status": "skipped", "reason": "backend_unreachable"}),
                    );
                }
            }
        }
        json!({ "results": results, "idMap": temp })
    }
}

#[derive(Debug, Clone, Copy)]
struct Faults {
    drop_request: f64,
    drop_response: f64,
    duplicate: f64,
    server_error: f64,
    rate_limited: f64,
    session_expired: f64,
    crash: f64,
    /// How often the pass uses `sync/push` when several writes are ready.
    push: f64,
    /// CARE answers only after the proxy gave up (504); it committed, or (one in four)
    /// its connection resets later and the outcome is lost.
    late_answer: f64,
    /// The proxy restarts while waiting for CARE (per step).
    proxy_restart: f64,
    /// The device is offline for longer than the server remembers keys (per step).
    long_outage: f64,
}

impl Faults {
    const NONE: Faults = Faults {
        drop_request: 0.0,
        drop_response: 0.0,
        duplicate: 0.0,
        server_error: 0.0,
        rate_limited: 0.0,
        session_expired: 0.0,
        crash: 0.0,
        push: 0.0,
        late_answer: 0.0,
        proxy_restart: 0.0,
        long_outage: 0.0,
    };
}

/// Queues `patients` creates, each with `per_patient` encounter creates as children.
fn queue(patients: usize, per_patient: usize) -> Vec<OutboxRecord> {
    let mut out = Vec::new();
    let mut t = 0;
    for p in 0..patients {
        t += 1;
        let pid = format!("w-p{p}");
        let temp = format!("tmp-p{p}");
        let mut rec = OutboxRecord::new(
            pid.clone(),
            "u1".into(),
            "dev".into(),
            registry::route("patient.create").expect("route"),
            BTreeMap::new(),
            json!({"name": format!("Patient {p}")}),
            t,
        );
        rec.temp_id = Some(temp.clone());
        out.push(rec);
        for e in 0..per_patient {
            t += 1;
            let mut enc = OutboxRecord::new(
                format!("w-p{p}-e{e}"),
                "u1".into(),
                "dev".into(),
                registry::route("encounter.create").expect("route"),
                BTreeMap::new(),
                json!({"patient": temp, "facility": "f1"}),
                t,
            );
            enc.parent_mutation_ids = vec![pid.clone()];
            out.push(enc);
        }
    }
    out
}

/// Runs the sync loop until everything settles; returns the final records and the server.
fn run(
    seed: u64,
    patients: usize,
    per_patient: usize,
    faults: Faults,
) -> (Vec<OutboxRecord>, Server, Vec<String>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut records = queue(patients, per_patient);
    let total = records.len();
    let mut server = Server::default();
    let mut now = 1_000;
    let mut signed_in = true;
    let mut order_sent = Vec::new();
    for step in 0..20_000 {
        // After a while the network heals, so the run must converge.
        let healed = step > 2_000;
        let f = |p: f64| if healed { 0.0 } else { p };
        server.now = now;
        if rng.gen_bool(f(faults.proxy_restart)) {
            server.restart_proxy();
        }
        if rng.gen_bool(f(faults.long_outage)) {
            now += (RETENTION_DAYS + 1) * DAY;
            server.now = now;
            server.prune();
        }
        // Sign-in comes back eventually; parked writes resume.
        if !signed_in && (healed || rng.gen_bool(0.05)) {
            signed_in = true;
            for r in records.iter_mut() {
                engine::resume_after_sign_in(r, "u1");
            }
        }
        for id in engine::newly_blocked(&records, now) {
            if let Some(r) = records.iter_mut().find(|r| r.id == id) {
                r.sync_status = SyncStatus::Blocked;
                r.lease_until = None;
            }
        }
        // The pass never resends alone a write the server may have forgotten.
        for id in engine::past_retention(&records, now, RETENTION_DAYS) {
            if let Some(r) = records.iter_mut().find(|r| r.id == id) {
                engine::hold_past_retention(r, RETENTION_DAYS);
            }
        }
        let chosen: Vec<String> = push::batch(&records, now, push::MAX_BATCH)
            .iter()
            .map(|r| r.id.clone())
            .collect();
        if chosen.len() >= push::MIN_BATCH && rng.gen_bool(faults.push) {
            push_step(
                &mut records,
                &chosen,
                &mut server,
                &mut rng,
                &faults,
                healed,
                &mut signed_in,
                now,
                &mut order_sent,
            );
            assert_eq!(records.len(), total, "no write is ever removed");
            now += rng.gen_range(10..500);
            continue;
        }
        let ids = engine::id_map(&records);
        let Some(next_id) = engine::next_ready(&records, now).map(|r| r.id.clone()) else {
            // Nothing ready: time passes (backoff), or a person retries failures once healed.
            let open = records.iter().any(|r| r.sync_status.is_open());
            // "May have reached CARE": the person checks CARE, then "It is there" or
            // "Send again" (a new key).
            let mut decided = false;
            for r in records
                .iter_mut()
                .filter(|r| r.sync_status == SyncStatus::Unknown)
            {
                match server.found.get(&r.id) {
                    Some(record) => engine::confirm_applied(r, now, Some(record.clone())),
                    None => engine::send_again(r),
                }
                decided = true;
            }
            if decided {
                continue;
            }
            if !open {
                if records
                    .iter()
                    .any(|r| matches!(r.sync_status, SyncStatus::Failed | SyncStatus::Blocked))
                {
                    // Once the network is back, the person presses "retry" on the sync page.
                    if healed {
                        for r in records.iter_mut() {
                            engine::retry(r);
                        }
                    }
                    continue;
                }
                break;
            }
            now += 5_000;
            continue;
        };
        let idx = records
            .iter()
            .position(|r| r.id == next_id)
            .expect("present");
        engine::begin_attempt(&mut records[idx], now);
        if rng.gen_bool(f(faults.crash)) {
            // The tab dies mid-flight: nothing is recorded; the lease expires later.
            now += 1_000;
            continue;
        }
        let prepared = engine::prepare(&records[idx], &ids).expect("prepared");
        let proxied = server.through_proxy(&prepared);
        let result: Result<Value, ApiError> = if let Some(answer) = proxied {
            answer
        } else if !signed_in || rng.gen_bool(f(faults.session_expired)) {
            signed_in = false;
            Err(ApiError::AuthExpired)
        } else if rng.gen_bool(f(faults.drop_request)) {
            Err(ApiError::Network("request lost".into()))
        } else if rng.gen_bool(f(faults.server_error)) {
            Err(ApiError::Http {
                status: 503,
                body: Value::Null,
            })
        } else if rng.gen_bool(f(faults.rate_limited)) {
            Err(ApiError::Http {
                status: 429,
                body: Value::Null,
            })
        } else if rng.gen_bool(f(faults.late_answer)) {
            // The proxy gives up (504) and waits on in the background.
            let answer = if rng.gen_bool(0.75) {
                server.apply(&prepared).ok()
            } else {
                None
            };
            let ready_at = now + rng.gen_range(1_000..120_000);
            server.proxy.insert(
                prepared.idempotency_key.clone(),
                Proxied::Waiting { ready_at, answer },
            );
            Err(ApiError::Unreachable { status: 504 })
        } else {
            let first = server.apply(&prepared);
            if rng.gen_bool(f(faults.duplicate)) {
                let _ = server.apply(&prepared); // the network delivered it twice
            }
            if rng.gen_bool(f(faults.drop_response)) {
                Err(ApiError::Network("response lost".into()))
            } else {
                first
            }
        };
        if result.is_ok() {
            order_sent.push(next_id.clone());
        }
        let outcome = engine::classify(result);
        let was_needs_auth = matches!(outcome, Outcome::NeedsAuth);
        engine::apply_outcome(&mut records[idx], outcome, now, rng.gen());
        if was_needs_auth {
            assert_eq!(
                records[idx].sync_status,
                SyncStatus::NeedsAuth,
                "needs-auth is parked, not dropped"
            );
        }
        assert_eq!(records.len(), total, "no write is ever removed");
        now += rng.gen_range(10..500);
    }
    (records, server, order_sent)
}

/// One `sync/push` of `chosen`, as the browser pass does it: leased, sent, and each write
/// settled from the answer (`push::settle`); a push that gets no answer releases them all.
#[allow(clippy::too_many_arguments)]
fn push_step(
    records: &mut [OutboxRecord],
    chosen: &[String],
    server: &mut Server,
    rng: &mut StdRng,
    faults: &Faults,
    healed: bool,
    signed_in: &mut bool,
    now: i64,
    order_sent: &mut Vec<String>,
) {
    let f = |p: f64| if healed { 0.0 } else { p };
    for r in records.iter_mut().filter(|r| chosen.contains(&r.id)) {
        engine::begin_attempt(r, now);
    }
    if rng.gen_bool(f(faults.crash)) {
        // The tab dies with the writes leased: the leases expire, one-by-one sends them.
        return;
    }
    let ids = engine::id_map(records);
    let body = push::request_for(chosen, records, &ids, "dev").expect("push body");
    let release_all = |records: &mut [OutboxRecord]| {
        for r in records.iter_mut().filter(|r| chosen.contains(&r.id)) {
            push::release(r);
        }
    };
    if !*signed_in || rng.gen_bool(f(faults.session_expired)) {
        *signed_in = false;
        return release_all(records);
    }
    if rng.gen_bool(f(faults.drop_request)) {
        return release_all(records);
    }
    let answer = server.push(&body, rng, faults, healed);
    if rng.gen_bool(f(faults.duplicate)) {
        let _ = server.push(&body, rng, faults, healed);
    }
    if rng.gen_bool(f(faults.drop_response)) {
        return release_all(records);
    }
    let outcomes = push::outcomes(&answer);
    for id in chosen {
        let Some(r) = records.iter_mut().find(|r| &r.id == id) else {
            continue;
        };
        let result = outcomes.get(&r.idempotency_key()).cloned();
        push::settle(r, result, now, rng.gen());
        if r.sync_status == SyncStatus::Success {
            order_sent.push(id.clone());
        }
    }
}

fn check(records: &[OutboxRecord], server: &Server, order: &[String]) {
    // Everything synced (the network healed and failures were retried).
    for r in records {
        assert_eq!(
            r.sync_status,
            SyncStatus::Success,
            "{} ended {:?}",
            r.id,
            r.sync_status
        );
    }
    // Exactly one server effect per queued write.
    assert_eq!(server.effects.len(), records.len());
    for r in records {
        assert_eq!(server.applied.get(&r.id), Some(&1), "{} applied once", r.id);
    }
    // Every encounter points at a real patient: parents were created first, ids rewritten.
    for e in server.encounters.values() {
        assert!(server
            .patients
            .contains_key(e["patient"].as_str().expect("patient")));
    }
    // And parents were acknowledged before their children.
    let pos: HashMap<&str, usize> = order
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    for r in records {
        for p in &r.parent_mutation_ids {
            if let (Some(pp), Some(cp)) = (pos.get(p.as_str()), pos.get(r.id.as_str())) {
                assert!(pp < cp, "{p} before {}", r.id);
            }
        }
    }
}

#[test]
fn clean_network_sends_everything_once_in_order() {
    let none = Faults::NONE;
    let (records, server, order) = run(1, 3, 2, none);
    check(&records, &server, &order);
    assert_eq!(order.len(), 9);
    // The same through sync/push: parents and children in one batch, temp ids replaced.
    let (records, server, order) = run(1, 3, 2, Faults { push: 1.0, ..none });
    check(&records, &server, &order);
    assert_eq!(order.len(), 9);
    assert_eq!(
        server.pushed, 9,
        "all nine in one push, children after their parents"
    );
}

/// 64 in the test command; the long job sets `SIM_CASES`.
fn cases() -> u32 {
    std::env::var("SIM_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

#[test]
fn a_late_answer_is_replayed_and_a_lost_one_is_left_to_a_person() {
    let none = Faults::NONE;
    // Every first answer comes late, with proxy restarts and long outages in between:
    // still one effect per write.
    for seed in 0..50 {
        let faults = Faults {
            late_answer: 0.5,
            proxy_restart: 0.05,
            long_outage: 0.01,
            ..none
        };
        let (records, server, order) = run(seed, 3, 2, faults);
        check(&records, &server, &order);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn faulty_network_loses_nothing_and_duplicates_nothing(
        seed in any::<u64>(),
        patients in 1usize..5,
        per_patient in 0usize..3,
        drop_request in 0.0f64..0.4,
        drop_response in 0.0f64..0.4,
        duplicate in 0.0f64..0.3,
        server_error in 0.0f64..0.3,
        rate_limited in 0.0f64..0.2,
        session_expired in 0.0f64..0.1,
        crash in 0.0f64..0.2,
        push in 0.0f64..1.0,
        late_answer in 0.0f64..0.3,
        proxy_restart in 0.0f64..0.05,
        long_outage in 0.0f64..0.01,
    ) {
        let faults = Faults {
            drop_request, drop_response, duplicate, server_error, rate_limited, session_expired,
            crash, push, late_answer, proxy_restart, long_outage,
        };
        let (records, server, order) = run(seed, patients, per_patient, faults);
        check(&records, &server, &order);
    }
}
