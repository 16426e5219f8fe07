//! Questionnaires (care-api.md §6): the bundled forms (`data/questionnaires.json`: the forms of
//! the captured samples plus demo forms that use every question type), their tags, `submit/`
//! with per-type answer validation, `required` and `enable_when`, and the patient's
//! questionnaire responses (answers and the structured rows clinical writes leave).

use std::{collections::HashMap, sync::LazyLock};

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
    db::now_iso,
    error::CareError,
    pagination::Page,
    patient, patient_scope,
    users::user_spec,
    validate::Checker,
    valueset::{self, parse_coding},
    Care,
};

pub fn router() -> Router<Care> {
    Router::new()
        .route("/questionnaire/", get(list))
        .route("/questionnaire/{slug}/", get(retrieve))
        .route("/questionnaire/{slug}/submit/", post(submit))
        .route("/questionnaire_tag/", get(tags))
        .route(
            "/patient/{pid}/questionnaire_response/",
            get(list_responses),
        )
        .route(
            "/patient/{pid}/questionnaire_response/{id}/",
            get(retrieve_response),
        )
}

/// CARE's limit on a text answer.
const MAX_TEXT: usize = 2500;

#[derive(Debug, Deserialize, Clone)]
struct Tag {
    id: String,
    name: String,
    slug: String,
}

#[derive(Debug, Default, Deserialize)]
struct Bundle {
    tags: Vec<Tag>,
    questionnaires: Vec<Map<String, Value>>,
}

static BUNDLE: LazyLock<Bundle> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../data/questionnaires.json")).unwrap_or_default()
});

fn text<'a>(q: &'a Map<String, Value>, key: &str) -> &'a str {
    q.get(key).and_then(Value::as_str).unwrap_or("")
}

fn find(slug: &str) -> Result<&'static Map<String, Value>, CareError> {
    BUNDLE
        .questionnaires
        .iter()
        .find(|q| text(q, "slug") == slug)
        .ok_or(CareError::NotFound("Questionnaire"))
}

/// The id of the bundled questionnaire `slug`'s question with `link_id` (groups searched too).
pub fn question_id(slug: &str, link_id: &str) -> Option<String> {
    fn search(qs: &Value, link_id: &str) -> Option<String> {
        qs.as_array()?.iter().find_map(|q| {
            if q["link_id"] == link_id {
                q["id"].as_str().map(String::from)
            } else {
                search(&q["questions"], link_id)
            }
        })
    }
    search(find(slug).ok()?.get("questions")?, link_id)
}

/// Questions with `parent` set, as they appear nested in a questionnaire response.
fn with_parents(questions: &Value, parent: Option<&str>) -> Value {
    let Value::Array(items) = questions else {
        return json!([]);
    };
    Value::Array(
        items
            .iter()
            .map(|q| {
                let mut q = q.clone();
                let id = q["id"].as_str().map(String::from);
                if q.get("questions").is_some() {
                    q["questions"] = with_parents(&q["questions"], id.as_deref());
                }
                q["parent"] = json!(parent);
                q
            })
            .collect(),
    )
}

/// QuestionnaireRead. `nested` is the form inside a response (pydantic's `meta`);
/// `parents` adds the questions' `parent` keys, which real CARE returns from `submit/` only.
fn questionnaire_json(
    conn: &Connection,
    q: &Map<String, Value>,
    nested: bool,
    parents: bool,
) -> Result<Value, CareError> {
    let admin: Option<String> = conn
        .query_row(
            "SELECT id FROM user WHERE username = 'care-admin'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    let by = match &admin {
        Some(id) => user_spec(conn, id, true)?,
        None => Value::Null,
    };
    let tag_slugs: Vec<&str> = q
        .get("tag_slugs")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let tags: Vec<Value> = BUNDLE
        .tags
        .iter()
        .filter(|t| tag_slugs.contains(&t.slug.as_str()))
        .map(|t| json!({"id": t.id, "name": t.name, "slug": t.slug}))
        .collect();
    let questions = q.get("questions").cloned().unwrap_or_else(|| json!([]));
    let mut out = Map::new();
    if nested {
        out.insert("meta".into(), json!({}));
    }
    for key in [
        "id",
        "slug",
        "version",
        "title",
        "description",
        "status",
        "subject_type",
        "styling_metadata",
    ] {
        out.insert(key.into(), q.get(key).cloned().unwrap_or(Value::Null));
    }
    out.insert(
        "questions".into(),
        if parents {
            with_parents(&questions, None)
        } else {
            questions
        },
    );
    out.insert("created_by".into(), by.clone());
    out.insert("updated_by".into(), by);
    out.insert("tags".into(), Value::Array(tags));
    Ok(Value::Object(out))
}

