//! Resource requests, the facility list and getallfacilities.

mod common;

use common::keys;
use serde_json::{json, Value};

fn request_body(fid: &str, pid: &str) -> Value {
    let sample = common::sample("resource_create");
    let mut body = sample["request"]["body"].clone();
    body["origin_facility"] = json!(fid);
    body["related_patient"] = json!(pid);
    body
}

#[tokio::test]
async fn create_list_retrieve_update() {
    let s = common::start(&[]).await;
    let (token, _) = s.login("care-doctor").await;
    let fid = s.facility_id(&token).await;
    let (pid, _) = s.patient_with_encounter(&token, "+919800000501").await;

    let (status, created) = s
        .post("/api/v1/resource/", request_body(&fid, &pid), Some(&token))
        .await;
    assert_eq!(status, 200, "{created}");
    let sample = common::sample("resource_create");
    assert_eq!(keys(&created), keys(&sample["response"]));
    assert_eq!(
        keys(&created["origin_facility"]),
        keys(&sample["response"]["origin_facility"])
    );
    assert_eq!(
        keys(&created["related_patient"]),
        keys(&sample["response"]["related_patient"])
    );
    assert_eq!(created["approving_facility"], Value::Null);
    let id = created["id"].as_str().unwrap_or_default().to_string();

    let (_, list) = s
        .get(
            &format!("/api/v1/resource/?origin_facility={fid}&limit=5"),
            Some(&token),
        )
        .await;
    assert_eq!(list["count"], 1);
    assert_eq!(
        keys(&list["results"][0]),
        keys(&common::sample("resource_list")["response"]["results"][0])
    );
    let (_, none) = s
        .get("/api/v1/resource/?status=completed", Some(&token))
        .await;
    assert_eq!(none["count"], 0);
    let (_, by_title) = s.get("/api/v1/resource/?title=oxygen", Some(&token)).await;
    assert_eq!(by_title["count"], 1);

    let (status, one) = s
        .get(&format!("/api/v1/resource/{id}/"), Some(&token))
        .await;
    assert_eq!(status, 200);
    assert_eq!(one, created);

    let (_, all) = s.get("/api/v1/getallfacilities/", Some(&token)).await;
    let other = all["results"]
        .as_array()
        .and_then(|a| a.iter().find(|f| f["id"] != json!(fid)))
        .and_then(|f| f["id"].as_str())
        .unwrap_or_default()
        .to_string();
    let (status, updated) = s
        .put(
            &format!("/api/v1/resource/{id}/"),
            json!({"status": "approved", "assigned_facility": other, "approving_facility": fid}),
            Some(&token),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["status"], "approved");
    assert_eq!(updated["assigned_facility"]["id"], json!(other));
    assert_eq!(updated["title"], "Oxygen cylinders");

    let common::TestServer { data, task, .. } = s;
    drop(task);
    let s = common::start_in(data, &[]).await;
    let (_, after) = s
        .get(&format!("/api/v1/resource/{id}/"), Some(&token))
        .await;
    assert_eq!(after["status"], "approved", "kept after a restart");
}

