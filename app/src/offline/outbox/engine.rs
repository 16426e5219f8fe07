//! The pure sync core: what to send next, how to send it, and what an answer means.
//!
//! Rules (seed 001, plus what offline systems get wrong):
//! - Serial, in client order, parents first; a child waits for its parents and is blocked
//!   when one fails for good.
//! - Temporary ids of offline creates are rewritten to the server's ids in children's paths
//!   and bodies.
//! - Network errors, 502/503/504, 500 and 429 are retried with exponential backoff and
//!   jitter up to `MAX_RETRIES`; 400/404/other 403 fail with CARE's body; `token_not_valid`
//!   parks the write as needs-sign-in, never dropping it.
//! - Every attempt carries the record id as `Idempotency-Key`, so a retry after a lost
//!   response is answered from the server's store instead of applied twice.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use super::{
    record::{OutboxRecord, SyncStatus},
    registry::{fill_path, route, HttpMethod},
};
use crate::{api::ApiError, offline::query::options::Millis};

pub const MAX_RETRIES: u32 = 6;
/// How long an in-flight write belongs to the tab that took it (crash recovery).
pub const LEASE: Millis = 60_000;
const BACKOFF_BASE: Millis = 2_000;
const BACKOFF_MAX: Millis = 5 * 60_000;

/// Delay before retry number `retries` (1-based): 2 s doubling to 5 min, ±25 % jitter.
pub fn backoff(retries: u32, jitter: f64) -> Millis {
    let exp = retries.saturating_sub(1).min(20);
    let base = BACKOFF_BASE.saturating_mul(1 << exp).min(BACKOFF_MAX);
    let spread = (base as f64 * 0.25 * (jitter.clamp(0.0, 1.0) * 2.0 - 1.0)) as Millis;
    (base + spread).max(BACKOFF_BASE / 2)
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Success(Value),
    /// Try again later (network, gateway, 429, 500).
    Retry(String),
    /// The server refused the write as it is (400, 404, permission 403): CARE's body.
    Rejected {
        status: u16,
        body: Value,
    },
    NeedsAuth,
    /// The server's record changed since the user's edit: its current version.
    Conflict(Value),
    /// Sent before, answer never learnt: it may have been applied (the server's body).
    Unknown(Value),
}

pub fn classify(result: Result<Value, ApiError>) -> Outcome {
    match result {
        Ok(body) => Outcome::Success(body),
        Err(ApiError::AuthExpired) => Outcome::NeedsAuth,
        Err(ApiError::Network(msg)) => Outcome::Retry(msg),
        Err(ApiError::Unreachable { status }) => {
            Outcome::Retry(format!("server unreachable ({status})"))
        }
        // The same write is still being processed (its answer was lost): ask again later.
        Err(ApiError::Http { status: 409, body })
            if body.get("code").and_then(Value::as_str) == Some("idempotency_in_flight") =>
        {
            Outcome::Retry("the server is still processing this write".into())
        }
        // Sent before and its answer lost for good: sending it again could apply it twice.
        Err(ApiError::Http { status: 409, body })
            if body.get("code").and_then(Value::as_str) == Some("idempotency_outcome_unknown") =>
        {
            Outcome::Unknown(body)
        }
        Err(ApiError::Http { status: 409, body }) => Outcome::Conflict(body),
        Err(ApiError::Http { status, body }) if status == 429 || status >= 500 => {
            Outcome::Retry(format!("server answered {status}: {body}"))
        }
        Err(ApiError::Http { status, body }) => Outcome::Rejected { status, body },
        Err(ApiError::Decode(msg)) => Outcome::Retry(format!("unreadable answer: {msg}")),
        Err(ApiError::NotInBrowser) => Outcome::Retry("not in a browser".into()),
    }
}

/// temp id → server id, from every synced create.
pub fn id_map(records: &[OutboxRecord]) -> HashMap<String, String> {
    records
        .iter()
        .filter(|r| r.sync_status == SyncStatus::Success)
        .filter_map(|r| {
            let real = r.response.as_ref()?.get("id")?.as_str()?;
            Some((r.temp_id.clone()?, real.to_string()))
        })
        .collect()
}

/// Replaces every string that is exactly a temporary id, and every path segment that is
/// one in API paths (`/api/v1/patient/<temp>/symptom/upsert/` inside a batch request).
pub fn rewrite_ids(value: &Value, map: &HashMap<String, String>) -> Value {
    match value {
        Value::String(s) => match map.get(s) {
            Some(real) => Value::String(real.clone()),
            None if s.starts_with('/') => Value::String(rewrite_path_segments(s, map)),
            None => value.clone(),
        },
        Value::Array(items) => Value::Array(items.iter().map(|v| rewrite_ids(v, map)).collect()),
        Value::Object(obj) => Value::Object(
            obj.iter()
                .map(|(k, v)| (k.clone(), rewrite_ids(v, map)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// `/a/<temp>/b/?x=<temp>` → the segments (and query values) that are temporary ids
/// replaced; anything else is kept as it is.
fn rewrite_path_segments(path: &str, map: &HashMap<String, String>) -> String {
    let swap = |part: &str| map.get(part).cloned().unwrap_or_else(|| part.to_string());
    let (route, query) = match path.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (path, None),
    };
    let mut out = route.split('/').map(swap).collect::<Vec<_>>().join("/");
    if let Some(q) = query {
        let pairs = q
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, v)) => format!("{k}={}", swap(v)),
                None => pair.to_string(),
            })
            .collect::<Vec<_>>()
            .join("&");
        out.push('?');
        out.push_str(&pairs);
    }
    out
}

