use leptos::prelude::*;

use crate::offline::{
    network::use_network,
    outbox::{use_outbox, SyncStatus},
};

/// Where a write this page just queued stands: sending, saved on this device, synced, or
/// not accepted (with CARE's reason).
#[component]
pub fn WriteStatus(
    /// The outbox id of the write (None: nothing queued yet).
    #[prop(into)]
    id: Signal<Option<String>>,
    /// What to say once the server has it.
    done: &'static str,
) -> impl IntoView {
    let outbox = use_outbox();
    let network = use_network();
    move || {
        let record = outbox.record(&id.get()?)?;
        let (class, text) = match record.sync_status {
            SyncStatus::Success => ("alert alert--ok", done.to_string()),
            SyncStatus::Pending | SyncStatus::InFlight if network.online() => {
                ("alert alert--info", "Sending…".to_string())
            }
            SyncStatus::Pending | SyncStatus::InFlight => (
                "alert alert--info",
                "Saved on this device — will sync when the server is reachable.".to_string(),
            ),
            SyncStatus::NeedsAuth => (
                "alert alert--warn",
                "Saved on this device — sign in again to send it.".to_string(),
            ),
            SyncStatus::Failed | SyncStatus::Blocked | SyncStatus::Conflict => (
                "alert alert--error",
                format!(
                    "Not accepted: {}. See Sync status to retry or discard.",
                    record
                        .error_message()
                        .unwrap_or_else(|| record.sync_status.label().to_string())
                ),
            ),
        };
        let role = if class.ends_with("error") {
            "alert"
        } else {
            "status"
        };
        Some(view! { <p class=class role=role data-testid="write-status">{text}</p> })
    }
}
