use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::session::use_session;

/// `/`: the signed-in user's facility home, or the login page.
#[component]
pub fn RootRedirect() -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if !session.restored() {
            return;
        }
        let target = match session.user().and_then(|u| u.facilities.first().cloned()) {
            Some(f) if session.signed_in() => format!("/facility/{}", f.id),
            _ => "/login".to_string(),
        };
        navigate(&target, Default::default());
    });
    view! { <p class="loading" aria-busy="true">"Loading…"</p> }
}
