//! `POST /api/v1/sync/push` (seed 003): a batch of queued writes applied in order, each once.
//!
//! Request: a JSON array of items, or `{"deviceId"?: str, "items": [...]}` (a top-level
//! `deviceId` is the default of items without one). At most [`MAX_ITEMS`] items and
//! [`MAX_BODY`] bytes (else 413). An item:
//!
//! ```json
//! { "id": "<uuid: the Idempotency-Key>", "deviceId": "tab-7",
//!   "operation": "CREATE|UPDATE|DELETE", "resourceType": "patient",
//!   "method": "PUT",                         // optional: CREATE→POST, UPDATE→PUT, DELETE→DELETE
//!   "path": "/api/v1/patient/<id>/",         // route with its params (optional for patient,
//!                                            //   encounter, resource given resourceId)
//!   "resourceId": "<id>",                    // optional
//!   "recordPath": "/api/v1/…/",              // optional: where to read the record (default path)
//!   "payload": { … },                        // required for CREATE and UPDATE
//!   "clientTimestamp": "2026-…Z" | 1764480000000,
//!   "baseVersion": "<modified_date edited from>",  // UPDATE: required unless an earlier item
//!                                            //   of this push wrote the same record
//!   "tempId": "tmp-…",                       // optional: the id a CREATE had offline
//!   "parents": ["<item id>", …] }            // optional: items that must succeed first
//! ```
//!
//! Any invalid item rejects the whole push with 400 (`fields` names `items[i].field`);
//! nothing is applied. Otherwise the answer is 200 with one result per item, in order:
//!
//! ```json
//! { "results": [
//!     {"id", "status": "synced",   "httpStatus": 200, "response": {…}, "replayed": false, "resourceId"},
//!     {"id", "status": "conflict", "httpStatus": 409, "serverRecord": {…}, "serverVersion", "baseVersion"},
//!     {"id", "status": "failed",   "httpStatus": 400, "error": {CARE's body}, "retryable": false},
//!     {"id", "status": "blocked",  "blockedBy": "<item id>"},
//!     {"id", "status": "skipped",  "reason": "backend_unreachable" | "auth_expired"} ],
//!   "idMap": {"<tempId>": "<server id>"},
//!   "summary": {"synced": 1, "conflict": 1, "failed": 1, "blocked": 1, "skipped": 1} }
//! ```
//!
//! Semantics:
//! - Each item goes through the backend with `Idempotency-Key: <id>`, so a repeated push
//!   answers from the idempotency store (`replayed: true`) and never applies twice.
//! - An UPDATE (or a DELETE with a `baseVersion`) first reads its record; if the server's
//!   `modified_date` differs from the base, the item is a `conflict` and is not sent. An item
//!   already settled by an earlier push (same id and request) skips that check and replays.
//! - When an item does not sync (conflict, failed, blocked, skipped), later items that depend
//!   on it are `blocked`: those listing it in `parents`, or whose path or payload mention its
//!   `id` or `tempId`. Independent items continue.
//! - A created record's `tempId` is replaced by the server's id in the paths and payloads of
//!   later items (strings equal to it, and path segments).
//! - When CARE cannot be reached or the session has expired, the remaining items are
//!   `skipped` (nothing sent; push them again later).

use std::collections::{HashMap, HashSet};

use axum::{
    body::Body,
    extract::State,
    http::HeaderMap,
    response::{IntoResponse, Response},
    Json,
};
use serde_json::{json, Value};

use super::{
    apply::{self, Fields, Operation, Outcome, Write},
    audit::Entry,
    error::SyncError,
    SyncApi,
};

/// Most items in one push.
pub const MAX_ITEMS: usize = 500;
/// Largest push body.
pub const MAX_BODY: usize = 32 * 1024 * 1024;

/// A parsed push item.
#[derive(Debug, Clone)]
struct Item {
    write: Write,
    device_id: String,
    temp_id: Option<String>,
    parents: Vec<String>,
}

