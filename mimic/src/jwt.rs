//! HS256 JWTs with simplejwt's claims: `token_type`, `exp`, `iat`, `jti`, `user_id`.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// CARE's defaults (env `JWT_ACCESS_TOKEN_LIFETIME` / `JWT_REFRESH_TOKEN_LIFETIME`, minutes).
pub const ACCESS_LIFETIME_SECS: i64 = 10 * 60;
pub const REFRESH_LIFETIME_SECS: i64 = 30 * 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenType {
    Access,
    Refresh,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub token_type: TokenType,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub user_id: String,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("malformed token")]
    Malformed,
    #[error("bad signature")]
    Signature,
    #[error("expired")]
    Expired,
    #[error("wrong token type")]
    WrongType,
}

#[derive(Clone)]
pub struct Jwt {
    secret: Vec<u8>,
}

const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

impl Jwt {
    pub fn new(secret: Vec<u8>) -> Self {
        Self { secret }
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC accepts keys of any length, so this cannot fail.
        <Hmac<Sha256> as Mac>::new_from_slice(&self.secret).unwrap_or_else(|_| unreachable!())
    }

    pub fn issue(&self, token_type: TokenType, user_id: &str, now: i64) -> (String, Claims) {
        let lifetime = match token_type {
            TokenType::Access => ACCESS_LIFETIME_SECS,
            TokenType::Refresh => REFRESH_LIFETIME_SECS,
        };
        let claims = Claims {
            token_type,
            exp: now + lifetime,
            iat: now,
            jti: uuid::Uuid::new_v4().simple().to_string(),
            user_id: user_id.to_string(),
        };
        let payload = serde_json::to_vec(&claims).unwrap_or_default();
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(HEADER),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let mut mac = self.mac();
        mac.update(signing_input.as_bytes());
        let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        (format!("{signing_input}.{sig}"), claims)
    }

    pub fn verify(&self, token: &str, expected: TokenType, now: i64) -> Result<Claims, JwtError> {
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwtError::Malformed);
        };
        let sig = URL_SAFE_NO_PAD.decode(s).map_err(|_| JwtError::Malformed)?;
        let mut mac = self.mac();
        mac.update(h.as_bytes());
        mac.update(b".");
        mac.update(p.as_bytes());
        mac.verify_slice(&sig).map_err(|_| JwtError::Signature)?;
        let payload = URL_SAFE_NO_PAD.decode(p).map_err(|_| JwtError::Malformed)?;
        let claims: Claims = serde_json::from_slice(&payload).map_err(|_| JwtError::Malformed)?;
        if claims.exp <= now {
            return Err(JwtError::Expired);
        }
        if claims.token_type != expected {
            return Err(JwtError::WrongType);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejections() {
        let jwt = Jwt::new(b"secret".to_vec());
        let (token, claims) = jwt.issue(TokenType::Access, "u1", 1000);
        assert_eq!(claims.exp, 1000 + ACCESS_LIFETIME_SECS);
        assert_eq!(
            jwt.verify(&token, TokenType::Access, 1001)
                .expect("valid")
                .user_id,
            "u1"
        );
        assert_eq!(
            jwt.verify(&token, TokenType::Refresh, 1001),
            Err(JwtError::WrongType)
        );
        assert_eq!(
            jwt.verify(&token, TokenType::Access, 1000 + ACCESS_LIFETIME_SECS),
            Err(JwtError::Expired)
        );
        assert_eq!(
            Jwt::new(b"other".to_vec()).verify(&token, TokenType::Access, 1001),
            Err(JwtError::Signature)
        );
        assert_eq!(
            jwt.verify("garbage", TokenType::Access, 1001),
            Err(JwtError::Malformed)
        );
        let mut tampered = token.clone();
        tampered.insert(tampered.len() - 3, 'x');
        assert!(jwt.verify(&tampered, TokenType::Access, 1001).is_err());
    }
}
