//! Value sets (care-api.md §6) from a bundled code list instead of a Snowstorm terminology
//! server: list, expand (search), validate_code, and each user's favourites and recent views.
//! `parse_coding` / `check_in_valueset` are what the clinical writes use to validate codes.

use std::{collections::BTreeMap, sync::LazyLock};

use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    routing::{get, post},
    Json, Router,
};
use rusqlite::params;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{
    auth::AuthUser, db::now_iso, error::CareError, pagination::Page, validate::Checker, Care,
};

pub fn router() -> Router<Care> {
    Router::new()
        .route("/valueset/", get(list))
        .route("/valueset/{slug}/", get(retrieve))
        .route("/valueset/{slug}/expand/", post(expand))
        .route("/valueset/{slug}/validate_code/", post(validate_code))
        .route("/valueset/{slug}/favourites/", get(favourites))
        .route("/valueset/{slug}/recent_views/", get(recent_views))
        .route("/valueset/{slug}/add_favourite/", post(add_favourite))
        .route("/valueset/{slug}/remove_favourite/", post(remove_favourite))
        .route("/valueset/{slug}/clear_favourites/", post(clear_favourites))
        .route("/valueset/{slug}/add_recent_view/", post(add_recent_view))
        .route(
            "/valueset/{slug}/remove_recent_view/",
            post(remove_recent_view),
        )
        .route(
            "/valueset/{slug}/clear_recent_views/",
            post(clear_recent_views),
        )
}

pub const CONDITION: &str = "system-condition-code";
pub const ALLERGY: &str = "system-allergy-code";
pub const MEDICATION: &str = "system-medication";

/// Recent views kept per user and value set (newest first).
const MAX_RECENT: i64 = 20;
/// Favourites allowed per user and value set.
const MAX_FAVOURITES: i64 = 100;

#[derive(Debug, Deserialize)]
struct ValueSetDef {
    id: String,
    slug: String,
    name: String,
    description: String,
    compose: Value,
    status: String,
    is_system_defined: bool,
}

#[derive(Debug, Deserialize)]
struct CodeList {
    system: String,
    /// `[code, display]` pairs.
    concepts: Vec<(String, String)>,
}

#[derive(Debug, Default, Deserialize)]
struct Bundle {
    valuesets: Vec<ValueSetDef>,
    codes: BTreeMap<String, CodeList>,
}

static BUNDLE: LazyLock<Bundle> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../data/valueset_codes.json")).unwrap_or_default()
});

fn definition(slug: &str) -> Result<&'static ValueSetDef, CareError> {
    BUNDLE
        .valuesets
        .iter()
        .find(|v| v.slug == slug)
        .ok_or(CareError::NotFound("ValueSet"))
}

fn definition_json(v: &ValueSetDef) -> Value {
    json!({
        "id": v.id,
        "slug": v.slug,
        "name": v.name,
        "description": v.description,
        "compose": v.compose,
        "status": v.status,
        "is_system_defined": v.is_system_defined,
        "created_by": {},
        "updated_by": {},
    })
}

/// The display of `code` in value set `slug`, when it is a member.
pub fn lookup(slug: &str, system: Option<&str>, code: &str) -> Option<&'static str> {
    let list = BUNDLE.codes.get(slug)?;
    if system.is_some_and(|s| s != list.system) {
        return None;
    }
    list.concepts
        .iter()
        .find(|(c, _)| c == code)
        .map(|(_, d)| d.as_str())
}

/// Number of concepts bundled for a value set (for tests and the README of the data file).
pub fn concept_count(slug: &str) -> usize {
    BUNDLE.codes.get(slug).map_or(0, |l| l.concepts.len())
}

/// A FHIR `Coding` (`extra="forbid"`): `code` required; `system`, `version`, `display`
/// optional strings. Returns the coding as given, without nulls.
pub fn parse_coding(c: &mut Checker<'_>, path: &[&str], v: &Value) -> Option<Map<String, Value>> {
    let Value::Object(obj) = v else {
        c.error(
            "model_type",
            path,
            "Input should be a valid dictionary or instance of Coding",
            v.clone(),
            Some(json!({"class_name": "Coding"})),
        );
        return None;
    };
    let mut ok = true;
    let mut out = Map::new();
    for (key, value) in obj {
        let mut sub: Vec<&str> = path.to_vec();
        sub.push(key);
        match key.as_str() {
            "system" | "version" | "display" | "code" => match value {
                Value::String(_) => {
                    out.insert(key.clone(), value.clone());
                }
                Value::Null if key != "code" => {}
                _ => {
                    c.error(
                        "string_type",
                        &sub,
                        "Input should be a valid string",
                        value.clone(),
                        None,
                    );
                    ok = false;
                }
            },
            _ => {
                c.error(
                    "extra_forbidden",
                    &sub,
                    "Extra inputs are not permitted",
                    value.clone(),
                    None,
                );
                ok = false;
            }
        }
    }
    if !obj.contains_key("code") {
        let mut sub: Vec<&str> = path.to_vec();
        sub.push("code");
        c.error("missing", &sub, "Field required", v.clone(), None);
        ok = false;
    }
    ok.then_some(out)
}

