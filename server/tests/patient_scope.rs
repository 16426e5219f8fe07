//! Which patients a user sees in the built-in backend, as CARE's `PatientViewSet` and its
//! `PatientAccess` authorizer decide it: the branch of the geo tree the user belongs to, the
//! patients assigned to them, and (one patient at a time) open encounters at their facility.

mod common;

use serde_json::{json, Value};

/// Places a user in the geo tree (the demo's stand-in for CARE's organization membership).
fn place_user(s: &common::TestServer, username: &str, geo: Option<&str>) {
    let conn = rusqlite::Connection::open(s.data.path().join("care.sqlite3")).expect("open");
    let changed = conn
        .execute(
            "UPDATE user SET geo_organization_id = ?1 WHERE username = ?2",
            rusqlite::params![geo, username],
        )
        .expect("update user");
    assert_eq!(changed, 1);
}

async fn register(
    s: &common::TestServer,
    token: &str,
    name: &str,
    phone: &str,
    geo: &str,
) -> String {
    let (status, p) = s
        .post(
            "/api/v1/patient/",
            json!({"name": name, "gender": "female", "phone_number": phone,
                   "date_of_birth": "1988-02-03", "geo_organization": geo}),
            Some(token),
        )
        .await;
    assert_eq!(status, 200, "{p}");
    p["id"].as_str().expect("id").to_string()
}

/// The ids in one list answer (searched by phone, so the demo's 200 patients stay out).
async fn listed(s: &common::TestServer, token: &str, phone: &str) -> (i64, Vec<String>) {
    let (status, page) = s
        .get(
            &format!("/api/v1/patient/?phone_number=%2B{}", &phone[1..]),
            Some(token),
        )
        .await;
    assert_eq!(status, 200, "{page}");
    let ids = page["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|p| p["id"].as_str().map(String::from))
        .collect();
    (page["count"].as_i64().expect("count"), ids)
}

async fn total(s: &common::TestServer, token: &str) -> i64 {
    let (status, page) = s.get("/api/v1/patient/?limit=1", Some(token)).await;
    assert_eq!(status, 200, "{page}");
    page["count"].as_i64().expect("count")
}

#[tokio::test]
async fn a_user_lists_and_opens_only_the_patients_of_their_branch() {
    let s = common::start(&[]).await;
    let (doctor, _) = s.login("care-doctor").await;
    let ernakulam_ward = s.geo_id(&doctor, "Ward 1 - Fort Kochi").await;
    let tvm = s.geo_id(&doctor, "Thiruvananthapuram").await;
    let tvm_ward = s.geo_id(&doctor, "Ward 10 - Palayam").await;
    let phone = "+919822200001";
    let north = register(&s, &doctor, "Scope North", phone, &ernakulam_ward).await;
    let south = register(&s, &doctor, "Scope South", phone, &tvm_ward).await;

    place_user(&s, "care-nurse", Some(&tvm));
    let (nurse, _) = s.login("care-nurse").await;

    // The list: only the district's patient, and the count says so.
    assert_eq!(listed(&s, &nurse, phone).await, (1, vec![south.clone()]));
    let (both, _) = listed(&s, &doctor, phone).await;
    assert_eq!(both, 2, "the state's doctor sees both");
    let (admin_token, _) = s.login("care-admin").await;
    let everything = total(&s, &admin_token).await;
    assert_eq!(
        total(&s, &doctor).await,
        everything,
        "the demo's users sit at the state"
    );
    assert!(total(&s, &nurse).await < everything);

    // One patient: the other district's answers exactly what a patient that does not exist
    // answers, so its existence does not leak.
    let (status, body) = s
        .get(&format!("/api/v1/patient/{north}/"), Some(&nurse))
        .await;
    let (missing_status, missing) = s
        .get(
            "/api/v1/patient/00000000-0000-4000-8000-000000000000/",
            Some(&nurse),
        )
        .await;
    assert_eq!((status, &body), (missing_status, &missing));
    assert_eq!(status, 404);
    let (status, body) = s
        .get(&format!("/api/v1/patient/{south}/"), Some(&nurse))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["name"], "Scope South");

    // Nor can the nurse change it, list its users or its appointments, or read its records.
    let (status, _) = s
        .put(
            &format!("/api/v1/patient/{north}/"),
            json!({"name": "Renamed", "gender": "female", "phone_number": phone,
                   "date_of_birth": "1988-02-03", "geo_organization": ernakulam_ward}),
            Some(&nurse),
        )
        .await;
    assert_eq!(status, 404);
    for path in ["get_users/", "get_appointments/"] {
        let (status, _) = s
            .get(&format!("/api/v1/patient/{north}/{path}"), Some(&nurse))
            .await;
        assert_eq!(status, 404, "{path}");
    }
    for path in [
        "symptom/",
        "diagnosis/",
        "allergy_intolerance/",
        "questionnaire_response/",
    ] {
        let (status, _) = s
            .get(&format!("/api/v1/patient/{north}/{path}"), Some(&nurse))
            .await;
        assert_eq!(status, 403, "{path}");
        let (status, _) = s
            .get(&format!("/api/v1/patient/{south}/{path}"), Some(&nurse))
            .await;
        assert_eq!(status, 200, "{path} of a patient in scope");
    }
    let (status, _) = s
        .get(&format!("/api/v1/encounter/?patient={north}"), Some(&nurse))
        .await;
    assert_eq!(status, 403);
    let (_, renamed) = s
        .get(&format!("/api/v1/patient/{north}/"), Some(&doctor))
        .await;
    assert_eq!(
        renamed["name"], "Scope North",
        "the refused update changed nothing"
    );
}

