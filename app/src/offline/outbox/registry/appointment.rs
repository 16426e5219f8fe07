//! Appointment writes: book, change status, cancel, reschedule (care-api.md §8).
//!
//! Path params beyond the path's placeholders are kept for the pages: `practitioner_id`
//! (to reopen the slot picker after a failed booking) and `slot_id` / `from_slot_id` (the
//! slot a write takes or frees, for slot availability before it syncs), `day` / `from_day`
//! (those slots' days, for the month heat-map).

use serde_json::{json, Value};

use super::{HttpMethod, Op, SyncRoute};
use crate::{
    model::appointment::slots::SlotChange,
    offline::outbox::record::{OutboxRecord, SyncStatus},
};

pub const CREATE: &str = "appointment.create";
pub const UPDATE: &str = "appointment.update";
pub const CANCEL: &str = "appointment.cancel";
pub const RESCHEDULE: &str = "appointment.reschedule";

pub const ROUTES: &[SyncRoute] = &[
    SyncRoute {
        key: CREATE,
        op: Op::Create,
        resource_type: "appointment",
        method: HttpMethod::Post,
        path: "/facility/{facility_id}/slots/{slot_id}/create_appointment/",
        current: None,
        invalidates: &[&["appointment"], &["slots"]],
        label: "Book appointment",
    },
    SyncRoute {
        key: UPDATE,
        op: Op::Update,
        resource_type: "appointment",
        method: HttpMethod::Put,
        path: "/facility/{facility_id}/appointments/{appointment_id}/",
        current: Some("/facility/{facility_id}/appointments/{appointment_id}/"),
        invalidates: &[&["appointment"]],
        label: "Change appointment status",
    },
    SyncRoute {
        key: CANCEL,
        op: Op::Update,
        resource_type: "appointment",
        method: HttpMethod::Post,
        path: "/facility/{facility_id}/appointments/{appointment_id}/cancel/",
        current: None,
        invalidates: &[&["appointment"], &["slots"]],
        label: "Cancel appointment",
    },
    // The answer is the new booking (the old one becomes `rescheduled`): a create of the
    // new booking, whose temporary id the answer replaces.
    SyncRoute {
        key: RESCHEDULE,
        op: Op::Create,
        resource_type: "appointment",
        method: HttpMethod::Post,
        path: "/facility/{facility_id}/appointments/{appointment_id}/reschedule/",
        current: None,
        invalidates: &[&["appointment"], &["slots"]],
        label: "Reschedule appointment",
    },
];

/// A booking as CARE's TokenBookingRead would return it, before the server has it.
pub struct NewBooking<'a> {
    pub temp_id: &'a str,
    /// The slot as listed by `get_slots_for_day` (its count already including this one).
    pub slot: &'a Value,
    /// The patient (retrieve or list shape).
    pub patient: &'a Value,
    /// The practitioner's `UserSpec`.
    pub practitioner: &'a Value,
    pub facility_id: &'a str,
    pub facility_name: &'a str,
    pub note: &'a str,
    /// The signed-in user's `UserSpec`.
    pub booked_by: &'a Value,
    pub now_iso: &'a str,
}

pub fn normalize_booking(b: &NewBooking<'_>) -> Value {
    let field = |k: &str| b.patient.get(k).cloned().unwrap_or(Value::Null);
    let text = |k: &str| json!(b.patient.get(k).and_then(Value::as_str).unwrap_or(""));
    let mut slot = b.slot.clone();
    if let Some(obj) = slot.as_object_mut() {
        obj.remove(crate::model::appointment::slots::APPLIED);
    }
    json!({
        "id": b.temp_id,
        "token_slot": slot,
        "patient": {
            "id": text("id"),
            "name": text("name"),
            "gender": text("gender"),
            "phone_number": text("phone_number"),
            "emergency_phone_number": field("emergency_phone_number"),
            "address": field("address"),
            "pincode": field("pincode"),
            "date_of_birth": field("date_of_birth"),
            "year_of_birth": field("year_of_birth"),
            "geo_organization": {},
            "blood_group": field("blood_group"),
        },
        "booked_on": b.now_iso,
        "booked_by": b.booked_by,
        "status": "booked",
        "note": b.note,
        "resource_type": "practitioner",
        "resource": b.practitioner,
        "facility": {"id": b.facility_id, "name": b.facility_name},
        "created_by": b.booked_by,
        "updated_by": b.booked_by,
        "created_date": b.now_iso,
        "modified_date": b.now_iso,
        "token": null,
        "tags": [],
        "charge_item": null,
    })
}

