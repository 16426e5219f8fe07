//! Encounters and facility organizations on the built-in backend.

mod common;

use serde_json::{json, Value};

async fn setup(s: &common::TestServer, token: &str) -> (String, String, String) {
    let fid = s.facility_id(token).await;
    let (status, roots) = s
        .get(
            &format!("/api/v1/facility/{fid}/organizations/?parent="),
            Some(token),
        )
        .await;
    assert_eq!(status, 200);
    let dept = roots["results"][0]["id"]
        .as_str()
        .expect("dept")
        .to_string();
    let geo = s.geo_id(token, "Kerala").await;
    let (_, p) = s
        .post(
            "/api/v1/patient/",
            json!({"name": "Enc Patient", "gender": "male", "phone_number": "+919812345678",
                   "date_of_birth": "1980-01-01", "geo_organization": geo}),
            Some(token),
        )
        .await;
    (fid, dept, p["id"].as_str().expect("patient").to_string())
}

fn body(patient: &str, fid: &str, dept: &str) -> Value {
    json!({"patient": patient, "facility": fid, "status": "in_progress", "encounter_class": "amb",
           "priority": "routine", "organizations": [dept],
           "period": {"start": "2026-01-21T10:00:00+05:30"}, "tags": [], "hospitalization": {},
           "external_identifier": null})
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    k.sort();
    k
}

