//! Reading, checking and writing one clinical entry: the stored row and its JSON, the
//! datapoint checks against the field specs and value sets, and the write with its
//! structured questionnaire response.

use super::*;

pub(super) struct Row {
    id: String,
    encounter_id: Option<String>,
    category: Option<String>,
    data: String,
    created_by_id: Option<String>,
    updated_by_id: Option<String>,
    created_date: String,
    modified_date: String,
}

pub(super) const COLUMNS: &str =
    "id, encounter_id, category, data, created_by_id, updated_by_id, created_date, modified_date";

pub(super) fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
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

pub(super) fn load(
    conn: &Connection,
    kind: Kind,
    patient_id: &str,
    id: &str,
) -> Result<Row, CareError> {
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

pub(super) fn read_json(conn: &Connection, kind: Kind, row: &Row) -> Result<Value, CareError> {
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
pub(super) fn parse_datetime(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
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

pub(super) fn datetime_value(c: &mut Checker<'_>, path: &[&str], v: &Value) -> Option<Value> {
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
pub(super) fn field_value(c: &mut Checker<'_>, name: &str, ty: Type, v: &Value) -> Option<Value> {
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
pub(super) struct Input {
    fields: Map<String, Value>,
    encounter: Option<String>,
}

pub(super) fn validate(
    kind: Kind,
    dp: &Map<String, Value>,
    create: bool,
) -> Result<Input, CareError> {
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
pub(super) fn check_encounter(
    conn: &Connection,
    patient_id: &str,
    encounter: &str,
) -> Result<(), CareError> {
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
    if crate::encounter::COMPLETED.contains(&status.as_str()) {
        return Err(CareError::Validation(
            "Encounter is already completed, cannot modify".into(),
        ));
    }
    Ok(())
}

/// Writes the structured questionnaire response that records a create or update.
#[allow(clippy::too_many_arguments)]
pub(super) fn record_structured(
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
pub(super) fn insert_validated(
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
pub(super) fn apply(
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
