//! Bookings: create, retrieve, update, cancel, reschedule and list (care-api.md §8).

use super::*;

/// Books `patient` into `slot` (CARE's checks, in CARE's order) and returns the booking id.
pub fn book(
    conn: &Connection,
    slot: &str,
    patient_id: &str,
    note: &str,
    user_id: &str,
) -> Result<String, CareError> {
    let (start, allocated, tokens): (String, i64, Option<i64>) = conn
        .query_row(
            "SELECT t.start_datetime, t.allocated, a.tokens_per_slot FROM token_slot t
             JOIN availability a ON a.id = t.availability_id WHERE t.id = ?1",
            params![slot],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?
        .ok_or(CareError::NotFound("TokenSlot"))?;
    patient::load(conn, patient_id)?;
    if parse_slot_time(&start).is_some_and(|s| s < Utc::now()) {
        return Err(CareError::Validation("Slot is already past".into()));
    }
    if allocated >= tokens.unwrap_or(0) {
        return Err(CareError::Validation("Slot is already full".into()));
    }
    let cancelled = sql_list(CANCELLED);
    let duplicate: bool = conn.query_row(
        &format!(
            "SELECT EXISTS(SELECT 1 FROM token_booking WHERE token_slot_id = ?1 AND patient_id = ?2
             AND status NOT IN ({cancelled}))"
        ),
        params![slot, patient_id],
        |r| r.get(0),
    )?;
    if duplicate {
        return Err(CareError::Validation(
            "Patient already has a booking for this slot".into(),
        ));
    }
    let future: i64 = conn.query_row(
        &format!(
            "SELECT COUNT(*) FROM token_booking b JOIN token_slot t ON t.id = b.token_slot_id
             WHERE b.patient_id = ?1 AND b.status NOT IN ({cancelled}) AND t.start_datetime >= ?2"
        ),
        params![patient_id, slot_time(&Utc::now())],
        |r| r.get(0),
    )?;
    if future >= MAX_APPOINTMENTS_PER_PATIENT {
        return Err(CareError::Validation(format!(
            "Patient already has maximum number of appointments ({MAX_APPOINTMENTS_PER_PATIENT})"
        )));
    }
    let id = uuid::Uuid::new_v4().to_string();
    let now = now_iso();
    conn.execute(
        "INSERT INTO token_booking (id, token_slot_id, patient_id, booked_on, booked_by_id, status, note,
                                    created_by_id, updated_by_id, created_date, modified_date)
         VALUES (?1, ?2, ?3, ?4, ?5, 'booked', ?6, ?5, ?5, ?4, ?4)",
        params![id, slot, patient_id, now, user_id, note],
    )?;
    conn.execute(
        "UPDATE token_slot SET allocated = allocated + 1 WHERE id = ?1",
        params![slot],
    )?;
    Ok(id)
}

pub(super) fn require_write(user: &AuthUser) -> Result<(), CareError> {
    if user.can("can_write_booking") {
        Ok(())
    } else {
        Err(CareError::Forbidden(
            "You do not have permission to update bookings".into(),
        ))
    }
}

