//! Symptoms, diagnoses, allergy intolerances and medication statements: lists, upserts (all
//! or nothing, codes checked against the bundled value sets), permissions and restarts.

mod common;

use common::keys;
use serde_json::{json, Value};

fn fever(encounter: &str) -> Value {
    json!({"code": {"system": "http://snomed.info/sct", "code": "386661006", "display": "Fever"},
           "clinical_status": "active", "verification_status": "confirmed", "severity": "moderate",
           "onset": {"onset_datetime": "2026-01-20T09:00:00+05:30"}, "note": "since yesterday",
           "encounter": encounter, "category": "problem_list_item"})
}

#[tokio::test]
async fn symptom_and_diagnosis_upsert_list_and_update() {
    let s = common::start(&[]).await;
    let (token, _) = s.login("care-doctor").await;
    let (pid, eid) = s.patient_with_encounter(&token, "+919800000101").await;
    let base = format!("/api/v1/patient/{pid}");

    let (status, empty) = s
        .get(
            &format!("{base}/symptom/?encounter={eid}&limit=100"),
            Some(&token),
        )
        .await;
    assert_eq!((status, empty), (200, json!({"count": 0, "results": []})));

    let (status, created) = s
        .post(
            &format!("{base}/symptom/upsert/"),
            json!({"datapoints": [fever(&eid)]}),
            Some(&token),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    let sample = common::sample("patient_symptom_list");
    assert_eq!(keys(&created[0]), keys(&sample["response"]["results"][0]));
    assert_eq!(created[0]["category"], "problem_list_item");
    assert_eq!(created[0]["abatement"], json!({}));
    assert_eq!(created[0]["created_by"]["username"], "care-doctor");
    assert_eq!(created[0]["created_by"]["meta"], json!({}));
    let sid = created[0]["id"].as_str().unwrap_or_default().to_string();

    let (_, diag) = s
        .post(
            &format!("{base}/diagnosis/upsert/"),
            json!({"datapoints": [{"code": {"system": "http://snomed.info/sct", "code": "38341003",
                    "display": "Hypertensive disorder"}, "clinical_status": "active",
                    "verification_status": "provisional", "category": "encounter_diagnosis",
                    "onset": {}, "encounter": eid}]}),
            Some(&token),
        )
        .await;
    assert_eq!(diag[0]["severity"], Value::Null);
    // The symptom list holds problem-list conditions; the diagnosis list every condition.
    let (_, symptoms) = s
        .get(&format!("{base}/symptom/?encounter={eid}"), Some(&token))
        .await;
    assert_eq!(symptoms["count"], 1);
    let (_, diagnoses) = s
        .get(&format!("{base}/diagnosis/?encounter={eid}"), Some(&token))
        .await;
    assert_eq!(diagnoses["count"], 2);
    assert_eq!(
        diagnoses["results"][0]["category"], "encounter_diagnosis",
        "newest first"
    );

    // An item with an id updates it.
    let (status, updated) = s
        .post(
            &format!("{base}/symptom/upsert/"),
            json!({"datapoints": [{"id": sid, "clinical_status": "resolved", "verification_status": "confirmed"}]}),
            Some(&token),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated[0]["clinical_status"], "resolved");
    assert_eq!(updated[0]["note"], "since yesterday");
    let (status, one) = s.get(&format!("{base}/symptom/{sid}/"), Some(&token)).await;
    assert_eq!(status, 200);
    assert_eq!(one["clinical_status"], "resolved");
    // A diagnosis id is not a symptom.
    let did = diag[0]["id"].as_str().unwrap_or_default();
    let (status, err) = s.get(&format!("{base}/symptom/{did}/"), Some(&token)).await;
    assert_eq!(status, 404);
    assert_eq!(
        err["errors"][0]["msg"],
        "No Condition matches the given query."
    );

    // Plain create and update endpoints.
    let (status, made) = s
        .post(&format!("{base}/symptom/"), fever(&eid), Some(&token))
        .await;
    assert_eq!(status, 200, "{made}");
    let (status, put) = s
        .put(
            &format!(
                "{base}/symptom/{}/",
                made["id"].as_str().unwrap_or_default()
            ),
            json!({"severity": "severe"}),
            Some(&token),
        )
        .await;
    assert_eq!((status, &put["severity"]), (200, &json!("severe")));

    let common::TestServer { data, task, .. } = s;
    drop(task);
    let s = common::start_in(data, &[]).await;
    let (_, after) = s
        .get(&format!("{base}/diagnosis/?encounter={eid}"), Some(&token))
        .await;
    assert_eq!(after["count"], 3, "writes survive a restart");
}

#[tokio::test]
async fn upsert_is_all_or_nothing_with_care_error_bodies() {
    let s = common::start(&[]).await;
    let (token, _) = s.login("care-doctor").await;
    let (pid, eid) = s.patient_with_encounter(&token, "+919800000102").await;
    let base = format!("/api/v1/patient/{pid}");
    let mut unknown = fever(&eid);
    unknown["code"] =
        json!({"system": "http://snomed.info/sct", "code": "999999999", "display": "Nope"});
    let (status, body) = s
        .post(
            &format!("{base}/symptom/upsert/"),
            json!({"datapoints": [fever(&eid), unknown, {"encounter": eid}, "x"]}),
            Some(&token),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body[0]["code"]["code"], "386661006",
        "the good item shows its would-be data"
    );
    assert_eq!(body[1]["errors"][0]["type"], "value_error");
    assert_eq!(body[1]["errors"][0]["loc"], json!(["code"]));
    let missing: Vec<&str> = body[2]["errors"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["loc"][0].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(missing, vec!["verification_status", "code"]);
    assert_eq!(body[2]["errors"][0]["type"], "missing");
    assert_eq!(body[3]["errors"][0]["type"], "model_type");
    let (_, list) = s.get(&format!("{base}/symptom/"), Some(&token)).await;
    assert_eq!(list["count"], 0, "nothing kept");

    // Wrong types, unknown encounter, another patient's encounter.
    let (status, body) = s
        .post(
            &format!("{base}/symptom/upsert/"),
            json!({"datapoints": [{"code": "fever", "verification_status": 3, "encounter": "nope"}]}),
            Some(&token),
        )
        .await;
    assert_eq!(status, 400);
    let kinds: Vec<&str> = body[0]["errors"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["type"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(kinds, vec!["enum", "model_type", "uuid_parsing"]);
    let (_, body) = s
        .post(
            &format!("{base}/symptom/upsert/"),
            json!({"datapoints": [fever("6f1c1e0a-7b0e-4b1a-9c1e-0a7b0e4b1a9c")]}),
            Some(&token),
        )
        .await;
    assert_eq!(
        body[0]["errors"][0]["msg"],
        "No Encounter matches the given query."
    );
    let (other_pid, _) = s.patient_with_encounter(&token, "+919800000103").await;
    let (status, body) = s
        .post(
            &format!("/api/v1/patient/{other_pid}/symptom/upsert/"),
            json!({"datapoints": [fever(&eid)]}),
            Some(&token),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body[0]["errors"][0]["type"], "validation_error");

    // Envelope errors.
    let many: Vec<Value> = (0..101).map(|_| fever(&eid)).collect();
    let (status, body) = s
        .post(
            &format!("{base}/symptom/upsert/"),
            json!({"datapoints": many}),
            Some(&token),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["errors"][0]["msg"],
        "Cannot process more than 100 datapoints in a single request"
    );
    let (status, body) = s
        .post(
            &format!("{base}/symptom/upsert/"),
            json!({"datapoints": {}}),
            Some(&token),
        )
        .await;
    assert_eq!(
        (status, &body["errors"][0]["type"]),
        (400, &json!("list_type"))
    );
    let (status, _) = s
        .send_raw(
            reqwest::Method::POST,
            &format!("{base}/symptom/upsert/"),
            "{",
            Some(&token),
        )
        .await;
    assert_eq!(status, 400);
    let (status, body) = s
        .post(
            "/api/v1/patient/6f1c1e0a-7b0e-4b1a-9c1e-0a7b0e4b1a9c/symptom/upsert/",
            json!({"datapoints": []}),
            Some(&token),
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        body["errors"][0]["msg"],
        "No Patient matches the given query."
    );
    let (volunteer, _) = s.login("care-volunteer").await;
    let (status, body) = s
        .post(
            &format!("{base}/symptom/upsert/"),
            json!({"datapoints": [fever(&eid)]}),
            Some(&volunteer),
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(
        body,
        json!({"detail": "You do not have permission to update encounter"})
    );
    let (status, _) = s.get(&format!("{base}/symptom/"), Some(&volunteer)).await;
    assert_eq!(status, 200, "volunteers may read clinical data");
    let (status, _) = s.get(&format!("{base}/symptom/"), None).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn allergies_and_medication_statements() {
    let s = common::start(&[]).await;
    let (token, _) = s.login("care-doctor").await;
    let (pid, eid) = s.patient_with_encounter(&token, "+919800000104").await;
    let base = format!("/api/v1/patient/{pid}");

    let (status, allergy) = s
        .post(
            &format!("{base}/allergy_intolerance/upsert/"),
            json!({"datapoints": [{"code": {"system": "http://snomed.info/sct", "code": "91936005",
                    "display": "Allergy to penicillin"}, "clinical_status": "active",
                    "verification_status": "confirmed", "category": "medication", "criticality": "high",
                    "encounter": eid, "note": "rash"}]}),
            Some(&token),
        )
        .await;
    assert_eq!(status, 200, "{allergy}");
    let sample = common::sample("patient_allergy_intolerance_list");
    assert_eq!(keys(&allergy[0]), keys(&sample["response"]["results"][0]));
    assert_eq!(allergy[0]["allergy_intolerance_type"], "allergy");
    // A condition code is not an allergy code.
    let (status, bad) = s
        .post(
            &format!("{base}/allergy_intolerance/upsert/"),
            json!({"datapoints": [{"code": {"system": "http://snomed.info/sct", "code": "386661006"},
                    "clinical_status": "active", "verification_status": "confirmed",
                    "category": "food", "criticality": "low", "encounter": eid}]}),
            Some(&token),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(bad[0]["errors"][0]["loc"], json!(["code"]));

    let sample = common::sample("patient_medication_statement_upsert");
    let mut req = sample["request"]["body"].clone();
    req["datapoints"][0]["encounter"] = json!(eid);
    let (status, med) = s
        .post(
            &format!("{base}/medication/statement/upsert/"),
            req,
            Some(&token),
        )
        .await;
    assert_eq!(status, 200, "{med}");
    assert_eq!(keys(&med[0]), keys(&sample["response"][0]));
    assert_eq!(
        med[0]["effective_period"],
        json!({"start": "2026-11-01T00:00:00+05:30"})
    );
    let (_, list) = s
        .get(
            &format!("{base}/medication/statement/?encounter={eid}"),
            Some(&token),
        )
        .await;
    assert_eq!(list["count"], 1);
    // A naive effective period is refused, as CARE's PeriodSpec does.
    let (status, bad) = s
        .post(
            &format!("{base}/medication/statement/upsert/"),
            json!({"datapoints": [{"status": "active", "encounter": eid,
                    "medication": {"system": "http://snomed.info/sct", "code": "387207008"},
                    "effective_period": {"start": "2026-11-01T00:00:00"}}]}),
            Some(&token),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        bad[0]["errors"][0]["loc"],
        json!(["effective_period", "start"])
    );
}
