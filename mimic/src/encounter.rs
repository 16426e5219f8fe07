//! Encounters (care-api.md §6): create, list (by patient or facility), retrieve, update with
//! status history, and the encounter's facility organizations.

use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    routing::{get, post},
    Json, Router,
};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{
    auth::{json_object, AuthUser},
    db::escape_like,
    db::now_iso,
    error::CareError,
    facility::facility_min,
    facility_org::facility_org_json,
    pagination::Page,
    patient,
    permissions::encounter_permissions,
    users::user_spec,
    validate::{Checker, Field},
    Care,
};

pub fn router() -> Router<Care> {
    Router::new()
        .route("/encounter/", get(list).post(create))
        .route("/encounter/{id}/", get(retrieve).put(update))
        .route("/encounter/{id}/organizations/", get(organizations))
        .route(
            "/encounter/{id}/organizations_add/",
            post(organizations_add),
        )
        .route(
            "/encounter/{id}/organizations_remove/",
            axum::routing::delete(organizations_remove),
        )
}

pub const STATUSES: &[&str] = &[
    "planned",
    "in_progress",
    "on_hold",
    "discharged",
    "completed",
    "cancelled",
    "discontinued",
    "entered_in_error",
    "unknown",
];
/// Statuses that end an encounter (CARE's `COMPLETED_CHOICES`).
pub const COMPLETED: &[&str] = &["completed", "cancelled", "entered_in_error", "discontinued"];
pub const CLASSES: &[&str] = &["imp", "amb", "obsenc", "emer", "vr", "hh"];
pub const PRIORITIES: &[&str] = &[
    "ASAP",
    "callback_results",
    "callback_for_scheduling",
    "elective",
    "emergency",
    "preop",
    "as_needed",
    "routine",
    "rush_reporting",
    "stat",
    "timing_critical",
    "use_as_directed",
    "urgent",
];
const ADMIT_SOURCES: &[&str] = &[
    "hosp_trans",
    "emd",
    "outp",
    "born",
    "gp",
    "mp",
    "nursing",
    "psych",
    "rehab",
    "other",
];
const DISCHARGE_DISPOSITIONS: &[&str] = &[
    "home",
    "alt_home",
    "other_hcf",
    "hosp",
    "long",
    "aadvice",
    "exp",
    "psy",
    "rehab",
    "snf",
    "oth",
];
const DIETS: &[&str] = &[
    "vegetarian",
    "dairy_free",
    "nut_free",
    "gluten_free",
    "vegan",
    "halal",
    "kosher",
    "none",
];
pub const MAX_ACTIVE_ENCOUNTERS: i64 = 5;

/// `moved_at` as CARE writes it into the history (Python's `str(datetime)`).
pub fn moved_at() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%d %H:%M:%S%.6f+00:00")
        .to_string()
}

struct Row {
    id: String,
    patient_id: String,
    facility_id: String,
    status: String,
    encounter_class: String,
    priority: String,
    period: String,
    hospitalization: String,
    external_identifier: Option<String>,
    discharge_summary_advice: Option<String>,
    status_history: String,
    encounter_class_history: String,
    appointment_id: Option<String>,
    created_by_id: Option<String>,
    updated_by_id: Option<String>,
    created_date: String,
    modified_date: String,
}

const COLUMNS: &str = "id, patient_id, facility_id, status, encounter_class, priority, period, \
    hospitalization, external_identifier, discharge_summary_advice, status_history, \
    encounter_class_history, appointment_id, created_by_id, updated_by_id, created_date, modified_date";

fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok(Row {
        id: r.get(0)?,
        patient_id: r.get(1)?,
        facility_id: r.get(2)?,
        status: r.get(3)?,
        encounter_class: r.get(4)?,
        priority: r.get(5)?,
        period: r.get(6)?,
        hospitalization: r.get(7)?,
        external_identifier: r.get(8)?,
        discharge_summary_advice: r.get(9)?,
        status_history: r.get(10)?,
        encounter_class_history: r.get(11)?,
        appointment_id: r.get(12)?,
        created_by_id: r.get(13)?,
        updated_by_id: r.get(14)?,
        created_date: r.get(15)?,
        modified_date: r.get(16)?,
    })
}

