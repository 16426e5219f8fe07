//! Workflow 1 and 3 writes: register and edit a patient, assign a user to a patient,
//! create a resource request.

use serde_json::{json, Value};

use super::{HttpMethod, Op, SyncRoute};
use crate::model::identifier::{apply_to_record, FacilityIdentifierConfigs};

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
        key: "patient.add_user",
        op: Op::Create,
        resource_type: "patient_user",
        method: HttpMethod::Post,
        path: "/patient/{patient_id}/add_user/",
        current: None,
        invalidates: &[&["patient", "users"]],
        label: "Assign user to patient",
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
];

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
