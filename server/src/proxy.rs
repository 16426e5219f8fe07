//! `/api/v1/*` → a real CARE backend. Authorization and bodies pass through (streamed both
//! ways); an unreachable or slow upstream gets a JSON 502/504 marked as ours, so the client
//! can tell "CARE is out of reach" apart from an error CARE itself returned.

use std::time::Duration;

use axum::{
    body::Body,
    extract::{Request, State},
    http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Router,
};
use serde_json::json;

/// Set on every response the proxy makes up itself (never on a forwarded CARE response).
pub const PROXY_ERROR_HEADER: &str = "x-care-offline-proxy";

#[derive(Clone)]
pub struct Proxy {
    client: reqwest::Client,
    upstream: reqwest::Url,
}

#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("could not build the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

impl Proxy {
    pub fn new(upstream: reqwest::Url, timeout: Duration) -> Result<Self, ProxyError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self { client, upstream })
    }

    /// `/api/v1/patient/?x=1` on the upstream base (keeps a base path such as `/care`).
    fn target(&self, path_and_query: &str) -> String {
        let base = self.upstream.as_str().trim_end_matches('/');
        format!("{base}{path_and_query}")
    }
}

pub fn router() -> Router<Proxy> {
    Router::new().fallback(forward)
}

/// Headers that belong to one hop only (RFC 9110 §7.6.1) and must not be forwarded.
fn is_hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "host"
    )
}

fn copy_headers(from: &HeaderMap, to: &mut HeaderMap) {
    for (name, value) in from {
        if !is_hop_by_hop(name) {
            to.append(name.clone(), value.clone());
        }
    }
}

async fn forward(State(proxy): State<Proxy>, req: Request) -> Response {
    // The router is nested under /api/v1, so rebuild the full path from the original URI.
    let path_and_query = req
        .extensions()
        .get::<axum::extract::OriginalUri>()
        .map(|u| u.0.clone())
        .unwrap_or_else(|| req.uri().clone());
    let path_and_query = path_and_query
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".to_string());
    let (parts, body) = req.into_parts();
    let mut headers = HeaderMap::new();
    copy_headers(&parts.headers, &mut headers);
    let upstream_req = proxy
        .client
        .request(parts.method.clone(), proxy.target(&path_and_query))
        .headers(headers)
        .body(reqwest::Body::wrap_stream(body.into_data_stream()));
    match upstream_req.send().await {
        Ok(resp) => {
            let mut out = Response::builder().status(resp.status());
            if let Some(h) = out.headers_mut() {
                copy_headers(resp.headers(), h);
            }
            out.body(Body::from_stream(resp.bytes_stream()))
                .unwrap_or_else(|e| {
                    tracing::error!("building proxied response failed: {e}");
                    proxy_error(
                        StatusCode::BAD_GATEWAY,
                        "upstream_bad_response",
                        "CARE sent a response that could not be relayed.",
                    )
                })
        }
        Err(e) if e.is_timeout() => {
            tracing::warn!("upstream timed out");
            proxy_error(
                StatusCode::GATEWAY_TIMEOUT,
                "upstream_timeout",
                "The CARE server did not answer in time.",
            )
        }
        Err(e) => {
            tracing::warn!("upstream unreachable: {}", without_url(&e));
            proxy_error(
                StatusCode::BAD_GATEWAY,
                "upstream_unreachable",
                "The CARE server cannot be reached.",
            )
        }
    }
}

/// reqwest errors print the URL, which may carry a phone number in its query.
fn without_url(e: &reqwest::Error) -> String {
    let mut msg = e.to_string();
    if let Some(url) = e.url() {
        msg = msg.replace(url.as_str(), "<upstream>");
    }
    msg
}

/// A JSON error made by this proxy: `{"detail", "code", "source": "care-offline-proxy"}`.
pub fn proxy_error(status: StatusCode, code: &str, detail: &str) -> Response {
    let mut resp = (
        status,
        axum::Json(json!({ "detail": detail, "code": code, "source": "care-offline-proxy" })),
    )
        .into_response();
    resp.headers_mut()
        .insert(PROXY_ERROR_HEADER, HeaderValue::from_static("1"));
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_keeps_base_path() {
        let p = Proxy::new(
            "https://care.example.org/base/".parse().expect("url"),
            Duration::from_secs(1),
        )
        .expect("proxy");
        assert_eq!(
            p.target("/api/v1/patient/?a=1"),
            "https://care.example.org/base/api/v1/patient/?a=1"
        );
    }

    #[test]
    fn hop_by_hop_headers_are_dropped() {
        let mut from = HeaderMap::new();
        from.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer x"));
        from.insert(header::CONNECTION, HeaderValue::from_static("close"));
        from.insert(header::HOST, HeaderValue::from_static("a"));
        let mut to = HeaderMap::new();
        copy_headers(&from, &mut to);
        assert_eq!(to.len(), 1);
        assert!(to.contains_key(header::AUTHORIZATION));
    }
}
