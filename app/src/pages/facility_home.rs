use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::{
    api::{ApiError, Method},
    components::error_message::ErrorMessage,
    model::Facility,
    session::use_session,
};

/// The facility home: who is signed in and the facility, both from the API.
#[component]
pub fn FacilityHome() -> impl IntoView {
    let session = use_session();
    let params = use_params_map();
    let facility_id = move || params.read().get("facility_id").unwrap_or_default();
    let facility = LocalResource::new(move || {
        let id = facility_id();
        async move {
            session
                .call::<Facility>(Method::Get, &format!("/facility/{id}/"), None)
                .await
        }
    });
    let error = Signal::derive(move || match facility.get() {
        Some(Err(e)) => Some(e),
        _ => None::<ApiError>,
    });

    view! {
        <section class="home">
            <h1 class="home__title" data-testid="facility-name">
                {move || match facility.get() {
                    Some(Ok(f)) => f.name,
                    Some(Err(_)) => "Facility".to_string(),
                    None => "Loading facility…".to_string(),
                }}
            </h1>
            {move || facility.get().and_then(Result::ok).map(|f| view! {
                <p class="home__meta">
                    {f.facility_type.unwrap_or_default()}
                    {f.address.map(|a| format!(" · {a}"))}
                </p>
            })}
            <ErrorMessage error=error/>
            <Show when=move || error.get().is_some()>
                <button class="button" on:click=move |_| facility.refetch()>"Try again"</button>
            </Show>
            <p class="home__user">
                "Signed in as "
                <strong data-testid="home-user">{move || session.user().map(|u| u.user.full_name()).unwrap_or_default()}</strong>
                {move || session.user().map(|u| format!(" ({})", u.user.user_type))}
            </p>
        </section>
    }
}
