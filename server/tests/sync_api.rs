//! The sync API (`/api/v1/sync/*`) against a real server on 127.0.0.1 with a temporary data
//! directory: push, pull, the seed-004 queue, authorization, malformed input, health and the
//! audit trail.

mod common;

use common::{client, TestServer};
use serde_json::{json, Value};

/// A valid patient body with the given phone.
async fn patient_body(s: &TestServer, token: &str, name: &str, phone: &str) -> Value {
    let geo = s.geo_id(token, "Kerala").await;
    json!({"name": name, "gender": "female", "phone_number": phone,
           "date_of_birth": "1990-05-14", "geo_organization": geo})
}

/// An encounter body for a patient at the demo facility.
async fn encounter_body(s: &TestServer, token: &str, patient: &str) -> Value {
    let fid = s.facility_id(token).await;
    let (_, roots) = s
        .get(
            &format!("/api/v1/facility/{fid}/organizations/?parent="),
            Some(token),
        )
        .await;
    let dept = roots["results"][0]["id"].as_str().expect("dept");
    json!({"patient": patient, "facility": fid, "status": "in_progress",
           "encounter_class": "amb", "priority": "routine", "organizations": [dept]})
}

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

async fn patients_with_phone(s: &TestServer, token: &str, phone: &str) -> i64 {
    let (status, body) = s
        .get(
            &format!(
                "/api/v1/patient/?phone_number={}",
                phone.replace('+', "%2B")
            ),
            Some(token),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["count"].as_i64().expect("count")
}

async fn patch(s: &TestServer, path: &str, token: Option<&str>) -> (u16, Value) {
    let mut req = client().patch(s.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("patch");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn push_applies_in_order_and_a_replay_creates_one_patient() {
    let s = common::start(&[]).await;
    let (doctor, _) = s.login("care-doctor").await;
    let phone = "+919700000001";
    let patient = patient_body(&s, &doctor, "Push Patient", phone).await;
    let encounter = encounter_body(&s, &doctor, "tmp-patient-1").await;
    let (p_id, e_id) = (uuid(), uuid());
    let push = json!({"deviceId": "tab-1", "items": [
        {"id": p_id, "operation": "CREATE", "resourceType": "patient",
         "path": "/api/v1/patient/", "payload": patient, "tempId": "tmp-patient-1",
         "clientTimestamp": "2026-11-30T10:00:00.000Z"},
        {"id": e_id, "operation": "CREATE", "resourceType": "encounter",
         "path": "/api/v1/encounter/", "payload": encounter, "parents": [p_id],
         "clientTimestamp": 1764496800000u64},
    ]});
    let (status, first) = s
        .post("/api/v1/sync/push", push.clone(), Some(&doctor))
        .await;
    assert_eq!(status, 200, "{first}");
    let results = first["results"].as_array().expect("results");
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["status"], "synced", "{first}");
    assert_eq!(results[1]["status"], "synced", "{first}");
    let real = results[0]["response"]["id"].as_str().expect("patient id");
    assert_eq!(first["idMap"]["tmp-patient-1"], real);
    assert_eq!(
        results[1]["response"]["patient"]["id"], real,
        "the temp id was replaced by the server's"
    );
    assert_eq!(results[0]["replayed"], false);
    assert_eq!(first["summary"]["synced"], 2);

    // The device never got the answer and pushes again: nothing is applied twice.
    let (status, second) = s.post("/api/v1/sync/push", push, Some(&doctor)).await;
    assert_eq!(status, 200, "{second}");
    for (a, b) in results.iter().zip(second["results"].as_array().expect("r")) {
        assert_eq!(b["status"], "synced");
        assert_eq!(b["replayed"], true, "{b}");
        assert_eq!(a["response"]["id"], b["response"]["id"]);
    }
    assert_eq!(patients_with_phone(&s, &doctor, phone).await, 1);
    let (_, encounters) = s
        .get(&format!("/api/v1/encounter/?patient={real}"), Some(&doctor))
        .await;
    assert_eq!(encounters["count"], 1);
}

#[tokio::test]
async fn a_stale_base_is_a_conflict_with_the_server_record() {
    let s = common::start(&[]).await;
    let (doctor, _) = s.login("care-doctor").await;
    let body = patient_body(&s, &doctor, "Base Patient", "+919700000002").await;
    let (status, created) = s
        .post("/api/v1/patient/", body.clone(), Some(&doctor))
        .await;
    assert_eq!(status, 200);
    let pid = created["id"].as_str().expect("id");
    let base = created["modified_date"].as_str().expect("modified");
    // Someone else edits the patient online.
    let mut online = body.clone();
    online["name"] = json!("Edited Online");
    let (status, edited) = s
        .put(&format!("/api/v1/patient/{pid}/"), online, Some(&doctor))
        .await;
    assert_eq!(status, 200);
    let mut offline = body.clone();
    offline["name"] = json!("Edited Offline");
    let item = |id: &str, base: Option<&str>| {
        json!({"id": id, "deviceId": "tab-2", "operation": "UPDATE", "resourceType": "patient",
               "resourceId": pid, "payload": offline, "baseVersion": base})
    };
    let (status, out) = s
        .post(
            "/api/v1/sync/push",
            json!([item(&uuid(), Some(base))]),
            Some(&doctor),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    let r = &out["results"][0];
    assert_eq!(r["status"], "conflict", "{out}");
    assert_eq!(r["httpStatus"], 409);
    assert_eq!(r["serverRecord"]["name"], "Edited Online");
    assert_eq!(r["serverVersion"], edited["modified_date"]);
    assert_eq!(r["baseVersion"], base);
    let (_, now) = s
        .get(&format!("/api/v1/patient/{pid}/"), Some(&doctor))
        .await;
    assert_eq!(now["name"], "Edited Online", "a conflict applies nothing");

    // Based on the current version it goes through.
    let current = edited["modified_date"].as_str().expect("m");
    let (_, out) = s
        .post(
            "/api/v1/sync/push",
            json!([item(&uuid(), Some(current))]),
            Some(&doctor),
        )
        .await;
    assert_eq!(out["results"][0]["status"], "synced", "{out}");
    assert_eq!(out["results"][0]["response"]["name"], "Edited Offline");
    // An UPDATE without a base cannot be checked: refused for that item.
    let (_, out) = s
        .post(
            "/api/v1/sync/push",
            json!([item(&uuid(), None)]),
            Some(&doctor),
        )
        .await;
    assert_eq!(out["results"][0]["status"], "failed");
    assert_eq!(out["results"][0]["error"]["code"], "missing_base_version");
}

#[tokio::test]
async fn a_failed_item_blocks_its_dependents_only() {
    let s = common::start(&[]).await;
    let (doctor, _) = s.login("care-doctor").await;
    let mut bad = patient_body(&s, &doctor, "Bad", "+919700000003").await;
    bad.as_object_mut().expect("obj").remove("gender");
    let good = patient_body(&s, &doctor, "Good", "+919700000004").await;
    let child = encounter_body(&s, &doctor, "tmp-bad").await;
    let (bad_id, child_id, good_id) = (uuid(), uuid(), uuid());
    let (status, out) = s
        .post(
            "/api/v1/sync/push",
            json!({"deviceId": "tab-3", "items": [
                {"id": bad_id, "operation": "CREATE", "resourceType": "patient",
                 "path": "/api/v1/patient/", "payload": bad, "tempId": "tmp-bad"},
                {"id": child_id, "operation": "CREATE", "resourceType": "encounter",
                 "path": "/api/v1/encounter/", "payload": child},
                {"id": good_id, "operation": "CREATE", "resourceType": "patient",
                 "path": "/api/v1/patient/", "payload": good},
            ]}),
            Some(&doctor),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    let r = out["results"].as_array().expect("results");
    assert_eq!(r[0]["status"], "failed");
    assert_eq!(r[0]["httpStatus"], 400);
    assert_eq!(r[0]["retryable"], false);
    assert_eq!(
        r[0]["error"]["errors"][0]["loc"][0], "gender",
        "CARE's error body: {out}"
    );
    assert_eq!(r[1]["status"], "blocked");
    assert_eq!(r[1]["blockedBy"], bad_id.as_str());
    assert_eq!(r[2]["status"], "synced", "independent items continue");
    assert_eq!(out["summary"]["failed"], 1);
    assert_eq!(out["summary"]["blocked"], 1);
}

#[tokio::test]
async fn push_rejects_malformed_input_with_4xx() {
    let s = common::start(&[]).await;
    let (doctor, _) = s.login("care-doctor").await;
    let (status, body) = s
        .send_raw(
            reqwest::Method::POST,
            "/api/v1/sync/push",
            "{not json",
            Some(&doctor),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("malformed_json"))
    );
    assert_eq!(body["source"], "care-offline-sync");
    let cases = [
        (json!({"items": []}), "empty_push"),
        (json!({"things": 1}), "missing_items"),
        (json!("text"), "missing_items"),
        (
            json!([{"id": "a", "deviceId": "d", "operation": "UPSERT", "resourceType": "patient",
                    "path": "/api/v1/patient/", "payload": {}}]),
            "invalid_items",
        ),
        (json!([{"deviceId": "d"}]), "invalid_items"),
        (
            json!([{"id": "a", "deviceId": "d", "operation": "CREATE", "resourceType": "x",
                    "path": "/api/v1/sync/push", "payload": {}}]),
            "invalid_items",
        ),
        (json!([7]), "invalid_items"),
        (json!({"deviceId": 5, "items": [{}]}), "invalid_device"),
    ];
    for (body, code) in cases {
        let (status, out) = s
            .post("/api/v1/sync/push", body.clone(), Some(&doctor))
            .await;
        assert_eq!(status, 400, "{body} → {out}");
        assert_eq!(out["code"], code, "{body} → {out}");
    }
    let (_, out) = s
        .post(
            "/api/v1/sync/push",
            json!([{"id": "a", "deviceId": "d", "operation": "UPSERT", "resourceType": "patient"}]),
            Some(&doctor),
        )
        .await;
    let fields: Vec<&str> = out["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f["field"].as_str())
        .collect();
    assert!(fields.contains(&"items[0].operation"), "{out}");
    // Too many items: 413, nothing applied.
    let many: Vec<Value> = (0..501)
        .map(|i| {
            json!({"id": format!("i{i}"), "deviceId": "d", "operation": "DELETE",
                        "resourceType": "patient", "resourceId": format!("p{i}")})
        })
        .collect();
    let (status, out) = s
        .post("/api/v1/sync/push", json!(many), Some(&doctor))
        .await;
    assert_eq!(status, 413, "{out}");
    // No credentials: CARE's own 403.
    let (status, out) = s.post("/api/v1/sync/push", json!([]), None).await;
    assert_eq!(status, 403);
    assert_eq!(
        out["detail"],
        "Authentication credentials were not provided."
    );
    let (status, _) = s
        .post("/api/v1/sync/push", json!([]), Some("garbage"))
        .await;
    assert_eq!(status, 403);
    // Unknown sync routes and methods are JSON too.
    let (status, out) = s.get("/api/v1/sync/nope", Some(&doctor)).await;
    assert_eq!((status, out["code"].as_str()), (404, Some("not_found")));
    let (status, out) = s.get("/api/v1/sync/push", Some(&doctor)).await;
    assert_eq!(
        (status, out["code"].as_str()),
        (405, Some("method_not_allowed"))
    );
}

/// Queues an operation for `token`; returns the item id.
async fn enqueue(s: &TestServer, token: &str, body: Value) -> String {
    let (status, out) = s.post("/api/v1/sync/queue", body, Some(token)).await;
    assert_eq!(status, 201, "{out}");
    assert_eq!(out["status"], "PENDING");
    assert_eq!(out["message"], "Operation queued for sync");
    out["id"].as_str().expect("id").to_string()
}

#[tokio::test]
async fn queue_process_pending_and_stats() {
    let s = common::start(&[]).await;
    let (doctor, _) = s.login("care-doctor").await;
    let phone = "+919700000005";
    let data = patient_body(&s, &doctor, "Queued Patient", phone).await;
    let client_id = uuid();
    let body = json!({"id": client_id, "deviceId": "device-123", "operation": "CREATE",
        "resourceType": "patient", "data": data, "createdAtClient": "2026-11-30T10:00:00.000Z",
        "version": 1});
    let id = enqueue(&s, &doctor, body.clone()).await;
    assert_eq!(id, client_id);
    // Queueing the same operation again does not duplicate it.
    let (status, again) = s.post("/api/v1/sync/queue", body, Some(&doctor)).await;
    assert_eq!((status, again["id"].as_str()), (200, Some(id.as_str())));

    let (status, pending) = s
        .get("/api/v1/sync/pending?deviceId=device-123", Some(&doctor))
        .await;
    assert_eq!(status, 200, "{pending}");
    let list = pending.as_array().expect("array");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], id.as_str());
    assert_eq!(list[0]["status"], "PENDING");
    assert_eq!(list[0]["retryCount"], 0);
    assert_eq!(list[0]["data"]["name"], "Queued Patient");
    let (_, other_device) = s
        .get("/api/v1/sync/pending?deviceId=device-999", Some(&doctor))
        .await;
    assert_eq!(other_device, json!([]));

    let (status, done) = s
        .post(
            &format!("/api/v1/sync/process/{id}"),
            json!({}),
            Some(&doctor),
        )
        .await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["status"], "SYNCED");
    assert_eq!(done["message"], "Operation synced successfully");
    let pid = done["result"]["id"].as_str().expect("patient").to_string();
    let (status, again) = s
        .post(
            &format!("/api/v1/sync/process/{id}"),
            json!({}),
            Some(&doctor),
        )
        .await;
    assert_eq!((status, again["status"].as_str()), (200, Some("SYNCED")));
    assert_eq!(again["result"]["id"], pid.as_str());
    assert_eq!(patients_with_phone(&s, &doctor, phone).await, 1);
    let (_, pending) = s
        .get("/api/v1/sync/pending?deviceId=device-123", Some(&doctor))
        .await;
    assert_eq!(pending, json!([]));

    let (status, stats) = s.get("/api/v1/sync/stats", Some(&doctor)).await;
    assert_eq!(status, 200, "{stats}");
    assert_eq!(stats["total"], 1);
    assert_eq!(stats["synced"], 1);
    assert_eq!(stats["pending"], 0);
    assert_eq!(stats["syncRate"], "100.00%");
}

#[tokio::test]
async fn queue_conflicts_resolve_and_the_review_list() {
    let s = common::start(&[]).await;
    let (doctor, _) = s.login("care-doctor").await;
    let (admin, _) = s.login("care-fac-admin").await;
    let body = patient_body(&s, &doctor, "Review Patient", "+919700000006").await;
    let (_, created) = s
        .post("/api/v1/patient/", body.clone(), Some(&doctor))
        .await;
    let pid = created["id"].as_str().expect("id").to_string();
    let base = created["modified_date"].as_str().expect("m").to_string();
    let mut online = body.clone();
    online["name"] = json!("Online Name");
    let (status, _) = s
        .put(&format!("/api/v1/patient/{pid}/"), online, Some(&doctor))
        .await;
    assert_eq!(status, 200);
    let mut offline = body.clone();
    offline["name"] = json!("Offline Name");
    let update = json!({"deviceId": "device-9", "operation": "UPDATE", "resourceType": "patient",
        "resourceId": pid, "data": offline, "baseVersion": base});
    let manual = enqueue(&s, &doctor, update.clone()).await;
    let discard = enqueue(&s, &doctor, update.clone()).await;

    for id in [&manual, &discard] {
        let (status, out) = s
            .post(
                &format!("/api/v1/sync/process/{id}"),
                json!({}),
                Some(&doctor),
            )
            .await;
        assert_eq!(status, 409, "{out}");
        assert_eq!(out["status"], "CONFLICT");
        assert_eq!(out["message"], "Version conflict detected");
        assert_eq!(
            out["resolutionOptions"],
            json!(["CLIENT_WINS", "SERVER_WINS", "MANUAL"])
        );
        assert_eq!(out["serverRecord"]["name"], "Online Name");
    }
    // Bad resolutions and ids.
    for q in [
        "",
        "?resolution=",
        "?resolution=client_wins",
        "?resolution=BOTH",
    ] {
        let (status, out) = patch(
            &s,
            &format!("/api/v1/sync/resolve/{manual}{q}"),
            Some(&doctor),
        )
        .await;
        assert_eq!(
            (status, out["code"].as_str()),
            (400, Some("invalid_resolution")),
            "{q}"
        );
    }
    let (status, out) = patch(
        &s,
        "/api/v1/sync/resolve/nope?resolution=MANUAL",
        Some(&doctor),
    )
    .await;
    assert_eq!((status, out["code"].as_str()), (400, Some("invalid_id")));
    // CLIENT_WINS needs an administrator.
    let (status, _) = patch(
        &s,
        &format!("/api/v1/sync/resolve/{manual}?resolution=CLIENT_WINS"),
        Some(&doctor),
    )
    .await;
    assert_eq!(status, 403);
    let (status, out) = patch(
        &s,
        &format!("/api/v1/sync/resolve/{discard}?resolution=SERVER_WINS"),
        Some(&doctor),
    )
    .await;
    assert_eq!(
        (status, out["status"].as_str()),
        (200, Some("SYNCED")),
        "{out}"
    );
    let (status, out) = patch(
        &s,
        &format!("/api/v1/sync/resolve/{manual}?resolution=MANUAL"),
        Some(&doctor),
    )
    .await;
    assert_eq!(
        (status, out["status"].as_str()),
        (200, Some("MANUAL")),
        "{out}"
    );
    // A synced item is not in conflict any more.
    let (status, out) = patch(
        &s,
        &format!("/api/v1/sync/resolve/{discard}?resolution=MANUAL"),
        Some(&doctor),
    )
    .await;
    assert_eq!(
        (status, out["code"].as_str()),
        (409, Some("not_in_conflict"))
    );
    // Under review: the owner cannot send it.
    let (status, out) = s
        .post(
            &format!("/api/v1/sync/process/{manual}"),
            json!({}),
            Some(&doctor),
        )
        .await;
    assert_eq!((status, out["code"].as_str()), (409, Some("under_review")));

    let (status, _) = s.get("/api/v1/sync/review", Some(&doctor)).await;
    assert_eq!(status, 403, "the review list is for administrators");
    let (status, review) = s.get("/api/v1/sync/review", Some(&admin)).await;
    assert_eq!(status, 200, "{review}");
    let items = review["results"].as_array().expect("results");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], manual.as_str());
    assert_eq!(items[0]["username"], "care-doctor");
    assert_eq!(items[0]["data"]["name"], "Offline Name");
    assert_eq!(items[0]["serverRecord"]["name"], "Online Name");
    assert_eq!(items[0]["flaggedBy"], "care-doctor");

    // The administrator merges by letting the offline version win.
    let (status, out) = patch(
        &s,
        &format!("/api/v1/sync/resolve/{manual}?resolution=CLIENT_WINS"),
        Some(&admin),
    )
    .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["status"], "SYNCED");
    assert_eq!(out["resolution"], "CLIENT_WINS");
    let (_, now) = s
        .get(&format!("/api/v1/patient/{pid}/"), Some(&doctor))
        .await;
    assert_eq!(now["name"], "Offline Name");
    let (_, review) = s.get("/api/v1/sync/review", Some(&admin)).await;
    assert_eq!(review["results"], json!([]));

    let (_, stats) = s.get("/api/v1/sync/stats", Some(&doctor)).await;
    assert_eq!(
        (stats["total"].as_i64(), stats["synced"].as_i64()),
        (Some(2), Some(2)),
        "{stats}"
    );
}

