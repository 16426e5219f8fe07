//! Appointments (care-api.md §8): schedules, lazily materialised slots, bookings with their
//! status changes, reschedule and cancel. Slot wall-times are IST (CARE's `TIME_ZONE`),
//! returned as UTC.

use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    routing::{get, post},
    Json, Router,
};
use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{
    auth::{json_object, AuthUser},
    booking::{booking_json, slot_json},
    db::now_iso,
    error::CareError,
    facility::ensure_member,
    pagination::Page,
    patient,
    users::user_spec,
    validate::{Checker, Field},
    Care,
};

pub fn router() -> Router<Care> {
    Router::new()
        .route(
            "/facility/{fid}/schedule/",
            get(list_schedules).post(create_schedule),
        )
        .route(
            "/facility/{fid}/slots/get_slots_for_day/",
            post(slots_for_day),
        )
        .route(
            "/facility/{fid}/slots/availability_stats/",
            post(availability_stats),
        )
        .route(
            "/facility/{fid}/slots/{slot}/create_appointment/",
            post(create_appointment),
        )
        .route("/facility/{fid}/appointments/", get(list_appointments))
        .route(
            "/facility/{fid}/appointments/available_users/",
            get(available_users),
        )
        .route(
            "/facility/{fid}/appointments/{id}/",
            get(retrieve_appointment).put(update_appointment),
        )
        .route(
            "/facility/{fid}/appointments/{id}/reschedule/",
            post(reschedule),
        )
        .route("/facility/{fid}/appointments/{id}/cancel/", post(cancel))
        .route("/patient/{id}/get_appointments/", get(patient_appointments))
}

pub const BOOKING_STATUSES: &[&str] = &[
    "proposed",
    "pending",
    "booked",
    "arrived",
    "fulfilled",
    "cancelled",
    "noshow",
    "entered_in_error",
    "checked_in",
    "waitlist",
    "in_consultation",
    "rescheduled",
];
/// Statuses that free the slot (CARE's `CANCELLED_STATUS_CHOICES`).
pub const CANCELLED: &[&str] = &["cancelled", "entered_in_error", "rescheduled"];
const RESOURCE_TYPES: &[&str] = &["practitioner", "location", "healthcare_service"];
const SLOT_TYPES: &[&str] = &["appointment", "open", "closed"];
pub const MAX_APPOINTMENTS_PER_PATIENT: i64 = 10;

/// CARE's server time zone, Asia/Kolkata (no DST).
pub fn ist() -> FixedOffset {
    FixedOffset::east_opt(5 * 3600 + 1800).unwrap_or_else(|| Utc.fix())
}

use chrono::Offset;
use chrono::TimeZone;

fn slot_time(dt: &DateTime<Utc>) -> String {
    dt.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn parse_slot_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

fn sql_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(",")
}

// ---------------------------------------------------------------- schedules

/// A schedule's `valid_from`/`valid_to`: naive wall-time (IST) or aware.
fn parse_wall_datetime(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M"))
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })?;
    ist()
        .from_local_datetime(&naive)
        .single()
        .map(|d| d.with_timezone(&Utc))
}

fn parse_time(s: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(s, "%H:%M:%S")
        .or_else(|_| NaiveTime::parse_from_str(s, "%H:%M"))
        .ok()
}

fn schedule_json(conn: &Connection, id: &str) -> Result<Value, CareError> {
    type Row = (
        String,
        String,
        String,
        String,
        Option<String>,
        Option<String>,
    );
    let (id, name, valid_from, valid_to, created_by, updated_by): Row = conn
        .query_row(
            "SELECT id, name, valid_from, valid_to, created_by_id, updated_by_id FROM schedule
             WHERE id = ?1 AND deleted = 0",
            params![id],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            },
        )
        .optional()?
        .ok_or(CareError::NotFound("Schedule"))?;
    type ARow = (
        String,
        String,
        String,
        Option<i64>,
        Option<i64>,
        Option<String>,
        String,
    );
    let availabilities: Vec<ARow> = conn
        .prepare(
            "SELECT id, name, slot_type, slot_size_in_minutes, tokens_per_slot, reason, availability
             FROM availability WHERE schedule_id = ?1 ORDER BY seq",
        )?
        .query_map(params![id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
        })?
        .collect::<Result<_, _>>()?;
    let by = |u: &Option<String>| -> Result<Value, CareError> {
        match u {
            Some(u) => user_spec(conn, u, true),
            None => Ok(Value::Null),
        }
    };
    Ok(json!({
        "id": id,
        "name": name,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "availabilities": availabilities.into_iter().map(|(aid, name, slot_type, size, tokens, reason, avail)| json!({
            "meta": {},
            "id": aid,
            "name": name,
            "slot_type": slot_type,
            "slot_size_in_minutes": size,
            "tokens_per_slot": tokens,
            "create_tokens": false,
            "reason": reason,
            "availability": serde_json::from_str::<Value>(&avail).unwrap_or_else(|_| json!([])),
        })).collect::<Vec<_>>(),
        "charge_item_definition": null,
        "revisit_allowed_days": null,
        "revisit_charge_item_definition": null,
        "created_by": by(&created_by)?,
        "updated_by": by(&updated_by)?,
    }))
}

