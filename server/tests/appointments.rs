//! Schedules, slots and bookings on the built-in backend.

mod common;

use serde_json::{json, Value};

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    k.sort();
    k
}

fn ist_today() -> chrono::NaiveDate {
    let ist = chrono::FixedOffset::east_opt(19800).expect("offset");
    chrono::Utc::now().with_timezone(&ist).date_naive()
}

#[tokio::test]
async fn schedule_slots_and_the_booking_lifecycle() {
    let s = common::start(&[]).await;
    let (token, _) = s.login("care-doctor").await;
    let fid = s.facility_id(&token).await;
    let (_, staff) = s.get("/api/v1/users/care-staff/", Some(&token)).await;
    let staff_id = staff["id"].as_str().expect("id").to_string();
    let day = ist_today() + chrono::Duration::days(3);

    // A schedule for care-staff, shaped like the captured one.
    let mut schedule = common::sample("schedule_create")["request"]["body"].clone();
    schedule["facility"] = json!(fid);
    schedule["resource_id"] = json!(staff_id);
    schedule["valid_from"] = json!(format!("{}T00:00:00", ist_today()));
    schedule["valid_to"] = json!(format!(
        "{}T23:59:59",
        ist_today() + chrono::Duration::days(30)
    ));
    let (status, created) = s
        .post(
            &format!("/api/v1/facility/{fid}/schedule/"),
            schedule,
            Some(&token),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(
        keys(&created),
        keys(&common::sample("schedule_create")["response"])
    );
    assert_eq!(created["availabilities"][0]["reason"], Value::Null);

    let (status, day_slots) = s
        .post(
            &format!("/api/v1/facility/{fid}/slots/get_slots_for_day/"),
            json!({"resource_type": "practitioner", "resource_id": staff_id, "day": day.to_string()}),
            Some(&token),
        )
        .await;
    assert_eq!(status, 200);
    let slots = day_slots["results"].as_array().expect("slots");
    assert_eq!(slots.len(), 12, "09:00-12:00 in 15 minute slots");
    assert_eq!(
        slots[0]["start_datetime"],
        format!("{day}T03:30:00Z"),
        "09:00 IST"
    );
    assert_eq!(
        slots[0]["availability"],
        json!({"name": "Morning OP", "tokens_per_slot": 2})
    );
    let slot = slots[0]["id"].as_str().expect("slot").to_string();
    let slot2 = slots[3]["id"].as_str().expect("slot").to_string();
    // Asking again returns the same stored slots.
    let (_, again) = s
        .post(
            &format!("/api/v1/facility/{fid}/slots/get_slots_for_day/"),
            json!({"resource_type": "practitioner", "resource_id": staff_id, "day": day.to_string()}),
            Some(&token),
        )
        .await;
    assert_eq!(again["results"][0]["id"], slot.as_str());

    let geo = s.geo_id(&token, "Kerala").await;
    let mut ids = Vec::new();
    for name in ["Book One", "Book Two", "Book Three"] {
        let (_, p) = s
            .post(
                "/api/v1/patient/",
                json!({"name": name, "gender": "female", "phone_number": "+919800000001",
                       "age": 30, "geo_organization": geo}),
                Some(&token),
            )
            .await;
        ids.push(p["id"].as_str().expect("id").to_string());
    }
    let book = |patient: &str, note: &str| json!({"patient": patient, "note": note, "tags": []});
    let url = format!("/api/v1/facility/{fid}/slots/{slot}/create_appointment/");
    let (status, booking) = s.post(&url, book(&ids[0], "Follow-up"), Some(&token)).await;
    assert_eq!(status, 200, "{booking}");
    assert_eq!(
        keys(&booking),
        keys(&common::sample("slots_create_appointment")["response"])
    );
    assert_eq!(booking["token_slot"]["allocated"], 1);
    assert_eq!(booking["status"], "booked");
    assert_eq!(booking["resource"]["username"], "care-staff");
    let (status, dup) = s.post(&url, book(&ids[0], "again"), Some(&token)).await;
    assert_eq!(status, 400);
    assert_eq!(
        dup,
        common::sample("slots_create_appointment_duplicate_400")["response"]
    );
    let (status, _) = s.post(&url, book(&ids[1], "second"), Some(&token)).await;
    assert_eq!(status, 200);
    let (status, full) = s.post(&url, book(&ids[2], "third"), Some(&token)).await;
    assert_eq!(status, 400);
    assert_eq!(full["errors"][0]["msg"], "Slot is already full");
    let (status, missing) = s.post(&url, json!({"patient": ids[2]}), Some(&token)).await;
    assert_eq!(status, 400);
    assert_eq!(missing["errors"][0]["loc"], json!(["note"]));

    let (status, stats) = s
        .post(
            &format!("/api/v1/facility/{fid}/slots/availability_stats/"),
            json!({"from_date": day.to_string(), "to_date": (day + chrono::Duration::days(1)).to_string(),
                   "resource_type": "practitioner", "resource_id": staff_id}),
            Some(&token),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        stats[day.to_string()],
        json!({"total_slots": 24, "booked_slots": 2})
    );

    // Listing: resource_type is required.
    let (status, body) = s
        .get(
            &format!("/api/v1/facility/{fid}/appointments/?status=booked"),
            Some(&token),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        common::sample("appointments_list_missing_resource_type_400")["response"]
    );
    let (status, list) = s
        .get(
            &format!(
                "/api/v1/facility/{fid}/appointments/?status=booked,checked_in,in_consultation&resource_type=practitioner&resource_ids={staff_id}&limit=10&offset=0&ordering=token_slot__start_datetime&date_after={day}&date_before={day}"
            ),
            Some(&token),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(list["count"], 2);

    let bid = booking["id"].as_str().expect("id").to_string();
    let (status, got) = s
        .get(
            &format!("/api/v1/facility/{fid}/appointments/{bid}/"),
            Some(&token),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(got["associated_encounter"], json!({}));
    let (status, checked) = s
        .put(
            &format!("/api/v1/facility/{fid}/appointments/{bid}/"),
            json!({"status": "checked_in", "note": "arrived early"}),
            Some(&token),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(checked["status"], "checked_in");
    let (status, refused) = s
        .put(
            &format!("/api/v1/facility/{fid}/appointments/{bid}/"),
            json!({"status": "cancelled", "note": "x"}),
            Some(&token),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        refused,
        common::sample("appointments_update_put_cancel_rejected_400")["response"]
    );

    // Reschedule: the old booking becomes `rescheduled` and frees its place.
    let (status, moved) = s
        .post(
            &format!("/api/v1/facility/{fid}/appointments/{bid}/reschedule/"),
            json!({"new_slot": slot2, "new_booking_note": "moved", "previous_booking_note": "asked"}),
            Some(&token),
        )
        .await;
    assert_eq!(status, 200, "{moved}");
    assert_ne!(moved["id"], bid.as_str());
    assert_eq!(moved["token_slot"]["id"], slot2.as_str());
    let (_, old) = s
        .get(
            &format!("/api/v1/facility/{fid}/appointments/{bid}/"),
            Some(&token),
        )
        .await;
    assert_eq!(old["status"], "rescheduled");
    assert_eq!(old["token_slot"]["allocated"], 1);
    let new_id = moved["id"].as_str().expect("id").to_string();
    let (status, cancelled) = s
        .post(
            &format!("/api/v1/facility/{fid}/appointments/{new_id}/cancel/"),
            json!({"reason": "cancelled", "note": "patient unwell"}),
            Some(&token),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["note"], "patient unwell");
    assert_eq!(cancelled["token_slot"]["allocated"], 0);

    let (status, mine) = s
        .get(
            &format!("/api/v1/patient/{}/get_appointments/?limit=5", ids[0]),
            Some(&token),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(mine["count"], 2);
    assert_eq!(mine["results"][0]["status"], "cancelled", "newest first");

    let (status, users) = s
        .get(
            &format!("/api/v1/facility/{fid}/appointments/available_users/"),
            Some(&token),
        )
        .await;
    assert_eq!(status, 200);
    let names: Vec<&str> = users["users"]
        .as_array()
        .expect("users")
        .iter()
        .filter_map(|u| u["username"].as_str())
        .collect();
    assert!(names.contains(&"care-staff") && names.contains(&"care-doctor"));

    // Bookings survive a restart.
    let common::TestServer { data, task, .. } = s;
    drop(task);
    let s = common::start_in(data, &[]).await;
    let (status, after) = s
        .get(
            &format!("/api/v1/facility/{fid}/appointments/{new_id}/"),
            Some(&token),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(after["status"], "cancelled");
}

#[tokio::test]
async fn seeded_bookings_cover_every_status_and_bad_input_is_400() {
    let s = common::start(&[]).await;
    let (token, _) = s.login("care-doctor").await;
    let fid = s.facility_id(&token).await;
    let (_, me) = s.get("/api/v1/users/getcurrentuser/", Some(&token)).await;
    let doctor = me["id"].as_str().expect("id");
    let (_, all) = s
        .get(
            &format!("/api/v1/facility/{fid}/appointments/?resource_type=practitioner&resource_ids={doctor}&limit=100"),
            Some(&token),
        )
        .await;
    let mut statuses: Vec<&str> = all["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|b| b["status"].as_str())
        .collect();
    statuses.sort_unstable();
    statuses.dedup();
    assert_eq!(statuses.len(), 12, "{statuses:?}");
    for bad in [
        json!({"resource_type": "practitioner", "resource_id": doctor}),
        json!({"resource_type": "nobody", "resource_id": doctor, "day": "2026-01-01"}),
        json!({"resource_type": "practitioner", "resource_id": "x", "day": "2026-13-01"}),
    ] {
        let (status, body) = s
            .post(
                &format!("/api/v1/facility/{fid}/slots/get_slots_for_day/"),
                bad,
                Some(&token),
            )
            .await;
        assert_eq!(status, 400, "{body}");
        assert!(body["errors"].is_array());
    }
    let (status, _) = s
        .send_raw(
            reqwest::Method::POST,
            &format!("/api/v1/facility/{fid}/slots/availability_stats/"),
            "not json",
            Some(&token),
        )
        .await;
    assert_eq!(status, 400);
    let (status, body) = s
        .post(
            &format!("/api/v1/facility/{fid}/slots/00000000-0000-4000-8000-000000000000/create_appointment/"),
            json!({"patient": "00000000-0000-4000-8000-000000000000", "note": "x"}),
            Some(&token),
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        body["errors"][0]["msg"],
        "No TokenSlot matches the given query."
    );
    let (status, body) = s
        .post(
            &format!("/api/v1/facility/{fid}/slots/availability_stats/"),
            json!({"from_date": "2026-01-01", "to_date": "2026-03-01", "resource_type": "practitioner", "resource_id": doctor}),
            Some(&token),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"][0]["type"], "value_error");
}