#[derive(Debug, Deserialize)]
struct ListParams {
    tag_slug: Option<String>,
    status: Option<String>,
    subject_type: Option<String>,
    title: Option<String>,
    #[serde(flatten)]
    page: Page,
}

async fn list(
    State(care): State<Care>,
    _user: AuthUser,
    Query(p): Query<ListParams>,
) -> Result<Json<Value>, CareError> {
    if let Some(tag) = p.tag_slug.as_deref().filter(|t| !t.is_empty()) {
        if !BUNDLE.tags.iter().any(|t| t.slug == tag) {
            return Err(CareError::NotFound("QuestionnaireTag"));
        }
    }
    let matches: Vec<&Map<String, Value>> = BUNDLE
        .questionnaires
        .iter()
        .filter(|q| {
            let has_tag = |tag: &str| {
                q.get("tag_slugs")
                    .and_then(Value::as_array)
                    .is_some_and(|a| a.iter().any(|t| t == tag))
            };
            p.tag_slug
                .as_deref()
                .filter(|t| !t.is_empty())
                .is_none_or(has_tag)
                && p.status
                    .as_deref()
                    .filter(|s| !s.is_empty())
                    .is_none_or(|s| s.split(',').any(|s| s == text(q, "status")))
                && p.subject_type
                    .as_deref()
                    .filter(|s| !s.is_empty())
                    .is_none_or(|s| s == text(q, "subject_type"))
                && p.title
                    .as_deref()
                    .is_none_or(|t| text(q, "title").to_lowercase().contains(&t.to_lowercase()))
        })
        .collect();
    let count = matches.len();
    let page = p.page.slice(matches);
    care.db
        .with(|conn| {
            let results = page
                .into_iter()
                .map(|q| questionnaire_json(conn, q, false, false))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Json(json!({"count": count, "results": results})))
        })
        .await
}

async fn retrieve(
    State(care): State<Care>,
    _user: AuthUser,
    Path(slug): Path<String>,
) -> Result<Json<Value>, CareError> {
    let q = find(&slug)?;
    care.db
        .with(|conn| Ok(Json(questionnaire_json(conn, q, false, false)?)))
        .await
}

#[derive(Debug, Deserialize)]
struct TagParams {
    name: Option<String>,
    slug: Option<String>,
    #[serde(flatten)]
    page: Page,
}

async fn tags(_user: AuthUser, Query(p): Query<TagParams>) -> Result<Json<Value>, CareError> {
    let matches: Vec<&Tag> = BUNDLE
        .tags
        .iter()
        .filter(|t| {
            p.name
                .as_deref()
                .is_none_or(|n| t.name.to_lowercase().contains(&n.to_lowercase()))
                && p.slug.as_deref().is_none_or(|s| t.slug == s)
        })
        .collect();
    let count = matches.len();
    let results: Vec<Value> = p
        .page
        .slice(matches)
        .into_iter()
        .map(|t| json!({"id": t.id, "name": t.name, "slug": t.slug}))
        .collect();
    Ok(Json(json!({"count": count, "results": results})))
}

// ---- submit ----

/// One answer as submitted (validated for shape).
struct Answer {
    question_id: String,
    /// The stored form: `{question_id, values, note?, …}`.
    stored: Value,
    values: Vec<Map<String, Value>>,
}

