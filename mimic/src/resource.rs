//! Resource requests (care-api.md §7): `GET/POST /resource/`, `GET/PUT /resource/{id}/`,
//! and their comments (`GET/POST /resource/{id}/comment/`, newest first as CARE lists them).

use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    routing::get,
    Json, Router,
};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{
    auth::{json_object, AuthUser},
    db::escape_like,
    db::now_iso,
    error::CareError,
    facility::facility_read,
    pagination::Page,
    patient,
    users::user_spec,
    validate::{Checker, Field},
    Care,
};

pub fn router() -> Router<Care> {
    Router::new()
        .route("/resource/", get(list).post(create))
        .route("/resource/{id}/", get(retrieve).put(update))
        .route(
            "/resource/{id}/comment/",
            get(list_comments).post(create_comment),
        )
}

/// ResourceRequestCommentListSpec: `{id, comment, created_by, created_date}`.
fn comment_json(conn: &Connection, r: &rusqlite::Row<'_>) -> Result<Value, CareError> {
    comment_value(conn, r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)
}

fn comment_value(
    conn: &Connection,
    id: String,
    comment: String,
    created_by: Option<String>,
    created_date: String,
) -> Result<Value, CareError> {
    Ok(json!({
        "id": id,
        "comment": comment,
        "created_by": match created_by {
            Some(u) => user_spec(conn, &u, false)?,
            None => Value::Null,
        },
        "created_date": created_date,
    }))
}

async fn list_comments(
    State(care): State<Care>,
    _user: AuthUser,
    Path(id): Path<String>,
    Query(page): Query<Page>,
) -> Result<Json<Value>, CareError> {
    care.db
        .with(|conn| {
            load(conn, &id)?;
            let count: i64 = conn.query_row(
                "SELECT COUNT(*) FROM resource_comment WHERE resource_id = ?1",
                params![id],
                |r| r.get(0),
            )?;
            let mut stmt = conn.prepare(&format!(
                "SELECT id, comment, created_by_id, created_date FROM resource_comment
                 WHERE resource_id = ?1 ORDER BY created_date DESC, seq DESC LIMIT {} OFFSET {}",
                page.limit(),
                page.offset()
            ))?;
            let mut rows = stmt.query(params![id])?;
            let mut results = Vec::new();
            while let Some(r) = rows.next()? {
                results.push(comment_json(conn, r)?);
            }
            Ok(Json(json!({"count": count, "results": results})))
        })
        .await
}

async fn create_comment(
    State(care): State<Care>,
    user: AuthUser,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, CareError> {
    let body = json_object(&body)?;
    let mut c = Checker::new(&body);
    let comment = c.req_str("comment", None);
    c.finish()?;
    let comment = comment.unwrap_or_default();
    care.db
        .with(|conn| {
            load(conn, &id)?;
            let comment_id = uuid::Uuid::new_v4().to_string();
            let now = now_iso();
            conn.execute(
                "INSERT INTO resource_comment (id, resource_id, comment, created_by_id, created_date)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![comment_id, id, comment, user.id, now],
            )?;
            Ok(Json(comment_value(
                conn,
                comment_id,
                comment,
                Some(user.id.clone()),
                now,
            )?))
        })
        .await
}

pub const STATUSES: &[&str] = &[
    "pending",
    "approved",
    "rejected",
    "cancelled",
    "transportation_to_be_arranged",
    "transfer_in_progress",
    "completed",
];
pub const CATEGORIES: &[&str] = &[
    "patient_care",
    "comfort_devices",
    "medicines",
    "financial",
    "supplies",
    "other",
];

const COLUMNS: &str = "id, emergency, title, reason, referring_facility_contact_name, \
    referring_facility_contact_number, status, category, priority, origin_facility_id, \
    approving_facility_id, assigned_facility_id, related_patient_id, assigned_to_id, \
    created_by_id, updated_by_id, created_date, modified_date";

struct Row {
    id: String,
    emergency: bool,
    title: String,
    reason: String,
    contact_name: String,
    contact_number: String,
    status: String,
    category: String,
    priority: i64,
    origin_facility_id: String,
    approving_facility_id: Option<String>,
    assigned_facility_id: Option<String>,
    related_patient_id: Option<String>,
    assigned_to_id: Option<String>,
    created_by_id: Option<String>,
    updated_by_id: Option<String>,
    created_date: String,
    modified_date: String,
}

fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok(Row {
        id: r.get(0)?,
        emergency: r.get(1)?,
        title: r.get(2)?,
        reason: r.get(3)?,
        contact_name: r.get(4)?,
        contact_number: r.get(5)?,
        status: r.get(6)?,
        category: r.get(7)?,
        priority: r.get(8)?,
        origin_facility_id: r.get(9)?,
        approving_facility_id: r.get(10)?,
        assigned_facility_id: r.get(11)?,
        related_patient_id: r.get(12)?,
        assigned_to_id: r.get(13)?,
        created_by_id: r.get(14)?,
        updated_by_id: r.get(15)?,
        created_date: r.get(16)?,
        modified_date: r.get(17)?,
    })
}

