//! Every write the app can queue: its method and path template, how its payload becomes
//! the API's response shape for the optimistic cache entry, and which cached queries it
//! touches (seed 001's syncrouteKey registry).

use serde_json::{json, Value};

use super::Op;
use crate::offline::query::QueryKey;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    Post,
    Put,
}

#[derive(Debug, Clone, Copy)]
pub struct SyncRoute {
    pub key: &'static str,
    pub op: Op,
    pub resource_type: &'static str,
    pub method: HttpMethod,
    /// `/patient/{patient_id}/` — placeholders are filled from the record's path params.
    pub path: &'static str,
    /// For updates: the GET path of the record, to compare `modified_date` before sending.
    pub current: Option<&'static str>,
    /// Query prefixes to invalidate once the server has answered.
    pub invalidates: &'static [&'static [&'static str]],
    /// Label shown on the sync page.
    pub label: &'static str,
}

pub const ROUTES: &[SyncRoute] = &[
    SyncRoute {
        key: "patient.create",
        op: Op::Create,
        resource_type: "patient",
        method: HttpMethod::Post,
        path: "/patient/",
        current: None,
        invalidates: &[&["patient"]],
        label: "Register patient",
    },
    SyncRoute {
        key: "patient.update",
        op: Op::Update,
        resource_type: "patient",
        method: HttpMethod::Put,
        path: "/patient/{patient_id}/",
        current: Some("/patient/{patient_id}/"),
        invalidates: &[&["patient"]],
        label: "Edit patient",
    },
    SyncRoute {
        key: "encounter.create",
        op: Op::Create,
        resource_type: "encounter",
        method: HttpMethod::Post,
        path: "/encounter/",
        current: None,
        invalidates: &[&["encounter"], &["patient"]],
        label: "Start encounter",
    },
];

pub fn route(key: &str) -> Option<&'static SyncRoute> {
    ROUTES.iter().find(|r| r.key == key)
}

impl SyncRoute {
    pub fn invalidation_keys(&self) -> Vec<QueryKey> {
        self.invalidates
            .iter()
            .map(|parts| QueryKey::new(parts.iter().copied()))
            .collect()
    }
}

/// Fills `{name}` placeholders; None when one is missing.
pub fn fill_path(
    template: &str,
    params: &std::collections::BTreeMap<String, String>,
) -> Option<String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}')? + start;
        out.push_str(params.get(&rest[start + 1..end])?);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// The optimistic patient as CARE's retrieve would return it, from a create payload.
pub fn normalize_patient(
    temp_id: &str,
    payload: &Value,
    geo: Option<&Value>,
    now_iso: &str,
) -> Value {
    let year_of_birth = payload
        .get("date_of_birth")
        .and_then(Value::as_str)
        .and_then(|d| d.get(..4)?.parse::<i64>().ok())
        .or_else(|| {
            let age = payload.get("age").and_then(Value::as_i64)?;
            Some(
                chrono::Utc::now()
                    .format("%Y")
                    .to_string()
                    .parse::<i64>()
                    .ok()?
                    - age,
            )
        });
    json!({
        "id": temp_id,
        "name": payload.get("name").cloned().unwrap_or(Value::Null),
        "gender": payload.get("gender").cloned().unwrap_or(Value::Null),
        "phone_number": payload.get("phone_number").cloned().unwrap_or(Value::Null),
        "emergency_phone_number": payload.get("emergency_phone_number").cloned().unwrap_or(Value::Null),
        "address": payload.get("address").cloned().unwrap_or(Value::Null),
        "permanent_address": payload.get("permanent_address").cloned().unwrap_or(Value::Null),
        "pincode": payload.get("pincode").cloned().unwrap_or(Value::Null),
        "blood_group": payload.get("blood_group").cloned().unwrap_or(Value::Null),
        "date_of_birth": payload.get("date_of_birth").cloned().unwrap_or(Value::Null),
        "year_of_birth": year_of_birth,
        "deceased_datetime": null,
        "geo_organization": geo.cloned().unwrap_or(Value::Null),
        "instance_tags": [],
        "facility_tags": [],
        "instance_identifiers": [],
        "facility_identifiers": [],
        "created_date": now_iso,
        "modified_date": now_iso,
        "permissions": [],
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn paths_fill_or_refuse() {
        let mut p = BTreeMap::new();
        p.insert("patient_id".to_string(), "abc".to_string());
        assert_eq!(
            fill_path("/patient/{patient_id}/", &p).as_deref(),
            Some("/patient/abc/")
        );
        assert_eq!(fill_path("/patient/", &p).as_deref(), Some("/patient/"));
        assert_eq!(fill_path("/encounter/{encounter_id}/", &p), None);
    }

    #[test]
    fn every_route_is_findable_and_its_path_fillable() {
        for r in ROUTES {
            assert_eq!(route(r.key).map(|x| x.key), Some(r.key));
            assert!(!r.invalidation_keys().is_empty());
        }
        assert!(route("nope").is_none());
    }

    #[test]
    fn normalized_patient_has_the_retrieve_shape() {
        let p = normalize_patient(
            "tmp-1",
            &json!({"name": "Asha", "gender": "female", "phone_number": "+919800000001", "date_of_birth": "1990-02-03"}),
            None,
            "2026-01-01T00:00:00.000000Z",
        );
        assert_eq!(p["id"], "tmp-1");
        assert_eq!(p["year_of_birth"], 1990);
        for key in [
            "created_date",
            "modified_date",
            "instance_identifiers",
            "permissions",
            "geo_organization",
        ] {
            assert!(p.get(key).is_some(), "{key}");
        }
    }
}
