use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use super::review_item::ReviewEntry;
use crate::{
    api::{keys::sync, ApiError},
    model::sync_health::{age_label, SyncCounts},
    offline::query::{options::SECOND, use_query, QueryOptions},
    session::use_session,
};

fn counts_line(c: &SyncCounts) -> String {
    format!(
        "{} writes: {} synced, {} pending, {} failed ({:.1} %), {} conflicts ({:.1} %), {} blocked",
        c.total,
        c.synced,
        c.pending,
        c.failed,
        c.failure_rate,
        c.conflicts,
        c.conflict_rate,
        c.blocked
    )
}

/// Administrators: sync health of every user and device (writes sent through the server's
/// sync API), the oldest pending write, and the writes flagged for review with a merge view.
#[component]
pub fn SyncHealthPage() -> impl IntoView {
    let session = use_session();
    let params = use_params_map();
    let facility_id = Memo::new(move |_| params.read().get("facility_id").unwrap_or_default());
    let health = use_query(
        sync::health,
        move |_| sync::get_health(session),
        QueryOptions::default().with_interval(30 * SECOND),
    );
    view! {
        <section class="sync-health">
            <A href=move || format!("/facility/{}/sync", facility_id.get())>"← Sync status"</A>
            <div class="toolbar">
                <h1>"Sync health"</h1>
                <button class="button" on:click=move |_| health.refetch() disabled=move || health.fetching.get()>"Refresh"</button>
            </div>
            {move || match health.error.get() {
                Some(ApiError::Http { status: 403, .. }) => Some(view! {
                    <p class="alert alert--error" role="alert">"Only administrators can see sync health."</p>
                }.into_any()),
                Some(e) if health.data.with(Option::is_none) => Some(view! {
                    <p class="alert alert--error" role="alert">{e.to_string()}</p>
                }.into_any()),
                _ => None,
            }}
            <Show when=move || health.loading.get()>
                <p class="loading" aria-busy="true">"Loading…"</p>
            </Show>
            {move || health.data.get().map(|h| view! {
                <p data-testid="health-totals">{counts_line(&h.totals)}</p>
                <p class="muted">{format!("Counts cover the last {} days (the audit trail's retention).", h.retention_days)}</p>
                <h2>"By user and device"</h2>
                <table class="table" data-testid="health-devices">
                    <thead><tr><th>"User"</th><th>"Device"</th><th>"Writes"</th><th>"Failed"</th><th>"Conflicts"</th><th>"Oldest pending"</th></tr></thead>
                    <tbody>
                        {h.devices.into_iter().map(|d| view! {
                            <tr>
                                <td>{d.username}</td>
                                <td class="muted">{d.device_id.chars().take(8).collect::<String>()}</td>
                                <td>{format!("{} ({} synced)", d.counts.total, d.counts.synced)}</td>
                                <td>{format!("{} · {:.1} %", d.counts.failed, d.counts.failure_rate)}</td>
                                <td>{format!("{} · {:.1} %", d.counts.conflicts, d.counts.conflict_rate)}</td>
                                <td>{d.oldest_pending.map(|o| age_label(o.age_seconds)).unwrap_or_else(|| "—".into())}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
                <h2>{format!("Flagged for review ({})", h.review.len())}</h2>
                {if h.review.is_empty() {
                    view! { <p class="muted">"Nothing is waiting for review."</p> }.into_any()
                } else {
                    view! {
                        <ul class="list" data-testid="review-list">
                            {h.review.into_iter().map(|item| view! { <ReviewEntry item=item/> }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            })}
        </section>
    }
}