/// Each slot an open write takes (+1) or frees (−1), with the path param that names that
/// slot's day: a booking takes its slot, a cancel frees it, a reschedule does both.
fn slot_effects(r: &OutboxRecord) -> Vec<(&'static str, SlotChange)> {
    let change = |day: &'static str, slot: Option<&str>, delta: i64| {
        slot.map(|s| {
            (
                day,
                SlotChange {
                    write_id: r.id.clone(),
                    slot_id: s.to_string(),
                    delta,
                },
            )
        })
    };
    let param = |name: &str| r.path_params.get(name).map(String::as_str);
    match r.sync_route_key.as_str() {
        CREATE => vec![change("day", param("slot_id"), 1)],
        CANCEL => vec![change("day", param("slot_id"), -1)],
        RESCHEDULE => vec![
            change("from_day", param("from_slot_id"), -1),
            change("day", r.payload.get("new_slot").and_then(Value::as_str), 1),
        ],
        _ => Vec::new(),
    }
    .into_iter()
    .flatten()
    .collect()
}

/// The slot changes of writes still to be sent.
pub fn slot_changes(records: &[OutboxRecord]) -> Vec<SlotChange> {
    records
        .iter()
        .filter(|r| r.sync_status.is_open())
        .flat_map(slot_effects)
        .map(|(_, change)| change)
        .collect()
}

/// What unsynced writes do to `practitioner`'s month stats: (day, change) per slot taken or
/// freed. Writes queued before the day was recorded on them have no day and are left out.
pub fn stats_changes(records: &[OutboxRecord], practitioner: &str) -> Vec<(String, SlotChange)> {
    records
        .iter()
        .filter(|r| r.sync_status.is_open())
        .filter(|r| r.path_params.get("practitioner_id").map(String::as_str) == Some(practitioner))
        .flat_map(|r| {
            slot_effects(r)
                .into_iter()
                .filter_map(|(day, change)| Some((r.path_params.get(day)?.clone(), change)))
        })
        .collect()
}

/// The bookings that writes still to be sent change (a new booking's temporary id, the
/// booking a status change, cancel or reschedule acts on): a list fetched meanwhile shows
/// them as this device will make them.
pub fn open_booking_ids(records: &[OutboxRecord]) -> Vec<String> {
    let mut ids: Vec<String> = records
        .iter()
        .filter(|r| r.sync_status.is_open() && r.resource_type == "appointment")
        .flat_map(|r| {
            r.temp_id
                .iter()
                .chain(r.path_params.get("appointment_id"))
                .cloned()
                .collect::<Vec<_>>()
        })
        .collect();
    ids.dedup();
    ids
}

