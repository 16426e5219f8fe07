//! Encounters (care-api.md §6): list/retrieve shapes, the create form, completion, and the
//! optimistic record an offline create shows until it syncs.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{FacilityRef, Organization, Patient};

pub const STATUSES: &[(&str, &str)] = &[
    ("planned", "Planned"),
    ("in_progress", "In progress"),
    ("on_hold", "On hold"),
    ("discharged", "Discharged"),
    ("completed", "Completed"),
    ("cancelled", "Cancelled"),
    ("discontinued", "Discontinued"),
    ("entered_in_error", "Entered in error"),
    ("unknown", "Unknown"),
];
/// What a new encounter may start as (care_fe's create sheet).
pub const START_STATUSES: &[&str] = &["planned", "in_progress", "on_hold"];
/// Statuses that end an encounter (CARE's `COMPLETED_CHOICES`).
pub const ENDED: &[&str] = &["completed", "cancelled", "entered_in_error", "discontinued"];
pub const CLASSES: &[(&str, &str)] = &[
    ("amb", "Ambulatory (OP)"),
    ("imp", "Inpatient (IP)"),
    ("obsenc", "Observation"),
    ("emer", "Emergency"),
    ("vr", "Virtual"),
    ("hh", "Home health"),
];
pub const PRIORITIES: &[(&str, &str)] = &[
    ("routine", "Routine"),
    ("urgent", "Urgent"),
    ("ASAP", "ASAP"),
    ("emergency", "Emergency"),
    ("stat", "Stat"),
    ("elective", "Elective"),
    ("callback_results", "Callback results"),
    ("callback_for_scheduling", "Callback for scheduling"),
    ("preop", "Pre-op"),
    ("as_needed", "As needed"),
    ("rush_reporting", "Rush reporting"),
    ("timing_critical", "Timing critical"),
    ("use_as_directed", "Use as directed"),
];

/// The label of `code` in one of the tables above (the code itself when unknown).
pub fn label_of(table: &[(&str, &'static str)], code: &str) -> String {
    table
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, l)| l.to_string())
        .unwrap_or_else(|| code.to_string())
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Period {
    pub start: Option<String>,
    pub end: Option<String>,
}

/// EncounterList / EncounterRetrieve (the retrieve adds organizations and permissions).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Encounter {
    pub id: String,
    pub status: String,
    pub encounter_class: String,
    pub period: Period,
    pub hospitalization: Value,
    pub priority: String,
    pub external_identifier: Option<String>,
    pub discharge_summary_advice: Option<String>,
    pub patient: Patient,
    pub facility: FacilityRef,
    pub organizations: Vec<Organization>,
    pub created_date: Option<String>,
    pub modified_date: Option<String>,
}

impl Encounter {
    pub fn status_label(&self) -> String {
        label_of(STATUSES, &self.status)
    }

    pub fn class_label(&self) -> String {
        label_of(CLASSES, &self.encounter_class)
    }

    pub fn priority_label(&self) -> String {
        label_of(PRIORITIES, &self.priority)
    }

    pub fn is_ended(&self) -> bool {
        ENDED.contains(&self.status.as_str())
    }

    /// The PUT body that completes this encounter now (CARE takes the whole EncounterBase;
    /// the period gets its end).
    pub fn completion_payload(&self, now_iso: &str) -> Value {
        json!({
            "status": "completed",
            "encounter_class": self.encounter_class,
            "priority": self.priority,
            "period": {"start": self.period.start, "end": now_iso},
            "hospitalization": if self.hospitalization.is_object() { self.hospitalization.clone() } else { json!({}) },
            "external_identifier": self.external_identifier,
            "discharge_summary_advice": self.discharge_summary_advice,
        })
    }
}

/// The create form, as typed.
#[derive(Debug, Clone, PartialEq)]
pub struct EncounterForm {
    pub status: String,
    pub encounter_class: String,
    pub priority: String,
    pub organizations: Vec<String>,
    /// `datetime-local` value, in the device's time zone.
    pub start: String,
}

impl Default for EncounterForm {
    fn default() -> Self {
        Self {
            status: "in_progress".into(),
            encounter_class: "amb".into(),
            priority: "routine".into(),
            organizations: Vec::new(),
            start: String::new(),
        }
    }
}

