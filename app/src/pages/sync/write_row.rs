use leptos::prelude::*;
use serde_json::Value;

use super::{edit_link::edit_href, find_created::FindCreated, merge_dialog::MergeDialog};
use crate::{
    components::{batch_failure::BatchFailure, query_notice::format_saved_at},
    offline::outbox::{
        registry::{resolve_link, route},
        use_outbox, OutboxRecord, SyncStatus,
    },
};

fn describe(record: &OutboxRecord) -> String {
    let name = record
        .payload
        .get("name")
        .and_then(Value::as_str)
        .or(record.summary.as_deref())
        .unwrap_or("");
    let label = route(&record.sync_route_key)
        .map(|r| r.label)
        .unwrap_or("Write");
    if name.is_empty() {
        label.to_string()
    } else {
        format!("{label}: {name}")
    }
}

/// Where a person can see whether a write's effect is in CARE: the record it changed, or
/// for a new patient the search by phone.
fn check_href(record: &OutboxRecord, facility_id: &str) -> Option<String> {
    if record.sync_route_key == "patient.create" {
        return Some(format!("/facility/{facility_id}/patients/search"));
    }
    let param = |name: &str| record.path_params.get(name).filter(|v| !v.is_empty());
    if let Some(e) = param("encounter_id") {
        return Some(format!("/facility/{facility_id}/encounter/{e}"));
    }
    if let Some(a) = param("appointment_id") {
        return Some(format!("/facility/{facility_id}/appointments/{a}"));
    }
    param("patient_id").map(|p| format!("/facility/{facility_id}/patients/{p}"))
}

/// One queued write with its state and actions.
#[component]
pub fn WriteRow(
    /// The write.
    record: OutboxRecord,
) -> impl IntoView {
    let outbox = use_outbox();
    let params = leptos_router::hooks::use_params_map();
    let edit = edit_href(
        &record,
        &params
            .read_untracked()
            .get("facility_id")
            .unwrap_or_default(),
    );
    let show = RwSignal::new(false);
    let resolving = RwSignal::new(false);
    let now = chrono::Utc::now().timestamp_millis();
    let id = record.id.clone();
    let status = record.sync_status;
    let can_retry = matches!(
        status,
        SyncStatus::Failed | SyncStatus::Blocked | SyncStatus::NeedsAuth
    );
    // A synced write is on the server: there is nothing here to discard.
    let can_discard = !matches!(
        status,
        SyncStatus::InFlight | SyncStatus::Success | SyncStatus::Unknown
    );
    let unknown = status == SyncStatus::Unknown;
    let check = check_href(
        &record,
        &params
            .read_untracked()
            .get("facility_id")
            .unwrap_or_default(),
    );
    let (confirm_id, again_id) = (id.clone(), id.clone());
    let confirm = move |_| {
        let _id = confirm_id.clone();
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move { outbox.confirm_applied(&_id).await });
    };
    let again = move |_| {
        let _id = again_id.clone();
        #[cfg(feature = "hydrate")]
        {
            let ok = web_sys::window()
                .and_then(|w| {
                    w.confirm_with_message(
                        "Send this change again? Do this only if you checked that CARE does not have it.",
                    )
                    .ok()
                })
                .unwrap_or(false);
            if ok {
                leptos::task::spawn_local(async move { outbox.send_again(&_id).await });
            }
        }
    };
    let details = serde_json::to_string_pretty(&serde_json::json!({
        "payload": record.payload,
        "response": record.response,
        "error": record.last_error,
    }))
    .unwrap_or_default();
    let (retry_id, discard_id) = (id.clone(), id.clone());
    let _ = outbox;
    let retry = move |_| {
        let _id = retry_id.clone();
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move { outbox.retry(&_id).await });
    };
    let discard = move |_| {
        let _id = discard_id.clone();
        #[cfg(feature = "hydrate")]
        {
            let ok = web_sys::window()
                .and_then(|w| {
                    w.confirm_with_message(
                        "Discard this change? It has not reached the server and will be lost.",
                    )
                    .ok()
                })
                .unwrap_or(false);
            if ok {
                leptos::task::spawn_local(async move { outbox.discard(&_id).await });
            }
        }
    };
    let conflict_record = record.clone();
    let resolve = resolve_link(&record);
    view! {
        <li class="list__item write" data-testid="write-row">
            <div class="write__main">
                <strong>{describe(&record)}</strong>
                <span class=format!("badge badge--{}", format!("{status:?}").to_lowercase()) data-testid="write-status">{status.label()}</span>
            </div>
            <div class="muted write__meta">
                {format!("Saved {} · attempts {}", format_saved_at(record.client_timestamp, now), record.retries)}
                {record.resolution.clone().map(|r| format!(" · resolution {r}"))}
            </div>
            {record.error_message().filter(|_| status != SyncStatus::Success).map(|e| view! {
                <p class="write__error" data-testid="write-error">{e}</p>
            })}
            {(record.sync_route_key == "questionnaire.submit" && status == SyncStatus::Failed).then(|| view! {
                <BatchFailure record=record.clone()/>
            })}
            {unknown.then(|| view! {
                <div class="write__unknown" data-testid="may-have-reached-care">
                    <p>"This change was sent, but its answer never came back: CARE may have saved it. Check in CARE before doing anything, then say what you found."</p>
                    <div class="write__actions">
                        {check.clone().map(|href| view! {
                            <leptos_router::components::A href=href attr:class="button button--link">"Check in CARE"</leptos_router::components::A>
                        })}
                        <button class="button" on:click=confirm.clone()>"It is there"</button>
                        <button class="button" on:click=again.clone()>"Send again"</button>
                    </div>
                    {(record.sync_route_key == "patient.create").then(|| view! { <FindCreated record=record.clone()/> })}
                </div>
            })}
            <div class="write__actions">
                {resolve.map(|(label, href)| view! {
                    <leptos_router::components::A href=href attr:class="button button--link">{label}</leptos_router::components::A>
                })}
                {can_retry.then(|| view! { <button class="button" on:click=retry.clone()>"Retry"</button> })}
                {edit.map(|href| view! { <a class="button button--link" href=href>"Edit"</a> })}
                {(status == SyncStatus::Conflict).then(|| view! {
                    <button class="button" on:click=move |_| resolving.set(true)>"Resolve"</button>
                })}
                <button class="button" on:click=move |_| show.update(|s| *s = !*s)>
                    {move || if show.get() { "Hide details" } else { "Details" }}
                </button>
                {can_discard.then(|| view! { <button class="button button--danger" on:click=discard.clone()>"Discard"</button> })}
            </div>
            <Show when=move || show.get()>
                <pre class="write__details">{details.clone()}</pre>
            </Show>
            <Show when=move || resolving.get()>
                <MergeDialog record=conflict_record.clone() on_close=Callback::new(move |_| resolving.set(false))/>
            </Show>
        </li>
    }
}
