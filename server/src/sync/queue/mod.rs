//! Seed 004's server-side sync queue, with the semantics of its document:
//!
//! - `POST /sync/queue` stores an operation (`{userId?, deviceId, operation, resourceType,
//!   resourceId?, data, createdAtClient?, version?, baseVersion?, id?, method?, path?}`) as
//!   PENDING → 201 `{"id", "status": "PENDING", "message"}`. A client-chosen `id` (a UUID)
//!   makes queueing idempotent: the same id and operation again → 200 with the same item.
//!   `path`/`method` name the CARE route; without them patient, encounter and resource are
//!   routed by `resourceType` (+ `resourceId`). An UPDATE needs `baseVersion`, the
//!   `modified_date` it was edited from (the document's `version` is kept as given).
//! - `GET /sync/pending?deviceId&userId` lists the caller's unsynced items (PENDING, FAILED,
//!   CONFLICT, MANUAL), oldest first.
//! - `POST /sync/process/{id}` applies one item (the same path as `sync/push`): 200 SYNCED with
//!   `result` (the payload is then dropped), 409 CONFLICT with `resolutionOptions` and the
//!   `serverRecord`, 424 FAILED with CARE's `error` (`retryable` says whether trying again can
//!   help; `retryCount` grows).
//! - `PATCH /sync/resolve/{id}?resolution=` for an item in CONFLICT (or MANUAL):
//!   SERVER_WINS discards the offline write (SYNCED, resolution SERVER_WINS); MANUAL flags it
//!   for an administrator's review (`GET /sync/review`); CLIENT_WINS writes the offline data
//!   over the server's record without the version check — "requires admin approval" in the
//!   document, so only administrators may choose it (typically from the review list).
//! - `POST /sync/retry?deviceId&userId` processes the caller's PENDING and FAILED items again,
//!   oldest first, up to [`MAX_RETRIES`] attempts each (beyond that they are `exhausted`);
//!   it stops early when CARE is unreachable or the session expired. Backoff between
//!   automatic retries is the device's (the server holds no token to retry on its own).
//! - `GET /sync/stats?userId` → `{"userId", "total", "pending", "synced", "failed",
//!   "conflicts", "blocked", "syncRate": "93.33%"}`: every item the user sent through the
//!   queue or `sync/push` within the audit retention, counted once by its latest outcome.
//!
//! Users see and act on their own items only (another user's item is a 404); stats of
//! another user and the review list need an administrator (403). Administrators can read and
//! resolve anyone's items but never send a write as someone else (`process` and `retry` of
//! another user's items are refused).

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode, Uri},
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;
use serde_json::{json, Value};

mod postgres;
mod sqlite;
pub mod store;

use store::{Claim, ClaimFrom, Listing, NewItem, Resolve, Settle};

use super::{
    apply::{self, Fields, Operation, Outcome, Write},
    audit::{Counts, Entry},
    authz::Caller,
    error::SyncError,
    query,
    store::{iso_ms, now_ms},
    SyncApi,
};

/// Attempts after which `retry` leaves an item alone.
pub const MAX_RETRIES: i64 = 5;
pub const RESOLUTIONS: [&str; 3] = ["CLIENT_WINS", "SERVER_WINS", "MANUAL"];

/// A stored queue item.
#[derive(Debug, Clone)]
pub struct Item {
    pub id: String,
    pub user_id: String,
    pub username: String,
    pub device_id: String,
    pub write: Write,
    pub resource_id: Option<String>,
    pub fingerprint: String,
    pub version: Option<i64>,
    pub created_at_client: Option<String>,
    pub queued_at_ms: i64,
    pub status: String,
    pub retry_count: i64,
    pub last_http_status: Option<u16>,
    pub last_error: Option<Value>,
    pub result_id: Option<String>,
    pub server_record: Option<Value>,
    pub resolution: Option<String>,
    pub flagged_at_ms: Option<i64>,
    pub flagged_by: Option<String>,
}

const COLUMNS: &str = "id, user_id, username, device_id, operation, resource_type, resource_id,
    method, path, record_path, data, fingerprint, base_version, version, created_at_client,
    queued_at_ms, status, retry_count, last_http_status, last_error, result_id, server_record,
    resolution, flagged_at_ms, flagged_by";

fn json_col(s: Option<String>) -> Option<Value> {
    s.and_then(|s| serde_json::from_str(&s).ok())
}

