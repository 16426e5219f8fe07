//! Patient-nested clinical lists (care-api.md §6): symptoms, diagnoses, allergy intolerances
//! and medication statements. Each has a paginated list, retrieve, create, update and the
//! `upsert/` the questionnaire form writes through (`{"datapoints": [...]}`, ≤ 100, all or
//! nothing). Codes are validated against the bundled value sets. Every create or update also
//! writes a structured questionnaire response, which is how CARE's timeline shows them.

mod handlers;
mod records;

pub use handlers::*;
pub use records::*;

use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{
    auth::{json_object, AuthUser},
    db::now_iso,
    error::CareError,
    pagination::Page,
    patient, patient_scope,
    users::user_spec,
    validate::Checker,
    valueset::{self, check_in_valueset, parse_coding},
    Care,
};

/// CARE's `MAX_UPSERT_SIZE`.
pub const MAX_UPSERT: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Symptom,
    Diagnosis,
    Allergy,
    MedicationStatement,
}

macro_rules! routes_for {
    ($router:expr, $path:literal, $kind:expr) => {
        $router
            .route(
                concat!("/patient/{pid}/", $path, "/"),
                get(
                    |s: State<Care>, u: AuthUser, p: Path<String>, q: Query<ListParams>| {
                        list($kind, s, u, p, q)
                    },
                )
                .post(|s: State<Care>, u: AuthUser, p: Path<String>, b: Bytes| {
                    create($kind, s, u, p, b)
                }),
            )
            .route(
                concat!("/patient/{pid}/", $path, "/upsert/"),
                post(|s: State<Care>, u: AuthUser, p: Path<String>, b: Bytes| {
                    upsert($kind, s, u, p, b)
                }),
            )
            .route(
                concat!("/patient/{pid}/", $path, "/{id}/"),
                get(|s: State<Care>, u: AuthUser, p: Path<(String, String)>| {
                    retrieve($kind, s, u, p)
                })
                .put(
                    |s: State<Care>, u: AuthUser, p: Path<(String, String)>, b: Bytes| {
                        update($kind, s, u, p, b)
                    },
                ),
            )
    };
}

pub fn router() -> Router<Care> {
    let r = Router::new();
    let r = routes_for!(r, "symptom", Kind::Symptom);
    let r = routes_for!(r, "diagnosis", Kind::Diagnosis);
    let r = routes_for!(r, "allergy_intolerance", Kind::Allergy);
    routes_for!(r, "medication/statement", Kind::MedicationStatement)
}

const CONDITION_CLINICAL: &[&str] = &[
    "active",
    "recurrence",
    "relapse",
    "inactive",
    "remission",
    "resolved",
    "unknown",
];
const CONDITION_VERIFICATION: &[&str] = &[
    "unconfirmed",
    "provisional",
    "differential",
    "confirmed",
    "refuted",
    "entered_in_error",
];
const SEVERITY: &[&str] = &["mild", "moderate", "severe"];
const DIAGNOSIS_CATEGORY: &[&str] = &[
    "encounter_diagnosis",
    "chronic_condition",
    "problem_list_item",
];
const ALLERGY_CLINICAL: &[&str] = &["active", "inactive", "resolved"];
const ALLERGY_VERIFICATION: &[&str] = &[
    "unconfirmed",
    "presumed",
    "confirmed",
    "refuted",
    "entered_in_error",
];
const ALLERGY_CATEGORY: &[&str] = &["food", "medication", "environment", "biologic"];
const CRITICALITY: &[&str] = &["low", "high", "unable_to_assess"];
const ALLERGY_TYPE: &[&str] = &["allergy", "intolerance"];
const MEDICATION_STATUS: &[&str] = &[
    "active",
    "on_hold",
    "completed",
    "stopped",
    "unknown",
    "entered_in_error",
    "not_taken",
    "intended",
];
const INFORMATION_SOURCE: &[&str] = &["related_person", "practitioner", "patient"];