/// A validated availability: (name, slot_type, size, tokens, reason, [(dow, start, end)]).
type AvailabilityInput = (
    String,
    String,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Value,
);

fn parse_availabilities(c: &mut Checker<'_>) -> Vec<AvailabilityInput> {
    let raw = c.body().get("availabilities").cloned();
    let items = match raw {
        None => {
            c.missing("availabilities");
            return Vec::new();
        }
        Some(Value::Array(items)) => items,
        Some(other) => {
            c.error(
                "list_type",
                &["availabilities"],
                "Input should be a valid list",
                other,
                None,
            );
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let idx = i.to_string();
        let Value::Object(obj) = item else {
            c.error(
                "model_type",
                &["availabilities", &idx],
                "Input should be a valid dictionary or instance of AvailabilityBaseSpec",
                item.clone(),
                Some(json!({"class_name": "AvailabilityBaseSpec"})),
            );
            continue;
        };
        let name = match obj.get("name") {
            Some(Value::String(s)) => Some(s.clone()),
            other => {
                let (kind, msg) = match other {
                    None => ("missing", "Field required"),
                    Some(_) => ("string_type", "Input should be a valid string"),
                };
                c.error(
                    kind,
                    &["availabilities", &idx, "name"],
                    msg,
                    other.cloned().unwrap_or_else(|| item.clone()),
                    None,
                );
                None
            }
        };
        let slot_type = match obj.get("slot_type") {
            Some(v) => c.enum_value(&["availabilities", &idx, "slot_type"], v, SLOT_TYPES),
            None => {
                c.error(
                    "missing",
                    &["availabilities", &idx, "slot_type"],
                    "Field required",
                    item.clone(),
                    None,
                );
                None
            }
        };
        let int_field = |c: &mut Checker<'_>, key: &str| -> Option<i64> {
            match obj.get(key) {
                None | Some(Value::Null) => None,
                Some(v) => c.int_value(&["availabilities", &idx, key], v),
            }
        };
        let size = int_field(c, "slot_size_in_minutes");
        let tokens = int_field(c, "tokens_per_slot");
        let reason = obj
            .get("reason")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(String::from);
        let mut days = Vec::new();
        match obj.get("availability") {
            Some(Value::Array(list)) => {
                for (j, d) in list.iter().enumerate() {
                    let jdx = j.to_string();
                    let path = ["availabilities", idx.as_str(), "availability", jdx.as_str()];
                    let dow = d
                        .get("day_of_week")
                        .and_then(Value::as_i64)
                        .filter(|d| (0..=6).contains(d));
                    let start = d
                        .get("start_time")
                        .and_then(Value::as_str)
                        .and_then(parse_time);
                    let end = d
                        .get("end_time")
                        .and_then(Value::as_str)
                        .and_then(parse_time);
                    match (dow, start, end) {
                        (Some(dow), Some(start), Some(end)) if start < end => days.push(json!({
                            "end_time": end.format("%H:%M:%S").to_string(),
                            "start_time": start.format("%H:%M:%S").to_string(),
                            "day_of_week": dow,
                        })),
                        (Some(_), Some(_), Some(_)) => {
                            c.value_error(&path, "Start time must be earlier than end time", d.clone())
                        }
                        _ => c.value_error(&path, "Invalid availability: day_of_week 0-6, start_time and end_time HH:MM:SS are required", d.clone()),
                    }
                }
            }
            _ => c.error(
                "missing",
                &["availabilities", &idx, "availability"],
                "Field required",
                item.clone(),
                None,
            ),
        }
        if slot_type.as_deref() == Some("appointment")
            && (size.unwrap_or(0) <= 0 || tokens.unwrap_or(0) <= 0)
        {
            c.value_error(
                &["availabilities", &idx],
                "Slot size and tokens per slot must be positive for appointment slots",
                item.clone(),
            );
        }
        if let (Some(name), Some(slot_type)) = (name, slot_type) {
            out.push((name, slot_type, size, tokens, reason, Value::Array(days)));
        }
    }
    out
}

