use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::{
    api::keys::encounter::{self as keys, ENCOUNTER_PAGE_SIZE},
    components::{encounter_row::EncounterRow, pager::Pager, query_notice::QueryNotice},
    model::{encounter::STATUSES, Encounter, Paginated},
    offline::{
        outbox::use_outbox,
        query::{use_query, use_query_client, QueryOptions},
    },
    session::use_session,
};

/// The facility's encounters, newest first, filterable by status; read through the cache
/// so a visited page works offline (encounters started offline are on it with a badge).
#[component]
pub fn FacilityEncounters() -> impl IntoView {
    let session = use_session();
    let client = use_query_client();
    let outbox = use_outbox();
    let params = use_params_map();
    let facility_id = Memo::new(move |_| params.read().get("facility_id").unwrap_or_default());
    let status = RwSignal::new(String::new());
    let offset = RwSignal::new(0u32);
    let page = use_query::<Paginated<Encounter>, _, _, _>(
        move || keys::encounter_list(&facility_id.get(), "", &status.get(), offset.get()),
        move |key| {
            let path = keys::encounter_list_path(
                &facility_id.get_untracked(),
                "",
                &status.get_untracked(),
                offset.get_untracked(),
            );
            keys::page_keeping_unsynced(session, client, outbox, key, path)
        },
        QueryOptions::persisted(),
    );

    view! {
        <section class="encounters">
            <div class="toolbar">
                <h1>"Encounters"</h1>
                <button class="button" on:click=move |_| page.refetch() disabled=move || page.fetching.get()>
                    {move || if page.fetching.get() { "Refreshing…" } else { "Refresh" }}
                </button>
            </div>
            <label class="field">
                <span class="field__label">"Status"</span>
                <select
                    class="field__input"
                    on:change=move |ev| {
                        offset.set(0);
                        status.set(event_target_value(&ev));
                    }
                    prop:value=status
                >
                    <option value="">"All statuses"</option>
                    {STATUSES.iter().map(|(code, label)| view! { <option value=*code>{*label}</option> }).collect_view()}
                </select>
            </label>
            <QueryNotice saved_at=page.saved_at unavailable_offline=page.unavailable_offline error=page.error/>
            <Show when=move || page.loading.get()>
                <p class="loading" aria-busy="true">"Loading encounters…"</p>
            </Show>
            {move || page.data.get().map(|p| {
                let total = p.count;
                let fid = facility_id.get();
                view! {
                    <p class="muted" data-testid="encounter-count">{format!("{total} encounters")}</p>
                    <ul class="list" data-testid="encounter-list">
                        {p.results.into_iter().map(|e| view! { <EncounterRow encounter=e facility_id=fid.clone()/> }).collect_view()}
                    </ul>
                }
            })}
            <Pager offset page_size=ENCOUNTER_PAGE_SIZE total=Signal::derive(move || page.data.with(|d| d.as_ref().map(|p| p.count))) label="Encounter pages"/>
        </section>
    }
}