fn load(conn: &Connection, id: &str) -> Result<Row, CareError> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM encounter WHERE id = ?1 AND deleted = 0"),
        params![id],
        read_row,
    )
    .optional()?
    .ok_or(CareError::NotFound("Encounter"))
}

fn parse_json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|_| json!({}))
}

/// EncounterList of one encounter, by id (the sync pull's shape).
pub fn list_json_by_id(conn: &Connection, id: &str) -> Result<Value, CareError> {
    encounter_json(conn, &load(conn, id)?, None)
}

/// EncounterList; `retrieve` adds the retrieve-only keys with the given permissions.
fn encounter_json(
    conn: &Connection,
    e: &Row,
    retrieve: Option<&[&str]>,
) -> Result<Value, CareError> {
    let p = patient::load(conn, &e.patient_id)?;
    let patient_value = match retrieve {
        Some(_) => patient::retrieve_json(conn, &p, &[])?,
        None => patient::list_json(&p),
    };
    let mut out = Map::new();
    if let Some(perms) = retrieve {
        out.insert("permissions".into(), json!(perms));
    }
    let base = json!({
        "id": e.id,
        "status": e.status,
        "encounter_class": e.encounter_class,
        "period": parse_json(&e.period),
        "hospitalization": parse_json(&e.hospitalization),
        "priority": e.priority,
        "external_identifier": e.external_identifier,
        "discharge_summary_advice": e.discharge_summary_advice,
        "patient": patient_value,
        "facility": facility_min(conn, &e.facility_id)?,
        "status_history": parse_json(&e.status_history),
        "encounter_class_history": parse_json(&e.encounter_class_history),
        "created_date": e.created_date,
        "modified_date": e.modified_date,
        "tags": [],
    });
    if let Value::Object(b) = base {
        out.extend(b);
    }
    if retrieve.is_some() {
        let appointment = match &e.appointment_id {
            Some(a) => super::booking::booking_json(conn, a)?,
            None => json!({}),
        };
        out.insert("appointment".into(), appointment);
        let by = |id: &Option<String>| -> Result<Value, CareError> {
            match id {
                Some(u) => user_spec(conn, u, true),
                None => Ok(Value::Null),
            }
        };
        out.insert("created_by".into(), by(&e.created_by_id)?);
        out.insert("updated_by".into(), by(&e.updated_by_id)?);
        out.insert(
            "organizations".into(),
            Value::Array(organizations_of(conn, &e.id)?),
        );
        out.insert("current_location".into(), Value::Null);
        out.insert("location_history".into(), json!([]));
        out.insert("care_team".into(), json!([]));
    }
    Ok(Value::Object(out))
}