#[tokio::test]
async fn users_see_and_act_on_their_own_items_only() {
    let s = common::start(&[]).await;
    let (doctor, _) = s.login("care-doctor").await;
    let (nurse, _) = s.login("care-nurse").await;
    let (admin, _) = s.login("care-admin").await;
    let (_, me) = s.get("/api/v1/users/getcurrentuser/", Some(&doctor)).await;
    let doctor_id = me["id"].as_str().expect("id").to_string();
    let data = patient_body(&s, &doctor, "Private", "+919700000007").await;
    let id = enqueue(
        &s,
        &doctor,
        json!({"deviceId": "dev-d", "operation": "CREATE", "resourceType": "patient", "data": data}),
    )
    .await;

    let (status, _) = s
        .post(
            &format!("/api/v1/sync/process/{id}"),
            json!({}),
            Some(&nurse),
        )
        .await;
    assert_eq!(status, 404, "another user's item does not exist for them");
    let (status, _) = patch(
        &s,
        &format!("/api/v1/sync/resolve/{id}?resolution=SERVER_WINS"),
        Some(&nurse),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = s
        .get(
            &format!("/api/v1/sync/pending?userId={doctor_id}"),
            Some(&nurse),
        )
        .await;
    assert_eq!(status, 403);
    let (_, own) = s.get("/api/v1/sync/pending", Some(&nurse)).await;
    assert_eq!(own, json!([]), "the nurse's own list is empty");
    let (status, _) = s
        .get(
            &format!("/api/v1/sync/stats?userId={doctor_id}"),
            Some(&nurse),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = s
        .post(
            &format!("/api/v1/sync/retry?userId={doctor_id}"),
            json!({}),
            Some(&nurse),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = s
        .post(
            "/api/v1/sync/queue",
            json!({"userId": doctor_id, "deviceId": "x", "operation": "CREATE",
                   "resourceType": "patient", "data": {}}),
            Some(&nurse),
        )
        .await;
    assert_eq!(status, 403, "queueing for someone else");
    // Reusing another user's item id does not reveal or touch it.
    let (status, _) = s
        .post(
            "/api/v1/sync/queue",
            json!({"id": id, "deviceId": "x", "operation": "CREATE",
                   "resourceType": "patient", "data": {"a": 1}}),
            Some(&nurse),
        )
        .await;
    assert_eq!(status, 409);
    let (status, _) = s.get("/api/v1/sync/health", Some(&nurse)).await;
    assert_eq!(status, 403);

    // An administrator reads others' stats and items but never sends them.
    let (status, stats) = s
        .get(
            &format!("/api/v1/sync/stats?userId={doctor_id}"),
            Some(&admin),
        )
        .await;
    assert_eq!(status, 200, "{stats}");
    assert_eq!(
        (stats["total"].as_i64(), stats["pending"].as_i64()),
        (Some(1), Some(1))
    );
    let (status, list) = s
        .get(
            &format!("/api/v1/sync/pending?userId={doctor_id}"),
            Some(&admin),
        )
        .await;
    assert_eq!((status, list.as_array().map(Vec::len)), (200, Some(1)));
    let (status, _) = s
        .post(
            &format!("/api/v1/sync/process/{id}"),
            json!({}),
            Some(&admin),
        )
        .await;
    assert_eq!(status, 403);
    // Still pending for its owner.
    let (status, out) = s
        .post(
            &format!("/api/v1/sync/process/{id}"),
            json!({}),
            Some(&doctor),
        )
        .await;
    assert_eq!((status, out["status"].as_str()), (200, Some("SYNCED")));
}

#[tokio::test]
async fn queue_endpoints_reject_bad_input() {
    let s = common::start(&[]).await;
    let (doctor, _) = s.login("care-doctor").await;
    let (status, out) = s
        .send_raw(
            reqwest::Method::POST,
            "/api/v1/sync/queue",
            "[1,",
            Some(&doctor),
        )
        .await;
    assert_eq!(
        (status, out["code"].as_str()),
        (400, Some("malformed_json"))
    );
    let bad = [
        json!([]),
        json!({"deviceId": "d", "operation": "MERGE", "resourceType": "patient", "data": {}}),
        json!({"operation": "CREATE", "resourceType": "patient", "data": {}}),
        json!({"deviceId": "d", "operation": "CREATE", "data": {}}),
        json!({"deviceId": "d", "operation": "CREATE", "resourceType": "patient"}),
        json!({"deviceId": "d", "operation": "UPDATE", "resourceType": "patient",
               "resourceId": "0b6c7a3e-55f0-4c5e-9a4a-1c1f7f0e2d11", "data": {}}),
        json!({"deviceId": "d", "operation": "CREATE", "resourceType": "widget", "data": {}}),
        json!({"id": "not-a-uuid", "deviceId": "d", "operation": "CREATE",
               "resourceType": "patient", "data": {}}),
        json!({"deviceId": "d", "operation": "CREATE", "resourceType": "patient",
               "data": {}, "createdAtClient": "yesterday"}),
        json!({"deviceId": "d", "operation": "CREATE", "resourceType": "patient",
               "data": {}, "version": "one"}),
    ];
    for body in bad {
        let (status, out) = s
            .post("/api/v1/sync/queue", body.clone(), Some(&doctor))
            .await;
        assert!(
            (400..500).contains(&status) && out["source"] == "care-offline-sync",
            "{body} → {status} {out}"
        );
    }
    let (status, out) = s
        .post("/api/v1/sync/process/12345", json!({}), Some(&doctor))
        .await;
    assert_eq!((status, out["code"].as_str()), (400, Some("invalid_id")));
    let (status, _) = s
        .post(
            &format!("/api/v1/sync/process/{}", uuid()),
            json!({}),
            Some(&doctor),
        )
        .await;
    assert_eq!(status, 404);
    let long = "x".repeat(300);
    let (status, out) = s
        .get(
            &format!("/api/v1/sync/pending?deviceId={long}"),
            Some(&doctor),
        )
        .await;
    assert_eq!(
        (status, out["code"].as_str()),
        (400, Some("invalid_device"))
    );
    let (status, _) = s.get("/api/v1/sync/pending", None).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn retry_resends_failed_items_until_exhausted() {
    let s = common::start(&[]).await;
    let (doctor, _) = s.login("care-doctor").await;
    let mut bad = patient_body(&s, &doctor, "Never", "+919700000008").await;
    bad["gender"] = json!("unknown-gender");
    let failing = enqueue(
        &s,
        &doctor,
        json!({"deviceId": "dev-r", "operation": "CREATE", "resourceType": "patient", "data": bad}),
    )
    .await;
    let good = patient_body(&s, &doctor, "Later", "+919700000009").await;
    let waiting = enqueue(
        &s,
        &doctor,
        json!({"deviceId": "dev-r", "operation": "CREATE", "resourceType": "patient", "data": good}),
    )
    .await;
    let (status, out) = s
        .post(
            &format!("/api/v1/sync/process/{failing}"),
            json!({}),
            Some(&doctor),
        )
        .await;
    assert_eq!(status, 424, "{out}");
    assert_eq!(out["status"], "FAILED");
    assert_eq!(out["httpStatus"], 400);
    assert_eq!(out["retryCount"], 1);
    assert_eq!(out["retryable"], false);
    assert!(out["error"]["errors"].is_array(), "CARE's body: {out}");

    let (status, out) = s
        .post(
            "/api/v1/sync/retry?deviceId=dev-r",
            json!({}),
            Some(&doctor),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["synced"], 1, "the pending item went through: {out}");
    assert_eq!(out["failed"], 1);
    for _ in 0..3 {
        s.post(
            "/api/v1/sync/retry?deviceId=dev-r",
            json!({}),
            Some(&doctor),
        )
        .await;
    }
    let (_, out) = s
        .post(
            "/api/v1/sync/retry?deviceId=dev-r",
            json!({}),
            Some(&doctor),
        )
        .await;
    assert_eq!(out["exhausted"], 1, "{out}");
    assert_eq!(out["processed"], 0);
    let (_, pending) = s.get("/api/v1/sync/pending", Some(&doctor)).await;
    let list = pending.as_array().expect("list");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], failing.as_str());
    assert_eq!(list[0]["retryCount"], 5);
    assert_ne!(list[0]["id"], waiting.as_str());
    let (_, stats) = s.get("/api/v1/sync/stats", Some(&doctor)).await;
    assert_eq!(stats["failed"], 1, "{stats}");
    assert_eq!(stats["syncRate"], "50.00%");
}

/// Pulls until `hasMore` is false; returns (patients, encounters, appointments, checkpoint).
async fn pull_all(
    s: &TestServer,
    token: &str,
    fid: &str,
    since: Option<&str>,
    limit: usize,
) -> (Vec<Value>, Vec<Value>, Vec<Value>, String, usize) {
    let (mut p, mut e, mut a) = (Vec::new(), Vec::new(), Vec::new());
    let mut since = since.map(str::to_string);
    let mut calls = 0;
    loop {
        calls += 1;
        let mut path = format!("/api/v1/sync/pull?facility={fid}&limit={limit}&deviceId=tab-p");
        if let Some(c) = &since {
            path += &format!("&since={c}");
        }
        let (status, body) = s.get(&path, Some(token)).await;
        assert_eq!(status, 200, "{body}");
        for (list, key) in [
            (&mut p, "patients"),
            (&mut e, "encounters"),
            (&mut a, "appointments"),
        ] {
            list.extend(body[key].as_array().cloned().unwrap_or_default());
        }
        since = body["checkpoint"].as_str().map(str::to_string);
        if body["hasMore"] != true {
            return (p, e, a, since.unwrap_or_default(), calls);
        }
        assert!(calls < 100, "pull does not end");
    }
}

async fn check_pull(s: &TestServer) {
    let (doctor, _) = s.login("care-doctor").await;
    let fid = s.facility_id(&doctor).await;
    let (all_p, all_e, _, checkpoint, calls) = pull_all(s, &doctor, &fid, None, 50).await;
    let ids: std::collections::HashSet<&str> =
        all_p.iter().filter_map(|p| p["id"].as_str()).collect();
    assert_eq!(ids.len(), all_p.len(), "each patient once across pages");
    eprintln!(
        "first pull: {} patients, {} encounters in {calls} calls",
        all_p.len(),
        all_e.len()
    );
    assert!(!all_p.is_empty(), "the demo facility's patients");
    assert_eq!(
        calls,
        all_p.len().max(all_e.len()).div_ceil(50).max(1),
        "pages of 50"
    );
    // Nothing changed: an empty pull.
    let (p, e, a, same, _) = pull_all(s, &doctor, &fid, Some(&checkpoint), 50).await;
    assert!(p.is_empty() && e.is_empty() && a.is_empty(), "{p:?} {e:?}");
    assert_eq!(same, checkpoint);

    let (pid, eid) = s.patient_with_encounter(&doctor, "+919700000010").await;
    let (p, e, _, next, _) = pull_all(s, &doctor, &fid, Some(&checkpoint), 50).await;
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0]["id"], pid.as_str());
    assert_eq!(e.len(), 1);
    assert_eq!(e[0]["id"], eid.as_str());
    assert!(e[0]["modified_date"].is_string());
    // An update shows up again after the newer checkpoint.
    let (_, current) = s
        .get(&format!("/api/v1/patient/{pid}/"), Some(&doctor))
        .await;
    let mut edit = json!({"name": "Renamed For Pull", "gender": "female",
        "phone_number": "+919700000010", "date_of_birth": "1990-05-14"});
    edit["geo_organization"] = current["geo_organization"]["id"].clone();
    let (status, _) = s
        .put(&format!("/api/v1/patient/{pid}/"), edit, Some(&doctor))
        .await;
    assert_eq!(status, 200);
    let (p, e, _, _, _) = pull_all(s, &doctor, &fid, Some(&next), 50).await;
    assert_eq!(p.len(), 1);
    assert_eq!(p[0]["name"], "Renamed For Pull");
    assert!(e.is_empty());
    // A timestamp works as `since` too.
    let (p, _, _, _, _) = pull_all(s, &doctor, &fid, Some("2000-01-01T00:00:00Z"), 500).await;
    assert_eq!(p.len(), all_p.len() + 1);
}