fn parse_submission(
    body: &Map<String, Value>,
) -> Result<(String, String, Option<String>, Vec<Answer>), CareError> {
    let mut c = Checker::new(body);
    let resource_id = c.req_uuid("resource_id");
    let patient_id = c.req_uuid("patient");
    let encounter = c.opt_uuid("encounter").value();
    let mut answers = Vec::new();
    match body.get("results") {
        None => c.missing("results"),
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                let idx = i.to_string();
                let Value::Object(obj) = item else {
                    c.error(
                        "model_type",
                        &["results", &idx],
                        "Input should be a valid dictionary or instance of QuestionnaireSubmitResult",
                        item.clone(),
                        Some(json!({"class_name": "QuestionnaireSubmitResult"})),
                    );
                    continue;
                };
                let question_id = match obj.get("question_id") {
                    Some(v) => c.uuid_value(&["results", &idx, "question_id"], v),
                    None => {
                        c.error(
                            "missing",
                            &["results", &idx, "question_id"],
                            "Field required",
                            item.clone(),
                            None,
                        );
                        None
                    }
                };
                let mut values = Vec::new();
                match obj.get("values") {
                    None | Some(Value::Null) => {}
                    Some(Value::Array(vals)) => {
                        for (j, v) in vals.iter().enumerate() {
                            let jdx = j.to_string();
                            let Value::Object(vo) = v else {
                                c.error(
                                    "model_type",
                                    &["results", &idx, "values", &jdx],
                                    "Input should be a valid dictionary or instance of QuestionnaireSubmitResultValue",
                                    v.clone(),
                                    Some(json!({"class_name": "QuestionnaireSubmitResultValue"})),
                                );
                                continue;
                            };
                            let mut kept = Map::new();
                            for (key, value) in vo {
                                if value.is_null() {
                                    continue;
                                }
                                let path = [
                                    "results",
                                    idx.as_str(),
                                    "values",
                                    jdx.as_str(),
                                    key.as_str(),
                                ];
                                match key.as_str() {
                                    "value" => {
                                        if value.is_string() {
                                            kept.insert(key.clone(), value.clone());
                                        } else {
                                            c.error(
                                                "string_type",
                                                &path,
                                                "Input should be a valid string",
                                                value.clone(),
                                                None,
                                            );
                                        }
                                    }
                                    "unit" | "coding" => {
                                        if let Some(coding) = parse_coding(&mut c, &path, value) {
                                            kept.insert(key.clone(), Value::Object(coding));
                                        }
                                    }
                                    _ => {}
                                }
                            }
                            values.push(kept);
                        }
                    }
                    Some(other) => c.error(
                        "list_type",
                        &["results", &idx, "values"],
                        "Input should be a valid list",
                        other.clone(),
                        None,
                    ),
                }
                if let Some(note) = obj.get("note").filter(|n| !n.is_null() && !n.is_string()) {
                    c.error(
                        "string_type",
                        &["results", &idx, "note"],
                        "Input should be a valid string",
                        note.clone(),
                        None,
                    );
                }
                if let Some(taken_at) = obj.get("taken_at").filter(|t| !t.is_null()) {
                    c.tz_datetime_value(&["results", &idx, "taken_at"], taken_at);
                }
                for key in ["body_site", "method"] {
                    if let Some(v) = obj.get(key).filter(|v| !v.is_null()) {
                        parse_coding(&mut c, &["results", &idx, key], v);
                    }
                }
                if let Some(question_id) = question_id {
                    let mut stored = Map::new();
                    stored.insert("question_id".into(), json!(question_id));
                    stored.insert(
                        "values".into(),
                        Value::Array(values.iter().cloned().map(Value::Object).collect()),
                    );
                    for key in ["note", "body_site", "method", "taken_at"] {
                        if let Some(v) = obj.get(key).filter(|v| !v.is_null()) {
                            stored.insert(key.into(), v.clone());
                        }
                    }
                    answers.push(Answer {
                        question_id,
                        stored: Value::Object(stored),
                        values,
                    });
                }
            }
        }
        Some(other) => c.error(
            "list_type",
            &["results"],
            "Input should be a valid list",
            other.clone(),
            None,
        ),
    }
    c.finish()?;
    match (resource_id, patient_id) {
        (Some(r), Some(p)) => Ok((r, p, encounter, answers)),
        _ => Err(CareError::Internal("validated fields missing".into())),
    }
}

/// The answer strings a question got (a coding answers with its code).
fn answer_strings(values: &[Map<String, Value>]) -> Vec<String> {
    values
        .iter()
        .filter_map(|v| {
            v.get("value")
                .and_then(Value::as_str)
                .map(String::from)
                .or_else(|| {
                    v.get("coding")
                        .and_then(|c| c.get("code"))
                        .and_then(Value::as_str)
                        .map(String::from)
                })
        })
        .filter(|s| !s.trim().is_empty())
        .collect()
}

