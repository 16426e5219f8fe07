//! The vault's escrow key. A device seals each user's data under a secret wrapped by the
//! user's password; it also wraps it under a key only this server hands out, and only with
//! a successful sign-in (the login answer gains `care_offline_vault`). So when a password
//! is changed in CARE, the device re-wraps its data at the next online sign-in instead of
//! losing the writes it holds. The key per user is HMAC-SHA-256 of the username under a
//! random secret kept in the data directory (`vault-escrow.key`, created on first start,
//! readable by the server's user only); deleting the file rotates every escrow (devices
//! re-wrap at their next sign-in).

use std::{path::Path, sync::Arc};

use axum::{
    body::Body,
    extract::{Request, State},
    http::{header, Method, StatusCode},
    middleware::Next,
    response::Response,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use hmac::{Hmac, Mac};
use serde_json::Value;

const FILE: &str = "vault-escrow.key";
const SECRET_LEN: usize = 32;
/// A login body is small; anything larger is passed on untouched.
const MAX_LOGIN_BODY: usize = 64 * 1024;
/// The field added to a successful login answer.
pub const FIELD: &str = "care_offline_vault";

#[derive(Clone)]
pub struct EscrowKey(Arc<[u8; SECRET_LEN]>);

#[derive(Debug, thiserror::Error)]
pub enum EscrowError {
    #[error("cannot read or create the vault escrow key {0}: {1}")]
    Io(String, std::io::Error),
    #[error("the vault escrow key {0} is damaged (expected {SECRET_LEN} bytes)")]
    Damaged(String),
}

impl EscrowKey {
    /// Reads the key from the data directory, creating it on first start.
    pub fn open(data_dir: &Path) -> Result<Self, EscrowError> {
        let path = data_dir.join(FILE);
        let shown = path.display().to_string();
        match std::fs::read(&path) {
            Ok(bytes) => {
                let secret: [u8; SECRET_LEN] = bytes
                    .try_into()
                    .map_err(|_| EscrowError::Damaged(shown.clone()))?;
                Ok(Self(Arc::new(secret)))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut secret = [0u8; SECRET_LEN];
                rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut secret);
                write_private(&path, &secret).map_err(|e| EscrowError::Io(shown, e))?;
                Ok(Self(Arc::new(secret)))
            }
            Err(e) => Err(EscrowError::Io(shown, e)),
        }
    }

    /// The escrow key of `username` (base64url, 32 bytes).
    pub fn for_user(&self, username: &str) -> String {
        let mut mac = <Hmac<sha2::Sha256>>::new_from_slice(self.0.as_slice())
            .expect("HMAC takes a key of any length");
        mac.update(b"care-offline-vault-escrow:v1:");
        mac.update(username.trim().to_lowercase().as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
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
    fn one_key_per_user_kept_across_starts() {
        let dir = tempfile::tempdir().expect("dir");
        let key = EscrowKey::open(dir.path()).expect("create");
        let a = key.for_user("care-nurse");
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).expect("b64").len(), 32);
        assert_eq!(
            a,
            key.for_user(" Care-Nurse "),
            "one escrow however the name is typed"
        );
        assert_ne!(a, key.for_user("care-doctor"));
        let again = EscrowKey::open(dir.path()).expect("reopen");
        assert_eq!(again.for_user("care-nurse"), a, "kept in the data dir");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(FILE))
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "readable by the server's user only");
        }
        let other = tempfile::tempdir().expect("dir");
        assert_ne!(
            EscrowKey::open(other.path())
                .expect("other")
                .for_user("care-nurse"),
            a,
            "another server, another escrow"
        );
    }

    #[test]
    fn a_damaged_key_file_is_an_error_not_a_new_key() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(dir.path().join(FILE), b"short").expect("write");
        assert!(matches!(
            EscrowKey::open(dir.path()),
            Err(EscrowError::Damaged(_))
        ));
    }
}