async fn create_schedule(
    State(care): State<Care>,
    user: AuthUser,
    Path(fid): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, CareError> {
    let body = json_object(&body)?;
    care.db
        .with(|conn| {
            ensure_member(conn, &fid, &user)?;
            let mut c = Checker::new(&body);
            let name = c.req_str("name", None);
            let valid_from = c.req_str("valid_from", None);
            let valid_to = c.req_str("valid_to", None);
            let resource_type = match c.opt_enum("resource_type", RESOURCE_TYPES) {
                Field::Set(r) => r,
                _ => "practitioner".to_string(),
            };
            let resource_id = c.req_uuid("resource_id");
            let availabilities = parse_availabilities(&mut c);
            let from = valid_from.as_deref().and_then(parse_wall_datetime);
            let to = valid_to.as_deref().and_then(parse_wall_datetime);
            if valid_from.is_some() && from.is_none() {
                c.value_error(&["valid_from"], "Invalid datetime", json!(valid_from));
            }
            if valid_to.is_some() && to.is_none() {
                c.value_error(&["valid_to"], "Invalid datetime", json!(valid_to));
            }
            if let (Some(f), Some(t)) = (from, to) {
                if f > t {
                    c.value_error(
                        &[],
                        "Valid from cannot be greater than valid to",
                        Value::Object(body.clone()),
                    );
                }
            }
            c.finish()?;
            let (Some(name), Some(valid_from), Some(valid_to), Some(resource_id)) =
                (name, valid_from, valid_to, resource_id)
            else {
                return Err(CareError::Internal("validated fields missing".into()));
            };
            if !user.can("can_write_schedule") {
                return Err(CareError::Forbidden(
                    "You do not have permission to create schedule".into(),
                ));
            }
            let is_member: bool = conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM facility_user WHERE facility_id = ?1 AND user_id = ?2)",
            params![fid, resource_id],
            |r| r.get(0),
        )?;
            if resource_type == "practitioner" && !is_member {
                return Err(CareError::NotFound("User"));
            }
            let id = insert_schedule(
                conn,
                &ScheduleInput {
                    id: uuid::Uuid::new_v4().to_string(),
                    facility_id: fid,
                    name,
                    valid_from,
                    valid_to,
                    resource_type,
                    resource_id,
                    availabilities: availabilities
                        .into_iter()
                        .map(|a| (uuid::Uuid::new_v4().to_string(), a))
                        .collect(),
                },
                &user.id,
            )?;
            Ok(Json(schedule_json(conn, &id)?))
        })
        .await
}

pub struct ScheduleInput {
    pub id: String,
    pub facility_id: String,
    pub name: String,
    pub valid_from: String,
    pub valid_to: String,
    pub resource_type: String,
    pub resource_id: String,
    pub availabilities: Vec<(String, AvailabilityInput)>,
}

/// Writes a schedule with its availabilities (also used by the demo seed).
pub fn insert_schedule(
    conn: &Connection,
    s: &ScheduleInput,
    user_id: &str,
) -> Result<String, CareError> {
    let now = now_iso();
    conn.execute(
        "INSERT INTO schedule (id, facility_id, name, valid_from, valid_to, resource_type, resource_id,
                               created_by_id, updated_by_id, created_date, modified_date)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?9)",
        params![s.id, s.facility_id, s.name, s.valid_from, s.valid_to, s.resource_type, s.resource_id, user_id, now],
    )?;
    for (aid, (name, slot_type, size, tokens, reason, days)) in &s.availabilities {
        conn.execute(
            "INSERT INTO availability (id, schedule_id, name, slot_type, slot_size_in_minutes,
                                       tokens_per_slot, reason, availability)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                aid,
                s.id,
                name,
                slot_type,
                size,
                tokens,
                reason,
                days.to_string()
            ],
        )?;
    }
    Ok(s.id.clone())
}

#[derive(Debug, Deserialize)]
struct ScheduleParams {
    resource_type: Option<String>,
    resource_id: Option<String>,
    #[serde(flatten)]
    page: Page,
}

async fn list_schedules(
    State(care): State<Care>,
    user: AuthUser,
    Path(fid): Path<String>,
    Query(p): Query<ScheduleParams>,
) -> Result<Json<Value>, CareError> {
    care.db
        .with(|conn| {
            ensure_member(conn, &fid, &user)?;
            let ids: Vec<String> = conn
                .prepare(
                    "SELECT id FROM schedule WHERE facility_id = ?1 AND deleted = 0
                 AND (?2 IS NULL OR resource_type = ?2) AND (?3 IS NULL OR resource_id = ?3)
                 ORDER BY created_date DESC",
                )?
                .query_map(params![fid, p.resource_type, p.resource_id], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            let count = ids.len();
            let results = p
                .page
                .slice(ids)
                .iter()
                .map(|id| schedule_json(conn, id))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Json(json!({"count": count, "results": results})))
        })
        .await
}

