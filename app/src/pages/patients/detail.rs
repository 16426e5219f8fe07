use leptos::prelude::*;
use leptos_router::{
    components::A,
    hooks::{use_params_map, use_query_map},
};

use crate::{
    api::keys,
    components::{
        patient_encounters::PatientEncounters,
        profile::{
            appointments::PatientAppointments, details::PatientDetails, health::PatientHealth,
            resources::PatientResources, users::PatientUsers,
        },
        query_notice::QueryNotice,
        responses_list::ResponsesList,
        unsynced_badge::UnsyncedBadge,
    },
    model::{patient_lookup::cached_patients, Patient},
    offline::query::{use_query, use_query_client, QueryKey, QueryOptions},
    session::use_session,
};

/// The profile's tabs: (query value, label).
const TABS: &[(&str, &str)] = &[
    ("details", "Details"),
    ("encounters", "Encounters"),
    ("appointments", "Appointments"),
    ("health", "Health profile"),
    ("forms", "Forms"),
    ("resources", "Resources"),
    ("users", "Users"),
];

/// A patient's profile, read through the cache: details and one tab per related list
/// (`?tab=`), each cached on its own so a tab seen online opens offline.
#[component]
pub fn PatientDetail() -> impl IntoView {
    let session = use_session();
    let params = use_params_map();
    let query = use_query_map();
    let patient_id = Memo::new(move |_| params.read().get("patient_id").unwrap_or_default());
    let facility_id = Memo::new(move |_| params.read().get("facility_id").unwrap_or_default());
    let tab = Memo::new(move |_| {
        let asked = query.read().get("tab").unwrap_or_default();
        TABS.iter()
            .map(|(t, _)| *t)
            .find(|t| *t == asked)
            .unwrap_or("details")
    });
    let patient = use_query::<Patient, _, _, _>(
        move || keys::patient_detail(&patient_id.get()),
        move |_| {
            keys::get_patient(
                session,
                facility_id.get_untracked(),
                patient_id.get_untracked(),
            )
        },
        QueryOptions::persisted(),
    );
    let client = use_query_client();
    // Offline, a patient never opened here may still be in a saved list page: show what
    // the list holds rather than nothing.
    let from_list = Memo::new(move |_| {
        if patient.data.with(Option::is_some) || !patient.unavailable_offline.get() {
            return None;
        }
        let id = patient_id.get();
        let values = client.values_with_prefix(&QueryKey::new(["patient", "list"]));
        cached_patients(values.iter())
            .into_iter()
            .find(|p| p.id == id)
    });
    let shown = Memo::new(move |_| patient.data.get().or_else(|| from_list.get()));
    let pid = Signal::derive(move || patient_id.get());
    let fid = Signal::derive(move || facility_id.get());

    view! {
        <section class="patient">
            <A href=move || format!("/facility/{}/patients", facility_id.get())>"← Patients"</A>
            <div class="toolbar">
                <h1 data-testid="patient-name">
                    {move || shown.get().map(|p| p.name).unwrap_or_else(|| {
                        if patient.loading.get() { "Loading patient…".to_string() } else { "Patient".to_string() }
                    })}
                </h1>
                <Show when=move || session.user().is_some_and(|u| u.can("can_write_patient"))>
                    <A href=move || format!("/facility/{}/patients/{}/edit", facility_id.get(), patient_id.get()) attr:class="button button--link">
                        "Edit"
                    </A>
                </Show>
                <Show when=move || session.user().is_some_and(|u| u.can("can_create_encounter"))>
                    <A href=move || format!("/facility/{}/patients/{}/encounters/new", facility_id.get(), patient_id.get()) attr:class="button button--link">
                        "Start encounter"
                    </A>
                </Show>
                <A href=move || format!("/facility/{}/appointments/book?patient={}", facility_id.get(), patient_id.get()) attr:class="button button--link">
                    "Book appointment"
                </A>
                <button class="button" on:click=move |_| patient.refetch() disabled=move || patient.fetching.get()>
                    "Refresh"
                </button>
            </div>
            <UnsyncedBadge id=pid/>
            <Show
                when=move || from_list.with(Option::is_some)
                fallback=move || view! {
                    <QueryNotice saved_at=patient.saved_at unavailable_offline=patient.unavailable_offline error=patient.error/>
                }
            >
                <p class="alert alert--info" role="status" data-testid="from-list">
                    "Offline: showing what the patient list saved on this device holds; open this patient online for the full record."
                </p>
            </Show>
            <nav class="tabs" aria-label="Patient profile">
                {TABS.iter().map(|(t, label)| {
                    let href = move || format!("/facility/{}/patients/{}?tab={t}", facility_id.get(), patient_id.get());
                    let current = move || (tab.get() == *t).then_some("page");
                    view! { <a href=href class="tabs__tab" aria-current=current>{*label}</a> }
                }).collect_view()}
            </nav>
            {move || match tab.get() {
                "encounters" => view! { <PatientEncounters facility_id=fid patient_id=pid show_start=false/> }.into_any(),
                "appointments" => view! { <PatientAppointments patient_id=pid facility_id=fid/> }.into_any(),
                "health" => view! { <PatientHealth patient_id=pid/> }.into_any(),
                "forms" => view! {
                    <section class="tab-panel" aria-label="Forms">
                        <ResponsesList patient_id=pid encounter_id=String::new()/>
                    </section>
                }.into_any(),
                "resources" => view! { <PatientResources patient_id=pid facility_id=fid/> }.into_any(),
                "users" => view! { <PatientUsers patient_id=pid/> }.into_any(),
                _ => shown.get().map(|p| view! { <PatientDetails patient=p/> }).into_any(),
            }}
        </section>
    }
}
