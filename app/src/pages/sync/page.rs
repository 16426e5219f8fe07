use leptos::prelude::*;

use super::{
    idle_lock_setting::IdleLockSetting, retention_setting::RetentionSetting, write_row::WriteRow,
};
use crate::{
    components::{
        offline_readiness::OfflineReadiness, query_notice::format_saved_at,
        queue_backup::QueueBackup, unreadable_writes::UnreadableWrites,
        waiting_writes::WaitingWrites,
    },
    offline::{
        network::use_network,
        outbox::{use_outbox, SyncStatus},
    },
};

const SECTIONS: &[(&str, &[SyncStatus])] = &[
    ("Pending", &[SyncStatus::Pending, SyncStatus::InFlight]),
    ("Needs sign-in", &[SyncStatus::NeedsAuth]),
    ("May have reached CARE", &[SyncStatus::Unknown]),
    ("Failed", &[SyncStatus::Failed]),
    ("Conflicts", &[SyncStatus::Conflict]),
    ("Blocked", &[SyncStatus::Blocked]),
    ("Synced", &[SyncStatus::Success]),
];

/// Pending, needs sign-in, failed, conflicted, blocked and synced writes, with retry,
/// details, discard and conflict resolution; the last sync, progress and storage use.
#[component]
pub fn SyncPage() -> impl IntoView {
    let outbox = use_outbox();
    let network = use_network();
    let session = crate::session::use_session();
    let params = leptos_router::hooks::use_params_map();
    let facility_id = Memo::new(move |_| params.read().get("facility_id").unwrap_or_default());
    let storage = RwSignal::new(None::<(f64, f64)>);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        outbox.records();
        leptos::task::spawn_local(async move {
            storage.set(crate::offline::store::storage_estimate().await)
        });
    });
    let sync_now = move |_| {
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move { outbox.sync_now_asked().await });
    };

    view! {
        <section class="sync">
            <div class="toolbar">
                <h1>"Sync status"</h1>
                <button class="button" on:click=sync_now disabled=move || !network.online() || outbox.progress().is_some()>
                    "Sync now"
                </button>
            </div>
            <p class="muted" data-testid="last-sync">
                {move || match outbox.last_synced_at() {
                    Some(at) => format!("Last synced at {}", format_saved_at(at, chrono::Utc::now().timestamp_millis())),
                    None => "Nothing has been synced from this device yet.".to_string(),
                }}
            </p>
            {move || outbox.progress().map(|(i, n)| view! {
                <p class="alert alert--info" role="status" data-testid="sync-progress">{format!("Syncing {i} of {n}")}</p>
            })}
            {move || outbox.notice().map(|n| view! { <p class="alert alert--error" role="alert">{n}</p> })}
            {move || storage.get().map(|(used, quota)| view! {
                <p class="muted" data-testid="storage">
                    {format!("Storage on this device: {:.1} MB used of {:.0} MB", used / 1e6, quota / 1e6)}
                </p>
            })}
            <WaitingWrites
                username=Signal::derive(move || session.user().map(|u| u.user.username).unwrap_or_default())
                signed_in=true
            />
            <OfflineReadiness facility_id=facility_id/>
            <RetentionSetting/>
            <IdleLockSetting/>
            <QueueBackup/>
            <Show when=move || session.user().is_some_and(|u| u.is_sync_admin())>
                <a class="button button--link" href=move || format!("/facility/{}/sync/health", facility_id.get())>"Sync health of all devices"</a>
            </Show>
            <UnreadableWrites/>
            {SECTIONS.iter().map(|(title, statuses)| {
                let statuses: &'static [SyncStatus] = statuses;
                let rows = move || {
                    outbox.records().into_iter().rev().filter(|r| statuses.contains(&r.sync_status)).collect::<Vec<_>>()
                };
                view! {
                    <section class="sync__section" data-testid=format!("section-{}", title.to_lowercase().replace(' ', "-"))>
                        <h2>{*title} " " <span class="muted">{move || format!("({})", rows().len())}</span></h2>
                        <Show when=move || !rows().is_empty() fallback=|| view! { <p class="muted">"None."</p> }>
                            <ul class="list">
                                <For each=rows key=|r| (r.id.clone(), r.sync_status, r.retries) let:record>
                                    <WriteRow record=record/>
                                </For>
                            </ul>
                        </Show>
                    </section>
                }
            }).collect_view()}
        </section>
    }
}