/// For a booking the server refused (the slot was taken meanwhile): the page that lets the
/// person choose another slot for the same patient and practitioner, replacing this write.
pub fn choose_another_slot(record: &OutboxRecord) -> Option<String> {
    if record.sync_status != SyncStatus::Failed {
        return None;
    }
    let fid = record.path_params.get("facility_id")?;
    let mut query = vec![format!("replace={}", record.id)];
    match record.sync_route_key.as_str() {
        CREATE => {
            let patient = record.payload.get("patient").and_then(Value::as_str)?;
            query.push(format!("patient={patient}"));
            if let Some(p) = record.path_params.get("practitioner_id") {
                query.push(format!("practitioner={p}"));
            }
        }
        RESCHEDULE => {
            query.push(format!(
                "reschedule={}",
                record.path_params.get("appointment_id")?
            ));
        }
        _ => return None,
    }
    Some(format!(
        "/facility/{fid}/appointments/book?{}",
        query.join("&")
    ))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::offline::outbox::{engine, registry};

    fn rec(id: &str, key: &str, params: &[(&str, &str)], payload: Value) -> OutboxRecord {
        let params: BTreeMap<String, String> = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        OutboxRecord::new(
            id.into(),
            "u".into(),
            "d".into(),
            registry::route(key).expect("route"),
            params,
            payload,
            1,
        )
    }

    #[test]
    fn a_booking_made_offline_for_a_patient_registered_offline_is_sent_with_real_ids() {
        let mut booking = rec(
            "w2",
            CREATE,
            &[
                ("facility_id", "f"),
                ("slot_id", "s1"),
                ("practitioner_id", "doc"),
            ],
            json!({"patient": "tmp-p", "note": "fever"}),
        );
        booking.temp_id = Some("tmp-b".into());
        let mut check_in = rec(
            "w3",
            UPDATE,
            &[("facility_id", "f"), ("appointment_id", "tmp-b")],
            json!({"status": "checked_in", "note": "fever"}),
        );
        check_in.parent_mutation_ids = vec!["w2".into()];
        let ids = [
            ("tmp-p".to_string(), "real-p".to_string()),
            ("tmp-b".to_string(), "real-b".to_string()),
        ]
        .into_iter()
        .collect();
        let p = engine::prepare(&booking, &ids).expect("prepare");
        assert_eq!(p.path, "/facility/f/slots/s1/create_appointment/");
        assert_eq!(p.body["patient"], "real-p");
        let c = engine::prepare(&check_in, &ids).expect("prepare");
        assert_eq!(c.path, "/facility/f/appointments/real-b/");
        assert_eq!(
            c.current_path.as_deref(),
            Some("/facility/f/appointments/real-b/")
        );
    }

    #[test]
    fn open_writes_take_and_free_slots() {
        let book = rec(
            "b",
            CREATE,
            &[("facility_id", "f"), ("slot_id", "s1")],
            json!({}),
        );
        let cancel = rec(
            "c",
            CANCEL,
            &[
                ("facility_id", "f"),
                ("appointment_id", "a"),
                ("slot_id", "s2"),
            ],
            json!({}),
        );
        let moved = rec(
            "r",
            RESCHEDULE,
            &[
                ("facility_id", "f"),
                ("appointment_id", "a2"),
                ("from_slot_id", "s3"),
            ],
            json!({"new_slot": "s4"}),
        );
        let mut synced = rec("x", CREATE, &[("slot_id", "s9")], json!({}));
        synced.sync_status = SyncStatus::Success;
        let changes = slot_changes(&[book, cancel, moved, synced]);
        let summary: Vec<(&str, i64)> = changes
            .iter()
            .map(|c| (c.slot_id.as_str(), c.delta))
            .collect();
        assert_eq!(summary, vec![("s1", 1), ("s2", -1), ("s3", -1), ("s4", 1)]);
    }

    #[test]
    fn open_writes_change_their_practitioner_s_days() {
        let book = rec(
            "b",
            CREATE,
            &[
                ("slot_id", "s1"),
                ("practitioner_id", "nurse"),
                ("day", "2026-11-23"),
            ],
            json!({}),
        );
        let other = rec(
            "o",
            CREATE,
            &[
                ("slot_id", "s7"),
                ("practitioner_id", "doctor"),
                ("day", "2026-11-23"),
            ],
            json!({}),
        );
        let moved = rec(
            "r",
            RESCHEDULE,
            &[
                ("from_slot_id", "s3"),
                ("practitioner_id", "nurse"),
                ("from_day", "2026-11-23"),
                ("day", "2026-11-25"),
            ],
            json!({"new_slot": "s4"}),
        );
        let cancel = rec(
            "c",
            CANCEL,
            &[
                ("slot_id", "s2"),
                ("practitioner_id", "nurse"),
                ("day", "2026-11-24"),
            ],
            json!({}),
        );
        let old = rec(
            "x",
            CREATE,
            &[("slot_id", "s9"), ("practitioner_id", "nurse")],
            json!({}),
        );
        let changes = stats_changes(&[book, other, moved, cancel, old], "nurse");
        let summary: Vec<(&str, &str, i64)> = changes
            .iter()
            .map(|(d, c)| (d.as_str(), c.write_id.as_str(), c.delta))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("2026-11-23", "b", 1),
                ("2026-11-23", "r", -1),
                ("2026-11-25", "r", 1),
                ("2026-11-24", "c", -1)
            ]
        );
    }

    #[test]
    fn open_writes_name_the_bookings_they_change() {
        let mut book = rec(
            "b",
            CREATE,
            &[("facility_id", "f"), ("slot_id", "s1")],
            json!({}),
        );
        book.temp_id = Some("tmp".into());
        let status = rec(
            "u",
            UPDATE,
            &[("facility_id", "f"), ("appointment_id", "a1")],
            json!({}),
        );
        let mut moved = rec(
            "r",
            RESCHEDULE,
            &[("facility_id", "f"), ("appointment_id", "a2")],
            json!({}),
        );
        moved.temp_id = Some("tmp2".into());
        let mut done = rec(
            "d",
            CANCEL,
            &[("facility_id", "f"), ("appointment_id", "a3")],
            json!({}),
        );
        done.sync_status = SyncStatus::Success;
        assert_eq!(
            open_booking_ids(&[book, status, moved, done]),
            vec!["tmp", "a1", "tmp2", "a2"]
        );
    }

    #[test]
    fn a_refused_booking_offers_another_slot_for_the_same_patient() {
        let mut r = rec(
            "w1",
            CREATE,
            &[
                ("facility_id", "f"),
                ("slot_id", "s1"),
                ("practitioner_id", "doc"),
            ],
            json!({"patient": "p1", "note": "x"}),
        );
        assert_eq!(choose_another_slot(&r), None, "only once it failed");
        r.sync_status = SyncStatus::Failed;
        assert_eq!(
            choose_another_slot(&r).as_deref(),
            Some("/facility/f/appointments/book?replace=w1&patient=p1&practitioner=doc")
        );
        let mut moved = rec(
            "w2",
            RESCHEDULE,
            &[("facility_id", "f"), ("appointment_id", "a")],
            json!({}),
        );
        moved.sync_status = SyncStatus::Failed;
        assert_eq!(
            choose_another_slot(&moved).as_deref(),
            Some("/facility/f/appointments/book?replace=w2&reschedule=a")
        );
        let mut status = rec(
            "w3",
            UPDATE,
            &[("facility_id", "f"), ("appointment_id", "a")],
            json!({}),
        );
        status.sync_status = SyncStatus::Failed;
        assert_eq!(choose_another_slot(&status), None);
    }

    #[test]
    fn a_normalized_booking_has_the_read_shape() {
        let slot = json!({"id": "s1", "allocated": 1, "_pending_writes": ["w"], "start_datetime": "2026-11-23T08:30:00Z"});
        let b = normalize_booking(&NewBooking {
            temp_id: "tmp",
            slot: &slot,
            patient: &json!({"id": "p", "name": "Asha", "gender": "female"}),
            practitioner: &json!({"id": "doc", "username": "care-doctor"}),
            facility_id: "f",
            facility_name: "Demo",
            note: "fever",
            booked_by: &json!({"id": "u"}),
            now_iso: "2026-11-20T00:00:00.000000Z",
        });
        let parsed: crate::model::Appointment = serde_json::from_value(b.clone()).expect("shape");
        assert_eq!(parsed.status, "booked");
        assert_eq!(parsed.patient.name, "Asha");
        assert_eq!(parsed.resource.id, "doc");
        assert!(b["token_slot"].get("_pending_writes").is_none());
    }
}