pub(super) async fn create_appointment(
    State(care): State<Care>,
    user: AuthUser,
    Path((fid, slot)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, CareError> {
    let body = json_object(&body)?;
    let mut c = Checker::new(&body);
    let patient_id = c.req_uuid("patient");
    let note = c.req_str("note", None);
    let _tags = c.uuid_list("tags");
    c.finish()?;
    let (Some(patient_id), Some(note)) = (patient_id, note) else {
        return Err(CareError::Internal("validated fields missing".into()));
    };
    care.db
        .with(|conn| {
            ensure_member(conn, &fid, &user)?;
            require_write(&user)?;
            let in_facility: bool = conn.query_row(
                "SELECT EXISTS(SELECT 1 FROM token_slot WHERE id = ?1 AND facility_id = ?2)",
                params![slot, fid],
                |r| r.get(0),
            )?;
            if !in_facility {
                return Err(CareError::NotFound("TokenSlot"));
            }
            let tx = conn.savepoint()?;
            let id = book(&tx, &slot, &patient_id, &note, &user.id)?;
            tx.commit()?;
            Ok(Json(booking_json(conn, &id)?))
        })
        .await
}

/// The booking, which must belong to the facility.
pub(super) fn load_booking(
    conn: &Connection,
    fid: &str,
    id: &str,
) -> Result<(String, String), CareError> {
    conn.query_row(
        "SELECT b.status, b.token_slot_id FROM token_booking b JOIN token_slot t ON t.id = b.token_slot_id
         WHERE b.id = ?1 AND t.facility_id = ?2",
        params![id, fid],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()?
    .ok_or(CareError::NotFound("TokenBooking"))
}

pub(super) async fn retrieve_appointment(
    State(care): State<Care>,
    user: AuthUser,
    Path((fid, id)): Path<(String, String)>,
) -> Result<Json<Value>, CareError> {
    care.db
        .with(|conn| {
            ensure_member(conn, &fid, &user)?;
            load_booking(conn, &fid, &id)?;
            Ok(Json(booking_retrieve_json(conn, &id)?))
        })
        .await
}

pub(super) async fn update_appointment(
    State(care): State<Care>,
    user: AuthUser,
    Path((fid, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, CareError> {
    let body = json_object(&body)?;
    let mut c = Checker::new(&body);
    let status = c.req_enum("status", BOOKING_STATUSES);
    let note = c.req_str("note", None);
    c.finish()?;
    let (Some(status), Some(note)) = (status, note) else {
        return Err(CareError::Internal("validated fields missing".into()));
    };
    care.db.with(|conn| {
        ensure_member(conn, &fid, &user)?;
        load_booking(conn, &fid, &id)?;
        if CANCELLED.contains(&status.as_str()) {
            return Err(CareError::Validation("Cannot cancel a booking. Use the cancel endpoint".into()));
        }
        require_write(&user)?;
        conn.execute(
            "UPDATE token_booking SET status = ?1, note = ?2, updated_by_id = ?3, modified_date = ?4 WHERE id = ?5",
            params![status, note, user.id, now_iso(), id],
        )?;
        Ok(Json(booking_retrieve_json(conn, &id)?))
    }).await
}

/// Cancels (or marks rescheduled / entered in error) and frees the slot.
pub(super) fn release(
    conn: &Connection,
    id: &str,
    slot: &str,
    status: &str,
    note: Option<&str>,
    user_id: &str,
) -> Result<(), CareError> {
    conn.execute(
        "UPDATE token_booking SET status = ?1, note = COALESCE(?2, note), updated_by_id = ?3, modified_date = ?4
         WHERE id = ?5",
        params![status, note, user_id, now_iso(), id],
    )?;
    conn.execute(
        "UPDATE token_slot SET allocated = MAX(allocated - 1, 0) WHERE id = ?1",
        params![slot],
    )?;
    Ok(())
}

pub(super) async fn cancel(
    State(care): State<Care>,
    user: AuthUser,
    Path((fid, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, CareError> {
    let body = json_object(&body)?;
    let mut c = Checker::new(&body);
    let reason = c.req_enum("reason", CANCELLED);
    let note = c.opt_str("note", None).value();
    c.finish()?;
    let Some(reason) = reason else {
        return Err(CareError::Internal("validated fields missing".into()));
    };
    care.db
        .with(|conn| {
            ensure_member(conn, &fid, &user)?;
            let (status, slot) = load_booking(conn, &fid, &id)?;
            require_write(&user)?;
            if status == "in_consultation" {
                return Err(CareError::Validation(
                    "Cannot cancel a booking that is in consultation".into(),
                ));
            }
            if CANCELLED.contains(&status.as_str()) {
                return Err(CareError::Validation("Booking is already cancelled".into()));
            }
            release(conn, &id, &slot, &reason, note.as_deref(), &user.id)?;
            Ok(Json(booking_json(conn, &id)?))
        })
        .await
}

pub(super) async fn reschedule(
    State(care): State<Care>,
    user: AuthUser,
    Path((fid, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, CareError> {
    let body = json_object(&body)?;
    let mut c = Checker::new(&body);
    let new_slot = c.req_uuid("new_slot");
    let new_note = c.req_str("new_booking_note", None);
    let previous_note = c.opt_str("previous_booking_note", None).value();
    let _tags = c.uuid_list("tags");
    c.finish()?;
    let (Some(new_slot), Some(new_note)) = (new_slot, new_note) else {
        return Err(CareError::Internal("validated fields missing".into()));
    };
    care.db
        .with(|conn| {
            ensure_member(conn, &fid, &user)?;
            let (status, slot) = load_booking(conn, &fid, &id)?;
            if !user.can("can_reschedule_booking") {
                return Err(CareError::Forbidden(
                    "You do not have permission to reschedule bookings".into(),
                ));
            }
            if CANCELLED.contains(&status.as_str())
                || status == "in_consultation"
                || status == "fulfilled"
            {
                return Err(CareError::Validation(
                    "Cannot reschedule this booking".into(),
                ));
            }
            let patient_id: String = conn.query_row(
                "SELECT patient_id FROM token_booking WHERE id = ?1",
                params![id],
                |r| r.get(0),
            )?;
            let in_facility: bool = conn.query_row(
                "SELECT EXISTS(SELECT 1 FROM token_slot WHERE id = ?1 AND facility_id = ?2)",
                params![new_slot, fid],
                |r| r.get(0),
            )?;
            if !in_facility {
                return Err(CareError::NotFound("TokenSlot"));
            }
            let tx = conn.savepoint()?;
            release(
                &tx,
                &id,
                &slot,
                "rescheduled",
                previous_note.as_deref(),
                &user.id,
            )?;
            let new_id = book(&tx, &new_slot, &patient_id, &new_note, &user.id)?;
            tx.commit()?;
            Ok(Json(booking_json(conn, &new_id)?))
        })
        .await
}

#[derive(Debug, Deserialize)]
pub(super) struct BookingParams {
    resource_type: Option<String>,
    resource_ids: Option<String>,
    status: Option<String>,
    date_after: Option<String>,
    date_before: Option<String>,
    slot: Option<String>,
    patient: Option<String>,
    ordering: Option<String>,
    #[allow(dead_code)]
    organization_ids: Option<String>,
    #[serde(flatten)]
    page: Page,
}

/// Filtered, ordered, paginated bookings (`fid`/`patient_scope` narrow the set).
pub(super) fn booking_page(
    conn: &Connection,
    fid: Option<&str>,
    patient_scope: Option<&str>,
    p: &BookingParams,
) -> Result<Value, CareError> {
    let mut filter = String::from(" WHERE 1=1");
    let mut args: Vec<String> = Vec::new();
    let nonempty = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
    let add = |filter: &mut String, args: &mut Vec<String>, sql: &str, v: String| {
        args.push(v);
        *filter += &sql.replace("?#", &format!("?{}", args.len()));
    };
    if let Some(f) = fid {
        add(
            &mut filter,
            &mut args,
            " AND t.facility_id = ?#",
            f.to_string(),
        );
    }
    if let Some(pid) = patient_scope
        .map(String::from)
        .or_else(|| nonempty(&p.patient))
    {
        add(&mut filter, &mut args, " AND b.patient_id = ?#", pid);
    }
    if let Some(rt) = nonempty(&p.resource_type) {
        add(&mut filter, &mut args, " AND t.resource_type = ?#", rt);
    }
    for (column, list) in [
        ("t.resource_id", nonempty(&p.resource_ids)),
        ("b.status", nonempty(&p.status)),
    ] {
        if let Some(list) = list {
            let mut marks = Vec::new();
            for item in list.split(',').filter(|s| !s.is_empty()) {
                args.push(item.to_string());
                marks.push(format!("?{}", args.len()));
            }
            if !marks.is_empty() {
                filter += &format!(" AND {column} IN ({})", marks.join(","));
            }
        }
    }
    if let Some(slot) = nonempty(&p.slot) {
        add(&mut filter, &mut args, " AND b.token_slot_id = ?#", slot);
    }
    // Dates are IST calendar days of the slot start.
    let day_start = |d: &str, plus: i64| -> Option<String> {
        let day = NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()? + Duration::days(plus);
        let local = ist()
            .from_local_datetime(&day.and_hms_opt(0, 0, 0)?)
            .single()?;
        Some(slot_time(&local.with_timezone(&Utc)))
    };
    if let Some(after) = nonempty(&p.date_after).and_then(|d| day_start(&d, 0)) {
        add(&mut filter, &mut args, " AND t.start_datetime >= ?#", after);
    }
    if let Some(before) = nonempty(&p.date_before).and_then(|d| day_start(&d, 1)) {
        add(&mut filter, &mut args, " AND t.start_datetime < ?#", before);
    }
    let order = match p.ordering.as_deref() {
        Some("token_slot__start_datetime") => "t.start_datetime ASC, b.seq ASC",
        Some("-token_slot__start_datetime") => "t.start_datetime DESC, b.seq DESC",
        Some("created_date") => "b.created_date ASC, b.seq ASC",
        _ => "b.created_date DESC, b.seq DESC",
    };
    let from = " FROM token_booking b JOIN token_slot t ON t.id = b.token_slot_id";
    let count: i64 = conn.query_row(
        &format!("SELECT COUNT(*){from}{filter}"),
        rusqlite::params_from_iter(args.iter()),
        |r| r.get(0),
    )?;
    let ids: Vec<String> = conn
        .prepare(&format!(
            "SELECT b.id{from}{filter} ORDER BY {order} LIMIT {} OFFSET {}",
            p.page.limit(),
            p.page.offset()
        ))?
        .query_map(rusqlite::params_from_iter(args.iter()), |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let results = ids
        .iter()
        .map(|id| booking_json(conn, id))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(json!({"count": count, "results": results}))
}

pub(super) async fn list_appointments(
    State(care): State<Care>,
    user: AuthUser,
    Path(fid): Path<String>,
    Query(p): Query<BookingParams>,
) -> Result<Json<Value>, CareError> {
    if p.resource_type.as_deref().is_none_or(str::is_empty) {
        return Err(CareError::Validation("Resource Type is required".into()));
    }
    care.db
        .with(|conn| {
            ensure_member(conn, &fid, &user)?;
            Ok(Json(booking_page(conn, Some(&fid), None, &p)?))
        })
        .await
}

pub(super) async fn patient_appointments(
    State(care): State<Care>,
    user: AuthUser,
    Path(id): Path<String>,
    Query(mut p): Query<BookingParams>,
) -> Result<Json<Value>, CareError> {
    care.db
        .with(|conn| {
            patient::load_visible(conn, &user, &id)?;
            p.patient = None;
            Ok(Json(booking_page(conn, None, Some(&id), &p)?))
        })
        .await
}

pub(super) async fn available_users(
    State(care): State<Care>,
    user: AuthUser,
    Path(fid): Path<String>,
) -> Result<Json<Value>, CareError> {
    care.db.with(|conn| {
        ensure_member(conn, &fid, &user)?;
        let ids: Vec<String> = conn
            .prepare(
                "SELECT u.id FROM user u JOIN facility_user fu ON fu.user_id = u.id
                 WHERE fu.facility_id = ?1 AND u.deleted = 0 AND EXISTS(
                   SELECT 1 FROM schedule s WHERE s.facility_id = ?1 AND s.resource_type = 'practitioner'
                   AND s.resource_id = u.id AND s.deleted = 0)
                 ORDER BY u.username",
            )?
            .query_map(params![fid], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let users = ids
            .iter()
            .map(|u| user_spec(conn, u, false))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Json(json!({ "users": users })))
    }).await
}

/// A booking as its retrieve answers it: with the encounter it led to (`{}` when none).
pub(super) fn booking_retrieve_json(conn: &Connection, id: &str) -> Result<Value, CareError> {
    let mut out = booking_json(conn, id)?;
    out["associated_encounter"] = crate::encounter::for_appointment(conn, id)?;
    Ok(out)
}
