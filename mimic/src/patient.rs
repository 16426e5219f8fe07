//! Patients (care-api.md §5, §7): create, retrieve, update, list, search, search_retrieve and
//! the patient's users.

use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    routing::{get, post},
    Json, Router,
};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{
    auth::{json_object, AuthUser},
    db::{escape_like, now_iso, to_care_datetime},
    error::CareError,
    identifier::{self, NAME_CONFIG_ID, PHONE_CONFIG_ID},
    organization::org_json,
    pagination::Page,
    patient_scope::{geo_under, Scope},
    permissions::patient_permissions,
    users::user_spec,
    validate::{Checker, Field},
    Care,
};

pub fn router() -> Router<Care> {
    Router::new()
        .route("/patient/", get(list).post(create))
        .route("/patient/search/", post(search))
        .route("/patient/search_retrieve/", post(search_retrieve))
        .route("/patient/{id}/", get(retrieve).put(update))
        .route("/patient/{id}/get_users/", get(get_users))
        .route("/patient/{id}/add_user/", post(add_user))
        .route("/patient/{id}/delete_user/", post(delete_user))
}

pub const GENDERS: &[&str] = &["male", "female", "non_binary", "transgender"];
pub const BLOOD_GROUPS: &[&str] = &[
    "A_negative",
    "A_positive",
    "B_negative",
    "B_positive",
    "AB_negative",
    "AB_positive",
    "O_negative",
    "O_positive",
    "unknown",
];

/// One patient row.
#[derive(Debug, Clone)]
pub struct PatientRow {
    pub id: String,
    pub name: String,
    pub gender: String,
    pub phone_number: String,
    pub emergency_phone_number: Option<String>,
    pub address: Option<String>,
    pub permanent_address: Option<String>,
    pub pincode: Option<i64>,
    pub deceased_datetime: Option<String>,
    pub blood_group: Option<String>,
    pub date_of_birth: Option<String>,
    pub year_of_birth: Option<i64>,
    pub geo_organization_id: Option<String>,
    pub created_by_id: Option<String>,
    pub updated_by_id: Option<String>,
    pub created_date: String,
    pub modified_date: String,
}

pub const COLUMNS: &str = "id, name, gender, phone_number, emergency_phone_number, address, \
    permanent_address, pincode, deceased_datetime, blood_group, date_of_birth, year_of_birth, \
    geo_organization_id, created_by_id, updated_by_id, created_date, modified_date";

pub fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PatientRow> {
    Ok(PatientRow {
        id: r.get(0)?,
        name: r.get(1)?,
        gender: r.get(2)?,
        phone_number: r.get(3)?,
        emergency_phone_number: r.get(4)?,
        address: r.get(5)?,
        permanent_address: r.get(6)?,
        pincode: r.get(7)?,
        deceased_datetime: r.get(8)?,
        blood_group: r.get(9)?,
        date_of_birth: r.get(10)?,
        year_of_birth: r.get(11)?,
        geo_organization_id: r.get(12)?,
        created_by_id: r.get(13)?,
        updated_by_id: r.get(14)?,
        created_date: r.get(15)?,
        modified_date: r.get(16)?,
    })
}

/// The patient, or CARE's 404 body.
pub fn load(conn: &Connection, id: &str) -> Result<PatientRow, CareError> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM patient WHERE id = ?1 AND deleted = 0"),
        params![id],
        read_row,
    )
    .optional()?
    .ok_or(CareError::NotFound("Patient"))
}

/// The patient if the user sees it (`patient_scope`); CARE's 404 otherwise, the same
/// answer as no patient.
pub fn load_visible(conn: &Connection, user: &AuthUser, id: &str) -> Result<PatientRow, CareError> {
    let row = load(conn, id)?;
    if Scope::of(conn, user)?.sees(conn, id)? {
        Ok(row)
    } else {
        Err(CareError::NotFound("Patient"))
    }
}

