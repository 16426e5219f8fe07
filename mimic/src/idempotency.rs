//! Exactly-once writes: a POST, PUT, PATCH or DELETE that carries `Idempotency-Key` is
//! applied once per (user, key). The write and the record of its response commit in the same
//! SQLite transaction, so a crash cannot separate them. A repeat gets the stored status and
//! body (with `Idempotent-Replayed: true`) and changes nothing; the same key with a different
//! request is a 422. Records are kept for the idempotency retention (`set_retention_days`) and pruned after.
//!
//! Not stored: 5xx answers (the write was rolled back, a retry may succeed) and 401/403
//! (credentials or permissions may change). Other 4xx answers are stored, their effects
//! undone, so a retry of a rejected write gets the same rejection.

use axum::{
    body::Body,
    extract::Request,
    http::{header, HeaderValue, Method, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use rusqlite::{params, OptionalExtension};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tower::ServiceExt;

use super::{db::now_secs, error::CareError, jwt::TokenType, Care};

/// Days a key and its answer are kept (`--idempotency-retention-days`, set by the server).
static RETENTION_DAYS: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(90);

/// Sets how many days keys are remembered (at least one).
pub fn set_retention_days(days: u32) {
    RETENTION_DAYS.store(i64::from(days.max(1)), std::sync::atomic::Ordering::Relaxed);
}

fn retention_secs() -> i64 {
    RETENTION_DAYS.load(std::sync::atomic::Ordering::Relaxed) * 24 * 3600
}

pub const HEADER: &str = "idempotency-key";
pub const REPLAYED: &str = "idempotent-replayed";
/// Seven days.
const MAX_KEY: usize = 255;
const MAX_BODY: usize = 16 * 1024 * 1024;

/// The key of a write that carries one.
pub fn key_of(req: &Request) -> Option<String> {
    let write = matches!(
        *req.method(),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    if !write {
        return None;
    }
    req.headers()
        .get(HEADER)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

fn error(status: StatusCode, kind: &str, msg: &str) -> Response {
    (
        status,
        Json(json!({"errors": [{"type": kind, "msg": msg}]})),
    )
        .into_response()
}

/// JSON with object keys sorted, so key order does not make two equal bodies differ.
fn canonical(v: &Value) -> Value {
    match v {
        Value::Object(map) => {
            let sorted: std::collections::BTreeMap<&String, Value> =
                map.iter().map(|(k, v)| (k, canonical(v))).collect();
            json!(sorted)
        }
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// What makes two requests "the same": method, path with query, and body.
pub fn fingerprint(method: &Method, target: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(method.as_str().as_bytes());
    hasher.update(b" ");
    hasher.update(target.as_bytes());
    hasher.update(b"\n");
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => hasher.update(canonical(&v).to_string().as_bytes()),
        Err(_) => hasher.update(body),
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn rebuild(status: u16, body: Vec<u8>, replayed: bool) -> Response {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if replayed {
        resp.headers_mut()
            .insert(REPLAYED, HeaderValue::from_static("true"));
    }
    resp
}

async fn pass_through(care: Care, req: Request) -> Response {
    match super::app(care).oneshot(req).await {
        Ok(r) => r,
        Err(never) => match never {},
    }
}

pub async fn handle(care: Care, key: String, req: Request) -> Response {
    if key.is_empty() || key.len() > MAX_KEY || !key.chars().all(|c| c.is_ascii_graphic()) {
        return error(
            StatusCode::BAD_REQUEST,
            "validation_error",
            "Idempotency-Key must be 1 to 255 visible ASCII characters",
        );
    }
    // Keys are per user. Without valid credentials the endpoint answers 403 itself.
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim);
    let Some(user_id) = token
        .and_then(|t| care.jwt.verify(t, TokenType::Access, now_secs()).ok())
        .map(|c| c.user_id)
    else {
        return pass_through(care, req).await;
    };
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "validation_error",
            "Request body too large",
        );
    };
    let target = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let print = fingerprint(&parts.method, &target, &bytes);
    match apply_once(care, &user_id, &key, &print, parts, bytes).await {
        Ok(resp) => resp,
        Err(e) => e.into_response(),
    }
}

async fn apply_once(
    care: Care,
    user_id: &str,
    key: &str,
    print: &str,
    parts: axum::http::request::Parts,
    bytes: axum::body::Bytes,
) -> Result<Response, CareError> {
    // The scope holds the connection: a concurrent request with the same key waits here and
    // then finds the record.
    let tx = care.db.begin().await?;
    let stored: Option<(String, u16, Vec<u8>)> = tx
        .db()
        .with(|conn| {
            Ok(conn
                .query_row(
                    "SELECT fingerprint, status, body FROM idempotency_key WHERE user_id = ?1 AND key = ?2",
                    params![user_id, key],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?)
        })
        .await?;
    if let Some((stored_print, status, body)) = stored {
        tx.rollback().await?;
        if stored_print != print {
            return Ok(error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "This Idempotency-Key was already used for a different request",
            ));
        }
        return Ok(rebuild(status, body, true));
    }
    let scoped = Care {
        db: tx.db(),
        jwt: care.jwt.clone(),
        login_throttle: care.login_throttle.clone(),
    };
    let resp = pass_through(scoped, Request::from_parts(parts, Body::from(bytes))).await;
    let status = resp.status().as_u16();
    let body = axum::body::to_bytes(resp.into_body(), MAX_BODY)
        .await
        .map_err(|e| CareError::Internal(format!("reading a response: {e}")))?
        .to_vec();
    if status >= 500 || status == 401 || status == 403 {
        tx.rollback().await?;
        return Ok(rebuild(status, body, false));
    }
    if status >= 400 {
        tx.undo().await?;
    }
    let now = now_secs();
    tx.db()
        .with(|conn| {
            conn.execute(
                "DELETE FROM idempotency_key WHERE created_at < ?1",
                params![now - retention_secs()],
            )?;
            conn.execute(
                "INSERT INTO idempotency_key (user_id, key, fingerprint, status, body, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![user_id, key, print, status, body, now],
            )?;
            Ok(())
        })
        .await?;
    tx.commit().await?;
    Ok(rebuild(status, body, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_ignores_key_order_but_not_values() {
        let a = fingerprint(&Method::POST, "/x/", br#"{"a":1,"b":{"c":2,"d":3}}"#);
        let b = fingerprint(&Method::POST, "/x/", br#"{"b":{"d":3,"c":2},"a":1}"#);
        let c = fingerprint(&Method::POST, "/x/", br#"{"a":2,"b":{"c":2,"d":3}}"#);
        let d = fingerprint(&Method::PUT, "/x/", br#"{"a":1,"b":{"c":2,"d":3}}"#);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }
}
