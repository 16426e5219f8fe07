use leptos::prelude::*;
use leptos_router::components::A;

use crate::{
    api::keys::encounter as keys,
    components::{encounter_row::EncounterRow, section_notice::SectionNotice},
    model::{Encounter, Paginated},
    offline::{
        outbox::use_outbox,
        query::{use_query, use_query_client, QueryOptions},
    },
    session::use_session,
};

/// One patient's encounters in a facility (newest first) with "Start encounter"; for the
/// patient's page. Works offline from the cache, including encounters started offline.
#[component]
pub fn PatientEncounters(
    /// The facility.
    #[prop(into)]
    facility_id: Signal<String>,
    /// The patient (a temporary id for a patient registered offline).
    #[prop(into)]
    patient_id: Signal<String>,
    /// Show a "Start encounter" link (off where the page has one already).
    #[prop(default = true)]
    show_start: bool,
) -> impl IntoView {
    let session = use_session();
    let client = use_query_client();
    let outbox = use_outbox();
    let page = use_query::<Paginated<Encounter>, _, _, _>(
        move || keys::encounter_list(&facility_id.get(), &patient_id.get(), "", 0),
        move |key| {
            let path = keys::encounter_list_path(
                &facility_id.get_untracked(),
                &patient_id.get_untracked(),
                "",
                0,
            );
            keys::page_keeping_unsynced(session, client, outbox, key, path)
        },
        QueryOptions::persisted(),
    );
    let can_start = move || {
        show_start
            && session
                .user()
                .is_some_and(|u| u.can("can_create_encounter"))
    };
    view! {
        <section class="patient-encounters" aria-labelledby="patient-encounters-title">
            <div class="toolbar">
                <h2 id="patient-encounters-title">"Encounters"</h2>
                <Show when=can_start>
                    <A href=move || format!("/facility/{}/patients/{}/encounters/new", facility_id.get(), patient_id.get())
                        attr:class="button button--link">"Start encounter"</A>
                </Show>
            </div>
            <SectionNotice unavailable_offline=page.unavailable_offline error=page.error/>
            {move || page.data.get().map(|p| {
                let fid = facility_id.get();
                if p.results.is_empty() {
                    view! { <p class="muted">"No encounters yet."</p> }.into_any()
                } else {
                    view! {
                        <ul class="list" data-testid="patient-encounter-list">
                            {p.results.into_iter().map(|e| view! {
                                <EncounterRow encounter=e facility_id=fid.clone() show_patient=false/>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }
            })}
        </section>
    }
}
