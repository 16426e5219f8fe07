//! Login, token refresh/verify/logout, and the `AuthUser` extractor that every protected
//! endpoint takes (CARE answers a bad or expired token with 403 `token_not_valid`).

use axum::{
    body::Bytes,
    extract::{ConnectInfo, FromRequestParts, State},
    http::{header, request::Parts},
    routing::post,
    Json, Router,
};
use std::time::Instant;

use rusqlite::{params, OptionalExtension};
use serde_json::{json, Value};

use super::{
    db::{now_iso, now_secs},
    error::CareError,
    jwt::TokenType,
    password,
    permissions::Role,
    throttle::Key,
    Care,
};

pub fn router() -> Router<Care> {
    Router::new()
        .route("/auth/login/", post(login))
        .route("/auth/token/refresh/", post(refresh))
        .route("/auth/token/verify/", post(verify))
        .route("/auth/logout/", post(logout))
}

/// The signed-in user of a request.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: String,
    pub username: String,
    pub role: Role,
    pub is_superuser: bool,
}

impl AuthUser {
    /// Whether the user holds a permission slug (superusers hold all).
    pub fn can(&self, slug: &str) -> bool {
        self.is_superuser || self.role.permissions().contains(&slug)
    }
}

impl FromRequestParts<Care> for AuthUser {
    type Rejection = CareError;

    async fn from_request_parts(parts: &mut Parts, care: &Care) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok());
        // Like DRF: a header that is not a Bearer token counts as no credentials.
        let Some(token) = header
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
        else {
            return Err(CareError::NoCredentials);
        };
        let claims = care
            .jwt
            .verify(token, TokenType::Access, now_secs())
            .map_err(|_| CareError::TokenNotValid)?;
        care.db.with(|conn| {
            if is_revoked(conn, &claims.jti)? {
                return Err(CareError::TokenRevoked);
            }
            conn.query_row(
                "SELECT id, username, role_name, is_superuser FROM user WHERE id = ?1 AND deleted = 0",
                params![claims.user_id],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, bool>(3)?)),
            )
            .optional()?
            .map(|(id, username, role, is_superuser)| AuthUser {
                id,
                username,
                role: Role::from_name(&role).unwrap_or(Role::Volunteer),
                is_superuser,
            })
            .ok_or(CareError::TokenNotValid)
        }).await
    }
}

fn is_revoked(conn: &rusqlite::Connection, jti: &str) -> Result<bool, CareError> {
    Ok(conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM revoked_token WHERE jti = ?1)",
        params![jti],
        |r| r.get(0),
    )?)
}

/// Parses a JSON object body the way DRF does, with DRF's error for bad JSON.
pub fn json_object(body: &Bytes) -> Result<serde_json::Map<String, Value>, CareError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(CareError::Fields(vec![(
            "non_field_errors".into(),
            "Invalid data. Expected a dictionary, but got list.".into(),
        )])),
        Err(e) => Err(CareError::BadJson(e.to_string())),
    }
}

/// Required string fields, each missing one reported as DRF does.
fn required_strings(
    body: &serde_json::Map<String, Value>,
    fields: &[&str],
) -> Result<Vec<String>, CareError> {
    let mut missing = Vec::new();
    let mut values = Vec::new();
    for field in fields {
        match body.get(*field) {
            Some(Value::String(s)) if !s.is_empty() => values.push(s.clone()),
            Some(Value::String(_)) => missing.push((
                field.to_string(),
                "This field may not be blank.".to_string(),
            )),
            _ => missing.push((field.to_string(), "This field is required.".to_string())),
        }
    }
    if missing.is_empty() {
        Ok(values)
    } else {
        Err(CareError::Fields(missing))
    }
}

fn token_pair(care: &Care, user_id: &str) -> Value {
    let now = now_secs();
    let (refresh, _) = care.jwt.issue(TokenType::Refresh, user_id, now);
    let (access, _) = care.jwt.issue(TokenType::Access, user_id, now);
    json!({ "refresh": refresh, "access": access })
}

