//! Contract test: replays captured real-CARE requests (tests/samples, copied from
//! shared/care-samples) against a built-in server, in capture order, and checks that the status
//! is the same and the body has the same structure: the same keys and JSON types, recursively
//! (values may differ; `null` matches any type and `{}` any object, since those stand for "none"
//! and differ by data; for
//! arrays the first elements are compared when both are non-empty).
//!
//! Sample ids are mapped to ours: a few fixed ones up front (facility, users, geo org, role,
//! department), the rest learned by walking each sample response alongside ours. Sample dates
//! (2026-11-23 … 2026-12-31) are moved to days after today so slots are never in the past.

mod common;

use std::collections::BTreeMap;

use serde_json::{json, Value};

/// Replayed, in this order (the order the samples were captured in, so state lines up).
const COVERED: &[&str] = &[
    "auth_login_doctor",
    "auth_login_bad_credentials",
    "auth_login_missing_field",
    "auth_token_refresh",
    "auth_token_refresh_invalid",
    "error_no_auth_header",
    "error_invalid_access_token",
    "users_getcurrentuser",
    "facility_retrieve",
    "facility_list",
    "getallfacilities",
    "organization_list_govt_root",
    "organization_list_govt_children",
    "organization_retrieve",
    "patient_create_invalid_400",
    "patient_create_missing_geo_400",
    "patient_create",
    "patient_create_with_age",
    "patient_retrieve",
    "patient_retrieve_with_facility",
    "patient_retrieve_404",
    "patient_list",
    "patient_search_by_phone",
    "patient_search_by_identifier_config",
    "patient_search_missing_params_400",
    "patient_search_retrieve",
    "patient_search_retrieve_nomatch_403",
    "patient_update_put",
    "error_403_volunteer_update_patient",
    "patient_get_users",
    "role_list",
    "users_list_search",
    "users_retrieve_by_username",
    "patient_add_user",
    "patient_add_user_duplicate_400",
    "patient_get_users_after_add",
    "facility_organizations_root",
    "facility_organizations_children",
    "encounter_create_invalid_400",
    "encounter_create",
    "encounter_list_no_filter_403",
    "encounter_list_by_patient_live_false",
    "encounter_list_by_patient_status",
    "encounter_retrieve",
    "encounter_organizations",
    "valueset_list",
    "valueset_favourites_empty",
    "valueset_recent_views_empty",
    "valueset_expand",
    "valueset_add_favourite",
    "valueset_favourites",
    "valueset_add_recent_view",
    "valueset_recent_views",
    "questionnaire_tag_list",
    "questionnaire_list_active_encounter",
    "questionnaire_list_by_tag_slug_404",
    "questionnaire_retrieve",
    "questionnaire_retrieve_ncgdoctornotes",
    "questionnaire_retrieve_respiratory_status_v3",
    "questionnaire_retrieve_death_form_V4",
    "patient_symptom_list_empty",
    "patient_diagnosis_list_empty",
    "patient_allergy_intolerance_list_empty",
    "patient_medication_statement_list_empty",
    "patient_questionnaire_response_list_empty",
    "batch_requests_empty_400",
    "batch_requests_success",
    "batch_requests_partial_failure_400",
    "error_405_method_not_allowed",
    "patient_symptom_list",
    "patient_diagnosis_list",
    "patient_allergy_intolerance_list",
    "patient_questionnaire_response_list",
    "patient_medication_statement_upsert",
    "patient_medication_statement_list",
    "schedule_create",
    "slots_availability_stats",
    "slots_get_slots_for_day",
    "slots_create_appointment",
    "slots_create_appointment_duplicate_400",
    "appointments_available_users",
    "appointments_list",
    "appointments_list_missing_resource_type_400",
    "appointments_retrieve",
    "appointments_update_put",
    "appointments_update_put_cancel_rejected_400",
    "appointments_reschedule",
    "appointments_cancel",
    "patient_get_appointments",
    "resource_create",
    "resource_list",
    "resource_retrieve",
    "encounter_update_put_complete",
    "patient_update_partial_put",
];

/// Not replayed: every captured sample is now served by the built-in backend.
const NOT_COVERED: &[&str] = &[];

