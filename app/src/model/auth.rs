use serde::{Deserialize, Serialize};

/// `POST /api/v1/auth/login/` body.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// The tokens of `login` and of `token/refresh` (which rotates the refresh token).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TokenPair {
    pub access: String,
    pub refresh: String,
}
