use leptos::prelude::*;
use leptos_router::components::A;

use crate::offline::outbox::use_outbox;

/// The header's count of writes waiting on this device, linking to the sync page.
#[component]
pub fn SyncBadge(
    /// The facility whose sync page the badge opens.
    facility_id: String,
) -> impl IntoView {
    let outbox = use_outbox();
    let href = format!("/facility/{facility_id}/sync");
    view! {
        <A href=href attr:class="sync-badge" attr:data-testid="sync-badge">
            <span role="status">{move || {
                if !outbox.loaded() {
                    return "Checking saved changes…".to_string();
                }
                let (open, attention) = (outbox.open_count(), outbox.attention_count());
                match (open, attention) {
                    (0, 0) => "All synced".to_string(),
                    (n, 0) => format!("{n} to sync"),
                    (0, a) => format!("{a} need attention"),
                    (n, a) => format!("{n} to sync · {a} need attention"),
                }
            }}</span>
        </A>
    }
}