/// A request ready to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    pub method: HttpMethod,
    pub path: String,
    pub body: Value,
    /// For updates: where to read the server's current version first.
    pub current_path: Option<String>,
    pub idempotency_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrepareError {
    #[error("unknown write type {0}")]
    UnknownRoute(String),
    #[error("the write refers to a record that is not on the server yet")]
    MissingParam,
}

pub fn prepare(
    record: &OutboxRecord,
    ids: &HashMap<String, String>,
) -> Result<Prepared, PrepareError> {
    let route = route(&record.sync_route_key)
        .ok_or_else(|| PrepareError::UnknownRoute(record.sync_route_key.clone()))?;
    let params: BTreeMap<String, String> = record
        .path_params
        .iter()
        .map(|(k, v)| (k.clone(), ids.get(v).cloned().unwrap_or_else(|| v.clone())))
        .collect();
    let path = fill_path(route.path, &params).ok_or(PrepareError::MissingParam)?;
    let current_path = route
        .current
        .map(|c| fill_path(c, &params).ok_or(PrepareError::MissingParam))
        .transpose()?;
    Ok(Prepared {
        method: route.method,
        path,
        body: rewrite_ids(&record.payload, ids),
        current_path,
        idempotency_key: record.idempotency_key(),
    })
}

fn parents_status(
    record: &OutboxRecord,
    by_id: &HashMap<&str, &OutboxRecord>,
) -> Vec<Option<SyncStatus>> {
    record
        .parent_mutation_ids
        .iter()
        .map(|p| by_id.get(p.as_str()).map(|r| r.sync_status))
        .collect()
}

/// The next write to send, if any: the oldest pending (or abandoned in-flight) write whose
/// parents have all synced and whose backoff has passed.
pub fn next_ready(records: &[OutboxRecord], now: Millis) -> Option<&OutboxRecord> {
    let by_id: HashMap<&str, &OutboxRecord> = records.iter().map(|r| (r.id.as_str(), r)).collect();
    let mut ready: Vec<&OutboxRecord> = records
        .iter()
        .filter(|r| match r.sync_status {
            SyncStatus::Pending => r.next_attempt_at.is_none_or(|t| t <= now),
            SyncStatus::InFlight => r.lease_until.is_none_or(|t| t <= now),
            _ => false,
        })
        .filter(|r| {
            parents_status(r, &by_id)
                .iter()
                .all(|s| *s == Some(SyncStatus::Success))
        })
        .collect();
    ready.sort_by(|a, b| {
        a.client_timestamp
            .cmp(&b.client_timestamp)
            .then_with(|| a.id.cmp(&b.id))
    });
    ready.into_iter().next()
}

/// When the next write waiting out a backoff (or a dead tab's lease) becomes due, if one
/// does later than `now`: the pass is run again then, not at the next 30 s tick.
pub fn next_due(records: &[OutboxRecord], now: Millis) -> Option<Millis> {
    records
        .iter()
        .filter_map(|r| match r.sync_status {
            SyncStatus::Pending => r.next_attempt_at,
            SyncStatus::InFlight => r.lease_until,
            _ => None,
        })
        .filter(|t| *t > now)
        .min()
}

/// Open writes one of whose parents failed for good (or was discarded): they are blocked.
/// A write still marked in flight counts once its lease has run out: a push leases children
/// with their parents, and a tab that died mid-push leaves them so.
pub fn newly_blocked(records: &[OutboxRecord], now: Millis) -> Vec<String> {
    let by_id: HashMap<&str, &OutboxRecord> = records.iter().map(|r| (r.id.as_str(), r)).collect();
    records
        .iter()
        .filter(|r| match r.sync_status {
            SyncStatus::Pending | SyncStatus::NeedsAuth => true,
            SyncStatus::InFlight => r.lease_until.is_none_or(|t| t <= now),
            _ => false,
        })
        .filter(|r| {
            parents_status(r, &by_id).iter().any(|s| {
                matches!(
                    s,
                    None | Some(SyncStatus::Failed) | Some(SyncStatus::Blocked)
                )
            })
        })
        .map(|r| r.id.clone())
        .collect()
}

/// Blocked writes whose parents are all open again or synced (after a retry): unblock.
pub fn newly_unblocked(records: &[OutboxRecord]) -> Vec<String> {
    let by_id: HashMap<&str, &OutboxRecord> = records.iter().map(|r| (r.id.as_str(), r)).collect();
    records
        .iter()
        .filter(|r| r.sync_status == SyncStatus::Blocked)
        .filter(|r| {
            parents_status(r, &by_id).iter().all(|s| {
                matches!(
                    s,
                    Some(
                        SyncStatus::Success
                            | SyncStatus::Pending
                            | SyncStatus::InFlight
                            | SyncStatus::NeedsAuth
                            | SyncStatus::Conflict
                    )
                )
            })
        })
        .map(|r| r.id.clone())
        .collect()
}

/// Marks the start of an attempt (this tab holds the write until `LEASE` passes).
pub fn begin_attempt(record: &mut OutboxRecord, now: Millis) {
    record.sync_status = SyncStatus::InFlight;
    record.last_attempt_at = Some(now);
    record.key_sent_at.get_or_insert(now);
    record.lease_until = Some(now + LEASE);
}

