//! A booking (CARE's `TokenBooking`) as CARE renders it, its slot, and its link to an
//! encounter. Kept apart from the appointment endpoints so encounters can show their
//! booking without depending on them (the appointment endpoints add the encounter).

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Value};

use super::{error::CareError, patient, users::user_spec};

/// `{"id", "availability": {"name", "tokens_per_slot"}, "start_datetime", "end_datetime", "allocated"}`.
pub fn slot_json(conn: &Connection, id: &str) -> Result<Value, CareError> {
    conn.query_row(
        "SELECT t.id, a.name, a.tokens_per_slot, t.start_datetime, t.end_datetime, t.allocated
         FROM token_slot t JOIN availability a ON a.id = t.availability_id WHERE t.id = ?1",
        params![id],
        |r| {
            Ok(json!({
                "id": r.get::<_, String>(0)?,
                "availability": {"name": r.get::<_, String>(1)?, "tokens_per_slot": r.get::<_, Option<i64>>(2)?},
                "start_datetime": r.get::<_, String>(3)?,
                "end_datetime": r.get::<_, String>(4)?,
                "allocated": r.get::<_, i64>(5)?,
            }))
        },
    )
    .optional()?
    .ok_or(CareError::NotFound("TokenSlot"))
}

/// TokenBookingRead (the list shape; a retrieve adds `associated_encounter`).
pub fn booking_json(conn: &Connection, id: &str) -> Result<Value, CareError> {
    type Row = (
        String,
        String,
        String,
        String,
        Option<String>,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        String,
        String,
    );
    let (id, slot_id, patient_id, booked_on, booked_by, status, note, created_by, updated_by, created_date, modified_date): Row = conn
        .query_row(
            "SELECT id, token_slot_id, patient_id, booked_on, booked_by_id, status, note, created_by_id,
                    updated_by_id, created_date, modified_date
             FROM token_booking WHERE id = ?1",
            params![id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?, r.get(10)?)),
        )
        .optional()?
        .ok_or(CareError::NotFound("TokenBooking"))?;
    let (facility_id, resource_type, resource_id): (String, String, String) = conn.query_row(
        "SELECT facility_id, resource_type, resource_id FROM token_slot WHERE id = ?1",
        params![slot_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let p = patient::load(conn, &patient_id)?;
    let facility_name: String = conn.query_row(
        "SELECT name FROM facility WHERE id = ?1",
        params![facility_id],
        |r| r.get(0),
    )?;
    let by = |u: &Option<String>| -> Result<Value, CareError> {
        match u {
            Some(u) => user_spec(conn, u, true),
            None => Ok(Value::Null),
        }
    };
    let resource = if resource_type == "practitioner" {
        user_spec(conn, &resource_id, true)?
    } else {
        json!({"id": resource_id})
    };
    Ok(json!({
        "id": id,
        "token_slot": slot_json(conn, &slot_id)?,
        "patient": {
            "id": p.id,
            "name": p.name,
            "gender": p.gender,
            "phone_number": p.phone_number,
            "emergency_phone_number": p.emergency_phone_number,
            "address": p.address,
            "pincode": p.pincode,
            "date_of_birth": p.date_of_birth,
            "year_of_birth": p.year_of_birth,
            "geo_organization": {},
            "blood_group": p.blood_group,
        },
        "booked_on": booked_on,
        "booked_by": by(&booked_by)?,
        "status": status,
        "note": note,
        "resource_type": resource_type,
        "resource": resource,
        "facility": {"meta": {}, "id": facility_id, "name": facility_name},
        "created_by": by(&created_by)?,
        "updated_by": by(&updated_by)?,
        "created_date": created_date,
        "modified_date": modified_date,
        "token": null,
        "tags": [],
        "charge_item": null,
    }))
}

/// Links a booking to a new encounter (at most one encounter per booking).
pub fn associate_encounter(
    conn: &Connection,
    booking: &str,
    _encounter: &str,
) -> Result<(), CareError> {
    let exists: bool = conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM token_booking WHERE id = ?1)",
        params![booking],
        |r| r.get(0),
    )?;
    if !exists {
        return Err(CareError::NotFound("TokenBooking"));
    }
    let taken: bool = conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM encounter WHERE appointment_id = ?1 AND deleted = 0)",
        params![booking],
        |r| r.get(0),
    )?;
    if taken {
        return Err(CareError::Validation(
            "Encounter already has an associated booking".into(),
        ));
    }
    Ok(())
}
