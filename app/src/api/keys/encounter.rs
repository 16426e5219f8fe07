//! Query keys and fetchers of the encounter pages: encounter lists and details, facility
//! departments, the clinical lists and filled forms of an encounter, questionnaires.
//! List fetchers keep the entries of the page they replace that are still only on this
//! device, so a refetch that lands before their write syncs does not hide them.

use serde::{de::DeserializeOwned, Serialize};
use serde_json::{json, Value};

use super::encode_query_value;
use crate::{
    api::{ApiError, Method},
    model::{ClinicalKind, Encounter, Organization, Paginated, Questionnaire},
    offline::{
        outbox::{effects, Outbox},
        query::{QueryClient, QueryKey},
    },
    session::Session,
};

pub const ENCOUNTER_PAGE_SIZE: u32 = 14;
/// Clinical lists of one encounter are short; one page holds them.
pub const CLINICAL_LIMIT: u32 = 100;

/// Facility encounters (`patient` empty) or one patient's, filtered by status.
pub fn encounter_list(facility_id: &str, patient_id: &str, status: &str, offset: u32) -> QueryKey {
    QueryKey::new(["encounter", "list"]).with_params(&json!({
        "facility": facility_id, "patient": patient_id, "status": status,
        "offset": offset, "limit": ENCOUNTER_PAGE_SIZE,
    }))
}

pub fn encounter_detail(id: &str) -> QueryKey {
    QueryKey::new(["encounter", "detail", id])
}

pub fn facility_organizations(facility_id: &str) -> QueryKey {
    QueryKey::new(["facility_organization", "list"])
        .with_params(&json!({ "facility": facility_id }))
}

pub fn clinical_list(kind: ClinicalKind, patient_id: &str, encounter_id: &str) -> QueryKey {
    QueryKey::new([kind.resource(), "list"])
        .with_params(&json!({ "patient": patient_id, "encounter": encounter_id }))
}

pub fn questionnaire_responses(patient_id: &str, encounter_id: &str) -> QueryKey {
    QueryKey::new(["questionnaire_response", "list"])
        .with_params(&json!({ "patient": patient_id, "encounter": encounter_id }))
}

pub fn questionnaire_list(subject_type: &str) -> QueryKey {
    QueryKey::new(["questionnaire", "list"])
        .with_params(&json!({ "subject_type": subject_type, "status": "active" }))
}

pub fn questionnaire_detail(slug: &str) -> QueryKey {
    QueryKey::new(["questionnaire", "detail", slug])
}

