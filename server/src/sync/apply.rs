//! Applying one queued write: the server-side `modified_date` check for updates and deletes
//! that name the version they were based on, then the write itself through the backend with
//! the item's id as its `Idempotency-Key`. Shared by `sync/push` and the seed-004 queue.

use axum::http::{Method, StatusCode};
use serde_json::{Map, Value};

use super::{
    backend::{strip_api_prefix, Backend, Reply},
    error::SyncError,
};

/// Longest route accepted.
const MAX_PATH: usize = 2048;
/// Longest item / device id accepted.
pub const MAX_ID: usize = 255;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
    Delete,
}

impl Operation {
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_uppercase().as_str() {
            "CREATE" => Some(Self::Create),
            "UPDATE" => Some(Self::Update),
            "DELETE" => Some(Self::Delete),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "CREATE",
            Self::Update => "UPDATE",
            Self::Delete => "DELETE",
        }
    }

    fn default_method(self) -> Method {
        match self {
            Self::Create => Method::POST,
            Self::Update => Method::PUT,
            Self::Delete => Method::DELETE,
        }
    }
}

/// One write, checked and ready to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Write {
    pub id: String,
    pub operation: Operation,
    pub resource_type: String,
    pub method: Method,
    /// Below `/api/v1`, e.g. `/patient/<id>/`.
    pub path: String,
    /// Where the current record is read for the version check (default: `path`).
    pub record_path: String,
    pub payload: Option<Value>,
    /// The `modified_date` the client's edit was based on.
    pub base_version: Option<String>,
}

/// How one write ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    Synced(Reply),
    /// The record changed on the server since the client's base: nothing was sent.
    Conflict {
        server: Value,
        server_version: Option<String>,
    },
    Failed(Reply),
}

/// Collects per-field problems of one object, reported together.
pub struct Fields<'a> {
    obj: &'a Map<String, Value>,
    prefix: String,
    pub errors: Vec<(String, String)>,
}

impl<'a> Fields<'a> {
    pub fn new(obj: &'a Map<String, Value>, prefix: &str) -> Self {
        Self {
            obj,
            prefix: prefix.to_string(),
            errors: Vec::new(),
        }
    }

    pub fn err(&mut self, field: &str, msg: impl Into<String>) {
        self.errors
            .push((format!("{}{field}", self.prefix), msg.into()));
    }

    /// An optional string field (`null` counts as absent).
    pub fn opt_str(&mut self, field: &str) -> Option<String> {
        match self.obj.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                self.err(field, "must be a string");
                None
            }
        }
    }

    pub fn req_str(&mut self, field: &str) -> Option<String> {
        let v = self.opt_str(field);
        match &v {
            None if !self.obj.contains_key(field) || self.obj[field].is_null() => {
                self.err(field, "is required");
                None
            }
            Some(s) if s.trim().is_empty() => {
                self.err(field, "may not be blank");
                None
            }
            _ => v,
        }
    }

    /// An id: 1..=255 visible ASCII characters.
    pub fn id(&mut self, field: &str, required: bool) -> Option<String> {
        let v = if required {
            self.req_str(field)
        } else {
            self.opt_str(field)
        }?;
        if valid_id(&v) {
            Some(v)
        } else {
            self.err(field, "must be 1 to 255 visible ASCII characters");
            None
        }
    }

    pub fn get(&self, field: &str) -> Option<&'a Value> {
        self.obj.get(field).filter(|v| !v.is_null())
    }
}

pub fn valid_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_ID && s.chars().all(|c| c.is_ascii_graphic())
}

/// The route of a resource type the queue knows without an explicit `path`.
fn default_path(resource_type: &str, op: Operation, resource_id: Option<&str>) -> Option<String> {
    let base = match resource_type {
        "patient" => "/patient/",
        "encounter" => "/encounter/",
        "resource" | "resource_request" => "/resource/",
        _ => return None,
    };
    match (op, resource_id) {
        (Operation::Create, _) => Some(base.to_string()),
        (_, Some(id)) if valid_id(id) && !id.contains(['/', '?', '#']) => {
            Some(format!("{base}{id}/"))
        }
        _ => None,
    }
}