/// Records a pydantic value error when the coding is not in the value set, as CARE's
/// `validate_valueset` does after asking the terminology server.
pub fn check_in_valueset(
    c: &mut Checker<'_>,
    path: &[&str],
    slug: &str,
    coding: &Map<String, Value>,
    input: &Value,
) -> bool {
    let code = coding.get("code").and_then(Value::as_str).unwrap_or("");
    let system = coding.get("system").and_then(Value::as_str);
    if lookup(slug, system, code).is_some() {
        return true;
    }
    c.value_error(
        path,
        &format!("Code {code} is not a valid code in valueset {slug}"),
        input.clone(),
    );
    false
}

/// `request.data` of an empty POST is `{}` in DRF.
fn body_object(body: &Bytes) -> Result<Map<String, Value>, CareError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    super::auth::json_object(body)
}

#[derive(Debug, Deserialize)]
struct ListParams {
    name: Option<String>,
    slug: Option<String>,
    status: Option<String>,
    #[serde(flatten)]
    page: Page,
}

async fn list(_user: AuthUser, Query(p): Query<ListParams>) -> Result<Json<Value>, CareError> {
    let matches: Vec<&ValueSetDef> = BUNDLE
        .valuesets
        .iter()
        .filter(|v| {
            p.name
                .as_deref()
                .is_none_or(|n| v.name.to_lowercase().contains(&n.to_lowercase()))
                && p.slug.as_deref().is_none_or(|s| v.slug == s)
                && p.status.as_deref().is_none_or(|s| v.status == s)
        })
        .collect();
    let count = matches.len();
    let results: Vec<Value> = p
        .page
        .slice(matches)
        .into_iter()
        .map(definition_json)
        .collect();
    Ok(Json(json!({"count": count, "results": results})))
}

async fn retrieve(_user: AuthUser, Path(slug): Path<String>) -> Result<Json<Value>, CareError> {
    Ok(Json(definition_json(definition(&slug)?)))
}