async fn login(
    State(care): State<Care>,
    extensions: axum::http::Extensions,
    body: Bytes,
) -> Result<Json<Value>, CareError> {
    let body = json_object(&body)?;
    let fields = required_strings(&body, &["username", "password"])?;
    let (username, password) = (fields[0].clone(), fields[1].clone());
    let user_key = Key::user(&username);
    let mut keys = vec![user_key.clone()];
    if let Some(ConnectInfo(addr)) = extensions.get::<ConnectInfo<std::net::SocketAddr>>() {
        keys.push(Key::Address(addr.ip().to_string()));
    }
    if let Err(wait) = care.login_throttle.check(&keys, Instant::now()) {
        return Err(CareError::TooManyAttempts(wait.as_secs().max(1)));
    }
    let user: Option<(String, String)> = care
        .db
        .with(move |conn| {
            Ok(conn
                .query_row(
                    "SELECT id, password_hash FROM user WHERE username = ?1 AND deleted = 0",
                    params![username],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?)
        })
        .await?;
    // One hash check whether or not the user exists (against a fixed hash for an unknown
    // one), so the time taken does not reveal which usernames exist; off the async threads.
    let (id, hash) = user.unwrap_or_else(|| (String::new(), unknown_user_hash().to_string()));
    let matches = tokio::task::spawn_blocking(move || password::verify(&password, &hash))
        .await
        .map_err(|e| CareError::Internal(e.to_string()))?;
    if !matches || id.is_empty() {
        care.login_throttle.failed(&keys, Instant::now());
        return Err(CareError::LoginFailed);
    }
    care.login_throttle.succeeded(&user_key);
    let at = now_iso();
    let uid = id.clone();
    care.db
        .with(move |conn| {
            conn.execute(
                "UPDATE user SET last_login = ?1 WHERE id = ?2",
                params![at, uid],
            )?;
            Ok(())
        })
        .await?;
    Ok(Json(token_pair(&care, &id)))
}

/// A hash no password matches in practice, made once, with the same cost as a user's.
fn unknown_user_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| password::hash(&uuid::Uuid::new_v4().to_string()))
}

async fn refresh(State(care): State<Care>, body: Bytes) -> Result<Json<Value>, CareError> {
    let body = json_object(&body)?;
    let token = required_strings(&body, &["refresh"])?.remove(0);
    let claims = care
        .jwt
        .verify(&token, TokenType::Refresh, now_secs())
        .map_err(|_| CareError::RefreshNotValid)?;
    care.db
        .with(|conn| {
            if is_revoked(conn, &claims.jti)? {
                return Err(CareError::RefreshRevoked);
            }
            Ok(())
        })
        .await?;
    // Refresh rotates, as CARE's simplejwt settings do; the old refresh stays valid until it expires.
    Ok(Json(token_pair(&care, &claims.user_id)))
}

async fn verify(State(care): State<Care>, body: Bytes) -> Result<Json<Value>, CareError> {
    let body = json_object(&body)?;
    let token = required_strings(&body, &["token"])?.remove(0);
    let now = now_secs();
    let valid = care.jwt.verify(&token, TokenType::Access, now).is_ok()
        || care.jwt.verify(&token, TokenType::Refresh, now).is_ok();
    if valid {
        Ok(Json(json!({})))
    } else {
        Err(CareError::RefreshNotValid)
    }
}

async fn logout(
    State(care): State<Care>,
    _user: AuthUser,
    body: Bytes,
) -> Result<Json<Value>, CareError> {
    let body = json_object(&body)?;
    // CARE checks both with Python truthiness (`if not access or not refresh`).
    let named = |field: &str| {
        body.get(field).is_some_and(|v| match v {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::String(s) => !s.is_empty(),
            Value::Array(a) => !a.is_empty(),
            Value::Object(o) => !o.is_empty(),
            Value::Number(n) => n.as_f64() != Some(0.0),
        })
    };
    if !named("access") || !named("refresh") {
        return Err(CareError::LogoutTokensMissing);
    }
    let now = now_secs();
    care.db
        .with(|conn| {
            conn.execute(
                "DELETE FROM revoked_token WHERE expires_at < ?1",
                params![now],
            )?;
            for (field, kind) in [
                ("access", TokenType::Access),
                ("refresh", TokenType::Refresh),
            ] {
                if let Some(Value::String(token)) = body.get(field) {
                    if let Ok(claims) = care.jwt.verify(token, kind, now) {
                        conn.execute(
                            "INSERT OR IGNORE INTO revoked_token (jti, expires_at) VALUES (?1, ?2)",
                            params![claims.jti, claims.exp],
                        )?;
                    }
                }
            }
            Ok(())
        })
        .await?;
    Ok(Json(json!({})))
}
