//! Auth and identity endpoints.

use serde_json::json;

use super::{request, ApiError, Method};
use crate::model::{CurrentUser, Facility, TokenPair};

/// CARE's login answer; a CARE Offline server in front adds the user's vault escrow key
/// (`care_offline_vault`, base64url), which lets this device re-wrap its saved data after
/// a password change made in CARE.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct LoginAnswer {
    pub access: String,
    pub refresh: String,
    #[serde(default)]
    pub care_offline_vault: Option<String>,
}

pub async fn login(username: &str, password: &str) -> Result<LoginAnswer, ApiError> {
    let body = json!({ "username": username, "password": password });
    request(Method::Post, "/auth/login/", Some(&body), None).await
}

pub async fn refresh(refresh: &str) -> Result<TokenPair, ApiError> {
    request(
        Method::Post,
        "/auth/token/refresh/",
        Some(&json!({ "refresh": refresh })),
        None,
    )
    .await
}

pub async fn logout(tokens: &TokenPair) -> Result<serde_json::Value, ApiError> {
    let body = json!({ "access": tokens.access, "refresh": tokens.refresh });
    request(
        Method::Post,
        "/auth/logout/",
        Some(&body),
        Some(&tokens.access),
    )
    .await
}

pub async fn current_user(access: &str) -> Result<CurrentUser, ApiError> {
    request(Method::Get, "/users/getcurrentuser/", None, Some(access)).await
}

pub async fn facility(id: &str, access: &str) -> Result<Facility, ApiError> {
    request(Method::Get, &format!("/facility/{id}/"), None, Some(access)).await
}