fn load(conn: &Connection, id: &str) -> Result<Row, CareError> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM resource_request WHERE id = ?1 AND deleted = 0"),
        params![id],
        read_row,
    )
    .optional()?
    .ok_or(CareError::NotFound("ResourceRequest"))
}

fn optional_facility(conn: &Connection, id: &Option<String>) -> Result<Value, CareError> {
    match id {
        Some(f) => facility_read(conn, f, false),
        None => Ok(Value::Null),
    }
}

/// The list item; `full` adds the retrieve-only keys.
fn resource_json(conn: &Connection, r: &Row, full: bool) -> Result<Value, CareError> {
    let mut out = json!({
        "id": r.id,
        "emergency": r.emergency,
        "title": r.title,
        "reason": r.reason,
        "referring_facility_contact_name": r.contact_name,
        "referring_facility_contact_number": r.contact_number,
        "status": r.status,
        "category": r.category,
        "priority": r.priority,
        "origin_facility": facility_read(conn, &r.origin_facility_id, false)?,
    });
    if full {
        out["approving_facility"] = optional_facility(conn, &r.approving_facility_id)?;
    }
    out["assigned_facility"] = optional_facility(conn, &r.assigned_facility_id)?;
    if full {
        out["related_patient"] = match &r.related_patient_id {
            Some(p) => patient::list_json(&patient::load(conn, p)?),
            None => Value::Null,
        };
        let user = |id: &Option<String>| -> Result<Value, CareError> {
            match id {
                Some(u) => user_spec(conn, u, true),
                None => Ok(Value::Null),
            }
        };
        out["assigned_to"] = user(&r.assigned_to_id)?;
        out["created_by"] = user(&r.created_by_id)?;
        out["updated_by"] = user(&r.updated_by_id)?;
    }
    out["created_date"] = json!(r.created_date);
    out["modified_date"] = json!(r.modified_date);
    Ok(out)
}

/// A validated create (`create`: the CARE-required fields must be there) or update body.
struct Input {
    emergency: Field<bool>,
    title: Field<String>,
    reason: Field<String>,
    contact_name: Field<String>,
    contact_number: Field<String>,
    status: Field<String>,
    category: Field<String>,
    priority: Field<i64>,
    origin_facility: Field<String>,
    approving_facility: Field<String>,
    assigned_facility: Field<String>,
    related_patient: Field<String>,
    assigned_to: Field<String>,
}

fn required<T>(c: &mut Checker<'_>, create: bool, field: &str, value: Field<T>) -> Field<T> {
    if create && value.is_absent() && !c.body().contains_key(field) {
        c.missing(field);
    }
    value
}

