//! Patient-nested clinical lists (care-api.md §6): symptoms, diagnoses, allergy intolerances
//! and medication statements. Each has a paginated list, retrieve, create, update and the
//! `upsert/` the questionnaire form writes through (`{"datapoints": [...]}`, ≤ 100, all or
//! nothing). Codes are validated against the bundled value sets. Every create or update also
//! writes a structured questionnaire response, which is how CARE's timeline shows them.

use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{
    auth::{json_object, AuthUser},
    db::now_iso,
    error::CareError,
    pagination::Page,
    patient, patient_scope,
    users::user_spec,
    validate::Checker,
    valueset::{self, check_in_valueset, parse_coding},
    Care,
};

/// CARE's `MAX_UPSERT_SIZE`.
pub const MAX_UPSERT: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Symptom,
    Diagnosis,
    Allergy,
    MedicationStatement,
}

macro_rules! routes_for {
    ($router:expr, $path:literal, $kind:expr) => {
        $router
            .route(
                concat!("/patient/{pid}/", $path, "/"),
                get(
                    |s: State<Care>, u: AuthUser, p: Path<String>, q: Query<ListParams>| {
                        list($kind, s, u, p, q)
                    },
                )
                .post(|s: State<Care>, u: AuthUser, p: Path<String>, b: Bytes| {
                    create($kind, s, u, p, b)
                }),
            )
            .route(
                concat!("/patient/{pid}/", $path, "/upsert/"),
                post(|s: State<Care>, u: AuthUser, p: Path<String>, b: Bytes| {
                    upsert($kind, s, u, p, b)
                }),
            )
            .route(
                concat!("/patient/{pid}/", $path, "/{id}/"),
                get(|s: State<Care>, u: AuthUser, p: Path<(String, String)>| {
                    retrieve($kind, s, u, p)
                })
                .put(
                    |s: State<Care>, u: AuthUser, p: Path<(String, String)>, b: Bytes| {
                        update($kind, s, u, p, b)
                    },
                ),
            )
    };
}

pub fn router() -> Router<Care> {
    let r = Router::new();
    let r = routes_for!(r, "symptom", Kind::Symptom);
    let r = routes_for!(r, "diagnosis", Kind::Diagnosis);
    let r = routes_for!(r, "allergy_intolerance", Kind::Allergy);
    routes_for!(r, "medication/statement", Kind::MedicationStatement)
}

const CONDITION_CLINICAL: &[&str] = &[
    "active",
    "recurrence",
    "relapse",
    "inactive",
    "remission",
    "resolved",
    "unknown",
];
const CONDITION_VERIFICATION: &[&str] = &[
    "unconfirmed",
    "provisional",
    "differential",
    "confirmed",
    "refuted",
    "entered_in_error",
];
const SEVERITY: &[&str] = &["mild", "moderate", "severe"];
const DIAGNOSIS_CATEGORY: &[&str] = &[
    "encounter_diagnosis",
    "chronic_condition",
    "problem_list_item",
];
const ALLERGY_CLINICAL: &[&str] = &["active", "inactive", "resolved"];
const ALLERGY_VERIFICATION: &[&str] = &[
    "unconfirmed",
    "presumed",
    "confirmed",
    "refuted",
    "entered_in_error",
];
const ALLERGY_CATEGORY: &[&str] = &["food", "medication", "environment", "biologic"];
const CRITICALITY: &[&str] = &["low", "high", "unable_to_assess"];
const ALLERGY_TYPE: &[&str] = &["allergy", "intolerance"];
const MEDICATION_STATUS: &[&str] = &[
    "active",
    "on_hold",
    "completed",
    "stopped",
    "unknown",
    "entered_in_error",
    "not_taken",
    "intended",
];
const INFORMATION_SOURCE: &[&str] = &["related_person", "practitioner", "patient"];

