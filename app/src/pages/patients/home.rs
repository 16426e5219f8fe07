use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_params_map, hooks::use_query_map};
use serde_json::json;

use crate::{
    api::{keys, ApiError},
    components::{query_notice::QueryNotice, unsynced_badge::UnsyncedBadge},
    model::{
        patient_lookup::{cached_patients, verify},
        Patient,
    },
    offline::query::{use_query, use_query_client, QueryKey, QueryOptions},
    session::use_session,
};

/// The verified patient's home (CARE's `/patients/home?phone_number&year_of_birth&partial_id`):
/// `search_retrieve`, cached per query; offline, the same check over the patients saved on
/// this device.
#[component]
pub fn PatientHome() -> impl IntoView {
    let session = use_session();
    let client = use_query_client();
    let params = use_params_map();
    let query = use_query_map();
    let facility_id = Memo::new(move |_| params.read().get("facility_id").unwrap_or_default());
    let phone = Memo::new(move |_| query.read().get("phone_number").unwrap_or_default());
    let partial_id = Memo::new(move |_| query.read().get("partial_id").unwrap_or_default());
    let year = Memo::new(move |_| {
        query
            .read()
            .get("year_of_birth")
            .and_then(|y| y.parse::<i64>().ok())
    });
    let found = use_query::<Patient, _, _, _>(
        move || {
            keys::patient_search_retrieve(&json!({
                "phone_number": phone.get(),
                "year_of_birth": year.get(),
                "partial_id": partial_id.get(),
            }))
        },
        move |key| async move {
            let p = keys::post_read_only::<Patient>(session, key).await?;
            // The profile opens from the cache too, also offline.
            if let Ok(v) = serde_json::to_value(&p) {
                client.set_query_data(&keys::patient_detail(&p.id), v, true);
            }
            Ok(p)
        },
        QueryOptions::persisted(),
    );
    let cannot_ask = move || {
        found.unavailable_offline.get() || found.error.get().is_some_and(|e| e.is_unreachable())
    };
    let patient = Memo::new(move |_| {
        if let Some(p) = found.data.get() {
            return Some((p, false));
        }
        if !cannot_ask() {
            return None;
        }
        let year = year.get()?;
        let values = client.values_with_prefix(&QueryKey::new(["patient"]));
        let all = cached_patients(values.iter());
        verify(&all, &phone.get(), year, &partial_id.get()).map(|p| (p.clone(), true))
    });
    let this_year = chrono::Utc::now()
        .format("%Y")
        .to_string()
        .parse::<i64>()
        .unwrap_or(2026);

    view! {
        <section class="patient-home">
            <A href=move || format!("/facility/{}/patients/search", facility_id.get())>"← Find a patient"</A>
            <Show when=move || found.loading.get()>
                <p class="loading" aria-busy="true">"Verifying…"</p>
            </Show>
            {move || match found.error.get() {
                Some(ApiError::Http { status: 403 | 404, .. }) if patient.get().is_none() => Some(view! {
                    <p class="alert alert--error" role="alert" data-testid="not-verified">
                        "No patient matches this phone number and year of birth."
                    </p>
                }.into_any()),
                _ if patient.get().is_none() && cannot_ask() => Some(view! {
                    <p class="alert alert--error" role="alert" data-testid="not-verified">
                        "Offline, and no patient saved on this device matches this phone number and year of birth."
                    </p>
                }.into_any()),
                _ => None,
            }}
            {move || patient.get().map(|(p, local)| {
                let fid = facility_id.get();
                let profile = format!("/facility/{fid}/patients/{}", p.id);
                let age = p.age_in(this_year).map(|a| format!(", {a} y")).unwrap_or_default();
                view! {
                    {local.then(|| view! {
                        <p class="alert alert--info" role="status" data-testid="local-verify">
                            "Offline: verified against the patients saved on this device."
                        </p>
                    })}
                    {(!local).then(|| view! {
                        <QueryNotice saved_at=found.saved_at unavailable_offline=Signal::derive(|| false) error=Signal::derive(|| None)/>
                    })}
                    <div class="card" data-testid="patient-home">
                        <h1>{p.name.clone()}</h1>
                        <UnsyncedBadge id=p.id.clone()/>
                        <p class="muted">{format!("{}{age} · {}", p.gender_label(), p.phone_number)}</p>
                        <div class="toolbar">
                            <A href=profile.clone() attr:class="button button--primary">"Open profile"</A>
                            <A href=format!("{profile}?tab=encounters") attr:class="button button--link">"Encounters"</A>
                            <A href=format!("{profile}?tab=appointments") attr:class="button button--link">"Appointments"</A>
                        </div>
                    </div>
                }
            })}
        </section>
    }
}
