use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_params_map};

use crate::{
    api::keys::profile,
    components::{
        query_notice::QueryNotice, resource_comments::ResourceComments,
        resource_status::ResourceStatus, unsynced_badge::UnsyncedBadge, write_status::WriteStatus,
    },
    model::resource::{label, CATEGORIES, STATUSES},
    offline::{
        outbox::use_follow,
        query::{use_query, QueryOptions},
    },
    session::use_session,
};

/// One resource request, read through the cache (an offline one shows from the device).
#[component]
pub fn ResourceDetail() -> impl IntoView {
    let session = use_session();
    let params = use_params_map();
    let facility_id = Memo::new(move |_| params.read().get("facility_id").unwrap_or_default());
    let id = Memo::new(move |_| params.read().get("resource_id").unwrap_or_default());
    let request = use_query(
        move || profile::resource_detail(&id.get()),
        move |_| profile::get_resource(session, id.get_untracked()),
        QueryOptions::persisted(),
    );
    let follow = use_follow();
    let row = |name: &'static str, value: String| {
        view! {
            <div class="facts__row">
                <dt>{name}</dt>
                <dd>{if value.is_empty() { "—".to_string() } else { value }}</dd>
            </div>
        }
    };
    view! {
        <section class="resource">
            <QueryNotice saved_at=request.saved_at unavailable_offline=request.unavailable_offline error=request.error/>
            <Show when=move || request.loading.get()>
                <p class="loading" aria-busy="true">"Loading request…"</p>
            </Show>
            {move || request.data.get().map(|r| {
                let back = r.related_patient.as_ref().map(|p| {
                    format!("/facility/{}/patients/{}?tab=resources", facility_id.get(), p.id)
                });
                view! {
                    {back.map(|href| view! { <A href=href>"← Patient"</A> })}
                    <h1 data-testid="resource-title">{r.title.clone()}</h1>
                    <UnsyncedBadge id=Signal::derive(move || id.get())/>
                    <dl class="facts">
                        {row("Status", label(STATUSES, &r.status))}
                        {row("Category", label(CATEGORIES, &r.category))}
                        {row("Emergency", if r.emergency { "Yes".into() } else { "No".into() })}
                        {row("Priority", r.priority.map(|p| p.to_string()).unwrap_or_default())}
                        {row("Reason", r.reason.clone())}
                        {row("Patient", r.related_patient.as_ref().map(|p| p.name.clone()).unwrap_or_default())}
                        {row("From", r.origin_facility.as_ref().map(|f| f.name.clone()).unwrap_or_default())}
                        {row("Contact", format!("{} {}", r.referring_facility_contact_name, r.referring_facility_contact_number))}
                        {row("Raised by", r.created_by.as_ref().map(|u| u.full_name()).unwrap_or_default())}
                    </dl>
                    <ResourceStatus request=r.clone() follow=follow/>
                }
            })}
            <WriteStatus state=follow.state done="Status updated."/>
            <ResourceComments resource_id=Signal::derive(move || id.get())/>
        </section>
    }
}