#[tokio::test]
async fn pull_returns_changes_since_a_checkpoint() {
    let s = common::start(&[]).await;
    check_pull(&s).await;
    let (doctor, _) = s.login("care-doctor").await;
    let fid = s.facility_id(&doctor).await;
    for (path, code) in [
        ("/api/v1/sync/pull".to_string(), "invalid_facility"),
        (
            "/api/v1/sync/pull?facility=abc".to_string(),
            "invalid_facility",
        ),
        (
            format!("/api/v1/sync/pull?facility={fid}&since=garbage"),
            "invalid_since",
        ),
        (
            format!("/api/v1/sync/pull?facility={fid}&limit=0"),
            "invalid_limit",
        ),
        (
            format!("/api/v1/sync/pull?facility={fid}&limit=ten"),
            "invalid_limit",
        ),
    ] {
        let (status, out) = s.get(&path, Some(&doctor)).await;
        assert_eq!((status, out["code"].as_str()), (400, Some(code)), "{path}");
    }
    let (status, _) = s
        .get(
            &format!("/api/v1/sync/pull?facility={}", uuid()),
            Some(&doctor),
        )
        .await;
    assert_eq!(status, 403, "not a member of that facility");
    // A Facility Admin administers their own facilities only: another one's records stay
    // closed to them; CARE's Administrator (a superuser here) may pull any.
    let (fac_admin, _) = s.login("care-fac-admin").await;
    let other = uuid();
    let (status, out) = s
        .get(
            &format!("/api/v1/sync/pull?facility={other}"),
            Some(&fac_admin),
        )
        .await;
    assert_eq!(status, 403, "{out}");
    let (status, _) = s
        .get(
            &format!("/api/v1/sync/pull?facility={fid}"),
            Some(&fac_admin),
        )
        .await;
    assert_eq!(status, 200, "their own facility");
    let (admin, _) = s.login("care-admin").await;
    let (status, out) = s
        .get(&format!("/api/v1/sync/pull?facility={other}"), Some(&admin))
        .await;
    assert_eq!(status, 200, "{out}");
}

