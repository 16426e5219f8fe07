//! The appointment writes, queued through the outbox with their optimistic records (the
//! one writing path, online and offline).

use serde_json::{json, Value};

use super::cache::Draft;
use crate::{
    model::appointment::{local_date, slots::SlotChange},
    offline::{
        outbox::{
            now_iso,
            registry::appointment::{
                normalize_booking, NewBooking, CANCEL, CREATE, RESCHEDULE, UPDATE,
            },
            Outbox, WriteSpec,
        },
        query::QueryClient,
        store::StoreError,
    },
};

/// What the booking page collected.
pub struct Booking {
    pub facility_id: String,
    pub facility_name: String,
    /// The patient (retrieve or list shape).
    pub patient: Value,
    /// The practitioner's `UserSpec`.
    pub practitioner: Value,
    /// The slot as shown (from `get_slots_for_day`).
    pub slot: Value,
    /// The day the slots were listed for (`YYYY-MM-DD`, as the stats name it).
    pub day: String,
    pub note: String,
    /// The signed-in user's `UserSpec`.
    pub booked_by: Value,
    /// The refused write this booking replaces (discarded once this one is queued, so it
    /// is never its parent).
    pub replaces: Option<String>,
}

/// The unsynced writes `id` depends on, but never the write being replaced.
fn parents_of(outbox: Outbox, id: &str, replaces: Option<&str>) -> Vec<String> {
    let mut parents = outbox.unsynced_writes_of(id);
    parents.retain(|p| Some(p.as_str()) != replaces);
    parents
}

/// "Asha K · Mon 23 Nov 2026 14:00" for the sync page.
fn summary(booking: &Value) -> Option<String> {
    let name = booking.pointer("/patient/name").and_then(Value::as_str)?;
    let when =
        crate::model::appointment::local_day_and_time(&text(booking, "/token_slot/start_datetime"))
            .map(|(d, t)| format!(" · {d} {t}"))
            .unwrap_or_default();
    Some(format!("{name}{when}"))
}