#[tokio::test]
async fn an_assignment_shows_the_patient_until_it_ends() {
    let s = common::start(&[]).await;
    let (doctor, _) = s.login("care-doctor").await;
    let ward = s.geo_id(&doctor, "Ward 5 - Aluva Town").await;
    let phone = "+919822200002";
    let patient = register(&s, &doctor, "Assigned Patient", phone, &ward).await;
    // A user with no place in the geo tree sees only their assigned patients.
    place_user(&s, "care-staff", None);
    let (staff, _) = s.login("care-staff").await;
    assert_eq!(total(&s, &staff).await, 0);
    assert_eq!(listed(&s, &staff, phone).await, (0, vec![]));

    let (_, user) = s.get("/api/v1/users/care-staff/", Some(&doctor)).await;
    let (_, roles) = s.get("/api/v1/role/?name=staff", Some(&doctor)).await;
    let assignment = json!({"user": user["id"], "role": roles["results"][0]["id"]});
    let (status, body) = s
        .post(
            &format!("/api/v1/patient/{patient}/add_user/"),
            assignment,
            Some(&doctor),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(listed(&s, &staff, phone).await, (1, vec![patient.clone()]));
    assert_eq!(total(&s, &staff).await, 1);
    let (status, _) = s
        .get(&format!("/api/v1/patient/{patient}/"), Some(&staff))
        .await;
    assert_eq!(status, 200);

    let (status, body) = s
        .post(
            &format!("/api/v1/patient/{patient}/delete_user/"),
            json!({"user": user["id"]}),
            Some(&doctor),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(listed(&s, &staff, phone).await, (0, vec![]));
    let (status, _) = s
        .get(&format!("/api/v1/patient/{patient}/"), Some(&staff))
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn an_open_encounter_at_the_users_facility_opens_the_patient_but_does_not_list_it() {
    let s = common::start(&[]).await;
    let (doctor, _) = s.login("care-doctor").await;
    let tvm = s.geo_id(&doctor, "Thiruvananthapuram").await;
    // A Kerala-level patient: outside the Thiruvananthapuram branch.
    let (patient, encounter) = s.patient_with_encounter(&doctor, "+919822200003").await;
    place_user(&s, "care-nurse", Some(&tvm));
    let (nurse, _) = s.login("care-nurse").await;

    let (status, body) = s
        .get(&format!("/api/v1/patient/{patient}/"), Some(&nurse))
        .await;
    assert_eq!(status, 200, "in care at the nurse's facility: {body}");
    let (status, _) = s
        .get(&format!("/api/v1/patient/{patient}/symptom/"), Some(&nurse))
        .await;
    assert_eq!(status, 200);
    assert_eq!(listed(&s, &nurse, "+919822200003").await, (0, vec![]));

    // Once the encounter is completed, the patient is out of reach again.
    let conn = rusqlite::Connection::open(s.data.path().join("care.sqlite3")).expect("open");
    conn.execute(
        "UPDATE encounter SET status = 'completed' WHERE id = ?1",
        rusqlite::params![encounter],
    )
    .expect("complete");
    let (status, body): (u16, Value) = s
        .get(&format!("/api/v1/patient/{patient}/"), Some(&nurse))
        .await;
    assert_eq!(status, 404, "{body}");
}