/// What a field holds.
#[derive(Clone, Copy)]
enum Type {
    Enum(&'static [&'static str]),
    Str,
    Coding(&'static str),
    /// `{onset_datetime?, onset_age?, onset_string?, note?}` (and `abatement_*`).
    Moment(&'static str),
    /// `{start?, end?}`, timezone-aware.
    Period,
    DateTime,
}

/// (name, type, required on create, updatable).
type Spec = (&'static str, Type, bool, bool);

impl Kind {
    fn table_kind(self) -> &'static str {
        match self {
            Kind::Symptom | Kind::Diagnosis => "condition",
            Kind::Allergy => "allergy_intolerance",
            Kind::MedicationStatement => "medication_statement",
        }
    }

    /// `structured_response_type` of the response rows it writes.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Symptom => "symptom",
            Kind::Diagnosis => "diagnosis",
            Kind::Allergy => "allergy_intolerance",
            Kind::MedicationStatement => "medication_statement",
        }
    }

    fn model(self) -> &'static str {
        match self {
            Kind::Symptom | Kind::Diagnosis => "Condition",
            Kind::Allergy => "AllergyIntolerance",
            Kind::MedicationStatement => "MedicationStatement",
        }
    }

    fn spec_name(self) -> &'static str {
        match self {
            Kind::Symptom => "SymptomCreateSpec",
            Kind::Diagnosis => "DiagnosisCreateSpec",
            Kind::Allergy => "AllergyIntoleranceWriteSpec",
            Kind::MedicationStatement => "MedicationStatementSpec",
        }
    }

    fn fields(self) -> &'static [Spec] {
        const CONDITION: &[Spec] = &[
            (
                "clinical_status",
                Type::Enum(CONDITION_CLINICAL),
                false,
                true,
            ),
            (
                "verification_status",
                Type::Enum(CONDITION_VERIFICATION),
                true,
                true,
            ),
            ("severity", Type::Enum(SEVERITY), false, true),
            ("code", Type::Coding(valueset::CONDITION), true, true),
            ("onset", Type::Moment("onset"), false, true),
            ("abatement", Type::Moment("abatement"), false, true),
            ("note", Type::Str, false, true),
        ];
        const DIAGNOSIS: &[Spec] = &[
            (
                "clinical_status",
                Type::Enum(CONDITION_CLINICAL),
                false,
                true,
            ),
            (
                "verification_status",
                Type::Enum(CONDITION_VERIFICATION),
                true,
                true,
            ),
            ("category", Type::Enum(DIAGNOSIS_CATEGORY), true, true),
            ("severity", Type::Enum(SEVERITY), false, true),
            ("code", Type::Coding(valueset::CONDITION), true, true),
            ("onset", Type::Moment("onset"), false, true),
            ("abatement", Type::Moment("abatement"), false, true),
            ("note", Type::Str, false, true),
        ];
        const ALLERGY: &[Spec] = &[
            ("clinical_status", Type::Enum(ALLERGY_CLINICAL), true, true),
            (
                "verification_status",
                Type::Enum(ALLERGY_VERIFICATION),
                true,
                true,
            ),
            ("category", Type::Enum(ALLERGY_CATEGORY), true, false),
            ("criticality", Type::Enum(CRITICALITY), true, true),
            ("code", Type::Coding(valueset::ALLERGY), true, false),
            ("onset", Type::Moment("onset"), false, false),
            ("last_occurrence", Type::DateTime, false, true),
            ("recorded_date", Type::DateTime, false, false),
            (
                "allergy_intolerance_type",
                Type::Enum(ALLERGY_TYPE),
                false,
                true,
            ),
            ("note", Type::Str, false, true),
        ];
        const MEDICATION: &[Spec] = &[
            ("status", Type::Enum(MEDICATION_STATUS), true, true),
            ("reason", Type::Str, false, false),
            (
                "medication",
                Type::Coding(valueset::MEDICATION),
                true,
                false,
            ),
            ("dosage_text", Type::Str, false, false),
            ("effective_period", Type::Period, false, true),
            (
                "information_source",
                Type::Enum(INFORMATION_SOURCE),
                false,
                false,
            ),
            ("note", Type::Str, false, true),
        ];
        match self {
            Kind::Symptom => CONDITION,
            Kind::Diagnosis => DIAGNOSIS,
            Kind::Allergy => ALLERGY,
            Kind::MedicationStatement => MEDICATION,
        }
    }

    /// The read representation's keys, in CARE's order (`None` for computed keys).
    fn read_keys(self) -> &'static [&'static str] {
        match self {
            Kind::Symptom | Kind::Diagnosis => &[
                "id",
                "clinical_status",
                "verification_status",
                "category",
                "severity",
                "code",
                "encounter",
                "onset",
                "abatement",
                "created_by",
                "updated_by",
                "note",
                "created_date",
                "modified_date",
            ],
            Kind::Allergy => &[
                "id",
                "clinical_status",
                "verification_status",
                "category",
                "criticality",
                "code",
                "encounter",
                "onset",
                "last_occurrence",
                "recorded_date",
                "created_by",
                "updated_by",
                "note",
                "allergy_intolerance_type",
                "created_date",
                "modified_date",
            ],
            Kind::MedicationStatement => &[
                "id",
                "status",
                "reason",
                "medication",
                "dosage_text",
                "effective_period",
                "encounter",
                "information_source",
                "note",
                "created_by",
                "updated_by",
                "created_date",
                "modified_date",
            ],
        }
    }

    /// Rows of this kind, as SQL on the `clinical` table: symptoms are CARE's conditions in
    /// the problem list; the diagnosis endpoint lists every condition (as real CARE does).
    fn filter(self) -> &'static str {
        match self {
            Kind::Symptom => "kind = 'condition' AND category = 'problem_list_item'",
            Kind::Diagnosis => "kind = 'condition'",
            Kind::Allergy => "kind = 'allergy_intolerance'",
            Kind::MedicationStatement => "kind = 'medication_statement'",
        }
    }
}

