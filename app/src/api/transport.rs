//! One function, two bodies: gloo-net in the browser, `NotInBrowser` on the server.

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

/// Sends `method path` (a path under `/api/v1`, with its trailing slash) and decodes the
/// JSON answer. `token` becomes `Authorization: Bearer …`.
#[cfg(feature = "hydrate")]
pub async fn request<T: DeserializeOwned>(
    method: Method,
    path: &str,
    body: Option<&Value>,
    token: Option<&str>,
) -> Result<T, ApiError> {
    use gloo_net::http::RequestBuilder;

    let url = format!("/api/v1{path}");
    let mut builder = match method {
        Method::Get => RequestBuilder::new(&url).method(gloo_net::http::Method::GET),
        Method::Post => RequestBuilder::new(&url).method(gloo_net::http::Method::POST),
        Method::Put => RequestBuilder::new(&url).method(gloo_net::http::Method::PUT),
        Method::Delete => RequestBuilder::new(&url).method(gloo_net::http::Method::DELETE),
    }
    .header("Accept", "application/json");
    if let Some(token) = token {
        builder = builder.header("Authorization", &format!("Bearer {token}"));
    }
    let request = match body {
        Some(b) => builder
            .json(b)
            .map_err(|e| ApiError::Decode(e.to_string()))?,
        None => builder
            .build()
            .map_err(|e| ApiError::Decode(e.to_string()))?,
    };
    let response = request
        .send()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    let status = response.status();
    let from_proxy = response.headers().get("x-care-offline-proxy").is_some();
    let text = response
        .text()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    if (200..300).contains(&status) {
        let text = if text.is_empty() {
            "null"
        } else {
            text.as_str()
        };
        serde_json::from_str(text).map_err(|e| ApiError::Decode(e.to_string()))
    } else {
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Err(ApiError::from_response(status, from_proxy, body))
    }
}

#[cfg(not(feature = "hydrate"))]
pub async fn request<T: DeserializeOwned>(
    _method: Method,
    _path: &str,
    _body: Option<&Value>,
    _token: Option<&str>,
) -> Result<T, ApiError> {
    Err(ApiError::NotInBrowser)
}