async fn expand(
    _user: AuthUser,
    Path(slug): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, CareError> {
    definition(&slug)?;
    let body = body_object(&body)?;
    let mut c = Checker::new(&body);
    let search = c.opt_str("search", None).value().unwrap_or_default();
    let count = match c.opt_int("count").value() {
        Some(n) if n <= 0 => {
            c.error(
                "greater_than",
                &["count"],
                "Input should be greater than 0",
                json!(n),
                Some(json!({"gt": 0})),
            );
            10
        }
        Some(n) if n >= 100 => {
            c.error(
                "less_than",
                &["count"],
                "Input should be less than 100",
                json!(n),
                Some(json!({"lt": 100})),
            );
            10
        }
        Some(n) => n as usize,
        None => 10,
    };
    c.finish()?;
    let needle = search.trim().to_lowercase();
    let Some(list) = BUNDLE.codes.get(&slug) else {
        return Ok(Json(json!({"results": []})));
    };
    // Displays that start with the search text first, then other matches, each in list order.
    let mut hits: Vec<(bool, &(String, String))> = list
        .concepts
        .iter()
        .filter_map(|concept| {
            let display = concept.1.to_lowercase();
            if needle.is_empty() || concept.0.starts_with(&needle) {
                Some((true, concept))
            } else if display.contains(&needle) {
                Some((display.starts_with(&needle), concept))
            } else {
                None
            }
        })
        .collect();
    hits.sort_by_key(|(prefix, _)| !*prefix);
    let results: Vec<Value> = hits
        .into_iter()
        .take(count)
        .map(|(_, (code, display))| {
            json!({"display": display, "system": list.system, "code": code, "designation": []})
        })
        .collect();
    Ok(Json(json!({ "results": results })))
}

async fn validate_code(
    _user: AuthUser,
    Path(slug): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, CareError> {
    definition(&slug)?;
    let body = body_object(&body)?;
    let raw = Value::Object(body.clone());
    let mut c = Checker::new(&body);
    let coding = parse_coding(&mut c, &[], &raw);
    c.finish()?;
    let result = coding.is_some_and(|coding| {
        let code = coding.get("code").and_then(Value::as_str).unwrap_or("");
        lookup(&slug, coding.get("system").and_then(Value::as_str), code).is_some()
    });
    Ok(Json(json!({ "result": result })))
}

/// A coding posted to add/remove a favourite or recent view: validated, and in the set.
fn posted_coding(slug: &str, body: &Bytes) -> Result<(String, String, String), CareError> {
    let body = body_object(body)?;
    let raw = Value::Object(body.clone());
    let mut c = Checker::new(&body);
    let coding = parse_coding(&mut c, &[], &raw);
    c.finish()?;
    let coding = coding.unwrap_or_default();
    let get = |k: &str| {
        coding
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let (system, code) = (get("system"), get("code"));
    let system = if system.is_empty() {
        BUNDLE
            .codes
            .get(slug)
            .map(|l| l.system.clone())
            .unwrap_or_default()
    } else {
        system
    };
    let Some(display) = lookup(slug, Some(&system), &code) else {
        return Err(CareError::Validation(format!(
            "Code {code} is not a valid code in valueset {slug}"
        )));
    };
    let given = get("display");
    let display = if given.is_empty() {
        display.to_string()
    } else {
        given
    };
    Ok((system, code, display))
}

const FAVOURITE: &str = "favourite";
const RECENT: &str = "recent";

async fn preferences(
    care: &Care,
    user: &AuthUser,
    slug: &str,
    kind: &str,
) -> Result<Value, CareError> {
    definition(slug)?;
    let order = if kind == RECENT { "DESC" } else { "ASC" };
    care.db
        .with(|conn| {
            let rows: Vec<(String, String, String)> = conn
                .prepare(&format!(
                    "SELECT system, code, display FROM valueset_preference
                     WHERE user_id = ?1 AND slug = ?2 AND kind = ?3 ORDER BY seq {order}"
                ))?
                .query_map(params![user.id, slug, kind], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?
                .collect::<Result<_, _>>()?;
            Ok(Value::Array(
                rows.into_iter()
                    .map(|(system, code, display)| {
                        json!({"display": display, "system": system, "code": code, "designation": null})
                    })
                    .collect(),
            ))
        })
        .await
}

async fn favourites(
    State(care): State<Care>,
    user: AuthUser,
    Path(slug): Path<String>,
) -> Result<Json<Value>, CareError> {
    Ok(Json(preferences(&care, &user, &slug, FAVOURITE).await?))
}

async fn recent_views(
    State(care): State<Care>,
    user: AuthUser,
    Path(slug): Path<String>,
) -> Result<Json<Value>, CareError> {
    Ok(Json(preferences(&care, &user, &slug, RECENT).await?))
}

/// Adds a code (a repeat moves a recent view to the front and leaves a favourite in place).
async fn add(
    care: &Care,
    user: &AuthUser,
    slug: &str,
    kind: &'static str,
    body: &Bytes,
) -> Result<String, CareError> {
    definition(slug)?;
    let (system, code, display) = posted_coding(slug, body)?;
    care.db
        .with(|conn| {
            let tx = conn.savepoint()?;
            if kind == RECENT {
                tx.execute(
                    "DELETE FROM valueset_preference WHERE user_id = ?1 AND slug = ?2 AND kind = ?3 AND code = ?4",
                    params![user.id, slug, kind, code],
                )?;
            } else {
                let (exists, count): (bool, i64) = tx.query_row(
                    "SELECT EXISTS(SELECT 1 FROM valueset_preference WHERE user_id = ?1 AND slug = ?2
                         AND kind = ?3 AND code = ?4),
                     (SELECT COUNT(*) FROM valueset_preference WHERE user_id = ?1 AND slug = ?2 AND kind = ?3)",
                    params![user.id, slug, kind, code],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?;
                if !exists && count >= MAX_FAVOURITES {
                    return Err(CareError::Validation(format!(
                        "Cannot have more than {MAX_FAVOURITES} favourites"
                    )));
                }
            }
            tx.execute(
                "INSERT OR IGNORE INTO valueset_preference (user_id, slug, kind, system, code, display, created_date)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![user.id, slug, kind, system, code, display, now_iso()],
            )?;
            if kind == RECENT {
                tx.execute(
                    "DELETE FROM valueset_preference WHERE user_id = ?1 AND slug = ?2 AND kind = ?3
                     AND seq NOT IN (SELECT seq FROM valueset_preference WHERE user_id = ?1 AND slug = ?2
                         AND kind = ?3 ORDER BY seq DESC LIMIT ?4)",
                    params![user.id, slug, kind, MAX_RECENT],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
        .await?;
    Ok(code)
}

async fn remove(
    care: &Care,
    user: &AuthUser,
    slug: &str,
    kind: &'static str,
    body: &Bytes,
) -> Result<String, CareError> {
    definition(slug)?;
    let body = body_object(body)?;
    let raw = Value::Object(body.clone());
    let mut c = Checker::new(&body);
    let coding = parse_coding(&mut c, &[], &raw);
    c.finish()?;
    let code = coding
        .as_ref()
        .and_then(|c| c.get("code"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    care.db
        .with(|conn| {
            conn.execute(
                "DELETE FROM valueset_preference WHERE user_id = ?1 AND slug = ?2 AND kind = ?3 AND code = ?4",
                params![user.id, slug, kind, code],
            )?;
            Ok(())
        })
        .await?;
    Ok(code)
}

async fn clear(care: &Care, user: &AuthUser, slug: &str, kind: &str) -> Result<(), CareError> {
    definition(slug)?;
    care.db
        .with(|conn| {
            conn.execute(
                "DELETE FROM valueset_preference WHERE user_id = ?1 AND slug = ?2 AND kind = ?3",
                params![user.id, slug, kind],
            )?;
            Ok(())
        })
        .await
}

async fn add_favourite(
    State(care): State<Care>,
    user: AuthUser,
    Path(slug): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, CareError> {
    let code = add(&care, &user, &slug, FAVOURITE, &body).await?;
    Ok(Json(
        json!({"message": format!("Code {code} added to favourites")}),
    ))
}

async fn remove_favourite(
    State(care): State<Care>,
    user: AuthUser,
    Path(slug): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, CareError> {
    let code = remove(&care, &user, &slug, FAVOURITE, &body).await?;
    Ok(Json(
        json!({"message": format!("Code {code} removed from favourites")}),
    ))
}

async fn clear_favourites(
    State(care): State<Care>,
    user: AuthUser,
    Path(slug): Path<String>,
) -> Result<Json<Value>, CareError> {
    clear(&care, &user, &slug, FAVOURITE).await?;
    Ok(Json(json!({"message": "Favourites cleared"})))
}

async fn add_recent_view(
    State(care): State<Care>,
    user: AuthUser,
    Path(slug): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, CareError> {
    let code = add(&care, &user, &slug, RECENT, &body).await?;
    Ok(Json(
        json!({"message": format!("Code {code} added to recent views")}),
    ))
}

async fn remove_recent_view(
    State(care): State<Care>,
    user: AuthUser,
    Path(slug): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, CareError> {
    let code = remove(&care, &user, &slug, RECENT, &body).await?;
    Ok(Json(
        json!({"message": format!("Code {code} removed from recent views")}),
    ))
}

async fn clear_recent_views(
    State(care): State<Care>,
    user: AuthUser,
    Path(slug): Path<String>,
) -> Result<Json<Value>, CareError> {
    clear(&care, &user, &slug, RECENT).await?;
    Ok(Json(json!({"message": "Recent views cleared"})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundle_loads_with_real_snomed_codes() {
        assert_eq!(
            lookup(CONDITION, Some("http://snomed.info/sct"), "386661006"),
            Some("Fever")
        );
        assert_eq!(
            lookup(CONDITION, None, "44054006"),
            Some("Diabetes mellitus type 2")
        );
        assert!(lookup(CONDITION, Some("http://loinc.org"), "386661006").is_none());
        assert!(lookup(ALLERGY, None, "91936005").is_some());
        assert!(lookup(MEDICATION, None, "387207008").is_some());
        let total: usize = [CONDITION, ALLERGY, MEDICATION]
            .iter()
            .map(|s| concept_count(s))
            .sum();
        assert!(total >= 240, "{total}");
    }

    #[test]
    fn codings_are_strict() {
        let body = json!({"c": {"code": 1, "foo": "x"}});
        let map = body.as_object().cloned().unwrap_or_default();
        let mut c = Checker::new(&map);
        assert!(parse_coding(&mut c, &["c"], &body["c"]).is_none());
        let Err(CareError::Pydantic(errors)) = c.finish() else {
            panic!("expected errors");
        };
        let kinds: Vec<&str> = errors.iter().filter_map(|e| e["type"].as_str()).collect();
        assert!(kinds.contains(&"string_type") && kinds.contains(&"extra_forbidden"));
    }
}
