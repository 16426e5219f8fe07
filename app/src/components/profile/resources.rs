use leptos::prelude::*;
use leptos_router::components::A;

use crate::{
    api::keys::profile,
    components::{query_notice::QueryNotice, unsynced_badge::UnsyncedBadge},
    model::resource::{label, CATEGORIES, STATUSES},
    offline::query::{use_query, QueryOptions},
    session::use_session,
};

/// The patient's resource requests, newest first, with a way to raise a new one.
#[component]
pub fn PatientResources(
    #[prop(into)] patient_id: Signal<String>,
    #[prop(into)] facility_id: Signal<String>,
) -> impl IntoView {
    let session = use_session();
    let list = use_query(
        move || profile::resource_list(&patient_id.get()),
        move |_| profile::get_resource_list(session, patient_id.get_untracked()),
        QueryOptions::persisted(),
    );
    view! {
        <section class="tab-panel" aria-label="Resources">
            <A href=move || format!("/facility/{}/patients/{}/resources/new", facility_id.get(), patient_id.get())
                attr:class="button button--link">"New resource request"</A>
            <QueryNotice saved_at=list.saved_at unavailable_offline=list.unavailable_offline error=list.error/>
            <Show when=move || list.loading.get()>
                <p class="loading" aria-busy="true">"Loading resource requests…"</p>
            </Show>
            {move || list.data.get().map(|page| {
                if page.results.is_empty() {
                    return view! { <p class="muted">"No resource requests for this patient."</p> }.into_any();
                }
                let fid = facility_id.get();
                view! {
                    <ul class="list" data-testid="patient-resources">
                        {page.results.into_iter().map(|r| {
                            let meta = format!(
                                "{} · {}{}",
                                label(CATEGORIES, &r.category),
                                label(STATUSES, &r.status),
                                if r.emergency { " · emergency" } else { "" }
                            );
                            view! {
                                <li class="list__item">
                                    <A href=format!("/facility/{fid}/resources/{}", r.id) attr:class="list__link">{r.title}</A>
                                    <UnsyncedBadge id=r.id.clone()/>
                                    <span class="muted">{meta}</span>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            })}
        </section>
    }
}
