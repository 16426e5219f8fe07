//! `POST /batch_requests/`: in-order dispatch in one transaction, all-or-nothing.

mod common;

use serde_json::{json, Value};

/// The captured success batch, pointed at our patient and encounter.
fn success_body(pid: &str, eid: &str) -> Value {
    let sample = common::sample("batch_requests_success");
    let text = sample["request"]["body"]
        .to_string()
        .replace("e1c736b7-49b3-4b48-84f1-6b7d65c81a77", pid)
        .replace("92bafc53-35e0-42d0-ae61-5dc91429f161", eid)
        .replace("2026-11-20T09:00:00", "2026-01-20T09:00:00");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

async fn counts(s: &common::TestServer, token: &str, pid: &str) -> (i64, i64, i64) {
    let base = format!("/api/v1/patient/{pid}");
    let (_, d) = s.get(&format!("{base}/diagnosis/"), Some(token)).await;
    let (_, a) = s
        .get(&format!("{base}/allergy_intolerance/"), Some(token))
        .await;
    let (_, q) = s
        .get(&format!("{base}/questionnaire_response/"), Some(token))
        .await;
    (
        d["count"].as_i64().unwrap_or(-1),
        a["count"].as_i64().unwrap_or(-1),
        q["count"].as_i64().unwrap_or(-1),
    )
}

#[tokio::test]
async fn a_good_batch_commits_everything_in_order() {
    let s = common::start(&[]).await;
    let (token, _) = s.login("care-doctor").await;
    let (pid, eid) = s.patient_with_encounter(&token, "+919800000301").await;
    let (status, body) = s
        .post(
            "/api/v1/batch_requests/",
            success_body(&pid, &eid),
            Some(&token),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let statuses: Vec<u64> = body["results"]
        .as_array()
        .map(|a| a.iter().filter_map(|r| r["status_code"].as_u64()).collect())
        .unwrap_or_default();
    assert_eq!(statuses, vec![200, 200, 200, 200]);
    let refs: Vec<&str> = body["results"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|r| r["reference_id"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(refs[..3], ["symptom", "diagnosis", "allergy_intolerance"]);
    let sample = common::sample("batch_requests_success");
    assert_eq!(
        common::keys(&body["results"][3]["data"]),
        common::keys(&sample["response"]["results"][3]["data"])
    );
    // 2 conditions, 1 allergy, 3 structured rows + 1 form response.
    assert_eq!(counts(&s, &token, &pid).await, (2, 1, 4));

    let common::TestServer { data, task, .. } = s;
    drop(task);
    let s = common::start_in(data, &[]).await;
    assert_eq!(
        counts(&s, &token, &pid).await,
        (2, 1, 4),
        "kept after a restart"
    );
}

#[tokio::test]
async fn a_failing_item_rolls_the_whole_batch_back() {
    let s = common::start(&[]).await;
    let (token, _) = s.login("care-doctor").await;
    let (pid, eid) = s.patient_with_encounter(&token, "+919800000302").await;
    let sample = common::sample("batch_requests_partial_failure_400");
    let text = sample["request"]["body"]
        .to_string()
        .replace("e1c736b7-49b3-4b48-84f1-6b7d65c81a77", &pid)
        .replace("92bafc53-35e0-42d0-ae61-5dc91429f161", &eid);
    let req: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let (status, body) = s.post("/api/v1/batch_requests/", req, Some(&token)).await;
    assert_eq!(status, 400, "{body}");
    let results = &body["results"];
    assert_eq!(results[0]["status_code"], 200);
    assert_eq!(results[0]["data"][0]["code"]["code"], "386661006");
    assert_eq!(results[1]["status_code"], 400);
    assert_eq!(
        results[1]["data"],
        json!({"errors": [{"type": "type_error", "question_id": "debf8a5f-6bbf-47aa-8c8a-a3c14330d9fa", "msg": "Invalid integer"}]})
    );
    assert_eq!(results[2], sample["response"]["results"][2]);
    assert_eq!(
        counts(&s, &token, &pid).await,
        (0, 0, 0),
        "nothing persisted"
    );

    // A sub-request the caller may not make fails the batch too.
    let (volunteer, _) = s.login("care-volunteer").await;
    let (status, body) = s
        .post(
            "/api/v1/batch_requests/",
            success_body(&pid, &eid),
            Some(&volunteer),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["results"][0]["status_code"], 403);
    assert_eq!(counts(&s, &token, &pid).await, (0, 0, 0));

    // A write then a later failure in the same batch: the write is undone.
    let (status, _) = s
        .post(
            "/api/v1/batch_requests/",
            json!({"requests": [
                {"url": format!("/api/v1/patient/{pid}/"), "method": "PUT", "reference_id": "p",
                 "body": {"name": "Renamed In Batch", "pincode": 682001}},
                {"url": format!("/api/v1/patient/{pid}/"), "method": "GET", "reference_id": "g"},
                {"url": "/api/v1/patient/6f1c1e0a-7b0e-4b1a-9c1e-0a7b0e4b1a9c/", "method": "GET", "reference_id": "x"}
            ]}),
            Some(&token),
        )
        .await;
    assert_eq!(status, 400);
    let (_, patient) = s
        .get(&format!("/api/v1/patient/{pid}/"), Some(&token))
        .await;
    assert_eq!(patient["name"], "Clinical Patient");
}

#[tokio::test]
async fn envelope_errors() {
    let s = common::start(&[]).await;
    let (token, _) = s.login("care-doctor").await;
    let (status, body) = s
        .post(
            "/api/v1/batch_requests/",
            json!({"requests": []}),
            Some(&token),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body, common::sample("batch_requests_empty_400")["response"]);
    let many: Vec<Value> = (0..21)
        .map(|i| json!({"url": "/api/v1/role/", "method": "GET", "reference_id": i.to_string()}))
        .collect();
    let (status, body) = s
        .post(
            "/api/v1/batch_requests/",
            json!({"requests": many}),
            Some(&token),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"][0]["type"], "too_long");
    assert_eq!(body["errors"][0]["ctx"]["max_length"], 20);
    let (status, body) = s
        .post(
            "/api/v1/batch_requests/",
            json!({"requests": [{"url": 1, "reference_id": "a", "body": []}, "x"]}),
            Some(&token),
        )
        .await;
    assert_eq!(status, 400);
    let types: Vec<&str> = body["errors"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["type"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        types,
        vec!["string_type", "missing", "dict_type", "model_type"]
    );
    let (status, _) = s
        .post("/api/v1/batch_requests/", json!({}), Some(&token))
        .await;
    assert_eq!(status, 400);
    let (status, body) = s
        .send_raw(
            reqwest::Method::DELETE,
            "/api/v1/batch_requests/",
            "",
            Some(&token),
        )
        .await;
    assert_eq!(status, 405);
    assert_eq!(
        body,
        common::sample("error_405_method_not_allowed")["response"]
    );
    let (status, _) = s
        .post("/api/v1/batch_requests/", json!({"requests": []}), None)
        .await;
    assert_eq!(status, 403);
    // Nested batches and unknown methods are item errors.
    let (status, body) = s
        .post(
            "/api/v1/batch_requests/",
            json!({"requests": [
                {"url": "/api/v1/batch_requests/", "method": "POST", "reference_id": "n", "body": {"requests": []}},
                {"url": "/api/v1/role/", "method": "GE T", "reference_id": "m"},
                {"url": "/elsewhere/", "method": "GET", "reference_id": "e"}]}),
            Some(&token),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["results"][0]["status_code"], 400);
    assert_eq!(body["results"][1]["status_code"], 405);
    assert_eq!(
        body["results"][2]["data"],
        json!({"detail": "Route not found"})
    );
    // Reads in a batch see the batch's own earlier writes.
    let (status, body) = s
        .post(
            "/api/v1/batch_requests/",
            json!({"requests": [{"url": "/api/v1/role/?name=Nurse", "method": "GET", "reference_id": "r"}]}),
            Some(&token),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["results"][0]["data"]["results"][0]["name"], "Nurse");
}

#[tokio::test]
async fn concurrent_batches_and_reads_all_finish() {
    let s = common::start(&[]).await;
    let (token, _) = s.login("care-doctor").await;
    let (pid, eid) = s.patient_with_encounter(&token, "+919800000303").await;
    let one = |i: usize| {
        json!({"requests": [{"url": format!("/api/v1/patient/{pid}/symptom/upsert/"), "method": "POST",
            "reference_id": format!("s{i}"), "body": {"datapoints": [{"verification_status": "confirmed",
            "encounter": eid, "code": {"system": "http://snomed.info/sct", "code": "49727002"}}]}}]})
    };
    let mut tasks = Vec::new();
    for i in 0..6 {
        let (url, t, body) = (s.url("/api/v1/batch_requests/"), token.clone(), one(i));
        tasks.push(tokio::spawn(async move {
            let resp = common::client()
                .post(url)
                .bearer_auth(t)
                .json(&body)
                .send()
                .await;
            resp.map(|r| r.status().as_u16()).unwrap_or(0)
        }));
        let (url, t2) = (s.url(&format!("/api/v1/patient/{pid}/")), token.clone());
        tasks.push(tokio::spawn(async move {
            let resp = common::client().get(url).bearer_auth(t2).send().await;
            resp.map(|r| r.status().as_u16()).unwrap_or(0)
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap_or(0), 200);
    }
    let (_, list) = s
        .get(&format!("/api/v1/patient/{pid}/symptom/"), Some(&token))
        .await;
    assert_eq!(list["count"], 6);
}
