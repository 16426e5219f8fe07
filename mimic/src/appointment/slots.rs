//! Slots: materialised lazily from the schedules, per day (care-api.md §8).

use super::*;

/// One slot a schedule offers on a day (before it is stored).
pub(super) struct PlannedSlot {
    availability_id: String,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    tokens_per_slot: i64,
}

/// The appointment slots the resource's schedules offer on `day` (IST), in time order.
pub(super) fn planned_slots(
    conn: &Connection,
    fid: &str,
    resource_type: &str,
    resource_id: &str,
    day: NaiveDate,
) -> Result<Vec<PlannedSlot>, CareError> {
    type Row = (String, String, String, Option<i64>, Option<i64>, String);
    let rows: Vec<Row> = conn
        .prepare(
            "SELECT s.valid_from, s.valid_to, a.id, a.slot_size_in_minutes, a.tokens_per_slot, a.availability
             FROM availability a JOIN schedule s ON s.id = a.schedule_id
             WHERE s.facility_id = ?1 AND s.resource_type = ?2 AND s.resource_id = ?3
               AND s.deleted = 0 AND a.slot_type = 'appointment'
             ORDER BY a.seq",
        )?
        .query_map(params![fid, resource_type, resource_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
        })?
        .collect::<Result<_, _>>()?;
    let dow = i64::from(day.weekday().num_days_from_monday());
    let mut out = Vec::new();
    for (from, to, aid, size, tokens, avail) in rows {
        let (Some(from), Some(to)) = (parse_wall_datetime(&from), parse_wall_datetime(&to)) else {
            continue;
        };
        let from_day = from.with_timezone(&ist()).date_naive();
        let to_day = to.with_timezone(&ist()).date_naive();
        if day < from_day || day > to_day {
            continue;
        }
        let (Some(size), Some(tokens)) = (size.filter(|s| *s > 0), tokens) else {
            continue;
        };
        let days: Value = serde_json::from_str(&avail).unwrap_or_else(|_| json!([]));
        for d in days.as_array().into_iter().flatten() {
            if d["day_of_week"].as_i64() != Some(dow) {
                continue;
            }
            let (Some(start), Some(end)) = (
                d["start_time"].as_str().and_then(parse_time),
                d["end_time"].as_str().and_then(parse_time),
            ) else {
                continue;
            };
            let mut t = day.and_time(start);
            let end = day.and_time(end);
            while t + Duration::minutes(size) <= end {
                let next = t + Duration::minutes(size);
                if let (Some(s), Some(e)) = (
                    ist().from_local_datetime(&t).single(),
                    ist().from_local_datetime(&next).single(),
                ) {
                    out.push(PlannedSlot {
                        availability_id: aid.clone(),
                        start: s.with_timezone(&Utc),
                        end: e.with_timezone(&Utc),
                        tokens_per_slot: tokens,
                    });
                }
                t = next;
            }
        }
    }
    out.sort_by_key(|s| s.start);
    Ok(out)
}

/// The body shared by the slot endpoints: resource_type, resource_id.
pub(super) fn resource_args(c: &mut Checker<'_>) -> (Option<String>, Option<String>) {
    let resource_type = match c.opt_enum("resource_type", RESOURCE_TYPES) {
        Field::Set(r) => Some(r),
        Field::Absent if c.has_errors() => None,
        _ => Some("practitioner".to_string()),
    };
    (resource_type, c.req_uuid("resource_id"))
}

pub(super) fn req_date(c: &mut Checker<'_>, field: &str) -> Option<NaiveDate> {
    if !c.body().contains_key(field) {
        c.missing(field);
        return None;
    }
    c.opt_date(field).value()
}