#[tokio::test]
async fn bad_input() {
    let s = common::start(&[]).await;
    let (token, _) = s.login("care-doctor").await;
    let fid = s.facility_id(&token).await;
    let (status, err) = s.post("/api/v1/resource/", json!({}), Some(&token)).await;
    assert_eq!(status, 400);
    let missing: Vec<&str> = err["errors"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["loc"][0].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(missing.len(), 9, "{err}");
    let mut body = request_body(&fid, "6f1c1e0a-7b0e-4b1a-9c1e-0a7b0e4b1a9c");
    body["status"] = json!("lost");
    body["priority"] = json!("high");
    let (status, err) = s
        .post("/api/v1/resource/", body.clone(), Some(&token))
        .await;
    assert_eq!(status, 400);
    let types: Vec<&str> = err["errors"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["type"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(types, vec!["enum", "int_parsing"]);
    body["status"] = json!("pending");
    body["priority"] = json!(2);
    let (status, err) = s
        .post("/api/v1/resource/", body.clone(), Some(&token))
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        err["errors"][0]["msg"],
        "No Patient matches the given query."
    );
    body["related_patient"] = Value::Null;
    body["assigned_to"] = json!("6f1c1e0a-7b0e-4b1a-9c1e-0a7b0e4b1a9c");
    let (status, err) = s.post("/api/v1/resource/", body, Some(&token)).await;
    assert_eq!(status, 400);
    assert_eq!(
        err["errors"][0]["msg"],
        "Assigned facility is required to assign a user"
    );
    let (status, _) = s
        .send_raw(
            reqwest::Method::POST,
            "/api/v1/resource/",
            "nope",
            Some(&token),
        )
        .await;
    assert_eq!(status, 400);
    let (status, err) = s
        .get(
            "/api/v1/resource/6f1c1e0a-7b0e-4b1a-9c1e-0a7b0e4b1a9c/",
            Some(&token),
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(err["errors"][0]["type"], "object_not_found");
    let (status, _) = s.get("/api/v1/resource/", None).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn facility_lists() {
    let s = common::start(&[]).await;
    let (doctor, _) = s.login("care-doctor").await;
    let (admin, _) = s.login("care-admin").await;
    let (status, mine) = s.get("/api/v1/facility/?limit=2", Some(&doctor)).await;
    assert_eq!(status, 200);
    assert_eq!(
        mine["count"], 1,
        "only the facilities the doctor belongs to"
    );
    assert_eq!(
        keys(&mine["results"][0]),
        keys(&common::sample("facility_list")["response"]["results"][0])
    );
    let (_, every) = s.get("/api/v1/facility/", Some(&admin)).await;
    assert_eq!(every["count"], 2, "a superuser sees every facility");
    let (status, public) = s
        .get("/api/v1/getallfacilities/?limit=2", Some(&doctor))
        .await;
    assert_eq!(status, 200);
    assert_eq!(public["count"], 2);
    assert_eq!(
        keys(&public["results"][0]),
        keys(&common::sample("getallfacilities")["response"]["results"][0])
    );
    let (_, named) = s
        .get("/api/v1/getallfacilities/?name=aluva", Some(&doctor))
        .await;
    assert_eq!(named["count"], 1);
    let (_, searched) = s
        .get("/api/v1/getallfacilities/?search_text=DEMO", Some(&doctor))
        .await;
    assert_eq!(searched["count"], 1);
}

#[tokio::test]
async fn comments_newest_first_with_their_author() {
    let s = common::start(&[]).await;
    let (token, _) = s.login("care-doctor").await;
    let (nurse, _) = s.login("care-nurse").await;
    let fid = s.facility_id(&token).await;
    let (pid, _) = s.patient_with_encounter(&token, "+919800000502").await;
    let (_, created) = s
        .post("/api/v1/resource/", request_body(&fid, &pid), Some(&token))
        .await;
    let id = created["id"].as_str().unwrap_or_default().to_string();
    let path = format!("/api/v1/resource/{id}/comment/");

    let (status, empty) = s.get(&path, Some(&token)).await;
    assert_eq!(status, 200);
    assert_eq!(empty, json!({"count": 0, "results": []}));
    let (status, first) = s
        .post(
            &path,
            json!({"comment": "Oxygen cylinder requested from district store"}),
            Some(&token),
        )
        .await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(
        first["comment"],
        "Oxygen cylinder requested from district store"
    );
    assert_eq!(first["created_by"]["username"], "care-doctor");
    assert!(first["created_date"].is_string());
    let (_, second) = s
        .post(
            &path,
            json!({"comment": "Store confirms; arriving tomorrow"}),
            Some(&nurse),
        )
        .await;
    assert_eq!(second["created_by"]["username"], "care-nurse");
    let (_, list) = s.get(&path, Some(&token)).await;
    assert_eq!(list["count"], 2);
    assert_eq!(
        list["results"][0]["comment"], "Store confirms; arriving tomorrow",
        "newest first"
    );
    let (_, page) = s
        .get(&format!("{path}?limit=1&offset=1"), Some(&token))
        .await;
    assert_eq!(page["results"][0]["id"], first["id"]);

    // Bad input: CARE's pydantic errors; an unknown request is 404.
    let (status, body) = s.post(&path, json!({}), Some(&token)).await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"][0]["loc"], json!(["comment"]));
    let (status, _) = s.post(&path, json!({"comment": 5}), Some(&token)).await;
    assert_eq!(status, 400);
    let (status, _) = s
        .get(
            "/api/v1/resource/9b2e3a44-1f5c-4d6e-8a7b-0c1d2e3f4a5b/comment/",
            Some(&token),
        )
        .await;
    assert_eq!(status, 404);
    // Without a token: CARE's (and DRF's) 403 "Authentication credentials were not provided."
    let (status, _) = s.get(&path, None).await;
    assert_eq!(status, 403);
}
