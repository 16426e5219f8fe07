//! Encounter and questionnaire writes.

use super::{HttpMethod, Op, SyncRoute};

/// Every query a questionnaire submission can change: the clinical lists its structured
/// answers upsert into, the responses, and the encounter.
const CLINICAL: &[&[&str]] = &[
    &["symptom"],
    &["diagnosis"],
    &["allergy_intolerance"],
    &["medication_statement"],
    &["questionnaire_response"],
    &["encounter"],
];

pub const ROUTES: &[SyncRoute] = &[
    SyncRoute {
        key: "encounter.create",
        op: Op::Create,
        resource_type: "encounter",
        method: HttpMethod::Post,
        path: "/encounter/",
        current: None,
        invalidates: &[&["encounter"], &["patient"]],
        label: "Start encounter",
    },
    // Completing (or any status change): CARE takes the full EncounterBase with PUT.
    SyncRoute {
        key: "encounter.update",
        op: Op::Update,
        resource_type: "encounter",
        method: HttpMethod::Put,
        path: "/encounter/{encounter_id}/",
        current: Some("/encounter/{encounter_id}/"),
        invalidates: &[&["encounter"]],
        label: "Update encounter",
    },
    // One questionnaire form = one `batch_requests` call (structured upserts + submit).
    // Path params `patient_id` / `encounter_id` name the records it belongs to.
    SyncRoute {
        key: "questionnaire.submit",
        op: Op::Create,
        resource_type: "questionnaire_response",
        method: HttpMethod::Post,
        path: "/batch_requests/",
        current: None,
        invalidates: CLINICAL,
        label: "Questionnaire",
    },
];
