use leptos::prelude::*;

use crate::{
    api::keys::encounter as keys,
    components::{section_notice::SectionNotice, unsynced_badge::UnsyncedBadge},
    model::{ClinicalEntry, ClinicalKind, Paginated},
    offline::{
        outbox::use_outbox,
        query::{use_query, use_query_client, QueryOptions},
    },
    session::use_session,
};

/// One clinical list of an encounter (allergies, symptoms, diagnoses or medication
/// statements), read through the cache; entries submitted offline show with their badge.
#[component]
pub fn ClinicalList(
    /// Which list.
    kind: ClinicalKind,
    /// The patient.
    #[prop(into)]
    patient_id: Signal<String>,
    /// The encounter; empty: every encounter of the patient.
    #[prop(into)]
    encounter_id: Signal<String>,
) -> impl IntoView {
    let session = use_session();
    let client = use_query_client();
    let outbox = use_outbox();
    let page = use_query::<Paginated<ClinicalEntry>, _, _, _>(
        move || keys::clinical_list(kind, &patient_id.get(), &encounter_id.get()),
        move |key| {
            let path = keys::clinical_list_path(
                kind,
                &patient_id.get_untracked(),
                &encounter_id.get_untracked(),
            );
            async move {
                let mut page: Paginated<ClinicalEntry> =
                    keys::page_keeping_unsynced(session, client, outbox, key, path).await?;
                let before = page.results.len();
                page.results.retain(|e| kind.keeps(e.category.as_deref()));
                page.count = page
                    .count
                    .saturating_sub((before - page.results.len()) as u64);
                Ok(page)
            }
        },
        QueryOptions::persisted(),
    );
    let heading_id = format!("clinical-{}", kind.resource());
    let labelled_by = heading_id.clone();
    view! {
        <section class="clinical" aria-labelledby=labelled_by data-testid=format!("clinical-{}", kind.resource())>
            <h2 id=heading_id>{kind.title()}</h2>
            <SectionNotice unavailable_offline=page.unavailable_offline error=page.error/>
            {move || page.data.get().map(|p| {
                if p.results.is_empty() {
                    view! { <p class="muted">"None recorded."</p> }.into_any()
                } else {
                    view! {
                        <ul class="list clinical__list">
                            {p.results.into_iter().map(|e| view! {
                                <li class="list__item clinical__item" data-testid="clinical-entry">
                                    <strong>{e.title()}</strong>
                                    <UnsyncedBadge id=e.id.clone()/>
                                    <span class="muted">{e.summary()}</span>
                                    {e.note.clone().filter(|n| !n.is_empty()).map(|n| view! { <span class="muted">{n}</span> })}
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }
            })}
        </section>
    }
}
