//! Schedules: a resource's availabilities (care-api.md §8).

use super::*;

/// A schedule's `valid_from`/`valid_to`: naive wall-time (IST) or aware.
pub(super) fn parse_wall_datetime(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M"))
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })?;
    ist()
        .from_local_datetime(&naive)
        .single()
        .map(|d| d.with_timezone(&Utc))
}

pub(super) fn parse_time(s: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(s, "%H:%M:%S")
        .or_else(|_| NaiveTime::parse_from_str(s, "%H:%M"))
        .ok()
}

pub(super) fn schedule_json(conn: &Connection, id: &str) -> Result<Value, CareError> {
    type Row = (
        String,
        String,
        String,
        String,
        Option<String>,
        Option<String>,
    );
    let (id, name, valid_from, valid_to, created_by, updated_by): Row = conn
        .query_row(
            "SELECT id, name, valid_from, valid_to, created_by_id, updated_by_id FROM schedule
             WHERE id = ?1 AND deleted = 0",
            params![id],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            },
        )
        .optional()?
        .ok_or(CareError::NotFound("Schedule"))?;
    type ARow = (
        String,
        String,
        String,
        Option<i64>,
        Option<i64>,
        Option<String>,
        String,
    );
    let availabilities: Vec<ARow> = conn
        .prepare(
            "SELECT id, name, slot_type, slot_size_in_minutes, tokens_per_slot, reason, availability
             FROM availability WHERE schedule_id = ?1 ORDER BY seq",
        )?
        .query_map(params![id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
        })?
        .collect::<Result<_, _>>()?;
    let by = |u: &Option<String>| -> Result<Value, CareError> {
        match u {
            Some(u) => user_spec(conn, u, true),
            None => Ok(Value::Null),
        }
    };
    Ok(json!({
        "id": id,
        "name": name,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "availabilities": availabilities.into_iter().map(|(aid, name, slot_type, size, tokens, reason, avail)| json!({
            "meta": {},
            "id": aid,
            "name": name,
            "slot_type": slot_type,
            "slot_size_in_minutes": size,
            "tokens_per_slot": tokens,
            "create_tokens": false,
            "reason": reason,
            "availability": serde_json::from_str::<Value>(&avail).unwrap_or_else(|_| json!([])),
        })).collect::<Vec<_>>(),
        "charge_item_definition": null,
        "revisit_allowed_days": null,
        "revisit_charge_item_definition": null,
        "created_by": by(&created_by)?,
        "updated_by": by(&updated_by)?,
    }))
}

/// A validated availability: (name, slot_type, size, tokens, reason, [(dow, start, end)]).
pub(super) type AvailabilityInput = (
    String,
    String,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Value,
);

pub(super) fn parse_availabilities(c: &mut Checker<'_>) -> Vec<AvailabilityInput> {
    let raw = c.body().get("availabilities").cloned();
    let items = match raw {
        None => {
            c.missing("availabilities");
            return Vec::new();
        }
        Some(Value::Array(items)) => items,
        Some(other) => {
            c.error(
                "list_type",
                &["availabilities"],
                "Input should be a valid list",
                other,
                None,
            );
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let idx = i.to_string();
        let Value::Object(obj) = item else {
            c.error(
                "model_type",
                &["availabilities", &idx],
                "Input should be a valid dictionary or instance of AvailabilityBaseSpec",
                item.clone(),
                Some(json!({"class_name": "AvailabilityBaseSpec"})),
            );
            continue;
        };
        let name = match obj.get("name") {
            Some(Value::String(s)) => Some(s.clone()),
            other => {
                let (kind, msg) = match other {
                    None => ("missing", "Field required"),
                    Some(_) => ("string_type", "Input should be a valid string"),
                };
                c.error(
                    kind,
                    &["availabilities", &idx, "name"],
                    msg,
                    other.cloned().unwrap_or_else(|| item.clone()),
                    None,
                );
                None
            }
        };
        let slot_type = match obj.get("slot_type") {
            Some(v) => c.enum_value(&["availabilities", &idx, "slot_type"], v, SLOT_TYPES),
            None => {
                c.error(
                    "missing",
                    &["availabilities", &idx, "slot_type"],
                    "Field required",
                    item.clone(),
                    None,
                );
                None
            }
        };
        let int_field = |c: &mut Checker<'_>, key: &str| -> Option<i64> {
            match obj.get(key) {
                None | Some(Value::Null) => None,
                Some(v) => c.int_value(&["availabilities", &idx, key], v),
            }
        };
        let size = int_field(c, "slot_size_in_minutes");
        let tokens = int_field(c, "tokens_per_slot");
        let reason = obj
            .get("reason")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(String::from);
        let mut days = Vec::new();
        match obj.get("availability") {
            Some(Value::Array(list)) => {
                for (j, d) in list.iter().enumerate() {
                    let jdx = j.to_string();
                    let path = ["availabilities", idx.as_str(), "availability", jdx.as_str()];
                    let dow = d
                        .get("day_of_week")
                        .and_then(Value::as_i64)
                        .filter(|d| (0..=6).contains(d));
                    let start = d
                        .get("start_time")
                        .and_then(Value::as_str)
                        .and_then(parse_time);
                    let end = d
                        .get("end_time")
                        .and_then(Value::as_str)
                        .and_then(parse_time);
                    match (dow, start, end) {
                        (Some(dow), Some(start), Some(end)) if start < end => days.push(json!({
                            "end_time": end.format("%H:%M:%S").to_string(),
                            "start_time": start.format("%H:%M:%S").to_string(),
                            "day_of_week": dow,
                        })),
                        (Some(_), Some(_), Some(_)) => {
                            c.value_error(&path, "Start time must be earlier than end time", d.clone())
                        }
                        _ => c.value_error(&path, "Invalid availability: day_of_week 0-6, start_time and end_time HH:MM:SS are required", d.clone()),
                    }
                }
            }
            _ => c.error(
                "missing",
                &["availabilities", &idx, "availability"],
                "Field required",
                item.clone(),
                None,
            ),
        }
        if slot_type.as_deref() == Some("appointment")
            && (size.unwrap_or(0) <= 0 || tokens.unwrap_or(0) <= 0)
        {
            c.value_error(
                &["availabilities", &idx],
                "Slot size and tokens per slot must be positive for appointment slots",
                item.clone(),
            );
        }
        if let (Some(name), Some(slot_type)) = (name, slot_type) {
            out.push((name, slot_type, size, tokens, reason, Value::Array(days)));
        }
    }
    out
}