fn is_true(s: &str) -> Option<bool> {
    match s.trim().to_lowercase().as_str() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

fn matches_answer(value: &str, expected: &Value) -> bool {
    match expected {
        Value::Bool(b) => is_true(value) == Some(*b),
        Value::Number(n) => value.trim().parse::<f64>().ok() == n.as_f64(),
        Value::String(s) => value == s,
        Value::Object(o) => o.get("code").and_then(Value::as_str) == Some(value),
        _ => false,
    }
}

/// FHIR `enableWhen` over the answers by `link_id`.
fn enabled(q: &Value, by_link: &HashMap<String, Vec<String>>) -> bool {
    let Some(conditions) = q["enable_when"].as_array().filter(|c| !c.is_empty()) else {
        return true;
    };
    let holds = |cond: &Value| {
        let answers = cond["question"]
            .as_str()
            .and_then(|l| by_link.get(l))
            .cloned()
            .unwrap_or_default();
        let expected = &cond["answer"];
        let numeric = |cmp: fn(f64, f64) -> bool| {
            expected.as_f64().is_some_and(|e| {
                answers
                    .iter()
                    .any(|a| a.trim().parse::<f64>().is_ok_and(|v| cmp(v, e)))
            })
        };
        match cond["operator"].as_str().unwrap_or("") {
            "exists" => answers.is_empty() != expected.as_bool().unwrap_or(true),
            "equals" => answers.iter().any(|a| matches_answer(a, expected)),
            "not_equals" => {
                !answers.is_empty() && answers.iter().all(|a| !matches_answer(a, expected))
            }
            "greater" => numeric(|v, e| v > e),
            "less" => numeric(|v, e| v < e),
            "greater_or_equals" => numeric(|v, e| v >= e),
            "less_or_equals" => numeric(|v, e| v <= e),
            _ => false,
        }
    };
    if q["enable_behavior"] == "any" {
        conditions.iter().any(holds)
    } else {
        conditions.iter().all(holds)
    }
}

fn is_url(s: &str) -> bool {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    rest.is_some_and(|r| {
        let host = r.split(['/', '?', '#']).next().unwrap_or("");
        !host.is_empty() && !r.contains(char::is_whitespace)
    })
}

/// Why one value does not fit the question's type (CARE's `type_error` messages).
fn type_problem(q: &Value, value: &Map<String, Value>) -> Option<&'static str> {
    let s = value.get("value").and_then(Value::as_str);
    let kind = q["type"].as_str().unwrap_or("");
    let Some(s) = s else {
        // Only a choice bound to a value set may answer with a coding alone.
        return match (kind, value.get("coding")) {
            ("choice", Some(coding)) => {
                let slug = q["answer_value_set"].as_str().unwrap_or("");
                let code = coding["code"].as_str().unwrap_or("");
                (!slug.is_empty()
                    && valueset::lookup(slug, coding["system"].as_str(), code).is_none())
                .then_some("Invalid coding")
            }
            ("group" | "display" | "structured", _) => None,
            _ => Some("Value is required"),
        };
    };
    let t = s.trim();
    match kind {
        "integer" => t.parse::<i64>().is_err().then_some("Invalid integer"),
        "decimal" => (!t.parse::<f64>().is_ok_and(f64::is_finite)).then_some("Invalid decimal"),
        "quantity" => (!t.parse::<f64>().is_ok_and(f64::is_finite)).then_some("Invalid quantity"),
        "boolean" => is_true(t).is_none().then_some("Invalid boolean"),
        "date" => chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .is_err()
            .then_some("Invalid date"),
        "dateTime" => {
            let ok = chrono::DateTime::parse_from_rfc3339(t).is_ok()
                || ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"]
                    .iter()
                    .any(|f| chrono::NaiveDateTime::parse_from_str(t, f).is_ok());
            (!ok).then_some("Invalid datetime")
        }
        "time" => ["%H:%M:%S", "%H:%M:%S%.f", "%H:%M"]
            .iter()
            .all(|f| chrono::NaiveTime::parse_from_str(t, f).is_err())
            .then_some("Invalid time"),
        "url" => (!is_url(t)).then_some("Invalid URL"),
        "choice" => {
            let options: Vec<&str> = q["answer_option"]
                .as_array()
                .map(|a| a.iter().filter_map(|o| o["value"].as_str()).collect())
                .unwrap_or_default();
            (!options.is_empty() && !options.contains(&s)).then_some("Invalid choice")
        }
        "string" | "text" => {
            let max = q["max_length"]
                .as_u64()
                .map_or(MAX_TEXT, |m| (m as usize).min(MAX_TEXT));
            (s.chars().count() > max).then_some("Text too long")
        }
        _ => None,
    }
}