struct Row {
    id: String,
    encounter_id: Option<String>,
    category: Option<String>,
    data: String,
    created_by_id: Option<String>,
    updated_by_id: Option<String>,
    created_date: String,
    modified_date: String,
}

const COLUMNS: &str =
    "id, encounter_id, category, data, created_by_id, updated_by_id, created_date, modified_date";

fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok(Row {
        id: r.get(0)?,
        encounter_id: r.get(1)?,
        category: r.get(2)?,
        data: r.get(3)?,
        created_by_id: r.get(4)?,
        updated_by_id: r.get(5)?,
        created_date: r.get(6)?,
        modified_date: r.get(7)?,
    })
}

fn load(conn: &Connection, kind: Kind, patient_id: &str, id: &str) -> Result<Row, CareError> {
    conn.query_row(
        &format!(
            "SELECT {COLUMNS} FROM clinical WHERE id = ?1 AND patient_id = ?2 AND deleted = 0 AND {}",
            kind.filter()
        ),
        params![id, patient_id],
        read_row,
    )
    .optional()?
    .ok_or(CareError::NotFound(kind.model()))
}

fn read_json(conn: &Connection, kind: Kind, row: &Row) -> Result<Value, CareError> {
    let data: Map<String, Value> = serde_json::from_str(&row.data).unwrap_or_default();
    let user = |id: &Option<String>| -> Result<Value, CareError> {
        match id {
            Some(u) => user_spec(conn, u, true),
            None => Ok(Value::Null),
        }
    };
    let mut out = Map::new();
    for key in kind.read_keys() {
        let value = match *key {
            "id" => json!(row.id),
            "encounter" => json!(row.encounter_id),
            "category" if kind != Kind::Allergy => json!(row.category),
            "created_by" => user(&row.created_by_id)?,
            "updated_by" => user(&row.updated_by_id)?,
            "created_date" => json!(row.created_date),
            "modified_date" => json!(row.modified_date),
            "onset" | "abatement" | "effective_period" => {
                data.get(*key).cloned().unwrap_or_else(|| json!({}))
            }
            other => data.get(other).cloned().unwrap_or(Value::Null),
        };
        out.insert((*key).to_string(), value);
    }
    Ok(Value::Object(out))
}

/// An ISO 8601 datetime (aware or naive, as pydantic's lax `datetime`).
fn parse_datetime(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(dt.with_timezone(&chrono::Utc));
    }
    [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S%.f",
    ]
    .iter()
    .find_map(|f| chrono::NaiveDateTime::parse_from_str(s, f).ok())
    .map(|n| n.and_utc())
}

fn datetime_value(c: &mut Checker<'_>, path: &[&str], v: &Value) -> Option<Value> {
    match v {
        Value::String(s) if parse_datetime(s).is_some() => Some(v.clone()),
        Value::String(_) => {
            c.error(
                "datetime_from_date_parsing",
                path,
                "Input should be a valid datetime or date, invalid datetime separator, expected `T`, `t`, `_` or space",
                v.clone(),
                Some(json!({"error": "invalid datetime separator, expected `T`, `t`, `_` or space"})),
            );
            None
        }
        _ => {
            c.error(
                "datetime_type",
                path,
                "Input should be a valid datetime",
                v.clone(),
                None,
            );
            None
        }
    }
}

