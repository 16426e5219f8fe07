//! Patients on the built-in backend: create/retrieve/update/list, search and search_retrieve,
//! patient users, roles and users — against CARE's captured bodies.

mod common;

use chrono::Datelike;
use serde_json::{json, Value};

fn asha(geo: &str) -> Value {
    json!({
        "name": "Asha Menon", "gender": "female", "phone_number": "+919876543210",
        "emergency_phone_number": "+919876543211", "address": "12 MG Road, Kochi",
        "permanent_address": "12 MG Road, Kochi", "pincode": 682001, "blood_group": "O_positive",
        "date_of_birth": "1990-05-14", "geo_organization": geo, "identifiers": [], "tags": []
    })
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
async fn create_retrieve_update_and_list() {
    let s = common::start(&[]).await;
    let (token, _) = s.login("care-doctor").await;
    let geo = s.geo_id(&token, "Ward 1 - Fort Kochi").await;
    let mut body = asha(&geo);
    body["id"] = json!("11111111-1111-4111-8111-111111111111");
    let (status, created) = s.post("/api/v1/patient/", body, Some(&token)).await;
    assert_eq!(status, 200, "{created}");
    let id = created["id"].as_str().expect("id").to_string();
    assert_ne!(
        id, "11111111-1111-4111-8111-111111111111",
        "client id ignored"
    );
    assert_eq!(
        uuid::Uuid::parse_str(&id).map(|u| u.get_version_num()).ok(),
        Some(4)
    );
    assert_eq!(created["year_of_birth"], 1990);
    assert_eq!(created["permissions"], json!([]));
    assert_eq!(created["geo_organization"]["id"], geo);
    assert_eq!(created["created_by"]["username"], "care-doctor");
    assert_eq!(created["instance_identifiers"][1]["value"], "+919876543210");
    let sample = common::sample("patient_create");
    assert_eq!(keys(&created), keys(&sample["response"]));

    let (status, got) = s.get(&format!("/api/v1/patient/{id}/"), Some(&token)).await;
    assert_eq!(status, 200);
    assert_eq!(got["name"], "Asha Menon");
    assert_eq!(
        got["permissions"],
        common::sample("patient_retrieve")["response"]["permissions"],
        "a doctor's patient permissions are those real CARE gives care-doctor"
    );

    // A partial PUT: the address changes, the omitted pincode is cleared, the rest stays.
    let (status, updated) = s
        .put(
            &format!("/api/v1/patient/{id}/"),
            json!({"address": "99 Beach Rd", "identifiers": []}),
            Some(&token),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["address"], "99 Beach Rd");
    assert_eq!(updated["pincode"], Value::Null);
    assert_eq!(updated["emergency_phone_number"], "+919876543211");
    assert_eq!(updated["date_of_birth"], "1990-05-14");
    assert_eq!(updated["created_date"], created["created_date"]);
    assert!(
        updated["modified_date"].as_str() > created["modified_date"].as_str(),
        "modified_date moves on every save"
    );
    // Age replaces the date of birth.
    let (_, aged) = s
        .put(
            &format!("/api/v1/patient/{id}/"),
            json!({"age": 30, "pincode": 682002}),
            Some(&token),
        )
        .await;
    assert_eq!(aged["date_of_birth"], Value::Null);
    assert_eq!(aged["year_of_birth"], chrono::Utc::now().year() - 30);
    assert_eq!(aged["pincode"], 682002);

    let (status, list) = s
        .get("/api/v1/patient/?name=asha%20men&limit=5", Some(&token))
        .await;
    assert_eq!(status, 200);
    let found = list["results"].as_array().expect("results");
    assert!(found.iter().any(|p| p["id"] == id.as_str()));
    assert!(found.iter().all(|p| p["name"]
        .as_str()
        .unwrap_or("")
        .to_lowercase()
        .contains("asha men")));
    assert_eq!(list["count"].as_u64(), Some(found.len() as u64));
    assert_eq!(
        keys(&list["results"][0]),
        keys(&common::sample("patient_list")["response"]["results"][0])
    );
    let (_, by_phone) = s
        .get(
            "/api/v1/patient/?phone_number=%2B919876543210",
            Some(&token),
        )
        .await;
    assert_eq!(by_phone["count"], 1);
    let (_, none) = s
        .get("/api/v1/patient/?phone_number=%2B91987654321", Some(&token))
        .await;
    assert_eq!(none["count"], 0, "phone_number is an exact match");
}

#[tokio::test]
async fn create_with_age_sets_year_of_birth() {
    let s = common::start(&[]).await;
    let (token, _) = s.login("care-nurse").await;
    let geo = s.geo_id(&token, "Kerala").await;
    let mut body = asha(&geo);
    body.as_object_mut().map(|o| o.remove("date_of_birth"));
    body["age"] = json!(42);
    let (status, p) = s.post("/api/v1/patient/", body, Some(&token)).await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(p["date_of_birth"], Value::Null);
    assert_eq!(p["year_of_birth"], chrono::Utc::now().year() - 42);
}

#[tokio::test]
async fn invalid_bodies_get_cares_exact_errors() {
    let s = common::start(&[]).await;
    let (token, _) = s.login("care-doctor").await;
    for name in [
        "patient_create_invalid_400",
        "patient_create_missing_geo_400",
    ] {
        let sample = common::sample(name);
        let (status, body) = s
            .post(
                "/api/v1/patient/",
                sample["request"]["body"].clone(),
                Some(&token),
            )
            .await;
        assert_eq!(status, 400, "{name}");
        if name == "patient_create_missing_geo_400" {
            assert_eq!(body, sample["response"], "{name}");
        } else {
            // Our geo tree differs, so only compare the errors real CARE gave.
            assert_eq!(body["errors"][0], sample["response"]["errors"][0]);
            assert_eq!(body["errors"][1], sample["response"]["errors"][1]);
            assert_eq!(body["errors"][2], sample["response"]["errors"][2]);
        }
    }
    let geo = s.geo_id(&token, "Kerala").await;
    let mut body = asha(&geo);
    body["pincode"] = json!("abc");
    body["blood_group"] = json!(7);
    body["phone_number"] = json!(9876543210u64);
    let (status, errors) = s.post("/api/v1/patient/", body, Some(&token)).await;
    assert_eq!(status, 400);
    let types: Vec<&str> = errors["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert_eq!(types, vec!["string_type", "int_parsing", "enum"]);
    // An unknown geo organization.
    let (status, errors) = s
        .post(
            "/api/v1/patient/",
            asha("5f0c1c52-5a0f-4c4d-9a55-2c7b1f7f0e11"),
            Some(&token),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        errors["errors"][0]["msg"],
        "Value error, Geo Organization does not exist"
    );
    // Neither age nor date of birth: a 400, never a 500.
    let mut body = asha(&geo);
    body.as_object_mut().map(|o| o.remove("date_of_birth"));
    let (status, errors) = s.post("/api/v1/patient/", body, Some(&token)).await;
    assert_eq!(status, 400);
    assert_eq!(
        errors["errors"][0]["msg"],
        "Value error, Either age or date of birth is required"
    );
    // Malformed JSON and a non-object body.
    let (status, body) = s
        .send_raw(
            reqwest::Method::POST,
            "/api/v1/patient/",
            "{\"name\": ",
            Some(&token),
        )
        .await;
    assert_eq!(status, 400);
    assert!(body["detail"]
        .as_str()
        .unwrap_or("")
        .starts_with("JSON parse error"));
    let (status, _) = s
        .send_raw(
            reqwest::Method::PUT,
            "/api/v1/patient/x/",
            "[1]",
            Some(&token),
        )
        .await;
    assert_eq!(status, 400);
    // Deceased in the future, naive datetime.
    let mut body = asha(&geo);
    body["deceased_datetime"] = json!("2999-01-01T00:00:00+05:30");
    let (status, errors) = s.post("/api/v1/patient/", body, Some(&token)).await;
    assert_eq!(status, 400);
    assert_eq!(
        errors["errors"][0]["msg"],
        "Value error, Deceased datetime cannot be in the future"
    );
    let mut body = asha(&geo);
    body["deceased_datetime"] = json!("2020-01-01T00:00:00");
    let (status, errors) = s.post("/api/v1/patient/", body, Some(&token)).await;
    assert_eq!(status, 400);
    assert_eq!(
        errors["errors"][0]["msg"],
        "Value error, Datetime must be timezone aware"
    );
}

#[tokio::test]
async fn unknown_patient_is_404_and_volunteer_cannot_write() {
    let s = common::start(&[]).await;
    let (token, _) = s.login("care-doctor").await;
    for path in [
        "/api/v1/patient/00000000-0000-4000-8000-000000000000/",
        "/api/v1/patient/not-a-uuid/",
        "/api/v1/patient/00000000-0000-4000-8000-000000000000/get_users/",
    ] {
        let (status, body) = s.get(path, Some(&token)).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(body, common::sample("patient_retrieve_404")["response"]);
    }
    let geo = s.geo_id(&token, "Kerala").await;
    let (_, p) = s.post("/api/v1/patient/", asha(&geo), Some(&token)).await;
    let id = p["id"].as_str().expect("id");
    let (vtoken, _) = s.login("care-volunteer").await;
    let sample = common::sample("error_403_volunteer_update_patient");
    let (status, body) = s
        .put(
            &format!("/api/v1/patient/{id}/"),
            sample["request"]["body"].clone(),
            Some(&vtoken),
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(body, sample["response"]);
    let (status, body) = s.post("/api/v1/patient/", asha(&geo), Some(&vtoken)).await;
    assert_eq!(status, 403);
    assert_eq!(body, json!({"detail": "Cannot create patient"}));
    // The volunteer's refused write changed nothing.
    let (_, after) = s.get(&format!("/api/v1/patient/{id}/"), Some(&token)).await;
    assert_eq!(after["name"], "Asha Menon");
    assert_eq!(after["modified_date"], p["modified_date"]);
    // But a volunteer can read.
    let (status, _) = s
        .get(&format!("/api/v1/patient/{id}/"), Some(&vtoken))
        .await;
    assert_eq!(status, 200);
    let (status, body) = s.get("/api/v1/patient/", None).await;
    assert_eq!(status, 403);
    assert_eq!(
        body,
        json!({"detail": "Authentication credentials were not provided."})
    );
}

#[tokio::test]
async fn search_and_search_retrieve() {
    let s = common::start(&[]).await;
    let (token, _) = s.login("care-doctor").await;
    let geo = s.geo_id(&token, "Kerala").await;
    let (_, asha_p) = s.post("/api/v1/patient/", asha(&geo), Some(&token)).await;
    let mut ravi = asha(&geo);
    ravi["name"] = json!("Ravi Kumar");
    ravi["gender"] = json!("male");
    ravi["date_of_birth"] = json!("1984-02-01");
    let (_, ravi_p) = s.post("/api/v1/patient/", ravi, Some(&token)).await;
    let asha_id = asha_p["id"].as_str().expect("id");

    let (status, found) = s
        .post(
            "/api/v1/patient/search/",
            json!({"phone_number": "+919876543210"}),
            Some(&token),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(found["partial"], true);
    let results = found["results"].as_array().expect("results");
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["name"], "Ravi Kumar", "newest first");
    assert_eq!(results[1]["partial_id"], &asha_id[..5]);
    assert_ne!(
        results[1]["id"], asha_id,
        "the id is random, not the patient's"
    );
    assert_eq!(
        keys(&results[0]),
        keys(&common::sample("patient_search_by_phone")["response"]["results"][0])
    );
    let (_, by_config) = s
        .post(
            "/api/v1/patient/search/",
            common::sample("patient_search_by_identifier_config")["request"]["body"].clone(),
            Some(&token),
        )
        .await;
    assert_eq!(by_config["results"].as_array().map(Vec::len), Some(2));
    let (status, body) = s
        .post("/api/v1/patient/search/", json!({}), Some(&token))
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        common::sample("patient_search_missing_params_400")["response"]
    );

    let (status, got) = s
        .post(
            "/api/v1/patient/search_retrieve/",
            json!({"phone_number": "+919876543210", "year_of_birth": 1990, "partial_id": &asha_id[..5]}),
            Some(&token),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(got["id"], asha_id);
    let (status, body) = s
        .post(
            "/api/v1/patient/search_retrieve/",
            json!({"phone_number": "+919876543210", "year_of_birth": 1991, "partial_id": &asha_id[..5]}),
            Some(&token),
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(
        body,
        common::sample("patient_search_retrieve_nomatch_403")["response"]
    );
    let ravi_id = ravi_p["id"].as_str().expect("id");
    let (status, _) = s
        .post(
            "/api/v1/patient/search_retrieve/",
            json!({"phone_number": "+919876543210", "year_of_birth": 1990, "partial_id": &ravi_id[..5]}),
            Some(&token),
        )
        .await;
    assert_eq!(
        status, 403,
        "the year must match the patient the partial id names"
    );
    let (status, body) = s
        .post(
            "/api/v1/patient/search_retrieve/",
            json!({"phone_number": "+919876543210"}),
            Some(&token),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"][0]["type"], "missing");
}

#[tokio::test]
async fn patient_users_roles_and_users() {
    let s = common::start(&[]).await;
    let (token, _) = s.login("care-doctor").await;
    let geo = s.geo_id(&token, "Kerala").await;
    let (_, p) = s.post("/api/v1/patient/", asha(&geo), Some(&token)).await;
    let id = p["id"].as_str().expect("id");
    let (status, users) = s
        .get(&format!("/api/v1/patient/{id}/get_users/"), Some(&token))
        .await;
    assert_eq!((status, users), (200, json!({"results": []})));

    let (status, roles) = s.get("/api/v1/role/?limit=3", Some(&token)).await;
    assert_eq!(status, 200);
    assert_eq!(roles["count"], 8);
    assert_eq!(roles["results"].as_array().map(Vec::len), Some(3));
    assert_eq!(
        keys(&roles["results"][0]),
        keys(&common::sample("role_list")["response"]["results"][0])
    );
    let (_, nurse_role) = s.get("/api/v1/role/?name=nurse", Some(&token)).await;
    let role = nurse_role["results"][0]["id"]
        .as_str()
        .expect("role")
        .to_string();

    let (status, found) = s.get("/api/v1/users/?search_text=care", Some(&token)).await;
    assert_eq!(status, 200);
    assert_eq!(found["count"], 6);
    let (status, nurse) = s.get("/api/v1/users/care-nurse/", Some(&token)).await;
    assert_eq!(status, 200);
    assert_eq!(
        keys(&nurse),
        keys(&common::sample("users_retrieve_by_username")["response"])
    );
    let (status, body) = s.get("/api/v1/users/nobody/", Some(&token)).await;
    assert_eq!(status, 404);
    assert_eq!(body["errors"][0]["msg"], "No User matches the given query.");
    let nurse_id = nurse["id"].as_str().expect("id");

    let add = json!({"user": nurse_id, "role": role});
    let (status, added) = s
        .post(
            &format!("/api/v1/patient/{id}/add_user/"),
            add.clone(),
            Some(&token),
        )
        .await;
    assert_eq!(status, 200, "{added}");
    assert_eq!(added["username"], "care-nurse");
    assert_eq!(
        keys(&added),
        keys(&common::sample("patient_add_user")["response"])
    );
    let (status, body) = s
        .post(
            &format!("/api/v1/patient/{id}/add_user/"),
            add,
            Some(&token),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        common::sample("patient_add_user_duplicate_400")["response"]
    );
    let (_, users) = s
        .get(&format!("/api/v1/patient/{id}/get_users/"), Some(&token))
        .await;
    assert_eq!(users["results"][0]["id"], nurse_id);
    let (status, body) = s
        .post(
            &format!("/api/v1/patient/{id}/add_user/"),
            json!({"user": "00000000-0000-4000-8000-000000000000", "role": role}),
            Some(&token),
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(body["errors"][0]["msg"], "No User matches the given query.");
    let (status, body) = s
        .post(
            &format!("/api/v1/patient/{id}/add_user/"),
            json!({"user": nurse_id}),
            Some(&token),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"][0]["loc"], json!(["role"]));
    let (status, body) = s
        .post(
            &format!("/api/v1/patient/{id}/delete_user/"),
            json!({"user": nurse_id}),
            Some(&token),
        )
        .await;
    assert_eq!((status, body), (200, json!({})));
    let (_, users) = s
        .get(&format!("/api/v1/patient/{id}/get_users/"), Some(&token))
        .await;
    assert_eq!(users, json!({"results": []}));
}

#[tokio::test]
async fn demo_patients_are_seeded_deterministically() {
    let a = common::start(&[]).await;
    let b = common::start(&[]).await;
    let (ta, _) = a.login("care-doctor").await;
    let (tb, _) = b.login("care-doctor").await;
    let (_, la) = a
        .get(
            "/api/v1/patient/?limit=200&ordering=created_date",
            Some(&ta),
        )
        .await;
    let (_, lb) = b
        .get(
            "/api/v1/patient/?limit=200&ordering=created_date",
            Some(&tb),
        )
        .await;
    assert_eq!(la["count"], 200);
    let names = |l: &Value| -> Vec<(String, String, String)> {
        l["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|p| {
                (
                    p["id"].as_str().unwrap_or("").to_string(),
                    p["name"].as_str().unwrap_or("").to_string(),
                    p["phone_number"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    };
    let (na, nb) = (names(&la), names(&lb));
    assert_eq!(na, nb, "the same demo patients on every fresh database");
    let mut phones: Vec<&str> = na.iter().map(|p| p.2.as_str()).collect();
    assert!(phones.iter().all(|p| p.starts_with("+91") && p.len() == 13));
    phones.sort_unstable();
    phones.dedup();
    assert!(phones.len() < 190, "families share phone numbers");
    // A family phone finds several patients.
    let shared = na
        .iter()
        .map(|p| p.2.clone())
        .find(|ph| na.iter().filter(|q| &q.2 == ph).count() > 1)
        .expect("a shared phone");
    let (_, found) = a
        .post(
            "/api/v1/patient/search/",
            json!({"phone_number": shared}),
            Some(&ta),
        )
        .await;
    assert!(found["results"].as_array().map(Vec::len) > Some(1));
}

#[tokio::test]
async fn patients_survive_a_restart_and_concurrent_creates_do_not_collide() {
    let s = common::start(&[]).await;
    let (token, _) = s.login("care-doctor").await;
    let geo = s.geo_id(&token, "Kerala").await;
    let mut tasks = Vec::new();
    for i in 0..16 {
        let url = s.url("/api/v1/patient/");
        let mut body = asha(&geo);
        body["name"] = json!(format!("Concurrent {i}"));
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            let resp = common::client()
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .expect("post");
            let status = resp.status().as_u16();
            let v: Value = resp.json().await.expect("json");
            (status, v["id"].as_str().unwrap_or("").to_string())
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        let (status, id) = t.await.expect("task");
        assert_eq!(status, 200);
        ids.push(id);
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 16);
    let (_, list) = s
        .get("/api/v1/patient/?name=Concurrent", Some(&token))
        .await;
    assert_eq!(list["count"], 16);
    let (_, before) = s
        .get(&format!("/api/v1/patient/{}/", ids[0]), Some(&token))
        .await;

    let common::TestServer { data, task, .. } = s;
    drop(task);
    let s = common::start_in(data, &[]).await;
    let (status, after) = s
        .get(&format!("/api/v1/patient/{}/", ids[0]), Some(&token))
        .await;
    assert_eq!(status, 200);
    assert_eq!(before, after);
    let (_, all) = s.get("/api/v1/patient/", Some(&token)).await;
    assert_eq!(all["count"], 216, "no demo patients re-seeded on restart");
}

#[tokio::test]
async fn method_not_allowed_is_drf_405() {
    let s = common::start(&[]).await;
    let (token, _) = s.login("care-doctor").await;
    let (status, body) = s
        .send_raw(
            reqwest::Method::DELETE,
            "/api/v1/patient/",
            "",
            Some(&token),
        )
        .await;
    assert_eq!(status, 405);
    assert_eq!(body, json!({"detail": "Method \"DELETE\" not allowed."}));
}