/// The `modified_date` an update is based on: its own, unless an earlier update of the same
/// record (a parent) has synced since, whose answer is the newer base.
pub fn base_timestamp(record: &OutboxRecord, records: &[OutboxRecord]) -> Option<String> {
    let from_parent = records
        .iter()
        .filter(|p| record.parent_mutation_ids.contains(&p.id))
        .filter(|p| {
            p.sync_status == SyncStatus::Success && p.sync_route_key == record.sync_route_key
        })
        .filter(|p| p.path_params == record.path_params)
        .filter_map(|p| {
            Some((
                p.synced_at,
                p.response
                    .as_ref()?
                    .get("modified_date")?
                    .as_str()?
                    .to_string(),
            ))
        })
        .max_by_key(|(at, _)| *at)
        .map(|(_, t)| t);
    from_parent.or_else(|| record.server_timestamp.clone())
}

/// True when the server's current record is not the one the user edited.
pub fn is_conflict(record: &OutboxRecord, server_current: &Value) -> bool {
    match (
        &record.server_timestamp,
        server_current.get("modified_date").and_then(Value::as_str),
    ) {
        (Some(base), Some(now)) => base != now,
        _ => false,
    }
}

pub fn apply_outcome(record: &mut OutboxRecord, outcome: Outcome, now: Millis, jitter: f64) {
    record.lease_until = None;
    match outcome {
        Outcome::Success(body) => {
            record.sync_status = SyncStatus::Success;
            record.response = Some(body);
            record.synced_at = Some(now);
            record.last_error = None;
            record.next_attempt_at = None;
        }
        Outcome::Retry(msg) => {
            record.retries += 1;
            record.last_error = Some(Value::String(msg));
            if record.retries >= MAX_RETRIES {
                record.sync_status = SyncStatus::Failed;
                record.next_attempt_at = None;
            } else {
                record.sync_status = SyncStatus::Pending;
                record.next_attempt_at = Some(now + backoff(record.retries, jitter));
            }
        }
        Outcome::Rejected { status, body } => {
            record.sync_status = SyncStatus::Failed;
            record.last_error = Some(serde_json::json!({ "status": status, "body": body }));
        }
        Outcome::NeedsAuth => {
            record.sync_status = SyncStatus::NeedsAuth;
            record.last_error = Some(Value::String("Sign in again to send this.".into()));
        }
        Outcome::Unknown(body) => {
            record.sync_status = SyncStatus::Unknown;
            record.next_attempt_at = None;
            record.last_error = Some(serde_json::json!({ "status": 409, "body": body }));
        }
        Outcome::Conflict(server) => {
            record.sync_status = SyncStatus::Conflict;
            record.conflict_data = Some(server);
            record.last_error = Some(Value::String(
                "Changed on the server since you edited it.".into(),
            ));
        }
    }
}

/// The same user signed in again: their parked writes go back in the queue.
pub fn resume_after_sign_in(record: &mut OutboxRecord, user_id: &str) -> bool {
    if record.sync_status == SyncStatus::NeedsAuth && record.user_id == user_id {
        record.sync_status = SyncStatus::Pending;
        record.next_attempt_at = None;
        true
    } else {
        false
    }
}

/// The server is reachable again: waiting out a backoff that was caused by being offline
/// makes no sense, so pending writes become due now (their retry count stays).
pub fn wake(record: &mut OutboxRecord) -> bool {
    if record.sync_status == SyncStatus::Pending && record.next_attempt_at.is_some() {
        record.next_attempt_at = None;
        true
    } else {
        false
    }
}

/// A person asked to try again: back to pending with a fresh retry budget.
pub fn retry(record: &mut OutboxRecord) {
    if matches!(
        record.sync_status,
        SyncStatus::Failed | SyncStatus::Blocked | SyncStatus::NeedsAuth
    ) {
        record.sync_status = SyncStatus::Pending;
        record.retries = 0;
        record.next_attempt_at = None;
    }
}

/// Writes that may have been sent (an attempt without an answer) and were saved longer ago
/// than the server remembers keys (`retention_days`, from its `/health`): sending one again
/// could apply it twice, so it waits for a person (`SyncStatus::Unknown`).
pub fn past_retention(records: &[OutboxRecord], now: Millis, retention_days: i64) -> Vec<String> {
    let limit = retention_days.saturating_mul(super::super::query::options::DAY);
    records
        .iter()
        .filter(|r| match r.sync_status {
            SyncStatus::Pending => true,
            // A tab that died sending it: the next pass would resend it.
            SyncStatus::InFlight => r.lease_until.is_none_or(|t| t <= now),
            _ => false,
        })
        .filter(|r| !r.certainly_not_applied())
        .filter(|r| now - r.key_sent_at.unwrap_or(r.client_timestamp) > limit)
        .map(|r| r.id.clone())
        .collect()
}

/// Holds a write found by `past_retention` for the person to check.
pub fn hold_past_retention(record: &mut OutboxRecord, retention_days: i64) {
    record.sync_status = SyncStatus::Unknown;
    record.next_attempt_at = None;
    record.lease_until = None;
    record.last_error = Some(Value::String(format!(
        "Saved more than {retention_days} days ago and sent before without an answer: the server no longer remembers it, so it is not sent again on its own. CARE may have saved it."
    )));
}

