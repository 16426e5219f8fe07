//! Questionnaires (care-api.md §6): the bundled forms (`data/questionnaires.json`: the forms of
//! the captured samples plus demo forms that use every question type), their tags, `submit/`
//! with per-type answer validation, `required` and `enable_when`, and the patient's
//! questionnaire responses (answers and the structured rows clinical writes leave).

use std::sync::LazyLock;

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
    questionnaire_answers::{check_answers, parse_submission, text, Answer},
    users::user_spec,
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
    patient_scope::ensure_may_read(
        conn,
        user,
        pid,
        Some("can_view_questionnaire_responses"),
        "You do not have permission to view questionnaire responses",
    )
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
}
