//! The vault's escrow key. A device seals each user's data under a secret wrapped by the
//! user's password; it also wraps it under a key only this server hands out, and only with
//! a successful sign-in (the login answer gains `care_offline_vault`). So when a password
//! is changed in CARE, the device re-wraps its data at the next online sign-in instead of
//! losing the writes it holds. The key per user is HMAC-SHA-256 of the username under a
//! key derived from the server's secret (`secret.rs`).

use std::sync::Arc;

use axum::{
    body::Body,
    extract::{Request, State},
    http::{header, Method, StatusCode},
    middleware::Next,
    response::Response,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use serde_json::Value;

/// A login body is small; anything larger is passed on untouched.
const MAX_LOGIN_BODY: usize = 64 * 1024;
/// The field added to a successful login answer.
pub const FIELD: &str = "care_offline_vault";

#[derive(Clone)]
pub struct EscrowKey(Arc<[u8; crate::secret::LEN]>);

impl EscrowKey {
    pub fn new(secret: &crate::secret::ServerSecret) -> Self {
        Self(Arc::new(secret.derive("vault-escrow v1")))
    }

    /// The escrow key of `username` (base64url, 32 bytes).
    pub fn for_user(&self, username: &str) -> String {
        let name = username.trim().to_lowercase();
        URL_SAFE_NO_PAD.encode(crate::secret::keyed_hash(
            self.0.as_slice(),
            &[b"care-offline-vault-escrow:v1:", name.as_bytes()],
        ))
    }
}

/// Middleware on `/api/v1`: a successful `POST …/auth/login/` (built-in backend or CARE
/// behind the proxy) gains the user's escrow key. Everything else passes untouched.
pub async fn attach(State(key): State<EscrowKey>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST || !request.uri().path().ends_with("/auth/login/") {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_LOGIN_BODY).await else {
        return plain_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "The sign-in request is too large.",
        );
    };
    let username = serde_json::from_slice::<Value>(&bytes)
        .ok()
        .and_then(|v| v.get("username")?.as_str().map(str::to_string));
    // The answer must come back unencoded for the field to be added (the outer layer
    // compresses it again for the browser).
    parts.headers.remove(header::ACCEPT_ENCODING);
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    match username {
        Some(username) if response.status() == StatusCode::OK => {
            with_escrow(response, &key.for_user(&username)).await
        }
        _ => response,
    }
}

async fn with_escrow(response: Response, escrow: &str) -> Response {
    let (mut parts, body) = response.into_parts();
    if parts.headers.contains_key(header::CONTENT_ENCODING) {
        return Response::from_parts(parts, body);
    }
    let Ok(bytes) = axum::body::to_bytes(body, MAX_LOGIN_BODY).await else {
        return plain_error(StatusCode::BAD_GATEWAY, "The sign-in answer was too large.");
    };
    let mut json = match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) if map.contains_key("access") => map,
        _ => return Response::from_parts(parts, Body::from(bytes)),
    };
    json.insert(FIELD.into(), Value::String(escrow.to_string()));
    let out = Value::Object(json).to_string();
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(out))
}

fn plain_error(status: StatusCode, detail: &str) -> Response {
    let body = serde_json::json!({ "detail": detail }).to_string();
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_key_per_user_and_server() {
        let dir = tempfile::tempdir().expect("dir");
        let key = EscrowKey::new(&crate::secret::ServerSecret::open(dir.path()).expect("secret"));
        let a = key.for_user("care-nurse");
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).expect("b64").len(), 32);
        assert_eq!(
            a,
            key.for_user(" Care-Nurse "),
            "one escrow however the name is typed"
        );
        assert_ne!(a, key.for_user("care-doctor"));
        let other = tempfile::tempdir().expect("dir");
        let elsewhere =
            EscrowKey::new(&crate::secret::ServerSecret::open(other.path()).expect("secret"));
        assert_ne!(
            elsewhere.for_user("care-nurse"),
            a,
            "another server, another escrow"
        );
    }
}