impl EncounterForm {
    /// The `POST /encounter/` body, or the problems per field. `start` is read in
    /// `offset` (the device's zone); it may not be in the future unless planned.
    pub fn validate(
        &self,
        patient_id: &str,
        facility_id: &str,
        now: chrono::DateTime<chrono::FixedOffset>,
    ) -> Result<Value, Vec<(&'static str, String)>> {
        let mut errors = Vec::new();
        if !START_STATUSES.contains(&self.status.as_str()) {
            errors.push(("status", "Choose a status.".to_string()));
        }
        if !CLASSES.iter().any(|(c, _)| *c == self.encounter_class) {
            errors.push(("encounter_class", "Choose a class.".to_string()));
        }
        if !PRIORITIES.iter().any(|(c, _)| *c == self.priority) {
            errors.push(("priority", "Choose a priority.".to_string()));
        }
        if self.organizations.is_empty() {
            errors.push((
                "organizations",
                "Choose at least one department.".to_string(),
            ));
        }
        let start = match chrono::NaiveDateTime::parse_from_str(self.start.trim(), "%Y-%m-%dT%H:%M")
        {
            Ok(naive) => match naive.and_local_timezone(*now.offset()).single() {
                Some(at) if at > now + chrono::Duration::minutes(1) && self.status != "planned" => {
                    errors.push((
                        "start",
                        "The start cannot be in the future unless the encounter is planned."
                            .to_string(),
                    ));
                    None
                }
                Some(at) => Some(at.to_rfc3339()),
                None => None,
            },
            Err(_) => {
                errors.push(("start", "Enter the start date and time.".to_string()));
                None
            }
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(json!({
            "patient": patient_id,
            "facility": facility_id,
            "status": self.status,
            "encounter_class": self.encounter_class,
            "priority": self.priority,
            "period": {"start": start},
            "hospitalization": {},
            "organizations": self.organizations,
            "tags": [],
        }))
    }
}

/// The optimistic encounter (EncounterRetrieve's shape) of a create payload.
pub fn normalize_encounter(
    temp_id: &str,
    payload: &Value,
    patient: &Value,
    facility: &Value,
    organizations: &[Value],
    now_iso: &str,
) -> Value {
    let field = |k: &str| payload.get(k).cloned().unwrap_or(Value::Null);
    let status = field("status");
    let class = field("encounter_class");
    json!({
        "id": temp_id,
        "status": status,
        "encounter_class": class,
        "period": field("period"),
        "hospitalization": {},
        "priority": field("priority"),
        "external_identifier": null,
        "discharge_summary_advice": null,
        "patient": patient,
        "facility": facility,
        "status_history": {"history": [{"status": status, "moved_at": now_iso}]},
        "encounter_class_history": {"history": [{"encounter_class": class, "moved_at": now_iso}]},
        "organizations": organizations,
        "created_date": now_iso,
        "modified_date": now_iso,
        "tags": [],
        "permissions": [],
        "appointment": {},
        "care_team": [],
        "location_history": [],
        "current_location": null,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> chrono::DateTime<chrono::FixedOffset> {
        chrono::DateTime::parse_from_rfc3339("2026-11-22T10:00:00+05:30").expect("date")
    }

    #[test]
    fn form_builds_the_create_body_with_a_zoned_start() {
        let form = EncounterForm {
            organizations: vec!["o1".into()],
            start: "2026-11-22T09:30".into(),
            ..Default::default()
        };
        let body = form.validate("p", "f", now()).expect("valid");
        assert_eq!(body["patient"], "p");
        assert_eq!(body["facility"], "f");
        assert_eq!(body["period"]["start"], "2026-11-22T09:30:00+05:30");
        assert_eq!(body["organizations"], json!(["o1"]));
    }

    #[test]
    fn form_reports_each_problem() {
        let form = EncounterForm {
            status: "completed".into(),
            start: "2026-11-23T09:30".into(),
            ..Default::default()
        };
        let errors = form.validate("p", "f", now()).expect_err("invalid");
        let fields: Vec<&str> = errors.iter().map(|(f, _)| *f).collect();
        assert!(fields.contains(&"status"));
        assert!(fields.contains(&"organizations"));
        assert!(fields.contains(&"start"), "future start while not planned");
        let planned = EncounterForm {
            status: "planned".into(),
            organizations: vec!["o".into()],
            start: "2026-11-30T09:30".into(),
            ..Default::default()
        };
        assert!(planned.validate("p", "f", now()).is_ok());
        let empty = EncounterForm {
            organizations: vec!["o".into()],
            ..Default::default()
        };
        assert_eq!(
            empty.validate("p", "f", now()).expect_err("no start")[0].0,
            "start"
        );
    }

    #[test]
    fn completion_keeps_the_base_and_ends_the_period() {
        let e: Encounter = serde_json::from_value(json!({
            "id": "e", "status": "in_progress", "encounter_class": "amb", "priority": "routine",
            "period": {"start": "2026-11-22T09:30:00+05:30"}, "hospitalization": {},
            "patient": {"id": "p", "name": "Asha"}, "facility": {"id": "f", "name": "F"}
        }))
        .expect("json");
        let body = e.completion_payload("2026-11-22T11:00:00Z");
        assert_eq!(body["status"], "completed");
        assert_eq!(body["period"]["start"], "2026-11-22T09:30:00+05:30");
        assert_eq!(body["period"]["end"], "2026-11-22T11:00:00Z");
        assert_eq!(body["encounter_class"], "amb");
        assert!(!e.is_ended());
    }

    #[test]
    fn optimistic_encounter_reads_as_an_encounter() {
        let payload = json!({"status": "in_progress", "encounter_class": "amb", "priority": "routine",
            "period": {"start": "2026-11-22T09:30:00+05:30"}});
        let v = normalize_encounter(
            "tmp",
            &payload,
            &json!({"id": "p", "name": "Asha"}),
            &json!({"id": "f", "name": "F"}),
            &[json!({"id": "o", "name": "OP"})],
            "2026-11-22T04:00:00.000000Z",
        );
        let e: Encounter = serde_json::from_value(v).expect("shape");
        assert_eq!(e.id, "tmp");
        assert_eq!(e.patient.name, "Asha");
        assert_eq!(e.organizations[0].name, "OP");
        assert_eq!(e.status_label(), "In progress");
    }
}
