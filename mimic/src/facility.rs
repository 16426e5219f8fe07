//! `GET /facility/{id}/`: only facilities the user belongs to (404 otherwise, as CARE).

use axum::{
    extract::{Path, Query, State},
    routing::get,
    Json, Router,
};
use rusqlite::{params, OptionalExtension};
use serde_json::{json, Value};

use serde::Deserialize;

use super::{
    auth::AuthUser, db::escape_like, error::CareError, organization::org_json, pagination::Page,
    users::user_spec, Care,
};

pub fn router() -> Router<Care> {
    Router::new()
        .route("/facility/", get(list))
        .route("/facility/{id}/", get(retrieve))
        .route("/getallfacilities/", get(all_public))
}

/// FacilityRead (as lists and resource requests embed it); `minimal` is the public
/// `getallfacilities` form, without `created_by` and `invoice_number_expression`.
pub fn facility_read(
    conn: &rusqlite::Connection,
    id: &str,
    minimal: bool,
) -> Result<Value, CareError> {
    type Row = (
        String,
        String,
        String,
        Option<String>,
        Option<String>,
        Option<i64>,
        String,
        String,
        String,
        bool,
        Option<String>,
        Option<String>,
    );
    let row: Row = conn
        .query_row(
            "SELECT id, name, description, longitude, latitude, pincode, address, phone_number,
                    facility_type, is_public, geo_organization_id, created_by_id
             FROM facility WHERE id = ?1",
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
                    r.get(8)?,
                    r.get(9)?,
                    r.get(10)?,
                    r.get(11)?,
                ))
            },
        )
        .optional()?
        .ok_or(CareError::NotFound("Facility"))?;
    let mut out = json!({
        "id": row.0,
        "name": row.1,
        "description": row.2,
        "longitude": row.3,
        "latitude": row.4,
        "pincode": row.5,
        "address": row.6,
        "phone_number": row.7,
        "middleware_address": null,
        "facility_type": row.8,
        "is_public": row.9,
        "features": [1],
        "cover_image_url": null,
        "read_cover_image_url": null,
        "geo_organization": match &row.10 {
            Some(g) => org_json(conn, g)?,
            None => json!({}),
        },
    });
    if !minimal {
        out["created_by"] = match &row.11 {
            Some(c) => user_spec(conn, c, true)?,
            None => Value::Null,
        };
        out["invoice_number_expression"] = Value::Null;
    }
    Ok(out)
}

#[derive(Debug, Deserialize)]
struct ListParams {
    search_text: Option<String>,
    name: Option<String>,
    #[serde(flatten)]
    page: Page,
}

/// Ids of facilities matching the text filters, by name, in `scope` (SQL on `facility f`).
fn matching(
    conn: &rusqlite::Connection,
    p: &ListParams,
    scope: &str,
    scope_arg: Option<&str>,
) -> Result<Vec<String>, CareError> {
    let mut sql = format!("SELECT f.id FROM facility f WHERE {scope}");
    let mut args: Vec<String> = Vec::new();
    if let Some(a) = scope_arg {
        args.push(a.to_string());
    }
    for text in [&p.search_text, &p.name].into_iter().flatten() {
        if !text.is_empty() {
            args.push(format!("%{}%", escape_like(&text.to_lowercase())));
            sql += &format!(" AND lower(f.name) LIKE ?{} ESCAPE '\\'", args.len());
        }
    }
    sql += " ORDER BY f.created_date, f.rowid";
    Ok(conn
        .prepare(&sql)?
        .query_map(rusqlite::params_from_iter(args.iter()), |r| r.get(0))?
        .collect::<Result<_, _>>()?)
}

/// `GET /facility/`: the facilities the user belongs to (all for a superuser).
async fn list(
    State(care): State<Care>,
    user: AuthUser,
    Query(p): Query<ListParams>,
) -> Result<Json<Value>, CareError> {
    care.db
        .with(|conn| {
            let ids = if user.is_superuser {
                matching(conn, &p, "1 = 1", None)?
            } else {
                matching(
                    conn,
                    &p,
                    "f.id IN (SELECT facility_id FROM facility_user WHERE user_id = ?1)",
                    Some(&user.id),
                )?
            };
            let count = ids.len();
            let results = p
                .page
                .slice(ids)
                .iter()
                .map(|id| facility_read(conn, id, false))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Json(json!({"count": count, "results": results})))
        })
        .await
}

/// `GET /getallfacilities/`: every public facility, minimal form.
async fn all_public(
    State(care): State<Care>,
    _user: AuthUser,
    Query(p): Query<ListParams>,
) -> Result<Json<Value>, CareError> {
    care.db
        .with(|conn| {
            let ids = matching(conn, &p, "f.is_public = 1", None)?;
            let count = ids.len();
            let results = p
                .page
                .slice(ids)
                .iter()
                .map(|id| facility_read(conn, id, true))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Json(json!({"count": count, "results": results})))
        })
        .await
}

/// CARE hides facilities the user does not belong to: 404, as if they did not exist.
pub fn ensure_member(
    conn: &rusqlite::Connection,
    facility_id: &str,
    user: &AuthUser,
) -> Result<(), CareError> {
    let (exists, member): (bool, bool) = conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM facility WHERE id = ?1),
                EXISTS(SELECT 1 FROM facility_user WHERE facility_id = ?1 AND user_id = ?2)",
        params![facility_id, user.id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    if exists && (member || user.is_superuser) {
        Ok(())
    } else {
        Err(CareError::NotFound("Facility"))
    }
}

/// `{"id", "name"}` of a facility, as encounters embed it.
pub fn facility_min(conn: &rusqlite::Connection, id: &str) -> Result<Value, CareError> {
    conn.query_row(
        "SELECT id, name FROM facility WHERE id = ?1",
        params![id],
        |r| Ok(json!({"id": r.get::<_, String>(0)?, "name": r.get::<_, String>(1)?})),
    )
    .optional()?
    .ok_or(CareError::NotFound("Facility"))
}

async fn retrieve(
    State(care): State<Care>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, CareError> {
    care.db
        .with(|conn| {
            ensure_member(conn, &id, &user)?;
            let perms = user.role.permissions();
            // FacilityRead plus what only the retrieve carries.
            let mut out = facility_read(conn, &id, false)?;
            let instance_configs = super::identifier::configs(conn, None)?;
            let facility_configs = super::identifier::configs(conn, Some(&id))?;
            let extra = json!({
                "flags": [],
                "discount_codes": [],
                "discount_monetary_components": [],
                "instance_discount_codes": [],
                "instance_discount_monetary_components": [],
                "instance_tax_codes": [],
                "instance_tax_monetary_components": [],
                "instance_informational_codes": [],
                "patient_instance_identifier_configs": instance_configs,
                "patient_facility_identifier_configs": facility_configs,
                "permissions": perms,
                "root_org_permissions": [],
                "child_org_permissions": perms,
            });
            if let (Value::Object(o), Value::Object(e)) = (&mut out, extra) {
                o.extend(e);
            }
            Ok(Json(out))
        })
        .await
}
