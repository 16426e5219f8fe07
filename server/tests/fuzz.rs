//! Property test: random JSON bodies (whole, or one field of a valid body replaced) thrown at
//! the write endpoints never produce a 5xx.

mod common;

use proptest::prelude::*;
use serde_json::{json, Map, Value};

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        (-1.0e12f64..1.0e12).prop_map(|f| json!(f)),
        ".{0,12}".prop_map(Value::String),
        prop_oneof![
            Just("6f1c1e0a-7b0e-4b1a-9c1e-0a7b0e4b1a9c"),
            Just("2026-01-20T09:00:00+05:30"),
            Just("2026-01-20"),
            Just("+919876543210"),
            Just("true"),
            Just("386661006"),
            Just("' OR 1=1 --"),
        ]
        .prop_map(|s| Value::String(s.to_string())),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,10}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<String, Value>>())),
        ]
    })
}

struct Target {
    method: reqwest::Method,
    path: String,
    valid: Value,
}

fn targets(fid: &str, pid: &str, eid: &str, geo: &str) -> Vec<Target> {
    let fever = json!({"code": {"system": "http://snomed.info/sct", "code": "386661006"},
        "verification_status": "confirmed", "encounter": eid});
    let post = reqwest::Method::POST;
    vec![
        Target {
            method: post.clone(),
            path: "/api/v1/patient/".into(),
            valid: json!({"name": "Fuzz", "gender": "male", "phone_number": "+919876543210",
                          "age": 30, "geo_organization": geo}),
        },
        Target {
            method: reqwest::Method::PUT,
            path: format!("/api/v1/patient/{pid}/"),
            valid: json!({"name": "Fuzz", "pincode": 682001}),
        },
        Target {
            method: post.clone(),
            path: "/api/v1/encounter/".into(),
            valid: json!({"patient": pid, "facility": fid, "status": "planned",
                          "encounter_class": "amb", "priority": "routine"}),
        },
        Target {
            method: post.clone(),
            path: format!("/api/v1/patient/{pid}/symptom/upsert/"),
            valid: json!({"datapoints": [fever]}),
        },
        Target {
            method: post.clone(),
            path: format!("/api/v1/patient/{pid}/medication/statement/upsert/"),
            valid: json!({"datapoints": [{"status": "active", "encounter": eid,
                "medication": {"system": "http://snomed.info/sct", "code": "387207008"}}]}),
        },
        Target {
            method: post.clone(),
            path: "/api/v1/questionnaire/demo-encounter-assessment/submit/".into(),
            valid: json!({"resource_id": eid, "encounter": eid, "patient": pid, "results": []}),
        },
        Target {
            method: post.clone(),
            path: "/api/v1/batch_requests/".into(),
            valid: json!({"requests": [{"url": format!("/api/v1/patient/{pid}/symptom/upsert/"),
                "method": "POST", "reference_id": "s", "body": {"datapoints": [fever]}}]}),
        },
        Target {
            method: post.clone(),
            path: "/api/v1/resource/".into(),
            valid: json!({"emergency": false, "title": "t", "reason": "r",
                "referring_facility_contact_name": "n", "referring_facility_contact_number": "+919876543210",
                "status": "pending", "category": "other", "priority": 1, "origin_facility": fid}),
        },
        Target {
            method: post.clone(),
            path: "/api/v1/valueset/system-condition-code/expand/".into(),
            valid: json!({"search": "fe", "count": 5}),
        },
        Target {
            method: post,
            path: "/api/v1/valueset/system-condition-code/add_favourite/".into(),
            valid: json!({"system": "http://snomed.info/sct", "code": "386661006"}),
        },
    ]
}

#[test]
fn random_bodies_never_cause_a_server_error() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (server, token, list) = rt.block_on(async {
        let s = common::start(&[]).await;
        let (token, _) = s.login("care-doctor").await;
        let fid = s.facility_id(&token).await;
        let geo = s.geo_id(&token, "Kerala").await;
        let (pid, eid) = s.patient_with_encounter(&token, "+919800000701").await;
        let list = targets(&fid, &pid, &eid, &geo);
        (s, token, list)
    });
    let client = common::client();
    let fields = [
        "name",
        "gender",
        "datapoints",
        "requests",
        "results",
        "encounter",
        "patient",
        "code",
        "status",
        "count",
        "search",
        "priority",
        "age",
        "period",
        "body",
        "url",
    ];
    let config = ProptestConfig {
        cases: 300,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let mut runner = proptest::test_runner::TestRunner::new(config);
    let strategy = (
        0..list.len(),
        json_value(),
        prop::sample::select(fields.to_vec()),
        any::<bool>(),
        prop::option::of("[ -~]{0,20}"),
    );
    let result = runner.run(&strategy, |(i, value, field, whole, key)| {
        let target = &list[i];
        let body = if whole {
            value
        } else {
            let mut b = target.valid.clone();
            b[field] = value;
            b
        };
        let status = rt.block_on(async {
            let mut req = client
                .request(target.method.clone(), server.url(&target.path))
                .bearer_auth(&token)
                .json(&body);
            if let Some(k) = key.filter(|k| !k.trim().is_empty()) {
                req = req.header("Idempotency-Key", k.trim());
            }
            req.send().await.map(|r| r.status().as_u16()).unwrap_or(0)
        });
        prop_assert!(
            (200..500).contains(&status),
            "{} {} with {body} answered {status}",
            target.method,
            target.path
        );
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    // And bodies that are not JSON at all.
    rt.block_on(async {
        for target in &list {
            for raw in ["", "{", "[]", "null", "\"x\"", "{\"a\":}", "\u{0}"] {
                let (status, _) = server
                    .send_raw(target.method.clone(), &target.path, raw, Some(&token))
                    .await;
                assert!(
                    (200..500).contains(&status),
                    "{} {raw:?}: {status}",
                    target.path
                );
            }
        }
    });
}