pub async fn push(
    State(sync): State<SyncApi>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, SyncError> {
    let bytes = axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| {
        SyncError::TooLarge(format!("A push body may be at most {MAX_BODY} bytes."))
    })?;
    let caller = sync.caller(&headers).await?;
    let items = parse(&apply::parse_json(&bytes)?)?;
    let results = run(&sync, &caller, items).await?;
    Ok(Json(results).into_response())
}

fn parse(body: &Value) -> Result<Vec<Item>, SyncError> {
    let (list, default_device) = match body {
        Value::Array(list) => (list, None),
        Value::Object(obj) => {
            let device = match obj.get("deviceId") {
                None | Some(Value::Null) => None,
                Some(Value::String(d)) if apply::valid_id(d) => Some(d.clone()),
                Some(_) => {
                    return Err(SyncError::bad(
                        "invalid_device",
                        "deviceId must be 1 to 255 visible ASCII characters.",
                    ))
                }
            };
            match obj.get("items") {
                Some(Value::Array(list)) => (list, device),
                _ => {
                    return Err(SyncError::bad(
                        "missing_items",
                        "Expected {\"items\": [...]} or a JSON array of items.",
                    ))
                }
            }
        }
        _ => {
            return Err(SyncError::bad(
                "missing_items",
                "Expected {\"items\": [...]} or a JSON array of items.",
            ))
        }
    };
    if list.is_empty() {
        return Err(SyncError::bad(
            "empty_push",
            "A push needs at least one item.",
        ));
    }
    if list.len() > MAX_ITEMS {
        return Err(SyncError::TooLarge(format!(
            "A push may hold at most {MAX_ITEMS} items, not {}; send them in batches.",
            list.len()
        )));
    }
    let mut errors = Vec::new();
    let mut items = Vec::with_capacity(list.len());
    let mut seen = HashSet::new();
    for (i, raw) in list.iter().enumerate() {
        let prefix = format!("items[{i}].");
        let Value::Object(obj) = raw else {
            errors.push((format!("items[{i}]"), "must be an object".to_string()));
            continue;
        };
        let mut f = Fields::new(obj, &prefix);
        let id = f.id("id", true);
        if let Some(id) = &id {
            if !seen.insert(id.clone()) {
                f.err("id", "appears twice in this push");
            }
        }
        let device_id = f.id("deviceId", false).or(default_device.clone());
        if device_id.is_none() && !obj.contains_key("deviceId") {
            f.err("deviceId", "is required (on the item or the push)");
        }
        let temp_id = f.id("tempId", false);
        let parents = match f.get("parents") {
            None => Vec::new(),
            Some(Value::Array(ps))
                if ps.iter().all(|p| p.as_str().is_some_and(apply::valid_id)) =>
            {
                ps.iter()
                    .filter_map(|p| p.as_str().map(str::to_string))
                    .collect()
            }
            Some(_) => {
                f.err("parents", "must be a list of item ids");
                Vec::new()
            }
        };
        match f.get("clientTimestamp") {
            None | Some(Value::Number(_)) => {}
            Some(Value::String(s)) if chrono::DateTime::parse_from_rfc3339(s).is_ok() => {}
            Some(_) => f.err(
                "clientTimestamp",
                "must be an ISO-8601 timestamp or milliseconds since the epoch",
            ),
        }
        let write = apply::parse_write(&mut f, id.clone().unwrap_or_default(), "payload");
        errors.extend(std::mem::take(&mut f.errors));
        if let (Some(write), Some(device_id), Some(_)) = (write, device_id, id) {
            items.push(Item {
                write,
                device_id,
                temp_id,
                parents,
            });
        }
    }
    if !errors.is_empty() {
        return Err(SyncError::BadRequest {
            code: "invalid_items",
            detail: "Some items are invalid; nothing was applied.".into(),
            fields: errors,
        });
    }
    Ok(items)
}

