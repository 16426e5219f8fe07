//! The sync core against a simulated server and network, over many seeds: requests and
//! responses dropped, duplicated and delayed, 5xx, 429, expired sessions, and a crash
//! between any two steps. Properties: no write lost, no server effect twice, parents
//! before children, needs-sign-in never dropped.

use std::collections::{BTreeMap, HashMap};

use proptest::prelude::*;
use rand::{rngs::StdRng, Rng, SeedableRng};
use serde_json::{json, Value};

use super::{
    engine::{self, Outcome},
    record::{OutboxRecord, SyncStatus},
    registry,
};
use crate::api::ApiError;

/// A CARE-like server that honours `Idempotency-Key`.
#[derive(Default)]
struct Server {
    patients: HashMap<String, Value>,
    encounters: HashMap<String, Value>,
    idempotency: HashMap<String, Value>,
    /// Every applied write, in order: (kind, id).
    effects: Vec<(String, String)>,
    next_id: u64,
}

impl Server {
    fn apply(&mut self, p: &engine::Prepared) -> Result<Value, ApiError> {
        if let Some(stored) = self.idempotency.get(&p.idempotency_key) {
            return Ok(stored.clone());
        }
        self.next_id += 1;
        let id = format!("srv-{}", self.next_id);
        let response = if p.path == "/patient/" {
            let v = json!({"id": id, "name": p.body["name"], "modified_date": "t0"});
            self.patients.insert(id.clone(), v.clone());
            self.effects.push(("patient".into(), id.clone()));
            v
        } else if p.path == "/encounter/" {
            let patient = p.body["patient"].as_str().unwrap_or_default().to_string();
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
            .insert(p.idempotency_key.clone(), response.clone());
        Ok(response)
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
        // Sign-in comes back eventually; parked writes resume.
        if !signed_in && (healed || rng.gen_bool(0.05)) {
            signed_in = true;
            for r in records.iter_mut() {
                engine::resume_after_sign_in(r, "u1");
            }
        }
        for id in engine::newly_blocked(&records) {
            if let Some(r) = records.iter_mut().find(|r| r.id == id) {
                r.sync_status = SyncStatus::Blocked;
            }
        }
        let ids = engine::id_map(&records);
        let Some(next_id) = engine::next_ready(&records, now).map(|r| r.id.clone()) else {
            // Nothing ready: time passes (backoff), or a person retries failures once healed.
            let open = records.iter().any(|r| r.sync_status.is_open());
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
        let result: Result<Value, ApiError> =
            if !signed_in || rng.gen_bool(f(faults.session_expired)) {
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
    assert_eq!(server.idempotency.len(), records.len());
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
    let none = Faults {
        drop_request: 0.0,
        drop_response: 0.0,
        duplicate: 0.0,
        server_error: 0.0,
        rate_limited: 0.0,
        session_expired: 0.0,
        crash: 0.0,
    };
    let (records, server, order) = run(1, 3, 2, none);
    check(&records, &server, &order);
    assert_eq!(order.len(), 9);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

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
    ) {
        let faults = Faults { drop_request, drop_response, duplicate, server_error, rate_limited, session_expired, crash };
        let (records, server, order) = run(seed, patients, per_patient, faults);
        check(&records, &server, &order);
    }
}
