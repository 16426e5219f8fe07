//! Workflow 1 and 3 writes: register and edit a patient, assign a user to a patient and
//! remove one, create a resource request.

use serde_json::{json, Value};

use super::{HttpMethod, Op, SyncRoute};
use crate::{
    model::identifier::{apply_to_record, FacilityIdentifierConfigs},
    offline::outbox::{OutboxRecord, SyncStatus, Undo},
};

pub const ADD_USER: &str = "patient.add_user";
pub const DELETE_USER: &str = "patient.delete_user";

pub const ROUTES: &[SyncRoute] = &[
    SyncRoute {
        key: "patient.create",
        op: Op::Create,
        resource_type: "patient",
        method: HttpMethod::Post,
        path: "/patient/",
        current: None,
        invalidates: &[&["patient"]],
        label: "Register patient",
    },
    SyncRoute {
        key: "patient.update",
        op: Op::Update,
        resource_type: "patient",
        method: HttpMethod::Put,
        path: "/patient/{patient_id}/",
        current: Some("/patient/{patient_id}/"),
        invalidates: &[&["patient"]],
        label: "Edit patient",
    },
    SyncRoute {
        key: ADD_USER,
        op: Op::Create,
        resource_type: "patient_user",
        method: HttpMethod::Post,
        path: "/patient/{patient_id}/add_user/",
        current: None,
        invalidates: &[&["patient", "users"]],
        label: "Assign user to patient",
    },
    // CARE answers `{}`; a second removal is a 400 "User does not exist".
    SyncRoute {
        key: DELETE_USER,
        op: Op::Delete,
        resource_type: "patient_user",
        method: HttpMethod::Post,
        path: "/patient/{patient_id}/delete_user/",
        current: None,
        invalidates: &[&["patient", "users"]],
        label: "Remove user from patient",
    },
    SyncRoute {
        key: "resource.create",
        op: Op::Create,
        resource_type: "resource",
        method: HttpMethod::Post,
        path: "/resource/",
        current: None,
        invalidates: &[&["resource"]],
        label: "Request resource",
    },
    SyncRoute {
        key: "resource.update",
        op: Op::Update,
        resource_type: "resource",
        method: HttpMethod::Put,
        path: "/resource/{resource_id}/",
        current: Some("/resource/{resource_id}/"),
        invalidates: &[&["resource"]],
        label: "Update resource request",
    },
    SyncRoute {
        key: "resource.comment",
        op: Op::Create,
        resource_type: "resource_comment",
        method: HttpMethod::Post,
        path: "/resource/{resource_id}/comment/",
        current: None,
        invalidates: &[&["resource", "comments"]],
        label: "Comment on resource request",
    },
];

/// A user's assignment to a patient that this device changed and the server has not
/// confirmed: the newest such write for that user.
#[derive(Debug, Clone, PartialEq)]
pub struct UserChange {
    pub write_id: String,
    pub user_id: String,
    /// True for an assignment, false for a removal.
    pub assigns: bool,
    pub status: SyncStatus,
    /// Who the user is (a removal's summary), for a user no longer listed.
    pub summary: Option<String>,
}

/// The unsynced assignment writes (add or remove) of patient `patient_id`, oldest first,
/// for `user_id` only when given.
fn user_writes<'a>(
    records: &'a [OutboxRecord],
    patient_id: &'a str,
    user_id: Option<&'a str>,
) -> impl Iterator<Item = &'a OutboxRecord> {
    let mut writes: Vec<&OutboxRecord> = records
        .iter()
        .filter(|w| w.sync_route_key == ADD_USER || w.sync_route_key == DELETE_USER)
        .filter(|w| w.sync_status != SyncStatus::Success)
        .filter(move |w| w.path_params.get("patient_id").map(String::as_str) == Some(patient_id))
        .filter(move |w| user_id.is_none_or(|u| user_of(w) == Some(u)))
        .collect();
    writes.sort_by(|a, b| {
        a.client_timestamp
            .cmp(&b.client_timestamp)
            .then_with(|| a.id.cmp(&b.id))
    });
    writes.into_iter()
}

fn user_of(w: &OutboxRecord) -> Option<&str> {
    w.payload.get("user").and_then(Value::as_str)
}

/// The newest unsynced assignment write of each user of the patient.
pub fn pending_user_changes(records: &[OutboxRecord], patient_id: &str) -> Vec<UserChange> {
    let mut out: Vec<UserChange> = Vec::new();
    for w in user_writes(records, patient_id, None) {
        let Some(user_id) = user_of(w) else { continue };
        out.retain(|c| c.user_id != user_id);
        out.push(UserChange {
            write_id: w.id.clone(),
            user_id: user_id.to_string(),
            assigns: w.sync_route_key == ADD_USER,
            status: w.sync_status,
            summary: w.summary.clone(),
        });
    }
    out
}

