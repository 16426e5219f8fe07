use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_params_map};

/// What to do about data missing offline: next time there is a connection, get the device
/// ready on the sync page (which works offline, so the link does too).
#[component]
pub fn GetReadyHint() -> impl IntoView {
    let params = use_params_map();
    let href = move || {
        format!(
            "/facility/{}/sync",
            params.read().get("facility_id").unwrap_or_default()
        )
    };
    view! {
        <span class="get-ready-hint" data-testid="get-ready-hint">
            " When you are online again, choose "
            <A href=href>"Get ready for offline"</A>
            " on Sync status, and this device keeps what offline work needs."
        </span>
    }
}
