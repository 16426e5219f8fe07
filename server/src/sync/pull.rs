//! `GET /api/v1/sync/pull?facility=<id>&since=<checkpoint>&limit=<n>&deviceId=<id>`: what
//! changed since a checkpoint among the patients, encounters and appointments of a facility
//! the caller belongs to, so a reconnecting device refreshes its cache in one call (or a few).
//!
//! Answer:
//!
//! ```json
//! { "facility": "<id>", "since": "<as given>" | null,
//!   "patients":     [PatientList, …],        // oldest change first
//!   "encounters":   [EncounterList, …],
//!   "appointments": [TokenBookingRead, …],
//!   "checkpoint": "<opaque>",                // pass as `since` next time
//!   "hasMore": false,                        // true: call again with the new checkpoint now
//!   "serverTime": "2026-…Z" }
//! ```
//!
//! `since` is absent (everything), an RFC 3339 timestamp (changes after it), or a checkpoint
//! from an earlier pull. Each resource type advances on its own `(modified_date, id)` cursor
//! and returns at most `limit` (default 100, at most 500) records per call. Records are CARE's
//! list shapes. Deleted records are not reported (CARE's lists do not show them).
//!
//! Built-in backend: its tables are read directly by `modified_date`. A patient belongs to
//! the facility when it has an encounter or an appointment there, or was registered by one
//! of its members. Real CARE: its list endpoints are walked newest first
//! (`ordering=-modified_date`, care-api.md §5/§6; order is verified, not trusted) until the
//! cursor: `/patient/` (CARE scopes it to what the user may see), `/encounter/?facility=`,
//! and `/facility/{id}/appointments/?resource_type=practitioner&resource_ids=<its
//! practitioners>`. At most [`MAX_SCAN`] records per type are walked in one call; beyond
//! that the answer is 422 `too_many_changes` (pull from a later timestamp, or refetch lists).

use axum::{
    extract::State,
    http::{HeaderMap, Method, StatusCode, Uri},
    Json,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use rusqlite::params;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{audit::Entry, authz::Caller, error::SyncError, query, SyncApi};
use care_mimic::{booking, encounter, patient, CareError};

pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 500;
/// Most records walked per type on a real CARE in one pull.
pub const MAX_SCAN: usize = 20_000;
const PAGE: usize = 200;

/// Where a type's changes were read up to: the last record's `(modified_date, id)`.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Cursor(pub String, pub String);

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub v: u8,
    pub patient: Cursor,
    pub encounter: Cursor,
    pub appointment: Cursor,
}