/// PatientList: the list item shape.
pub fn list_json(p: &PatientRow) -> Value {
    json!({
        "id": p.id,
        "name": p.name,
        "gender": p.gender,
        "phone_number": p.phone_number,
        "emergency_phone_number": p.emergency_phone_number,
        "address": p.address,
        "permanent_address": p.permanent_address,
        "pincode": p.pincode,
        "deceased_datetime": p.deceased_datetime,
        "blood_group": p.blood_group,
        "date_of_birth": p.date_of_birth,
        "year_of_birth": p.year_of_birth,
        "created_date": p.created_date,
        "modified_date": p.modified_date,
        "instance_tags": [],
        "facility_tags": [],
    })
}

/// PatientRetrieve, with the given `permissions` first (as CARE orders the keys).
pub fn retrieve_json(
    conn: &Connection,
    p: &PatientRow,
    permissions: &[&str],
) -> Result<Value, CareError> {
    retrieve_json_for(conn, p, permissions, None)
}

/// PatientRetrieve with `facility`'s identifiers (`?facility=` on the retrieve).
pub fn retrieve_json_for(
    conn: &Connection,
    p: &PatientRow,
    permissions: &[&str],
    facility: Option<&str>,
) -> Result<Value, CareError> {
    let mut out = json!({ "permissions": permissions });
    let (Value::Object(out_map), Value::Object(list)) = (&mut out, list_json(p)) else {
        return Err(CareError::Internal("patient json".into()));
    };
    out_map.extend(list);
    out["geo_organization"] = match &p.geo_organization_id {
        Some(g) => org_json(conn, g)?,
        None => json!({}),
    };
    out["created_by"] = match &p.created_by_id {
        Some(u) => user_spec(conn, u, false)?,
        None => Value::Null,
    };
    out["updated_by"] = match &p.updated_by_id {
        Some(u) => user_spec(conn, u, false)?,
        None => Value::Null,
    };
    let (instance, of_facility) =
        identifier::listed(conn, &p.id, &p.name, &p.phone_number, facility)?;
    out["instance_identifiers"] = Value::Array(instance);
    out["facility_identifiers"] = Value::Array(of_facility);
    Ok(out)
}

/// A parsed create/update body.
struct PatientInput {
    name: Field<String>,
    gender: Field<String>,
    phone_number: Field<String>,
    emergency_phone_number: Field<String>,
    address: Field<String>,
    permanent_address: Field<String>,
    pincode: Field<i64>,
    deceased_datetime: Field<String>,
    blood_group: Field<String>,
    date_of_birth: Field<chrono::NaiveDate>,
    age: Field<i64>,
    geo_organization: Field<String>,
    identifiers: Vec<identifier::Checked>,
}

fn current_year() -> i64 {
    use chrono::Datelike;
    i64::from(chrono::Utc::now().year())
}

