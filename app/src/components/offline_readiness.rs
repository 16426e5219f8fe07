use leptos::prelude::*;

use crate::{
    components::query_notice::format_saved_at,
    offline::{network::use_network, readiness::use_readiness},
};

/// The sync page's "Ready for offline — updated 08:02" (or what is not on the device),
/// progress while a run goes on, and "Get ready for offline" to run it now.
#[component]
pub fn OfflineReadiness(
    /// The facility to get ready for.
    #[prop(into)]
    facility_id: Signal<String>,
) -> impl IntoView {
    let readiness = use_readiness();
    let network = use_network();
    let summary = move || match readiness.report() {
        Some(r) => {
            let at = format_saved_at(r.finished_at, chrono::Utc::now().timestamp_millis());
            r.summary(&at)
        }
        None => {
            "Not yet ready for offline: nothing has been fetched for offline work on this device."
                .to_string()
        }
    };
    view! {
        <section class="readiness" aria-labelledby="readiness-title">
            <h2 id="readiness-title">"Offline readiness"</h2>
            <p role="status" data-testid="readiness-summary">
                {move || match readiness.progress() {
                    Some((done, planned)) => format!("Getting ready for offline: {done} of {planned}"),
                    None => summary(),
                }}
            </p>
            <button
                class="button"
                type="button"
                disabled=move || !network.online() || readiness.progress().is_some()
                on:click=move |_| readiness.start(facility_id.get_untracked())
            >"Get ready for offline"</button>
            <Show when=move || !network.online()>
                <p class="muted">"Connect to get ready: this needs the network."</p>
            </Show>
        </section>
    }
}