// ---------------------------------------------------------------- slots

/// One slot a schedule offers on a day (before it is stored).
struct PlannedSlot {
    availability_id: String,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    tokens_per_slot: i64,
}

/// The appointment slots the resource's schedules offer on `day` (IST), in time order.
fn planned_slots(
    conn: &Connection,
    fid: &str,
    resource_type: &str,
    resource_id: &str,
    day: NaiveDate,
) -> Result<Vec<PlannedSlot>, CareError> {
    type Row = (String, String, String, Option<i64>, Option<i64>, String);
    let rows: Vec<Row> = conn
        .prepare(
            "SELECT s.valid_from, s.valid_to, a.id, a.slot_size_in_minutes, a.tokens_per_slot, a.availability
             FROM availability a JOIN schedule s ON s.id = a.schedule_id
             WHERE s.facility_id = ?1 AND s.resource_type = ?2 AND s.resource_id = ?3
               AND s.deleted = 0 AND a.slot_type = 'appointment'
             ORDER BY a.seq",
        )?
        .query_map(params![fid, resource_type, resource_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
        })?
        .collect::<Result<_, _>>()?;
    let dow = i64::from(day.weekday().num_days_from_monday());
    let mut out = Vec::new();
    for (from, to, aid, size, tokens, avail) in rows {
        let (Some(from), Some(to)) = (parse_wall_datetime(&from), parse_wall_datetime(&to)) else {
            continue;
        };
        let from_day = from.with_timezone(&ist()).date_naive();
        let to_day = to.with_timezone(&ist()).date_naive();
        if day < from_day || day > to_day {
            continue;
        }
        let (Some(size), Some(tokens)) = (size.filter(|s| *s > 0), tokens) else {
            continue;
        };
        let days: Value = serde_json::from_str(&avail).unwrap_or_else(|_| json!([]));
        for d in days.as_array().into_iter().flatten() {
            if d["day_of_week"].as_i64() != Some(dow) {
                continue;
            }
            let (Some(start), Some(end)) = (
                d["start_time"].as_str().and_then(parse_time),
                d["end_time"].as_str().and_then(parse_time),
            ) else {
                continue;
            };
            let mut t = day.and_time(start);
            let end = day.and_time(end);
            while t + Duration::minutes(size) <= end {
                let next = t + Duration::minutes(size);
                if let (Some(s), Some(e)) = (
                    ist().from_local_datetime(&t).single(),
                    ist().from_local_datetime(&next).single(),
                ) {
                    out.push(PlannedSlot {
                        availability_id: aid.clone(),
                        start: s.with_timezone(&Utc),
                        end: e.with_timezone(&Utc),
                        tokens_per_slot: tokens,
                    });
                }
                t = next;
            }
        }
    }
    out.sort_by_key(|s| s.start);
    Ok(out)
}

/// The body shared by the slot endpoints: resource_type, resource_id.
fn resource_args(c: &mut Checker<'_>) -> (Option<String>, Option<String>) {
    let resource_type = match c.opt_enum("resource_type", RESOURCE_TYPES) {
        Field::Set(r) => Some(r),
        Field::Absent if c.has_errors() => None,
        _ => Some("practitioner".to_string()),
    };
    (resource_type, c.req_uuid("resource_id"))
}

fn req_date(c: &mut Checker<'_>, field: &str) -> Option<NaiveDate> {
    if !c.body().contains_key(field) {
        c.missing(field);
        return None;
    }
    c.opt_date(field).value()
}

/// Stores the day's slots that are not stored yet (past ones are not created) and returns the
/// ids of the day's stored slots in time order.
pub fn materialise_day(
    conn: &Connection,
    fid: &str,
    resource_type: &str,
    resource_id: &str,
    day: NaiveDate,
) -> Result<Vec<String>, CareError> {
    let now = Utc::now();
    let mut ids = Vec::new();
    for slot in planned_slots(conn, fid, resource_type, resource_id, day)? {
        let start = slot_time(&slot.start);
        let existing: Option<String> = conn
            .query_row(
                "SELECT id FROM token_slot WHERE availability_id = ?1 AND start_datetime = ?2",
                params![slot.availability_id, start],
                |r| r.get(0),
            )
            .optional()?;
        match existing {
            Some(id) => ids.push(id),
            None if slot.start < now => {}
            None => {
                let id = uuid::Uuid::new_v4().to_string();
                conn.execute(
                    "INSERT INTO token_slot (id, availability_id, facility_id, resource_type, resource_id,
                                             start_datetime, end_datetime, allocated)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0)",
                    params![id, slot.availability_id, fid, resource_type, resource_id, start, slot_time(&slot.end)],
                )?;
                ids.push(id);
            }
        }
    }
    Ok(ids)
}

