//! Resource requests (care-api.md §7): what a clinic asks of another facility for a patient
//! (transfer, equipment, medicines), and the form that creates one.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{FacilityRef, Patient, UserSpec};

pub const CATEGORIES: &[(&str, &str)] = &[
    ("patient_care", "Patient care (transfer, specialist)"),
    ("comfort_devices", "Comfort devices"),
    ("medicines", "Medicines"),
    ("financial", "Financial"),
    ("supplies", "Supplies"),
    ("other", "Other"),
];

pub const STATUSES: &[(&str, &str)] = &[
    ("pending", "Pending"),
    ("approved", "Approved"),
    ("rejected", "Rejected"),
    ("cancelled", "Cancelled"),
    (
        "transportation_to_be_arranged",
        "Transportation to be arranged",
    ),
    ("transfer_in_progress", "Transfer in progress"),
    ("completed", "Completed"),
];

pub fn label(options: &[(&'static str, &'static str)], value: &str) -> String {
    options
        .iter()
        .find(|(v, _)| *v == value)
        .map(|(_, l)| l.to_string())
        .unwrap_or_else(|| value.to_string())
}

/// A comment on a resource request (`GET/POST /resource/{id}/comment/`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ResourceComment {
    pub id: String,
    pub comment: String,
    pub created_by: Option<UserSpec>,
    pub created_date: String,
}

/// The comment body CARE takes, or what to tell the person.
pub fn comment_body(text: &str) -> Result<Value, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("Write a comment first.".into());
    }
    Ok(json!({ "comment": text }))
}

/// The comment as CARE's list will show it, for the device to show before it syncs.
pub fn normalize_comment(temp_id: &str, body: &Value, author: Value, now_iso: &str) -> Value {
    json!({
        "id": temp_id,
        "comment": body.get("comment").cloned().unwrap_or(Value::Null),
        "created_by": author,
        "created_date": now_iso,
    })
}

/// `GET /resource/{id}/` (list items leave some fields out, so all default).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ResourceRequest {
    pub id: String,
    pub emergency: bool,
    pub title: String,
    pub reason: String,
    pub referring_facility_contact_name: String,
    pub referring_facility_contact_number: String,
    pub status: String,
    pub category: String,
    pub priority: Option<i64>,
    pub origin_facility: Option<FacilityRef>,
    pub approving_facility: Option<FacilityRef>,
    pub assigned_facility: Option<FacilityRef>,
    pub related_patient: Option<Patient>,
    pub assigned_to: Option<UserSpec>,
    pub created_by: Option<UserSpec>,
    pub created_date: Option<String>,
    pub modified_date: Option<String>,
}

impl ResourceRequest {
    /// The `PUT /resource/{id}/` body that changes the status: CARE validates an update
    /// with the create spec, so every required field goes again, and the facilities, patient
    /// and assignee by id so none is cleared.
    pub fn status_body(&self, status: &str) -> Result<Value, String> {
        if !STATUSES.iter().any(|(v, _)| *v == status) {
            return Err("Choose a status from the list.".into());
        }
        if status == self.status {
            return Err("The request already has this status.".into());
        }
        let mut body = json!({
            "emergency": self.emergency,
            "title": self.title,
            "reason": self.reason,
            "referring_facility_contact_name": self.referring_facility_contact_name,
            "referring_facility_contact_number": self.referring_facility_contact_number,
            "status": status,
            "category": self.category,
            "priority": self.priority,
            "origin_facility": self.origin_facility.as_ref().map(|f| f.id.clone()),
        });
        for (field, id) in [
            (
                "approving_facility",
                self.approving_facility.as_ref().map(|f| &f.id),
            ),
            (
                "assigned_facility",
                self.assigned_facility.as_ref().map(|f| &f.id),
            ),
            (
                "related_patient",
                self.related_patient.as_ref().map(|p| &p.id),
            ),
            ("assigned_to", self.assigned_to.as_ref().map(|u| &u.id)),
        ] {
            if let Some(id) = id {
                body[field] = json!(id);
            }
        }
        Ok(body)
    }
}

/// The new-request form as typed.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceForm {
    pub title: String,
    pub reason: String,
    pub category: String,
    pub emergency: bool,
    pub priority: String,
    pub contact_name: String,
    pub contact_number: String,
}

impl Default for ResourceForm {
    fn default() -> Self {
        ResourceForm {
            title: String::new(),
            reason: String::new(),
            category: "patient_care".into(),
            emergency: false,
            priority: "1".into(),
            contact_name: String::new(),
            contact_number: String::new(),
        }
    }
}

