//! Questionnaires: list filters, tags, retrieve, submit (per-type validation, required,
//! enable_when, permissions) and the patient's questionnaire responses.

mod common;

use common::keys;
use serde_json::{json, Value};

fn qid(questions: &Value, link: &str) -> String {
    for q in questions.as_array().into_iter().flatten() {
        if q["link_id"] == link {
            return q["id"].as_str().unwrap_or_default().to_string();
        }
        let inner = qid(&q["questions"], link);
        if !inner.is_empty() {
            return inner;
        }
    }
    String::new()
}

fn answer(id: &str, value: &str) -> Value {
    json!({"question_id": id, "values": [{"value": value}]})
}

#[tokio::test]
async fn list_retrieve_and_tags() {
    let s = common::start(&[]).await;
    let (token, _) = s.login("care-doctor").await;
    let (status, list) = s
        .get(
            "/api/v1/questionnaire/?status=active&subject_type=encounter&limit=3",
            Some(&token),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(list["results"].as_array().map(Vec::len), Some(3));
    let sample = common::sample("questionnaire_list_active_encounter");
    assert_eq!(
        keys(&list["results"][0]),
        keys(&sample["response"]["results"][0])
    );
    let (_, all) = s
        .get("/api/v1/questionnaire/?limit=100", Some(&token))
        .await;
    let (_, patient_forms) = s
        .get("/api/v1/questionnaire/?subject_type=patient", Some(&token))
        .await;
    assert_eq!(patient_forms["count"], 1);
    let (_, active) = s
        .get(
            "/api/v1/questionnaire/?status=active&limit=100",
            Some(&token),
        )
        .await;
    assert_eq!(
        active["count"].as_i64().unwrap_or(0) + 1,
        all["count"].as_i64().unwrap_or(0)
    );

    let (status, err) = s
        .get("/api/v1/questionnaire/?tag_slug=no-such-tag", Some(&token))
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        err,
        common::sample("questionnaire_list_by_tag_slug_404")["response"]
    );
    let (_, tagged) = s
        .get("/api/v1/questionnaire/?tag_slug=vitals", Some(&token))
        .await;
    assert_eq!(tagged["count"], 1);
    assert_eq!(tagged["results"][0]["tags"][0]["slug"], "vitals");
    let (status, tags) = s
        .get("/api/v1/questionnaire_tag/?limit=5", Some(&token))
        .await;
    assert_eq!(status, 200);
    assert_eq!(keys(&tags["results"][0]), vec!["id", "name", "slug"]);

    let (status, form) = s
        .get("/api/v1/questionnaire/patient_feedback/", Some(&token))
        .await;
    assert_eq!(status, 200);
    let sample = common::sample("questionnaire_retrieve");
    assert_eq!(form["id"], sample["response"]["id"]);
    assert_eq!(form["questions"], sample["response"]["questions"]);
    let (status, err) = s.get("/api/v1/questionnaire/nope/", Some(&token)).await;
    assert_eq!(status, 404);
    assert_eq!(
        err["errors"][0]["msg"],
        "No Questionnaire matches the given query."
    );
}

