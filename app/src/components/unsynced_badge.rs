use leptos::prelude::*;

use crate::offline::outbox::{use_outbox, SyncStatus};

/// "Saved on this device — will sync" on a record that has a write not yet on the server.
#[component]
pub fn UnsyncedBadge(
    /// The record's id (a temporary id for an offline create).
    #[prop(into)]
    id: Signal<String>,
) -> impl IntoView {
    let outbox = use_outbox();
    move || {
        outbox.unsynced_status(&id.get()).map(|status| {
            let (class, text) = match status {
                SyncStatus::Failed | SyncStatus::Blocked => {
                    ("badge badge--error", "Not synced — see Sync status")
                }
                SyncStatus::Conflict => ("badge badge--error", "Conflict — see Sync status"),
                SyncStatus::Unknown => (
                    "badge badge--error",
                    "May have reached CARE — see Sync status",
                ),
                SyncStatus::NeedsAuth => (
                    "badge badge--warn",
                    "Saved on this device — sign in to sync",
                ),
                _ => ("badge badge--warn", "Saved on this device — will sync"),
            };
            view! { <span class=class role="status" data-testid="unsynced-badge">{text}</span> }
        })
    }
}
