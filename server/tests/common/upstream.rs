//! A stand-in for a real CARE behind the proxy: it knows who a test token belongs to, and
//! counts the records it creates (it has no idempotency of its own, as CARE has none).

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};

use axum::{
    routing::{get, post},
    Json, Router,
};
use serde_json::{json, Value};

/// CARE's `getcurrentuser` for the test tokens (`h.<payload>.<signature>`): the user is
/// the payload's `user_id`, unless the signature says `as-<user>` (a forged claim: CARE
/// knows the token's real owner); a signature `revoked` is refused as CARE refuses it. A
/// user named `superuser…` is one.
pub async fn current_user(headers: axum::http::HeaderMap) -> axum::response::Response {
    use axum::response::IntoResponse;
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_string();
    let parts: Vec<&str> = token.split('.').collect();
    let signature = parts.get(2).copied().unwrap_or_default();
    if signature == "revoked" || parts.len() != 3 {
        return (
            axum::http::StatusCode::FORBIDDEN,
            Json(json!({"detail": "Invalid Token", "code": "token_not_valid"})),
        )
            .into_response();
    }
    let claimed = URL_SAFE_NO_PAD
        .decode(parts[1])
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|v| v["user_id"].as_str().map(str::to_string))
        .unwrap_or_default();
    let id = signature
        .strip_prefix("as-")
        .map(str::to_string)
        .unwrap_or(claimed);
    let superuser = id.starts_with("superuser");
    Json(json!({"id": id, "username": id, "is_superuser": superuser})).into_response()
}

/// An upstream that creates a new record on every POST and counts them.
pub async fn counting_upstream() -> (String, Arc<AtomicUsize>, tokio::task::JoinHandle<()>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let app = Router::new()
        .route("/api/v1/users/getcurrentuser/", get(current_user))
        .route(
            "/api/v1/patient/",
            post(move |Json(body): Json<Value>| {
                let counter = counter.clone();
                async move {
                    let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
                    Json(json!({"id": format!("patient-{n}"), "name": body["name"]}))
                }
            }),
        )
        .route(
            "/api/v1/failing/",
            post(|| async {
                (
                    axum::http::StatusCode::SERVICE_UNAVAILABLE,
                    Json(json!({"detail": "busy"})),
                )
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), hits, task)
}

pub fn token_for(user: &str) -> String {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
    let payload = URL_SAFE_NO_PAD.encode(format!(r#"{{"user_id":"{user}"}}"#));
    format!("h.{payload}.s")
}

pub async fn post_keyed(
    front: &super::TestServer,
    path: &str,
    token: &str,
    key: &str,
    body: Value,
) -> (u16, Option<String>, Value) {
    let resp = super::client()
        .post(front.url(path))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(&body)
        .send()
        .await
        .expect("send");
    let status = resp.status().as_u16();
    let replayed = resp
        .headers()
        .get("idempotent-replayed")
        .map(|v| v.to_str().unwrap_or("").to_string());
    (status, replayed, resp.json().await.unwrap_or(Value::Null))
}
