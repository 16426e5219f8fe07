use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_params_map};

use crate::{
    api::keys::{self, PATIENT_PAGE_SIZE},
    components::{pager::Pager, query_notice::QueryNotice, unsynced_badge::UnsyncedBadge},
    model::{Paginated, Patient},
    offline::query::{use_query, QueryOptions},
    session::use_session,
};

/// Patients, newest first, filterable by name; read through the cache so a visited page
/// works offline.
#[component]
pub fn PatientList() -> impl IntoView {
    let session = use_session();
    let params = use_params_map();
    let facility_id = Memo::new(move |_| params.read().get("facility_id").unwrap_or_default());
    let name = RwSignal::new(String::new());
    let offset = RwSignal::new(0u32);
    let page = use_query::<Paginated<Patient>, _, _, _>(
        move || keys::patient_list(&facility_id.get(), &name.get(), offset.get()),
        move |_| keys::get_patient_page(session, name.get_untracked(), offset.get_untracked()),
        QueryOptions::persisted(),
    );
    let this_year = chrono::Utc::now()
        .format("%Y")
        .to_string()
        .parse::<i64>()
        .unwrap_or(2026);

    view! {
        <section class="patients">
            <div class="toolbar">
                <h1>"Patients"</h1>
                <A href=move || format!("/facility/{}/patients/search", facility_id.get()) attr:class="button button--link">
                    "Find by phone"
                </A>
                <A href=move || format!("/facility/{}/patients/new", facility_id.get()) attr:class="button button--link">
                    "Register patient"
                </A>
                <button
                    class="button"
                    on:click=move |_| page.refetch()
                    disabled=move || page.fetching.get()
                >
                    {move || if page.fetching.get() { "Refreshing…" } else { "Refresh" }}
                </button>
            </div>
            <label class="field">
                <span class="field__label">"Search by name"</span>
                <input
                    class="field__input"
                    type="search"
                    prop:value=name
                    on:change=move |ev| {
                        offset.set(0);
                        name.set(event_target_value(&ev));
                    }
                />
            </label>
            <QueryNotice saved_at=page.saved_at unavailable_offline=page.unavailable_offline error=page.error/>
            <Show when=move || page.loading.get()>
                <p class="loading" aria-busy="true">"Loading patients…"</p>
            </Show>
            {move || page.data.get().map(|p| {
                let total = p.count;
                let fid = facility_id.get();
                view! {
                    <p class="muted" data-testid="patient-count">{format!("{total} patients")}</p>
                    <ul class="list" data-testid="patient-list">
                        {p.results.into_iter().map(|pt| {
                            let href = format!("/facility/{fid}/patients/{}", pt.id);
                            let id = pt.id.clone();
                            let meta = format!(
                                "{}{} · {}",
                                pt.gender_label(),
                                pt.age_in(this_year).map(|a| format!(", {a} y")).unwrap_or_default(),
                                pt.phone_number
                            );
                            view! {
                                <li class="list__item">
                                    <A href=href attr:class="list__link">{pt.name}</A>
                                    <UnsyncedBadge id=id/>
                                    <span class="muted">{meta}</span>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }
            })}
            <Pager offset page_size=PATIENT_PAGE_SIZE total=Signal::derive(move || page.data.with(|d| d.as_ref().map(|p| p.count))) label="Patient pages"/>
        </section>
    }
}
