use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::{
    api::keys,
    components::{query_notice::QueryNotice, waiting_writes::WaitingWrites},
    model::Facility,
    offline::query::{use_query, QueryOptions},
    session::use_session,
};

/// The facility home: who is signed in and the facility, both from the API (cached).
#[component]
pub fn FacilityHome() -> impl IntoView {
    let session = use_session();
    let params = use_params_map();
    let facility_id = move || params.read().get("facility_id").unwrap_or_default();
    let facility = use_query::<Facility, _, _, _>(
        move || keys::facility(&facility_id()),
        move |_| keys::get_facility(session, facility_id_untracked(params)),
        QueryOptions::persisted(),
    );

    view! {
        <section class="home">
            <h1 class="home__title" data-testid="facility-name">
                {move || match facility.data.get() {
                    Some(f) => f.name,
                    None if facility.loading.get() => "Loading facility…".to_string(),
                    None => "Facility".to_string(),
                }}
            </h1>
            <QueryNotice saved_at=facility.saved_at unavailable_offline=facility.unavailable_offline error=facility.error/>
            {move || facility.data.get().map(|f| view! {
                <p class="home__meta">
                    {f.facility_type.unwrap_or_default()}
                    {f.address.map(|a| format!(" · {a}"))}
                </p>
            })}
            <WaitingWrites
                username=Signal::derive(move || session.user().map(|u| u.user.username).unwrap_or_default())
                signed_in=true
            />
            <p class="home__user">
                "Signed in as "
                <strong data-testid="home-user">{move || session.user().map(|u| u.user.full_name()).unwrap_or_default()}</strong>
                {move || session.user().map(|u| format!(" ({})", u.user.user_type))}
            </p>
        </section>
    }
}

fn facility_id_untracked(params: Memo<leptos_router::params::ParamsMap>) -> String {
    params.with_untracked(|p| p.get("facility_id").unwrap_or_default())
}