/// Validates a create (`create = true`: name, gender, phone and geo_organization required) or
/// update body, all errors at once like pydantic.
fn parse_input(
    conn: &Connection,
    body: &serde_json::Map<String, Value>,
    patient: Option<&str>,
) -> Result<PatientInput, CareError> {
    let create = patient.is_none();
    let mut c = Checker::new(body);
    let name = if create {
        c.req_str("name", Some(200))
            .map_or(Field::Absent, Field::Set)
    } else {
        c.opt_str("name", Some(200))
    };
    let gender = if create {
        c.req_enum("gender", GENDERS)
            .map_or(Field::Absent, Field::Set)
    } else {
        c.opt_enum("gender", GENDERS)
    };
    let phone_number = if create {
        c.req_phone("phone_number")
            .map_or(Field::Absent, Field::Set)
    } else {
        c.opt_phone("phone_number")
    };
    let emergency_phone_number = c.opt_phone("emergency_phone_number");
    let address = c.opt_str("address", None);
    let permanent_address = c.opt_str("permanent_address", None);
    let pincode = c.opt_int("pincode");
    let deceased = c.opt_tz_datetime("deceased_datetime");
    let deceased_datetime = match deceased {
        Field::Set(dt) => {
            if dt.with_timezone(&chrono::Utc) > chrono::Utc::now() {
                let input = body
                    .get("deceased_datetime")
                    .cloned()
                    .unwrap_or(Value::Null);
                c.value_error(
                    &["deceased_datetime"],
                    "Deceased datetime cannot be in the future",
                    input,
                );
                Field::Absent
            } else {
                Field::Set(to_care_datetime(&dt))
            }
        }
        Field::Null => Field::Null,
        Field::Absent => Field::Absent,
    };
    let blood_group = c.opt_enum("blood_group", BLOOD_GROUPS);
    let date_of_birth = c.opt_date("date_of_birth");
    let age = c.opt_int("age");
    let geo_organization = if create {
        c.req_uuid("geo_organization")
            .map_or(Field::Absent, Field::Set)
    } else {
        c.opt_uuid("geo_organization")
    };
    if let Field::Set(geo) = &geo_organization {
        let exists: bool = conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM organization WHERE id = ?1 AND org_type = 'govt')",
            params![geo],
            |r| r.get(0),
        )?;
        if !exists {
            let input = body.get("geo_organization").cloned().unwrap_or(Value::Null);
            c.value_error(
                &["geo_organization"],
                "Geo Organization does not exist",
                input,
            );
        }
    }
    let sent = check_identifiers(&mut c);
    let identifiers = if c.has_errors() {
        Vec::new()
    } else {
        identifier::check(conn, &mut c, &sent, patient)?
    };
    if create && !c.has_errors() {
        let has_age = matches!(age, Field::Set(a) if a != 0);
        if !has_age && date_of_birth.clone().value().is_none() {
            c.value_error(
                &[],
                "Either age or date of birth is required",
                Value::Object(body.clone()),
            );
        }
    }
    if let Field::Set(a) = age {
        if !(0..=current_year()).contains(&a) && !c.has_errors() {
            c.value_error(&["age"], "Age must be a non-negative number", json!(a));
        }
    }
    c.finish()?;
    Ok(PatientInput {
        name,
        gender,
        phone_number,
        emergency_phone_number,
        address,
        permanent_address,
        pincode,
        deceased_datetime,
        blood_group,
        date_of_birth,
        age,
        geo_organization,
        identifiers,
    })
}

/// `identifiers: [{"config": uuid, "value": str}]`: the shape, and the (config, value) pairs.
fn check_identifiers(c: &mut Checker<'_>) -> Vec<(String, String)> {
    let mut sent = Vec::new();
    let Some(raw) = c.body().get("identifiers").cloned() else {
        return sent;
    };
    let Value::Array(items) = raw else {
        c.error(
            "list_type",
            &["identifiers"],
            "Input should be a valid list",
            raw,
            None,
        );
        return sent;
    };
    for (i, item) in items.iter().enumerate() {
        let idx = i.to_string();
        let Value::Object(obj) = item else {
            c.error(
                "model_type",
                &["identifiers", &idx],
                "Input should be a valid dictionary or instance of PatientIdentifierConfigRequest",
                item.clone(),
                Some(json!({"class_name": "PatientIdentifierConfigRequest"})),
            );
            continue;
        };
        let config = match obj.get("config") {
            Some(v) => c.uuid_value(&["identifiers", &idx, "config"], v),
            None => {
                c.error(
                    "missing",
                    &["identifiers", &idx, "config"],
                    "Field required",
                    item.clone(),
                    None,
                );
                None
            }
        };
        match obj.get("value") {
            Some(Value::String(value)) => {
                if let Some(config) = config {
                    sent.push((config, value.clone()));
                }
            }
            Some(v) => c.error(
                "string_type",
                &["identifiers", &idx, "value"],
                "Input should be a valid string",
                v.clone(),
                None,
            ),
            None => c.error(
                "missing",
                &["identifiers", &idx, "value"],
                "Field required",
                item.clone(),
                None,
            ),
        }
    }
    sent
}