#[tokio::test]
async fn submit_validates_types_required_and_enable_when() {
    let s = common::start(&[]).await;
    let (token, _) = s.login("care-doctor").await;
    let (pid, eid) = s.patient_with_encounter(&token, "+919800000201").await;
    let (_, form) = s
        .get(
            "/api/v1/questionnaire/demo-encounter-assessment/",
            Some(&token),
        )
        .await;
    let q = |link: &str| qid(&form["questions"], link);
    let url = "/api/v1/questionnaire/demo-encounter-assessment/submit/";
    let submit = |results: Vec<Value>| json!({"resource_id": eid, "encounter": eid, "patient": pid, "results": results});
    let good = vec![
        answer(&q("complaint"), "Fever for two days"),
        answer(&q("vitals.pulse"), "88"),
        answer(&q("vitals.temp"), "38.4"),
        json!({"question_id": q("vitals.weight"), "values": [{"value": "61.5",
               "unit": {"system": "http://unitsofmeasure.org", "code": "kg", "display": "kilogram"}}]}),
        answer(&q("vitals.avpu"), "Alert"),
        answer(&q("onset"), "2026-01-20T09:00:00+05:30"),
        answer(&q("last_meal"), "08:30:00"),
        answer(&q("lmp"), "2026-01-02"),
        answer(&q("smoker"), "true"),
        answer(&q("smoker.per_day"), "5"),
        answer(&q("smoker.quit"), "1"),
    ];
    let (status, resp) = s.post(url, submit(good.clone()), Some(&token)).await;
    assert_eq!(status, 200, "{resp}");
    assert_eq!(resp["questionnaire"]["slug"], "demo-encounter-assessment");
    assert_eq!(resp["subject_id"], json!(eid));
    assert_eq!(resp["responses"].as_array().map(Vec::len), Some(11));
    assert_eq!(resp["structured_responses"], json!({}));

    // One wrong value per type, each reported against its question.
    let wrong = [
        ("vitals.pulse", "eighty", "Invalid integer"),
        ("vitals.temp", "hot", "Invalid decimal"),
        ("vitals.weight", "heavy", "Invalid quantity"),
        ("vitals.avpu", "Sleepy", "Invalid choice"),
        ("onset", "yesterday", "Invalid datetime"),
        ("last_meal", "noon", "Invalid time"),
        ("lmp", "02/01/2026", "Invalid date"),
        ("smoker", "maybe", "Invalid boolean"),
    ];
    for (link, value, msg) in wrong {
        let results: Vec<Value> = good
            .iter()
            .map(|a| {
                if a["question_id"] == json!(q(link)) {
                    answer(&q(link), value)
                } else {
                    a.clone()
                }
            })
            .collect();
        let (status, err) = s.post(url, submit(results), Some(&token)).await;
        assert_eq!(status, 400, "{link}");
        // (An invalid "smoker" also disables the questions that depend on it.)
        assert_eq!(
            err["errors"][0],
            json!({"type": "type_error", "question_id": q(link), "msg": msg}),
            "{link}"
        );
    }
    let mut with_url = good.clone();
    with_url[4] = answer(&q("vitals.avpu"), "Voice");
    with_url.push(answer(&q("referral"), "not a url"));
    let (_, err) = s.post(url, submit(with_url), Some(&token)).await;
    assert_eq!(err["errors"][0]["msg"], "Invalid URL");
    let mut long = good.clone();
    long[0] = answer(&q("complaint"), &"x".repeat(201));
    let (_, err) = s.post(url, submit(long), Some(&token)).await;
    assert_eq!(err["errors"][0]["msg"], "Text too long");

    // Required: a missing pulse; per-day required only while "smoker" is true.
    let missing: Vec<Value> = good
        .iter()
        .filter(|a| a["question_id"] != json!(q("vitals.pulse")))
        .cloned()
        .collect();
    let (status, err) = s.post(url, submit(missing), Some(&token)).await;
    assert_eq!(status, 400);
    assert_eq!(
        err["errors"][0],
        json!({"type": "values_missing", "question_id": q("vitals.pulse"), "msg": "Missing Required Value"})
    );
    let mut non_smoker: Vec<Value> = good[..8].to_vec();
    non_smoker.push(answer(&q("smoker"), "false"));
    let (status, resp) = s.post(url, submit(non_smoker.clone()), Some(&token)).await;
    assert_eq!(
        status, 200,
        "per-day is not required for a non-smoker: {resp}"
    );
    non_smoker.push(answer(&q("smoker.per_day"), "3"));
    let (status, err) = s.post(url, submit(non_smoker), Some(&token)).await;
    assert_eq!(status, 400);
    assert_eq!(err["errors"][0]["type"], "question_disabled");
    let mut smoker_only: Vec<Value> = good[..8].to_vec();
    smoker_only.push(answer(&q("smoker"), "true"));
    let (_, err) = s.post(url, submit(smoker_only), Some(&token)).await;
    assert_eq!(err["errors"][0]["question_id"], json!(q("smoker.per_day")));

    // Unknown question, malformed body, wrong types.
    let mut unknown = good.clone();
    unknown.push(answer("6f1c1e0a-7b0e-4b1a-9c1e-0a7b0e4b1a9c", "1"));
    let (_, err) = s.post(url, submit(unknown), Some(&token)).await;
    assert_eq!(err["errors"][0]["type"], "question_not_found");
    let (status, err) = s
        .post(
            url,
            json!({"resource_id": "x", "results": [{"values": [{"value": 4}]}]}),
            Some(&token),
        )
        .await;
    assert_eq!(status, 400);
    let types: Vec<&str> = err["errors"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["type"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        types,
        vec!["uuid_parsing", "missing", "missing", "string_type"]
    );
    let (status, _) = s
        .send_raw(reqwest::Method::POST, url, "[1,", Some(&token))
        .await;
    assert_eq!(status, 400);

    // Permissions and status.
    let (volunteer, _) = s.login("care-volunteer").await;
    let (status, err) = s.post(url, submit(good.clone()), Some(&volunteer)).await;
    assert_eq!(status, 403);
    assert_eq!(
        err,
        json!({"detail": "Permission Denied to submit questionnaire"})
    );
    let (status, err) = s
        .post(
            "/api/v1/questionnaire/demo-draft-form/submit/",
            submit(vec![]),
            Some(&token),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(err["errors"][0]["msg"], "Questionnaire is not active");
    let (status, _) = s
        .post(
            "/api/v1/questionnaire/nope/submit/",
            submit(vec![]),
            Some(&token),
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn responses_list_answers_and_structured_rows() {
    let s = common::start(&[]).await;
    let (token, _) = s.login("care-doctor").await;
    let (pid, eid) = s.patient_with_encounter(&token, "+919800000202").await;
    let list_url =
        format!("/api/v1/patient/{pid}/questionnaire_response/?encounter={eid}&limit=100");
    let (_, empty) = s.get(&list_url, Some(&token)).await;
    assert_eq!(empty, json!({"count": 0, "results": []}));

    s.post(
        &format!("/api/v1/patient/{pid}/symptom/upsert/"),
        json!({"datapoints": [{"code": {"system": "http://snomed.info/sct", "code": "386661006",
               "display": "Fever"}, "verification_status": "confirmed", "encounter": eid}]}),
        Some(&token),
    )
    .await;
    let sample = common::sample("batch_requests_success");
    let mut body = sample["request"]["body"]["requests"][3]["body"].clone();
    body["resource_id"] = json!(eid);
    body["encounter"] = json!(eid);
    body["patient"] = json!(pid);
    let (status, resp) = s
        .post(
            "/api/v1/questionnaire/patient_feedback/submit/",
            body,
            Some(&token),
        )
        .await;
    assert_eq!(status, 200, "{resp}");

    let (status, list) = s.get(&list_url, Some(&token)).await;
    assert_eq!(status, 200);
    assert_eq!(list["count"], 2);
    let expected = common::sample("patient_questionnaire_response_list");
    assert_eq!(
        keys(&list["results"][0]),
        keys(&expected["response"]["results"][0])
    );
    assert_eq!(
        keys(&list["results"][1]),
        keys(&expected["response"]["results"][3])
    );
    assert_eq!(list["results"][1]["structured_response_type"], "symptom");
    assert_eq!(
        list["results"][1]["structured_responses"]["symptom"]["submit_type"],
        "CREATE"
    );
    // Only the answer of submit/ lists each question's parent, as real CARE does.
    assert_eq!(
        resp["questionnaire"]["questions"][0]["questions"][0]["parent"],
        resp["questionnaire"]["questions"][0]["id"]
    );
    assert!(list["results"][0]["questionnaire"]["questions"][0]
        .get("parent")
        .is_none());
    let (_, unstructured) = s
        .get(&format!("{list_url}&only_unstructured=true"), Some(&token))
        .await;
    assert_eq!(unstructured["count"], 1);
    let (_, by_slug) = s
        .get(
            &format!("{list_url}&questionnaire_slugs=patient_feedback,other"),
            Some(&token),
        )
        .await;
    assert_eq!(by_slug["count"], 1);
    let rid = resp["id"].as_str().unwrap_or_default();
    let (status, one) = s
        .get(
            &format!("/api/v1/patient/{pid}/questionnaire_response/{rid}/"),
            Some(&token),
        )
        .await;
    assert_eq!((status, &one["id"]), (200, &resp["id"]));

    let common::TestServer { data, task, .. } = s;
    drop(task);
    let s = common::start_in(data, &[]).await;
    let (_, after) = s.get(&list_url, Some(&token)).await;
    assert_eq!(after["count"], 2, "responses survive a restart");
}