impl ResourceForm {
    /// The form as it was filled, from a queued create's payload.
    pub fn from_payload(payload: &Value) -> Self {
        let text = |k: &str| {
            payload
                .get(k)
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                })
                .unwrap_or_default()
        };
        ResourceForm {
            title: text("title"),
            reason: text("reason"),
            category: text("category"),
            emergency: payload
                .get("emergency")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            priority: text("priority"),
            contact_name: text("referring_facility_contact_name"),
            contact_number: text("referring_facility_contact_number"),
        }
    }

    /// CARE's create body (status `pending`), or (field, message) for each problem.
    pub fn validate(
        &self,
        origin_facility: &str,
        related_patient: &str,
    ) -> Result<Value, Vec<(&'static str, String)>> {
        let mut errors = Vec::new();
        let title = self.title.trim();
        if title.is_empty() {
            errors.push(("title", "Enter a title.".to_string()));
        } else if title.chars().count() > 255 {
            errors.push(("title", "Keep the title under 255 characters.".to_string()));
        }
        if self.reason.trim().is_empty() {
            errors.push(("reason", "Say what is needed and why.".to_string()));
        }
        if !CATEGORIES.iter().any(|(v, _)| *v == self.category) {
            errors.push(("category", "Choose a category.".to_string()));
        }
        let priority = self.priority.trim().parse::<i64>().ok();
        if !priority.is_some_and(|p| (1..=10).contains(&p)) {
            errors.push((
                "priority",
                "Priority is a whole number from 1 to 10.".to_string(),
            ));
        }
        if self.contact_name.trim().is_empty() {
            errors.push((
                "referring_facility_contact_name",
                "Enter a contact name.".to_string(),
            ));
        }
        let number = self.contact_number.trim().replace([' ', '-'], "");
        if !super::patient_form::is_e164(&number) {
            errors.push((
                "referring_facility_contact_number",
                "Enter the contact's phone with its country code, like +91 98765 43210."
                    .to_string(),
            ));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(json!({
            "title": title,
            "reason": self.reason.trim(),
            "category": self.category,
            "emergency": self.emergency,
            "priority": priority,
            "status": "pending",
            "referring_facility_contact_name": self.contact_name.trim(),
            "referring_facility_contact_number": number,
            "origin_facility": origin_facility,
            "related_patient": related_patient,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_change_sends_the_whole_request_by_ids() {
        let r: ResourceRequest = serde_json::from_value(json!({
            "id": "r1", "emergency": true, "title": "Oxygen", "reason": "SpO2 88", "status": "pending",
            "referring_facility_contact_name": "Dr Rao", "referring_facility_contact_number": "+919876543210",
            "category": "comfort_devices", "priority": 1,
            "origin_facility": {"id": "f1", "name": "PHC"}, "assigned_facility": {"id": "f2", "name": "Taluk"},
            "related_patient": {"id": "p1", "name": "Asha"}, "approving_facility": null
        }))
        .expect("request");
        let body = r.status_body("approved").expect("body");
        assert_eq!(body["status"], "approved");
        assert_eq!(body["origin_facility"], "f1");
        assert_eq!(body["assigned_facility"], "f2");
        assert_eq!(body["related_patient"], "p1");
        assert!(
            body.get("approving_facility").is_none(),
            "absent, not cleared"
        );
        assert_eq!(body["title"], "Oxygen");
        assert!(r.status_body("pending").is_err(), "no change");
        assert!(r.status_body("lost").is_err());
    }

    #[test]
    fn a_comment_needs_words_and_reads_like_care_s() {
        assert_eq!(
            comment_body("  "),
            Err("Write a comment first.".to_string())
        );
        let body = comment_body(" Cylinder sent ").expect("body");
        assert_eq!(body, json!({"comment": "Cylinder sent"}));
        let shown = normalize_comment(
            "tmp",
            &body,
            json!({"username": "care-doctor"}),
            "2026-11-22T07:00:00Z",
        );
        let c: ResourceComment = serde_json::from_value(shown).expect("comment");
        assert_eq!(c.id, "tmp");
        assert_eq!(c.comment, "Cylinder sent");
        assert_eq!(
            c.created_by.map(|u| u.username).as_deref(),
            Some("care-doctor")
        );
    }

    fn filled() -> ResourceForm {
        ResourceForm {
            title: " Oxygen concentrator ".into(),
            reason: "SpO2 88% on room air".into(),
            contact_name: "Dr. Rao".into(),
            contact_number: "+91 98765-43210".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_filled_form_gives_cares_create_body() {
        let body = filled().validate("fac", "pat").expect("valid");
        assert_eq!(body["title"], "Oxygen concentrator");
        assert_eq!(body["status"], "pending");
        assert_eq!(body["priority"], 1);
        assert_eq!(body["referring_facility_contact_number"], "+919876543210");
        assert_eq!(body["origin_facility"], "fac");
        assert_eq!(body["related_patient"], "pat");
    }

    #[test]
    fn a_queued_payload_refills_the_form() {
        let body = filled().validate("fac", "pat").expect("valid");
        let again = ResourceForm::from_payload(&body);
        assert_eq!(again.validate("fac", "pat").expect("valid"), body);
        assert_eq!(again.priority, "1");
    }

    #[test]
    fn each_problem_is_reported_on_its_field() {
        let errs = ResourceForm {
            priority: "0".into(),
            category: "x".into(),
            ..Default::default()
        }
        .validate("f", "p")
        .expect_err("invalid");
        let fields: Vec<&str> = errs.iter().map(|(f, _)| *f).collect();
        assert_eq!(
            fields,
            vec![
                "title",
                "reason",
                "category",
                "priority",
                "referring_facility_contact_name",
                "referring_facility_contact_number"
            ]
        );
    }

    #[test]
    fn reads_the_list_item_shape() {
        let r: ResourceRequest = serde_json::from_value(json!({
            "id": "r1", "emergency": true, "title": "t", "reason": "x", "status": "pending",
            "category": "medicines", "priority": 2, "origin_facility": {"id": "f", "name": "PHC"},
            "assigned_facility": null, "created_date": "2026-01-01T00:00:00Z"
        }))
        .expect("json");
        assert_eq!(r.origin_facility.map(|f| f.name).as_deref(), Some("PHC"));
        assert_eq!(label(STATUSES, &r.status), "Pending");
    }
}
