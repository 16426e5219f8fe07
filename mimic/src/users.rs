//! Users: the embedded `UserSpec` shape, `GET /users/getcurrentuser/`, `GET /users/`,
//! `GET /users/{username}/` and a facility's members (`GET /facility/{id}/users/`).

use axum::{
    extract::{Path, Query, State},
    routing::get,
    Json, Router,
};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{
    auth::AuthUser, db::escape_like, error::CareError, organization::org_json, pagination::Page,
    Care,
};

pub fn router() -> Router<Care> {
    Router::new()
        .route("/users/", get(list))
        .route("/users/getcurrentuser/", get(current_user))
        .route("/users/{username}/", get(retrieve))
        .route("/facility/{fid}/users/", get(facility_members))
}

#[derive(Debug, Deserialize)]
struct MemberParams {
    username: Option<String>,
    #[serde(flatten)]
    page: Page,
}

/// CARE's `FacilityUsersViewSet`: the facility's members (paginated UserSpec), optionally
/// `username` (contains, case-insensitive). Any signed-in user may list them.
async fn facility_members(
    State(care): State<Care>,
    _user: AuthUser,
    Path(facility_id): Path<String>,
    Query(p): Query<MemberParams>,
) -> Result<Json<Value>, CareError> {
    care.db
        .with(move |conn| {
            let like = format!(
                "%{}%",
                escape_like(&p.username.unwrap_or_default().to_lowercase())
            );
            let from = "FROM user u JOIN facility_user fu ON fu.user_id = u.id
                 WHERE fu.facility_id = ?1 AND u.deleted = 0
                   AND lower(u.username) LIKE ?2 ESCAPE '\\'";
            users_page(conn, from, &[facility_id, like], &p.page).map(Json)
        })
        .await
}

#[derive(Debug, Deserialize)]
struct ListParams {
    search_text: Option<String>,
    username: Option<String>,
    phone_number: Option<String>,
    email: Option<String>,
    user_type: Option<String>,
    #[serde(flatten)]
    page: Page,
}

async fn list(
    State(care): State<Care>,
    _user: AuthUser,
    Query(p): Query<ListParams>,
) -> Result<Json<Value>, CareError> {
    care.db.with(|conn| {
        let mut filter = String::from(" WHERE deleted = 0");
        let mut args: Vec<String> = Vec::new();
        if let Some(text) = p.search_text.as_deref().filter(|t| !t.is_empty()) {
            args.push(format!("%{}%", escape_like(&text.to_lowercase())));
            let n = args.len();
            filter += &format!(
                " AND (lower(username) LIKE ?{n} ESCAPE '\\' OR lower(first_name) LIKE ?{n} ESCAPE '\\'
                   OR lower(last_name) LIKE ?{n} ESCAPE '\\')"
            );
        }
        for (column, value) in [
            ("username", &p.username),
            ("phone_number", &p.phone_number),
            ("email", &p.email),
            ("user_type", &p.user_type),
        ] {
            if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
                args.push(v.to_lowercase());
                filter += &format!(" AND lower({column}) = ?{}", args.len());
            }
        }
        users_page(conn, &format!("FROM user u{filter}"), &args, &p.page).map(Json)
    }).await
}

/// One page of the users `from` (`FROM user u … WHERE …`, with `args` for its `?N`)
/// selects, by username: `{count, results: [UserSpec]}`.
fn users_page(
    conn: &Connection,
    from: &str,
    args: &[String],
    page: &Page,
) -> Result<Value, CareError> {
    let count: i64 = conn.query_row(
        &format!("SELECT COUNT(*) {from}"),
        rusqlite::params_from_iter(args.iter()),
        |r| r.get(0),
    )?;
    let ids: Vec<String> = conn
        .prepare(&format!(
            "SELECT u.id {from} ORDER BY u.username LIMIT {} OFFSET {}",
            page.limit(),
            page.offset()
        ))?
        .query_map(rusqlite::params_from_iter(args.iter()), |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let results = ids
        .iter()
        .map(|id| user_spec(conn, id, false))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(json!({ "count": count, "results": results }))
}

/// `UserRetrieve`: UserSpec + geo_organization, created_by, email, flags.
async fn retrieve(
    State(care): State<Care>,
    _user: AuthUser,
    Path(username): Path<String>,
) -> Result<Json<Value>, CareError> {
    care.db
        .with(|conn| {
            let row: Option<(String, String, Option<String>, Option<String>)> = conn
                .query_row(
                    "SELECT id, email, geo_organization_id, created_by_id FROM user
                 WHERE username = ?1 AND deleted = 0",
                    params![username],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()?;
            let (id, email, geo, created_by) = row.ok_or(CareError::NotFound("User"))?;
            let mut out = user_spec(conn, &id, false)?;
            out["geo_organization"] = match geo {
                Some(g) => org_json(conn, &g)?,
                None => json!({}),
            };
            out["created_by"] = match created_by {
                Some(c) => user_spec(conn, &c, true)?,
                None => Value::Null,
            };
            out["email"] = json!(email);
            out["flags"] = json!([]);
            Ok(Json(out))
        })
        .await
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
            "id": super::role::role_id(&role_name),
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
    }).await
}
