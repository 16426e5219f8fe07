//! `/api/v1/*` → a real CARE backend. Authorization and bodies pass through (streamed both
//! ways); an unreachable or slow upstream gets a JSON 502/504 marked as ours, so the client
//! can tell "CARE is out of reach" apart from an error CARE itself returned.
//!
//! A keyed write is forwarded by a task of its own that outlives the client's request: when
//! CARE is slower than `--upstream-timeout` the device gets a 504, but the proxy keeps
//! waiting (up to `WRITE_WAIT`) and stores CARE's answer for the retry. Only a connection
//! that was never established proves nothing was applied; any other failure after the
//! request left marks the outcome unknown, and a retry with that key gets `409
//! idempotency_outcome_unknown` instead of a second forward.

use std::time::Duration;

use axum::{
    body::Body,
    extract::{Request, State},
    http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Router,
};
use care_mimic::idempotency::fingerprint;
use serde_json::json;

use crate::sync::{
    authz::Identities,
    backend::Reply,
    error::SyncError,
    idempotency::{is_write, Begin, IdempotencyStore, Stored},
};

/// Largest body the proxy buffers for an idempotent write.
const MAX_IDEMPOTENT_BODY: usize = 16 * 1024 * 1024;
/// How long the proxy keeps waiting for CARE's answer to a write after the device was told
/// "timed out"; past this the outcome is unknown.
const WRITE_WAIT: Duration = Duration::from_secs(10 * 60);
/// A write claimed longer ago than this, still without an answer, was cut off (its
/// replica stopped): no replica waits for CARE this long.
pub const IN_FLIGHT_LIMIT: Duration = Duration::from_secs(WRITE_WAIT.as_secs() + 5 * 60);

/// Set on every response the proxy makes up itself (never on a forwarded CARE response).
pub const PROXY_ERROR_HEADER: &str = "x-care-offline-proxy";

#[derive(Clone)]
pub struct Proxy {
    client: reqwest::Client,
    /// For keyed writes: no overall timeout (the forwarding task bounds the wait).
    writer: reqwest::Client,
    timeout: Duration,
    upstream: reqwest::Url,
    pub idempotency: IdempotencyStore,
    /// Who a token belongs to, as CARE says (cached briefly): replays are scoped by it.
    identities: Identities,
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
        let writer = reqwest::Client::builder()
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            client,
            writer,
            timeout,
            upstream,
            idempotency,
            identities: Identities::default(),
        })
    }

    /// `/api/v1/patient/?x=1` on the upstream base (keeps a base path such as `/care`).
    fn target(&self, path_and_query: &str) -> String {
        let base = self.upstream.as_str().trim_end_matches('/');
        format!("{base}{path_and_query}")
    }
}

impl Proxy {
    /// The id of the user CARE says the request's token belongs to, or the answer to give
    /// instead (CARE's refusal, or ours when CARE cannot be asked).
    async fn verified_user(&self, headers: &HeaderMap) -> Result<String, Response> {
        let ask = |auth: HeaderValue| async move { self.ask_current_user(auth).await };
        match self.identities.caller_with(headers, ask).await {
            Ok(caller) => Ok(caller.id),
            Err(SyncError::Care(status, body)) => Err((status, axum::Json(body)).into_response()),
            Err(e) => {
                tracing::warn!("could not learn who is writing: {e}");
                Err(proxy_error(
                    StatusCode::BAD_GATEWAY,
                    "upstream_unreachable",
                    "The CARE server cannot be reached.",
                ))
            }
        }
    }

