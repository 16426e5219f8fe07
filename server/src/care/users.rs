//! Users: the embedded `UserSpec` shape and `GET /users/getcurrentuser/`.

use axum::{extract::State, routing::get, Json, Router};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Value};

use super::{auth::AuthUser, error::CareError, organization::org_json, Care};

pub fn router() -> Router<Care> {
    Router::new().route("/users/getcurrentuser/", get(current_user))
}

/// CARE's `UserSpec` (care-api.md §4.1). `nested` adds the `"meta": {}` that pydantic-nested
/// users carry in real responses.
pub fn user_spec(conn: &Connection, id: &str, nested: bool) -> Result<Value, CareError> {
    let mut spec = conn
        .query_row(
            "SELECT id, first_name, last_name, phone_number, last_login, user_type, gender, username, deleted
             FROM user WHERE id = ?1",
            params![id],
            |r| {
                Ok(json!({
                    "id": r.get::<_, String>(0)?,
                    "first_name": r.get::<_, String>(1)?,
                    "last_name": r.get::<_, String>(2)?,
                    "phone_number": r.get::<_, String>(3)?,
                    "prefix": "",
                    "suffix": "",
                    "last_login": r.get::<_, Option<String>>(4)?,
                    "profile_picture_url": null,
                    "user_type": r.get::<_, String>(5)?,
                    "gender": r.get::<_, Option<String>>(6)?,
                    "username": r.get::<_, String>(7)?,
                    "mfa_enabled": false,
                    "deleted": r.get::<_, bool>(8)?,
                }))
            },
        )
        .optional()?
        .ok_or(CareError::NotFound("User"))?;
    if nested {
        spec["meta"] = json!({});
    }
    Ok(spec)
}

async fn current_user(State(care): State<Care>, user: AuthUser) -> Result<Json<Value>, CareError> {
    care.db.with(|conn| {
        let mut out = user_spec(conn, &user.id, false)?;
        let (email, geo_id, created_by, role_name): (String, Option<String>, Option<String>, String) = conn.query_row(
            "SELECT email, geo_organization_id, created_by_id, role_name FROM user WHERE id = ?1",
            params![user.id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?;
        let geo = geo_id.as_deref().map(|g| org_json(conn, g)).transpose()?;
        let organizations: Vec<Value> = if user.is_superuser {
            let roots: Vec<String> = conn
                .prepare("SELECT id FROM organization WHERE parent_id IS NULL AND org_type = 'govt' ORDER BY name")?
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            roots.iter().map(|id| org_json(conn, id)).collect::<Result<_, _>>()?
        } else {
            geo.clone().into_iter().collect()
        };
        let mut organizations = organizations;
        // CARE lists the user's role as an organization of type "role".
        organizations.push(json!({
            "id": uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, role_name.as_bytes()).to_string(),
            "active": true, "org_type": "role", "name": role_name, "description": null,
            "metadata": {}, "level_cache": 0, "system_generated": false, "has_children": false, "parent": {}
        }));
        let facilities: Vec<Value> = conn
            .prepare(
                "SELECT f.id, f.name FROM facility f JOIN facility_user fu ON fu.facility_id = f.id
                 WHERE fu.user_id = ?1 ORDER BY f.name",
            )?
            .query_map(params![user.id], |r| Ok(json!({"id": r.get::<_, String>(0)?, "name": r.get::<_, String>(1)?})))?
            .collect::<Result<_, _>>()?;
        let fields = json!({
            "geo_organization": geo,
            "created_by": created_by.as_deref().map(|c| user_spec(conn, c, true)).transpose()?,
            "email": email,
            "flags": [],
            "is_superuser": user.is_superuser,
            "qualification": null,
            "doctor_experience_commenced_on": null,
            "doctor_medical_council_registration": null,
            "weekly_working_hours": null,
            "alt_phone_number": null,
            "date_of_birth": null,
            "verified": false,
            "pf_endpoint": null,
            "pf_p256dh": null,
            "pf_auth": null,
            "organizations": organizations,
            "facilities": facilities,
            "permissions": user.role.permissions(),
        });
        if let (Value::Object(out_map), Value::Object(extra)) = (&mut out, fields) {
            out_map.extend(extra);
        }
        Ok(Json(out))
    })
}
