use leptos::prelude::*;
use serde_json::{json, Value};

use crate::{
    api::keys::profile,
    model::{resource::STATUSES, ResourceRequest},
    offline::{
        outbox::{use_outbox, UseFollowReturn, WriteSpec},
        query::{use_query_client, QueryKey},
    },
};

/// Moves a resource request to another status (`PUT /resource/{id}/`), online or offline.
/// The change is checked against the request's `modified_date` when it is sent, so a change
/// someone else made meanwhile becomes a conflict to settle on the sync page.
#[component]
pub fn ResourceStatus(
    request: ResourceRequest,
    /// The page's follower (this form is rebuilt when the request changes; what became of
    /// the write is shown by the page).
    follow: UseFollowReturn,
) -> impl IntoView {
    let outbox = use_outbox();
    let client = use_query_client();
    let chosen = RwSignal::new(request.status.clone());
    let error = RwSignal::new(None::<String>);
    let base = StoredValue::new(request);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let request = base.get_value();
        let body = match request.status_body(&chosen.get_untracked()) {
            Ok(b) => b,
            Err(e) => {
                error.set(Some(e));
                return;
            }
        };
        error.set(None);
        let key = profile::resource_detail(&request.id);
        let current = client
            .get_query_data(&key)
            .unwrap_or_else(|| serde_json::to_value(&request).unwrap_or(Value::Null));
        let mut shown = current.clone();
        shown["status"] = json!(body["status"]);
        let mut optimistic = vec![(key, shown.clone())];
        optimistic.extend(client.lists_replacing(
            &QueryKey::new(["resource", "list"]),
            &request.id,
            &shown,
        ));
        let server_timestamp = if outbox.is_local_only(&request.id) {
            None
        } else {
            request.modified_date.clone()
        };
        let spec = WriteSpec {
            parents: outbox.unsynced_writes_of(&request.id),
            optimistic,
            base_snapshot: Some(current),
            server_timestamp,
            ..WriteSpec::new("resource.update", body).param("resource_id", &request.id)
        };
        leptos::task::spawn_local(async move {
            match outbox.queue(spec).await {
                Ok(record) => follow.start(record.id),
                Err(e) => error.set(Some(format!(
                    "Could not save on this device: {e}. Try again."
                ))),
            }
        });
    };

    view! {
        <form class="form form--inline" on:submit=submit novalidate data-testid="resource-status">
            <label class="field">
                <span class="field__label">"Change status"</span>
                <select class="field__input" name="status" prop:value=chosen
                    on:change=move |ev| chosen.set(event_target_value(&ev))>
                    {STATUSES.iter().map(|(v, l)| view! { <option value=*v>{*l}</option> }).collect_view()}
                </select>
            </label>
            {move || error.get().map(|m| view! { <p class="alert alert--error" role="alert">{m}</p> })}
            <button class="button button--primary" type="submit">"Update status"</button>
        </form>
    }
}
