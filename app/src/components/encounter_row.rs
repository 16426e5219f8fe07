use leptos::prelude::*;
use leptos_router::components::A;

use crate::{components::unsynced_badge::UnsyncedBadge, model::Encounter};

/// "22 Nov 2026, 09:30" from an ISO date-time, in the device's zone ("—" when absent).
pub fn format_when(iso: Option<&str>) -> String {
    crate::model::dates::format_moment(iso)
}

/// One encounter in a list: patient (when shown), status, class, start, sync state.
#[component]
pub fn EncounterRow(
    /// The encounter.
    encounter: Encounter,
    /// Facility of the link.
    #[prop(into)]
    facility_id: String,
    /// Show the patient's name (facility list) or not (a patient's own list).
    #[prop(default = true)]
    show_patient: bool,
) -> impl IntoView {
    let href = format!("/facility/{facility_id}/encounter/{}", encounter.id);
    let title = if show_patient {
        encounter.patient.name.clone()
    } else {
        format!("{} encounter", encounter.class_label())
    };
    let meta = format!(
        "{} · {} · {} · started {}",
        encounter.status_label(),
        encounter.class_label(),
        encounter.priority_label(),
        format_when(encounter.period.start.as_deref())
    );
    let status_class = format!("badge badge--status badge--{}", encounter.status);
    view! {
        <li class="list__item encounter-row" data-testid="encounter-row">
            <A href=href attr:class="list__link">{title}</A>
            <span class=status_class>{encounter.status_label()}</span>
            <UnsyncedBadge id=encounter.id.clone()/>
            <span class="muted">{meta}</span>
        </li>
    }
}
