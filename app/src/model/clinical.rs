//! Patient-nested clinical records (symptoms, diagnoses, allergies, medication statements)
//! and questionnaire responses, as CARE lists them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::UserSpec;

/// `{system, code, display}` (CARE forbids other keys).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Coding {
    pub system: String,
    pub code: String,
    pub display: String,
}

/// The four clinical lists of an encounter page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClinicalKind {
    Allergy,
    Symptom,
    Diagnosis,
    MedicationStatement,
}

impl ClinicalKind {
    pub const ALL: [ClinicalKind; 4] = [
        ClinicalKind::Allergy,
        ClinicalKind::Symptom,
        ClinicalKind::Diagnosis,
        ClinicalKind::MedicationStatement,
    ];

    /// The first part of its query keys (and the resource name CARE uses).
    pub fn resource(self) -> &'static str {
        match self {
            ClinicalKind::Allergy => "allergy_intolerance",
            ClinicalKind::Symptom => "symptom",
            ClinicalKind::Diagnosis => "diagnosis",
            ClinicalKind::MedicationStatement => "medication_statement",
        }
    }

    /// `/patient/{pid}/<this>/`.
    pub fn path(self) -> &'static str {
        match self {
            ClinicalKind::MedicationStatement => "medication/statement",
            other => other.resource(),
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            ClinicalKind::Allergy => "Allergies",
            ClinicalKind::Symptom => "Symptoms",
            ClinicalKind::Diagnosis => "Diagnoses",
            ClinicalKind::MedicationStatement => "Medication statements",
        }
    }

    /// The structured question type that writes it.
    pub fn from_structured_type(t: &str) -> Option<ClinicalKind> {
        match t {
            "allergy_intolerance" => Some(ClinicalKind::Allergy),
            "symptom" => Some(ClinicalKind::Symptom),
            "diagnosis" => Some(ClinicalKind::Diagnosis),
            "medication_statement" => Some(ClinicalKind::MedicationStatement),
            _ => None,
        }
    }

    /// The value set its codes come from.
    pub fn valueset(self) -> &'static str {
        match self {
            ClinicalKind::Allergy => "system-allergy-code",
            ClinicalKind::Symptom | ClinicalKind::Diagnosis => "system-condition-code",
            ClinicalKind::MedicationStatement => "system-medication",
        }
    }

    /// Whether an entry listed by its endpoint belongs in this list: CARE's diagnosis
    /// endpoint lists every condition, symptoms (problem list items) included, so the
    /// diagnoses list leaves those out (on the device: a category filter is not one every
    /// CARE version takes).
    pub fn keeps(self, category: Option<&str>) -> bool {
        match self {
            ClinicalKind::Diagnosis => category != Some("problem_list_item"),
            _ => true,
        }
    }
}

/// One clinical record (the union of the four read shapes; absent fields default).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ClinicalEntry {
    pub id: String,
    pub code: Option<Coding>,
    pub medication: Option<Coding>,
    pub clinical_status: Option<String>,
    pub verification_status: Option<String>,
    pub severity: Option<String>,
    pub category: Option<String>,
    pub criticality: Option<String>,
    pub status: Option<String>,
    pub dosage_text: Option<String>,
    pub note: Option<String>,
    pub encounter: Option<String>,
    pub created_by: Option<UserSpec>,
    pub created_date: Option<String>,
}

impl ClinicalEntry {
    pub fn title(&self) -> String {
        self.code
            .as_ref()
            .or(self.medication.as_ref())
            .map(|c| c.display.clone())
            .unwrap_or_else(|| "Unnamed".to_string())
    }

    /// "confirmed · moderate" style summary of what is set.
    pub fn summary(&self) -> String {
        [
            &self.clinical_status,
            &self.verification_status,
            &self.severity,
            &self.criticality,
            &self.status,
            &self.dosage_text,
        ]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .map(|s| s.replace('_', " "))
        .collect::<Vec<_>>()
        .join(" · ")
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct QuestionnaireRef {
    pub id: String,
    pub slug: String,
    pub title: String,
}

/// A filled form (or the structured row a clinical write leaves).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct QuestionnaireResponse {
    pub id: String,
    pub questionnaire: Option<QuestionnaireRef>,
    pub responses: Vec<Value>,
    pub structured_response_type: Option<String>,
    pub encounter: Option<String>,
    pub created_by: Option<UserSpec>,
    pub created_date: Option<String>,
}

impl QuestionnaireResponse {
    pub fn title(&self) -> String {
        match (&self.questionnaire, &self.structured_response_type) {
            (Some(q), _) => q.title.clone(),
            (None, Some(t)) => t.replace('_', " "),
            (None, None) => "Form".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_kind() {
        let symptom: ClinicalEntry = serde_json::from_str(
            r#"{"id":"s","clinical_status":"active","verification_status":"confirmed","severity":"moderate",
                "code":{"system":"http://snomed.info/sct","code":"386661006","display":"Fever"},"onset":{}}"#,
        )
        .expect("json");
        assert_eq!(symptom.title(), "Fever");
        assert_eq!(symptom.summary(), "active · confirmed · moderate");
        let med: ClinicalEntry = serde_json::from_str(
            r#"{"id":"m","status":"active","medication":{"system":"s","code":"1","display":"Paracetamol"},"dosage_text":"500 mg"}"#,
        )
        .expect("json");
        assert_eq!(med.title(), "Paracetamol");
        assert_eq!(
            ClinicalKind::MedicationStatement.path(),
            "medication/statement"
        );
        assert_eq!(
            ClinicalKind::from_structured_type("diagnosis"),
            Some(ClinicalKind::Diagnosis)
        );
        assert_eq!(ClinicalKind::from_structured_type("time_of_death"), None);
        assert!(!ClinicalKind::Diagnosis.keeps(Some("problem_list_item")));
        assert!(ClinicalKind::Diagnosis.keeps(Some("encounter_diagnosis")));
        assert!(ClinicalKind::Symptom.keeps(Some("problem_list_item")));
    }
}
