use leptos::prelude::*;

use super::add_user::AddPatientUser;
use crate::{
    api::keys::profile,
    components::query_notice::QueryNotice,
    offline::{
        outbox::{use_outbox, SyncStatus},
        query::{use_query, QueryOptions},
    },
    session::use_session,
};

/// The users assigned to a patient (`get_users`), with the assignments still on this device
/// marked; people who may write patients can assign another (online or offline).
#[component]
pub fn PatientUsers(#[prop(into)] patient_id: Signal<String>) -> impl IntoView {
    let session = use_session();
    let outbox = use_outbox();
    let users = use_query(
        move || profile::patient_users(&patient_id.get()),
        move |_| profile::get_patient_users(session, patient_id.get_untracked()),
        QueryOptions::persisted(),
    );
    // user id → state of its assignment not yet on the server.
    let unsynced = Memo::new(move |_| {
        let pid = patient_id.get();
        outbox
            .records()
            .into_iter()
            .filter(|w| {
                w.sync_route_key == "patient.add_user" && w.sync_status != SyncStatus::Success
            })
            .filter(|w| w.path_params.get("patient_id") == Some(&pid))
            .filter_map(|w| Some((w.payload.get("user")?.as_str()?.to_string(), w.sync_status)))
            .collect::<Vec<_>>()
    });
    let can_write = move || session.user().is_some_and(|u| u.can("can_write_patient"));

    view! {
        <section class="tab-panel" aria-label="Users">
            <QueryNotice saved_at=users.saved_at unavailable_offline=users.unavailable_offline error=users.error/>
            <Show when=move || users.loading.get()>
                <p class="loading" aria-busy="true">"Loading users…"</p>
            </Show>
            {move || users.data.get().map(|list| {
                if list.results.is_empty() {
                    return view! { <p class="muted">"No users are assigned to this patient."</p> }.into_any();
                }
                view! {
                    <ul class="list" data-testid="patient-users">
                        {list.results.into_iter().map(|u| {
                            let id = u.id.clone();
                            let state = move || unsynced.with(|s| s.iter().find(|(uid, _)| *uid == id).map(|(_, st)| *st));
                            view! {
                                <li class="list__item">
                                    <span>{u.full_name()}</span>
                                    <span class="muted">{format!("{} · {}", u.username, u.user_type)}</span>
                                    {move || state().map(|st| {
                                        let (class, text) = match st {
                                            SyncStatus::Failed | SyncStatus::Blocked | SyncStatus::Conflict => ("badge badge--error", "Not assigned — see Sync status"),
                                            _ => ("badge badge--warn", "Saved on this device — will sync"),
                                        };
                                        view! { <span class=class data-testid="unsynced-badge">{text}</span> }
                                    })}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            })}
            <Show when=can_write>
                <AddPatientUser patient_id=patient_id/>
            </Show>
        </section>
    }
}