impl Checkpoint {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    /// A checkpoint token, an RFC 3339 timestamp, or nothing (from the beginning).
    pub fn parse(since: Option<&str>) -> Result<Self, SyncError> {
        let Some(raw) = since.map(str::trim).filter(|s| !s.is_empty()) else {
            return Ok(Self {
                v: 1,
                ..Self::default()
            });
        };
        if let Ok(ts) = chrono::DateTime::parse_from_rfc3339(raw) {
            let at = care_mimic::db::to_care_datetime(&ts);
            // Normalised to CARE's six decimals so it compares with stored dates as text.
            let at = chrono::DateTime::parse_from_rfc3339(&at)
                .map(|d| {
                    d.with_timezone(&chrono::Utc)
                        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
                        .to_string()
                })
                .unwrap_or(at);
            let c = Cursor(at, String::new());
            return Ok(Self {
                v: 1,
                patient: c.clone(),
                encounter: c.clone(),
                appointment: c,
            });
        }
        URL_SAFE_NO_PAD
            .decode(raw)
            .ok()
            .and_then(|b| serde_json::from_slice::<Checkpoint>(&b).ok())
            .filter(|c| c.v == 1)
            .ok_or_else(|| {
                SyncError::bad(
                    "invalid_since",
                    "since must be a checkpoint from an earlier pull or an RFC 3339 timestamp.",
                )
            })
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PullQuery {
    facility: Option<String>,
    since: Option<String>,
    limit: Option<String>,
    device_id: Option<String>,
}

/// One type's page: records oldest first, the advanced cursor, whether more remain.
struct Page {
    records: Vec<Value>,
    cursor: Cursor,
    more: bool,
}

fn page_of(mut found: Vec<(Cursor, Value)>, from: &Cursor, limit: usize) -> Page {
    found.sort_by(|a, b| a.0.cmp(&b.0));
    let more = found.len() > limit;
    found.truncate(limit);
    let cursor = found.last().map(|(c, _)| c.clone()).unwrap_or(from.clone());
    Page {
        records: found.into_iter().map(|(_, v)| v).collect(),
        cursor,
        more,
    }
}

pub async fn pull(
    State(sync): State<SyncApi>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Json<Value>, SyncError> {
    let q: PullQuery = query(&uri)?;
    let facility = q
        .facility
        .clone()
        .filter(|f| uuid::Uuid::parse_str(f).is_ok())
        .ok_or_else(|| {
            SyncError::bad("invalid_facility", "facility must be a facility id (UUID).")
        })?;
    let limit = match q.limit.as_deref() {
        None | Some("") => DEFAULT_LIMIT,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                SyncError::bad("invalid_limit", format!("limit must be 1 to {MAX_LIMIT}."))
            })?,
    };
    let device = match q.device_id.as_deref() {
        None | Some("") => None,
        Some(d) if super::apply::valid_id(d) => Some(d.to_string()),
        Some(_) => {
            return Err(SyncError::bad(
                "invalid_device",
                "deviceId is not a valid id.",
            ))
        }
    };
    let from = Checkpoint::parse(q.since.as_deref())?;
    let caller = sync.caller(&headers).await?;
    if !caller.facilities.contains(&facility) && !caller.global_admin {
        return Err(SyncError::Forbidden(
            "You are not a member of this facility.".into(),
        ));
    }
    let (patients, encounters, appointments) = match &sync.care {
        Some(care) => built_in(care, &facility, &from, limit).await?,
        None => upstream(&sync, &caller, &facility, &from, limit).await?,
    };
    let next = Checkpoint {
        v: 1,
        patient: patients.cursor.clone(),
        encounter: encounters.cursor.clone(),
        appointment: appointments.cursor.clone(),
    };
    sync.audit
        .log(&Entry {
            user_id: caller.id.clone(),
            username: caller.username.clone(),
            device_id: device,
            kind: "pull",
            route: Some(format!("/api/v1/sync/pull/{facility}")),
            resource_id: Some(facility.clone()),
            outcome: "ok",
            http_status: Some(200),
            detail: Some(format!(
                "patients:{},encounters:{},appointments:{}",
                patients.records.len(),
                encounters.records.len(),
                appointments.records.len()
            )),
            ..Entry::default()
        })
        .await;
    Ok(Json(json!({
        "facility": facility,
        "since": q.since,
        "patients": patients.records,
        "encounters": encounters.records,
        "appointments": appointments.records,
        "checkpoint": next.encode(),
        "hasMore": patients.more || encounters.more || appointments.more,
        "serverTime": care_mimic::db::now_iso(),
    })))
}

const AFTER: &str = "(x.modified_date > ?1 OR (x.modified_date = ?1 AND x.id > ?2))";

async fn built_in(
    care: &care_mimic::Care,
    facility: &str,
    from: &Checkpoint,
    limit: usize,
) -> Result<(Page, Page, Page), SyncError> {
    let n = (limit + 1) as i64;
    let care_err = |e: CareError| SyncError::Backend {
        status: StatusCode::BAD_GATEWAY,
        detail: format!("The built-in backend could not be read: {e}"),
    };
    care.db
        .with(|conn| {
            let ids = |sql: &str, c: &Cursor| -> Result<Vec<(Cursor, String)>, CareError> {
                let rows = conn
                    .prepare(sql)?
                    .query_map(params![c.0, c.1, facility, n], |r| {
                        Ok((Cursor(r.get(0)?, r.get(1)?), r.get::<_, String>(1)?))
                    })?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(rows)
            };
            let p = ids(
                &format!(
                    "SELECT x.modified_date, x.id FROM patient x WHERE x.deleted = 0 AND {AFTER}
                     AND (EXISTS (SELECT 1 FROM encounter e WHERE e.patient_id = x.id AND e.facility_id = ?3)
                       OR EXISTS (SELECT 1 FROM token_booking b JOIN token_slot t ON t.id = b.token_slot_id
                                  WHERE b.patient_id = x.id AND t.facility_id = ?3)
                       OR EXISTS (SELECT 1 FROM facility_user fu WHERE fu.user_id = x.created_by_id
                                  AND fu.facility_id = ?3))
                     ORDER BY x.modified_date, x.id LIMIT ?4"
                ),
                &from.patient,
            )?;
            let e = ids(
                &format!(
                    "SELECT x.modified_date, x.id FROM encounter x WHERE x.deleted = 0 AND {AFTER}
                     AND x.facility_id = ?3 ORDER BY x.modified_date, x.id LIMIT ?4"
                ),
                &from.encounter,
            )?;
            let a = ids(
                &format!(
                    "SELECT x.modified_date, x.id FROM token_booking x
                     JOIN token_slot t ON t.id = x.token_slot_id WHERE {AFTER}
                     AND t.facility_id = ?3 ORDER BY x.modified_date, x.id LIMIT ?4"
                ),
                &from.appointment,
            )?;
            let render = |rows: Vec<(Cursor, String)>,
                          f: &dyn Fn(&str) -> Result<Value, CareError>|
             -> Result<Vec<(Cursor, Value)>, CareError> {
                rows.into_iter()
                    .map(|(c, id)| Ok((c, f(&id)?)))
                    .collect()
            };
            let patients = render(p, &|id| Ok(patient::list_json(&patient::load(conn, id)?)))?;
            let encounters = render(e, &|id| encounter::list_json_by_id(conn, id))?;
            let appointments = render(a, &|id| booking::booking_json(conn, id))?;
            Ok((
                page_of(patients, &from.patient, limit),
                page_of(encounters, &from.encounter, limit),
                page_of(appointments, &from.appointment, limit),
            ))
        })
        .await
        .map_err(care_err)
}

/// The `(modified_date, id)` of a listed record.
fn cursor_of(v: &Value) -> Option<Cursor> {
    Some(Cursor(
        v["modified_date"].as_str()?.to_string(),
        v["id"].as_str()?.to_string(),
    ))
}

/// Walks a CARE list newest first, keeping records after `from`.
async fn walk(
    sync: &SyncApi,
    caller: &Caller,
    list: &str,
    from: &Cursor,
) -> Result<Vec<(Cursor, Value)>, SyncError> {
    let sep = if list.contains('?') { '&' } else { '?' };
    let mut found = Vec::new();
    let mut offset = 0;
    let mut previous: Option<Cursor> = None;
    let mut ordered = true;
    loop {
        let reply = sync
            .backend
            .send(
                Method::GET,
                &format!("{list}{sep}ordering=-modified_date&limit={PAGE}&offset={offset}"),
                &caller.auth,
                None,
                None,
            )
            .await;
        if reply.unreachable || reply.status.is_server_error() {
            return Err(SyncError::Backend {
                status: StatusCode::BAD_GATEWAY,
                detail: "CARE could not list the changes.".into(),
            });
        }
        if !reply.ok() {
            return Err(SyncError::Care(reply.status, reply.body));
        }
        let results = reply.body["results"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let n = results.len();
        for r in results {
            let Some(c) = cursor_of(&r) else { continue };
            if previous.as_ref().is_some_and(|p| c.0 > p.0) {
                ordered = false;
            }
            if c > *from {
                found.push((c.clone(), r));
            }
            previous = Some(c);
        }
        offset += n;
        let reached = ordered && previous.as_ref().is_some_and(|p| p <= from);
        if n < PAGE || reached {
            break;
        }
        if offset >= MAX_SCAN {
            return Err(SyncError::BadRequest {
                code: "too_many_changes",
                detail: format!(
                    "More than {MAX_SCAN} records to walk; pull from a later timestamp."
                ),
                fields: Vec::new(),
            });
        }
    }
    Ok(found)
}

async fn upstream(
    sync: &SyncApi,
    caller: &Caller,
    facility: &str,
    from: &Checkpoint,
    limit: usize,
) -> Result<(Page, Page, Page), SyncError> {
    let patients = walk(sync, caller, "/patient/", &from.patient).await?;
    let encounters = walk(
        sync,
        caller,
        &format!("/encounter/?facility={facility}"),
        &from.encounter,
    )
    .await?;
    let users = sync
        .backend
        .send(
            Method::GET,
            &format!("/facility/{facility}/appointments/available_users/"),
            &caller.auth,
            None,
            None,
        )
        .await;
    let practitioners: Vec<String> = users.body["users"]
        .as_array()
        .map(|u| {
            u.iter()
                .filter_map(|x| x["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let appointments = if users.ok() && !practitioners.is_empty() {
        walk(
            sync,
            caller,
            &format!(
                "/facility/{facility}/appointments/?resource_type=practitioner&resource_ids={}",
                practitioners.join(",")
            ),
            &from.appointment,
        )
        .await?
    } else {
        Vec::new()
    };
    Ok((
        page_of(patients, &from.patient, limit),
        page_of(encounters, &from.encounter, limit),
        page_of(appointments, &from.appointment, limit),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoints_round_trip_and_reject_garbage() {
        let c = Checkpoint {
            v: 1,
            patient: Cursor("2026-01-01T00:00:00.000001Z".into(), "p".into()),
            ..Checkpoint::default()
        };
        assert_eq!(Checkpoint::parse(Some(&c.encode())).expect("token"), c);
        let ts = Checkpoint::parse(Some("2026-01-01T05:30:00+05:30")).expect("ts");
        assert_eq!(ts.encounter.0, "2026-01-01T00:00:00.000000Z");
        assert!(Checkpoint::parse(Some("not-a-checkpoint")).is_err());
        assert_eq!(
            Checkpoint::parse(None).expect("none").patient,
            Cursor::default()
        );
    }

    #[test]
    fn pages_are_oldest_first_and_advance_the_cursor() {
        let from = Cursor("a".into(), "".into());
        let found = vec![
            (Cursor("c".into(), "2".into()), json!(3)),
            (Cursor("b".into(), "9".into()), json!(1)),
            (Cursor("c".into(), "1".into()), json!(2)),
        ];
        let page = page_of(found, &from, 2);
        assert_eq!(page.records, vec![json!(1), json!(2)]);
        assert_eq!(page.cursor, Cursor("c".into(), "1".into()));
        assert!(page.more);
        let empty = page_of(Vec::new(), &from, 2);
        assert_eq!(empty.cursor, from);
        assert!(!empty.more);
    }
}