fn organizations_of(conn: &Connection, encounter_id: &str) -> Result<Vec<Value>, CareError> {
    let ids: Vec<String> = conn
        .prepare("SELECT organization_id FROM encounter_organization WHERE encounter_id = ?1 ORDER BY rowid")?
        .query_map(params![encounter_id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    ids.iter().map(|id| facility_org_json(conn, id)).collect()
}

/// `period {start?, end?}`: both tz-aware; stored as sent, without nulls.
fn parse_period(c: &mut Checker<'_>) -> Field<Value> {
    let Some(raw) = c.body().get("period").cloned() else {
        return Field::Absent;
    };
    match raw {
        Value::Null => Field::Null,
        Value::Object(obj) => {
            let mut out = Map::new();
            for key in ["start", "end"] {
                match obj.get(key) {
                    None | Some(Value::Null) => {}
                    Some(v) => {
                        if c.tz_datetime_value(&["period", key], v).is_some() {
                            out.insert(key.into(), v.clone());
                        }
                    }
                }
            }
            Field::Set(Value::Object(out))
        }
        other => {
            c.error(
                "model_type",
                &["period"],
                "Input should be a valid dictionary or instance of PeriodSpec",
                other,
                Some(json!({"class_name": "PeriodSpec"})),
            );
            Field::Absent
        }
    }
}

fn parse_hospitalization(c: &mut Checker<'_>) -> Field<Value> {
    let Some(raw) = c.body().get("hospitalization").cloned() else {
        return Field::Absent;
    };
    match raw {
        Value::Null => Field::Null,
        Value::Object(obj) => {
            let mut out = Map::new();
            if let Some(v) = obj.get("re_admission").filter(|v| !v.is_null()) {
                if v.is_boolean() {
                    out.insert("re_admission".into(), v.clone());
                } else {
                    c.error(
                        "bool_parsing",
                        &["hospitalization", "re_admission"],
                        "Input should be a valid boolean, unable to interpret input",
                        v.clone(),
                        None,
                    );
                }
            }
            for (key, options) in [
                ("admit_source", ADMIT_SOURCES),
                ("discharge_disposition", DISCHARGE_DISPOSITIONS),
                ("diet_preference", DIETS),
            ] {
                if let Some(v) = obj.get(key).filter(|v| !v.is_null()) {
                    if let Some(s) = c.enum_value(&["hospitalization", key], v, options) {
                        out.insert(key.into(), json!(s));
                    }
                }
            }
            Field::Set(Value::Object(out))
        }
        other => {
            c.error(
                "model_type",
                &["hospitalization"],
                "Input should be a valid dictionary or instance of HospitalizationSpec",
                other,
                Some(json!({"class_name": "HospitalizationSpec"})),
            );
            Field::Absent
        }
    }
}

/// Appends `{status, moved_at}` to a `{"history": [...]}` document.
fn push_history(history: &str, status: &str) -> String {
    let mut h = parse_json(history);
    if !h["history"].is_array() {
        h = json!({"history": []});
    }
    if let Some(list) = h["history"].as_array_mut() {
        list.push(json!({"status": status, "moved_at": moved_at()}));
    }
    h.to_string()
}

async fn create(
    State(care): State<Care>,
    user: AuthUser,
    body: Bytes,
) -> Result<Json<Value>, CareError> {
    let body = json_object(&body)?;
    let mut c = Checker::new(&body);
    let patient_id = c.req_uuid("patient");
    let facility_id = c.req_uuid("facility");
    let status = c.req_enum("status", STATUSES);
    let class = c.req_enum("encounter_class", CLASSES);
    let priority = c.req_enum("priority", PRIORITIES);
    let period = parse_period(&mut c).value().unwrap_or_else(|| json!({}));
    let hospitalization = parse_hospitalization(&mut c)
        .value()
        .unwrap_or_else(|| json!({}));
    let external_identifier = c.opt_str("external_identifier", None).value();
    let advice = c.opt_str("discharge_summary_advice", None).value();
    let organizations = c.uuid_list("organizations");
    let appointment = c.opt_uuid("appointment").value();
    let _tags = c.uuid_list("tags");
    c.finish()?;
    let (Some(patient_id), Some(facility_id), Some(status), Some(class), Some(priority)) =
        (patient_id, facility_id, status, class, priority)
    else {
        return Err(CareError::Internal("validated fields missing".into()));
    };
    care.db.with(|conn| {
        let facility_exists: bool = conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM facility WHERE id = ?1)",
            params![facility_id],
            |r| r.get(0),
        )?;
        if !facility_exists {
            return Err(CareError::NotFound("Facility"));
        }
        if !user.can("can_create_encounter") {
            return Err(CareError::Forbidden(
                "You do not have permission to create encounter".into(),
            ));
        }
        let tx = conn.savepoint()?;
        let placeholders = COMPLETED
            .iter()
            .map(|s| format!("'{s}'"))
            .collect::<Vec<_>>()
            .join(",");
        let active: i64 = tx.query_row(
            &format!(
                "SELECT COUNT(*) FROM encounter WHERE patient_id = ?1 AND facility_id = ?2
                 AND deleted = 0 AND status NOT IN ({placeholders})"
            ),
            params![patient_id, facility_id],
            |r| r.get(0),
        )?;
        if active >= MAX_ACTIVE_ENCOUNTERS {
            return Err(CareError::Validation(format!(
                "Patient already has maximum number of active encounters ({MAX_ACTIVE_ENCOUNTERS}) in the facility"
            )));
        }
        let patient_exists: bool = tx.query_row(
            "SELECT EXISTS(SELECT 1 FROM patient WHERE id = ?1 AND deleted = 0)",
            params![patient_id],
            |r| r.get(0),
        )?;
        if !patient_exists {
            return Err(CareError::Validation("Patient does not exist".into()));
        }
        let id = uuid::Uuid::new_v4().to_string();
        let now = now_iso();
        tx.execute(
            &format!(
                "INSERT INTO encounter ({COLUMNS}) VALUES
                 (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, NULL, ?13, ?13, ?14, ?14)"
            ),
            params![
                id,
                patient_id,
                facility_id,
                status,
                class,
                priority,
                period.to_string(),
                hospitalization.to_string(),
                external_identifier,
                advice,
                push_history("", &status),
                push_history("", &class),
                user.id,
                now
            ],
        )?;
        for org in &organizations {
            let ok: bool = tx.query_row(
                "SELECT EXISTS(SELECT 1 FROM facility_organization WHERE id = ?1 AND facility_id = ?2)",
                params![org, facility_id],
                |r| r.get(0),
            )?;
            if !ok {
                return Err(CareError::NotFound("FacilityOrganization"));
            }
            tx.execute(
                "INSERT OR IGNORE INTO encounter_organization (encounter_id, organization_id) VALUES (?1, ?2)",
                params![id, org],
            )?;
        }
        if let Some(booking) = appointment {
            super::booking::associate_encounter(&tx, &booking, &id)?;
            tx.execute(
                "UPDATE encounter SET appointment_id = ?1 WHERE id = ?2",
                params![booking, id],
            )?;
        }
        tx.commit()?;
        let row = load(conn, &id)?;
        Ok(Json(encounter_json(conn, &row, Some(&[]))?))
    }).await
}