/// True when a list page of this key would show a new encounter of `patient_id` in
/// `facility_id`: the first page, unfiltered or filtered by the new one's status.
pub fn shows_new_encounter(
    key: &QueryKey,
    facility_id: &str,
    patient_id: &str,
    status: &str,
) -> bool {
    let Some(params) = key
        .parts()
        .last()
        .and_then(|p| serde_json::from_str::<Value>(p).ok())
    else {
        return false;
    };
    let text = |k: &str| {
        params
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    params.get("offset").and_then(Value::as_u64).unwrap_or(0) == 0
        && text("facility") == facility_id
        && (text("patient").is_empty() || text("patient") == patient_id)
        && (text("status").is_empty() || text("status").split(',').any(|s| s == status))
}

pub fn encounter_list_path(
    facility_id: &str,
    patient_id: &str,
    status: &str,
    offset: u32,
) -> String {
    let mut path = format!(
        "/encounter/?facility={}&limit={ENCOUNTER_PAGE_SIZE}&offset={offset}&ordering=-created_date",
        encode_query_value(facility_id)
    );
    if !patient_id.is_empty() {
        path.push_str(&format!("&patient={}", encode_query_value(patient_id)));
    }
    if !status.is_empty() {
        path.push_str(&format!("&status={}", encode_query_value(status)));
    }
    path
}

/// `/patient/{id}/<list>/?encounter=…&limit=…`; an empty encounter id lists the patient's
/// entries from every encounter (the profile's health tab).
pub fn clinical_list_path(kind: ClinicalKind, patient_id: &str, encounter_id: &str) -> String {
    format!(
        "/patient/{patient_id}/{}/?limit={CLINICAL_LIMIT}{}",
        kind.path(),
        encounter_filter(encounter_id)
    )
}

/// `&encounter=<id>`, or nothing for all of a patient's encounters.
pub fn encounter_filter(encounter_id: &str) -> String {
    if encounter_id.is_empty() {
        String::new()
    } else {
        format!("&encounter={}", encode_query_value(encounter_id))
    }
}

/// Fetches a `{count, results}` page for `key`, keeping its unsynced entries.
pub async fn page_keeping_unsynced<T: DeserializeOwned + Serialize + Default>(
    session: Session,
    client: QueryClient,
    outbox: Outbox,
    key: QueryKey,
    path: String,
) -> Result<Paginated<T>, ApiError> {
    let mut fetched: Value = session.call(Method::Get, &path, None).await?;
    let previous = client.get_query_data(&key);
    effects::keep_unsynced(previous.as_ref(), &mut fetched, |id| {
        outbox.has_unsynced(id)
    });
    serde_json::from_value(fetched).map_err(|e| ApiError::Decode(e.to_string()))
}

pub async fn get_encounter(session: Session, id: String) -> Result<Encounter, ApiError> {
    session
        .call(Method::Get, &format!("/encounter/{id}/"), None)
        .await
}

pub async fn get_facility_organizations(
    session: Session,
    facility_id: String,
) -> Result<Paginated<Organization>, ApiError> {
    session
        .call(
            Method::Get,
            &format!("/facility/{facility_id}/organizations/?limit=200"),
            None,
        )
        .await
}

pub async fn get_questionnaires(
    session: Session,
    subject_type: String,
) -> Result<Paginated<Questionnaire>, ApiError> {
    session
        .call(
            Method::Get,
            &format!(
                "/questionnaire/?subject_type={}&status=active&limit=100",
                encode_query_value(&subject_type)
            ),
            None,
        )
        .await
}

pub async fn get_questionnaire(session: Session, slug: String) -> Result<Questionnaire, ApiError> {
    session
        .call(
            Method::Get,
            &format!("/questionnaire/{}/", encode_query_value(&slug)),
            None,
        )
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_nest_under_their_resource() {
        assert!(encounter_list("f", "", "", 0).starts_with(&QueryKey::new(["encounter"])));
        assert!(encounter_detail("e").starts_with(&QueryKey::new(["encounter", "detail"])));
        assert_ne!(
            encounter_list("f", "", "", 0),
            encounter_list("f", "", "completed", 0)
        );
        let sx = clinical_list(ClinicalKind::Symptom, "p", "e");
        assert!(sx.starts_with(&QueryKey::new(["symptom"])));
        assert!(effects::names_record(&sx, "e"));
        assert!(questionnaire_detail("demo").starts_with(&QueryKey::new(["questionnaire"])));
    }

    #[test]
    fn new_encounters_show_on_matching_first_pages() {
        assert!(shows_new_encounter(
            &encounter_list("f", "", "", 0),
            "f",
            "p",
            "in_progress"
        ));
        assert!(shows_new_encounter(
            &encounter_list("f", "p", "", 0),
            "f",
            "p",
            "in_progress"
        ));
        assert!(shows_new_encounter(
            &encounter_list("f", "", "planned,in_progress", 0),
            "f",
            "p",
            "in_progress"
        ));
        assert!(!shows_new_encounter(
            &encounter_list("f", "", "completed", 0),
            "f",
            "p",
            "in_progress"
        ));
        assert!(!shows_new_encounter(
            &encounter_list("f", "q", "", 0),
            "f",
            "p",
            "in_progress"
        ));
        assert!(!shows_new_encounter(
            &encounter_list("f", "", "", 14),
            "f",
            "p",
            "in_progress"
        ));
        assert!(!shows_new_encounter(
            &encounter_list("g", "", "", 0),
            "f",
            "p",
            "in_progress"
        ));
    }

    #[test]
    fn paths() {
        assert_eq!(
            encounter_list_path("f", "p", "completed", 14),
            "/encounter/?facility=f&limit=14&offset=14&ordering=-created_date&patient=p&status=completed"
        );
        assert_eq!(
            clinical_list_path(ClinicalKind::Diagnosis, "p", "e"),
            "/patient/p/diagnosis/?limit=100&encounter=e"
        );
        assert_eq!(
            clinical_list_path(ClinicalKind::MedicationStatement, "p", "e"),
            "/patient/p/medication/statement/?limit=100&encounter=e"
        );
        // The profile's health tab: every encounter.
        assert_eq!(
            clinical_list_path(ClinicalKind::Symptom, "p", ""),
            "/patient/p/symptom/?limit=100"
        );
    }
}
