//! Govt (geo) organizations: `GET /organization/` and `GET /organization/{id}/`.

use axum::{
    extract::{Path, Query, State},
    routing::get,
    Json, Router,
};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{auth::AuthUser, error::CareError, pagination::Page, Care};

pub fn router() -> Router<Care> {
    Router::new()
        .route("/organization/", get(list))
        .route("/organization/{id}/", get(retrieve))
}

struct Row {
    id: String,
    name: String,
    org_type: String,
    description: Option<String>,
    metadata: String,
    parent_id: Option<String>,
    level_cache: i64,
    active: bool,
    system_generated: bool,
}

const COLUMNS: &str =
    "id, name, org_type, description, metadata, parent_id, level_cache, active, system_generated";

fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok(Row {
        id: r.get(0)?,
        name: r.get(1)?,
        org_type: r.get(2)?,
        description: r.get(3)?,
        metadata: r.get(4)?,
        parent_id: r.get(5)?,
        level_cache: r.get(6)?,
        active: r.get(7)?,
        system_generated: r.get(8)?,
    })
}

/// The organization as CARE nests it: `parent` is `{}` for a root, else the parent object.
pub fn org_json(conn: &Connection, id: &str) -> Result<Value, CareError> {
    let row = conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM organization WHERE id = ?1"),
            params![id],
            read_row,
        )
        .optional()?
        .ok_or(CareError::NotFound("Organization"))?;
    to_json(conn, row)
}

fn to_json(conn: &Connection, row: Row) -> Result<Value, CareError> {
    let has_children: bool = conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM organization WHERE parent_id = ?1)",
        params![row.id],
        |r| r.get(0),
    )?;
    let parent = match &row.parent_id {
        Some(pid) => org_json(conn, pid)?,
        None => json!({}),
    };
    Ok(json!({
        "id": row.id,
        "active": row.active,
        "org_type": row.org_type,
        "name": row.name,
        "description": row.description,
        "metadata": serde_json::from_str::<Value>(&row.metadata).unwrap_or_else(|_| json!({})),
        "level_cache": row.level_cache,
        "system_generated": row.system_generated,
        "has_children": has_children,
        "parent": parent,
    }))
}

#[derive(Debug, Deserialize)]
pub struct ListParams {
    org_type: Option<String>,
    /// Absent: every organization; empty: roots; a UUID: its children.
    parent: Option<String>,
    name: Option<String>,
    level_cache: Option<i64>,
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
            let mut sql = format!("SELECT {COLUMNS} FROM organization WHERE 1=1");
            let mut args: Vec<Box<dyn rusqlite::ToSql>> = Vec::new();
            if let Some(t) = p.org_type.as_deref().filter(|t| !t.is_empty()) {
                args.push(Box::new(t.to_string()));
                sql += &format!(" AND org_type = ?{}", args.len());
            }
            match p.parent.as_deref() {
                None => {}
                Some("") => sql += " AND parent_id IS NULL",
                Some(parent) => {
                    args.push(Box::new(parent.to_string()));
                    sql += &format!(" AND parent_id = ?{}", args.len());
                }
            }
            if let Some(name) = p.name.as_deref().filter(|n| !n.is_empty()) {
                args.push(Box::new(format!("%{}%", name.to_lowercase())));
                sql += &format!(" AND lower(name) LIKE ?{}", args.len());
            }
            if let Some(level) = p.level_cache {
                args.push(Box::new(level));
                sql += &format!(" AND level_cache = ?{}", args.len());
            }
            sql += " ORDER BY name";
            let rows: Vec<Row> = {
                let mut stmt = conn.prepare(&sql)?;
                let mapped = stmt.query_map(
                    rusqlite::params_from_iter(args.iter().map(|a| a.as_ref())),
                    read_row,
                )?;
                mapped.collect::<Result<_, _>>()?
            };
            let count = rows.len();
            let results = p
                .page
                .slice(rows)
                .into_iter()
                .map(|r| to_json(conn, r))
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
            let mut org = org_json(conn, &id)?;
            org["permissions"] = json!(user.role.permissions());
            Ok(Json(org))
        })
        .await
}
