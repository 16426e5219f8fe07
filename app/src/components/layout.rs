use leptos::prelude::*;
use leptos_router::{
    components::Outlet,
    hooks::{use_navigate, use_params_map},
};

use crate::{
    components::{connectivity::Connectivity, nav::Nav, sync_badge::SyncBadge},
    offline::outbox::use_outbox,
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

    let outbox = use_outbox();
    // Writes waiting on this device are kept for this user (and sent when they sign in
    // again), but the person should know before leaving.
    let sign_out = move |_| {
        let open = outbox.open_count() + outbox.attention_count();
        #[cfg(feature = "hydrate")]
        if open > 0 {
            let message = format!(
                "{open} change(s) are saved only on this device. They stay here and are sent when you sign in again. Sign out?"
            );
            let ok = web_sys::window()
                .and_then(|w| w.confirm_with_message(&message).ok())
                .unwrap_or(false);
            if !ok {
                return;
            }
        }
        let _ = open;
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
                <SyncBadge facility_id=facility_id()/>
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