async fn slots_for_day(
    State(care): State<Care>,
    user: AuthUser,
    Path(fid): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, CareError> {
    let body = json_object(&body)?;
    let mut c = Checker::new(&body);
    let (resource_type, resource_id) = resource_args(&mut c);
    let day = req_date(&mut c, "day");
    c.finish()?;
    let (Some(resource_type), Some(resource_id), Some(day)) = (resource_type, resource_id, day)
    else {
        return Err(CareError::Internal("validated fields missing".into()));
    };
    care.db
        .with(|conn| {
            ensure_member(conn, &fid, &user)?;
            let tx = conn.savepoint()?;
            let ids = materialise_day(&tx, &fid, &resource_type, &resource_id, day)?;
            tx.commit()?;
            let results = ids
                .iter()
                .map(|id| slot_json(conn, id))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Json(json!({ "results": results })))
        })
        .await
}

async fn availability_stats(
    State(care): State<Care>,
    user: AuthUser,
    Path(fid): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, CareError> {
    let body = json_object(&body)?;
    let mut c = Checker::new(&body);
    let from = req_date(&mut c, "from_date");
    let to = req_date(&mut c, "to_date");
    let (resource_type, resource_id) = resource_args(&mut c);
    if let (Some(f), Some(t)) = (from, to) {
        if t < f {
            c.value_error(
                &[],
                "From Date cannot be after To Date",
                Value::Object(body.clone()),
            );
        } else if (t - f).num_days() > 32 {
            c.value_error(
                &[],
                "Period cannot be be more than 32 days",
                Value::Object(body.clone()),
            );
        }
    }
    c.finish()?;
    let (Some(from), Some(to), Some(resource_type), Some(resource_id)) =
        (from, to, resource_type, resource_id)
    else {
        return Err(CareError::Internal("validated fields missing".into()));
    };
    care.db.with(|conn| {
        ensure_member(conn, &fid, &user)?;
        let mut out = serde_json::Map::new();
        let mut day = from;
        while day <= to {
            let slots = planned_slots(conn, &fid, &resource_type, &resource_id, day)?;
            let total: i64 = slots.iter().map(|s| s.tokens_per_slot).sum();
            let mut booked = 0i64;
            for s in &slots {
                let allocated: Option<i64> = conn
                    .query_row(
                        "SELECT allocated FROM token_slot WHERE availability_id = ?1 AND start_datetime = ?2",
                        params![s.availability_id, slot_time(&s.start)],
                        |r| r.get(0),
                    )
                    .optional()?;
                booked += allocated.unwrap_or(0);
            }
            out.insert(
                day.to_string(),
                json!({"total_slots": total, "booked_slots": booked}),
            );
            match day.succ_opt() {
                Some(next) => day = next,
                None => break,
            }
        }
        Ok(Json(Value::Object(out)))
    }).await
}

// ---------------------------------------------------------------- bookings

/// Books `patient` into `slot` (CARE's checks, in CARE's order) and returns the booking id.
pub fn book(
    conn: &Connection,
    slot: &str,
    patient_id: &str,
    note: &str,
    user_id: &str,
) -> Result<String, CareError> {
    let (start, allocated, tokens): (String, i64, Option<i64>) = conn
        .query_row(
            "SELECT t.start_datetime, t.allocated, a.tokens_per_slot FROM token_slot t
             JOIN availability a ON a.id = t.availability_id WHERE t.id = ?1",
            params![slot],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?
        .ok_or(CareError::NotFound("TokenSlot"))?;
    patient::load(conn, patient_id)?;
    if parse_slot_time(&start).is_some_and(|s| s < Utc::now()) {
        return Err(CareError::Validation("Slot is already past".into()));
    }
    if allocated >= tokens.unwrap_or(0) {
        return Err(CareError::Validation("Slot is already full".into()));
    }
    let cancelled = sql_list(CANCELLED);
    let duplicate: bool = conn.query_row(
        &format!(
            "SELECT EXISTS(SELECT 1 FROM token_booking WHERE token_slot_id = ?1 AND patient_id = ?2
             AND status NOT IN ({cancelled}))"
        ),
        params![slot, patient_id],
        |r| r.get(0),
    )?;
    if duplicate {
        return Err(CareError::Validation(
            "Patient already has a booking for this slot".into(),
        ));
    }
    let future: i64 = conn.query_row(
        &format!(
            "SELECT COUNT(*) FROM token_booking b JOIN token_slot t ON t.id = b.token_slot_id
             WHERE b.patient_id = ?1 AND b.status NOT IN ({cancelled}) AND t.start_datetime >= ?2"
        ),
        params![patient_id, slot_time(&Utc::now())],
        |r| r.get(0),
    )?;
    if future >= MAX_APPOINTMENTS_PER_PATIENT {
        return Err(CareError::Validation(format!(
            "Patient already has maximum number of appointments ({MAX_APPOINTMENTS_PER_PATIENT})"
        )));
    }
    let id = uuid::Uuid::new_v4().to_string();
    let now = now_iso();
    conn.execute(
        "INSERT INTO token_booking (id, token_slot_id, patient_id, booked_on, booked_by_id, status, note,
                                    created_by_id, updated_by_id, created_date, modified_date)
         VALUES (?1, ?2, ?3, ?4, ?5, 'booked', ?6, ?5, ?5, ?4, ?4)",
        params![id, slot, patient_id, now, user_id, note],
    )?;
    conn.execute(
        "UPDATE token_slot SET allocated = allocated + 1 WHERE id = ?1",
        params![slot],
    )?;
    Ok(id)
}

