//! Facility organizations (departments and teams): `GET /facility/{fid}/organizations/`
//! (`parent=` empty for roots, or a parent's id) and `GET …/organizations/{id}/`.

use axum::{
    extract::{Path, Query, State},
    routing::get,
    Json, Router,
};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{
    auth::AuthUser, db::escape_like, error::CareError, facility::ensure_member, pagination::Page,
    users::user_spec, Care,
};

pub fn router() -> Router<Care> {
    Router::new()
        .route("/facility/{facility_id}/organizations/", get(list))
        .route("/facility/{facility_id}/organizations/{id}/", get(retrieve))
}

/// FacilityOrganizationRead: the parent is nested recursively, `{}` for a root.
pub fn facility_org_json(conn: &Connection, id: &str) -> Result<Value, CareError> {
    type Row = (
        String,
        String,
        Option<String>,
        String,
        Option<String>,
        i64,
        bool,
        Option<String>,
    );
    let row: Row = conn
        .query_row(
            "SELECT id, name, description, org_type, parent_id, level_cache, system_generated,
                    created_by_id
             FROM facility_organization WHERE id = ?1",
            params![id],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                ))
            },
        )
        .optional()?
        .ok_or(CareError::NotFound("FacilityOrganization"))?;
    let (id, name, description, org_type, parent_id, level_cache, system_generated, created_by) =
        row;
    let parent = match &parent_id {
        Some(p) => facility_org_json(conn, p)?,
        None => json!({}),
    };
    let has_children: bool = conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM facility_organization WHERE parent_id = ?1)",
        params![id],
        |r| r.get(0),
    )?;
    let by = match &created_by {
        Some(u) => user_spec(conn, u, true)?,
        None => Value::Null,
    };
    Ok(json!({
        "id": id,
        "active": true,
        "name": name,
        "description": description,
        "metadata": {},
        "org_type": org_type,
        "parent": parent,
        "created_by": by,
        "updated_by": by,
        "system_generated": system_generated,
        "level_cache": level_cache,
        "has_children": has_children,
    }))
}

#[derive(Debug, Deserialize)]
struct ListParams {
    parent: Option<String>,
    name: Option<String>,
    org_type: Option<String>,
    #[serde(flatten)]
    page: Page,
}

async fn list(
    State(care): State<Care>,
    user: AuthUser,
    Path(facility_id): Path<String>,
    Query(p): Query<ListParams>,
) -> Result<Json<Value>, CareError> {
    care.db
        .with(|conn| {
            ensure_member(conn, &facility_id, &user)?;
            let mut sql =
                String::from("SELECT id FROM facility_organization WHERE facility_id = ?1");
            let mut args: Vec<String> = vec![facility_id.clone()];
            match p.parent.as_deref() {
                None => {}
                Some("") => sql += " AND parent_id IS NULL",
                Some(parent) => {
                    args.push(parent.to_string());
                    sql += &format!(" AND parent_id = ?{}", args.len());
                }
            }
            if let Some(name) = p.name.as_deref().filter(|n| !n.is_empty()) {
                args.push(format!("%{}%", escape_like(&name.to_lowercase())));
                sql += &format!(" AND lower(name) LIKE ?{} ESCAPE '\\'", args.len());
            }
            if let Some(t) = p.org_type.as_deref().filter(|n| !n.is_empty()) {
                args.push(t.to_string());
                sql += &format!(" AND org_type = ?{}", args.len());
            }
            sql += " ORDER BY name";
            let ids: Vec<String> = conn
                .prepare(&sql)?
                .query_map(rusqlite::params_from_iter(args.iter()), |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            let count = ids.len();
            let results = p
                .page
                .slice(ids)
                .iter()
                .map(|id| facility_org_json(conn, id))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Json(json!({ "count": count, "results": results })))
        })
        .await
}

async fn retrieve(
    State(care): State<Care>,
    user: AuthUser,
    Path((facility_id, id)): Path<(String, String)>,
) -> Result<Json<Value>, CareError> {
    care.db
        .with(|conn| {
            ensure_member(conn, &facility_id, &user)?;
            let in_facility: bool = conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM facility_organization WHERE id = ?1 AND facility_id = ?2)",
            params![id, facility_id],
            |r| r.get(0),
        )?;
            if !in_facility {
                return Err(CareError::NotFound("FacilityOrganization"));
            }
            let mut org = facility_org_json(conn, &id)?;
            org["permissions"] = json!(user.role.permissions());
            Ok(Json(org))
        })
        .await
}