/// Whether `value` (a payload) holds a string equal to one of `ids`.
fn mentions<'a>(value: &Value, ids: &'a HashMap<String, String>) -> Option<&'a String> {
    match value {
        Value::String(s) => ids.get(s),
        Value::Array(items) => items.iter().find_map(|v| mentions(v, ids)),
        Value::Object(map) => map.values().find_map(|v| mentions(v, ids)),
        _ => None,
    }
}

fn path_segments(path: &str) -> impl Iterator<Item = &str> {
    path.split(['/', '?', '&', '=', ','])
        .filter(|s| !s.is_empty())
}

/// Replaces temporary ids by server ids in a path and a payload.
fn substitute(write: &mut Write, ids: &HashMap<String, String>) {
    if ids.is_empty() {
        return;
    }
    let swap = |path: &str| -> String {
        let mut out = String::with_capacity(path.len());
        let mut token = String::new();
        for c in path.chars() {
            if matches!(c, '/' | '?' | '&' | '=' | ',') {
                out.push_str(ids.get(&token).map(String::as_str).unwrap_or(&token));
                token.clear();
                out.push(c);
            } else {
                token.push(c);
            }
        }
        out.push_str(ids.get(&token).map(String::as_str).unwrap_or(&token));
        out
    };
    write.path = swap(&write.path);
    write.record_path = swap(&write.record_path);
    fn walk(v: &mut Value, ids: &HashMap<String, String>) {
        match v {
            Value::String(s) => {
                if let Some(real) = ids.get(s.as_str()) {
                    *s = real.clone();
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| walk(v, ids)),
            Value::Object(map) => map.values_mut().for_each(|v| walk(v, ids)),
            _ => {}
        }
    }
    if let Some(p) = write.payload.as_mut() {
        walk(p, ids);
    }
}

/// Writes the push ledger, logging (not failing the push) when it cannot: CARE has already
/// applied the write, and a repeat of the push is still answered once through its
/// `Idempotency-Key`.
async fn remember(sync: &SyncApi, user: &str, item: &str, fingerprint: &str, outcome: &str) {
    if let Err(e) = sync
        .audit
        .ledger_put(user, item, fingerprint, outcome)
        .await
    {
        tracing::error!("push ledger: {e}");
    }
}

/// Records that an item did not sync, so items depending on it are blocked.
fn mark_unsynced(unsynced: &mut HashMap<String, String>, item: &Item) {
    unsynced.insert(item.write.id.clone(), item.write.id.clone());
    if let Some(t) = &item.temp_id {
        unsynced.insert(t.clone(), item.write.id.clone());
    }
}

#[derive(Default)]
struct Summary {
    synced: usize,
    conflict: usize,
    failed: usize,
    blocked: usize,
    skipped: usize,
}

async fn run(
    sync: &SyncApi,
    caller: &super::authz::Caller,
    items: Vec<Item>,
) -> Result<Value, SyncError> {
    // Items that did not sync, by their id and temp id → the item id.
    let mut unsynced: HashMap<String, String> = HashMap::new();
    let mut id_map: HashMap<String, String> = HashMap::new();
    // modified_date of records written earlier in this push, by record id.
    let mut versions: HashMap<String, String> = HashMap::new();
    let mut halted: Option<&'static str> = None;
    let mut results = Vec::with_capacity(items.len());
    let mut sum = Summary::default();
    for mut item in items {
        substitute(&mut item.write, &id_map);
        let w = &item.write;
        let mut entry = Entry {
            user_id: caller.id.clone(),
            username: caller.username.clone(),
            device_id: Some(item.device_id.clone()),
            kind: "push",
            item_id: Some(w.id.clone()),
            operation: Some(w.operation.as_str().to_string()),
            resource_type: Some(w.resource_type.clone()),
            method: Some(w.method.to_string()),
            route: Some(w.path.clone()),
            resource_id: apply::resource_id_of(w, None),
            ..Entry::default()
        };
        if let Some(reason) = halted {
            sum.skipped += 1;
            entry.outcome = "skipped";
            entry.detail = Some(reason.to_string());
            sync.audit.log(&entry).await;
            results.push(json!({"id": w.id, "status": "skipped", "reason": reason}));
            mark_unsynced(&mut unsynced, &item);
            continue;
        }
        let blocked_by = item
            .parents
            .iter()
            .find_map(|p| unsynced.get(p))
            .or_else(|| path_segments(&w.path).find_map(|s| unsynced.get(s)))
            .or_else(|| w.payload.as_ref().and_then(|p| mentions(p, &unsynced)))
            .cloned();
        if let Some(by) = blocked_by {
            sum.blocked += 1;
            entry.outcome = "blocked";
            entry.detail = Some(format!("blocked_by:{by}"));
            sync.audit.log(&entry).await;
            results.push(json!({"id": w.id, "status": "blocked", "blockedBy": by}));
            mark_unsynced(&mut unsynced, &item);
            continue;
        }
        let fp = apply::fingerprint(w);
        let settled = sync.audit.ledger_get(&caller.id, &w.id).await?;
        if settled.as_deref().is_some_and(|s| s != fp) {
            sum.failed += 1;
            entry.outcome = "failed";
            entry.http_status = Some(422);
            entry.detail = Some("idempotency_key_reused".into());
            sync.audit.log(&entry).await;
            results.push(
                json!({"id": w.id, "status": "failed", "httpStatus": 422, "retryable": false,
                "error": {"detail": "This id was already used for a different write.",
                          "code": "idempotency_key_reused"}}),
            );
            mark_unsynced(&mut unsynced, &item);
            continue;
        }
        let base = w
            .base_version
            .clone()
            .or_else(|| apply::resource_id_of(w, None).and_then(|rid| versions.get(&rid).cloned()));
        let needs_base = w.operation == Operation::Update && settled.is_none();
        if needs_base && base.is_none() {
            sum.failed += 1;
            entry.outcome = "failed";
            entry.http_status = Some(400);
            entry.detail = Some("missing_base_version".into());
            sync.audit.log(&entry).await;
            results.push(json!({"id": w.id, "status": "failed", "httpStatus": 400, "retryable": false,
                "error": {"detail": "An UPDATE needs the baseVersion (modified_date) it was edited from.",
                          "code": "missing_base_version"}}));
            mark_unsynced(&mut unsynced, &item);
            continue;
        }
        let outcome = apply::apply(
            &sync.backend,
            &caller.auth,
            w,
            base.as_deref(),
            settled.is_none(),
        )
        .await;
        match outcome {
            Outcome::Synced(reply) => {
                sum.synced += 1;
                let rid = apply::resource_id_of(w, Some(&reply));
                if let (Some(t), Some(real)) = (&item.temp_id, reply.body["id"].as_str()) {
                    id_map.insert(t.clone(), real.to_string());
                }
                if let (Some(rid), Some(v)) = (&rid, reply.body["modified_date"].as_str()) {
                    versions.insert(rid.clone(), v.to_string());
                }
                remember(sync, &caller.id, &w.id, &fp, "synced").await;
                entry.outcome = "synced";
                entry.http_status = Some(reply.status.as_u16());
                entry.resource_id = rid.clone();
                entry.detail = reply.replayed.then(|| "replayed".to_string());
                sync.audit.log(&entry).await;
                results.push(
                    json!({"id": w.id, "status": "synced", "httpStatus": reply.status.as_u16(),
                    "response": reply.body, "replayed": reply.replayed, "resourceId": rid}),
                );
            }
            Outcome::Conflict {
                server,
                server_version,
            } => {
                sum.conflict += 1;
                entry.outcome = "conflict";
                entry.http_status = Some(409);
                entry.detail = Some("stale_base".into());
                sync.audit.log(&entry).await;
                results.push(json!({"id": w.id, "status": "conflict", "httpStatus": 409,
                    "serverRecord": server, "serverVersion": server_version, "baseVersion": base}));
                mark_unsynced(&mut unsynced, &item);
            }
            Outcome::Failed(reply) => {
                sum.failed += 1;
                let retryable = reply.retryable();
                if reply.unreachable {
                    halted = Some("backend_unreachable");
                } else if reply.auth_expired() {
                    halted = Some("auth_expired");
                }
                if !retryable {
                    remember(sync, &caller.id, &w.id, &fp, "failed").await;
                }
                let status = apply::status_of(&reply);
                entry.outcome = "failed";
                entry.http_status = Some(status);
                entry.detail = reply.body["code"]
                    .as_str()
                    .map(|c| c.chars().take(64).collect());
                sync.audit.log(&entry).await;
                results.push(json!({"id": w.id, "status": "failed", "httpStatus": status,
                    "error": reply.body, "retryable": retryable}));
                mark_unsynced(&mut unsynced, &item);
            }
        }
    }
    Ok(json!({
        "results": results,
        "idMap": id_map,
        "summary": {"synced": sum.synced, "conflict": sum.conflict, "failed": sum.failed,
                    "blocked": sum.blocked, "skipped": sum.skipped},
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &str, payload: Value) -> Write {
        Write {
            id: "i".into(),
            operation: Operation::Create,
            resource_type: "encounter".into(),
            method: axum::http::Method::POST,
            path: path.into(),
            record_path: path.into(),
            payload: Some(payload),
            base_version: None,
        }
    }

    #[test]
    fn temp_ids_are_replaced_in_paths_and_payloads() {
        let ids = HashMap::from([("tmp-p".to_string(), "real-p".to_string())]);
        let mut w = write(
            "/patient/tmp-p/get_users/?x=tmp-p",
            json!({"patient": "tmp-p", "list": ["tmp-p", "tmp-px"], "n": 1}),
        );
        substitute(&mut w, &ids);
        assert_eq!(w.path, "/patient/real-p/get_users/?x=real-p");
        assert_eq!(
            w.payload,
            Some(json!({"patient": "real-p", "list": ["real-p", "tmp-px"], "n": 1}))
        );
    }

    #[test]
    fn mentions_finds_exact_strings_only() {
        let ids = HashMap::from([("a1".to_string(), "item-a".to_string())]);
        assert_eq!(
            mentions(&json!({"x": [{"y": "a1"}]}), &ids),
            Some(&"item-a".to_string())
        );
        assert_eq!(mentions(&json!({"x": "a12"}), &ids), None);
        assert!(path_segments("/patient/a1/").any(|s| s == "a1"));
    }

    #[test]
    fn pushes_are_validated_as_a_whole() {
        let err = parse(&json!({"items": []})).expect_err("empty");
        assert!(matches!(
            err,
            SyncError::BadRequest {
                code: "empty_push",
                ..
            }
        ));
        let many: Vec<Value> = (0..=MAX_ITEMS)
            .map(|i| json!({"id": i.to_string()}))
            .collect();
        assert!(matches!(
            parse(&Value::Array(many)),
            Err(SyncError::TooLarge(_))
        ));
        let err = parse(&json!([{"id": "a", "deviceId": "d", "operation": "CREATE",
            "resourceType": "patient", "payload": {}}, {"id": "a", "operation": "NOPE"}]))
        .expect_err("bad");
        let SyncError::BadRequest { fields, .. } = err else {
            panic!("expected 400")
        };
        let names: Vec<&str> = fields.iter().map(|(f, _)| f.as_str()).collect();
        assert!(names.contains(&"items[1].id"), "{names:?}");
        assert!(names.contains(&"items[1].operation"));
        assert!(names.contains(&"items[1].deviceId"));
    }
}
