//! Sending several queued writes in one round trip through the server's `POST
//! /api/v1/sync/push` (seed 003), when the server has it: which writes go together, the
//! request, and each write's outcome from the answer. Pure; the browser pass sends it and
//! falls back to one request per write when the endpoint is absent.

use std::collections::{HashMap, HashSet};

use serde_json::{json, Value};

use super::{
    engine::{self, Outcome, PrepareError},
    record::{Op, OutboxRecord, SyncStatus},
    registry::{route, HttpMethod},
};
use crate::offline::query::options::Millis;

/// Fewer ready writes than this go one by one (no gain from a push).
pub const MIN_BATCH: usize = 2;
/// Most writes in one push (the server takes up to 500).
pub const MAX_BATCH: usize = 100;

/// The writes to push now, in outbox order: due pending writes whose parents have synced
/// or come earlier in the batch. The batch stops at an update the server could not check
/// for a conflict (no base version and no earlier write of the same record in the batch,
/// or a route without a record to read): the one-by-one path sends that one.
pub fn batch(records: &[OutboxRecord], now: Millis, max: usize) -> Vec<&OutboxRecord> {
    let synced: HashSet<&str> = records
        .iter()
        .filter(|r| r.sync_status == SyncStatus::Success)
        .map(|r| r.id.as_str())
        .collect();
    let mut ordered: Vec<&OutboxRecord> = records.iter().collect();
    ordered.sort_by(|a, b| {
        a.client_timestamp
            .cmp(&b.client_timestamp)
            .then_with(|| a.id.cmp(&b.id))
    });
    let mut chosen: Vec<&OutboxRecord> = Vec::new();
    let mut in_batch: HashSet<&str> = HashSet::new();
    let mut written: HashSet<&str> = HashSet::new();
    for r in ordered {
        if chosen.len() >= max {
            break;
        }
        let due =
            r.sync_status == SyncStatus::Pending && r.next_attempt_at.is_none_or(|t| t <= now);
        if !due {
            continue;
        }
        let parents_ok = r
            .parent_mutation_ids
            .iter()
            .all(|p| synced.contains(p.as_str()) || in_batch.contains(p.as_str()));
        if !parents_ok {
            continue;
        }
        if r.op == Op::Update {
            let checkable = route(&r.sync_route_key).is_some_and(|rt| rt.current.is_some());
            let target = r.path_params.values().any(|v| written.contains(v.as_str()));
            let base = engine::base_timestamp(r, records).is_some();
            if !checkable || !(base || target) {
                break;
            }
        }
        in_batch.insert(r.id.as_str());
        if let Some(t) = &r.temp_id {
            written.insert(t.as_str());
        }
        written.extend(r.path_params.values().map(String::as_str));
        chosen.push(r);
    }
    chosen
}

