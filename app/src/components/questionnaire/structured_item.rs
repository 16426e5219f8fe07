use leptos::prelude::*;

use super::use_form_state;
use crate::{model::ClinicalKind, questionnaire::StructuredItem};

const CONDITION_CLINICAL: &[&str] = &[
    "active",
    "recurrence",
    "relapse",
    "inactive",
    "remission",
    "resolved",
];
const CONDITION_VERIFICATION: &[&str] = &[
    "unconfirmed",
    "provisional",
    "differential",
    "confirmed",
    "refuted",
];
const SEVERITY: &[&str] = &["", "mild", "moderate", "severe"];
const DIAGNOSIS_CATEGORY: &[&str] = &["encounter_diagnosis", "chronic_condition"];
const ALLERGY_CLINICAL: &[&str] = &["active", "inactive", "resolved"];
const ALLERGY_VERIFICATION: &[&str] = &["unconfirmed", "presumed", "confirmed", "refuted"];
const ALLERGY_CATEGORY: &[&str] = &["food", "medication", "environment", "biologic"];
const CRITICALITY: &[&str] = &["low", "high", "unable_to_assess"];
const MEDICATION_STATUS: &[&str] = &[
    "active",
    "on_hold",
    "completed",
    "stopped",
    "unknown",
    "not_taken",
    "intended",
];

type Field = (
    &'static str,
    &'static [&'static str],
    fn(&StructuredItem) -> String,
    fn(&mut StructuredItem, String),
);

fn fields(kind: ClinicalKind) -> Vec<Field> {
    match kind {
        ClinicalKind::Symptom => vec![
            (
                "Clinical status",
                CONDITION_CLINICAL,
                |i| i.status.clone(),
                |i, v| i.status = v,
            ),
            (
                "Verification",
                CONDITION_VERIFICATION,
                |i| i.verification_status.clone(),
                |i, v| i.verification_status = v,
            ),
            (
                "Severity",
                SEVERITY,
                |i| i.severity.clone(),
                |i, v| i.severity = v,
            ),
        ],
        ClinicalKind::Diagnosis => vec![
            (
                "Clinical status",
                CONDITION_CLINICAL,
                |i| i.status.clone(),
                |i, v| i.status = v,
            ),
            (
                "Verification",
                CONDITION_VERIFICATION,
                |i| i.verification_status.clone(),
                |i, v| i.verification_status = v,
            ),
            (
                "Category",
                DIAGNOSIS_CATEGORY,
                |i| i.category.clone(),
                |i, v| i.category = v,
            ),
        ],
        ClinicalKind::Allergy => vec![
            (
                "Clinical status",
                ALLERGY_CLINICAL,
                |i| i.status.clone(),
                |i, v| i.status = v,
            ),
            (
                "Verification",
                ALLERGY_VERIFICATION,
                |i| i.verification_status.clone(),
                |i, v| i.verification_status = v,
            ),
            (
                "Category",
                ALLERGY_CATEGORY,
                |i| i.category.clone(),
                |i, v| i.category = v,
            ),
            (
                "Criticality",
                CRITICALITY,
                |i| i.criticality.clone(),
                |i, v| i.criticality = v,
            ),
        ],
        ClinicalKind::MedicationStatement => vec![(
            "Status",
            MEDICATION_STATUS,
            |i| i.status.clone(),
            |i, v| i.status = v,
        )],
    }
}

/// One entry of a structured question: its code, its details, remove.
#[component]
pub fn StructuredItemView(
    /// The structured question's id.
    question_id: String,
    /// What it records.
    kind: ClinicalKind,
    /// Which entry.
    index: usize,
) -> impl IntoView {
    let state = use_form_state();
    let qid = StoredValue::new(question_id);
    let item = move || {
        state
            .answers
            .with(|a| a.items(&qid.get_value()).get(index).cloned())
    };
    let name = move || item().map(|i| i.coding.display).unwrap_or_default();
    let update = move |f: fn(&mut StructuredItem, String), v: String| {
        state
            .answers
            .update(|a| a.update_item(&qid.get_value(), index, |i| f(i, v)));
    };
    view! {
        <li class="structured__item" data-testid="structured-item">
            <strong class="structured__name">{name}</strong>
            <div class="structured__fields">
                {fields(kind).into_iter().map(|(label, options, get, put)| {
                    let aria = move || format!("{label} of {}", name());
                    view! {
                        <label class="field field--compact">
                            <span class="field__label">{label}</span>
                            <select class="field__input" aria-label=aria
                                prop:value=move || item().map(|i| get(&i)).unwrap_or_default()
                                on:change=move |ev| update(put, event_target_value(&ev))>
                                {options.iter().map(|o| view! {
                                    <option value=*o>{if o.is_empty() { "—".to_string() } else { o.replace('_', " ") }}</option>
                                }).collect_view()}
                            </select>
                        </label>
                    }
                }).collect_view()}
                {(kind == ClinicalKind::MedicationStatement).then(|| view! {
                    <label class="field field--compact">
                        <span class="field__label">"Dosage"</span>
                        <input class="field__input" aria-label=move || format!("Dosage of {}", name())
                            prop:value=move || item().map(|i| i.dosage_text).unwrap_or_default()
                            on:input=move |ev| update(|i, v| i.dosage_text = v, event_target_value(&ev))/>
                    </label>
                })}
                <label class="field field--compact">
                    <span class="field__label">"Note"</span>
                    <input class="field__input" aria-label=move || format!("Note on {}", name())
                        prop:value=move || item().map(|i| i.note).unwrap_or_default()
                        on:input=move |ev| update(|i, v| i.note = v, event_target_value(&ev))/>
                </label>
            </div>
            <button type="button" class="button button--small"
                aria-label=move || format!("Remove {}", name())
                on:click=move |_| state.answers.update(|a| a.remove_item(&qid.get_value(), index))>
                "Remove"
            </button>
        </li>
    }
}