fn parse(
    conn: &Connection,
    body: &serde_json::Map<String, Value>,
    create: bool,
) -> Result<Input, CareError> {
    let mut c = Checker::new(body);
    let emergency = c.opt_bool("emergency");
    let emergency = required(&mut c, create, "emergency", emergency);
    let title = c.opt_str("title", Some(255));
    let title = required(&mut c, create, "title", title);
    let reason = c.opt_str("reason", None);
    let reason = required(&mut c, create, "reason", reason);
    let contact_name = c.opt_str("referring_facility_contact_name", None);
    let contact_name = required(
        &mut c,
        create,
        "referring_facility_contact_name",
        contact_name,
    );
    let contact_number = c.opt_phone("referring_facility_contact_number");
    let contact_number = required(
        &mut c,
        create,
        "referring_facility_contact_number",
        contact_number,
    );
    let status = c.opt_enum("status", STATUSES);
    let status = required(&mut c, create, "status", status);
    let category = c.opt_enum("category", CATEGORIES);
    let category = required(&mut c, create, "category", category);
    let priority = c.opt_int("priority");
    let priority = required(&mut c, create, "priority", priority);
    let origin_facility = c.opt_uuid("origin_facility");
    let origin_facility = required(&mut c, create, "origin_facility", origin_facility);
    let approving_facility = c.opt_uuid("approving_facility");
    let assigned_facility = c.opt_uuid("assigned_facility");
    let related_patient = c.opt_uuid("related_patient");
    let assigned_to = c.opt_uuid("assigned_to");
    // Required fields sent as null are type errors, as pydantic reports them.
    for field in [
        "emergency",
        "title",
        "reason",
        "referring_facility_contact_name",
        "referring_facility_contact_number",
        "status",
        "category",
        "priority",
        "origin_facility",
    ] {
        if create && body.get(field) == Some(&Value::Null) {
            c.error(
                "value_type",
                &[field],
                "Input should not be null",
                Value::Null,
                None,
            );
        }
    }
    c.finish()?;
    if let Field::Set(_) = &assigned_to {
        if !matches!(assigned_facility, Field::Set(_)) {
            return Err(CareError::Validation(
                "Assigned facility is required to assign a user".into(),
            ));
        }
    }
    for facility in [&origin_facility, &approving_facility, &assigned_facility] {
        if let Field::Set(f) = facility {
            let exists: bool = conn.query_row(
                "SELECT EXISTS(SELECT 1 FROM facility WHERE id = ?1)",
                params![f],
                |r| r.get(0),
            )?;
            if !exists {
                return Err(CareError::NotFound("Facility"));
            }
        }
    }
    if let Field::Set(p) = &related_patient {
        patient::load(conn, p)?;
    }
    if let Field::Set(u) = &assigned_to {
        let exists: bool = conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM user WHERE id = ?1 AND deleted = 0)",
            params![u],
            |r| r.get(0),
        )?;
        if !exists {
            return Err(CareError::NotFound("User"));
        }
    }
    Ok(Input {
        emergency,
        title,
        reason,
        contact_name,
        contact_number,
        status,
        category,
        priority,
        origin_facility,
        approving_facility,
        assigned_facility,
        related_patient,
        assigned_to,
    })
}

async fn create(
    State(care): State<Care>,
    user: AuthUser,
    body: Bytes,
) -> Result<Json<Value>, CareError> {
    let body = json_object(&body)?;
    care.db
        .with(|conn| {
            let i = parse(conn, &body, true)?;
            let id = uuid::Uuid::new_v4().to_string();
            let now = now_iso();
            conn.execute(
                &format!(
                    "INSERT INTO resource_request ({COLUMNS}) VALUES
                     (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15, ?16, ?16)"
                ),
                params![
                    id,
                    i.emergency.value(),
                    i.title.value(),
                    i.reason.value(),
                    i.contact_name.value(),
                    i.contact_number.value(),
                    i.status.value(),
                    i.category.value(),
                    i.priority.value(),
                    i.origin_facility.value(),
                    i.approving_facility.value(),
                    i.assigned_facility.value(),
                    i.related_patient.value(),
                    i.assigned_to.value(),
                    user.id,
                    now
                ],
            )?;
            Ok(Json(resource_json(conn, &load(conn, &id)?, true)?))
        })
        .await
}