/// Stores the day's slots that are not stored yet (past ones are not created) and returns the
/// ids of the day's stored slots in time order.
pub fn materialise_day(
    conn: &Connection,
    fid: &str,
    resource_type: &str,
    resource_id: &str,
    day: NaiveDate,
) -> Result<Vec<String>, CareError> {
    let now = Utc::now();
    let mut ids = Vec::new();
    for slot in planned_slots(conn, fid, resource_type, resource_id, day)? {
        let start = slot_time(&slot.start);
        let existing: Option<String> = conn
            .query_row(
                "SELECT id FROM token_slot WHERE availability_id = ?1 AND start_datetime = ?2",
                params![slot.availability_id, start],
                |r| r.get(0),
            )
            .optional()?;
        match existing {
            Some(id) => ids.push(id),
            None if slot.start < now => {}
            None => {
                let id = uuid::Uuid::new_v4().to_string();
                conn.execute(
                    "INSERT INTO token_slot (id, availability_id, facility_id, resource_type, resource_id,
                                             start_datetime, end_datetime, allocated)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0)",
                    params![id, slot.availability_id, fid, resource_type, resource_id, start, slot_time(&slot.end)],
                )?;
                ids.push(id);
            }
        }
    }
    Ok(ids)
}

pub(super) async fn slots_for_day(
    State(care): State<Care>,
    user: AuthUser,
    Path(fid): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, CareError> {
    let body = json_object(&body)?;
    let mut c = Checker::new(&body);
    let (resource_type, resource_id) = resource_args(&mut c);
    let day = req_date(&mut c, "day");
    c.finish()?;
    let (Some(resource_type), Some(resource_id), Some(day)) = (resource_type, resource_id, day)
    else {
        return Err(CareError::Internal("validated fields missing".into()));
    };
    care.db
        .with(|conn| {
            ensure_member(conn, &fid, &user)?;
            let tx = conn.savepoint()?;
            let ids = materialise_day(&tx, &fid, &resource_type, &resource_id, day)?;
            tx.commit()?;
            let results = ids
                .iter()
                .map(|id| slot_json(conn, id))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Json(json!({ "results": results })))
        })
        .await
}

pub(super) async fn availability_stats(
    State(care): State<Care>,
    user: AuthUser,
    Path(fid): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, CareError> {
    let body = json_object(&body)?;
    let mut c = Checker::new(&body);
    let from = req_date(&mut c, "from_date");
    let to = req_date(&mut c, "to_date");
    let (resource_type, resource_id) = resource_args(&mut c);
    if let (Some(f), Some(t)) = (from, to) {
        if t < f {
            c.value_error(
                &[],
                "From Date cannot be after To Date",
                Value::Object(body.clone()),
            );
        } else if (t - f).num_days() > 32 {
            c.value_error(
                &[],
                "Period cannot be be more than 32 days",
                Value::Object(body.clone()),
            );
        }
    }
    c.finish()?;
    let (Some(from), Some(to), Some(resource_type), Some(resource_id)) =
        (from, to, resource_type, resource_id)
    else {
        return Err(CareError::Internal("validated fields missing".into()));
    };
    care.db.with(|conn| {
        ensure_member(conn, &fid, &user)?;
        let mut out = serde_json::Map::new();
        let mut day = from;
        while day <= to {
            let slots = planned_slots(conn, &fid, &resource_type, &resource_id, day)?;
            let total: i64 = slots.iter().map(|s| s.tokens_per_slot).sum();
            let mut booked = 0i64;
            for s in &slots {
                let allocated: Option<i64> = conn
                    .query_row(
                        "SELECT allocated FROM token_slot WHERE availability_id = ?1 AND start_datetime = ?2",
                        params![s.availability_id, slot_time(&s.start)],
                        |r| r.get(0),
                    )
                    .optional()?;
                booked += allocated.unwrap_or(0);
            }
            out.insert(
                day.to_string(),
                json!({"total_slots": total, "booked_slots": booked}),
            );
            match day.succ_opt() {
                Some(next) => day = next,
                None => break,
            }
        }
        Ok(Json(Value::Object(out)))
    }).await
}