#[tokio::test]
async fn facility_organizations_roots_and_children() {
    let s = common::start(&[]).await;
    let (token, _) = s.login("care-doctor").await;
    let fid = s.facility_id(&token).await;
    let (_, roots) = s
        .get(
            &format!("/api/v1/facility/{fid}/organizations/?parent="),
            Some(&token),
        )
        .await;
    assert_eq!(roots["count"], 4);
    let sample = common::sample("facility_organizations_root");
    assert_eq!(
        keys(&roots["results"][0]),
        keys(&sample["response"]["results"][0])
    );
    let gm = roots["results"]
        .as_array()
        .expect("roots")
        .iter()
        .find(|o| o["name"] == "General Medicine")
        .expect("gm");
    assert_eq!(gm["has_children"], true);
    let (_, kids) = s
        .get(
            &format!(
                "/api/v1/facility/{fid}/organizations/?parent={}",
                gm["id"].as_str().expect("id")
            ),
            Some(&token),
        )
        .await;
    assert_eq!(kids["count"], 1);
    assert_eq!(kids["results"][0]["parent"]["id"], gm["id"]);
    let (status, _) = s
        .get(
            "/api/v1/facility/00000000-0000-4000-8000-000000000000/organizations/",
            Some(&token),
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn create_list_retrieve_update_encounter() {
    let s = common::start(&[]).await;
    let (token, _) = s.login("care-doctor").await;
    let (fid, dept, pid) = setup(&s, &token).await;
    let (status, e) = s
        .post("/api/v1/encounter/", body(&pid, &fid, &dept), Some(&token))
        .await;
    assert_eq!(status, 200, "{e}");
    assert_eq!(
        keys(&e),
        keys(&common::sample("encounter_create")["response"])
    );
    assert_eq!(e["permissions"], json!([]));
    assert_eq!(e["period"], json!({"start": "2026-01-21T10:00:00+05:30"}));
    assert_eq!(e["status_history"]["history"][0]["status"], "in_progress");
    assert_eq!(e["organizations"][0]["id"], dept.as_str());
    assert_eq!(e["appointment"], json!({}));
    let eid = e["id"].as_str().expect("id").to_string();

    let (status, list) = s
        .get(
            &format!("/api/v1/encounter/?patient={pid}&live=false"),
            Some(&token),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(list["count"], 1);
    assert_eq!(
        keys(&list["results"][0]),
        keys(&common::sample("encounter_list_by_patient_live_false")["response"]["results"][0])
    );
    let (_, live) = s
        .get(
            &format!("/api/v1/encounter/?patient={pid}&live=true"),
            Some(&token),
        )
        .await;
    assert_eq!(live["count"], 0);
    let (_, by_status) = s
        .get(
            &format!("/api/v1/encounter/?patient={pid}&status=planned,in_progress,on_hold"),
            Some(&token),
        )
        .await;
    assert_eq!(by_status["count"], 1);
    let (_, by_facility) = s
        .get(
            &format!("/api/v1/encounter/?facility={fid}&limit=100"),
            Some(&token),
        )
        .await;
    assert!(
        by_facility["count"].as_i64() > Some(18),
        "seeded encounters are listed"
    );
    for status in [
        "planned",
        "in_progress",
        "on_hold",
        "discharged",
        "completed",
        "cancelled",
        "discontinued",
        "entered_in_error",
        "unknown",
    ] {
        let (_, l) = s
            .get(
                &format!("/api/v1/encounter/?facility={fid}&status={status}"),
                Some(&token),
            )
            .await;
        assert!(
            l["count"].as_i64() >= Some(1),
            "a seeded encounter is {status}"
        );
    }
    let (status, body403) = s.get("/api/v1/encounter/", Some(&token)).await;
    assert_eq!(status, 403);
    assert_eq!(
        body403,
        common::sample("encounter_list_no_filter_403")["response"]
    );

    let (status, got) = s
        .get(
            &format!("/api/v1/encounter/{eid}/?facility={fid}"),
            Some(&token),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        got["permissions"],
        common::sample("encounter_retrieve")["response"]["permissions"]
    );
    let (status, orgs) = s
        .get(
            &format!("/api/v1/encounter/{eid}/organizations/"),
            Some(&token),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(orgs["results"][0]["id"], dept.as_str());

    let update = common::sample("encounter_update_put_complete")["request"]["body"].clone();
    let (status, done) = s
        .put(&format!("/api/v1/encounter/{eid}/"), update, Some(&token))
        .await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["status"], "completed");
    let history = done["status_history"]["history"]
        .as_array()
        .expect("history");
    assert_eq!(history.len(), 2);
    assert_eq!(history[1]["status"], "completed");
    assert!(done["modified_date"].as_str() > e["modified_date"].as_str());
    let (_, live) = s
        .get(
            &format!("/api/v1/encounter/?patient={pid}&live=true"),
            Some(&token),
        )
        .await;
    assert_eq!(live["count"], 1);

    // Survives a restart.
    let common::TestServer { data, task, .. } = s;
    drop(task);
    let s = common::start_in(data, &[]).await;
    let (status, again) = s
        .get(&format!("/api/v1/encounter/{eid}/"), Some(&token))
        .await;
    assert_eq!(status, 200);
    assert_eq!(again["status_history"], done["status_history"]);
}

#[tokio::test]
async fn encounter_errors_and_limits() {
    let s = common::start(&[]).await;
    let (token, _) = s.login("care-doctor").await;
    let (fid, dept, pid) = setup(&s, &token).await;
    let sample = common::sample("encounter_create_invalid_400");
    let mut bad = sample["request"]["body"].clone();
    bad["patient"] = json!(pid);
    bad["facility"] = json!(fid);
    let (status, errors) = s
        .post("/api/v1/encounter/", bad.clone(), Some(&token))
        .await;
    assert_eq!(status, 400);
    assert_eq!(errors["errors"][0], sample["response"]["errors"][0]);
    assert_eq!(errors["errors"][1]["loc"], json!(["priority"]));
    assert_eq!(errors["errors"][1]["input"], bad);
    let mut naive = body(&pid, &fid, &dept);
    naive["period"] = json!({"start": "2026-01-21T10:00:00"});
    let (status, errors) = s.post("/api/v1/encounter/", naive, Some(&token)).await;
    assert_eq!(status, 400);
    assert_eq!(errors["errors"][0]["loc"], json!(["period", "start"]));
    let (status, _) = s
        .send_raw(
            reqwest::Method::POST,
            "/api/v1/encounter/",
            "{",
            Some(&token),
        )
        .await;
    assert_eq!(status, 400);
    let (status, errors) = s
        .post(
            "/api/v1/encounter/",
            body("00000000-0000-4000-8000-000000000000", &fid, &dept),
            Some(&token),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(errors["errors"][0]["msg"], "Patient does not exist");
    let (status, errors) = s
        .post(
            "/api/v1/encounter/",
            body(&pid, &fid, "00000000-0000-4000-8000-000000000000"),
            Some(&token),
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        errors["errors"][0]["msg"],
        "No FacilityOrganization matches the given query."
    );
    let (_, none) = s
        .get(&format!("/api/v1/encounter/?patient={pid}"), Some(&token))
        .await;
    assert_eq!(none["count"], 0, "a failed create leaves nothing behind");
    let (status, body404) = s
        .get(
            "/api/v1/encounter/00000000-0000-4000-8000-000000000000/",
            Some(&token),
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        body404["errors"][0]["msg"],
        "No Encounter matches the given query."
    );

    // Five active encounters per patient per facility.
    let mut first = String::new();
    for i in 0..5 {
        let (status, e) = s
            .post("/api/v1/encounter/", body(&pid, &fid, &dept), Some(&token))
            .await;
        assert_eq!(status, 200, "encounter {i}");
        if i == 0 {
            first = e["id"].as_str().expect("id").to_string();
        }
    }
    let (status, errors) = s
        .post("/api/v1/encounter/", body(&pid, &fid, &dept), Some(&token))
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        errors,
        json!({"errors": [{"type": "validation_error", "msg": "Patient already has maximum number of active encounters (5) in the facility"}]})
    );
    // Volunteers cannot update or create.
    let (vtoken, _) = s.login("care-volunteer").await;
    let (status, denied) = s
        .put(
            &format!("/api/v1/encounter/{first}/"),
            json!({"status": "completed", "encounter_class": "amb", "priority": "routine"}),
            Some(&vtoken),
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(
        denied,
        json!({"detail": "You do not have permission to update encounter"})
    );
    let (status, _) = s
        .post("/api/v1/encounter/", body(&pid, &fid, &dept), Some(&vtoken))
        .await;
    assert_eq!(status, 403);
    // Completing one frees a place.
    let (status, _) = s
        .put(
            &format!("/api/v1/encounter/{first}/"),
            json!({"status": "completed", "encounter_class": "amb", "priority": "routine"}),
            Some(&token),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = s
        .post("/api/v1/encounter/", body(&pid, &fid, &dept), Some(&token))
        .await;
    assert_eq!(status, 200);
}
