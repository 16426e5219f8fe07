use leptos::prelude::*;
use serde_json::Value;

use crate::{
    api::keys::sync,
    model::{field_label::field_label, sync_health::ReviewItem},
    offline::{outbox::engine::diff_fields, query::use_query_client},
    session::use_session,
};

fn show(v: &Value) -> String {
    match v {
        Value::Null => "—".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A write flagged for review: the offline change beside CARE's record, field by field,
/// and the administrator's decision.
#[component]
pub fn ReviewEntry(item: ReviewItem) -> impl IntoView {
    let session = use_session();
    let client = use_query_client();
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    // Fields the offline change sets that differ from the server's record.
    let diffs = diff_fields(&item.server_record, &item.data, &item.server_record);
    let decide = move |id: String, resolution: &'static str| {
        busy.set(true);
        leptos::task::spawn_local(async move {
            match sync::resolve(session, id, resolution).await {
                Ok(()) => client.invalidate(&sync::health()),
                Err(e) => error.set(Some(e.to_string())),
            }
            busy.set(false);
        });
    };
    let (keep_mine, keep_server) = (item.id.clone(), item.id.clone());
    view! {
        <li class="list__item review" data-testid="review-item">
            <strong>{format!("{} {} · {}", item.operation, item.resource_type, item.username)}</strong>
            <span class="muted">{format!("{} · device {}", item.path, item.device_id)}</span>
            <table class="diff">
                <thead><tr><th>"Field"</th><th>"Offline change"</th><th>"On the server"</th></tr></thead>
                <tbody>
                    {diffs.into_iter().map(|d| view! {
                        <tr><th scope="row">{field_label(&d.field)}</th><td>{show(&d.mine)}</td><td>{show(&d.server)}</td></tr>
                    }).collect_view()}
                </tbody>
            </table>
            {move || error.get().map(|m| view! { <p class="alert alert--error" role="alert">{m}</p> })}
            <div class="write__actions">
                <button class="button" disabled=busy on:click=move |_| decide(keep_mine.clone(), "CLIENT_WINS")>"Send the offline change"</button>
                <button class="button" disabled=busy on:click=move |_| decide(keep_server.clone(), "SERVER_WINS")>"Keep the server's record"</button>
            </div>
        </li>
    }
}