    async fn ask_current_user(&self, auth: HeaderValue) -> Reply {
        let sent = self
            .client
            .get(self.target("/api/v1/users/getcurrentuser/"))
            .header(header::AUTHORIZATION, auth)
            .header(header::ACCEPT, "application/json")
            .send()
            .await;
        match sent {
            Ok(resp) => {
                let status = resp.status();
                let body = resp.json().await.unwrap_or(serde_json::Value::Null);
                Reply {
                    status,
                    body,
                    replayed: false,
                    unreachable: false,
                }
            }
            Err(e) => {
                tracing::warn!("asking CARE who is signed in failed: {}", without_url(&e));
                Reply {
                    status: StatusCode::BAD_GATEWAY,
                    body: serde_json::Value::Null,
                    replayed: false,
                    unreachable: true,
                }
            }
        }
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

/// What of the device's request goes on to CARE: never a hop-by-hop header (nor one the
/// `Connection` header names), never cookies (CARE's API authenticates by token; a cookie
/// of this origin is not CARE's business), and never a client's own `Forwarded` /
/// `X-Forwarded-*` / `X-Real-IP`, which CARE or a proxy in front of it could trust.
fn upstream_request_headers(from: &HeaderMap) -> HeaderMap {
    let named_by_connection: Vec<String> = from
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|n| n.trim().to_ascii_lowercase())
        .filter(|n| !n.is_empty())
        .collect();
    let mut to = HeaderMap::new();
    for (name, value) in from {
        let n = name.as_str();
        let dropped = is_hop_by_hop(name)
            || n == "cookie"
            || n == "forwarded"
            || n == "x-real-ip"
            || n == "proxy-connection"
            || n.starts_with("x-forwarded-")
            || named_by_connection.iter().any(|c| c == n);
        if !dropped {
            to.append(name.clone(), value.clone());
        }
    }
    to
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
    // Keys are scoped by the user CARE says the token belongs to; a token CARE refuses gets
    // CARE's refusal, never someone's stored answer.
    let user = match proxy.verified_user(&parts.headers).await {
        Ok(user) => user,
        Err(refusal) => return refusal,
    };
    let fp = fingerprint(&parts.method, &path_and_query, &bytes);
    let store = proxy.idempotency.clone();
    match store.begin(&user, &key, &fp).await {
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
        Ok(Begin::Unknown) => {
            return proxy_error(
                StatusCode::CONFLICT,
                "idempotency_outcome_unknown",
                "This change was sent to CARE but its answer was never received: it may have been saved. Check CARE before sending it again.",
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
    // The forward runs on its own, so neither the device going away nor our 504 stops
    // the proxy from learning (and keeping) CARE's answer.
    let (tx, rx) = tokio::sync::oneshot::channel();
    let forwarding = proxy.clone();
    tokio::spawn(async move {
        let outcome = match tokio::time::timeout(
            WRITE_WAIT,
            send_write(&forwarding, parts, bytes, &path_and_query),
        )
        .await
        {
            Ok(outcome) => outcome,
            Err(_) => Err(WriteFailure::AnswerLost("no answer in time".into())),
        };
        let recorded = match &outcome {
            Ok(answer) => store.finish(&user, &key, &answer.stored).await,
            Err(WriteFailure::NotSent(_)) => store.abandon(&user, &key).await,
            Err(WriteFailure::AnswerLost(why)) => {
                tracing::warn!("a proxied write's answer was lost ({why}): outcome unknown");
                store.mark_unknown(&user, &key).await
            }
        };
        if let Err(e) = recorded {
            tracing::error!("{e}");
        }
        let _ = tx.send(outcome);
    });
    match tokio::time::timeout(proxy.timeout, rx).await {
        Ok(Ok(Ok(answer))) => answer.into_response(),
        Ok(Ok(Err(WriteFailure::NotSent(why)))) => {
            tracing::warn!("upstream unreachable: {why}");
            proxy_error(
                StatusCode::BAD_GATEWAY,
                "upstream_unreachable",
                "The CARE server cannot be reached.",
            )
        }
        Ok(Ok(Err(WriteFailure::AnswerLost(_)))) | Ok(Err(_)) => proxy_error(
            StatusCode::BAD_GATEWAY,
            "upstream_answer_lost",
            "CARE's answer was lost on the way; it may have saved this change.",
        ),
        Err(_) => {
            tracing::warn!("upstream slow to answer a write: still waiting in the background");
            proxy_error(
                StatusCode::GATEWAY_TIMEOUT,
                "upstream_timeout",
                "The CARE server did not answer in time.",
            )
        }
    }
}

/// CARE's whole answer to a forwarded write.
struct WriteAnswer {
    status: StatusCode,
    headers: HeaderMap,
    stored: Stored,
}

impl IntoResponse for WriteAnswer {
    fn into_response(self) -> Response {
        let mut resp = Response::new(Body::from(self.stored.body));
        *resp.status_mut() = self.status;
        for (name, value) in &self.headers {
            // The body is whole now: its length is the new one, its encoding none.
            if !is_hop_by_hop(name) && name != header::CONTENT_LENGTH {
                resp.headers_mut().append(name.clone(), value.clone());
            }
        }
        resp
    }
}

/// Why a forwarded write has no answer.
enum WriteFailure {
    /// The connection was never established: CARE cannot have applied it.
    NotSent(String),
    /// The request may have reached CARE (reset, timeout, unreadable answer).
    AnswerLost(String),
}

async fn send_write(
    proxy: &Proxy,
    parts: axum::http::request::Parts,
    bytes: axum::body::Bytes,
    path_and_query: &str,
) -> Result<WriteAnswer, WriteFailure> {
    let mut headers = upstream_request_headers(&parts.headers);
    // A stored answer must read the same to whoever gets it replayed: ask for it plain.
    headers.remove(header::ACCEPT_ENCODING);
    let resp = proxy
        .writer
        .request(parts.method.clone(), proxy.target(path_and_query))
        .headers(headers)
        .body(bytes.to_vec())
        .send()
        .await
        .map_err(|e| {
            if e.is_connect() {
                WriteFailure::NotSent(without_url(&e))
            } else {
                WriteFailure::AnswerLost(without_url(&e))
            }
        })?;
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp
        .bytes()
        .await
        .map_err(|e| WriteFailure::AnswerLost(without_url(&e)))?;
    let stored = Stored {
        status: status.as_u16(),
        content_type: headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        body: body.to_vec(),
    };
    Ok(WriteAnswer {
        status,
        headers,
        stored,
    })
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
    let headers = upstream_request_headers(&parts.headers);
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
        let store = IdempotencyStore::open_sqlite(
            &dir.path().join("i.sqlite3"),
            crate::sync::at_rest::AtRest::new([9; 32]),
        )
        .expect("store");
        let url = "https://care.example.org/base/".parse().expect("url");
        let p = Proxy::new(url, Duration::from_secs(1), store).expect("proxy");
        assert_eq!(
            p.target("/api/v1/patient/?a=1"),
            "https://care.example.org/base/api/v1/patient/?a=1"
        );
    }

    #[test]
    fn a_devices_forwarding_claims_cookies_and_connection_headers_stay_here() {
        let mut from = HeaderMap::new();
        from.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer x"));
        from.insert("idempotency-key", HeaderValue::from_static("k1"));
        from.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        from.insert(header::COOKIE, HeaderValue::from_static("session=abc"));
        from.insert("x-forwarded-for", HeaderValue::from_static("10.0.0.1"));
        from.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        from.insert("forwarded", HeaderValue::from_static("for=10.0.0.1"));
        from.insert("x-real-ip", HeaderValue::from_static("10.0.0.1"));
        from.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, X-Secret"),
        );
        from.insert("x-secret", HeaderValue::from_static("s"));
        from.insert(header::TE, HeaderValue::from_static("trailers"));
        let to = upstream_request_headers(&from);
        let mut kept: Vec<&str> = to.keys().map(|k| k.as_str()).collect();
        kept.sort_unstable();
        assert_eq!(kept, ["authorization", "content-type", "idempotency-key"]);
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
