use leptos::prelude::*;

use crate::{components::clinical_list::ClinicalList, model::ClinicalKind};

/// The patient's health profile: medication statements, allergies, symptoms and diagnoses
/// from every encounter, each list cached on its own.
#[component]
pub fn PatientHealth(#[prop(into)] patient_id: Signal<String>) -> impl IntoView {
    view! {
        <section class="tab-panel" aria-label="Health profile">
            {[
                ClinicalKind::MedicationStatement,
                ClinicalKind::Allergy,
                ClinicalKind::Symptom,
                ClinicalKind::Diagnosis,
            ]
            .into_iter()
            .map(|kind| view! { <ClinicalList kind=kind patient_id=patient_id encounter_id=String::new()/> })
            .collect_view()}
        </section>
    }
}
