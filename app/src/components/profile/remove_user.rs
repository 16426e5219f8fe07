use leptos::prelude::*;
use serde_json::{json, Value};

use crate::{
    api::keys::profile,
    model::UserSpec,
    offline::{
        outbox::{registry::patient, use_outbox, WriteSpec},
        query::use_query_client,
        store::StoreError,
    },
};

/// What came of a confirmed removal.
#[derive(Debug, Clone, PartialEq)]
pub enum Removed {
    /// The `delete_user` write queued (its outbox id), to be followed.
    Queued(String),
    /// The user's assignment had never left this device: withdrawn, nothing to send.
    Withdrawn(String),
    /// The device could not store it.
    NotSaved(String),
}

/// "Remove" on an assigned user's row, asking first. The user disappears from the list at
/// once; `delete_user` is queued like every write (or the user's assignment, still only on
/// this device, is withdrawn instead).
#[component]
pub fn RemovePatientUser(
    #[prop(into)] patient_id: Signal<String>,
    /// The user as listed.
    user: UserSpec,
    /// What came of it, once confirmed.
    on_done: Callback<Removed>,
) -> impl IntoView {
    let outbox = use_outbox();
    let client = use_query_client();
    let confirming = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let name = user.full_name();
    let question = format!("Remove {name} from this patient?");
    let user = StoredValue::new(user);

    let remove = move |_| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        let pid = patient_id.get_untracked();
        let user = user.get_value();
        let users_key = profile::patient_users(&pid);
        let mut list = client
            .get_query_data(&users_key)
            .unwrap_or_else(|| json!({ "results": [] }));
        if let Some(results) = list.get_mut("results").and_then(Value::as_array_mut) {
            results.retain(|u| u.get("id").and_then(Value::as_str) != Some(user.id.as_str()));
        }
        let spec = WriteSpec {
            optimistic: vec![(users_key, list)],
            summary: Some(format!("{} ({})", user.full_name(), user.username)),
            ..WriteSpec::new(patient::DELETE_USER, json!({ "user": user.id }))
                .param("patient_id", &pid)
        };
        let creator = outbox.creator_of(&pid);
        let uid = user.id.clone();
        leptos::task::spawn_local(async move {
            let planned = outbox
                .queue_undo(spec, move |records| {
                    patient::plan_removal(records, &pid, &uid, creator)
                })
                .await;
            busy.set(false);
            confirming.set(false);
            on_done.run(match planned {
                Ok(Some(record)) => Removed::Queued(record.id),
                Ok(None) => Removed::Withdrawn(user.full_name()),
                Err(e) => Removed::NotSaved(not_saved(&e)),
            });
        });
    };

    view! {
        <Show
            when=move || confirming.get()
            fallback=move || view! {
                <button class="button button--small button--ghost" type="button"
                    aria-label=format!("Remove {name}") on:click=move |_| confirming.set(true)>"Remove"</button>
            }
        >
            <span class="confirm" role="group" aria-label="Confirm removal">
                <span>{question.clone()}</span>
                " "
                <button class="button button--small button--danger" type="button" on:click=remove disabled=busy>
                    {move || if busy.get() { "Removing…" } else { "Yes, remove" }}
                </button>
                " "
                <button class="button button--small" type="button" on:click=move |_| confirming.set(false) disabled=busy>"Cancel"</button>
            </span>
        </Show>
    }
}

fn not_saved(e: &StoreError) -> String {
    format!("Could not save the removal on this device: {e}. Try again.")
}