#[tokio::test]
async fn health_reports_devices_rates_and_the_review_list() {
    let s = common::start(&[]).await;
    let (doctor, _) = s.login("care-doctor").await;
    let (admin, _) = s.login("care-admin").await;
    let good = patient_body(&s, &doctor, "Healthy", "+919700000011").await;
    let mut bad = good.clone();
    bad["gender"] = json!("nope");
    let (_, out) = s
        .post(
            "/api/v1/sync/push",
            json!({"deviceId": "tab-h", "items": [
                {"id": uuid(), "operation": "CREATE", "resourceType": "patient",
                 "path": "/api/v1/patient/", "payload": good},
                {"id": uuid(), "operation": "CREATE", "resourceType": "patient",
                 "path": "/api/v1/patient/", "payload": bad}]}),
            Some(&doctor),
        )
        .await;
    assert_eq!(out["summary"]["synced"], 1, "{out}");
    enqueue(
        &s,
        &doctor,
        json!({"deviceId": "tab-q", "operation": "DELETE", "resourceType": "patient",
               "resourceId": uuid()}),
    )
    .await;

    let (status, _) = s.get("/api/v1/sync/health", Some(&doctor)).await;
    assert_eq!(status, 403);
    let (status, health) = s.get("/api/v1/sync/health", Some(&admin)).await;
    assert_eq!(status, 200, "{health}");
    assert_eq!(health["retentionDays"], 90);
    assert_eq!(health["totals"]["total"], 3);
    let devices = health["devices"].as_array().expect("devices");
    let tab_h = devices
        .iter()
        .find(|d| d["deviceId"] == "tab-h")
        .expect("tab-h");
    assert_eq!(tab_h["username"], "care-doctor");
    assert_eq!(
        (tab_h["total"].as_i64(), tab_h["failed"].as_i64()),
        (Some(2), Some(1))
    );
    assert_eq!(tab_h["failureRate"], 50.0);
    assert_eq!(tab_h["oldestPending"], Value::Null);
    let tab_q = devices
        .iter()
        .find(|d| d["deviceId"] == "tab-q")
        .expect("tab-q");
    assert_eq!(tab_q["pending"], 1);
    assert!(tab_q["oldestPending"]["since"].is_string(), "{tab_q}");
    assert!(health["review"].is_array());
}