/// Validates one field; `None` when it had errors.
fn field_value(c: &mut Checker<'_>, name: &str, ty: Type, v: &Value) -> Option<Value> {
    match ty {
        Type::Enum(options) => c.enum_value(&[name], v, options).map(Value::String),
        Type::Str => match v {
            Value::String(_) => Some(v.clone()),
            _ => {
                c.error(
                    "string_type",
                    &[name],
                    "Input should be a valid string",
                    v.clone(),
                    None,
                );
                None
            }
        },
        Type::Coding(slug) => {
            let coding = parse_coding(c, &[name], v)?;
            check_in_valueset(c, &[name], slug, &coding, v).then_some(Value::Object(coding))
        }
        Type::DateTime => datetime_value(c, &[name], v),
        Type::Moment(prefix) => {
            let Value::Object(obj) = v else {
                c.error(
                    "model_type",
                    &[name],
                    "Input should be a valid dictionary",
                    v.clone(),
                    None,
                );
                return None;
            };
            let mut out = Map::new();
            let mut ok = true;
            for (key, value) in obj {
                if value.is_null() {
                    continue;
                }
                let path = [name, key.as_str()];
                let good = if *key == format!("{prefix}_datetime") {
                    let parsed = datetime_value(c, &path, value);
                    let future = value
                        .as_str()
                        .and_then(parse_datetime)
                        .is_some_and(|d| d > chrono::Utc::now());
                    if parsed.is_some() && future && prefix == "onset" {
                        c.value_error(&path, "Onset date cannot be in the future", value.clone());
                        false
                    } else {
                        parsed.is_some()
                    }
                } else if *key == format!("{prefix}_age") {
                    c.int_value(&path, value).is_some()
                } else if *key == format!("{prefix}_string") || key == "note" {
                    if value.is_string() {
                        true
                    } else {
                        c.error(
                            "string_type",
                            &path,
                            "Input should be a valid string",
                            value.clone(),
                            None,
                        );
                        false
                    }
                } else {
                    // Unknown keys are ignored, as pydantic does by default.
                    continue;
                };
                ok &= good;
                if good {
                    out.insert(key.clone(), value.clone());
                }
            }
            ok.then_some(Value::Object(out))
        }
        Type::Period => {
            let Value::Object(obj) = v else {
                c.error(
                    "model_type",
                    &[name],
                    "Input should be a valid dictionary or instance of PeriodSpec",
                    v.clone(),
                    Some(json!({"class_name": "PeriodSpec"})),
                );
                return None;
            };
            let mut out = Map::new();
            let mut ok = true;
            for key in ["start", "end"] {
                match obj.get(key) {
                    None | Some(Value::Null) => {}
                    Some(value) => {
                        if c.tz_datetime_value(&[name, key], value).is_some() {
                            out.insert(key.into(), value.clone());
                        } else {
                            ok = false;
                        }
                    }
                }
            }
            ok.then_some(Value::Object(out))
        }
    }
}

/// A validated datapoint: the fields to store and, on create, the encounter.
struct Input {
    fields: Map<String, Value>,
    encounter: Option<String>,
}

fn validate(kind: Kind, dp: &Map<String, Value>, create: bool) -> Result<Input, CareError> {
    let mut c = Checker::new(dp);
    let mut fields = Map::new();
    for (name, ty, required, updatable) in kind.fields() {
        if !create && !updatable {
            continue;
        }
        match dp.get(*name) {
            None if create && *required => c.missing(name),
            None => {}
            Some(Value::Null) if create && *required => {
                field_value(&mut c, name, *ty, &Value::Null);
            }
            Some(Value::Null) => {
                fields.insert((*name).to_string(), Value::Null);
            }
            Some(v) => {
                if let Some(value) = field_value(&mut c, name, *ty, v) {
                    fields.insert((*name).to_string(), value);
                }
            }
        }
    }
    let encounter = if create {
        c.req_uuid("encounter")
    } else {
        c.opt_uuid("encounter").value()
    };
    c.finish()?;
    Ok(Input { fields, encounter })
}