/// The push body for `batch`: paths and payloads with the server ids known so far (temp
/// ids of creates earlier in the batch are replaced by the server as it goes).
pub fn request(
    batch: &[&OutboxRecord],
    records: &[OutboxRecord],
    ids: &HashMap<String, String>,
    device_id: &str,
) -> Result<Value, PrepareError> {
    let items = batch
        .iter()
        .map(|r| {
            let p = engine::prepare(r, ids)?;
            let mut item = json!({
                "id": r.id,
                "deviceId": device_id,
                "operation": match r.op { Op::Create => "CREATE", Op::Update => "UPDATE", Op::Delete => "DELETE" },
                "resourceType": r.resource_type,
                "method": match p.method { HttpMethod::Post => "POST", HttpMethod::Put => "PUT" },
                "path": format!("/api/v1{}", p.path),
                "payload": p.body,
                "clientTimestamp": r.client_timestamp,
            });
            if let Some(current) = p.current_path {
                item["recordPath"] = json!(format!("/api/v1{current}"));
            }
            if let Some(base) = engine::base_timestamp(r, records) {
                item["baseVersion"] = json!(base);
            }
            if let Some(t) = &r.temp_id {
                item["tempId"] = json!(t);
            }
            if !r.parent_mutation_ids.is_empty() {
                item["parents"] = json!(r.parent_mutation_ids);
            }
            Ok(item)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(json!({ "deviceId": device_id, "items": items }))
}

/// Each write's outcome, by id. A write skipped because CARE could not be reached is
/// retried later like a network error; a blocked write has none: it stays pending until
/// its parent settles (and the engine blocks it if the parent failed for good).
pub fn outcomes(answer: &Value) -> HashMap<String, Outcome> {
    let mut out = HashMap::new();
    for r in answer
        .get("results")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(id) = r.get("id").and_then(Value::as_str) else {
            continue;
        };
        let status = r.get("httpStatus").and_then(Value::as_u64).unwrap_or(0) as u16;
        let outcome = match r.get("status").and_then(Value::as_str) {
            Some("synced") => Outcome::Success(r.get("response").cloned().unwrap_or(Value::Null)),
            Some("conflict") => {
                Outcome::Conflict(r.get("serverRecord").cloned().unwrap_or(Value::Null))
            }
            Some("failed") => {
                let body = r.get("error").cloned().unwrap_or(Value::Null);
                let retryable = r.get("retryable").and_then(Value::as_bool).unwrap_or(false);
                if retryable || status == 429 || status >= 500 {
                    Outcome::Retry(format!("server answered {status}: {body}"))
                } else if status == 403
                    && body.get("code").and_then(Value::as_str) == Some("token_not_valid")
                {
                    Outcome::NeedsAuth
                } else {
                    Outcome::Rejected { status, body }
                }
            }
            Some("skipped") => match r.get("reason").and_then(Value::as_str) {
                Some("auth_expired") => Outcome::NeedsAuth,
                reason => Outcome::Retry(format!(
                    "not sent: {}",
                    reason.unwrap_or("the server skipped it")
                )),
            },
            _ => continue,
        };
        out.insert(id.to_string(), outcome);
    }
    out
}

/// A write taken for a push that got no outcome: pending again, not counted as an attempt.
pub fn release(record: &mut OutboxRecord) {
    if record.sync_status == SyncStatus::InFlight {
        record.sync_status = SyncStatus::Pending;
    }
    record.lease_until = None;
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn rec(id: &str, key: &str, at: Millis) -> OutboxRecord {
        OutboxRecord::new(
            id.into(),
            "u".into(),
            "d".into(),
            route(key).expect("route"),
            BTreeMap::new(),
            json!({"name": id}),
            at,
        )
    }

    fn ids(b: &[&OutboxRecord]) -> Vec<String> {
        b.iter().map(|r| r.id.clone()).collect()
    }

    #[test]
    fn a_new_patient_and_its_edit_go_together_in_order() {
        let mut create = rec("c", "patient.create", 1);
        create.temp_id = Some("tmp".into());
        let mut edit = rec("e", "patient.update", 2);
        edit.path_params.insert("patient_id".into(), "tmp".into());
        edit.parent_mutation_ids = vec!["c".into()];
        let other = rec("o", "patient.create", 3);
        let all = vec![other.clone(), edit.clone(), create.clone()];
        assert_eq!(ids(&batch(&all, 10, MAX_BATCH)), ["c", "e", "o"]);
        let body =
            request(&batch(&all, 10, MAX_BATCH), &all, &HashMap::new(), "dev").expect("body");
        let items = body["items"].as_array().expect("items");
        assert_eq!(items[0]["tempId"], "tmp");
        assert_eq!(items[0]["path"], "/api/v1/patient/");
        assert_eq!(items[1]["operation"], "UPDATE");
        assert_eq!(items[1]["path"], "/api/v1/patient/tmp/");
        assert_eq!(items[1]["parents"], json!(["c"]));
        assert!(items[1].get("baseVersion").is_none());
    }

    #[test]
    fn waiting_failed_and_unchecked_writes_stay_out() {
        let mut backing_off = rec("b", "patient.create", 1);
        backing_off.next_attempt_at = Some(100);
        let mut failed = rec("f", "patient.create", 2);
        failed.sync_status = SyncStatus::Failed;
        let mut child = rec("c", "patient.update", 3);
        child.parent_mutation_ids = vec!["f".into()];
        child.server_timestamp = Some("t".into());
        let ok = rec("k", "patient.create", 4);
        // An update of a server record with no base version: the batch stops before it.
        let mut unchecked = rec("u", "patient.update", 5);
        unchecked
            .path_params
            .insert("patient_id".into(), "p9".into());
        let late = rec("l", "patient.create", 6);
        let all = vec![backing_off, failed, child, ok, unchecked, late];
        assert_eq!(ids(&batch(&all, 10, MAX_BATCH)), ["k"]);
        assert_eq!(batch(&all, 10, 0).len(), 0);
    }

    #[test]
    fn known_server_ids_replace_temp_ids_and_bases_are_sent() {
        let mut edit = rec("e", "patient.update", 1);
        edit.path_params.insert("patient_id".into(), "tmp".into());
        edit.server_timestamp = Some("2026-01-01T00:00:00Z".into());
        let all = vec![edit];
        let mut map = HashMap::new();
        map.insert("tmp".to_string(), "real".to_string());
        let body = request(&batch(&all, 0, MAX_BATCH), &all, &map, "dev").expect("body");
        assert_eq!(body["items"][0]["path"], "/api/v1/patient/real/");
        assert_eq!(body["items"][0]["recordPath"], "/api/v1/patient/real/");
        assert_eq!(body["items"][0]["baseVersion"], "2026-01-01T00:00:00Z");
    }

    #[test]
    fn each_result_becomes_the_engine_outcome() {
        let answer = json!({"results": [
            {"id": "a", "status": "synced", "httpStatus": 200, "response": {"id": "p1"}},
            {"id": "b", "status": "conflict", "httpStatus": 409, "serverRecord": {"modified_date": "x"}},
            {"id": "c", "status": "failed", "httpStatus": 400, "error": {"errors": []}, "retryable": false},
            {"id": "d", "status": "failed", "httpStatus": 502, "error": {}, "retryable": true},
            {"id": "e", "status": "blocked", "blockedBy": "c"},
            {"id": "f", "status": "skipped", "reason": "backend_unreachable"},
            {"id": "g", "status": "skipped", "reason": "auth_expired"},
            {"id": "h", "status": "failed", "httpStatus": 403, "error": {"code": "token_not_valid"}}
        ]});
        let o = outcomes(&answer);
        assert!(matches!(&o["a"], Outcome::Success(v) if v["id"] == "p1"));
        assert!(matches!(&o["b"], Outcome::Conflict(v) if v["modified_date"] == "x"));
        assert!(matches!(&o["c"], Outcome::Rejected { status: 400, .. }));
        assert!(matches!(&o["d"], Outcome::Retry(_)));
        assert!(!o.contains_key("e"));
        assert!(matches!(&o["f"], Outcome::Retry(_)));
        assert!(matches!(&o["g"], Outcome::NeedsAuth));
        assert!(matches!(&o["h"], Outcome::NeedsAuth));
        assert!(outcomes(&json!({"detail": "no"})).is_empty());
    }
}