/// One stored row, as both stores read it (in [`COLUMNS`] order).
pub struct Columns {
    pub id: String,
    pub user_id: String,
    pub username: String,
    pub device_id: String,
    pub operation: String,
    pub resource_type: String,
    pub resource_id: Option<String>,
    pub method: String,
    pub path: String,
    pub record_path: String,
    pub data: Option<String>,
    pub fingerprint: String,
    pub base_version: Option<String>,
    pub version: Option<i64>,
    pub created_at_client: Option<String>,
    pub queued_at_ms: i64,
    pub status: String,
    pub retry_count: i64,
    pub last_http_status: Option<u16>,
    pub last_error: Option<String>,
    pub result_id: Option<String>,
    pub server_record: Option<String>,
    pub resolution: Option<String>,
    pub flagged_at_ms: Option<i64>,
    pub flagged_by: Option<String>,
}

impl Item {
    fn from_columns(c: Columns) -> Item {
        Item {
            write: Write {
                id: c.id.clone(),
                operation: Operation::parse(&c.operation).unwrap_or(Operation::Update),
                resource_type: c.resource_type,
                method: axum::http::Method::from_bytes(c.method.as_bytes())
                    .unwrap_or(axum::http::Method::POST),
                path: c.path,
                record_path: c.record_path,
                payload: json_col(c.data),
                base_version: c.base_version,
            },
            id: c.id,
            user_id: c.user_id,
            username: c.username,
            device_id: c.device_id,
            resource_id: c.resource_id,
            fingerprint: c.fingerprint,
            version: c.version,
            created_at_client: c.created_at_client,
            queued_at_ms: c.queued_at_ms,
            status: c.status,
            retry_count: c.retry_count,
            last_http_status: c.last_http_status,
            last_error: json_col(c.last_error),
            result_id: c.result_id,
            server_record: json_col(c.server_record),
            resolution: c.resolution,
            flagged_at_ms: c.flagged_at_ms,
            flagged_by: c.flagged_by,
        }
    }

    /// The pending-list shape of seed 004 (plus what a client needs to act on it).
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "userId": self.user_id,
            "deviceId": self.device_id,
            "operation": self.write.operation.as_str(),
            "resourceType": self.write.resource_type,
            "resourceId": self.resource_id,
            "method": self.write.method.as_str(),
            "path": format!("/api/v1{}", self.write.path),
            "data": self.write.payload,
            "status": self.status,
            "retryCount": self.retry_count,
            "createdAtClient": self.created_at_client,
            "queuedAt": iso_ms(self.queued_at_ms),
            "version": self.version,
            "baseVersion": self.write.base_version,
            "lastHttpStatus": self.last_http_status,
            "lastError": self.last_error,
            "resolution": self.resolution,
        })
    }

    /// The review-list shape: the offline data beside the server's record, for a merge view.
    pub fn review_json(&self) -> Value {
        let mut v = self.to_json();
        v["username"] = json!(self.username);
        v["serverRecord"] = self.server_record.clone().unwrap_or(Value::Null);
        v["flaggedAt"] = json!(self.flagged_at_ms.map(iso_ms));
        v["flaggedBy"] = json!(self.flagged_by);
        v
    }

    fn entry(&self, caller: &Caller, kind: &'static str, outcome: &'static str) -> Entry {
        Entry {
            user_id: self.user_id.clone(),
            username: self.username.clone(),
            device_id: Some(self.device_id.clone()),
            kind,
            item_id: Some(self.id.clone()),
            operation: Some(self.write.operation.as_str().into()),
            resource_type: Some(self.write.resource_type.clone()),
            method: Some(self.write.method.to_string()),
            route: Some(self.write.path.clone()),
            resource_id: self.resource_id.clone(),
            outcome,
            detail: (caller.id != self.user_id).then(|| format!("by:{}", caller.id)),
            ..Entry::default()
        }
    }
}

/// Writes a send's result under its claim. A claim lost meanwhile (taken again after the
/// longest wait for CARE) keeps the other sender's result: the same write under the same
/// key, so nothing is applied twice.
async fn settle(sync: &SyncApi, id: &str, claim: Claim, outcome: Settle) -> Result<(), SyncError> {
    if !sync.queue.settle(id, claim, outcome).await? {
        tracing::warn!("sync queue: the claim on {id} was taken again; its result is kept");
    }
    Ok(())
}

