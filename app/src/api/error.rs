use serde_json::Value;

/// What can go wrong with one API call, in the classes the app acts on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    /// The request never reached a server (offline, DNS, connection refused).
    #[error("the server cannot be reached: {0}")]
    Network(String),
    /// Our server answered, but the CARE backend behind it did not (proxy 502/504) or a
    /// gateway reported it down (502/503/504).
    #[error("the CARE server is not reachable right now ({status})")]
    Unreachable { status: u16 },
    /// CARE's `token_not_valid`: the session has expired and must be renewed.
    #[error("your session has expired; please sign in again")]
    AuthExpired,
    /// Any other error status from CARE, with its body (field errors, detail...).
    #[error("{}", describe(*status, body))]
    Http { status: u16, body: Value },
    /// A 2xx whose body is not the expected shape.
    #[error("unexpected response from the server: {0}")]
    Decode(String),
    /// Called during server-side rendering, where there is no browser session.
    #[error("not available while rendering on the server")]
    NotInBrowser,
}

/// A readable message from a CARE error body: `detail`, or the first `errors[].msg`, or the
/// first DRF field error.
pub fn describe(status: u16, body: &Value) -> String {
    if let Some(detail) = body.get("detail").and_then(Value::as_str) {
        return detail.to_string();
    }
    if let Some(msg) = body.pointer("/errors/0/msg").and_then(Value::as_str) {
        return msg.to_string();
    }
    if let Value::Object(map) = body {
        for (field, value) in map {
            if let Some(msg) = value.pointer("/0").and_then(Value::as_str) {
                return format!("{field}: {msg}");
            }
        }
    }
    format!("request failed with status {status}")
}

impl ApiError {
    /// Classifies a non-2xx response. `from_proxy` is set when our proxy made the response
    /// itself (header `x-care-offline-proxy`).
    pub fn from_response(status: u16, from_proxy: bool, body: Value) -> ApiError {
        let token_not_valid = body.get("code").and_then(Value::as_str) == Some("token_not_valid")
            || body.get("detail").and_then(Value::as_str)
                == Some("Invalid Token, please relogin to continue");
        // care_fe detects expiry by body, not status: 401 from refresh, 403 elsewhere.
        if token_not_valid && matches!(status, 401 | 403) {
            return ApiError::AuthExpired;
        }
        if from_proxy || matches!(status, 502..=504) {
            return ApiError::Unreachable { status };
        }
        ApiError::Http { status, body }
    }

    /// Whether CARE's answer to a token refresh means the session is over: a 401 or 403
    /// with any body (a refresh token revoked by a logout gets `403 {"detail": "Invalid
    /// Token"}`, without a code). Our proxy's own 502/504 are `Unreachable`, never this.
    pub fn ends_session_on_refresh(&self) -> bool {
        matches!(
            self,
            ApiError::AuthExpired
                | ApiError::Http {
                    status: 401 | 403,
                    ..
                }
        )
    }

    /// True when the server could not be reached at all (the request may be retried later).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, ApiError::Network(_) | ApiError::Unreachable { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn token_not_valid_by_body() {
        let body = json!({"detail": "Invalid Token, please relogin to continue", "code": "token_not_valid"});
        assert_eq!(
            ApiError::from_response(403, false, body),
            ApiError::AuthExpired
        );
        let refresh = json!({"detail": "Token is invalid", "code": "token_not_valid"});
        assert_eq!(
            ApiError::from_response(401, false, refresh),
            ApiError::AuthExpired
        );
    }

    /// care-api.md "Sessions ended by CARE", each answer as the app classifies it.
    #[test]
    fn sessions_ended_by_care() {
        let refresh =
            |status, body| ApiError::from_response(status, false, body).ends_session_on_refresh();
        assert!(
            refresh(403, json!({"detail": "Invalid Token"})),
            "revoked refresh token"
        );
        assert!(refresh(
            401,
            json!({"detail": "Token is invalid", "code": "token_not_valid"})
        ));
        assert!(refresh(401, json!(null)), "any 401 body");
        assert!(!refresh(
            400,
            json!({"refresh": ["This field is required."]})
        ));
        assert!(!refresh(500, json!({"detail": "server_error"})));
        assert!(
            !ApiError::from_response(502, true, json!({"code": "upstream_unreachable"}))
                .ends_session_on_refresh(),
            "the proxy's own answer is not CARE's"
        );
        assert!(
            !ApiError::from_response(504, true, json!({"code": "upstream_timeout"}))
                .ends_session_on_refresh()
        );
        assert!(!ApiError::Network("reset".into()).ends_session_on_refresh());
        // Any request with a revoked or invalid access token asks for a refresh first.
        assert_eq!(
            ApiError::from_response(
                403,
                false,
                json!({"detail": "Invalid Token", "code": "token_not_valid"})
            ),
            ApiError::AuthExpired
        );
        assert_eq!(
            ApiError::from_response(
                403,
                false,
                json!({"detail": "Invalid Token, please relogin to continue", "code": "token_not_valid", "messages": []})
            ),
            ApiError::AuthExpired
        );
        // A logout without both tokens is a plain error, not an ended session.
        let logout = ApiError::from_response(
            400,
            false,
            json!({"detail": "Missing access or refresh token"}),
        );
        assert_eq!(logout.to_string(), "Missing access or refresh token");
        assert!(!logout.ends_session_on_refresh());
    }

    #[test]
    fn other_403_is_a_permission_error() {
        let e = ApiError::from_response(403, false, json!({"detail": "Cannot Create Patient"}));
        assert_eq!(e.to_string(), "Cannot Create Patient");
        assert!(!e.is_unreachable());
    }

    #[test]
    fn proxy_and_gateway_errors_are_unreachable() {
        assert!(ApiError::from_response(502, true, json!({})).is_unreachable());
        assert!(ApiError::from_response(504, false, json!({})).is_unreachable());
        assert!(!ApiError::from_response(500, false, json!({})).is_unreachable());
    }

    #[test]
    fn describes_care_error_shapes() {
        assert_eq!(
            describe(
                400,
                &json!({"errors": [{"type": "x", "msg": "Field required"}]})
            ),
            "Field required"
        );
        assert_eq!(
            describe(400, &json!({"password": ["This field is required."]})),
            "password: This field is required."
        );
        assert_eq!(
            describe(418, &json!(null)),
            "request failed with status 418"
        );
    }
}