fn question_error(kind: &str, question_id: &str, msg: &str) -> Value {
    json!({"type": kind, "question_id": question_id, "msg": msg})
}

/// Checks every answer against its question; required and enable_when on the whole form.
fn check_answers(questionnaire: &Map<String, Value>, answers: &[Answer]) -> Vec<Value> {
    let mut errors = Vec::new();
    let questions = questionnaire
        .get("questions")
        .cloned()
        .unwrap_or_else(|| json!([]));
    let mut all: HashMap<String, Value> = HashMap::new();
    fn flatten(qs: &Value, out: &mut HashMap<String, Value>) {
        for q in qs.as_array().into_iter().flatten() {
            if let Some(id) = q["id"].as_str() {
                out.insert(id.to_string(), q.clone());
            }
            flatten(&q["questions"], out);
        }
    }
    flatten(&questions, &mut all);
    let mut by_id: HashMap<&str, &Answer> = HashMap::new();
    let mut by_link: HashMap<String, Vec<String>> = HashMap::new();
    for a in answers {
        match all.get(&a.question_id) {
            None => errors.push(question_error(
                "question_not_found",
                &a.question_id,
                "Question not found",
            )),
            Some(q) => {
                by_id.insert(a.question_id.as_str(), a);
                if let Some(link) = q["link_id"].as_str() {
                    by_link
                        .entry(link.to_string())
                        .or_default()
                        .extend(answer_strings(&a.values));
                }
            }
        }
    }
    fn walk(
        qs: &Value,
        parent_enabled: bool,
        by_id: &HashMap<&str, &Answer>,
        by_link: &HashMap<String, Vec<String>>,
        errors: &mut Vec<Value>,
    ) {
        for q in qs.as_array().into_iter().flatten() {
            let id = q["id"].as_str().unwrap_or("");
            let on = parent_enabled && enabled(q, by_link);
            let kind = q["type"].as_str().unwrap_or("");
            let answer = by_id.get(id);
            let given = answer
                .map(|a| !answer_strings(&a.values).is_empty() || !a.values.is_empty())
                .unwrap_or(false);
            if kind == "group" {
                walk(&q["questions"], on, by_id, by_link, errors);
                continue;
            }
            if kind == "display" || kind == "structured" {
                continue;
            }
            if !on {
                if given {
                    errors.push(question_error(
                        "question_disabled",
                        id,
                        "Question is not enabled",
                    ));
                }
                continue;
            }
            if q["required"] == true && !given {
                errors.push(question_error(
                    "values_missing",
                    id,
                    "Missing Required Value",
                ));
                continue;
            }
            let Some(answer) = answer else { continue };
            if answer.values.len() > 1 && q["repeats"] != true {
                errors.push(question_error(
                    "type_error",
                    id,
                    "Multiple values not allowed",
                ));
                continue;
            }
            if let Some(msg) = answer.values.iter().find_map(|v| type_problem(q, v)) {
                errors.push(question_error("type_error", id, msg));
            }
        }
    }
    walk(&questions, true, &by_id, &by_link, &mut errors);
    errors
}