/// The encounter must exist, belong to the patient and still be open for writes.
fn check_encounter(conn: &Connection, patient_id: &str, encounter: &str) -> Result<(), CareError> {
    let row: Option<(String, String)> = conn
        .query_row(
            "SELECT patient_id, status FROM encounter WHERE id = ?1 AND deleted = 0",
            params![encounter],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (owner, status) = row.ok_or(CareError::NotFound("Encounter"))?;
    if owner != patient_id {
        return Err(CareError::Validation(
            "Patient external ID mismatch with encounter's patient".into(),
        ));
    }
    if super::encounter::COMPLETED.contains(&status.as_str()) {
        return Err(CareError::Validation(
            "Encounter is already completed, cannot modify".into(),
        ));
    }
    Ok(())
}

/// Writes the structured questionnaire response that records a create or update.
#[allow(clippy::too_many_arguments)]
fn record_structured(
    conn: &Connection,
    kind: Kind,
    patient_id: &str,
    encounter: Option<&str>,
    id: &str,
    submit_type: &str,
    user_id: &str,
    (response_id, now): (&str, &str),
) -> Result<(), CareError> {
    let structured = json!({ kind.label(): {"id": id, "submit_type": submit_type} });
    conn.execute(
        "INSERT INTO questionnaire_response (id, questionnaire_slug, subject_id, patient_id, encounter_id,
             responses, structured_responses, structured_response_type, created_by_id, updated_by_id,
             created_date, modified_date)
         VALUES (?1, NULL, ?2, ?2, ?3, '[]', ?4, ?5, ?6, ?6, ?7, ?7)",
        params![
            response_id,
            patient_id,
            encounter,
            structured.to_string(),
            kind.label(),
            user_id,
            now
        ],
    )?;
    Ok(())
}

/// Ids and time of a new entry: its own id, its structured response's id, created/modified.
pub struct NewIds<'a> {
    pub id: &'a str,
    pub response_id: &'a str,
    pub now: &'a str,
}

/// Inserts a validated create datapoint and its structured response; returns its encounter.
fn insert_validated(
    conn: &Connection,
    kind: Kind,
    patient_id: &str,
    input: Input,
    user_id: &str,
    ids: &NewIds<'_>,
) -> Result<String, CareError> {
    let encounter = input.encounter.unwrap_or_default();
    let mut fields = input.fields;
    let category = match kind {
        Kind::Symptom => Some("problem_list_item".to_string()),
        Kind::Diagnosis => fields
            .remove("category")
            .and_then(|v| v.as_str().map(String::from)),
        _ => None,
    };
    if kind == Kind::Allergy {
        fields
            .entry("allergy_intolerance_type")
            .or_insert_with(|| json!("allergy"));
    }
    conn.execute(
        "INSERT INTO clinical (id, kind, patient_id, encounter_id, category, data, created_by_id,
             updated_by_id, created_date, modified_date)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8, ?8)",
        params![
            ids.id,
            kind.table_kind(),
            patient_id,
            encounter,
            category,
            Value::Object(fields).to_string(),
            user_id,
            ids.now
        ],
    )?;
    record_structured(
        conn,
        kind,
        patient_id,
        Some(&encounter),
        ids.id,
        "CREATE",
        user_id,
        (ids.response_id, ids.now),
    )?;
    Ok(encounter)
}

/// Writes one entry as `create` would (same validation, same rows, structured response
/// included), with the ids and time given: the demo seed's way in. Unlike `create` it also
/// writes to an encounter that has since been completed (the entry predates the completion).
pub fn insert_entry(
    conn: &Connection,
    kind: Kind,
    patient_id: &str,
    datapoint: &Map<String, Value>,
    user_id: &str,
    ids: &NewIds<'_>,
) -> Result<(), CareError> {
    let input = validate(kind, datapoint, true)?;
    insert_validated(conn, kind, patient_id, input, user_id, ids)?;
    Ok(())
}