fn require_write(user: &AuthUser) -> Result<(), CareError> {
    if user.can("can_write_booking") {
        Ok(())
    } else {
        Err(CareError::Forbidden(
            "You do not have permission to update bookings".into(),
        ))
    }
}

async fn create_appointment(
    State(care): State<Care>,
    user: AuthUser,
    Path((fid, slot)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, CareError> {
    let body = json_object(&body)?;
    let mut c = Checker::new(&body);
    let patient_id = c.req_uuid("patient");
    let note = c.req_str("note", None);
    let _tags = c.uuid_list("tags");
    c.finish()?;
    let (Some(patient_id), Some(note)) = (patient_id, note) else {
        return Err(CareError::Internal("validated fields missing".into()));
    };
    care.db
        .with(|conn| {
            ensure_member(conn, &fid, &user)?;
            require_write(&user)?;
            let in_facility: bool = conn.query_row(
                "SELECT EXISTS(SELECT 1 FROM token_slot WHERE id = ?1 AND facility_id = ?2)",
                params![slot, fid],
                |r| r.get(0),
            )?;
            if !in_facility {
                return Err(CareError::NotFound("TokenSlot"));
            }
            let tx = conn.savepoint()?;
            let id = book(&tx, &slot, &patient_id, &note, &user.id)?;
            tx.commit()?;
            Ok(Json(booking_json(conn, &id)?))
        })
        .await
}

/// The booking, which must belong to the facility.
fn load_booking(conn: &Connection, fid: &str, id: &str) -> Result<(String, String), CareError> {
    conn.query_row(
        "SELECT b.status, b.token_slot_id FROM token_booking b JOIN token_slot t ON t.id = b.token_slot_id
         WHERE b.id = ?1 AND t.facility_id = ?2",
        params![id, fid],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()?
    .ok_or(CareError::NotFound("TokenBooking"))
}

async fn retrieve_appointment(
    State(care): State<Care>,
    user: AuthUser,
    Path((fid, id)): Path<(String, String)>,
) -> Result<Json<Value>, CareError> {
    care.db
        .with(|conn| {
            ensure_member(conn, &fid, &user)?;
            load_booking(conn, &fid, &id)?;
            Ok(Json(booking_retrieve_json(conn, &id)?))
        })
        .await
}

async fn update_appointment(
    State(care): State<Care>,
    user: AuthUser,
    Path((fid, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, CareError> {
    let body = json_object(&body)?;
    let mut c = Checker::new(&body);
    let status = c.req_enum("status", BOOKING_STATUSES);
    let note = c.req_str("note", None);
    c.finish()?;
    let (Some(status), Some(note)) = (status, note) else {
        return Err(CareError::Internal("validated fields missing".into()));
    };
    care.db.with(|conn| {
        ensure_member(conn, &fid, &user)?;
        load_booking(conn, &fid, &id)?;
        if CANCELLED.contains(&status.as_str()) {
            return Err(CareError::Validation("Cannot cancel a booking. Use the cancel endpoint".into()));
        }
        require_write(&user)?;
        conn.execute(
            "UPDATE token_booking SET status = ?1, note = ?2, updated_by_id = ?3, modified_date = ?4 WHERE id = ?5",
            params![status, note, user.id, now_iso(), id],
        )?;
        Ok(Json(booking_retrieve_json(conn, &id)?))
    }).await
}

/// Cancels (or marks rescheduled / entered in error) and frees the slot.
fn release(
    conn: &Connection,
    id: &str,
    slot: &str,
    status: &str,
    note: Option<&str>,
    user_id: &str,
) -> Result<(), CareError> {
    conn.execute(
        "UPDATE token_booking SET status = ?1, note = COALESCE(?2, note), updated_by_id = ?3, modified_date = ?4
         WHERE id = ?5",
        params![status, note, user_id, now_iso(), id],
    )?;
    conn.execute(
        "UPDATE token_slot SET allocated = MAX(allocated - 1, 0) WHERE id = ?1",
        params![slot],
    )?;
    Ok(())
}

async fn cancel(
    State(care): State<Care>,
    user: AuthUser,
    Path((fid, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, CareError> {
    let body = json_object(&body)?;
    let mut c = Checker::new(&body);
    let reason = c.req_enum("reason", CANCELLED);
    let note = c.opt_str("note", None).value();
    c.finish()?;
    let Some(reason) = reason else {
        return Err(CareError::Internal("validated fields missing".into()));
    };
    care.db
        .with(|conn| {
            ensure_member(conn, &fid, &user)?;
            let (status, slot) = load_booking(conn, &fid, &id)?;
            require_write(&user)?;
            if status == "in_consultation" {
                return Err(CareError::Validation(
                    "Cannot cancel a booking that is in consultation".into(),
                ));
            }
            if CANCELLED.contains(&status.as_str()) {
                return Err(CareError::Validation("Booking is already cancelled".into()));
            }
            release(conn, &id, &slot, &reason, note.as_deref(), &user.id)?;
            Ok(Json(booking_json(conn, &id)?))
        })
        .await
}

async fn reschedule(
    State(care): State<Care>,
    user: AuthUser,
    Path((fid, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, CareError> {
    let body = json_object(&body)?;
    let mut c = Checker::new(&body);
    let new_slot = c.req_uuid("new_slot");
    let new_note = c.req_str("new_booking_note", None);
    let previous_note = c.opt_str("previous_booking_note", None).value();
    let _tags = c.uuid_list("tags");
    c.finish()?;
    let (Some(new_slot), Some(new_note)) = (new_slot, new_note) else {
        return Err(CareError::Internal("validated fields missing".into()));
    };
    care.db
        .with(|conn| {
            ensure_member(conn, &fid, &user)?;
            let (status, slot) = load_booking(conn, &fid, &id)?;
            if !user.can("can_reschedule_booking") {
                return Err(CareError::Forbidden(
                    "You do not have permission to reschedule bookings".into(),
                ));
            }
            if CANCELLED.contains(&status.as_str())
                || status == "in_consultation"
                || status == "fulfilled"
            {
                return Err(CareError::Validation(
                    "Cannot reschedule this booking".into(),
                ));
            }
            let patient_id: String = conn.query_row(
                "SELECT patient_id FROM token_booking WHERE id = ?1",
                params![id],
                |r| r.get(0),
            )?;
            let in_facility: bool = conn.query_row(
                "SELECT EXISTS(SELECT 1 FROM token_slot WHERE id = ?1 AND facility_id = ?2)",
                params![new_slot, fid],
                |r| r.get(0),
            )?;
            if !in_facility {
                return Err(CareError::NotFound("TokenSlot"));
            }
            let tx = conn.savepoint()?;
            release(
                &tx,
                &id,
                &slot,
                "rescheduled",
                previous_note.as_deref(),
                &user.id,
            )?;
            let new_id = book(&tx, &new_slot, &patient_id, &new_note, &user.id)?;
            tx.commit()?;
            Ok(Json(booking_json(conn, &new_id)?))
        })
        .await
}

#[derive(Debug, Deserialize)]
struct BookingParams {
    resource_type: Option<String>,
    resource_ids: Option<String>,
    status: Option<String>,
    date_after: Option<String>,
    date_before: Option<String>,
    slot: Option<String>,
    patient: Option<String>,
    ordering: Option<String>,
    #[allow(dead_code)]
    organization_ids: Option<String>,
    #[serde(flatten)]
    page: Page,
}

/// Filtered, ordered, paginated bookings (`fid`/`patient_scope` narrow the set).
fn booking_page(
    conn: &Connection,
    fid: Option<&str>,
    patient_scope: Option<&str>,
    p: &BookingParams,
) -> Result<Value, CareError> {
    let mut filter = String::from(" WHERE 1=1");
    let mut args: Vec<String> = Vec::new();
    let nonempty = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
    let add = |filter: &mut String, args: &mut Vec<String>, sql: &str, v: String| {
        args.push(v);
        *filter += &sql.replace("?#", &format!("?{}", args.len()));
    };
    if let Some(f) = fid {
        add(
            &mut filter,
            &mut args,
            " AND t.facility_id = ?#",
            f.to_string(),
        );
    }
    if let Some(pid) = patient_scope
        .map(String::from)
        .or_else(|| nonempty(&p.patient))
    {
        add(&mut filter, &mut args, " AND b.patient_id = ?#", pid);
    }
    if let Some(rt) = nonempty(&p.resource_type) {
        add(&mut filter, &mut args, " AND t.resource_type = ?#", rt);
    }
    for (column, list) in [
        ("t.resource_id", nonempty(&p.resource_ids)),
        ("b.status", nonempty(&p.status)),
    ] {
        if let Some(list) = list {
            let mut marks = Vec::new();
            for item in list.split(',').filter(|s| !s.is_empty()) {
                args.push(item.to_string());
                marks.push(format!("?{}", args.len()));
            }
            if !marks.is_empty() {
                filter += &format!(" AND {column} IN ({})", marks.join(","));
            }
        }
    }
    if let Some(slot) = nonempty(&p.slot) {
        add(&mut filter, &mut args, " AND b.token_slot_id = ?#", slot);
    }
    // Dates are IST calendar days of the slot start.
    let day_start = |d: &str, plus: i64| -> Option<String> {
        let day = NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()? + Duration::days(plus);
        let local = ist()
            .from_local_datetime(&day.and_hms_opt(0, 0, 0)?)
            .single()?;
        Some(slot_time(&local.with_timezone(&Utc)))
    };
    if let Some(after) = nonempty(&p.date_after).and_then(|d| day_start(&d, 0)) {
        add(&mut filter, &mut args, " AND t.start_datetime >= ?#", after);
    }
    if let Some(before) = nonempty(&p.date_before).and_then(|d| day_start(&d, 1)) {
        add(&mut filter, &mut args, " AND t.start_datetime < ?#", before);
    }
    let order = match p.ordering.as_deref() {
        Some("token_slot__start_datetime") => "t.start_datetime ASC, b.seq ASC",
        Some("-token_slot__start_datetime") => "t.start_datetime DESC, b.seq DESC",
        Some("created_date") => "b.created_date ASC, b.seq ASC",
        _ => "b.created_date DESC, b.seq DESC",
    };
    let from = " FROM token_booking b JOIN token_slot t ON t.id = b.token_slot_id";
    let count: i64 = conn.query_row(
        &format!("SELECT COUNT(*){from}{filter}"),
        rusqlite::params_from_iter(args.iter()),
        |r| r.get(0),
    )?;
    let ids: Vec<String> = conn
        .prepare(&format!(
            "SELECT b.id{from}{filter} ORDER BY {order} LIMIT {} OFFSET {}",
            p.page.limit(),
            p.page.offset()
        ))?
        .query_map(rusqlite::params_from_iter(args.iter()), |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let results = ids
        .iter()
        .map(|id| booking_json(conn, id))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(json!({"count": count, "results": results}))
}

async fn list_appointments(
    State(care): State<Care>,
    user: AuthUser,
    Path(fid): Path<String>,
    Query(p): Query<BookingParams>,
) -> Result<Json<Value>, CareError> {
    if p.resource_type.as_deref().is_none_or(str::is_empty) {
        return Err(CareError::Validation("Resource Type is required".into()));
    }
    care.db
        .with(|conn| {
            ensure_member(conn, &fid, &user)?;
            Ok(Json(booking_page(conn, Some(&fid), None, &p)?))
        })
        .await
}

async fn patient_appointments(
    State(care): State<Care>,
    user: AuthUser,
    Path(id): Path<String>,
    Query(mut p): Query<BookingParams>,
) -> Result<Json<Value>, CareError> {
    care.db
        .with(|conn| {
            patient::load_visible(conn, &user, &id)?;
            p.patient = None;
            Ok(Json(booking_page(conn, None, Some(&id), &p)?))
        })
        .await
}

async fn available_users(
    State(care): State<Care>,
    user: AuthUser,
    Path(fid): Path<String>,
) -> Result<Json<Value>, CareError> {
    care.db.with(|conn| {
        ensure_member(conn, &fid, &user)?;
        let ids: Vec<String> = conn
            .prepare(
                "SELECT u.id FROM user u JOIN facility_user fu ON fu.user_id = u.id
                 WHERE fu.facility_id = ?1 AND u.deleted = 0 AND EXISTS(
                   SELECT 1 FROM schedule s WHERE s.facility_id = ?1 AND s.resource_type = 'practitioner'
                   AND s.resource_id = u.id AND s.deleted = 0)
                 ORDER BY u.username",
            )?
            .query_map(params![fid], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let users = ids
            .iter()
            .map(|u| user_spec(conn, u, false))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Json(json!({ "users": users })))
    }).await
}

/// A booking as its retrieve answers it: with the encounter it led to (`{}` when none).
fn booking_retrieve_json(conn: &Connection, id: &str) -> Result<Value, CareError> {
    let mut out = booking_json(conn, id)?;
    out["associated_encounter"] = super::encounter::for_appointment(conn, id)?;
    Ok(out)
}
