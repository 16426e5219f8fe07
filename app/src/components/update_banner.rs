//! "A new version is ready — Reload now": shown on every page while a newer version of the
//! app waits (or another tab already runs it). The reload happens only when the person
//! presses it, after any sync pass.

use leptos::prelude::*;

use crate::offline::{outbox::use_outbox, update::use_app_update};

#[component]
pub fn UpdateBanner() -> impl IntoView {
    let update = use_app_update();
    let outbox = use_outbox();
    view! {
        {move || update.offer().map(|offer| view! {
            <div class="alert alert--info update-banner" role="status" data-testid="update-banner">
                <span>{move || offer.message(outbox.open_count())}</span>
                " "
                <button class="button button--small" type="button"
                    disabled=move || update.applying()
                    on:click=move |_| update.apply(outbox)>
                    {move || if update.applying() { "Reloading after the sync…" } else { "Reload now" }}
                </button>
            </div>
        })}
    }
}