/// Another request has the item (a send, or a resolution that came first).
fn in_progress() -> SyncError {
    SyncError::Conflict {
        code: "in_progress",
        detail: "This operation is being sent or resolved by another request.".into(),
    }
}

fn check_uuid(id: &str) -> Result<(), SyncError> {
    uuid::Uuid::parse_str(id)
        .map(|_| ())
        .map_err(|_| SyncError::bad("invalid_id", "The item id must be a UUID."))
}

/// An item the caller may see: their own, or one of a user they administer (anyone's for
/// CARE's Administrator; a member of their facilities' for a Facility Admin).
async fn visible(sync: &SyncApi, caller: &Caller, id: &str) -> Result<Item, SyncError> {
    check_uuid(id)?;
    let not_found = || SyncError::NotFound("No such sync item.".into());
    let item = sync.queue.load(id).await?.ok_or_else(not_found)?;
    if caller.owns(&item.user_id) {
        return Ok(item);
    }
    if !caller.is_admin {
        return Err(not_found());
    }
    let scope = sync.administered(caller, "see this item").await?;
    if scope.includes(&item.user_id) {
        Ok(item)
    } else {
        Err(not_found())
    }
}

/// The user a query is about: the caller, unless an administrator asks about a user they
/// administer.
async fn subject(
    sync: &SyncApi,
    caller: &Caller,
    user_id: Option<&str>,
    what: &str,
) -> Result<String, SyncError> {
    match user_id.filter(|u| !u.is_empty()) {
        None => Ok(caller.id.clone()),
        Some(u) if caller.owns(u) => Ok(u.to_string()),
        Some(u) => {
            if !apply::valid_id(u) {
                return Err(SyncError::bad("invalid_user", "userId is not a valid id."));
            }
            if sync.administered(caller, what).await?.includes(u) {
                Ok(u.to_string())
            } else {
                Err(SyncError::Forbidden(format!(
                    "You can only {what} of users of your own facilities."
                )))
            }
        }
    }
}

fn check_device(device: Option<&str>) -> Result<Option<String>, SyncError> {
    match device {
        None | Some("") => Ok(None),
        Some(d) if apply::valid_id(d) => Ok(Some(d.to_string())),
        Some(_) => Err(SyncError::bad(
            "invalid_device",
            "deviceId must be 1 to 255 visible ASCII characters.",
        )),
    }
}

