//! `POST /batch_requests/` (care-api.md §6): up to 20 sub-requests dispatched in order through
//! the same endpoints, with the caller's `Authorization`, inside one savepoint scope. If any
//! item ends above 299 everything is rolled back and the batch answers 400, still listing
//! every item's result (the good ones with the data they would have had).

use std::sync::LazyLock;

use axum::{
    body::{Body, Bytes},
    extract::State,
    http::{header, HeaderMap, Method, Request, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
    Json, Router,
};
use serde_json::{json, Map, Value};
use tower::ServiceExt;

use super::{
    auth::{json_object, AuthUser},
    error::CareError,
    validate::Checker,
    Care,
};

pub fn router() -> Router<Care> {
    Router::new().route("/batch_requests/", post(batch))
}

/// CARE's `MAX_BATCH_SIZE`.
pub const MAX_ITEMS: usize = 20;
/// Largest sub-response body read back.
const MAX_BODY: usize = 16 * 1024 * 1024;

struct Item {
    url: String,
    method: String,
    reference_id: String,
    body: Option<Value>,
}

fn parse(body: &Map<String, Value>) -> Result<Vec<Item>, CareError> {
    let mut c = Checker::new(body);
    let mut items = Vec::new();
    match body.get("requests") {
        None => c.missing("requests"),
        Some(Value::Array(list)) => {
            if list.is_empty() {
                c.error(
                    "too_short",
                    &["requests"],
                    "List should have at least 1 item after validation, not 0",
                    json!([]),
                    Some(json!({"field_type": "List", "min_length": 1, "actual_length": 0})),
                );
            } else if list.len() > MAX_ITEMS {
                let n = list.len();
                c.error(
                    "too_long",
                    &["requests"],
                    &format!(
                        "List should have at most {MAX_ITEMS} items after validation, not {n}"
                    ),
                    Value::Array(list.clone()),
                    Some(
                        json!({"field_type": "List", "max_length": MAX_ITEMS, "actual_length": n}),
                    ),
                );
            }
            for (i, raw) in list.iter().enumerate() {
                let idx = i.to_string();
                let Value::Object(obj) = raw else {
                    c.error(
                        "model_type",
                        &["requests", &idx],
                        "Input should be a valid dictionary or instance of BatchRequest",
                        raw.clone(),
                        Some(json!({"class_name": "BatchRequest"})),
                    );
                    continue;
                };
                let mut text = |field: &str| match obj.get(field) {
                    Some(Value::String(s)) => Some(s.clone()),
                    Some(other) => {
                        c.error(
                            "string_type",
                            &["requests", &idx, field],
                            "Input should be a valid string",
                            other.clone(),
                            None,
                        );
                        None
                    }
                    None => {
                        c.error(
                            "missing",
                            &["requests", &idx, field],
                            "Field required",
                            raw.clone(),
                            None,
                        );
                        None
                    }
                };
                let (url, method, reference_id) =
                    (text("url"), text("method"), text("reference_id"));
                let body = match obj.get("body") {
                    None | Some(Value::Null) => None,
                    Some(v @ Value::Object(_)) => Some(v.clone()),
                    Some(other) => {
                        c.error(
                            "dict_type",
                            &["requests", &idx, "body"],
                            "Input should be a valid dictionary",
                            other.clone(),
                            None,
                        );
                        None
                    }
                };
                if let (Some(url), Some(method), Some(reference_id)) = (url, method, reference_id) {
                    items.push(Item {
                        url,
                        method,
                        reference_id,
                        body,
                    });
                }
            }
        }
        Some(other) => c.error(
            "list_type",
            &["requests"],
            "Input should be a valid list",
            other.clone(),
            None,
        ),
    }
    c.finish()?;
    Ok(items)
}

/// Answers for a URL no endpoint takes, as CARE's batch view does.
async fn route_not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"detail": "Route not found"})),
    )
        .into_response()
}

/// Runs one sub-request on `app`; (status, parsed body).
async fn run(app: &Router, item: &Item, auth: Option<&header::HeaderValue>) -> (u16, Value) {
    let Some(path) = item.url.strip_prefix("/api/v1") else {
        return (404, json!({"detail": "Route not found"}));
    };
    if path.starts_with("/batch_requests/") {
        return (
            400,
            json!({"errors": [{"type": "validation_error", "msg": "Batch requests cannot be nested"}]}),
        );
    }
    let Ok(method) = Method::from_bytes(item.method.to_uppercase().as_bytes()) else {
        return (
            405,
            json!({"detail": format!("Method \"{}\" not allowed.", item.method)}),
        );
    };
    let body = match (&item.body, &method) {
        (Some(b), _) => Body::from(b.to_string()),
        (None, &Method::GET | &Method::HEAD | &Method::DELETE) => Body::empty(),
        (None, _) => Body::from("{}"),
    };
    let mut builder = Request::builder()
        .method(method)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(auth) = auth {
        builder = builder.header(header::AUTHORIZATION, auth);
    }
    let Ok(req) = builder.body(body) else {
        return (404, json!({"detail": "Route not found"}));
    };
    let resp = match app.clone().oneshot(req).await {
        Ok(r) => r,
        Err(never) => match never {},
    };
    let status = resp.status().as_u16();
    let bytes = axum::body::to_bytes(resp.into_body(), MAX_BODY)
        .await
        .unwrap_or_default();
    let data = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    };
    (status, data)
}

async fn batch(
    State(care): State<Care>,
    _user: AuthUser,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, CareError> {
    let body = json_object(&body)?;
    let items = parse(&body)?;
    let auth = headers.get(header::AUTHORIZATION);
    let tx = care.db.begin().await?;
    let scoped = Care {
        db: tx.db(),
        jwt: care.jwt.clone(),
        login_throttle: care.login_throttle.clone(),
    };
    static ROUTES: LazyLock<Router<Care>> = LazyLock::new(|| {
        super::routes()
            .fallback(route_not_found)
            .method_not_allowed_fallback(super::method_not_allowed)
    });
    let app = ROUTES.clone().with_state(scoped);
    let mut results = Vec::with_capacity(items.len());
    let mut failed = false;
    for item in &items {
        let (status, data) = run(&app, item, auth).await;
        failed |= status > 299;
        results.push(json!({
            "reference_id": item.reference_id,
            "data": data,
            "status_code": status,
        }));
    }
    // The scope's connection is released once the last handle to it is gone.
    drop(app);
    let status = if failed {
        tx.rollback().await?;
        StatusCode::BAD_REQUEST
    } else {
        tx.commit().await?;
        StatusCode::OK
    };
    Ok((status, Json(json!({ "results": results }))).into_response())
}
