//! `GET /api/v1/sync/health` (administrators only; others get 403): the data of the admin
//! "SyncApi health" page. Items sent through `sync/push` or the queue within the audit retention
//! are counted once each, by their latest outcome.
//!
//! ```json
//! {
//!   "generatedAt": "2026-11-30T10:00:00.000Z",
//!   "retentionDays": 90,
//!   "totals": { "total": 12, "pending": 1, "synced": 8, "failed": 1, "conflicts": 2,
//!               "blocked": 0, "failureRate": 8.33, "conflictRate": 16.67 },
//!   "devices": [
//!     { "userId": "<uuid>", "username": "care-doctor", "deviceId": "tab-7",
//!       "total": 12, "pending": 1, "synced": 8, "failed": 1, "conflicts": 2, "blocked": 0,
//!       "failureRate": 8.33, "conflictRate": 16.67,            // percent of total, 2 decimals
//!       "oldestPending": { "since": "2026-11-30T09:00:00.000Z", "ageSeconds": 3600 } | null,
//!       "lastActivityAt": "2026-11-30T09:59:00.000Z" } ],
//!   "review": [ /* items flagged MANUAL: see `queue::Item::review_json` —
//!     {id, userId, username, deviceId, operation, resourceType, resourceId, method, path,
//!      data (the offline write), serverRecord (CARE's record at conflict time), baseVersion,
//!      status: "MANUAL", retryCount, createdAtClient, queuedAt, flaggedAt, flaggedBy, …} */ ]
//! }
//! ```
//!
//! `devices` is sorted by user id, then device id. "Pending" counts items whose latest
//! outcome is queued (not yet processed) or skipped (a push stopped before them).

use std::collections::BTreeMap;

use axum::{extract::State, http::HeaderMap, Json};
use serde_json::{json, Value};

use super::{
    audit::Counts,
    error::SyncError,
    queue::review_items,
    store::{iso_ms, now_ms},
    SyncApi,
};

#[derive(Default)]
struct Device {
    username: String,
    counts: Counts,
    oldest_pending: Option<i64>,
}

fn rates(c: &Counts) -> Value {
    json!({
        "total": c.total, "pending": c.pending, "synced": c.synced, "failed": c.failed,
        "conflicts": c.conflicts, "blocked": c.blocked,
        "failureRate": Counts::rate(c.failed, c.total),
        "conflictRate": Counts::rate(c.conflicts, c.total),
    })
}

pub async fn health(
    State(sync): State<SyncApi>,
    headers: HeaderMap,
) -> Result<Json<Value>, SyncError> {
    let caller = sync.caller(&headers).await?;
    let scope = sync.administered(&caller, "see sync health").await?;
    let now = now_ms();
    let mut devices: BTreeMap<(String, String), Device> = BTreeMap::new();
    let mut totals = Counts::default();
    for (user, username, device, outcome, n, first_at) in sync.audit.latest_outcomes(None).await? {
        if !scope.includes(&user) {
            continue;
        }
        let d = devices.entry((user, device)).or_default();
        d.username = username;
        d.counts.add(&outcome, n);
        totals.add(&outcome, n);
        if matches!(outcome.as_str(), "queued" | "skipped") {
            d.oldest_pending = Some(d.oldest_pending.map_or(first_at, |o| o.min(first_at)));
        }
    }
    let last = sync.audit.last_activity().await?;
    let devices: Vec<Value> = devices
        .into_iter()
        .map(|((user, device), d)| {
            let mut v = rates(&d.counts);
            v["userId"] = json!(user);
            v["username"] = json!(d.username);
            v["deviceId"] = json!(device);
            v["oldestPending"] = match d.oldest_pending {
                Some(at) => json!({"since": iso_ms(at), "ageSeconds": (now - at).max(0) / 1000}),
                None => Value::Null,
            };
            v["lastActivityAt"] = json!(last.get(&(user, device)).map(|at| iso_ms(*at)));
            v
        })
        .collect();
    Ok(Json(json!({
        "generatedAt": iso_ms(now),
        "retentionDays": sync.audit.retention_days(),
        "totals": rates(&totals),
        "devices": devices,
        "review": review_items(&sync, &scope).await?,
    })))
}
