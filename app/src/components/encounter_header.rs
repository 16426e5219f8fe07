use leptos::prelude::*;
use leptos_router::components::A;

use crate::{
    components::{encounter_row::format_when, unsynced_badge::UnsyncedBadge},
    model::Encounter,
};

/// The encounter's header: patient, status, class, priority, period, departments.
#[component]
pub fn EncounterHeader(
    /// The encounter.
    encounter: Encounter,
    /// Facility of the patient link.
    #[prop(into)]
    facility_id: String,
) -> impl IntoView {
    let patient_href = format!("/facility/{facility_id}/patients/{}", encounter.patient.id);
    let departments = encounter
        .organizations
        .iter()
        .map(|o| o.name.clone())
        .collect::<Vec<_>>()
        .join(", ");
    let patient_name = encounter.patient.name.clone();
    let row = |label: &'static str, value: String, testid: &'static str| {
        view! {
            <div class="facts__row">
                <dt>{label}</dt>
                <dd data-testid=testid>{if value.is_empty() { "—".to_string() } else { value }}</dd>
            </div>
        }
    };
    view! {
        <header class="encounter-header">
            // Names the encounter, not only the patient: "Outpatient encounter — Asha Nair".
            <h1 data-testid="encounter-title">
                {format!("{} encounter — ", encounter.class_label())}
                <span data-testid="encounter-patient"><A href=patient_href>{patient_name}</A></span>
            </h1>
            <UnsyncedBadge id=encounter.id.clone()/>
            <dl class="facts" data-testid="encounter-facts">
                {row("Status", encounter.status_label(), "encounter-status")}
                {row("Class", encounter.class_label(), "encounter-class")}
                {row("Priority", encounter.priority_label(), "encounter-priority")}
                {row("Started", format_when(encounter.period.start.as_deref()), "encounter-start")}
                {row("Ended", encounter.period.end.as_deref().map(|e| format_when(Some(e))).unwrap_or_default(), "encounter-end")}
                {row("Departments", departments, "encounter-departments")}
            </dl>
        </header>
    }
}