pub(super) async fn create_schedule(
    State(care): State<Care>,
    user: AuthUser,
    Path(fid): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, CareError> {
    let body = json_object(&body)?;
    care.db
        .with(|conn| {
            ensure_member(conn, &fid, &user)?;
            let mut c = Checker::new(&body);
            let name = c.req_str("name", None);
            let valid_from = c.req_str("valid_from", None);
            let valid_to = c.req_str("valid_to", None);
            let resource_type = match c.opt_enum("resource_type", RESOURCE_TYPES) {
                Field::Set(r) => r,
                _ => "practitioner".to_string(),
            };
            let resource_id = c.req_uuid("resource_id");
            let availabilities = parse_availabilities(&mut c);
            let from = valid_from.as_deref().and_then(parse_wall_datetime);
            let to = valid_to.as_deref().and_then(parse_wall_datetime);
            if valid_from.is_some() && from.is_none() {
                c.value_error(&["valid_from"], "Invalid datetime", json!(valid_from));
            }
            if valid_to.is_some() && to.is_none() {
                c.value_error(&["valid_to"], "Invalid datetime", json!(valid_to));
            }
            if let (Some(f), Some(t)) = (from, to) {
                if f > t {
                    c.value_error(
                        &[],
                        "Valid from cannot be greater than valid to",
                        Value::Object(body.clone()),
                    );
                }
            }
            c.finish()?;
            let (Some(name), Some(valid_from), Some(valid_to), Some(resource_id)) =
                (name, valid_from, valid_to, resource_id)
            else {
                return Err(CareError::Internal("validated fields missing".into()));
            };
            if !user.can("can_write_schedule") {
                return Err(CareError::Forbidden(
                    "You do not have permission to create schedule".into(),
                ));
            }
            let is_member: bool = conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM facility_user WHERE facility_id = ?1 AND user_id = ?2)",
            params![fid, resource_id],
            |r| r.get(0),
        )?;
            if resource_type == "practitioner" && !is_member {
                return Err(CareError::NotFound("User"));
            }
            let id = insert_schedule(
                conn,
                &ScheduleInput {
                    id: uuid::Uuid::new_v4().to_string(),
                    facility_id: fid,
                    name,
                    valid_from,
                    valid_to,
                    resource_type,
                    resource_id,
                    availabilities: availabilities
                        .into_iter()
                        .map(|a| (uuid::Uuid::new_v4().to_string(), a))
                        .collect(),
                },
                &user.id,
            )?;
            Ok(Json(schedule_json(conn, &id)?))
        })
        .await
}

pub struct ScheduleInput {
    pub id: String,
    pub facility_id: String,
    pub name: String,
    pub valid_from: String,
    pub valid_to: String,
    pub resource_type: String,
    pub resource_id: String,
    pub availabilities: Vec<(String, AvailabilityInput)>,
}

/// Writes a schedule with its availabilities (also used by the demo seed).
pub fn insert_schedule(
    conn: &Connection,
    s: &ScheduleInput,
    user_id: &str,
) -> Result<String, CareError> {
    let now = now_iso();
    conn.execute(
        "INSERT INTO schedule (id, facility_id, name, valid_from, valid_to, resource_type, resource_id,
                               created_by_id, updated_by_id, created_date, modified_date)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?9)",
        params![s.id, s.facility_id, s.name, s.valid_from, s.valid_to, s.resource_type, s.resource_id, user_id, now],
    )?;
    for (aid, (name, slot_type, size, tokens, reason, days)) in &s.availabilities {
        conn.execute(
            "INSERT INTO availability (id, schedule_id, name, slot_type, slot_size_in_minutes,
                                       tokens_per_slot, reason, availability)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                aid,
                s.id,
                name,
                slot_type,
                size,
                tokens,
                reason,
                days.to_string()
            ],
        )?;
    }
    Ok(s.id.clone())
}

#[derive(Debug, Deserialize)]
pub(super) struct ScheduleParams {
    resource_type: Option<String>,
    resource_id: Option<String>,
    #[serde(flatten)]
    page: Page,
}

pub(super) async fn list_schedules(
    State(care): State<Care>,
    user: AuthUser,
    Path(fid): Path<String>,
    Query(p): Query<ScheduleParams>,
) -> Result<Json<Value>, CareError> {
    care.db
        .with(|conn| {
            ensure_member(conn, &fid, &user)?;
            let ids: Vec<String> = conn
                .prepare(
                    "SELECT id FROM schedule WHERE facility_id = ?1 AND deleted = 0
                 AND (?2 IS NULL OR resource_type = ?2) AND (?3 IS NULL OR resource_id = ?3)
                 ORDER BY created_date DESC",
                )?
                .query_map(params![fid, p.resource_type, p.resource_id], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            let count = ids.len();
            let results = p
                .page
                .slice(ids)
                .iter()
                .map(|id| schedule_json(conn, id))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Json(json!({"count": count, "results": results})))
        })
        .await
}