/// Reads the write fields shared by push items and queue entries: `operation`,
/// `resourceType`, `method`, `path`, `recordPath`, `resourceId`, the payload (under
/// `payload_field`) and `baseVersion`. The id is the caller's.
pub fn parse_write(f: &mut Fields<'_>, id: String, payload_field: &str) -> Option<Write> {
    let operation = match f.req_str("operation") {
        Some(s) => match Operation::parse(&s) {
            Some(op) => Some(op),
            None => {
                f.err("operation", "must be CREATE, UPDATE or DELETE");
                None
            }
        },
        None => None,
    };
    let resource_type = f.req_str("resourceType");
    let resource_id = f.id("resourceId", false);
    let method = match f.opt_str("method") {
        None => operation.map(Operation::default_method),
        Some(m) => match Method::from_bytes(m.to_ascii_uppercase().as_bytes()) {
            Ok(m)
                if matches!(
                    m,
                    Method::POST | Method::PUT | Method::PATCH | Method::DELETE
                ) =>
            {
                Some(m)
            }
            _ => {
                f.err("method", "must be POST, PUT, PATCH or DELETE");
                None
            }
        },
    };
    let path = match f.opt_str("path") {
        Some(p) => check_path(f, "path", &p),
        None => match (&resource_type, operation) {
            (Some(rt), Some(op)) => {
                let p = default_path(rt, op, resource_id.as_deref());
                if p.is_none() {
                    f.err(
                        "path",
                        "is required for this resourceType (or give resourceId for UPDATE/DELETE)",
                    );
                }
                p
            }
            _ => None,
        },
    };
    let record_path = match f.opt_str("recordPath") {
        Some(p) => check_path(f, "recordPath", &p),
        None => path.clone(),
    };
    let payload = match f.get(payload_field) {
        None => None,
        Some(v @ (Value::Object(_) | Value::Array(_))) => Some(v.clone()),
        Some(_) => {
            f.err(payload_field, "must be a JSON object or array");
            None
        }
    };
    let base_version = f.opt_str("baseVersion");
    if operation == Some(Operation::Create) && payload.is_none() {
        f.err(payload_field, "is required for CREATE");
    }
    if operation == Some(Operation::Update) && payload.is_none() {
        f.err(payload_field, "is required for UPDATE");
    }
    Some(Write {
        id,
        operation: operation?,
        resource_type: resource_type?,
        method: method?,
        path: path?,
        record_path: record_path?,
        payload,
        base_version,
    })
}

fn check_path(f: &mut Fields<'_>, field: &str, raw: &str) -> Option<String> {
    let p = strip_api_prefix(raw.trim());
    let ok = p.starts_with('/')
        && p.len() <= MAX_PATH
        && !p.split(['/', '?']).any(|seg| seg == "..")
        && p.parse::<axum::http::Uri>().is_ok();
    if !ok {
        f.err(
            field,
            "must be a route below /api/v1/, e.g. /api/v1/patient/",
        );
        return None;
    }
    if p.starts_with("/sync/") || p == "/sync" || p.starts_with("/batch_requests/") {
        f.err(field, "cannot name a sync or batch route");
        return None;
    }
    Some(p.to_string())
}