async fn create(
    State(care): State<Care>,
    user: AuthUser,
    body: Bytes,
) -> Result<Json<Value>, CareError> {
    let body = json_object(&body)?;
    care.db
        .with(|conn| {
            let input = parse_input(conn, &body, None)?;
            if !user.can("can_create_patient") {
                return Err(CareError::Forbidden("Cannot create patient".into()));
            }
            let id = uuid::Uuid::new_v4().to_string();
            let now = now_iso();
            let (date_of_birth, year_of_birth) = match (&input.age, &input.date_of_birth) {
                (Field::Set(age), _) if *age != 0 => (None, Some(current_year() - age)),
                (_, Field::Set(dob)) => {
                    use chrono::Datelike;
                    (Some(dob.to_string()), Some(i64::from(dob.year())))
                }
                _ => (None, None),
            };
            conn.execute(
            "INSERT INTO patient (id, name, gender, phone_number, emergency_phone_number, address,
                 permanent_address, pincode, deceased_datetime, blood_group, date_of_birth,
                 year_of_birth, geo_organization_id, created_by_id, updated_by_id, created_date,
                 modified_date)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14, ?15, ?15)",
            params![
                id,
                input.name.value(),
                input.gender.value(),
                input.phone_number.value(),
                input.emergency_phone_number.value(),
                input.address.value(),
                input.permanent_address.value(),
                input.pincode.value(),
                input.deceased_datetime.value(),
                input.blood_group.value(),
                date_of_birth,
                year_of_birth,
                input.geo_organization.value(),
                user.id,
                now
            ],
        )?;
            identifier::store(conn, &id, &input.identifiers)?;
            let row = load(conn, &id)?;
            Ok(Json(retrieve_json(conn, &row, &[])?))
        })
        .await
}

#[derive(Debug, Deserialize)]
struct RetrieveParams {
    /// Adds this facility's identifiers.
    facility: Option<String>,
}

async fn retrieve(
    State(care): State<Care>,
    user: AuthUser,
    Path(id): Path<String>,
    Query(p): Query<RetrieveParams>,
) -> Result<Json<Value>, CareError> {
    care.db
        .with(|conn| {
            let row = load_visible(conn, &user, &id)?;
            Ok(Json(retrieve_json_for(
                conn,
                &row,
                &patient_permissions(user.role),
                p.facility.as_deref().filter(|f| !f.is_empty()),
            )?))
        })
        .await
}

/// Sets a nullable column from an optional field: absent leaves it, null clears it.
fn set_clause<T: rusqlite::ToSql + 'static>(
    sets: &mut Vec<String>,
    args: &mut Vec<Box<dyn rusqlite::ToSql>>,
    column: &str,
    field: Field<T>,
) {
    match field {
        Field::Absent => {}
        Field::Null => {
            args.push(Box::new(Option::<String>::None));
            sets.push(format!("{column} = ?{}", args.len()));
        }
        Field::Set(v) => {
            args.push(Box::new(v));
            sets.push(format!("{column} = ?{}", args.len()));
        }
    }
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
            load_visible(conn, &user, &id)?;
            let input = parse_input(conn, &body, Some(&id))?;
            if !user.can("can_write_patient") {
                // Sic: CARE's message for a denied update.
                return Err(CareError::Forbidden("Cannot Create Patient".into()));
            }
            let mut sets: Vec<String> = Vec::new();
            let mut args: Vec<Box<dyn rusqlite::ToSql>> = Vec::new();
            // Required columns cannot be nulled: a null there is ignored.
            for (column, field) in [
                ("name", input.name),
                ("gender", input.gender),
                ("phone_number", input.phone_number),
                ("geo_organization_id", input.geo_organization),
            ] {
                if let Field::Set(v) = field {
                    set_clause(&mut sets, &mut args, column, Field::Set(v));
                }
            }
            set_clause(
                &mut sets,
                &mut args,
                "emergency_phone_number",
                input.emergency_phone_number,
            );
            set_clause(&mut sets, &mut args, "address", input.address);
            set_clause(
                &mut sets,
                &mut args,
                "permanent_address",
                input.permanent_address,
            );
            // CARE clears the pincode when an update omits it (sample patient_update_partial_put).
            let pincode = match input.pincode {
                Field::Absent => Field::Null,
                other => other,
            };
            set_clause(&mut sets, &mut args, "pincode", pincode);
            set_clause(
                &mut sets,
                &mut args,
                "deceased_datetime",
                input.deceased_datetime,
            );
            set_clause(&mut sets, &mut args, "blood_group", input.blood_group);
            match (input.age, input.date_of_birth) {
                (Field::Set(age), _) => {
                    set_clause(&mut sets, &mut args, "date_of_birth", Field::<String>::Null);
                    set_clause(
                        &mut sets,
                        &mut args,
                        "year_of_birth",
                        Field::Set(current_year() - age),
                    );
                }
                (_, Field::Set(dob)) => {
                    use chrono::Datelike;
                    set_clause(
                        &mut sets,
                        &mut args,
                        "date_of_birth",
                        Field::Set(dob.to_string()),
                    );
                    set_clause(
                        &mut sets,
                        &mut args,
                        "year_of_birth",
                        Field::Set(i64::from(dob.year())),
                    );
                }
                _ => {}
            }
            set_clause(
                &mut sets,
                &mut args,
                "updated_by_id",
                Field::Set(user.id.clone()),
            );
            set_clause(&mut sets, &mut args, "modified_date", Field::Set(now_iso()));
            args.push(Box::new(id.clone()));
            let sql = format!(
                "UPDATE patient SET {} WHERE id = ?{}",
                sets.join(", "),
                args.len()
            );
            conn.execute(
                &sql,
                rusqlite::params_from_iter(args.iter().map(|a| a.as_ref())),
            )?;
            identifier::store(conn, &id, &input.identifiers)?;
            let row = load(conn, &id)?;
            Ok(Json(retrieve_json(conn, &row, &[])?))
        })
        .await
}

