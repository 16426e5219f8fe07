use leptos::prelude::*;
use leptos_router::{
    components::Outlet,
    hooks::{use_navigate, use_params_map},
};

use crate::{
    components::{connectivity::Connectivity, nav::Nav},
    session::use_session,
};

/// The signed-in frame: header, navigation, and the page. Sends a signed-out visitor to
/// the login page once the browser has restored (or not) the session.
#[component]
pub fn AuthedLayout() -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let params = use_params_map();
    let facility_id = move || params.read().get("facility_id").unwrap_or_default();

    Effect::new(move |_| {
        if session.restored() && !session.signed_in() {
            navigate("/login", Default::default());
        }
    });

    let sign_out = move |_| {
        leptos::task::spawn_local(async move {
            session.sign_out().await;
        });
    };

    view! {
        <Show
            when=move || session.restored() && session.signed_in()
            fallback=|| view! { <p class="loading" aria-busy="true">"Loading…"</p> }
        >
            <header class="topbar">
                <span class="topbar__brand">"CARE Offline"</span>
                <Connectivity/>
                <span class="topbar__user" data-testid="signed-in-user">
                    {move || session.user().map(|u| u.user.full_name()).unwrap_or_default()}
                </span>
                <button class="button button--ghost" on:click=sign_out>"Sign out"</button>
            </header>
            <Nav facility_id=facility_id()/>
            <main class="page">
                <Outlet/>
            </main>
        </Show>
    }
}