/// Samples whose top-level keys are data (dates), not fields.
const DATA_KEYED: &[&str] = &["slots_availability_stats"];

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Structural differences between the real (`expected`) and our (`actual`) body.
fn diff(expected: &Value, actual: &Value, path: &str, out: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Null, _) | (_, Value::Null) => {}
        // `{}` stands for "none" in CARE (a root's `parent`, no `appointment`): data, not shape.
        (Value::Object(e), Value::Object(_)) if e.is_empty() => {}
        (Value::Object(e), Value::Object(a)) => {
            for k in e.keys() {
                match a.get(k) {
                    Some(av) => diff(&e[k], av, &format!("{path}.{k}"), out),
                    None => out.push(format!("{path}.{k}: missing")),
                }
            }
            for k in a.keys().filter(|k| !e.contains_key(*k)) {
                out.push(format!("{path}.{k}: extra"));
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if let (Some(e0), Some(a0)) = (e.first(), a.first()) {
                diff(e0, a0, &format!("{path}[0]"), out);
            }
        }
        (e, a) if type_name(e) == type_name(a) => {}
        (e, a) => out.push(format!("{path}: {} vs {}", type_name(e), type_name(a))),
    }
}

/// Learns sample-id → our-id pairs from two bodies of the same shape.
fn learn(expected: &Value, actual: &Value, map: &mut BTreeMap<String, String>) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                let Some(av) = a.get(k) else { continue };
                if k == "id" || k == "resource_id" {
                    if let (Value::String(es), Value::String(as_)) = (ev, av) {
                        if uuid::Uuid::parse_str(es).is_ok() && es != as_ {
                            map.entry(es.clone()).or_insert_with(|| as_.clone());
                        }
                    }
                }
                learn(ev, av, map);
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            for (ev, av) in e.iter().zip(a.iter()) {
                learn(ev, av, map);
            }
        }
        _ => {}
    }
}