#[derive(Debug, Deserialize)]
struct ListParams {
    name: Option<String>,
    phone_number: Option<String>,
    organization: Option<String>,
    ordering: Option<String>,
    #[serde(flatten)]
    page: Page,
}

async fn list(
    State(care): State<Care>,
    user: AuthUser,
    Query(p): Query<ListParams>,
) -> Result<Json<Value>, CareError> {
    care.db
        .with(|conn| {
            let mut filter = String::from(" WHERE deleted = 0");
            let mut args: Vec<Box<dyn rusqlite::ToSql>> = Vec::new();
            if let Some(name) = p.name.as_deref().filter(|n| !n.is_empty()) {
                args.push(Box::new(format!("%{}%", escape_like(&name.to_lowercase()))));
                filter += &format!(" AND lower(name) LIKE ?{} ESCAPE '\\'", args.len());
            }
            if let Some(phone) = p.phone_number.as_deref().filter(|n| !n.is_empty()) {
                // E.164 has no letters: an exact match is CARE's iexact, and uses the index.
                args.push(Box::new(phone.to_string()));
                filter += &format!(" AND phone_number = ?{}", args.len());
            }
            if let Some(org) = p.organization.as_deref().filter(|n| !n.is_empty()) {
                // The geo organization or any of its descendants.
                args.push(Box::new(org.to_string()));
                filter += &format!(" AND {}", geo_under(args.len()));
            }
            if let Some(scope) = Scope::of(conn, &user)?.list_condition(&mut args) {
                filter += &format!(" AND {scope}");
            }
            let order = match p.ordering.as_deref() {
                Some("created_date") => "created_date ASC, seq ASC",
                Some("modified_date") => "modified_date ASC, seq ASC",
                Some("-modified_date") => "modified_date DESC, seq DESC",
                _ => "created_date DESC, seq DESC",
            };
            let params_iter = || rusqlite::params_from_iter(args.iter().map(|a| a.as_ref()));
            let count: i64 = conn.query_row(
                &format!("SELECT COUNT(*) FROM patient{filter}"),
                params_iter(),
                |r| r.get(0),
            )?;
            let sql = format!(
                "SELECT {COLUMNS} FROM patient{filter} ORDER BY {order} LIMIT {} OFFSET {}",
                p.page.limit(),
                p.page.offset()
            );
            let rows: Vec<PatientRow> = conn
                .prepare(&sql)?
                .query_map(params_iter(), read_row)?
                .collect::<Result<_, _>>()?;
            let results: Vec<Value> = rows.iter().map(list_json).collect();
            Ok(Json(json!({ "count": count, "results": results })))
        })
        .await
}

/// The partial representation of phone searches: a random id, and only the first five
/// characters of the real one.
fn partial_json(p: &PatientRow) -> Value {
    json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "name": p.name,
        "gender": p.gender,
        "phone_number": p.phone_number,
        "partial_id": p.id.chars().take(5).collect::<String>(),
    })
}