#[tokio::test]
async fn the_audit_trail_holds_no_payloads_and_is_pruned() {
    let data = tempfile::tempdir().expect("tmp");
    let db_path = data.path().join("sync.sqlite3");
    let s = common::start_in(data, &["--sync-audit-retention-days", "2"]).await;
    let (doctor, _) = s.login("care-doctor").await;
    let body = patient_body(&s, &doctor, "Secret Name", "+919700000012").await;
    let (_, out) = s
        .post(
            "/api/v1/sync/push",
            json!([{"id": uuid(), "deviceId": "tab-a", "operation": "CREATE",
                    "resourceType": "patient", "path": "/api/v1/patient/?phone=+919700000012",
                    "payload": body}]),
            Some(&doctor),
        )
        .await;
    assert_eq!(out["results"][0]["status"], "synced", "{out}");
    let conn = rusqlite::Connection::open(&db_path).expect("open");
    let (count, dump): (i64, String) = conn
        .query_row(
            "SELECT COUNT(*), group_concat(user_id || username || COALESCE(device_id,'') || kind
               || COALESCE(route,'') || COALESCE(resource_id,'') || outcome || COALESCE(detail,''))
             FROM audit",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("audit");
    assert_eq!(count, 1);
    assert!(dump.contains("care-doctor") && dump.contains("tab-a") && dump.contains("synced"));
    assert!(
        !dump.contains("Secret Name"),
        "no payload in the trail: {dump}"
    );
    assert!(
        !dump.contains("919700000012"),
        "no query string in the trail: {dump}"
    );
    // Three days later (as far as the trail knows), a restart prunes it.
    conn.execute("UPDATE audit SET at_ms = at_ms - 3 * 86400000", [])
        .expect("age");
    drop(conn);
    let data = s.data;
    drop(s.task);
    let s = common::start_in(data, &["--sync-audit-retention-days", "2"]).await;
    let conn = rusqlite::Connection::open(&db_path).expect("open");
    let count: i64 = conn
        .query_row("SELECT COUNT(*) FROM audit", [], |r| r.get(0))
        .expect("count");
    assert_eq!(count, 0, "rows past the retention are gone");
    drop(s);
}

