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
use crate::{api::ApiError, offline::query::options::Millis};

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
    // Records created or updated by writes already in the batch (temp ids, record ids).
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
        let target = route(&r.sync_route_key)
            .and_then(|rt| rt.record_param())
            .and_then(|p| r.path_params.get(p));
        if r.op == Op::Update {
            let checkable = route(&r.sync_route_key).is_some_and(|rt| rt.current.is_some());
            let written_here = target.is_some_and(|t| written.contains(t.as_str()));
            let base = engine::base_timestamp(r, records).is_some();
            if !checkable || !(base || written_here) {
                break;
            }
        }
        in_batch.insert(r.id.as_str());
        if let Some(t) = &r.temp_id {
            written.insert(t.as_str());
        }
        if r.op == Op::Update {
            if let Some(t) = target {
                written.insert(t.as_str());
            }
        }
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
    // Items are named by their idempotency keys; parents in the batch by theirs too.
    let keys: HashMap<&str, String> = batch
        .iter()
        .map(|r| (r.id.as_str(), r.idempotency_key()))
        .collect();
    let items = batch
        .iter()
        .map(|r| {
            let p = engine::prepare(r, ids)?;
            let mut item = json!({
                "id": p.idempotency_key,
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
            let parents: Vec<&str> = r
                .parent_mutation_ids
                .iter()
                .filter_map(|p| keys.get(p.as_str()).map(String::as_str))
                .collect();
            if !parents.is_empty() {
                item["parents"] = json!(parents);
            }
            Ok(item)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(json!({ "deviceId": device_id, "items": items }))
}

/// `request` for the writes named by `chosen` (ids, in batch order).
pub fn request_for(
    chosen: &[String],
    records: &[OutboxRecord],
    ids: &HashMap<String, String>,
    device_id: &str,
) -> Result<Value, PrepareError> {
    let batch: Vec<&OutboxRecord> = chosen
        .iter()
        .filter_map(|id| records.iter().find(|r| &r.id == id))
        .collect();
    request(&batch, records, ids, device_id)
}

/// What became of one pushed write.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemResult {
    /// Settled or classified as the one-by-one path would.
    Done(Outcome),
    /// Not sent (CARE out of reach): try again after a backoff, not counted as an attempt.
    Skipped,
    /// Not sent because a write it depends on did not sync: it waits for that one.
    Blocked,
}

/// Each write's result, by idempotency key (the push item's id).
pub fn outcomes(answer: &Value) -> HashMap<String, ItemResult> {
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
        let result = match r.get("status").and_then(Value::as_str) {
            Some("synced") => ItemResult::Done(Outcome::Success(
                r.get("response").cloned().unwrap_or(Value::Null),
            )),
            Some("conflict") => ItemResult::Done(Outcome::Conflict(
                r.get("serverRecord").cloned().unwrap_or(Value::Null),
            )),
            Some("failed") => {
                let body = r.get("error").cloned().unwrap_or(Value::Null);
                let retryable = r.get("retryable").and_then(Value::as_bool).unwrap_or(false);
                ItemResult::Done(
                    if body.get("code").and_then(Value::as_str) == Some("token_not_valid") {
                        Outcome::NeedsAuth
                    } else if retryable {
                        Outcome::Retry(format!("server answered {status}: {body}"))
                    } else {
                        // As if CARE had answered this write alone.
                        engine::classify(Err(ApiError::Http { status, body }))
                    },
                )
            }
            Some("skipped") => match r.get("reason").and_then(Value::as_str) {
                Some("auth_expired") => ItemResult::Done(Outcome::NeedsAuth),
                _ => ItemResult::Skipped,
            },
            Some("blocked") => ItemResult::Blocked,
            _ => continue,
        };
        out.insert(id.to_string(), result);
    }
    out
}

/// Records one pushed write's result (None: the answer did not name it) as the one-by-one
/// path would; true when the pass should stop (sign-in needed, or CARE not reachable).
pub fn settle(
    record: &mut OutboxRecord,
    result: Option<ItemResult>,
    now: Millis,
    jitter: f64,
) -> bool {
    match result {
        Some(ItemResult::Done(outcome)) => {
            let outcome = match outcome {
                Outcome::Conflict(server) => engine::settle_conflict(record, server),
                other => other,
            };
            let stop = matches!(outcome, Outcome::NeedsAuth | Outcome::Retry(_));
            engine::apply_outcome(record, outcome, now, jitter);
            stop
        }
        Some(ItemResult::Skipped) => {
            defer(record, now, jitter);
            true
        }
        Some(ItemResult::Blocked) | None => {
            release(record);
            false
        }
    }
}

/// A write taken for a push that got no outcome: pending again, not counted as an attempt.
pub fn release(record: &mut OutboxRecord) {
    if record.sync_status == SyncStatus::InFlight {
        record.sync_status = SyncStatus::Pending;
    }
    record.lease_until = None;
}

/// A write the server skipped (CARE out of reach): pending again after a backoff, without
/// using up one of its attempts (nothing was sent).
pub fn defer(record: &mut OutboxRecord, now: Millis, jitter: f64) {
    release(record);
    record.next_attempt_at = Some(now + engine::backoff(record.retries.max(1), jitter));
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
    fn an_update_without_a_base_joins_only_after_a_write_of_the_same_record() {
        // Assigning a user names the patient in its path but does not write the patient.
        let mut assign = rec("a", "patient.add_user", 1);
        assign.path_params.insert("patient_id".into(), "p1".into());
        let mut edit = rec("e", "patient.update", 2);
        edit.path_params.insert("patient_id".into(), "p1".into());
        let all = vec![assign, edit];
        assert_eq!(ids(&batch(&all, 10, MAX_BATCH)), ["a"]);
    }

    #[test]
    fn a_corrected_write_goes_under_its_new_key_and_children_follow_it() {
        let mut create = rec("c", "patient.create", 1);
        create.temp_id = Some("tmp".into());
        create.amend(json!({"name": "fixed"})).expect("amend");
        let mut edit = rec("e", "patient.update", 2);
        edit.path_params.insert("patient_id".into(), "tmp".into());
        edit.parent_mutation_ids = vec!["c".into()];
        let all = vec![create, edit];
        let body =
            request(&batch(&all, 10, MAX_BATCH), &all, &HashMap::new(), "dev").expect("body");
        assert_eq!(body["items"][0]["id"], "c.r1");
        assert_eq!(body["items"][1]["parents"], json!(["c.r1"]));
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
            {"id": "h", "status": "failed", "httpStatus": 403, "error": {"code": "token_not_valid"}, "retryable": true}
        ]});
        let o = outcomes(&answer);
        let done = |k: &str| match &o[k] {
            ItemResult::Done(outcome) => outcome.clone(),
            other => panic!("{k}: {other:?}"),
        };
        assert!(matches!(done("a"), Outcome::Success(v) if v["id"] == "p1"));
        assert!(matches!(done("b"), Outcome::Conflict(v) if v["modified_date"] == "x"));
        assert!(matches!(done("c"), Outcome::Rejected { status: 400, .. }));
        assert!(matches!(done("d"), Outcome::Retry(_)));
        assert_eq!(o["e"], ItemResult::Blocked);
        assert_eq!(o["f"], ItemResult::Skipped);
        assert!(matches!(done("g"), Outcome::NeedsAuth));
        assert!(matches!(done("h"), Outcome::NeedsAuth));
        assert!(outcomes(&json!({"detail": "no"})).is_empty());
    }
}
