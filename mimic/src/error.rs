//! The built-in backend's one error type, with CARE's exact status codes and bodies
//! (care-api.md §2–§3).

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use serde_json::{json, Value};

#[derive(Debug, thiserror::Error)]
pub enum CareError {
    #[error("authentication credentials were not provided")]
    NoCredentials,
    #[error("access token is not valid")]
    TokenNotValid,
    /// An access token revoked by a logout (CARE's body differs from an invalid token's).
    #[error("access token was revoked")]
    TokenRevoked,
    #[error("login failed")]
    LoginFailed,
    /// Too many failed sign-ins for this username or address: try again after this many
    /// seconds.
    #[error("too many failed sign-ins")]
    TooManyAttempts(u64),
    #[error("refresh token is not valid")]
    RefreshNotValid,
    /// A refresh token revoked by a logout: CARE answers 403 without a `code`.
    #[error("refresh token was revoked")]
    RefreshRevoked,
    /// Logout without both tokens in the body.
    #[error("logout needs both tokens")]
    LogoutTokensMissing,
    /// DRF field errors: `{"field": ["This field is required."]}`.
    #[error("invalid fields")]
    Fields(Vec<(String, String)>),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("permission denied: {0}")]
    Forbidden(String),
    /// Pydantic validation of a request body: `{"errors": [{"type", "loc", "msg", ...}]}`.
    #[error("invalid body")]
    Pydantic(Vec<Value>),
    /// A business-rule `ValidationError`: `{"errors": [{"type": "validation_error", "msg"}]}`.
    #[error("validation: {0}")]
    Validation(String),
    /// A request body that is not JSON of the expected shape.
    #[error("malformed body: {0}")]
    BadJson(String),
    #[error("internal: {0}")]
    Internal(String),
}

impl From<rusqlite::Error> for CareError {
    fn from(e: rusqlite::Error) -> Self {
        CareError::Internal(format!("sqlite: {e}"))
    }
}

impl IntoResponse for CareError {
    fn into_response(self) -> Response {
        let (status, body): (StatusCode, Value) = match self {
            CareError::NoCredentials => (
                StatusCode::FORBIDDEN,
                json!({"detail": "Authentication credentials were not provided."}),
            ),
            CareError::TokenNotValid => (
                StatusCode::FORBIDDEN,
                json!({
                    "detail": "Invalid Token, please relogin to continue",
                    "code": "token_not_valid",
                    "messages": [{"token_class": "AccessToken", "token_type": "access", "message": "Token is invalid"}]
                }),
            ),
            CareError::TokenRevoked => (
                StatusCode::FORBIDDEN,
                json!({"detail": "Invalid Token", "code": "token_not_valid"}),
            ),
            CareError::RefreshRevoked => {
                (StatusCode::FORBIDDEN, json!({"detail": "Invalid Token"}))
            }
            CareError::LogoutTokensMissing => (
                StatusCode::BAD_REQUEST,
                json!({"detail": "Missing access or refresh token"}),
            ),
            CareError::TooManyAttempts(secs) => {
                let body = json!({
                    "detail": format!("Too many failed sign-ins. Try again in {secs} seconds."),
                    "code": "throttled",
                });
                let mut resp = (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response();
                if let Ok(v) = axum::http::HeaderValue::from_str(&secs.to_string()) {
                    resp.headers_mut()
                        .insert(axum::http::header::RETRY_AFTER, v);
                }
                return resp;
            }
            CareError::LoginFailed => (
                StatusCode::UNAUTHORIZED,
                json!({"detail": "No active account found with the given credentials", "code": "no_active_account"}),
            ),
            CareError::RefreshNotValid => (
                StatusCode::UNAUTHORIZED,
                json!({"detail": "Token is invalid", "code": "token_not_valid"}),
            ),
            CareError::Fields(fields) => {
                let mut map = serde_json::Map::new();
                for (field, msg) in fields {
                    map.insert(field, json!([msg]));
                }
                (StatusCode::BAD_REQUEST, Value::Object(map))
            }
            CareError::NotFound(what) => (
                StatusCode::NOT_FOUND,
                json!({"errors": [{"type": "object_not_found", "msg": format!("No {what} matches the given query.")}]}),
            ),
            CareError::Forbidden(detail) => (StatusCode::FORBIDDEN, json!({ "detail": detail })),
            CareError::Pydantic(errors) => (StatusCode::BAD_REQUEST, json!({ "errors": errors })),
            CareError::Validation(msg) => (
                StatusCode::BAD_REQUEST,
                json!({"errors": [{"type": "validation_error", "msg": msg}]}),
            ),
            CareError::BadJson(msg) => (
                StatusCode::BAD_REQUEST,
                json!({"detail": format!("JSON parse error - {msg}")}),
            ),
            CareError::Internal(msg) => {
                tracing::error!("built-in backend error: {msg}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({"detail": "server_error"}),
                )
            }
        };
        (status, Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_of(e: CareError) -> (u16, Value) {
        let resp = e.into_response();
        let status = resp.status().as_u16();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 16)
            .await
            .expect("body");
        (status, serde_json::from_slice(&bytes).expect("json"))
    }

    #[tokio::test]
    async fn token_not_valid_is_care_403_body() {
        let (status, body) = body_of(CareError::TokenNotValid).await;
        assert_eq!(status, 403);
        assert_eq!(body["code"], "token_not_valid");
        assert_eq!(body["messages"][0]["token_class"], "AccessToken");
    }

    #[tokio::test]
    async fn field_errors_are_drf_lists() {
        let (status, body) = body_of(CareError::Fields(vec![(
            "password".into(),
            "This field is required.".into(),
        )]))
        .await;
        assert_eq!(status, 400);
        assert_eq!(body, json!({"password": ["This field is required."]}));
    }
}