#[tokio::test]
async fn push_and_pull_work_through_the_proxy_to_a_real_care() {
    // A built-in server plays the real CARE; the proxy server sits in front.
    let upstream = common::start(&[]).await;
    let front = common::start(&["--upstream", &upstream.base]).await;
    let (doctor, _) = front.login("care-doctor").await;
    let phone = "+919700000013";
    let body = patient_body(&front, &doctor, "Proxied", phone).await;
    let id = uuid();
    let push = json!([{"id": id, "deviceId": "tab-x", "operation": "CREATE",
                       "resourceType": "patient", "path": "/api/v1/patient/", "payload": body}]);
    let (status, first) = front
        .post("/api/v1/sync/push", push.clone(), Some(&doctor))
        .await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["results"][0]["status"], "synced", "{first}");
    let (_, second) = front.post("/api/v1/sync/push", push, Some(&doctor)).await;
    assert_eq!(second["results"][0]["replayed"], true, "{second}");
    assert_eq!(
        second["results"][0]["response"]["id"],
        first["results"][0]["response"]["id"]
    );
    assert_eq!(patients_with_phone(&upstream, &doctor, phone).await, 1);

    // A stale base through the proxy is a conflict too.
    let pid = first["results"][0]["response"]["id"].as_str().expect("id");
    let mut edit = body.clone();
    edit["name"] = json!("Changed Upstream");
    let (status, _) = upstream
        .put(&format!("/api/v1/patient/{pid}/"), edit, Some(&doctor))
        .await;
    assert_eq!(status, 200);
    let (_, out) = front
        .post(
            "/api/v1/sync/push",
            json!([{"id": uuid(), "deviceId": "tab-x", "operation": "UPDATE",
                    "resourceType": "patient", "resourceId": pid, "payload": body,
                    "baseVersion": first["results"][0]["response"]["modified_date"]}]),
            Some(&doctor),
        )
        .await;
    assert_eq!(out["results"][0]["status"], "conflict", "{out}");
    assert_eq!(
        out["results"][0]["serverRecord"]["name"],
        "Changed Upstream"
    );

    // Pull walks CARE's lists.
    check_pull(&front).await;
    // The queue and health work in front of it as well.
    let (admin, _) = front.login("care-fac-admin").await;
    let (status, health) = front.get("/api/v1/sync/health", Some(&admin)).await;
    assert_eq!(status, 200, "{health}");
    assert!(health["devices"]
        .as_array()
        .expect("devices")
        .iter()
        .any(|d| d["deviceId"] == "tab-x"));
    // CARE's own view of the sync store is untouched: the front keeps sync.sqlite3.
    assert!(front.data.path().join("sync.sqlite3").exists());
}