async fn retrieve(
    State(care): State<Care>,
    _user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, CareError> {
    care.db
        .with(|conn| Ok(Json(resource_json(conn, &load(conn, &id)?, true)?)))
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
            load(conn, &id)?;
            let i = parse(conn, &body, false)?;
            let mut sets: Vec<String> = Vec::new();
            let mut args: Vec<Box<dyn rusqlite::ToSql>> = Vec::new();
            let mut set = |column: &str, value: Option<Box<dyn rusqlite::ToSql>>| {
                if let Some(v) = value {
                    args.push(v);
                    sets.push(format!("{column} = ?{}", args.len()));
                }
            };
            fn boxed<T: rusqlite::ToSql + 'static>(
                f: Field<T>,
                nullable: bool,
            ) -> Option<Box<dyn rusqlite::ToSql>> {
                match f {
                    Field::Set(v) => Some(Box::new(v)),
                    Field::Null if nullable => Some(Box::new(Option::<String>::None)),
                    _ => None,
                }
            }
            set("emergency", boxed(i.emergency, false));
            set("title", boxed(i.title, false));
            set("reason", boxed(i.reason, false));
            set(
                "referring_facility_contact_name",
                boxed(i.contact_name, false),
            );
            set(
                "referring_facility_contact_number",
                boxed(i.contact_number, false),
            );
            set("status", boxed(i.status, false));
            set("category", boxed(i.category, false));
            set("priority", boxed(i.priority, false));
            set("origin_facility_id", boxed(i.origin_facility, false));
            set("approving_facility_id", boxed(i.approving_facility, true));
            set("assigned_facility_id", boxed(i.assigned_facility, true));
            set("related_patient_id", boxed(i.related_patient, true));
            set("assigned_to_id", boxed(i.assigned_to, true));
            set("updated_by_id", Some(Box::new(user.id.clone())));
            set("modified_date", Some(Box::new(now_iso())));
            args.push(Box::new(id.clone()));
            conn.execute(
                &format!(
                    "UPDATE resource_request SET {} WHERE id = ?{}",
                    sets.join(", "),
                    args.len()
                ),
                rusqlite::params_from_iter(args.iter().map(|a| a.as_ref())),
            )?;
            Ok(Json(resource_json(conn, &load(conn, &id)?, true)?))
        })
        .await
}

#[derive(Debug, Deserialize)]
struct ListParams {
    origin_facility: Option<String>,
    approving_facility: Option<String>,
    assigned_facility: Option<String>,
    related_patient: Option<String>,
    title: Option<String>,
    status: Option<String>,
    category: Option<String>,
    ordering: Option<String>,
    #[serde(flatten)]
    page: Page,
}

async fn list(
    State(care): State<Care>,
    _user: AuthUser,
    Query(p): Query<ListParams>,
) -> Result<Json<Value>, CareError> {
    care.db
        .with(|conn| {
            let mut filter = String::from(" WHERE deleted = 0");
            let mut args: Vec<String> = Vec::new();
            for (column, value) in [
                ("origin_facility_id", &p.origin_facility),
                ("approving_facility_id", &p.approving_facility),
                ("assigned_facility_id", &p.assigned_facility),
                ("related_patient_id", &p.related_patient),
            ] {
                if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
                    args.push(v.to_string());
                    filter += &format!(" AND {column} = ?{}", args.len());
                }
            }
            for (column, value) in [("status", &p.status), ("category", &p.category)] {
                if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
                    let mut marks = Vec::new();
                    for one in v.split(',') {
                        args.push(one.to_string());
                        marks.push(format!("?{}", args.len()));
                    }
                    filter += &format!(" AND {column} IN ({})", marks.join(","));
                }
            }
            if let Some(t) = p.title.as_deref().filter(|t| !t.is_empty()) {
                args.push(format!("%{}%", escape_like(&t.to_lowercase())));
                filter += &format!(" AND lower(title) LIKE ?{} ESCAPE '\\'", args.len());
            }
            let order = match p.ordering.as_deref() {
                Some("created_date") => "created_date ASC, seq ASC",
                Some("modified_date") => "modified_date ASC, seq ASC",
                Some("-modified_date") => "modified_date DESC, seq DESC",
                _ => "created_date DESC, seq DESC",
            };
            let count: i64 = conn.query_row(
                &format!("SELECT COUNT(*) FROM resource_request{filter}"),
                rusqlite::params_from_iter(args.iter()),
                |r| r.get(0),
            )?;
            let rows: Vec<Row> = conn
                .prepare(&format!(
                    "SELECT {COLUMNS} FROM resource_request{filter} ORDER BY {order} LIMIT {} OFFSET {}",
                    p.page.limit(),
                    p.page.offset()
                ))?
                .query_map(rusqlite::params_from_iter(args.iter()), read_row)?
                .collect::<Result<_, _>>()?;
            let results = rows
                .iter()
                .map(|r| resource_json(conn, r, false))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Json(json!({"count": count, "results": results})))
        })
        .await
}