fn text(v: &Value, pointer: &str) -> String {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// The new booking as it will read, with its slot counting it.
fn new_booking(b: &Booking, temp_id: &str) -> Value {
    let mut slot = b.slot.clone();
    let allocated = slot.get("allocated").and_then(Value::as_i64).unwrap_or(0);
    slot["allocated"] = json!(allocated + 1);
    normalize_booking(&NewBooking {
        temp_id,
        slot: &slot,
        patient: &b.patient,
        practitioner: &b.practitioner,
        facility_id: &b.facility_id,
        facility_name: &b.facility_name,
        note: &b.note,
        booked_by: &b.booked_by,
        now_iso: &now_iso(),
    })
}

/// Books a slot; returns (write id, temporary booking id).
pub async fn queue_booking(
    outbox: Outbox,
    client: QueryClient,
    b: Booking,
) -> Result<(String, String), StoreError> {
    let write_id = uuid::Uuid::new_v4().to_string();
    let temp_id = uuid::Uuid::new_v4().to_string();
    let slot_id = text(&b.slot, "/id");
    let practitioner_id = text(&b.practitioner, "/id");
    let patient_id = text(&b.patient, "/id");
    let mut draft = Draft::new(client);
    draft.change_slot(
        &b.facility_id,
        &practitioner_id,
        &b.day,
        &SlotChange {
            write_id: write_id.clone(),
            slot_id: slot_id.clone(),
            delta: 1,
        },
    );
    let booking = new_booking(&b, &temp_id);
    draft.place_booking(&booking);
    outbox
        .queue(WriteSpec {
            id: Some(write_id.clone()),
            temp_id: Some(temp_id.clone()),
            summary: summary(&booking),
            // A patient registered offline a moment ago is sent first.
            parents: parents_of(outbox, &patient_id, b.replaces.as_deref()),
            optimistic: draft.into_records(),
            ..WriteSpec::new(CREATE, json!({"patient": patient_id, "note": b.note}))
                .param("facility_id", &b.facility_id)
                .param("slot_id", &slot_id)
                .param("practitioner_id", &practitioner_id)
                // Not in the path: the day lets the month heat-map count the booking
                // until it syncs.
                .param("day", &b.day)
        })
        .await?;
    Ok((write_id, temp_id))
}

/// Moves `current` (a booking) to another slot; returns (write id, temporary id of the new
/// booking).
pub async fn queue_reschedule(
    outbox: Outbox,
    client: QueryClient,
    current: &Value,
    b: Booking,
) -> Result<(String, String), StoreError> {
    let write_id = uuid::Uuid::new_v4().to_string();
    let temp_id = uuid::Uuid::new_v4().to_string();
    let old_id = text(current, "/id");
    let old_slot = text(current, "/token_slot/id");
    let new_slot = text(&b.slot, "/id");
    let practitioner_id = text(&b.practitioner, "/id");
    let mut draft = Draft::new(client);
    let from_day = local_date(&text(current, "/token_slot/start_datetime"));
    if let Some(day) = from_day {
        draft.change_slot(
            &b.facility_id,
            &practitioner_id,
            &day.to_string(),
            &SlotChange {
                write_id: write_id.clone(),
                slot_id: old_slot.clone(),
                delta: -1,
            },
        );
    }
    draft.change_slot(
        &b.facility_id,
        &practitioner_id,
        &b.day,
        &SlotChange {
            write_id: write_id.clone(),
            slot_id: new_slot.clone(),
            delta: 1,
        },
    );
    let mut old = current.clone();
    old["status"] = json!("rescheduled");
    draft.place_booking(&old);
    let booking = new_booking(&b, &temp_id);
    draft.place_booking(&booking);
    outbox
        .queue(WriteSpec {
            id: Some(write_id.clone()),
            temp_id: Some(temp_id.clone()),
            summary: summary(&booking),
            parents: parents_of(outbox, &old_id, b.replaces.as_deref()),
            optimistic: draft.into_records(),
            ..WriteSpec::new(
                RESCHEDULE,
                json!({"new_slot": new_slot, "new_booking_note": b.note}),
            )
            .param("facility_id", &b.facility_id)
            .param("appointment_id", &old_id)
            .param("from_slot_id", &old_slot)
            .param("practitioner_id", &practitioner_id)
            .param("day", &b.day)
            .param(
                "from_day",
                &from_day.map(|d| d.to_string()).unwrap_or_default(),
            )
        })
        .await?;
    Ok((write_id, temp_id))
}

/// Changes a booking's status (check in, in consultation, fulfilled, no-show); returns
/// the write id. Based on the booking's `modified_date`, so a change made meanwhile by
/// someone else becomes a conflict, never an overwrite.
pub async fn queue_status(
    outbox: Outbox,
    client: QueryClient,
    facility_id: &str,
    current: &Value,
    status: &str,
) -> Result<String, StoreError> {
    let id = text(current, "/id");
    let note = text(current, "/note");
    let mut updated = current.clone();
    updated["status"] = json!(status);
    let mut draft = Draft::new(client);
    draft.place_booking(&updated);
    let server_timestamp = if outbox.is_local_only(&id) {
        None
    } else {
        current
            .get("modified_date")
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let record = outbox
        .queue(WriteSpec {
            parents: outbox.unsynced_writes_of(&id),
            optimistic: draft.into_records(),
            base_snapshot: Some(current.clone()),
            server_timestamp,
            summary: summary(current),
            ..WriteSpec::new(UPDATE, json!({"status": status, "note": note}))
                .param("facility_id", facility_id)
                .param("appointment_id", &id)
        })
        .await?;
    Ok(record.id)
}

/// Cancels a booking (`reason`: cancelled | entered_in_error); frees its slot at once.
pub async fn queue_cancel(
    outbox: Outbox,
    client: QueryClient,
    facility_id: &str,
    current: &Value,
    reason: &str,
) -> Result<String, StoreError> {
    let write_id = uuid::Uuid::new_v4().to_string();
    let id = text(current, "/id");
    let slot_id = text(current, "/token_slot/id");
    let mut updated = current.clone();
    updated["status"] = json!(reason);
    let mut draft = Draft::new(client);
    let practitioner_id = text(current, "/resource/id");
    let day = local_date(&text(current, "/token_slot/start_datetime"));
    if let Some(day) = day {
        draft.change_slot(
            facility_id,
            &practitioner_id,
            &day.to_string(),
            &SlotChange {
                write_id: write_id.clone(),
                slot_id: slot_id.clone(),
                delta: -1,
            },
        );
    }
    draft.place_booking(&updated);
    outbox
        .queue(WriteSpec {
            id: Some(write_id.clone()),
            summary: summary(current),
            parents: outbox.unsynced_writes_of(&id),
            optimistic: draft.into_records(),
            ..WriteSpec::new(CANCEL, json!({"reason": reason}))
                .param("facility_id", facility_id)
                .param("appointment_id", &id)
                .param("slot_id", &slot_id)
                .param("practitioner_id", &practitioner_id)
                .param("day", &day.map(|d| d.to_string()).unwrap_or_default())
        })
        .await?;
    Ok(write_id)
}

/// Drops a write for good (a refused booking the person replaced), and its booking from
/// the cached lists.
pub async fn discard(outbox: Outbox, client: QueryClient, write_id: &str) {
    let temp_id = outbox.record(write_id).and_then(|r| r.temp_id);
    #[cfg(feature = "hydrate")]
    outbox.discard(write_id).await;
    #[cfg(not(feature = "hydrate"))]
    let _ = (outbox, write_id);
    if let Some(temp) = temp_id {
        super::cache::forget_booking(&client, &temp);
    }
}
