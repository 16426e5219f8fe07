use leptos::prelude::*;

use crate::offline::{network::use_network, query::use_query_client};

/// The header's connection state, and a notice when nothing can be saved on this device.
#[component]
pub fn Connectivity() -> impl IntoView {
    let network = use_network();
    let client = use_query_client();
    view! {
        <span
            class=move || if network.online() { "pill pill--online" } else { "pill pill--offline" }
            data-testid="connectivity"
            role="status"
        >
            {move || if network.online() { "Online" } else { "Offline" }}
        </span>
        {move || client.storage_notice().map(|n| view! {
            <p class="alert alert--error storage-notice" role="alert" data-testid="storage-notice">
                "Data is not being saved on this device, so pages will not work offline. (" {n} ")"
            </p>
        })}
    }
}