async fn submit(
    State(care): State<Care>,
    user: AuthUser,
    Path(slug): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, CareError> {
    let questionnaire = find(&slug)?;
    let body = json_object(&body)?;
    let (resource_id, patient_id, encounter, answers) = parse_submission(&body)?;
    let subject_type = text(questionnaire, "subject_type");
    let needed = if subject_type == "patient" {
        "can_submit_patient_questionnaire"
    } else {
        "can_submit_encounter_questionnaire"
    };
    if !user.can(needed) {
        return Err(CareError::Forbidden(
            "Permission Denied to submit questionnaire".into(),
        ));
    }
    if text(questionnaire, "status") != "active" {
        return Err(CareError::Validation("Questionnaire is not active".into()));
    }
    care.db
        .with(|conn| {
            patient::load(conn, &patient_id)?;
            let encounter = if subject_type == "patient" {
                if resource_id != patient_id {
                    return Err(CareError::Validation(
                        "Resource ID must be the patient's ID for a patient questionnaire".into(),
                    ));
                }
                encounter
            } else {
                Some(encounter.unwrap_or_else(|| resource_id.clone()))
            };
            if let Some(e) = &encounter {
                let owner: Option<String> = conn
                    .query_row(
                        "SELECT patient_id FROM encounter WHERE id = ?1 AND deleted = 0",
                        params![e],
                        |r| r.get(0),
                    )
                    .optional()?;
                match owner {
                    None => return Err(CareError::NotFound("Encounter")),
                    Some(o) if o != patient_id => {
                        return Err(CareError::Validation(
                            "Patient external ID mismatch with encounter's patient".into(),
                        ))
                    }
                    Some(_) => {}
                }
            }
            let errors = check_answers(questionnaire, &answers);
            if !errors.is_empty() {
                return Err(CareError::Pydantic(errors));
            }
            let id = uuid::Uuid::new_v4().to_string();
            let new = NewResponse {
                id: &id,
                slug: &slug,
                subject_id: &resource_id,
                patient_id: &patient_id,
                encounter: encounter.as_deref(),
                user_id: &user.id,
                now: &now_iso(),
            };
            insert_response(conn, &new, &answers)?;
            let row = load_response(conn, &patient_id, &id)?;
            Ok(Json(response_json(conn, &row, true)?))
        })
        .await
}

/// Where a new response goes and who wrote it when.
pub struct NewResponse<'a> {
    pub id: &'a str,
    pub slug: &'a str,
    pub subject_id: &'a str,
    pub patient_id: &'a str,
    pub encounter: Option<&'a str>,
    pub user_id: &'a str,
    pub now: &'a str,
}

fn insert_response(
    conn: &Connection,
    new: &NewResponse<'_>,
    answers: &[Answer],
) -> Result<(), CareError> {
    let responses: Vec<Value> = answers.iter().map(|a| a.stored.clone()).collect();
    conn.execute(
        "INSERT INTO questionnaire_response (id, questionnaire_slug, subject_id, patient_id,
             encounter_id, responses, structured_responses, structured_response_type,
             created_by_id, updated_by_id, created_date, modified_date)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, '{}', NULL, ?7, ?7, ?8, ?8)",
        params![
            new.id,
            new.slug,
            new.subject_id,
            new.patient_id,
            new.encounter,
            Value::Array(responses).to_string(),
            new.user_id,
            new.now
        ],
    )?;
    Ok(())
}

/// Writes a response to a bundled questionnaire as `submit/` would, after the same shape and
/// answer checks (`results` is `submit/`'s list of `{question_id, values, …}`): the demo
/// seed's way in. An invalid answer is an error, so seeded data is always submittable.
pub fn insert_checked_response(
    conn: &Connection,
    new: &NewResponse<'_>,
    results: Value,
) -> Result<(), CareError> {
    let questionnaire = find(new.slug)?;
    let mut body = Map::new();
    body.insert("resource_id".into(), json!(new.subject_id));
    body.insert("patient".into(), json!(new.patient_id));
    body.insert("encounter".into(), json!(new.encounter));
    body.insert("results".into(), results);
    let (_, _, _, answers) = parse_submission(&body)?;
    let errors = check_answers(questionnaire, &answers);
    if !errors.is_empty() {
        return Err(CareError::Pydantic(errors));
    }
    insert_response(conn, new, &answers)
}

// ---- responses ----

struct ResponseRow {
    id: String,
    questionnaire_slug: Option<String>,
    subject_id: String,
    encounter_id: Option<String>,
    responses: String,
    structured_responses: String,
    structured_response_type: Option<String>,
    created_by_id: Option<String>,
    updated_by_id: Option<String>,
    created_date: String,
    modified_date: String,
}

const RESPONSE_COLUMNS: &str = "id, questionnaire_slug, subject_id, encounter_id, responses, \
    structured_responses, structured_response_type, created_by_id, updated_by_id, created_date, \
    modified_date";

fn read_response(r: &rusqlite::Row<'_>) -> rusqlite::Result<ResponseRow> {
    Ok(ResponseRow {
        id: r.get(0)?,
        questionnaire_slug: r.get(1)?,
        subject_id: r.get(2)?,
        encounter_id: r.get(3)?,
        responses: r.get(4)?,
        structured_responses: r.get(5)?,
        structured_response_type: r.get(6)?,
        created_by_id: r.get(7)?,
        updated_by_id: r.get(8)?,
        created_date: r.get(9)?,
        modified_date: r.get(10)?,
    })
}