/// Applies one create (`id` absent) or update datapoint; returns its read representation.
fn apply(
    conn: &Connection,
    kind: Kind,
    patient_id: &str,
    user: &AuthUser,
    dp: &Value,
    update_id: Option<&str>,
) -> Result<Value, CareError> {
    let Value::Object(dp) = dp else {
        let mut c_body = Map::new();
        c_body.insert("input".into(), dp.clone());
        let mut c = Checker::new(&c_body);
        let name = kind.spec_name();
        c.error(
            "model_type",
            &[],
            &format!("Input should be a valid dictionary or instance of {name}"),
            dp.clone(),
            Some(json!({ "class_name": name })),
        );
        return Err(c
            .finish()
            .err()
            .unwrap_or(CareError::Internal("model".into())));
    };
    let id = update_id.map(String::from).or_else(|| {
        dp.get("id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(String::from)
    });
    let now = now_iso();
    match id {
        None => {
            let input = validate(kind, dp, true)?;
            check_encounter(
                conn,
                patient_id,
                input.encounter.as_deref().unwrap_or_default(),
            )?;
            let id = uuid::Uuid::new_v4().to_string();
            let response_id = uuid::Uuid::new_v4().to_string();
            let ids = NewIds {
                id: &id,
                response_id: &response_id,
                now: &now,
            };
            insert_validated(conn, kind, patient_id, input, &user.id, &ids)?;
            read_json(conn, kind, &load(conn, kind, patient_id, &id)?)
        }
        Some(id) => {
            let row = load(conn, kind, patient_id, &id)?;
            let input = validate(kind, dp, false)?;
            let encounter = match (&input.encounter, kind) {
                (Some(e), Kind::Allergy) => {
                    check_encounter(conn, patient_id, e)?;
                    Some(e.clone())
                }
                _ => row.encounter_id.clone(),
            };
            if let Some(e) = &row.encounter_id {
                check_encounter(conn, patient_id, e)?;
            }
            let mut data: Map<String, Value> = serde_json::from_str(&row.data).unwrap_or_default();
            let mut category = row.category.clone();
            for (k, v) in input.fields {
                if k == "category" && kind == Kind::Diagnosis {
                    category = v.as_str().map(String::from).or(category);
                } else {
                    data.insert(k, v);
                }
            }
            conn.execute(
                "UPDATE clinical SET data = ?1, category = ?2, encounter_id = ?3, updated_by_id = ?4,
                     modified_date = ?5 WHERE id = ?6",
                params![
                    Value::Object(data).to_string(),
                    category,
                    encounter,
                    user.id,
                    now,
                    id
                ],
            )?;
            record_structured(
                conn,
                kind,
                patient_id,
                encounter.as_deref(),
                &id,
                "UPDATE",
                &user.id,
                (&uuid::Uuid::new_v4().to_string(), &now),
            )?;
            read_json(conn, kind, &load(conn, kind, patient_id, &id)?)
        }
    }
}

fn ensure_can_write(user: &AuthUser) -> Result<(), CareError> {
    if user.can("can_write_encounter") {
        Ok(())
    } else {
        Err(CareError::Forbidden(
            "You do not have permission to update encounter".into(),
        ))
    }
}

/// The user may read this patient's clinical data: the permission, and the patient in scope.
fn ensure_can_read(conn: &Connection, user: &AuthUser, pid: &str) -> Result<(), CareError> {
    patient_scope::ensure_may_read(
        conn,
        user,
        pid,
        Some("can_view_clinical_data"),
        "You do not have permission to view this patient's clinical data",
    )
}

#[derive(Debug, Deserialize)]
pub struct ListParams {
    encounter: Option<String>,
    category: Option<String>,
    clinical_status: Option<String>,
    verification_status: Option<String>,
    status: Option<String>,
    ordering: Option<String>,
    #[serde(flatten)]
    page: Page,
}

async fn list(
    kind: Kind,
    State(care): State<Care>,
    user: AuthUser,
    Path(pid): Path<String>,
    Query(p): Query<ListParams>,
) -> Result<Json<Value>, CareError> {
    care.db
        .with(|conn| {
            patient::load(conn, &pid)?;
            ensure_can_read(conn, &user, &pid)?;
            let mut filter = format!(
                " WHERE patient_id = ?1 AND deleted = 0 AND {}",
                kind.filter()
            );
            let mut args: Vec<String> = vec![pid.clone()];
            if let Some(e) = p.encounter.as_deref().filter(|e| !e.is_empty()) {
                args.push(e.to_string());
                filter += &format!(" AND encounter_id = ?{}", args.len());
            }
            if let Some(cat) = p.category.as_deref().filter(|c| !c.is_empty()) {
                let list: Vec<String> = cat
                    .split(',')
                    .map(|s| format!("'{}'", s.replace('\'', "")))
                    .collect();
                filter += &format!(" AND category IN ({})", list.join(","));
            }
            for (key, value) in [
                ("clinical_status", &p.clinical_status),
                ("verification_status", &p.verification_status),
                ("status", &p.status),
            ] {
                if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
                    args.push(v.to_string());
                    filter += &format!(" AND json_extract(data, '$.{key}') = ?{}", args.len());
                }
            }
            let order = match p.ordering.as_deref() {
                Some("created_date") => "created_date ASC, seq ASC",
                Some("modified_date") => "modified_date ASC, seq ASC",
                Some("-modified_date") => "modified_date DESC, seq DESC",
                _ => "created_date DESC, seq DESC",
            };
            let count: i64 = conn.query_row(
                &format!("SELECT COUNT(*) FROM clinical{filter}"),
                rusqlite::params_from_iter(args.iter()),
                |r| r.get(0),
            )?;
            let rows: Vec<Row> = conn
                .prepare(&format!(
                    "SELECT {COLUMNS} FROM clinical{filter} ORDER BY {order} LIMIT {} OFFSET {}",
                    p.page.limit(),
                    p.page.offset()
                ))?
                .query_map(rusqlite::params_from_iter(args.iter()), read_row)?
                .collect::<Result<_, _>>()?;
            let results = rows
                .iter()
                .map(|r| read_json(conn, kind, r))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Json(json!({"count": count, "results": results})))
        })
        .await
}

