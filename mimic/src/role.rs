//! `GET /role/`: CARE's system roles with their permissions.

use axum::{
    extract::{Query, State},
    routing::get,
    Json, Router,
};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{
    auth::AuthUser, db::escape_like, error::CareError, pagination::Page, permissions::describe,
    Care,
};

pub fn router() -> Router<Care> {
    Router::new().route("/role/", get(list))
}

/// The id of a role, stable across databases: the bytes of a UUIDv5 of its name, stamped as
/// a v4 (CARE's ids are UUID4 and its bodies are validated as such).
pub fn role_id(name: &str) -> String {
    let hashed = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, name.as_bytes());
    uuid::Builder::from_random_bytes(hashed.into_bytes())
        .into_uuid()
        .to_string()
}

#[derive(Debug, Deserialize)]
struct ListParams {
    name: Option<String>,
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
            let pattern = format!(
                "%{}%",
                escape_like(&p.name.clone().unwrap_or_default().to_lowercase())
            );
            type RoleRow = (String, String, String, bool, bool, String);
            let rows: Vec<RoleRow> = conn
                .prepare(
                    "SELECT id, name, description, is_system, is_archived, permissions FROM role
                 WHERE lower(name) LIKE ?1 ESCAPE '\\' ORDER BY rowid",
                )?
                .query_map([pattern], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                })?
                .collect::<Result<_, _>>()?;
            let count = rows.len();
            let results: Vec<Value> = p
                .page
                .slice(rows)
                .into_iter()
                .map(|(id, name, description, is_system, is_archived, perms)| {
                    let slugs: Vec<String> = serde_json::from_str(&perms).unwrap_or_default();
                    json!({
                        "id": id,
                        "name": name,
                        "description": description,
                        "is_system": is_system,
                        "is_archived": is_archived,
                        "permissions": slugs.iter().map(|s| describe(s)).collect::<Vec<_>>(),
                    })
                })
                .collect();
            Ok(Json(json!({ "count": count, "results": results })))
        })
        .await
}
