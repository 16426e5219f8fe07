use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_params_map};

use crate::{
    api::keys,
    components::{
        patient_encounters::PatientEncounters, query_notice::QueryNotice,
        unsynced_badge::UnsyncedBadge,
    },
    model::Patient,
    offline::query::{use_query, QueryOptions},
    session::use_session,
};

/// One patient's details, read through the cache.
#[component]
pub fn PatientDetail() -> impl IntoView {
    let session = use_session();
    let params = use_params_map();
    let patient_id = Memo::new(move |_| params.read().get("patient_id").unwrap_or_default());
    let facility_id = Memo::new(move |_| params.read().get("facility_id").unwrap_or_default());
    let patient = use_query::<Patient, _, _, _>(
        move || keys::patient_detail(&patient_id.get()),
        move |_| keys::get_patient(session, patient_id.get_untracked()),
        QueryOptions::persisted(),
    );
    let this_year = chrono::Utc::now()
        .format("%Y")
        .to_string()
        .parse::<i64>()
        .unwrap_or(2026);
    let row = |label: &'static str, value: Option<String>| {
        view! {
            <div class="facts__row">
                <dt>{label}</dt>
                <dd>{value.filter(|v| !v.is_empty()).unwrap_or_else(|| "—".to_string())}</dd>
            </div>
        }
    };

    view! {
        <section class="patient">
            <A href=move || format!("/facility/{}/patients", facility_id.get())>"← Patients"</A>
            <div class="toolbar">
                <h1 data-testid="patient-name">
                    {move || patient.data.get().map(|p| p.name).unwrap_or_else(|| {
                        if patient.loading.get() { "Loading patient…".to_string() } else { "Patient".to_string() }
                    })}
                </h1>
                <Show when=move || session.user().is_some_and(|u| u.can("can_write_patient"))>
                    <A href=move || format!("/facility/{}/patients/{}/edit", facility_id.get(), patient_id.get()) attr:class="button button--link">
                        "Edit"
                    </A>
                </Show>
                <button class="button" on:click=move |_| patient.refetch() disabled=move || patient.fetching.get()>
                    "Refresh"
                </button>
            </div>
            <UnsyncedBadge id=Signal::derive(move || patient_id.get())/>
            <QueryNotice saved_at=patient.saved_at unavailable_offline=patient.unavailable_offline error=patient.error/>
            {move || patient.data.get().map(|p| view! {
                <dl class="facts" data-testid="patient-facts">
                    {row("Gender", Some(p.gender_label().to_string()))}
                    {row("Age", p.age_in(this_year).map(|a| format!("{a} years")))}
                    {row("Date of birth", p.date_of_birth.clone())}
                    {row("Phone", Some(p.phone_number.clone()))}
                    {row("Emergency phone", p.emergency_phone_number.clone())}
                    {row("Blood group", p.blood_group.clone().map(|b| b.replace("_positive", "+").replace("_negative", "−")))}
                    {row("Address", p.address.clone())}
                    {row("Pincode", p.pincode.map(|c| c.to_string()))}
                    {row("Area", p.geo_organization.as_ref().map(|g| g.name.clone()))}
                </dl>
            })}
            <PatientEncounters facility_id=facility_id patient_id=patient_id/>
        </section>
    }
}