async fn retrieve(
    kind: Kind,
    State(care): State<Care>,
    user: AuthUser,
    Path((pid, id)): Path<(String, String)>,
) -> Result<Json<Value>, CareError> {
    care.db
        .with(|conn| {
            patient::load(conn, &pid)?;
            ensure_can_read(conn, &user, &pid)?;
            Ok(Json(read_json(conn, kind, &load(conn, kind, &pid, &id)?)?))
        })
        .await
}

async fn create(
    kind: Kind,
    State(care): State<Care>,
    user: AuthUser,
    Path(pid): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, CareError> {
    let mut body = json_object(&body)?;
    body.remove("id");
    care.db
        .with(|conn| {
            patient::load(conn, &pid)?;
            ensure_can_write(&user)?;
            let sp = conn.savepoint()?;
            let out = apply(&sp, kind, &pid, &user, &Value::Object(body), None)?;
            sp.commit()?;
            Ok(Json(out))
        })
        .await
}

async fn update(
    kind: Kind,
    State(care): State<Care>,
    user: AuthUser,
    Path((pid, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, CareError> {
    let body = json_object(&body)?;
    care.db
        .with(|conn| {
            patient::load(conn, &pid)?;
            ensure_can_write(&user)?;
            let sp = conn.savepoint()?;
            let out = apply(&sp, kind, &pid, &user, &Value::Object(body), Some(&id))?;
            sp.commit()?;
            Ok(Json(out))
        })
        .await
}

/// The body CARE's exception handler gives an error (what an upsert lists for a failed item).
pub async fn error_body(e: CareError) -> Value {
    let resp = e.into_response();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}

async fn upsert(
    kind: Kind,
    State(care): State<Care>,
    user: AuthUser,
    Path(pid): Path<String>,
    body: Bytes,
) -> Result<Response, CareError> {
    let body = json_object(&body)?;
    let datapoints = match body.get("datapoints") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.clone(),
        Some(other) => {
            let mut c = Checker::new(&body);
            c.error(
                "list_type",
                &["datapoints"],
                "Input should be a valid list",
                other.clone(),
                None,
            );
            c.finish()?;
            Vec::new()
        }
    };
    if datapoints.len() > MAX_UPSERT {
        return Err(CareError::Validation(format!(
            "Cannot process more than {MAX_UPSERT} datapoints in a single request"
        )));
    }
    // Per item: its read representation, or the error CARE's handler would give it.
    let outcome: Vec<Result<Value, CareError>> = care
        .db
        .with(|conn| {
            patient::load(conn, &pid)?;
            ensure_can_write(&user)?;
            let sp = conn.savepoint()?;
            let results: Vec<Result<Value, CareError>> = datapoints
                .iter()
                .map(|dp| apply(&sp, kind, &pid, &user, dp, None))
                .collect();
            if results.iter().all(Result::is_ok) {
                sp.commit()?;
            }
            // Otherwise dropping the savepoint rolls every datapoint back.
            Ok(results)
        })
        .await?;
    let failed = outcome.iter().any(Result::is_err);
    let mut items = Vec::with_capacity(outcome.len());
    for item in outcome {
        items.push(match item {
            Ok(v) => v,
            Err(CareError::Internal(msg)) => return Err(CareError::Internal(msg)),
            Err(e) => error_body(e).await,
        });
    }
    let status = if failed {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok((status, Json(Value::Array(items))).into_response())
}