/// "It is there": the person found this write's effect in CARE. It is done; `found` is
/// the record they found, when the page knows it (so a created record's server id reaches
/// the writes that depend on it); otherwise its answer stays unknown.
pub fn confirm_applied(record: &mut OutboxRecord, now: Millis, found: Option<Value>) {
    if record.sync_status == SyncStatus::Unknown {
        record.sync_status = SyncStatus::Success;
        record.synced_at = Some(now);
        if found.is_some() {
            record.response = found;
        }
        record.next_attempt_at = None;
        record.last_error = Some(Value::String(
            "Confirmed in CARE by the person (its answer was lost).".into(),
        ));
    }
}

/// "Send again": the person found it is not in CARE. A new request with a new key (the old
/// key's outcome stays unknown to the server, which will not forward it again).
pub fn send_again(record: &mut OutboxRecord) {
    if record.sync_status == SyncStatus::Unknown {
        let payload = record.payload.clone();
        let _ = record.amend(payload);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    ClientWins,
    ServerWins,
    Manual,
}

impl Resolution {
    pub fn code(self) -> &'static str {
        match self {
            Resolution::ClientWins => "CLIENT_WINS",
            Resolution::ServerWins => "SERVER_WINS",
            Resolution::Manual => "MANUAL",
        }
    }
}

/// Settles a conflict. `merged` (per-field choices) replaces the payload for CLIENT_WINS.
pub fn resolve(
    record: &mut OutboxRecord,
    resolution: Resolution,
    merged: Option<Value>,
    now: Millis,
) {
    if record.sync_status != SyncStatus::Conflict {
        return;
    }
    record.resolution = Some(resolution.code().to_string());
    let server = record.conflict_data.clone().unwrap_or(Value::Null);
    match resolution {
        Resolution::ClientWins => {
            if let Some(payload) = merged {
                record.payload = payload;
            }
            // A new request: a server that kept its answer to the old key (the conflict)
            // would replay it, or refuse the key for a different body.
            record.revision += 1;
            // Now based on the server's current version: sent as the user decided.
            record.server_timestamp = server
                .get("modified_date")
                .and_then(Value::as_str)
                .map(str::to_string);
            record.base_snapshot = Some(server);
            record.sync_status = SyncStatus::Pending;
            record.retries = 0;
            record.next_attempt_at = None;
        }
        Resolution::ServerWins => {
            record.sync_status = SyncStatus::Success;
            record.response = Some(server);
            record.synced_at = Some(now);
            record.last_error = None;
        }
        Resolution::Manual => {}
    }
}

/// What a conflict found on resending means. A write that may have been applied (sent
/// before, its answer lost) meets a newer `modified_date` that is often its own: when the
/// server's record already shows every field this write sets, it was applied, and the
/// server's record is its answer. Otherwise someone else changed the record: a conflict.
pub fn settle_conflict(record: &OutboxRecord, server: Value) -> Outcome {
    let shows_this_write = diff_fields(&record.payload, &record.payload, &server).is_empty();
    if !record.certainly_not_applied() && shows_this_write {
        Outcome::Success(server)
    } else {
        Outcome::Conflict(server)
    }
}

/// One field of a three-way merge.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldDiff {
    pub field: String,
    pub base: Value,
    pub mine: Value,
    pub server: Value,
}

impl FieldDiff {
    /// Both sides changed it, differently.
    pub fn conflicting(&self) -> bool {
        self.mine != self.base && self.server != self.base && self.mine != self.server
    }

    /// The value a merge takes when only one side changed it.
    pub fn auto(&self) -> Value {
        if self.mine != self.base {
            self.mine.clone()
        } else {
            self.server.clone()
        }
    }
}

/// The payload's fields compared across base, mine and server (only fields that differ).
pub fn diff_fields(base: &Value, mine: &Value, server: &Value) -> Vec<FieldDiff> {
    let Some(fields) = mine.as_object() else {
        return Vec::new();
    };
    let mut out: Vec<FieldDiff> = fields
        .iter()
        .map(|(field, m)| {
            if field == "identifiers" {
                return FieldDiff {
                    field: field.clone(),
                    base: identifiers_as_sent(base, m),
                    mine: m.clone(),
                    server: identifiers_as_sent(server, m),
                };
            }
            FieldDiff {
                field: field.clone(),
                base: comparable(base.get(field)),
                mine: m.clone(),
                server: comparable(server.get(field)),
            }
        })
        .filter(|d| d.mine != d.server || d.mine != d.base)
        .collect();
    out.sort_by(|a, b| a.field.cmp(&b.field));
    out
}

/// A record's identifiers in the body's shape (`[{config, value}]`), for the configs `mine`
/// sends and in its order (a config the record lacks reads as empty, which is how a body
/// removes one): so "both changed the hospital number" is a conflict like any field.
fn identifiers_as_sent(record: &Value, mine: &Value) -> Value {
    let listed: Vec<&Value> = ["instance_identifiers", "facility_identifiers"]
        .iter()
        .filter_map(|k| record.get(*k).and_then(Value::as_array))
        .flatten()
        .collect();
    let items = mine
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| {
            let config = item.get("config")?.as_str()?;
            let value = listed
                .iter()
                .find(|e| e.pointer("/config/id").and_then(Value::as_str) == Some(config))
                .and_then(|e| e.get("value"))
                .cloned()
                .unwrap_or(Value::String(String::new()));
            Some(serde_json::json!({"config": config, "value": value}))
        })
        .collect();
    Value::Array(items)
}