/// Writes a new assignment write of `user_id` on the patient must follow: the patient's
/// registration when it is still only on this device (`creator`), and the user's earlier
/// assignment writes still to be sent — an offline "remove, then assign again" must reach
/// CARE in that order, or the assignment is refused as a duplicate and the removal then
/// empties it. Failed ones are left out: they are sent again only if a person retries them.
pub fn assignment_parents(
    records: &[OutboxRecord],
    patient_id: &str,
    user_id: &str,
    creator: Option<String>,
) -> Vec<String> {
    creator
        .into_iter()
        .chain(
            user_writes(records, patient_id, Some(user_id))
                .filter(|w| w.sync_status != SyncStatus::Failed)
                .map(|w| w.id.clone()),
        )
        .collect()
}

/// What removing `user_id` from the patient takes, over the device's writes.
///
/// When the user's newest assignment write never reached CARE (never sent, or refused),
/// both are dropped: the assignment is withdrawn and no removal is sent. Sending both
/// would be two requests for no change, and the assignment could be refused (the user
/// was deactivated, someone assigned them meanwhile), which would block the removal and
/// leave CARE different from what the person asked for. Once the assignment may have
/// reached CARE (an attempt whose answer was lost, one in flight, a session that ended
/// mid-way), it cannot be withdrawn: the removal is sent after it, so CARE sees both in
/// order — a removal sent first would be refused ("User does not exist") and the
/// assignment would then stay.
pub fn plan_removal(
    records: &[OutboxRecord],
    patient_id: &str,
    user_id: &str,
    creator: Option<String>,
) -> Undo {
    let newest = user_writes(records, patient_id, Some(user_id)).last();
    match newest {
        Some(w) if w.sync_route_key == ADD_USER && w.certainly_not_applied() => {
            Undo::Withdraw(w.id.clone())
        }
        _ => Undo::Send {
            parents: assignment_parents(records, patient_id, user_id, creator),
        },
    }
}

/// A fetched `get_users` answer as this device shows it: a user whose assignment is still
/// to be sent stays listed (from the `previous` answer), a user whose removal is still to
/// be sent is hidden. Writes that wait for a person (failed, blocked) change nothing: the
/// server's list is the truth for those.
pub fn settle_users(previous: Option<&Value>, fetched: &mut Value, changes: &[UserChange]) {
    let Some(results) = fetched.get_mut("results").and_then(Value::as_array_mut) else {
        return;
    };
    let id = |u: &Value| u.get("id").and_then(Value::as_str).map(String::from);
    for change in changes.iter().filter(|c| c.status.is_open()) {
        let listed = results
            .iter()
            .position(|u| id(u).as_deref() == Some(&change.user_id));
        match (change.assigns, listed) {
            (false, Some(at)) => {
                results.remove(at);
            }
            (true, None) => {
                let kept = previous
                    .and_then(|p| p.get("results"))
                    .and_then(Value::as_array)
                    .and_then(|p| p.iter().find(|u| id(u).as_deref() == Some(&change.user_id)));
                if let Some(user) = kept {
                    results.push(user.clone());
                }
            }
            _ => {}
        }
    }
}

/// The optimistic patient as CARE's retrieve would return it, from a create payload.
pub fn normalize_patient(
    temp_id: &str,
    payload: &Value,
    geo: Option<&Value>,
    identifier_configs: &FacilityIdentifierConfigs,
    now_iso: &str,
) -> Value {
    let year_of_birth = payload
        .get("date_of_birth")
        .and_then(Value::as_str)
        .and_then(|d| d.get(..4)?.parse::<i64>().ok())
        .or_else(|| {
            let age = payload.get("age").and_then(Value::as_i64)?;
            Some(
                chrono::Utc::now()
                    .format("%Y")
                    .to_string()
                    .parse::<i64>()
                    .ok()?
                    - age,
            )
        });
    let mut record = json!({
        "id": temp_id,
        "name": payload.get("name").cloned().unwrap_or(Value::Null),
        "gender": payload.get("gender").cloned().unwrap_or(Value::Null),
        "phone_number": payload.get("phone_number").cloned().unwrap_or(Value::Null),
        "emergency_phone_number": payload.get("emergency_phone_number").cloned().unwrap_or(Value::Null),
        "address": payload.get("address").cloned().unwrap_or(Value::Null),
        "permanent_address": payload.get("permanent_address").cloned().unwrap_or(Value::Null),
        "pincode": payload.get("pincode").cloned().unwrap_or(Value::Null),
        "blood_group": payload.get("blood_group").cloned().unwrap_or(Value::Null),
        "date_of_birth": payload.get("date_of_birth").cloned().unwrap_or(Value::Null),
        "year_of_birth": year_of_birth,
        "deceased_datetime": null,
        "geo_organization": geo.cloned().unwrap_or(Value::Null),
        "instance_tags": [],
        "facility_tags": [],
        "instance_identifiers": [],
        "facility_identifiers": [],
        "created_date": now_iso,
        "modified_date": now_iso,
        "permissions": [],
    });
    if let Some(sent) = payload.get("identifiers") {
        apply_to_record(&mut record, identifier_configs, sent);
    }
    record
}