#[derive(Debug, Deserialize)]
struct ListParams {
    patient: Option<String>,
    facility: Option<String>,
    status: Option<String>,
    encounter_class: Option<String>,
    priority: Option<String>,
    external_identifier: Option<String>,
    phone_number: Option<String>,
    name: Option<String>,
    live: Option<String>,
    created_date_after: Option<String>,
    created_date_before: Option<String>,
    ordering: Option<String>,
    #[serde(flatten)]
    page: Page,
}

async fn list(
    State(care): State<Care>,
    user: AuthUser,
    Query(p): Query<ListParams>,
) -> Result<Json<Value>, CareError> {
    let nonempty = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
    let patient_filter = nonempty(&p.patient);
    let facility_filter = nonempty(&p.facility);
    care.db
        .with(|conn| {
            let mut filter = String::from(" WHERE e.deleted = 0");
            let mut args: Vec<String> = Vec::new();
            if let Some(pid) = &patient_filter {
                patient::load(conn, pid)?;
                super::patient_scope::ensure_may_read(
                    conn,
                    &user,
                    pid,
                    None,
                    "Cannot access encounters",
                )?;
                args.push(pid.clone());
                filter += &format!(" AND e.patient_id = ?{}", args.len());
            } else if let Some(fid) = &facility_filter {
                super::facility::ensure_member(conn, fid, &user)?;
            } else {
                return Err(CareError::Forbidden("Cannot access encounters".into()));
            }
            if let Some(fid) = &facility_filter {
                args.push(fid.clone());
                filter += &format!(" AND e.facility_id = ?{}", args.len());
            }
            if let Some(statuses) = nonempty(&p.status) {
                let mut marks = Vec::new();
                for s in statuses.split(',').filter(|s| !s.is_empty()) {
                    args.push(s.to_string());
                    marks.push(format!("?{}", args.len()));
                }
                if !marks.is_empty() {
                    filter += &format!(" AND e.status IN ({})", marks.join(","));
                }
            }
            for (column, value) in [
                ("e.encounter_class", nonempty(&p.encounter_class)),
                ("e.priority", nonempty(&p.priority)),
            ] {
                if let Some(v) = value {
                    args.push(v.to_lowercase());
                    filter += &format!(" AND lower({column}) = ?{}", args.len());
                }
            }
            for (column, value) in [
                ("e.external_identifier", nonempty(&p.external_identifier)),
                ("pt.phone_number", nonempty(&p.phone_number)),
                ("pt.name", nonempty(&p.name)),
            ] {
                if let Some(v) = value {
                    args.push(format!("%{}%", escape_like(&v.to_lowercase())));
                    filter += &format!(" AND lower({column}) LIKE ?{} ESCAPE '\\'", args.len());
                }
            }
            let completed = COMPLETED
                .iter()
                .map(|s| format!("'{s}'"))
                .collect::<Vec<_>>()
                .join(",");
            match p.live.as_deref().map(str::to_lowercase).as_deref() {
                Some("true") => filter += &format!(" AND e.status IN ({completed})"),
                Some("false") => filter += &format!(" AND e.status NOT IN ({completed})"),
                _ => {}
            }
            if let Some(after) = nonempty(&p.created_date_after) {
                args.push(after);
                filter += &format!(" AND e.created_date >= ?{}", args.len());
            }
            if let Some(before) = nonempty(&p.created_date_before) {
                args.push(before);
                filter += &format!(" AND e.created_date <= ?{}", args.len());
            }
            let order = match p.ordering.as_deref() {
                Some("created_date") => "e.created_date ASC, e.seq ASC",
                Some("modified_date") => "e.modified_date ASC, e.seq ASC",
                Some("-modified_date") => "e.modified_date DESC, e.seq DESC",
                _ => "e.created_date DESC, e.seq DESC",
            };
            let from = " FROM encounter e JOIN patient pt ON pt.id = e.patient_id";
            let count: i64 = conn.query_row(
                &format!("SELECT COUNT(*){from}{filter}"),
                rusqlite::params_from_iter(args.iter()),
                |r| r.get(0),
            )?;
            let cols = COLUMNS
                .split(", ")
                .map(|c| format!("e.{}", c.trim()))
                .collect::<Vec<_>>()
                .join(", ");
            let rows: Vec<Row> = conn
                .prepare(&format!(
                    "SELECT {cols}{from}{filter} ORDER BY {order} LIMIT {} OFFSET {}",
                    p.page.limit(),
                    p.page.offset()
                ))?
                .query_map(rusqlite::params_from_iter(args.iter()), read_row)?
                .collect::<Result<_, _>>()?;
            let results = rows
                .iter()
                .map(|r| encounter_json(conn, r, None))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Json(json!({ "count": count, "results": results })))
        })
        .await
}

