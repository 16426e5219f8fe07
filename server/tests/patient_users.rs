//! Removing a user from a patient (`POST /patient/{id}/delete_user/`) as CARE's
//! PatientViewSet does it: the body, then the user (404), the patient (404), the permission
//! (403 "Cannot Create Patient"), then the assignment (400 "User does not exist").

mod common;

use serde_json::{json, Value};

const NOBODY: &str = "00000000-0000-4000-8000-000000000000";

struct Assigned {
    patient: String,
    nurse: String,
    role: String,
}

/// A new patient with care-nurse assigned to it.
async fn patient_with_nurse(s: &common::TestServer, token: &str) -> Assigned {
    let geo = s.geo_id(token, "Kerala").await;
    let (status, p) = s
        .post(
            "/api/v1/patient/",
            json!({"name": "Users Patient", "gender": "female", "phone_number": "+919811100001",
                   "date_of_birth": "1991-03-04", "geo_organization": geo}),
            Some(token),
        )
        .await;
    assert_eq!(status, 200, "{p}");
    let (_, nurse) = s.get("/api/v1/users/care-nurse/", Some(token)).await;
    let (_, roles) = s.get("/api/v1/role/?name=nurse", Some(token)).await;
    let a = Assigned {
        patient: p["id"].as_str().expect("patient").into(),
        nurse: nurse["id"].as_str().expect("nurse").into(),
        role: roles["results"][0]["id"].as_str().expect("role").into(),
    };
    let (status, body) = s
        .post(
            &format!("/api/v1/patient/{}/add_user/", a.patient),
            json!({"user": a.nurse, "role": a.role}),
            Some(token),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    a
}

async fn usernames(s: &common::TestServer, token: &str, patient: &str) -> Vec<String> {
    let (status, users) = s
        .get(
            &format!("/api/v1/patient/{patient}/get_users/"),
            Some(token),
        )
        .await;
    assert_eq!(status, 200, "{users}");
    users["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|u| u["username"].as_str().map(String::from))
        .collect()
}

fn msg(body: &Value) -> &str {
    body["errors"][0]["msg"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn a_removal_answers_like_care_and_a_second_one_is_refused() {
    let s = common::start(&[]).await;
    let (token, _) = s.login("care-doctor").await;
    let a = patient_with_nurse(&s, &token).await;
    let path = format!("/api/v1/patient/{}/delete_user/", a.patient);
    assert_eq!(usernames(&s, &token, &a.patient).await, ["care-nurse"]);

    let (status, body) = s.post(&path, json!({"user": a.nurse}), Some(&token)).await;
    assert_eq!((status, body), (200, json!({})));
    assert!(usernames(&s, &token, &a.patient).await.is_empty());

    let (status, body) = s.post(&path, json!({"user": a.nurse}), Some(&token)).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"errors": [{"type": "validation_error", "msg": "User does not exist"}]})
    );

    // Assigned again after a removal: a new assignment, removable again.
    let (status, _) = s
        .post(
            &format!("/api/v1/patient/{}/add_user/", a.patient),
            json!({"user": a.nurse, "role": a.role}),
            Some(&token),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = s.post(&path, json!({"user": a.nurse}), Some(&token)).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_removal_checks_the_body_the_user_the_patient_then_the_permission() {
    let s = common::start(&[]).await;
    let (token, _) = s.login("care-doctor").await;
    let (volunteer, _) = s.login("care-volunteer").await;
    let a = patient_with_nurse(&s, &token).await;
    let path = format!("/api/v1/patient/{}/delete_user/", a.patient);

    let (status, body) = s.post(&path, json!({}), Some(&token)).await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"][0]["type"], "missing");
    assert_eq!(body["errors"][0]["loc"], json!(["user"]));
    let (status, body) = s.post(&path, json!({"user": "nurse"}), Some(&token)).await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"][0]["loc"], json!(["user"]));

    // The body before the patient: an unknown patient with a bad body is a 400.
    let unknown_patient = format!("/api/v1/patient/{NOBODY}/delete_user/");
    let (status, _) = s.post(&unknown_patient, json!({}), Some(&token)).await;
    assert_eq!(status, 400);
    // The user before the patient.
    let (status, body) = s
        .post(&unknown_patient, json!({"user": NOBODY}), Some(&token))
        .await;
    assert_eq!(status, 404);
    assert_eq!(msg(&body), "No User matches the given query.");
    let (status, body) = s
        .post(&unknown_patient, json!({"user": a.nurse}), Some(&token))
        .await;
    assert_eq!(status, 404);
    assert_eq!(msg(&body), "No Patient matches the given query.");

    // A volunteer may not write patients: refused with CARE's message, nothing removed.
    let (status, body) = s
        .post(&path, json!({"user": a.nurse}), Some(&volunteer))
        .await;
    assert_eq!(status, 403);
    assert_eq!(body, json!({"detail": "Cannot Create Patient"}));
    // Even for a user who is not assigned: the permission comes before the assignment.
    let (_, admin) = s.get("/api/v1/users/care-admin/", Some(&token)).await;
    let (status, _) = s
        .post(&path, json!({"user": admin["id"]}), Some(&volunteer))
        .await;
    assert_eq!(status, 403);
    assert_eq!(usernames(&s, &token, &a.patient).await, ["care-nurse"]);
    // add_user answers a volunteer the same way.
    let (status, body) = s
        .post(
            &format!("/api/v1/patient/{}/add_user/", a.patient),
            json!({"user": admin["id"], "role": a.role}),
            Some(&volunteer),
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(body, json!({"detail": "Cannot Create Patient"}));

    let (status, _) = s.post(&path, json!({"user": a.nurse}), None).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn a_removal_is_applied_once_per_idempotency_key() {
    let s = common::start(&[]).await;
    let (token, _) = s.login("care-doctor").await;
    let a = patient_with_nurse(&s, &token).await;
    let send = || async {
        let resp = common::client()
            .post(s.url(&format!("/api/v1/patient/{}/delete_user/", a.patient)))
            .bearer_auth(&token)
            .header("Idempotency-Key", "remove-nurse-1")
            .json(&json!({"user": a.nurse}))
            .send()
            .await
            .expect("send");
        let status = resp.status().as_u16();
        (status, resp.json::<Value>().await.unwrap_or(Value::Null))
    };
    assert_eq!(send().await, (200, json!({})));
    // The device never got the answer and sends again: the stored answer, not a 400.
    assert_eq!(send().await, (200, json!({})));
    assert!(usernames(&s, &token, &a.patient).await.is_empty());
}

#[tokio::test]
async fn an_assignment_and_its_removal_pushed_together_apply_in_order() {
    let s = common::start(&[]).await;
    let (token, _) = s.login("care-doctor").await;
    let a = patient_with_nurse(&s, &token).await;
    let (_, admin) = s.get("/api/v1/users/care-admin/", Some(&token)).await;
    let admin = admin["id"].as_str().expect("admin");
    let (add, remove) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    let (status, out) = s
        .post(
            "/api/v1/sync/push",
            json!({"deviceId": "tab-u", "items": [
                {"id": add, "operation": "CREATE", "resourceType": "patient_user", "method": "POST",
                 "path": format!("/api/v1/patient/{}/add_user/", a.patient),
                 "payload": {"user": admin, "role": a.role}},
                {"id": remove, "operation": "DELETE", "resourceType": "patient_user", "method": "POST",
                 "path": format!("/api/v1/patient/{}/delete_user/", a.patient),
                 "payload": {"user": admin}, "parents": [add]},
            ]}),
            Some(&token),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["results"][0]["status"], "synced", "{out}");
    assert_eq!(out["results"][1]["status"], "synced", "{out}");
    assert_eq!(out["results"][1]["response"], json!({}));
    assert_eq!(usernames(&s, &token, &a.patient).await, ["care-nurse"]);
}