/// Nested objects (a geo organization) are compared by id, as the payload sends ids.
fn comparable(v: Option<&Value>) -> Value {
    match v {
        Some(Value::Object(o)) => o.get("id").cloned().unwrap_or(Value::Object(o.clone())),
        Some(v) => v.clone(),
        None => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::offline::outbox::registry;
    use serde_json::json;

    fn rec(id: &str, key: &str, at: Millis) -> OutboxRecord {
        let route = registry::route(key).expect("route");
        OutboxRecord::new(
            id.into(),
            "u".into(),
            "d".into(),
            route,
            BTreeMap::new(),
            json!({}),
            at,
        )
    }

    #[test]
    fn a_write_whose_outcome_is_unknown_waits_for_a_person_and_each_choice_settles_it() {
        let unknown =
            json!({"detail": "may have been saved", "code": "idempotency_outcome_unknown"});
        let outcome = classify(Err(ApiError::Http {
            status: 409,
            body: unknown.clone(),
        }));
        assert_eq!(outcome, Outcome::Unknown(unknown.clone()));
        let in_flight = json!({"code": "idempotency_in_flight"});
        assert!(matches!(
            classify(Err(ApiError::Http {
                status: 409,
                body: in_flight
            })),
            Outcome::Retry(_)
        ));
        let mut r = rec("w", "patient.create", 0);
        apply_outcome(&mut r, outcome, 10, 0.5);
        assert_eq!(r.sync_status, SyncStatus::Unknown);
        assert!(!r.sync_status.is_open(), "never resent on its own");
        assert_eq!(r.error_message().as_deref(), Some("may have been saved"));
        assert!(next_ready(std::slice::from_ref(&r), 1_000_000).is_none());
        retry(&mut r);
        assert_eq!(
            r.sync_status,
            SyncStatus::Unknown,
            "Retry is not one of its choices"
        );

        let mut there = r.clone();
        confirm_applied(&mut there, 20, None);
        assert_eq!(
            (there.sync_status, there.synced_at),
            (SyncStatus::Success, Some(20))
        );
        assert_eq!(there.idempotency_key(), "w");

        let mut again = r;
        send_again(&mut again);
        assert_eq!(again.sync_status, SyncStatus::Pending);
        assert_eq!(
            again.idempotency_key(),
            "w.r1",
            "a new key: the old one stays unknown"
        );
    }

    #[test]
    fn a_write_maybe_sent_longer_ago_than_the_server_remembers_waits_for_a_person() {
        let day = crate::offline::query::options::DAY;
        let now = 100 * day;
        let mut never_sent = rec("never", "patient.create", 0);
        never_sent.client_timestamp = 0;
        let mut sent = rec("sent", "patient.create", 0);
        sent.last_attempt_at = Some(day);
        apply_outcome(&mut sent, Outcome::Retry("reset".into()), day, 0.5);
        let mut recent = sent.clone();
        recent.id = "recent".into();
        recent.client_timestamp = 20 * day;
        // A tab died sending it 91 days ago; its lease ran out long since.
        let mut crashed = rec("crashed", "patient.create", 0);
        begin_attempt(&mut crashed, 9 * day);
        let mut leased = crashed.clone();
        leased.id = "leased".into();
        leased.lease_until = Some(now + 1);
        let records = [never_sent, sent, recent, crashed, leased];
        assert_eq!(past_retention(&records, now, 90), ["sent", "crashed"]);
        let records = [records[0].clone(), records[1].clone(), records[2].clone()];
        assert_eq!(past_retention(&records, now, 90), ["sent"]);
        assert!(past_retention(&records, now, 120).is_empty());
        let mut held = records[1].clone();
        hold_past_retention(&mut held, 90);
        assert_eq!(held.sync_status, SyncStatus::Unknown);
        assert!(held.error_message().unwrap_or_default().contains("90 days"));
        send_again(&mut held);
        assert_eq!(held.sync_status, SyncStatus::Pending);
        assert_eq!(held.idempotency_key(), "sent.r1");
    }

    #[test]
    fn the_next_pass_is_due_when_the_earliest_backoff_ends() {
        let at = |status, next: Option<Millis>, lease: Option<Millis>| {
            let mut r = rec("a", "patient.create", 1);
            r.sync_status = status;
            r.next_attempt_at = next;
            r.lease_until = lease;
            r
        };
        let records = vec![
            at(SyncStatus::Pending, Some(9_000), None),
            at(SyncStatus::Pending, Some(4_000), None),
            at(SyncStatus::Pending, None, None),
            at(SyncStatus::Failed, Some(2_000), None),
            at(SyncStatus::InFlight, None, Some(6_000)),
        ];
        assert_eq!(next_due(&records, 1_000), Some(4_000));
        assert_eq!(next_due(&records, 5_000), Some(6_000), "a dead tab's lease");
        assert_eq!(next_due(&records, 9_000), None, "nothing later");
        assert_eq!(next_due(&[], 0), None);
    }

    #[test]
    fn backoff_grows_is_capped_and_jittered_within_bounds() {
        assert_eq!(backoff(1, 0.5), 2_000);
        assert_eq!(backoff(2, 0.5), 4_000);
        assert_eq!(backoff(30, 0.5), BACKOFF_MAX);
        assert!(backoff(3, 0.0) >= 6_000 && backoff(3, 1.0) <= 10_000);
    }

    #[test]
    fn classification() {
        assert_eq!(
            classify(Ok(json!({"id": 1}))),
            Outcome::Success(json!({"id": 1}))
        );
        assert_eq!(classify(Err(ApiError::AuthExpired)), Outcome::NeedsAuth);
        assert!(matches!(
            classify(Err(ApiError::Http {
                status: 409,
                body: json!({"code": "idempotency_in_flight"})
            })),
            Outcome::Retry(_)
        ));
        assert!(matches!(
            classify(Err(ApiError::Network("x".into()))),
            Outcome::Retry(_)
        ));
        assert!(matches!(
            classify(Err(ApiError::Unreachable { status: 504 })),
            Outcome::Retry(_)
        ));
        assert!(matches!(
            classify(Err(ApiError::Http {
                status: 429,
                body: json!(null)
            })),
            Outcome::Retry(_)
        ));
        assert!(matches!(
            classify(Err(ApiError::Http {
                status: 503,
                body: json!(null)
            })),
            Outcome::Retry(_)
        ));
        assert_eq!(
            classify(Err(ApiError::Http {
                status: 400,
                body: json!({"errors": []})
            })),
            Outcome::Rejected {
                status: 400,
                body: json!({"errors": []})
            }
        );
        assert!(matches!(
            classify(Err(ApiError::Http {
                status: 404,
                body: json!(null)
            })),
            Outcome::Rejected { status: 404, .. }
        ));
        assert!(matches!(
            classify(Err(ApiError::Http {
                status: 409,
                body: json!({"id": 1})
            })),
            Outcome::Conflict(_)
        ));
    }

    #[test]
    fn children_wait_for_parents_and_use_their_real_ids() {
        let mut patient = rec("w1", "patient.create", 1);
        patient.temp_id = Some("tmp-p".into());
        let mut encounter = rec("w2", "encounter.create", 2);
        encounter.parent_mutation_ids = vec!["w1".into()];
        encounter.payload = json!({"patient": "tmp-p", "facility": "f"});
        let mut records = vec![encounter.clone(), patient.clone()];
        assert_eq!(next_ready(&records, 10).map(|r| r.id.as_str()), Some("w1"));
        records[1].sync_status = SyncStatus::InFlight;
        records[1].lease_until = Some(100);
        assert_eq!(
            next_ready(&records, 10),
            None,
            "in flight elsewhere; child waits"
        );
        assert_eq!(
            next_ready(&records, 100).map(|r| r.id.as_str()),
            Some("w1"),
            "lease expired: taken over"
        );
        apply_outcome(
            &mut records[1],
            Outcome::Success(json!({"id": "real-p"})),
            11,
            0.5,
        );
        let next = next_ready(&records, 12).expect("child ready");
        assert_eq!(next.id, "w2");
        let prepared = prepare(next, &id_map(&records)).expect("prepare");
        assert_eq!(prepared.body["patient"], "real-p");
        assert_eq!(prepared.idempotency_key, "w2");
    }

    #[test]
    fn temp_ids_inside_api_paths_are_rewritten() {
        let mut ids = HashMap::new();
        ids.insert("tmp-p".to_string(), "real-p".to_string());
        ids.insert("tmp-e".to_string(), "real-e".to_string());
        let body = json!({"requests": [
            {"url": "/api/v1/patient/tmp-p/symptom/upsert/", "reference_id": "q1",
             "body": {"datapoints": [{"encounter": "tmp-e"}]}},
            {"url": "/api/v1/encounter/?patient=tmp-p&limit=1", "reference_id": "tmp-p-note"},
            {"url": "/api/v1/patient/tmp-px/", "reference_id": "x"}
        ]});
        let out = rewrite_ids(&body, &ids);
        assert_eq!(
            out["requests"][0]["url"],
            "/api/v1/patient/real-p/symptom/upsert/"
        );
        assert_eq!(
            out["requests"][0]["body"]["datapoints"][0]["encounter"],
            "real-e"
        );
        assert_eq!(
            out["requests"][1]["url"],
            "/api/v1/encounter/?patient=real-p&limit=1"
        );
        assert_eq!(
            out["requests"][1]["reference_id"], "tmp-p-note",
            "only whole ids and whole path segments"
        );
        assert_eq!(out["requests"][2]["url"], "/api/v1/patient/tmp-px/");
        assert_eq!(
            rewrite_ids(&json!("not/a/path/tmp-p"), &ids),
            json!("not/a/path/tmp-p")
        );
    }

    #[test]
    fn a_form_and_a_completion_of_an_offline_encounter_follow_it_with_its_server_id() {
        let mut create = rec("w1", "encounter.create", 1);
        create.temp_id = Some("tmp-e".into());
        let mut form = rec("w2", "questionnaire.submit", 2);
        form.parent_mutation_ids = vec!["w1".into()];
        form.path_params
            .insert("encounter_id".into(), "tmp-e".into());
        form.path_params.insert("patient_id".into(), "p".into());
        form.payload = json!({"requests": [
            {"url": "/api/v1/patient/p/symptom/upsert/", "body": {"datapoints": [{"encounter": "tmp-e"}]}},
            {"url": "/api/v1/questionnaire/demo/submit/", "body": {"resource_id": "tmp-e", "encounter": "tmp-e"}}
        ]});
        let mut complete = rec("w3", "encounter.update", 3);
        complete.parent_mutation_ids = vec!["w1".into(), "w2".into()];
        complete
            .path_params
            .insert("encounter_id".into(), "tmp-e".into());
        let mut records = vec![complete, form, create];
        assert_eq!(next_ready(&records, 10).map(|r| r.id.as_str()), Some("w1"));
        apply_outcome(
            &mut records[2],
            Outcome::Success(json!({"id": "real-e"})),
            11,
            0.5,
        );
        let next = next_ready(&records, 12).expect("form ready").clone();
        assert_eq!(next.id, "w2");
        let p = prepare(&next, &id_map(&records)).expect("prepare");
        assert_eq!(p.path, "/batch_requests/");
        assert_eq!(
            p.body["requests"][0]["body"]["datapoints"][0]["encounter"],
            "real-e"
        );
        assert_eq!(p.body["requests"][1]["body"]["resource_id"], "real-e");
        apply_outcome(
            &mut records[1],
            Outcome::Success(json!({"results": []})),
            13,
            0.5,
        );
        let last = next_ready(&records, 14).expect("completion ready").clone();
        let p = prepare(&last, &id_map(&records)).expect("prepare");
        assert_eq!(p.path, "/encounter/real-e/");
        assert_eq!(p.current_path.as_deref(), Some("/encounter/real-e/"));
    }

    #[test]
    fn temp_ids_in_path_params_are_rewritten() {
        let mut update = rec("w3", "patient.update", 3);
        update
            .path_params
            .insert("patient_id".into(), "tmp-p".into());
        let mut ids = HashMap::new();
        ids.insert("tmp-p".to_string(), "real-p".to_string());
        let p = prepare(&update, &ids).expect("prepare");
        assert_eq!(p.path, "/patient/real-p/");
        assert_eq!(p.current_path.as_deref(), Some("/patient/real-p/"));
        let missing = rec("w4", "patient.update", 4);
        assert_eq!(prepare(&missing, &ids), Err(PrepareError::MissingParam));
    }

    #[test]
    fn failures_block_children_and_a_retry_unblocks_them() {
        let parent = rec("p", "patient.create", 1);
        let mut child = rec("c", "encounter.create", 2);
        child.parent_mutation_ids = vec!["p".into()];
        let mut records = vec![parent, child];
        apply_outcome(
            &mut records[0],
            Outcome::Rejected {
                status: 400,
                body: json!({}),
            },
            5,
            0.5,
        );
        assert_eq!(newly_blocked(&records, 10), vec!["c".to_string()]);
        // A child leased with its parent in a push that never came back: blocked once its
        // lease has run out, not while another tab may still be sending it.
        let mut leased = records.clone();
        leased[1].sync_status = SyncStatus::InFlight;
        leased[1].lease_until = Some(100);
        assert!(newly_blocked(&leased, 50).is_empty());
        assert_eq!(newly_blocked(&leased, 100), vec!["c".to_string()]);
        records[1].sync_status = SyncStatus::Blocked;
        assert!(newly_unblocked(&records).is_empty());
        retry(&mut records[0]);
        assert_eq!(newly_unblocked(&records), vec!["c".to_string()]);
        // A discarded parent blocks too.
        let orphan = {
            let mut o = rec("o", "encounter.create", 3);
            o.parent_mutation_ids = vec!["gone".into()];
            o
        };
        assert_eq!(newly_blocked(&[orphan], 10), vec!["o".to_string()]);
    }

    #[test]
    fn reconnect_wakes_only_waiting_pending_writes() {
        let mut r = rec("w", "patient.create", 1);
        apply_outcome(&mut r, Outcome::Retry("offline".into()), 10, 0.5);
        assert!(
            next_ready(std::slice::from_ref(&r), 11).is_none(),
            "backing off"
        );
        assert!(wake(&mut r));
        assert!(next_ready(std::slice::from_ref(&r), 11).is_some());
        assert_eq!(r.retries, 1);
        let mut failed = rec("f", "patient.create", 1);
        failed.sync_status = SyncStatus::Failed;
        assert!(!wake(&mut failed));
    }

    #[test]
    fn retries_then_fails_and_needs_auth_is_kept() {
        let mut r = rec("w", "patient.create", 1);
        for i in 1..MAX_RETRIES {
            apply_outcome(&mut r, Outcome::Retry("down".into()), 10, 0.5);
            assert_eq!(r.sync_status, SyncStatus::Pending, "attempt {i}");
            assert!(r.next_attempt_at.expect("scheduled") > 10);
        }
        apply_outcome(&mut r, Outcome::Retry("down".into()), 10, 0.5);
        assert_eq!(r.sync_status, SyncStatus::Failed);
        let mut a = rec("a", "patient.create", 1);
        apply_outcome(&mut a, Outcome::NeedsAuth, 10, 0.5);
        assert_eq!(a.sync_status, SyncStatus::NeedsAuth);
        assert!(!resume_after_sign_in(&mut a, "someone-else"));
        assert!(resume_after_sign_in(&mut a, "u"));
        assert_eq!(a.sync_status, SyncStatus::Pending);
    }

    #[test]
    fn conflicts_detect_and_resolve() {
        let mut r = rec("w", "patient.update", 1);
        r.server_timestamp = Some("2026-01-01T00:00:00.000000Z".into());
        assert!(!is_conflict(
            &r,
            &json!({"modified_date": "2026-01-01T00:00:00.000000Z"})
        ));
        let server = json!({"modified_date": "2026-01-02T00:00:00.000000Z", "name": "Server"});
        assert!(is_conflict(&r, &server));
        apply_outcome(&mut r, Outcome::Conflict(server.clone()), 5, 0.5);
        let mut manual = r.clone();
        resolve(&mut manual, Resolution::Manual, None, 6);
        assert_eq!(
            (manual.sync_status, manual.resolution.as_deref()),
            (SyncStatus::Conflict, Some("MANUAL"))
        );
        let mut keep_server = r.clone();
        resolve(&mut keep_server, Resolution::ServerWins, None, 6);
        assert_eq!(keep_server.sync_status, SyncStatus::Success);
        resolve(
            &mut r,
            Resolution::ClientWins,
            Some(json!({"name": "Mine"})),
            6,
        );
        assert_eq!(r.sync_status, SyncStatus::Pending);
        assert_eq!(r.payload, json!({"name": "Mine"}));
        assert_ne!(
            r.idempotency_key(),
            manual.idempotency_key(),
            "the merged write is a new request"
        );
        assert!(
            !is_conflict(&r, &server),
            "now based on the server's version"
        );
    }

    #[test]
    fn an_update_whose_answer_was_lost_is_not_a_conflict_with_itself() {
        let mut r = rec("e", "patient.update", 1);
        r.path_params.insert("patient_id".into(), "p".into());
        r.server_timestamp = Some("t0".into());
        r.payload = json!({"name": "Mine", "geo_organization": "g1"});
        // Its own earlier attempt applied it; someone else's change did not.
        let own = json!({"modified_date": "t1", "name": "Mine", "geo_organization": {"id": "g1"}});
        let other =
            json!({"modified_date": "t1", "name": "Theirs", "geo_organization": {"id": "g1"}});
        assert!(is_conflict(&r, &own));
        // Never sent: whatever the server shows, it is not this write's doing.
        assert!(matches!(
            settle_conflict(&r, own.clone()),
            Outcome::Conflict(_)
        ));
        r.last_attempt_at = Some(2);
        apply_outcome(&mut r, Outcome::Retry("answer lost".into()), 3, 0.5);
        assert_eq!(settle_conflict(&r, own.clone()), Outcome::Success(own));
        assert!(matches!(settle_conflict(&r, other), Outcome::Conflict(_)));
    }

    #[test]
    fn a_second_offline_edit_is_based_on_the_first_once_synced() {
        let mut first = rec("e1", "patient.update", 1);
        first.path_params.insert("patient_id".into(), "p".into());
        first.server_timestamp = Some("t0".into());
        let mut second = first.clone();
        second.id = "e2".into();
        second.parent_mutation_ids = vec!["e1".into()];
        let mut records = vec![first, second];
        assert_eq!(base_timestamp(&records[1], &records).as_deref(), Some("t0"));
        apply_outcome(
            &mut records[0],
            Outcome::Success(json!({"modified_date": "t1"})),
            5,
            0.5,
        );
        assert_eq!(base_timestamp(&records[1], &records).as_deref(), Some("t1"));
        let mut mine = records[1].clone();
        mine.server_timestamp = base_timestamp(&records[1], &records);
        assert!(!is_conflict(&mine, &json!({"modified_date": "t1"})));
    }

    #[test]
    fn three_way_field_diff() {
        let base =
            json!({"name": "A", "address": "x", "pincode": 1, "geo_organization": {"id": "g1"}});
        let mine = json!({"name": "B", "address": "x", "pincode": 2, "geo_organization": "g1"});
        let server =
            json!({"name": "A", "address": "y", "pincode": 3, "geo_organization": {"id": "g1"}});
        let d = diff_fields(&base, &mine, &server);
        let by: HashMap<&str, &FieldDiff> = d.iter().map(|f| (f.field.as_str(), f)).collect();
        assert!(!by["name"].conflicting() && by["name"].auto() == json!("B"));
        assert!(!by["address"].conflicting() && by["address"].auto() == json!("y"));
        assert!(by["pincode"].conflicting());
        assert!(
            !by.contains_key("geo_organization"),
            "same id on both sides"
        );
    }

    #[test]
    fn identifiers_are_compared_per_config_like_fields() {
        let record = |mrn: &str| {
            json!({"instance_identifiers": [{"config": {"id": "phone"}, "value": "+91"}],
                   "facility_identifiers": [{"config": {"id": "mrn"}, "value": mrn}]})
        };
        let mine = json!({"identifiers": [{"config": "mrn", "value": "CDH-2"}]});
        let d = diff_fields(&record("CDH-1"), &mine, &record("CDH-3"));
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].base, json!([{"config": "mrn", "value": "CDH-1"}]));
        assert!(d[0].conflicting(), "both changed the hospital number");
        let unchanged_on_server = diff_fields(&record("CDH-1"), &mine, &record("CDH-1"));
        assert!(!unchanged_on_server[0].conflicting());
        assert_eq!(unchanged_on_server[0].auto(), mine["identifiers"]);
        let same = json!({"identifiers": [{"config": "mrn", "value": "CDH-1"}]});
        assert!(diff_fields(&record("CDH-1"), &same, &record("CDH-1")).is_empty());
        let removed = diff_fields(
            &json!({}),
            &json!({"identifiers": [{"config": "mrn", "value": ""}]}),
            &json!({}),
        );
        assert!(removed.is_empty(), "absent reads as empty");
    }
}