async fn retrieve(
    State(care): State<Care>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, CareError> {
    care.db
        .with(|conn| {
            let row = load(conn, &id)?;
            Ok(Json(encounter_json(
                conn,
                &row,
                Some(&encounter_permissions(user.role)),
            )?))
        })
        .await
}

async fn update(
    State(care): State<Care>,
    user: AuthUser,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, CareError> {
    let body = json_object(&body)?;
    care.db
        .with(|conn| {
            let row = load(conn, &id)?;
            let mut c = Checker::new(&body);
            let status = c.req_enum("status", STATUSES);
            let class = c.req_enum("encounter_class", CLASSES);
            let priority = c.req_enum("priority", PRIORITIES);
            let period = parse_period(&mut c);
            let hospitalization = parse_hospitalization(&mut c);
            let external_identifier = c.opt_str("external_identifier", None);
            let advice = c.opt_str("discharge_summary_advice", None);
            c.finish()?;
            let (Some(status), Some(class), Some(priority)) = (status, class, priority) else {
                return Err(CareError::Internal("validated fields missing".into()));
            };
            if !user.can("can_write_encounter") {
                return Err(CareError::Forbidden(
                    "You do not have permission to update encounter".into(),
                ));
            }
            let status_history = if status != row.status {
                push_history(&row.status_history, &status)
            } else {
                row.status_history.clone()
            };
            let class_history = if class != row.encounter_class {
                push_history(&row.encounter_class_history, &class)
            } else {
                row.encounter_class_history.clone()
            };
            let keep = |f: Field<Value>, old: &str| match f {
                Field::Set(v) => v.to_string(),
                Field::Null => "{}".to_string(),
                Field::Absent => old.to_string(),
            };
            let keep_str = |f: Field<String>, old: &Option<String>| match f {
                Field::Set(v) => Some(v),
                Field::Null => None,
                Field::Absent => old.clone(),
            };
            conn.execute(
            "UPDATE encounter SET status = ?1, encounter_class = ?2, priority = ?3, period = ?4,
                 hospitalization = ?5, external_identifier = ?6, discharge_summary_advice = ?7,
                 status_history = ?8, encounter_class_history = ?9, updated_by_id = ?10,
                 modified_date = ?11
             WHERE id = ?12",
            params![
                status,
                class,
                priority,
                keep(period, &row.period),
                keep(hospitalization, &row.hospitalization),
                keep_str(external_identifier, &row.external_identifier),
                keep_str(advice, &row.discharge_summary_advice),
                status_history,
                class_history,
                user.id,
                now_iso(),
                id
            ],
        )?;
            let row = load(conn, &id)?;
            Ok(Json(encounter_json(conn, &row, Some(&[]))?))
        })
        .await
}

async fn organizations(
    State(care): State<Care>,
    _user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, CareError> {
    care.db
        .with(|conn| {
            load(conn, &id)?;
            Ok(Json(json!({ "results": organizations_of(conn, &id)? })))
        })
        .await
}

/// The `{"organization": uuid}` body of organizations_add/remove, checked against the
/// encounter's facility.
fn organization_arg(
    conn: &Connection,
    row: &Row,
    body: &Map<String, Value>,
) -> Result<String, CareError> {
    let mut c = Checker::new(body);
    let org = c.req_uuid("organization");
    c.finish()?;
    let org = org.ok_or_else(|| CareError::Internal("validated field missing".into()))?;
    let facility: Option<String> = conn
        .query_row(
            "SELECT facility_id FROM facility_organization WHERE id = ?1",
            params![org],
            |r| r.get(0),
        )
        .optional()?;
    match facility {
        None => Err(CareError::NotFound("FacilityOrganization")),
        Some(f) if f != row.facility_id => Err(CareError::Forbidden(
            "Organization Incompatible with Encounter".into(),
        )),
        Some(_) => Ok(org),
    }
}

async fn organizations_add(
    State(care): State<Care>,
    user: AuthUser,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, CareError> {
    let body = json_object(&body)?;
    care.db.with(|conn| {
        let row = load(conn, &id)?;
        if !user.can("can_write_encounter") {
            return Err(CareError::Forbidden(
                "You do not have permission to update encounter".into(),
            ));
        }
        let org = organization_arg(conn, &row, &body)?;
        let added = conn.execute(
            "INSERT OR IGNORE INTO encounter_organization (encounter_id, organization_id) VALUES (?1, ?2)",
            params![id, org],
        )?;
        if added == 0 {
            return Err(CareError::Validation("Organization already exists".into()));
        }
        Ok(Json(facility_org_json(conn, &org)?))
    }).await
}

async fn organizations_remove(
    State(care): State<Care>,
    user: AuthUser,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, CareError> {
    let body = json_object(&body)?;
    care.db
        .with(|conn| {
            let row = load(conn, &id)?;
            if !user.can("can_write_encounter") {
                return Err(CareError::Forbidden(
                    "You do not have permission to update encounter".into(),
                ));
            }
            let org = organization_arg(conn, &row, &body)?;
            let removed = conn.execute(
            "DELETE FROM encounter_organization WHERE encounter_id = ?1 AND organization_id = ?2",
            params![id, org],
        )?;
            if removed == 0 {
                return Err(CareError::Validation("Organization does not exist".into()));
            }
            Ok(Json(json!({})))
        })
        .await
}

/// The EncounterList of the encounter started from a booking, or `{}` (a booking's
/// `associated_encounter`).
pub fn for_appointment(conn: &Connection, booking: &str) -> Result<Value, CareError> {
    let row = conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM encounter WHERE appointment_id = ?1 AND deleted = 0"),
            params![booking],
            read_row,
        )
        .optional()?;
    match row {
        Some(r) => encounter_json(conn, &r, None),
        None => Ok(json!({})),
    }
}
