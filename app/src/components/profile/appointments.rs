use leptos::prelude::*;
use leptos_router::components::A;

use crate::{
    api::keys::{appointment, profile},
    components::{query_notice::QueryNotice, unsynced_badge::UnsyncedBadge},
    model::{appointment::local_day_and_time, Appointment},
    offline::{
        outbox::{registry::appointment::CREATE, use_outbox, SyncStatus},
        query::{use_query, use_query_client, QueryOptions},
    },
    session::use_session,
};

/// The patient's bookings, with those booked on this device and not yet synced first.
#[component]
pub fn PatientAppointments(
    #[prop(into)] patient_id: Signal<String>,
    #[prop(into)] facility_id: Signal<String>,
) -> impl IntoView {
    let session = use_session();
    let outbox = use_outbox();
    let client = use_query_client();
    let list = use_query(
        move || profile::patient_appointments(&patient_id.get()),
        move |_| profile::get_patient_appointments(session, patient_id.get_untracked()),
        QueryOptions::persisted(),
    );
    // Bookings still on this device: their optimistic records (the server's list has none).
    let unsynced = Memo::new(move |_| {
        let pid = patient_id.get();
        outbox
            .records()
            .into_iter()
            .filter(|w| w.sync_route_key == CREATE && w.sync_status != SyncStatus::Success)
            .filter_map(|w| client.get_query_data(&appointment::detail(w.temp_id.as_deref()?)))
            .filter_map(|v| serde_json::from_value::<Appointment>(v).ok())
            .filter(|a| a.patient.id == pid)
            .collect::<Vec<_>>()
    });
    let rows = Memo::new(move |_| {
        let mut all = unsynced.get();
        if let Some(page) = list.data.get() {
            let local: Vec<String> = all.iter().map(|a| a.id.clone()).collect();
            all.extend(page.results.into_iter().filter(|a| !local.contains(&a.id)));
        }
        all
    });
    view! {
        <section class="tab-panel" aria-label="Appointments">
            <A href=move || format!("/facility/{}/appointments/book?patient={}", facility_id.get(), patient_id.get())
                attr:class="button button--link">"Book appointment"</A>
            <QueryNotice saved_at=list.saved_at unavailable_offline=list.unavailable_offline error=list.error/>
            <Show when=move || list.loading.get()>
                <p class="loading" aria-busy="true">"Loading appointments…"</p>
            </Show>
            <Show when=move || !rows.with(Vec::is_empty) fallback=move || view! {
                <Show when=move || list.data.with(Option::is_some)>
                    <p class="muted">"No appointments for this patient."</p>
                </Show>
            }>
                <ul class="list" data-testid="patient-appointments">
                    {move || {
                        let fid = facility_id.get();
                        rows.get().into_iter().map(|a| {
                            let when = local_day_and_time(&a.token_slot.start_datetime)
                                .map(|(d, t)| format!("{d} {t}"))
                                .unwrap_or_default();
                            let meta = format!("{} · {}", a.resource.full_name(), a.status.replace('_', " "));
                            view! {
                                <li class="list__item">
                                    <A href=format!("/facility/{fid}/appointments/{}", a.id) attr:class="list__link">{when}</A>
                                    <UnsyncedBadge id=a.id.clone()/>
                                    <span class="muted">{meta}</span>
                                </li>
                            }
                        }).collect_view()
                    }}
                </ul>
            </Show>
        </section>
    }
}
