//! The demo seed's clinical data: every seeded encounter's patient has symptoms, diagnoses,
//! allergies, medication statements and questionnaire responses, read through the real
//! endpoints; two fresh databases get the same data; a restart adds nothing.

mod common;

use serde_json::{json, Map, Value};

const LISTS: &[&str] = &[
    "symptom",
    "diagnosis",
    "allergy_intolerance",
    "medication/statement",
    "questionnaire_response",
];

/// The seeded encounters (a fresh database holds only those) as (encounter, patient), by id.
async fn seeded_encounters(s: &common::TestServer, token: &str) -> Vec<(String, String)> {
    let fid = s.facility_id(token).await;
    let (status, list) = s
        .get(
            &format!("/api/v1/encounter/?facility={fid}&limit=100"),
            Some(token),
        )
        .await;
    assert_eq!(status, 200, "{list}");
    let mut out: Vec<(String, String)> = list["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|e| {
            (
                e["id"].as_str().expect("id").to_string(),
                e["patient"]["id"].as_str().expect("patient").to_string(),
            )
        })
        .collect();
    out.sort();
    assert_eq!(out.len(), 18, "two seeded encounters per status");
    out
}

/// An item without what differs between databases: times, user ids (users get random ids),
/// the nested questionnaire (only its slug kept).
fn normalise(v: &Value) -> Value {
    let mut out = Map::new();
    for (k, v) in v.as_object().expect("object") {
        match k.as_str() {
            "created_date" | "modified_date" => {}
            "created_by" | "updated_by" => {
                out.insert(k.clone(), v["username"].clone());
            }
            "questionnaire" => {
                out.insert(k.clone(), v["slug"].clone());
            }
            _ => {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    Value::Object(out)
}

/// Every list of every seeded encounter's patient, normalised and sorted by id.
async fn snapshot(s: &common::TestServer, token: &str) -> Value {
    let mut all = Vec::new();
    for (encounter, patient) in seeded_encounters(s, token).await {
        let mut lists = Map::new();
        for list in LISTS {
            let (status, body) = s
                .get(
                    &format!("/api/v1/patient/{patient}/{list}/?encounter={encounter}&limit=100"),
                    Some(token),
                )
                .await;
            assert_eq!(status, 200, "{list}: {body}");
            let mut items: Vec<Value> = body["results"]
                .as_array()
                .expect("results")
                .iter()
                .map(normalise)
                .collect();
            assert_eq!(body["count"].as_u64(), Some(items.len() as u64));
            items.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
            lists.insert((*list).to_string(), Value::Array(items));
        }
        all.push(json!({"encounter": encounter, "patient": patient, "lists": lists}));
    }
    Value::Array(all)
}

fn count(snapshot: &Value, list: &str) -> usize {
    snapshot
        .as_array()
        .expect("snapshot")
        .iter()
        .map(|e| e["lists"][list].as_array().map_or(0, Vec::len))
        .sum()
}

#[tokio::test]
async fn seeded_encounters_have_clinical_data_and_responses() {
    let s = common::start(&[]).await;
    let (token, _) = s.login("care-doctor").await;
    let snap = snapshot(&s, &token).await;
    for e in snap.as_array().expect("snapshot") {
        for list in LISTS {
            assert!(
                !e["lists"][*list].as_array().expect("list").is_empty(),
                "no {list} for seeded encounter {}",
                e["encounter"]
            );
        }
        let lists = &e["lists"];
        for item in lists["symptom"].as_array().expect("symptoms") {
            assert_eq!(item["category"], "problem_list_item");
            assert_eq!(item["encounter"], e["encounter"]);
            assert!(item["code"]["display"].is_string(), "{item}");
            assert!(
                ["care-doctor", "care-nurse"].contains(&item["created_by"].as_str().unwrap_or("")),
                "{item}"
            );
        }
        // Every entry has its structured response, and the demo assessment was answered.
        let responses = lists["questionnaire_response"]
            .as_array()
            .expect("responses");
        for (list, label) in [
            ("diagnosis", "diagnosis"),
            ("allergy_intolerance", "allergy_intolerance"),
            ("medication/statement", "medication_statement"),
        ] {
            for item in lists[list].as_array().expect("list") {
                let label = if item["category"] == "problem_list_item" {
                    "symptom"
                } else {
                    label
                };
                assert!(
                    responses
                        .iter()
                        .any(|r| r["structured_response_type"] == label
                            && r["structured_responses"][label]["id"] == item["id"]
                            && r["structured_responses"][label]["submit_type"] == "CREATE"),
                    "no structured response for {item}"
                );
            }
        }
        let assessment = responses
            .iter()
            .find(|r| r["questionnaire"] == "demo-encounter-assessment")
            .expect("an Encounter Assessment (demo) response");
        assert_eq!(assessment["subject_id"], e["encounter"]);
        assert!(assessment["responses"].as_array().expect("answers").len() >= 8);
    }
    let social = snap
        .as_array()
        .expect("snapshot")
        .iter()
        .filter(|e| {
            e["lists"]["questionnaire_response"]
                .as_array()
                .expect("responses")
                .iter()
                .any(|r| r["questionnaire"] == "demo-social-history")
        })
        .count();
    assert_eq!(social, 9, "every other patient has a social history");
    // A diagnosis list includes the symptoms (every condition, as CARE lists them).
    assert!(count(&snap, "diagnosis") > count(&snap, "symptom"));

    // A restart (the step is recorded in meta) adds nothing.
    let common::TestServer { data, task, .. } = s;
    drop(task);
    let s = common::start_in(data, &[]).await;
    let (token, _) = s.login("care-doctor").await;
    assert_eq!(snapshot(&s, &token).await, snap);
}

#[tokio::test]
async fn two_fresh_databases_get_the_same_clinical_data() {
    let (a, b) = tokio::join!(common::start(&[]), common::start(&[]));
    let (ta, _) = a.login("care-doctor").await;
    let (tb, _) = b.login("care-doctor").await;
    let (sa, sb) = (snapshot(&a, &ta).await, snapshot(&b, &tb).await);
    for list in LISTS {
        assert!(count(&sa, list) > 0, "no {list}");
    }
    assert_eq!(sa, sb);
}
