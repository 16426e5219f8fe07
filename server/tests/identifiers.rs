//! Patient identifiers on the built-in backend: the configs the facility lists, CARE's checks
//! of `identifiers` on create and update (pattern, uniqueness, unknown config), how a
//! retrieve lists them (facility ones only with `?facility=`) and search by a config.

mod common;

use serde_json::{json, Value};

const ABHA: &str = "0b1f5c3e-6a0d-4c4e-9a52-2f0f6f1c8a11";
const MRN: &str = "5d2a9e47-8b1c-4f3a-b6d0-7c4e1a9f2b35";

fn patient(geo: &str, phone: &str, identifiers: Value) -> Value {
    json!({
        "name": "Meera Das", "gender": "female", "phone_number": phone,
        "address": "Kochi", "permanent_address": "Kochi", "date_of_birth": "1988-03-09",
        "geo_organization": geo, "identifiers": identifiers
    })
}

fn values(list: &Value) -> Vec<(String, String)> {
    list.as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            (
                e["config"]["id"].as_str().unwrap_or_default().to_string(),
                e["value"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn first_msg(body: &Value) -> String {
    body["errors"][0]["msg"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn configs_checks_retrieve_and_search() {
    let s = common::start(&[]).await;
    let (token, _) = s.login("care-doctor").await;
    let geo = s.geo_id(&token, "Kerala").await;
    let fid = s.facility_id(&token).await;

    // The facility lists the instance's configs (two kept by CARE, one typed) and its own.
    let (status, facility) = s
        .get(&format!("/api/v1/facility/{fid}/"), Some(&token))
        .await;
    assert_eq!(status, 200);
    let instance = facility["patient_instance_identifier_configs"]
        .as_array()
        .expect("instance configs");
    assert_eq!(instance.len(), 3);
    assert_eq!(instance[0]["config"]["auto_maintained"], true);
    assert_eq!(instance[2]["id"], ABHA);
    assert_eq!(instance[2]["config"]["unique"], true);
    assert_eq!(
        facility["patient_facility_identifier_configs"][0]["id"], MRN,
        "the demo facility's hospital number"
    );

    // A value that does not fit the pattern: CARE's model-validator error.
    let (status, body) = s
        .post(
            "/api/v1/patient/",
            patient(
                &geo,
                "+919811100001",
                json!([{"config": ABHA, "value": "1234"}]),
            ),
            Some(&token),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        first_msg(&body),
        "Value error, Identifier config https://healthid.abdm.gov.in/abha-number is not valid"
    );
    assert_eq!(body["errors"][0]["loc"], json!([]));
    // An unknown config: CARE's get_object_or_404.
    let (status, _) = s
        .post(
            "/api/v1/patient/",
            patient(
                &geo,
                "+919811100001",
                json!([{"config": "9b2e3a44-1f5c-4d6e-8a7b-0c1d2e3f4a5b", "value": "x"}]),
            ),
            Some(&token),
        )
        .await;
    assert_eq!(status, 404);

    let sent = json!([
        {"config": ABHA, "value": "12-3456-7890-1234"},
        {"config": MRN, "value": "CDH-1042"}
    ]);
    let (status, created) = s
        .post(
            "/api/v1/patient/",
            patient(&geo, "+919811100001", sent),
            Some(&token),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    let id = created["id"].as_str().expect("id").to_string();
    let instance = values(&created["instance_identifiers"]);
    assert_eq!(instance.len(), 3, "name, phone and the ABHA number");
    assert_eq!(
        instance[2],
        (ABHA.to_string(), "12-3456-7890-1234".to_string())
    );
    assert_eq!(
        created["facility_identifiers"],
        json!([]),
        "no facility asked for"
    );
    let (_, with_facility) = s
        .get(
            &format!("/api/v1/patient/{id}/?facility={fid}"),
            Some(&token),
        )
        .await;
    assert_eq!(
        values(&with_facility["facility_identifiers"]),
        vec![(MRN.to_string(), "CDH-1042".to_string())]
    );

    // Both are unique: a second patient with the same hospital number is refused.
    let (status, body) = s
        .post(
            "/api/v1/patient/",
            patient(
                &geo,
                "+919811100002",
                json!([{"config": MRN, "value": "CDH-1042"}]),
            ),
            Some(&token),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        first_msg(&body),
        "Value error, Identifier config system.care.demo/hospital-number is not unique"
    );

    // Update: the patient may keep its own value; an empty value removes it; the error of an
    // update is the field validator's (`loc: ["identifiers"]`).
    let (status, updated) = s
        .put(
            &format!("/api/v1/patient/{id}/"),
            json!({"identifiers": [{"config": ABHA, "value": "12-3456-7890-1234"}, {"config": MRN, "value": ""}]}),
            Some(&token),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    let (_, after) = s
        .get(
            &format!("/api/v1/patient/{id}/?facility={fid}"),
            Some(&token),
        )
        .await;
    assert_eq!(after["facility_identifiers"], json!([]));
    assert_eq!(values(&after["instance_identifiers"]).len(), 3);
    let (status, body) = s
        .put(
            &format!("/api/v1/patient/{id}/"),
            json!({"identifiers": [{"config": ABHA, "value": "nope"}]}),
            Some(&token),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"][0]["loc"], json!(["identifiers"]));

    // Search by the ABHA config: partial (it is retrieved with the year of birth).
    let (status, found) = s
        .post(
            "/api/v1/patient/search/",
            json!({"config": ABHA, "value": "12-3456-7890-1234"}),
            Some(&token),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(found["partial"], true);
    assert_eq!(found["results"][0]["partial_id"], &id[..5]);
    // The hospital number belongs to this facility only.
    let (status, _) = s
        .post(
            "/api/v1/patient/search/",
            json!({"config": MRN, "value": "CDH-1", "facility": "9b2e3a44-1f5c-4d6e-8a7b-0c1d2e3f4a5b"}),
            Some(&token),
        )
        .await;
    assert_eq!(status, 400);
}
