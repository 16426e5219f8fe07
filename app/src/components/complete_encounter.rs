use leptos::prelude::*;
use serde_json::Value;

use crate::{
    api::keys::encounter as keys,
    model::Encounter,
    offline::{
        outbox::{effects, now_iso, use_follow, use_outbox, Followed, Outbox, WriteSpec},
        query::{use_query_client, QueryClient, QueryKey},
        store::StoreError,
    },
};

/// "Complete encounter": queues CARE's PUT with status completed and the period's end,
/// after any unsynced write of this encounter (its create, when it was started offline).
#[component]
pub fn CompleteEncounter(
    /// The encounter as shown.
    encounter: Encounter,
) -> impl IntoView {
    let outbox = use_outbox();
    let client = use_query_client();
    let follow = use_follow();
    let confirming = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let encounter = StoredValue::new(encounter);

    Effect::new(move |_| match follow.state.get() {
        None | Some(Followed::Sending) => {}
        Some(Followed::Synced(_)) | Some(Followed::SavedHere(_)) => {
            follow.stop();
            busy.set(false);
            confirming.set(false);
        }
        Some(Followed::Rejected { message, .. }) => {
            error.set(Some(format!(
                "CARE did not accept the completion: {message}"
            )));
            busy.set(false);
            let _id = follow.stop();
            #[cfg(feature = "hydrate")]
            if let Some(id) = _id {
                // The page shows the encounter as it was again.
                leptos::task::spawn_local(async move {
                    outbox.discard(&id).await;
                    client.invalidate(&QueryKey::new(["encounter"]));
                });
            }
        }
    });

    let complete = move |_| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        let e = encounter.get_value();
        leptos::task::spawn_local(async move {
            match queue_completion(outbox, client, &e).await {
                Ok(id) => follow.start(id),
                Err(err) => {
                    busy.set(false);
                    error.set(Some(format!("Could not save on this device: {err}")));
                }
            }
        });
    };

    view! {
        <div class="complete-encounter">
            <Show
                when=move || confirming.get()
                fallback=move || view! {
                    <button class="button" on:click=move |_| confirming.set(true)>"Complete encounter"</button>
                }
            >
                <div class="alert alert--info" role="group" aria-label="Confirm completion">
                    <p>"Mark this encounter as completed? Its period ends now."</p>
                    <button class="button button--primary" on:click=complete disabled=busy>
                        {move || if busy.get() { "Saving…" } else { "Yes, complete" }}
                    </button>
                    <button class="button" on:click=move |_| confirming.set(false) disabled=busy>"Cancel"</button>
                </div>
            </Show>
            {move || error.get().map(|m| view! { <p class="alert alert--error" role="alert">{m}</p> })}
        </div>
    }
}

/// Queues the completion with the encounter as it will read (detail and cached lists).
async fn queue_completion(
    outbox: Outbox,
    client: QueryClient,
    encounter: &Encounter,
) -> Result<String, StoreError> {
    let write_id = uuid::Uuid::new_v4().to_string();
    let now = now_iso();
    let payload = encounter.completion_payload(&now);
    let detail_key = keys::encounter_detail(&encounter.id);
    let current = client
        .get_query_data(&detail_key)
        .unwrap_or_else(|| serde_json::to_value(encounter).unwrap_or(Value::Null));
    let mut merged = effects::merge_update(&current, &payload);
    merged["modified_date"] = Value::String(now);
    let mut optimistic = vec![(detail_key, merged.clone())];
    for key in client.keys_with_prefix(&QueryKey::new(["encounter", "list"])) {
        if let Some(mut list) = client.get_query_data(&key) {
            if effects::replace(&mut list, &encounter.id, &merged) {
                optimistic.push((key, list));
            }
        }
    }
    let server_timestamp = if outbox.is_local_only(&encounter.id) {
        None
    } else {
        encounter.modified_date.clone()
    };
    outbox
        .queue(WriteSpec {
            id: Some(write_id.clone()),
            parents: outbox.unsynced_writes_of(&encounter.id),
            optimistic,
            base_snapshot: Some(current),
            server_timestamp,
            summary: Some(format!("completed · {}", encounter.patient.name)),
            ..WriteSpec::new("encounter.update", payload).param("encounter_id", &encounter.id)
        })
        .await?;
    Ok(write_id)
}