/// What a field holds.
#[derive(Clone, Copy)]
enum Type {
    Enum(&'static [&'static str]),
    Str,
    Coding(&'static str),
    /// `{onset_datetime?, onset_age?, onset_string?, note?}` (and `abatement_*`).
    Moment(&'static str),
    /// `{start?, end?}`, timezone-aware.
    Period,
    DateTime,
}

/// (name, type, required on create, updatable).
type Spec = (&'static str, Type, bool, bool);

impl Kind {
    fn table_kind(self) -> &'static str {
        match self {
            Kind::Symptom | Kind::Diagnosis => "condition",
            Kind::Allergy => "allergy_intolerance",
            Kind::MedicationStatement => "medication_statement",
        }
    }

    /// `structured_response_type` of the response rows it writes.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Symptom => "symptom",
            Kind::Diagnosis => "diagnosis",
            Kind::Allergy => "allergy_intolerance",
            Kind::MedicationStatement => "medication_statement",
        }
    }

    fn model(self) -> &'static str {
        match self {
            Kind::Symptom | Kind::Diagnosis => "Condition",
            Kind::Allergy => "AllergyIntolerance",
            Kind::MedicationStatement => "MedicationStatement",
        }
    }

    fn spec_name(self) -> &'static str {
        match self {
            Kind::Symptom => "SymptomCreateSpec",
            Kind::Diagnosis => "DiagnosisCreateSpec",
            Kind::Allergy => "AllergyIntoleranceWriteSpec",
            Kind::MedicationStatement => "MedicationStatementSpec",
        }
    }

    fn fields(self) -> &'static [Spec] {
        const CONDITION: &[Spec] = &[
            (
                "clinical_status",
                Type::Enum(CONDITION_CLINICAL),
                false,
                true,
            ),
            (
                "verification_status",
                Type::Enum(CONDITION_VERIFICATION),
                true,
                true,
            ),
            ("severity", Type::Enum(SEVERITY), false, true),
            ("code", Type::Coding(valueset::CONDITION), true, true),
            ("onset", Type::Moment("onset"), false, true),
            ("abatement", Type::Moment("abatement"), false, true),
            ("note", Type::Str, false, true),
        ];
        const DIAGNOSIS: &[Spec] = &[
            (
                "clinical_status",
                Type::Enum(CONDITION_CLINICAL),
                false,
                true,
            ),
            (
                "verification_status",
                Type::Enum(CONDITION_VERIFICATION),
                true,
                true,
            ),
            ("category", Type::Enum(DIAGNOSIS_CATEGORY), true, true),
            ("severity", Type::Enum(SEVERITY), false, true),
            ("code", Type::Coding(valueset::CONDITION), true, true),
            ("onset", Type::Moment("onset"), false, true),
            ("abatement", Type::Moment("abatement"), false, true),
            ("note", Type::Str, false, true),
        ];
        const ALLERGY: &[Spec] = &[
            ("clinical_status", Type::Enum(ALLERGY_CLINICAL), true, true),
            (
                "verification_status",
                Type::Enum(ALLERGY_VERIFICATION),
                true,
                true,
            ),
            ("category", Type::Enum(ALLERGY_CATEGORY), true, false),
            ("criticality", Type::Enum(CRITICALITY), true, true),
            ("code", Type::Coding(valueset::ALLERGY), true, false),
            ("onset", Type::Moment("onset"), false, false),
            ("last_occurrence", Type::DateTime, false, true),
            ("recorded_date", Type::DateTime, false, false),
            (
                "allergy_intolerance_type",
                Type::Enum(ALLERGY_TYPE),
                false,
                true,
            ),
            ("note", Type::Str, false, true),
        ];
        const MEDICATION: &[Spec] = &[
            ("status", Type::Enum(MEDICATION_STATUS), true, true),
            ("reason", Type::Str, false, false),
            (
                "medication",
                Type::Coding(valueset::MEDICATION),
                true,
                false,
            ),
            ("dosage_text", Type::Str, false, false),
            ("effective_period", Type::Period, false, true),
            (
                "information_source",
                Type::Enum(INFORMATION_SOURCE),
                false,
                false,
            ),
            ("note", Type::Str, false, true),
        ];
        match self {
            Kind::Symptom => CONDITION,
            Kind::Diagnosis => DIAGNOSIS,
            Kind::Allergy => ALLERGY,
            Kind::MedicationStatement => MEDICATION,
        }
    }

    /// The read representation's keys, in CARE's order (`None` for computed keys).
    fn read_keys(self) -> &'static [&'static str] {
        match self {
            Kind::Symptom | Kind::Diagnosis => &[
                "id",
                "clinical_status",
                "verification_status",
                "category",
                "severity",
                "code",
                "encounter",
                "onset",
                "abatement",
                "created_by",
                "updated_by",
                "note",
                "created_date",
                "modified_date",
            ],
            Kind::Allergy => &[
                "id",
                "clinical_status",
                "verification_status",
                "category",
                "criticality",
                "code",
                "encounter",
                "onset",
                "last_occurrence",
                "recorded_date",
                "created_by",
                "updated_by",
                "note",
                "allergy_intolerance_type",
                "created_date",
                "modified_date",
            ],
            Kind::MedicationStatement => &[
                "id",
                "status",
                "reason",
                "medication",
                "dosage_text",
                "effective_period",
                "encounter",
                "information_source",
                "note",
                "created_by",
                "updated_by",
                "created_date",
                "modified_date",
            ],
        }
    }

    /// Rows of this kind, as SQL on the `clinical` table: symptoms are CARE's conditions in
    /// the problem list; the diagnosis endpoint lists every condition (as real CARE does).
    fn filter(self) -> &'static str {
        match self {
            Kind::Symptom => "kind = 'condition' AND category = 'problem_list_item'",
            Kind::Diagnosis => "kind = 'condition'",
            Kind::Allergy => "kind = 'allergy_intolerance'",
            Kind::MedicationStatement => "kind = 'medication_statement'",
        }
    }
}