fn substitute(v: &Value, map: &BTreeMap<String, String>) -> Value {
    let mut text = v.to_string();
    // Longest first, so a partial id never cuts into a whole one.
    let mut pairs: Vec<(&String, &String)> = map.iter().collect();
    pairs.sort_by_key(|(from, _)| std::cmp::Reverse(from.len()));
    for (from, to) in pairs {
        text = text.replace(from.as_str(), to);
    }
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

#[tokio::test]
async fn samples_list_is_complete() {
    let dir = format!("{}/tests/samples", env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .expect("samples dir")
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().map(String::from))
        .filter_map(|n| n.strip_suffix(".json").map(String::from))
        .collect();
    files.sort();
    let mut listed: Vec<String> = COVERED
        .iter()
        .chain(NOT_COVERED)
        .map(|s| s.to_string())
        .collect();
    listed.sort();
    assert_eq!(
        files, listed,
        "every sample is either replayed or listed as not covered"
    );
    assert_eq!(files.len(), 94);
}

#[tokio::test]
async fn replay_captured_samples() {
    let s = common::start(&[]).await;
    let (doctor_token, doctor_refresh) = s.login("care-doctor").await;
    let (volunteer_token, _) = s.login("care-volunteer").await;
    let fid = s.facility_id(&doctor_token).await;
    let kerala = s.geo_id(&doctor_token, "Kerala").await;
    let (_, doctor) = s
        .get("/api/v1/users/care-doctor/", Some(&doctor_token))
        .await;
    let (_, nurse) = s
        .get("/api/v1/users/care-nurse/", Some(&doctor_token))
        .await;
    let (_, roles) = s.get("/api/v1/role/?name=Nurse", Some(&doctor_token)).await;
    let (_, depts) = s
        .get(
            &format!("/api/v1/facility/{fid}/organizations/?parent=&name=Orthopaedics"),
            Some(&doctor_token),
        )
        .await;
    let id_of = |v: &Value| v["id"].as_str().unwrap_or_default().to_string();
    let mut map: BTreeMap<String, String> = BTreeMap::new();
    map.insert("3b9cca91-a8bb-4e95-9d27-996db13b6cd6".into(), fid.clone());
    map.insert("7823a2e0-4d92-4f19-a84d-3810ee66850d".into(), kerala);
    map.insert(
        "f37f5c2f-35d1-4c6e-aaee-fe565bbf7de3".into(),
        id_of(&doctor),
    );
    map.insert("1fd0cb51-560d-4013-a638-9ecb1dbd85f4".into(), id_of(&nurse));
    map.insert(
        "c7c149ba-aad0-4b66-b123-85ab59bfd4a4".into(),
        id_of(&roles["results"][0]),
    );
    map.insert(
        "5db5ac64-b4ee-4e2b-90af-a2dddefe741d".into(),
        id_of(&depts["results"][0]),
    );
    // Sample dates → days after today (IST), in order.
    let ist = chrono::FixedOffset::east_opt(19800).expect("offset");
    let today = chrono::Utc::now().with_timezone(&ist).date_naive();
    for d in 23..=30 {
        let ours = today + chrono::Duration::days(i64::from(d) - 20);
        map.insert(format!("2026-11-{d}"), ours.to_string());
    }
    map.insert(
        "2026-12-31".into(),
        (today + chrono::Duration::days(60)).to_string(),
    );

    let mut failures = Vec::new();
    for name in COVERED {
        let sample = common::sample(name);
        let req = &sample["request"];
        let method =
            reqwest::Method::from_bytes(req["method"].as_str().unwrap_or("GET").as_bytes())
                .expect("method");
        let mut path = substitute(&req["path"], &map)
            .as_str()
            .unwrap_or_default()
            .to_string();
        if let Value::Object(q) = substitute(&req["query"], &map) {
            let query: Vec<String> = q
                .iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    format!("{k}={}", v.replace('+', "%2B").replace(',', "%2C"))
                })
                .collect();
            path = format!("{path}?{}", query.join("&"));
        }
        let mut body = substitute(&req["body"], &map);
        if *name == "auth_token_refresh" {
            body = json!({ "refresh": doctor_refresh });
        }
        let token = match (*name, req["auth"].as_str()) {
            (_, None) => None,
            ("error_invalid_access_token", _) => Some("not.a.valid.token".to_string()),
            (n, _) if n.contains("volunteer") => Some(volunteer_token.clone()),
            _ => Some(doctor_token.clone()),
        };
        let mut builder = common::client().request(method, s.url(&path));
        if let Some(t) = &token {
            builder = builder.bearer_auth(t);
        }
        if !body.is_null() {
            builder = builder.json(&body);
        }
        let resp = builder.send().await.expect("send");
        let status = resp.status().as_u16();
        let mut ours: Value = resp.json().await.unwrap_or(Value::Null);
        // CARE Offline's one addition to CARE's answers: the vault escrow on a sign-in
        // (`vault_escrow.rs`); everything else must match CARE's shape.
        if let Some(map) = ours.as_object_mut() {
            if map.remove(server::vault_escrow::FIELD).is_some() && !name.starts_with("auth_login")
            {
                failures.push(format!("{name}: a vault escrow outside a sign-in"));
            }
        }
        let expected_status = sample["status"].as_u64().unwrap_or(0) as u16;
        if status != expected_status {
            failures.push(format!(
                "{name}: status {status}, CARE gave {expected_status}: {ours}"
            ));
            continue;
        }
        let expected = &sample["response"];
        let mut problems = Vec::new();
        if DATA_KEYED.contains(name) {
            let first = |v: &Value| v.as_object().and_then(|o| o.values().next().cloned());
            if let (Some(e), Some(a)) = (first(expected), first(&ours)) {
                diff(&e, &a, "$[*]", &mut problems);
            }
        } else {
            diff(expected, &ours, "$", &mut problems);
        }
        if !problems.is_empty() {
            failures.push(format!("{name}: {}", problems.join("; ")));
        }
        learn(expected, &ours, &mut map);
        // Partial ids (first five characters) of the patients the samples use.
        for (sample_id, prefix) in [
            ("e1c736b7-49b3-4b48-84f1-6b7d65c81a77", "e1c73"),
            ("d3075698-511f-4c91-8f0a-22641052c3c1", "d3075"),
        ] {
            if let Some(ours) = map.get(sample_id).cloned() {
                map.entry(prefix.to_string())
                    .or_insert_with(|| ours[..5].to_string());
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} samples differ:\n{}",
        failures.len(),
        COVERED.len(),
        failures.join("\n")
    );
}

#[test]
fn diff_catches_missing_extra_and_type_changes() {
    let mut out = Vec::new();
    diff(
        &json!({"a": 1, "b": "x", "c": [{"d": true}], "e": null, "f": {}}),
        &json!({"a": "1", "c": [{"d": true, "z": 1}], "e": 3, "f": {"g": 1}, "y": 0}),
        "$",
        &mut out,
    );
    assert_eq!(
        out,
        vec![
            "$.a: number vs string",
            "$.b: missing",
            "$.c[0].z: extra",
            "$.y: extra"
        ]
    );
}