fn patients_by_phone(
    conn: &Connection,
    phone: &str,
    limit: i64,
) -> Result<Vec<PatientRow>, CareError> {
    Ok(conn
        .prepare(&format!(
            "SELECT {COLUMNS} FROM patient WHERE phone_number = ?1 AND deleted = 0
             ORDER BY created_date DESC, seq DESC LIMIT ?2"
        ))?
        .query_map(params![phone, limit], read_row)?
        .collect::<Result<_, _>>()?)
}

async fn search(
    State(care): State<Care>,
    _user: AuthUser,
    body: Bytes,
) -> Result<Json<Value>, CareError> {
    let body = json_object(&body)?;
    let mut c = Checker::new(&body);
    let phone = c.opt_str("phone_number", None).value();
    let config = c.opt_uuid("config").value();
    let value = c.opt_str("value", None).value();
    let facility = c.opt_uuid("facility").value();
    let page_size = match c.opt_int("page_size") {
        Field::Set(n) if !(1..=100).contains(&n) => {
            c.error(
                "less_than_equal",
                &["page_size"],
                "Input should be less than or equal to 100",
                json!(n),
                Some(json!({"le": 100})),
            );
            100
        }
        Field::Set(n) => n,
        _ => 100,
    };
    c.finish()?;
    care.db
        .with(|conn| {
            if let Some(phone) = phone.filter(|p| !p.is_empty()) {
                let rows = patients_by_phone(conn, &phone, page_size)?;
                return Ok(Json(json!({
                    "partial": true,
                    "results": rows.iter().map(partial_json).collect::<Vec<_>>()
                })));
            }
            let Some(config) = config else {
                return Err(CareError::Validation(
                    "Either phone number or config is required".into(),
                ));
            };
            let value = value.unwrap_or_default();
            match config.as_str() {
                PHONE_CONFIG_ID => {
                    let rows = patients_by_phone(conn, &value, page_size)?;
                    Ok(Json(json!({
                        "partial": true,
                        "results": rows.iter().map(partial_json).collect::<Vec<_>>()
                    })))
                }
                NAME_CONFIG_ID => {
                    // The name config allows partial (substring) search and returns full patients.
                    let rows: Vec<PatientRow> = conn
                        .prepare(&format!(
                            "SELECT {COLUMNS} FROM patient WHERE lower(name) LIKE ?1 ESCAPE '\\'
                         AND deleted = 0 ORDER BY created_date DESC, seq DESC LIMIT ?2"
                        ))?
                        .query_map(
                            params![
                                format!("%{}%", escape_like(&value.to_lowercase())),
                                page_size
                            ],
                            read_row,
                        )?
                        .collect::<Result<_, _>>()?;
                    let results = rows
                        .iter()
                        .map(|r| retrieve_json(conn, r, &[]))
                        .collect::<Result<Vec<_>, _>>()?;
                    Ok(Json(json!({"partial": false, "results": results})))
                }
                other => {
                    let Some((listed, of_facility)) = identifier::config(conn, other)? else {
                        return Err(CareError::Validation("Config not found".into()));
                    };
                    if let (Some(asked), Some(owner)) =
                        (facility.as_deref(), of_facility.as_deref())
                    {
                        if asked != owner {
                            return Err(CareError::Validation("Config not found".into()));
                        }
                    }
                    let ids = identifier::patients_with(conn, other, &value, page_size)?;
                    let rows = ids
                        .iter()
                        .map(|id| load(conn, id))
                        .collect::<Result<Vec<_>, _>>()?;
                    let partial = listed
                        .pointer("/config/retrieve_config/retrieve_with_year_of_birth")
                        .and_then(Value::as_bool)
                        .unwrap_or(false);
                    let results = if partial {
                        rows.iter().map(partial_json).collect::<Vec<_>>()
                    } else {
                        rows.iter()
                            .map(|r| retrieve_json(conn, r, &[]))
                            .collect::<Result<Vec<_>, _>>()?
                    };
                    Ok(Json(json!({"partial": partial, "results": results})))
                }
            }
        })
        .await
}