fn load_response(conn: &Connection, patient_id: &str, id: &str) -> Result<ResponseRow, CareError> {
    conn.query_row(
        &format!(
            "SELECT {RESPONSE_COLUMNS} FROM questionnaire_response
             WHERE id = ?1 AND patient_id = ?2 AND deleted = 0"
        ),
        params![id, patient_id],
        read_response,
    )
    .optional()?
    .ok_or(CareError::NotFound("QuestionnaireResponse"))
}

/// QuestionnaireResponseRead; structured rows carry no `questionnaire` key, as in CARE.
/// `submitted`: the answer of `submit/`, whose form lists each question's `parent`.
fn response_json(conn: &Connection, r: &ResponseRow, submitted: bool) -> Result<Value, CareError> {
    let mut out = Map::new();
    out.insert("id".into(), json!(r.id));
    if let Some(slug) = &r.questionnaire_slug {
        if let Ok(q) = find(slug) {
            out.insert(
                "questionnaire".into(),
                questionnaire_json(conn, q, true, submitted)?,
            );
        }
    }
    let parse = |s: &str, default: Value| serde_json::from_str(s).unwrap_or(default);
    out.insert("subject_id".into(), json!(r.subject_id));
    out.insert("responses".into(), parse(&r.responses, json!([])));
    out.insert("encounter".into(), json!(r.encounter_id));
    out.insert(
        "structured_responses".into(),
        parse(&r.structured_responses, json!({})),
    );
    out.insert(
        "structured_response_type".into(),
        json!(r.structured_response_type),
    );
    let user = |id: &Option<String>| -> Result<Value, CareError> {
        match id {
            Some(u) => user_spec(conn, u, true),
            None => Ok(Value::Null),
        }
    };
    out.insert("created_by".into(), user(&r.created_by_id)?);
    out.insert("updated_by".into(), user(&r.updated_by_id)?);
    out.insert("created_date".into(), json!(r.created_date));
    out.insert("modified_date".into(), json!(r.modified_date));
    Ok(Value::Object(out))
}

#[derive(Debug, Deserialize)]
struct ResponseParams {
    encounter: Option<String>,
    subject_type: Option<String>,
    questionnaire: Option<String>,
    questionnaire_slug: Option<String>,
    questionnaire_slugs: Option<String>,
    only_unstructured: Option<String>,
    #[serde(flatten)]
    page: Page,
}

async fn list_responses(
    State(care): State<Care>,
    user: AuthUser,
    Path(pid): Path<String>,
    Query(p): Query<ResponseParams>,
) -> Result<Json<Value>, CareError> {
    care.db
        .with(|conn| {
            patient::load(conn, &pid)?;
            ensure_can_view_responses(conn, &user, &pid)?;
            let mut filter = String::from(" WHERE patient_id = ?1 AND deleted = 0");
            let mut args: Vec<String> = vec![pid.clone()];
            if let Some(e) = p.encounter.as_deref().filter(|e| !e.is_empty()) {
                args.push(e.to_string());
                filter += &format!(" AND encounter_id = ?{}", args.len());
            }
            let mut slugs: Vec<String> = Vec::new();
            if let Some(id) = p.questionnaire.as_deref().filter(|s| !s.is_empty()) {
                let slug = BUNDLE
                    .questionnaires
                    .iter()
                    .find(|q| text(q, "id") == id)
                    .map(|q| text(q, "slug").to_string())
                    .unwrap_or_default();
                slugs.push(slug);
            }
            if let Some(s) = p.questionnaire_slug.as_deref().filter(|s| !s.is_empty()) {
                slugs.push(s.to_string());
            }
            if let Some(s) = p.questionnaire_slugs.as_deref().filter(|s| !s.is_empty()) {
                slugs.extend(s.split(',').map(String::from));
            }
            if !slugs.is_empty() {
                let mut marks = Vec::new();
                for s in slugs {
                    args.push(s);
                    marks.push(format!("?{}", args.len()));
                }
                filter += &format!(" AND questionnaire_slug IN ({})", marks.join(","));
            }
            if matches!(p.only_unstructured.as_deref(), Some("true" | "True" | "1")) {
                filter += " AND questionnaire_slug IS NOT NULL";
            }
            if let Some(subject) = p.subject_type.as_deref().filter(|s| !s.is_empty()) {
                let matching: Vec<String> = BUNDLE
                    .questionnaires
                    .iter()
                    .filter(|q| text(q, "subject_type") == subject)
                    .map(|q| text(q, "slug").to_string())
                    .collect();
                let mut marks = Vec::new();
                for s in matching {
                    args.push(s);
                    marks.push(format!("?{}", args.len()));
                }
                filter += &format!(" AND questionnaire_slug IN ({})", marks.join(","));
            }
            let count: i64 = conn.query_row(
                &format!("SELECT COUNT(*) FROM questionnaire_response{filter}"),
                rusqlite::params_from_iter(args.iter()),
                |r| r.get(0),
            )?;
            let rows: Vec<ResponseRow> = conn
                .prepare(&format!(
                    "SELECT {RESPONSE_COLUMNS} FROM questionnaire_response{filter}
                     ORDER BY created_date DESC, seq DESC LIMIT {} OFFSET {}",
                    p.page.limit(),
                    p.page.offset()
                ))?
                .query_map(rusqlite::params_from_iter(args.iter()), read_response)?
                .collect::<Result<_, _>>()?;
            let results = rows
                .iter()
                .map(|r| response_json(conn, r, false))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Json(json!({"count": count, "results": results})))
        })
        .await
}