/// Two `modified_date`s are the same version when they denote the same instant (or, if
/// either is not a timestamp, are the same text).
pub fn same_version(a: &str, b: &str) -> bool {
    match (
        chrono::DateTime::parse_from_rfc3339(a),
        chrono::DateTime::parse_from_rfc3339(b),
    ) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// Applies a write. With `check` and a base version, the current record is read first and a
/// different `modified_date` is a conflict (nothing sent).
pub async fn apply(
    backend: &Backend,
    auth: &axum::http::HeaderValue,
    write: &Write,
    base_version: Option<&str>,
    check: bool,
) -> Outcome {
    if let (true, Some(base)) = (check && write.operation != Operation::Create, base_version) {
        let current = backend
            .send(Method::GET, &write.record_path, auth, None, None)
            .await;
        if !current.ok() {
            return Outcome::Failed(current);
        }
        let server_version = current.body["modified_date"].as_str().map(str::to_string);
        let same = server_version
            .as_deref()
            .is_some_and(|v| same_version(base, v));
        if !same {
            return Outcome::Conflict {
                server: current.body,
                server_version,
            };
        }
    }
    let reply = backend
        .send(
            write.method.clone(),
            &write.path,
            auth,
            Some(&write.id),
            write.payload.as_ref(),
        )
        .await;
    if reply.ok() {
        Outcome::Synced(reply)
    } else {
        Outcome::Failed(reply)
    }
}

/// The resource a write touched: the answer's `id`, else the last id-like path segment.
pub fn resource_id_of(write: &Write, reply: Option<&Reply>) -> Option<String> {
    if let Some(id) = reply.and_then(|r| r.body["id"].as_str()) {
        return Some(id.to_string());
    }
    let route = write.path.split('?').next().unwrap_or_default();
    route
        .split('/')
        .rev()
        .find(|s| uuid::Uuid::parse_str(s).is_ok())
        .map(str::to_string)
}

/// The status a failure is reported with.
pub fn status_of(reply: &Reply) -> u16 {
    if reply.status == StatusCode::OK && !reply.ok() {
        500
    } else {
        reply.status.as_u16()
    }
}

/// Serialises a payload the way it is sent, for the idempotency fingerprint.
pub fn fingerprint(write: &Write) -> String {
    let body = write
        .payload
        .as_ref()
        .map(|v| v.to_string().into_bytes())
        .unwrap_or_default();
    care_mimic::idempotency::fingerprint(&write.method, &write.path, &body)
}

/// Reads a JSON body, with the sync API's error for anything that is not JSON.
pub fn parse_json(bytes: &[u8]) -> Result<Value, SyncError> {
    serde_json::from_slice(bytes)
        .map_err(|e| SyncError::bad("malformed_json", format!("The body is not valid JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> (Option<Write>, Vec<(String, String)>) {
        let obj = v.as_object().cloned().unwrap_or_default();
        let mut f = Fields::new(&obj, "");
        let w = parse_write(&mut f, "k1".into(), "payload");
        (w, f.errors)
    }

    #[test]
    fn writes_are_checked_and_defaulted() {
        let (w, errors) = parse(json!({"operation": "update", "resourceType": "patient",
            "resourceId": "0b6c7a3e-55f0-4c5e-9a4a-1c1f7f0e2d11", "payload": {"name": "A"},
            "baseVersion": "2026-01-01T00:00:00.000000Z"}));
        assert!(errors.is_empty(), "{errors:?}");
        let w = w.expect("write");
        assert_eq!(w.method, Method::PUT);
        assert_eq!(w.path, "/patient/0b6c7a3e-55f0-4c5e-9a4a-1c1f7f0e2d11/");
        assert_eq!(w.record_path, w.path);

        let (w, errors) = parse(json!({"operation": "MERGE", "resourceType": "patient"}));
        assert!(w.is_none());
        assert!(errors.iter().any(|(f, _)| f == "operation"));

        let (_, errors) = parse(json!({"operation": "CREATE", "resourceType": "x",
            "path": "/api/v1/sync/push", "payload": {}}));
        assert!(errors.iter().any(|(f, _)| f == "path"), "{errors:?}");
        let (_, errors) = parse(json!({"operation": "CREATE", "resourceType": "x",
            "path": "/api/v1/../etc/", "payload": {}}));
        assert!(errors.iter().any(|(f, _)| f == "path"));
        let (w, errors) = parse(json!({"operation": "CREATE", "resourceType": "appointment",
            "method": "post", "path": "/api/v1/facility/f/slots/s/create_appointment/",
            "payload": {"note": "x"}}));
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            w.expect("w").path,
            "/facility/f/slots/s/create_appointment/"
        );
        let (_, errors) = parse(json!({"operation": "CREATE", "resourceType": "patient"}));
        assert!(errors.iter().any(|(f, _)| f == "payload"));
        let (_, errors) = parse(json!({"operation": "DELETE", "resourceType": "patient",
            "method": "GET", "resourceId": "x"}));
        assert!(errors.iter().any(|(f, _)| f == "method"));
    }

    #[test]
    fn versions_compare_as_instants() {
        assert!(same_version(
            "2026-11-21T22:33:36.085611Z",
            "2026-11-21T22:33:36.085611+00:00"
        ));
        assert!(!same_version(
            "2026-11-21T22:33:36.085611Z",
            "2026-11-21T22:33:36.085612Z"
        ));
        assert!(same_version("v1", "v1"));
    }
}