async fn search_retrieve(
    State(care): State<Care>,
    _user: AuthUser,
    body: Bytes,
) -> Result<Json<Value>, CareError> {
    let body = json_object(&body)?;
    let mut c = Checker::new(&body);
    let phone = c.req_str("phone_number", None);
    let year = c.req_int("year_of_birth");
    let partial_id = c.req_str("partial_id", None);
    let _facility = c.opt_uuid("facility");
    c.finish()?;
    let (Some(phone), Some(year), Some(partial_id)) = (phone, year, partial_id) else {
        return Err(CareError::Internal("validated fields missing".into()));
    };
    care.db
        .with(|conn| {
            let rows = patients_by_phone(conn, &phone, 1000)?;
            let found = rows.iter().find(|p| {
                p.year_of_birth == Some(year)
                    && !partial_id.is_empty()
                    && p.id.starts_with(&partial_id)
            });
            match found {
                Some(p) => Ok(Json(retrieve_json(conn, p, &[])?)),
                None => Err(CareError::Forbidden("No valid patients found".into())),
            }
        })
        .await
}

async fn get_users(
    State(care): State<Care>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, CareError> {
    care.db.with(|conn| {
        load_visible(conn, &user, &id)?;
        let ids: Vec<String> = conn
            .prepare("SELECT user_id FROM patient_user WHERE patient_id = ?1 ORDER BY created_date, rowid")?
            .query_map(params![id], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let users = ids
            .iter()
            .map(|u| user_spec(conn, u, false))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Json(json!({ "results": users })))
    }).await
}

async fn add_user(
    State(care): State<Care>,
    user: AuthUser,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, CareError> {
    let body = json_object(&body)?;
    care.db
        .with(|conn| {
            let mut c = Checker::new(&body);
            let target = c.req_uuid("user");
            let role = c.req_uuid("role");
            c.finish()?;
            let (Some(target), Some(role)) = (target, role) else {
                return Err(CareError::Internal("validated fields missing".into()));
            };
            require_user(conn, &target)?;
            let role_exists: bool = conn.query_row(
                "SELECT EXISTS(SELECT 1 FROM role WHERE id = ?1)",
                params![role],
                |r| r.get(0),
            )?;
            if !role_exists {
                return Err(CareError::NotFound("RoleModel"));
            }
            authorize_patient_write(conn, &user, &id)?;
            let inserted = conn.execute(
                "INSERT OR IGNORE INTO patient_user (patient_id, user_id, role_id, created_date)
             VALUES (?1, ?2, ?3, ?4)",
                params![id, target, role, now_iso()],
            )?;
            if inserted == 0 {
                return Err(CareError::Validation("User already exists".into()));
            }
            Ok(Json(user_spec(conn, &target, false)?))
        })
        .await
}

/// `POST /patient/{id}/delete_user/ {"user"}`: ends a user's assignment to the patient.
async fn delete_user(
    State(care): State<Care>,
    user: AuthUser,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, CareError> {
    let body = json_object(&body)?;
    care.db
        .with(|conn| {
            let mut c = Checker::new(&body);
            let target = c.req_uuid("user");
            c.finish()?;
            let Some(target) = target else {
                return Err(CareError::Internal("validated fields missing".into()));
            };
            require_user(conn, &target)?;
            authorize_patient_write(conn, &user, &id)?;
            let removed = conn.execute(
                "DELETE FROM patient_user WHERE patient_id = ?1 AND user_id = ?2",
                params![id, target],
            )?;
            if removed == 0 {
                return Err(CareError::Validation("User does not exist".into()));
            }
            Ok(Json(json!({})))
        })
        .await
}

/// The user an assignment names must exist (CARE looks it up before the patient).
fn require_user(conn: &Connection, user_id: &str) -> Result<(), CareError> {
    let exists: bool = conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM user WHERE id = ?1 AND deleted = 0)",
        params![user_id],
        |r| r.get(0),
    )?;
    if exists {
        Ok(())
    } else {
        Err(CareError::NotFound("User"))
    }
}

/// The patient exists and the caller may write it: CARE's `authorize_update`, whose
/// refusal reads "Cannot Create Patient" whatever the write (sic).
fn authorize_patient_write(conn: &Connection, user: &AuthUser, id: &str) -> Result<(), CareError> {
    load_visible(conn, user, id)?;
    if user.can("can_write_patient") {
        Ok(())
    } else {
        Err(CareError::Forbidden("Cannot Create Patient".into()))
    }
}