#[tokio::test]
async fn a_facility_admin_sees_only_the_sync_records_of_their_facilities_users() {
    let s = common::start(&[]).await;
    let (doctor, _) = s.login("care-doctor").await;
    let (nurse, _) = s.login("care-nurse").await;
    let doctor_item = enqueue(
        &s,
        &doctor,
        json!({"deviceId": "tab-doc", "operation": "DELETE", "resourceType": "patient",
               "resourceId": uuid()}),
    )
    .await;
    let nurse_item = enqueue(
        &s,
        &nurse,
        json!({"deviceId": "tab-nurse", "operation": "DELETE", "resourceType": "patient",
               "resourceId": uuid()}),
    )
    .await;
    let (_, me) = s.get("/api/v1/users/getcurrentuser/", Some(&nurse)).await;
    let nurse_id = me["id"].as_str().expect("id").to_string();
    // The nurse moves to another facility: no longer a member of the demo one.
    let care = rusqlite::Connection::open(s.data.path().join("care.sqlite3")).expect("open");
    let moved = care
        .execute(
            "DELETE FROM facility_user WHERE user_id = ?1",
            rusqlite::params![nurse_id],
        )
        .expect("delete");
    assert_eq!(moved, 1);

    let (fac_admin, _) = s.login("care-fac-admin").await;
    let fid = s.facility_id(&doctor).await;
    let (status, members) = s
        .get(&format!("/api/v1/facility/{fid}/users/"), Some(&fac_admin))
        .await;
    assert_eq!(status, 200, "{members}");
    assert!(members["results"]
        .as_array()
        .expect("results")
        .iter()
        .all(|u| u["id"] != nurse_id.as_str()));

    let (status, health) = s.get("/api/v1/sync/health", Some(&fac_admin)).await;
    assert_eq!(status, 200, "{health}");
    let devices: Vec<&str> = health["devices"]
        .as_array()
        .expect("devices")
        .iter()
        .filter_map(|d| d["deviceId"].as_str())
        .collect();
    assert!(devices.contains(&"tab-doc"), "{devices:?}");
    assert!(!devices.contains(&"tab-nurse"), "{devices:?}");
    // Her items and statistics are closed to them; the doctor's stay open.
    let (status, out) = s
        .post(
            &format!("/api/v1/sync/process/{nurse_item}"),
            json!({}),
            Some(&fac_admin),
        )
        .await;
    assert_eq!(status, 404, "{out}");
    let (status, out) = s
        .post(
            &format!("/api/v1/sync/process/{doctor_item}"),
            json!({}),
            Some(&fac_admin),
        )
        .await;
    assert_ne!(status, 404, "{out}");
    let (status, out) = s
        .get(
            &format!("/api/v1/sync/stats?userId={nurse_id}"),
            Some(&fac_admin),
        )
        .await;
    assert_eq!(status, 403, "{out}");
    // CARE's Administrator still sees every device.
    let (admin, _) = s.login("care-admin").await;
    let (_, health) = s.get("/api/v1/sync/health", Some(&admin)).await;
    assert!(health["devices"]
        .as_array()
        .expect("devices")
        .iter()
        .any(|d| d["deviceId"] == "tab-nurse"));
}