async fn retrieve_response(
    State(care): State<Care>,
    user: AuthUser,
    Path((pid, id)): Path<(String, String)>,
) -> Result<Json<Value>, CareError> {
    care.db
        .with(|conn| {
            patient::load(conn, &pid)?;
            ensure_can_view_responses(conn, &user, &pid)?;
            Ok(Json(response_json(
                conn,
                &load_response(conn, &pid, &id)?,
                false,
            )?))
        })
        .await
}

/// The user may read this patient's questionnaire responses: the permission, and the patient
/// in scope.
fn ensure_can_view_responses(
    conn: &Connection,
    user: &AuthUser,
    pid: &str,
) -> Result<(), CareError> {
    let denied = || {
        CareError::Forbidden("You do not have permission to view questionnaire responses".into())
    };
    if !user.can("can_view_questionnaire_responses") {
        return Err(denied());
    }
    patient_scope::ensure_sees(conn, user, pid, denied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundle_covers_every_question_type() {
        let mut types = std::collections::BTreeSet::new();
        fn collect(qs: &Value, out: &mut std::collections::BTreeSet<String>) {
            for q in qs.as_array().into_iter().flatten() {
                let t = q["type"].as_str().unwrap_or("").to_string();
                if t == "structured" {
                    out.insert(format!(
                        "structured:{}",
                        q["structured_type"].as_str().unwrap_or("")
                    ));
                }
                out.insert(t);
                collect(&q["questions"], out);
            }
        }
        for q in &BUNDLE.questionnaires {
            collect(q.get("questions").unwrap_or(&Value::Null), &mut types);
        }
        for t in [
            "string",
            "text",
            "integer",
            "decimal",
            "boolean",
            "choice",
            "date",
            "dateTime",
            "time",
            "url",
            "quantity",
            "group",
            "display",
            "structured:symptom",
            "structured:diagnosis",
            "structured:allergy_intolerance",
            "structured:medication_statement",
        ] {
            assert!(types.contains(t), "no {t} question");
        }
    }

    #[test]
    fn enable_when_operators() {
        let by_link: HashMap<String, Vec<String>> = [
            ("a".to_string(), vec!["5".to_string()]),
            ("b".to_string(), vec!["true".to_string()]),
        ]
        .into_iter()
        .collect();
        let q = |cond: Value| json!({"enable_when": [cond]});
        assert!(enabled(
            &q(json!({"question": "a", "operator": "greater", "answer": 4})),
            &by_link
        ));
        assert!(!enabled(
            &q(json!({"question": "a", "operator": "less", "answer": 4})),
            &by_link
        ));
        assert!(enabled(
            &q(json!({"question": "b", "operator": "equals", "answer": true})),
            &by_link
        ));
        assert!(enabled(
            &q(json!({"question": "c", "operator": "exists", "answer": false})),
            &by_link
        ));
        assert!(!enabled(
            &q(json!({"question": "c", "operator": "not_equals", "answer": "x"})),
            &by_link
        ));
        let any = json!({"enable_behavior": "any", "enable_when": [
            {"question": "c", "operator": "exists", "answer": true},
            {"question": "a", "operator": "equals", "answer": 5}]});
        assert!(enabled(&any, &by_link));
    }
}
