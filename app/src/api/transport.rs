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
    Patch,
}

/// Sends `method path` (a path under `/api/v1`, with its trailing slash) and decodes the
/// JSON answer. `token` becomes `Authorization: Bearer …`.
pub async fn request<T: DeserializeOwned>(
    method: Method,
    path: &str,
    body: Option<&Value>,
    token: Option<&str>,
) -> Result<T, ApiError> {
    request_with(method, path, body, token, &[]).await
}

/// `request` with extra headers (`Idempotency-Key` on queued writes).
#[cfg(feature = "hydrate")]
pub async fn request_with<T: DeserializeOwned>(
    method: Method,
    path: &str,
    body: Option<&Value>,
    token: Option<&str>,
    headers: &[(&str, &str)],
) -> Result<T, ApiError> {
    use gloo_net::http::RequestBuilder;

    let url = format!("/api/v1{path}");
    let mut builder = match method {
        Method::Get => RequestBuilder::new(&url).method(gloo_net::http::Method::GET),
        Method::Post => RequestBuilder::new(&url).method(gloo_net::http::Method::POST),
        Method::Put => RequestBuilder::new(&url).method(gloo_net::http::Method::PUT),
        Method::Delete => RequestBuilder::new(&url).method(gloo_net::http::Method::DELETE),
        Method::Patch => RequestBuilder::new(&url).method(gloo_net::http::Method::PATCH),
    }
    .header("Accept", "application/json");
    if let Some(token) = token {
        builder = builder.header("Authorization", &format!("Bearer {token}"));
    }
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    // A stalled connection must not hold the sync lock, a page's action or the
    // connectivity signal: past the deadline the fetch is aborted and counts as a network
    // error (a write is then retried with the same key, so it is never applied twice).
    let abort = web_sys::AbortController::new().ok();
    builder = builder.abort_signal(abort.as_ref().map(|a| a.signal()).as_ref());
    let request = match body {
        Some(b) => builder
            .json(b)
            .map_err(|e| ApiError::Decode(e.to_string()))?,
        None => builder
            .build()
            .map_err(|e| ApiError::Decode(e.to_string()))?,
    };
    let result = {
        use futures_util::future::{select, Either};
        let deadline =
            gloo_timers::future::sleep(std::time::Duration::from_millis(REQUEST_TIMEOUT_MS));
        match select(std::pin::pin!(send(request)), std::pin::pin!(deadline)).await {
            Either::Left((result, _)) => result,
            Either::Right(_) => {
                if let Some(a) = &abort {
                    a.abort();
                }
                Err(ApiError::Network(format!(
                    "no answer within {} s",
                    REQUEST_TIMEOUT_MS / 1000
                )))
            }
        }
    };
    observe(&result);
    result
}

/// Longer than the proxy's own upstream timeout (30 s by default), so CARE's or the
/// proxy's answer normally arrives first.
#[cfg(feature = "hydrate")]
const REQUEST_TIMEOUT_MS: u64 = 45_000;

#[cfg(feature = "hydrate")]
async fn send<T: DeserializeOwned>(request: gloo_net::http::Request) -> Result<T, ApiError> {
    let response = request
        .send()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    let status = response.status();
    let from_proxy = response.headers().get("x-care-offline-proxy").is_some();
    let html = response
        .headers()
        .get("content-type")
        .is_some_and(|c| c.starts_with("text/html"));
    let text = response
        .text()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    if looks_like_captive_portal(status, html) {
        return Err(ApiError::Unreachable { status });
    }
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

/// CARE's API always answers JSON; an HTML 2xx/3xx is a captive portal or a login wall
/// between us and the server.
pub fn looks_like_captive_portal(status: u16, html: bool) -> bool {
    html && (200..400).contains(&status)
}

#[cfg(feature = "hydrate")]
type Observer = Box<dyn Fn(bool)>;

#[cfg(feature = "hydrate")]
thread_local! {
    static OBSERVER: std::cell::RefCell<Option<Observer>> = const { std::cell::RefCell::new(None) };
}

/// Registers the function told, after every request, whether it reached the server.
#[cfg(feature = "hydrate")]
pub fn set_reachability_observer(f: impl Fn(bool) + 'static) {
    OBSERVER.with(|o| *o.borrow_mut() = Some(Box::new(f)));
}

#[cfg(feature = "hydrate")]
fn observe<T>(result: &Result<T, ApiError>) {
    let reached = !matches!(result, Err(e) if e.is_unreachable());
    OBSERVER.with(|o| {
        if let Some(f) = o.borrow().as_ref() {
            f(reached);
        }
    });
}

#[cfg(not(feature = "hydrate"))]
pub async fn request_with<T: DeserializeOwned>(
    _method: Method,
    _path: &str,
    _body: Option<&Value>,
    _token: Option<&str>,
    _headers: &[(&str, &str)],
) -> Result<T, ApiError> {
    Err(ApiError::NotInBrowser)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_success_is_a_captive_portal() {
        assert!(looks_like_captive_portal(200, true));
        assert!(looks_like_captive_portal(302, true));
        assert!(!looks_like_captive_portal(200, false));
        assert!(
            !looks_like_captive_portal(500, true),
            "a server error page is still the server"
        );
    }
}
