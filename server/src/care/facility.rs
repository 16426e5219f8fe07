//! `GET /facility/{id}/`: only facilities the user belongs to (404 otherwise, as CARE).

use axum::{
    extract::{Path, State},
    routing::get,
    Json, Router,
};
use rusqlite::{params, OptionalExtension};
use serde_json::{json, Value};

use super::{auth::AuthUser, error::CareError, organization::org_json, users::user_spec, Care};

pub fn router() -> Router<Care> {
    Router::new().route("/facility/{id}/", get(retrieve))
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
            let member: bool = conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM facility_user WHERE facility_id = ?1 AND user_id = ?2)",
            params![id, user.id],
            |r| r.get(0),
        )?;
            if !member && !user.is_superuser {
                return Err(CareError::NotFound("Facility"));
            }
            type FacilityRow = (
                String,
                String,
                String,
                String,
                Option<i64>,
                String,
                Option<String>,
                Option<String>,
                String,
                bool,
                Option<String>,
                Option<String>,
            );
            let row: FacilityRow = conn
            .query_row(
                "SELECT id, name, description, address, pincode, phone_number, latitude, longitude,
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
            let perms = user.role.permissions();
            Ok(Json(json!({
                "id": row.0,
                "name": row.1,
                "description": row.2,
                "address": row.3,
                "pincode": row.4,
                "phone_number": row.5,
                "latitude": row.6,
                "longitude": row.7,
                "middleware_address": null,
                "facility_type": row.8,
                "is_public": row.9,
                "features": [1],
                "cover_image_url": null,
                "read_cover_image_url": null,
                "geo_organization": row.10.as_deref().map(|g| org_json(conn, g)).transpose()?,
                "created_by": row.11.as_deref().map(|c| user_spec(conn, c, true)).transpose()?,
                "invoice_number_expression": null,
                "flags": [],
                "discount_codes": [],
                "discount_monetary_components": [],
                "instance_discount_codes": [],
                "instance_discount_monetary_components": [],
                "instance_tax_codes": [],
                "instance_tax_monetary_components": [],
                "instance_informational_codes": [],
                "patient_instance_identifier_configs": [],
                "patient_facility_identifier_configs": [],
                "permissions": perms,
                "root_org_permissions": [],
                "child_org_permissions": perms,
            })))
        })
        .await
}