/// The optimistic resource request as CARE's retrieve would return it, from a create
/// payload and the cached objects it references.
pub fn normalize_resource(
    temp_id: &str,
    payload: &Value,
    origin_facility: Value,
    related_patient: Value,
    created_by: Value,
    now_iso: &str,
) -> Value {
    let field = |k: &str| payload.get(k).cloned().unwrap_or(Value::Null);
    json!({
        "id": temp_id,
        "emergency": field("emergency"),
        "title": field("title"),
        "reason": field("reason"),
        "referring_facility_contact_name": field("referring_facility_contact_name"),
        "referring_facility_contact_number": field("referring_facility_contact_number"),
        "status": field("status"),
        "category": field("category"),
        "priority": field("priority"),
        "origin_facility": origin_facility,
        "approving_facility": null,
        "assigned_facility": null,
        "related_patient": related_patient,
        "assigned_to": null,
        "created_by": created_by,
        "updated_by": created_by,
        "created_date": now_iso,
        "modified_date": now_iso,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::offline::query::options::Millis;

    #[test]
    fn normalized_patient_has_the_retrieve_shape() {
        let p = normalize_patient(
            "tmp-1",
            &json!({"name": "Asha", "gender": "female", "phone_number": "+919800000001", "date_of_birth": "1990-02-03",
                    "identifiers": [{"config": "mrn", "value": "CDH-7"}]}),
            None,
            &FacilityIdentifierConfigs {
                instance: Vec::new(),
                facility: serde_json::from_value(json!([{"id": "mrn", "status": "active", "config": {"display": "Hospital number"}}]))
                    .expect("configs"),
            },
            "2026-01-01T00:00:00.000000Z",
        );
        assert_eq!(p["id"], "tmp-1");
        assert_eq!(p["year_of_birth"], 1990);
        assert_eq!(p["facility_identifiers"][0]["value"], "CDH-7");
        assert_eq!(
            p["facility_identifiers"][0]["config"]["config"]["display"],
            "Hospital number"
        );
        for key in [
            "created_date",
            "modified_date",
            "instance_identifiers",
            "permissions",
            "geo_organization",
        ] {
            assert!(p.get(key).is_some(), "{key}");
        }
    }

    fn user_write(id: &str, key: &str, user: &str, at: Millis) -> OutboxRecord {
        let mut params = std::collections::BTreeMap::new();
        params.insert("patient_id".to_string(), "p1".to_string());
        OutboxRecord::new(
            id.into(),
            "u".into(),
            "d".into(),
            super::super::route(key).expect("route"),
            params,
            json!({"user": user, "role": "r"}),
            at,
        )
    }

    fn sent(mut w: OutboxRecord) -> OutboxRecord {
        w.last_attempt_at = Some(w.client_timestamp + 1);
        w
    }

    #[test]
    fn removal_route_posts_delete_user_and_refetches_the_users() {
        let r = super::super::route(DELETE_USER).expect("route");
        assert_eq!(r.method, HttpMethod::Post);
        assert_eq!(r.op, Op::Delete);
        assert_eq!(r.path, "/patient/{patient_id}/delete_user/");
        assert_eq!(r.record_param(), Some("patient_id"));
        assert_eq!(r.invalidates, &[&["patient", "users"][..]]);
    }

    #[test]
    fn the_newest_unsynced_write_of_each_user_is_its_change() {
        let mut synced = user_write("a0", ADD_USER, "nurse", 1);
        synced.sync_status = SyncStatus::Success;
        let mut other_patient = user_write("x", ADD_USER, "doctor", 2);
        other_patient
            .path_params
            .insert("patient_id".into(), "p2".into());
        let records = vec![
            user_write("r1", DELETE_USER, "nurse", 4),
            synced,
            user_write("a1", ADD_USER, "nurse", 3),
            other_patient,
            user_write("a2", ADD_USER, "admin", 5),
        ];
        let changes = pending_user_changes(&records, "p1");
        let summary: Vec<(&str, &str, bool)> = changes
            .iter()
            .map(|c| (c.user_id.as_str(), c.write_id.as_str(), c.assigns))
            .collect();
        assert_eq!(summary, [("nurse", "r1", false), ("admin", "a2", true)]);
    }

    #[test]
    fn removing_a_user_assigned_here_and_never_sent_withdraws_the_assignment() {
        let records = vec![user_write("a1", ADD_USER, "nurse", 1)];
        assert_eq!(
            plan_removal(&records, "p1", "nurse", None),
            Undo::Withdraw("a1".into())
        );
        // Refused by CARE: never applied either.
        let mut refused = user_write("a1", ADD_USER, "nurse", 1);
        refused.sync_status = SyncStatus::Failed;
        refused.last_attempt_at = Some(2);
        refused.last_error = Some(json!({"status": 400, "body": {}}));
        assert_eq!(
            plan_removal(&[refused], "p1", "nurse", None),
            Undo::Withdraw("a1".into())
        );
        // Remove → assign again → remove, all offline: the second assignment goes, the
        // first removal stays queued.
        let records = vec![
            user_write("r1", DELETE_USER, "nurse", 1),
            user_write("a2", ADD_USER, "nurse", 2),
        ];
        assert_eq!(
            plan_removal(&records, "p1", "nurse", None),
            Undo::Withdraw("a2".into())
        );
    }

    #[test]
    fn an_assignment_that_may_be_on_the_server_is_removed_after_it() {
        let records = vec![sent(user_write("a1", ADD_USER, "nurse", 1))];
        assert_eq!(
            plan_removal(&records, "p1", "nurse", Some("reg".into())),
            Undo::Send {
                parents: vec!["reg".into(), "a1".into()]
            }
        );
        let mut in_flight = user_write("a1", ADD_USER, "nurse", 1);
        in_flight.sync_status = SyncStatus::InFlight;
        assert!(matches!(
            plan_removal(&[in_flight], "p1", "nurse", None),
            Undo::Send { parents } if parents == ["a1"]
        ));
        // Assigned on the server long ago: a plain removal.
        assert_eq!(
            plan_removal(&[], "p1", "nurse", None),
            Undo::Send { parents: vec![] }
        );
        // Another user's or another patient's writes are not its parents.
        let records = vec![sent(user_write("a9", ADD_USER, "admin", 1))];
        assert_eq!(
            plan_removal(&records, "p1", "nurse", None),
            Undo::Send { parents: vec![] }
        );
    }

    #[test]
    fn an_assignment_follows_the_removal_queued_before_it_but_not_a_failed_one() {
        let mut failed = user_write("r0", DELETE_USER, "nurse", 1);
        failed.sync_status = SyncStatus::Failed;
        let records = vec![failed, user_write("r1", DELETE_USER, "nurse", 2)];
        assert_eq!(
            assignment_parents(&records, "p1", "nurse", None),
            ["r1".to_string()]
        );
    }

    #[test]
    fn a_refetch_keeps_unsent_assignments_and_hides_unsent_removals() {
        let change = |user: &str, assigns: bool, status: SyncStatus| UserChange {
            write_id: format!("w-{user}"),
            user_id: user.into(),
            assigns,
            status,
            summary: None,
        };
        let previous = json!({"results": [{"id": "nurse"}, {"id": "admin"}, {"id": "gone"}]});
        let mut fetched = json!({"results": [{"id": "doctor"}, {"id": "staff"}, {"id": "kept"}]});
        settle_users(
            Some(&previous),
            &mut fetched,
            &[
                change("nurse", true, SyncStatus::Pending),
                change("doctor", false, SyncStatus::InFlight),
                change("admin", true, SyncStatus::Failed),
                change("staff", false, SyncStatus::Blocked),
                change("absent", true, SyncStatus::Pending),
            ],
        );
        assert_eq!(
            fetched,
            json!({"results": [{"id": "staff"}, {"id": "kept"}, {"id": "nurse"}]})
        );
        let mut odd = json!({"detail": "x"});
        settle_users(None, &mut odd, &[change("a", false, SyncStatus::Pending)]);
        assert_eq!(odd, json!({"detail": "x"}));
    }

    #[test]
    fn normalized_resource_has_the_retrieve_shape() {
        let r = normalize_resource(
            "tmp-r",
            &json!({"title": "Oxygen", "status": "pending", "priority": 2, "origin_facility": "f1"}),
            json!({"id": "f1", "name": "PHC"}),
            json!({"id": "p1", "name": "Asha"}),
            json!({"id": "u1", "username": "care-doctor"}),
            "2026-01-01T00:00:00.000000Z",
        );
        assert_eq!(r["id"], "tmp-r");
        assert_eq!(r["origin_facility"]["name"], "PHC");
        assert_eq!(r["related_patient"]["id"], "p1");
        assert_eq!(r["priority"], 2);
        assert!(r.get("assigned_facility").is_some());
    }
}
