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

use crate::{
    care::idempotency::fingerprint,
    sync::idempotency::{is_write, user_of, Begin, IdempotencyStore, Stored},
};

/// Largest body the proxy buffers for an idempotent write.
const MAX_IDEMPOTENT_BODY: usize = 16 * 1024 * 1024;

/// Set on every response the proxy makes up itself (never on a forwarded CARE response).
pub const PROXY_ERROR_HEADER: &str = "x-care-offline-proxy";

#[derive(Clone)]
pub struct Proxy {
    client: reqwest::Client,
    upstream: reqwest::Url,
    idempotency: IdempotencyStore,
}

#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("could not build the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
    #[error(transparent)]
    Idempotency(#[from] crate::sync::idempotency::IdempotencyError),
}

impl Proxy {
    pub fn new(
        upstream: reqwest::Url,
        timeout: Duration,
        idempotency: IdempotencyStore,
    ) -> Result<Self, ProxyError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            client,
            upstream,
            idempotency,
        })
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
    let key = req
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    match key {
        Some(key) if is_write(req.method()) => forward_once(proxy, req, path_and_query, key).await,
        _ => {
            let (parts, body) = req.into_parts();
            send(
                &proxy,
                parts,
                reqwest::Body::wrap_stream(body.into_data_stream()),
                &path_and_query,
            )
            .await
        }
    }
}

/// A write with an `Idempotency-Key`: answered from the store when seen before, else
/// forwarded once and its answer kept.
async fn forward_once(proxy: Proxy, req: Request, path_and_query: String, key: String) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_IDEMPOTENT_BODY).await else {
        return proxy_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            "The request body is too large.",
        );
    };
    let user = user_of(
        parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok()),
    );
    let fp = fingerprint(&parts.method, &path_and_query, &bytes);
    let store = proxy.idempotency.clone();
    match store.begin(&user, &key, &fp) {
        Ok(Begin::Started) => {}
        Ok(Begin::Replay(stored)) => return replay(stored),
        Ok(Begin::Mismatch) => {
            return proxy_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "This Idempotency-Key was already used for a different request.",
            )
        }
        Ok(Begin::InFlight) => {
            return proxy_error(
                StatusCode::CONFLICT,
                "idempotency_in_flight",
                "A request with this Idempotency-Key is still being processed; try again shortly.",
            )
        }
        Err(e) => {
            tracing::error!("{e}");
            return proxy_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "idempotency_store",
                "The server could not record this write.",
            );
        }
    }
    let response = send(
        &proxy,
        parts,
        reqwest::Body::from(bytes.to_vec()),
        &path_and_query,
    )
    .await;
    if response.headers().contains_key(PROXY_ERROR_HEADER) {
        // CARE never answered: nothing was applied, a retry must go through.
        let _ = store.abandon(&user, &key);
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_IDEMPOTENT_BODY).await else {
        let _ = store.abandon(&user, &key);
        return proxy_error(
            StatusCode::BAD_GATEWAY,
            "upstream_bad_response",
            "CARE's answer could not be read.",
        );
    };
    let stored = Stored {
        status: parts.status.as_u16(),
        content_type: parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        body: body.to_vec(),
    };
    if let Err(e) = store.finish(&user, &key, &stored) {
        tracing::error!("{e}");
    }
    Response::from_parts(parts, Body::from(body))
}

fn replay(stored: Stored) -> Response {
    let mut resp = Response::new(Body::from(stored.body));
    *resp.status_mut() = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    if let Some(ct) = stored
        .content_type
        .and_then(|c| HeaderValue::from_str(&c).ok())
    {
        resp.headers_mut().insert(header::CONTENT_TYPE, ct);
    }
    resp.headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    resp
}

async fn send(
    proxy: &Proxy,
    parts: axum::http::request::Parts,
    body: reqwest::Body,
    path_and_query: &str,
) -> Response {
    let mut headers = HeaderMap::new();
    copy_headers(&parts.headers, &mut headers);
    let upstream_req = proxy
        .client
        .request(parts.method.clone(), proxy.target(path_and_query))
        .headers(headers)
        .body(body);
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
        let dir = tempfile::tempdir().expect("tmp");
        let store = IdempotencyStore::open(&dir.path().join("i.sqlite3")).expect("store");
        let url = "https://care.example.org/base/".parse().expect("url");
        let p = Proxy::new(url, Duration::from_secs(1), store).expect("proxy");
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