pub async fn enqueue(
    State(sync): State<SyncApi>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, SyncError> {
    let caller = sync.caller(&headers).await?;
    let Value::Object(obj) = apply::parse_json(&body)? else {
        return Err(SyncError::bad(
            "expected_object",
            "The body must be a JSON object.",
        ));
    };
    let mut f = Fields::new(&obj, "");
    let client_id = f.id("id", false);
    if let Some(id) = &client_id {
        if uuid::Uuid::parse_str(id).is_err() {
            f.err("id", "must be a UUID");
        }
    }
    if let Some(user) = f.opt_str("userId") {
        if !caller.owns(&user) {
            return Err(SyncError::Forbidden(
                "Operations can only be queued for the signed-in user.".into(),
            ));
        }
    }
    let device_id = f.id("deviceId", true);
    let created_at_client = f.opt_str("createdAtClient");
    if let Some(ts) = &created_at_client {
        if chrono::DateTime::parse_from_rfc3339(ts).is_err() {
            f.err("createdAtClient", "must be an ISO-8601 timestamp");
        }
    }
    let version = match f.get("version") {
        None => None,
        Some(Value::Number(n)) if n.is_i64() => n.as_i64(),
        Some(_) => {
            f.err("version", "must be an integer");
            None
        }
    };
    let id = client_id
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let write = apply::parse_write(&mut f, id.clone(), "data");
    if let Some(w) = &write {
        if w.operation == Operation::Update && w.base_version.is_none() {
            f.err(
                "baseVersion",
                "is required for UPDATE: the modified_date the data was edited from",
            );
        }
    }
    let (Some(write), Some(device_id), true) = (write, device_id, f.errors.is_empty()) else {
        return Err(SyncError::BadRequest {
            code: "invalid_operation",
            detail: "The operation is invalid; it was not queued.".into(),
            fields: f.errors,
        });
    };
    let resource_id = f
        .opt_str("resourceId")
        .or_else(|| apply::resource_id_of(&write, None));
    let fp = format!(
        "{}|{}",
        apply::fingerprint(&write),
        write.base_version.clone().unwrap_or_default()
    );
    let now = now_ms();
    let item = Item {
        id: id.clone(),
        user_id: caller.id.clone(),
        username: caller.username.clone(),
        device_id,
        write,
        resource_id,
        fingerprint: fp,
        version,
        created_at_client,
        queued_at_ms: now,
        status: "PENDING".into(),
        retry_count: 0,
        last_http_status: None,
        last_error: None,
        result_id: None,
        server_record: None,
        resolution: None,
        flagged_at_ms: None,
        flagged_by: None,
    };
    if !sync
        .queue
        .insert(NewItem {
            item: item.clone(),
            now,
        })
        .await?
    {
        // The id is taken: the same operation queued again is answered as queued.
        let not_found = || SyncError::NotFound("No such sync item.".into());
        let existing = sync.queue.load(&id).await?.ok_or_else(not_found)?;
        if !caller.owns(&existing.user_id) {
            return Err(SyncError::Conflict {
                code: "id_in_use",
                detail: "This id is already in use.".into(),
            });
        }
        if existing.fingerprint != item.fingerprint || existing.device_id != item.device_id {
            return Err(SyncError::BadRequest {
                code: "id_reused",
                detail: "This id was already used for a different operation.".into(),
                fields: Vec::new(),
            });
        }
        return Ok((
            StatusCode::OK,
            Json(
                json!({"id": id, "status": existing.status, "message": "Operation already queued"}),
            ),
        )
            .into_response());
    }
    sync.audit
        .log(&item.entry(&caller, "queue", "queued"))
        .await;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": id, "status": "PENDING", "message": "Operation queued for sync"})),
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnerQuery {
    device_id: Option<String>,
    user_id: Option<String>,
}

pub async fn pending(
    State(sync): State<SyncApi>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Json<Value>, SyncError> {
    let q: OwnerQuery = query(&uri)?;
    let device = check_device(q.device_id.as_deref())?;
    let caller = sync.caller(&headers).await?;
    let user = subject(&sync, &caller, q.user_id.as_deref(), "list the items").await?;
    let items = sync
        .queue
        .list(&user, device.as_deref(), Listing::Unsynced)
        .await?;
    Ok(Json(Value::Array(
        items.iter().map(Item::to_json).collect(),
    )))
}

/// Sends an item taken with `claim` and records what happened. `check` is false for
/// CLIENT_WINS.
async fn send(
    sync: &SyncApi,
    caller: &Caller,
    item: &Item,
    claim: Claim,
    check: bool,
    kind: &'static str,
    resolution: Option<&str>,
) -> Result<(StatusCode, Value), SyncError> {
    let outcome = apply::apply(
        &sync.backend,
        &caller.auth,
        &item.write,
        item.write.base_version.as_deref(),
        check,
    )
    .await;
    let mut entry = item.entry(caller, kind, "synced");
    entry.resolution = resolution.map(str::to_string);
    let answer = match outcome {
        Outcome::Synced(reply) => {
            let rid = apply::resource_id_of(&item.write, Some(&reply));
            settle(
                sync,
                &item.id,
                claim,
                Settle::Synced {
                    http_status: reply.status.as_u16(),
                    result_id: rid.clone(),
                    resolution: resolution.map(str::to_string),
                },
            )
            .await?;
            entry.http_status = Some(reply.status.as_u16());
            entry.resource_id = rid;
            (
                StatusCode::OK,
                json!({"id": item.id, "status": "SYNCED", "message": "Operation synced successfully",
                       "result": reply.body, "replayed": reply.replayed}),
            )
        }
        Outcome::Conflict {
            server,
            server_version,
        } => {
            settle(
                sync,
                &item.id,
                claim,
                Settle::Conflict {
                    server: server.clone(),
                },
            )
            .await?;
            entry.outcome = "conflict";
            entry.http_status = Some(409);
            entry.detail = Some("stale_base".into());
            (
                StatusCode::CONFLICT,
                json!({"id": item.id, "status": "CONFLICT", "message": "Version conflict detected",
                       "error": "Resource was modified on server",
                       "resolutionOptions": RESOLUTIONS,
                       "serverRecord": server, "serverVersion": server_version,
                       "baseVersion": item.write.base_version}),
            )
        }
        Outcome::Failed(reply) => {
            let status = apply::status_of(&reply);
            let retry_count = item.retry_count + 1;
            settle(
                sync,
                &item.id,
                claim,
                Settle::Failed {
                    retry_count,
                    http_status: status,
                    error: reply.body.clone(),
                },
            )
            .await?;
            entry.outcome = "failed";
            entry.http_status = Some(status);
            entry.detail = reply.body["code"]
                .as_str()
                .map(|c| c.chars().take(64).collect());
            (
                StatusCode::FAILED_DEPENDENCY,
                json!({"id": item.id, "status": "FAILED", "message": "CARE did not accept the operation",
                       "httpStatus": status, "error": reply.body, "retryable": reply.retryable(),
                       "retryCount": retry_count, "unreachable": reply.unreachable,
                       "authExpired": reply.auth_expired()}),
            )
        }
    };
    sync.audit.log(&entry).await;
    Ok(answer)
}

pub async fn process(
    State(sync): State<SyncApi>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, SyncError> {
    check_uuid(&id)?;
    let caller = sync.caller(&headers).await?;
    let item = visible(&sync, &caller, &id).await?;
    if !caller.owns(&item.user_id) {
        return Err(SyncError::Forbidden(
            "Only the user who queued an operation can send it.".into(),
        ));
    }
    match item.status.as_str() {
        "SYNCED" => {
            return Ok(Json(
                json!({"id": id, "status": "SYNCED", "message": "Operation already synced",
                "result": {"id": item.result_id}, "resolution": item.resolution}),
            )
            .into_response())
        }
        "MANUAL" => {
            return Err(SyncError::Conflict {
                code: "under_review",
                detail: "This operation is flagged for manual review by an administrator.".into(),
            })
        }
        _ => {}
    }
    let Some(claim) = sync.queue.claim(&id, ClaimFrom::Unsent).await? else {
        return Err(in_progress());
    };
    let (status, body) = send(&sync, &caller, &item, claim, true, "process", None).await?;
    Ok((status, Json(body)).into_response())
}

#[derive(Debug, Deserialize)]
pub struct ResolveQuery {
    resolution: Option<String>,
}

pub async fn resolve(
    State(sync): State<SyncApi>,
    headers: HeaderMap,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Response, SyncError> {
    check_uuid(&id)?;
    let q: ResolveQuery = query(&uri)?;
    let resolution = match q.resolution.as_deref() {
        Some(r) if RESOLUTIONS.contains(&r) => r.to_string(),
        _ => {
            return Err(SyncError::bad(
                "invalid_resolution",
                "resolution must be CLIENT_WINS, SERVER_WINS or MANUAL.",
            ))
        }
    };
    let caller = sync.caller(&headers).await?;
    let item = visible(&sync, &caller, &id).await?;
    let state_ok = match resolution.as_str() {
        "MANUAL" => item.status == "CONFLICT",
        _ => matches!(item.status.as_str(), "CONFLICT" | "MANUAL"),
    };
    if !state_ok {
        return Err(SyncError::Conflict {
            code: "not_in_conflict",
            detail: format!(
                "Only an operation in conflict can be resolved this way; this one is {}.",
                item.status
            ),
        });
    }
    match resolution.as_str() {
        "SERVER_WINS" => {
            if !sync.queue.resolve(&id, Resolve::Discard).await? {
                return Err(in_progress());
            }
            let mut e = item.entry(&caller, "resolve", "discarded");
            e.resolution = Some(resolution.clone());
            sync.audit.log(&e).await;
            Ok(Json(
                json!({"id": id, "status": "SYNCED", "resolution": resolution,
                "message": "Offline change discarded; the server's version is kept"}),
            )
            .into_response())
        }
        "MANUAL" => {
            let flag = Resolve::Flag {
                by: caller.username.clone(),
            };
            if !sync.queue.resolve(&id, flag).await? {
                return Err(in_progress());
            }
            let mut e = item.entry(&caller, "resolve", "manual");
            e.resolution = Some(resolution.clone());
            sync.audit.log(&e).await;
            Ok(Json(
                json!({"id": id, "status": "MANUAL", "resolution": resolution,
                "message": "Flagged for manual review by an administrator"}),
            )
            .into_response())
        }
        _ => {
            caller.require_admin("choose CLIENT_WINS (it overwrites the server's record)")?;
            let Some(claim) = sync.queue.claim(&id, ClaimFrom::Unresolved).await? else {
                return Err(in_progress());
            };
            let (status, mut body) = send(
                &sync,
                &caller,
                &item,
                claim,
                false,
                "resolve",
                Some("CLIENT_WINS"),
            )
            .await?;
            body["resolution"] = json!("CLIENT_WINS");
            Ok((status, Json(body)).into_response())
        }
    }
}

pub async fn retry(
    State(sync): State<SyncApi>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Json<Value>, SyncError> {
    let q: OwnerQuery = query(&uri)?;
    let device = check_device(q.device_id.as_deref())?;
    let caller = sync.caller(&headers).await?;
    if let Some(u) = q.user_id.as_deref().filter(|u| !u.is_empty()) {
        if !caller.owns(u) {
            return Err(SyncError::Forbidden(
                "Only the user who queued operations can retry them.".into(),
            ));
        }
    }
    let items = sync
        .queue
        .list(&caller.id, device.as_deref(), Listing::Retryable)
        .await?;
    let mut results = Vec::new();
    let (mut synced, mut failed, mut conflicts, mut exhausted, mut skipped) = (0, 0, 0, 0, 0);
    let mut halted = false;
    for item in items {
        if item.retry_count >= MAX_RETRIES {
            exhausted += 1;
            results.push(json!({"id": item.id, "status": "FAILED", "exhausted": true,
                "retryCount": item.retry_count}));
            continue;
        }
        if halted {
            skipped += 1;
            results.push(json!({"id": item.id, "status": item.status, "skipped": true}));
            continue;
        }
        let Some(claim) = sync.queue.claim(&item.id, ClaimFrom::Unsent).await? else {
            skipped += 1;
            results.push(json!({"id": item.id, "status": "SYNCING", "skipped": true}));
            continue;
        };
        let (_, body) = send(&sync, &caller, &item, claim, true, "retry", None).await?;
        match body["status"].as_str() {
            Some("SYNCED") => synced += 1,
            Some("CONFLICT") => conflicts += 1,
            _ => {
                failed += 1;
                halted = body["unreachable"] == true || body["authExpired"] == true;
            }
        }
        results.push(json!({"id": item.id, "status": body["status"],
            "httpStatus": body["httpStatus"], "retryCount": body["retryCount"]}));
    }
    Ok(Json(json!({
        "processed": synced + failed + conflicts,
        "synced": synced, "failed": failed, "conflicts": conflicts,
        "exhausted": exhausted, "skipped": skipped,
        "results": results,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatsQuery {
    user_id: Option<String>,
}

pub async fn stats(
    State(sync): State<SyncApi>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Json<Value>, SyncError> {
    let q: StatsQuery = query(&uri)?;
    let caller = sync.caller(&headers).await?;
    let user = subject(
        &sync,
        &caller,
        q.user_id.as_deref(),
        "read the sync statistics",
    )
    .await?;
    let mut counts = Counts::default();
    for (_, _, _, outcome, n, _) in sync.audit.latest_outcomes(Some(&user)).await? {
        counts.add(&outcome, n);
    }
    Ok(Json(json!({
        "userId": user,
        "total": counts.total,
        "pending": counts.pending,
        "synced": counts.synced,
        "failed": counts.failed,
        "conflicts": counts.conflicts,
        "blocked": counts.blocked,
        "syncRate": format!("{:.2}%", Counts::rate(counts.synced, counts.total)),
    })))
}

/// Every item flagged MANUAL of the users in `scope`, oldest flag first.
pub async fn review_items(
    sync: &SyncApi,
    scope: &super::scope::Scope,
) -> Result<Vec<Value>, SyncError> {
    Ok(sync
        .queue
        .flagged()
        .await?
        .iter()
        .filter(|i| scope.includes(&i.user_id))
        .map(Item::review_json)
        .collect())
}

pub async fn review(
    State(sync): State<SyncApi>,
    headers: HeaderMap,
) -> Result<Json<Value>, SyncError> {
    let caller = sync.caller(&headers).await?;
    let scope = sync.administered(&caller, "see the review list").await?;
    Ok(Json(
        json!({ "results": review_items(&sync, &scope).await? }),
    ))
}
