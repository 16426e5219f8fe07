use leptos::prelude::*;

use super::{
    add_user::AddPatientUser,
    remove_user::{RemovePatientUser, Removed},
};
use crate::{
    api::keys::profile,
    components::{query_notice::QueryNotice, write_status::WriteStatus},
    offline::{
        outbox::{registry::patient::pending_user_changes, use_follow, use_outbox, SyncStatus},
        query::{use_query, use_query_client, QueryOptions},
    },
    session::use_session,
};

/// The users assigned to a patient (`get_users`), with the assignments and removals still
/// on this device marked; people who may write patients can assign another or remove one
/// (online or offline).
#[component]
pub fn PatientUsers(#[prop(into)] patient_id: Signal<String>) -> impl IntoView {
    let session = use_session();
    let outbox = use_outbox();
    let client = use_query_client();
    let users = use_query(
        move || profile::patient_users(&patient_id.get()),
        move |_| profile::get_patient_users(session, client, outbox, patient_id.get_untracked()),
        QueryOptions::persisted(),
    );
    // The newest unsynced assignment or removal of each user.
    let changes = Memo::new(move |_| {
        let pid = patient_id.get();
        outbox.with_records(|r| pending_user_changes(r, &pid))
    });
    let can_write = move || session.user().is_some_and(|u| u.can("can_write_patient"));
    let removal = use_follow();
    let removal_note = RwSignal::new(None::<(&'static str, String)>);
    let on_removed = Callback::new(move |done: Removed| match done {
        Removed::Queued(id) => {
            removal_note.set(None);
            removal.start(id);
        }
        Removed::Withdrawn(name) => {
            removal.stop();
            removal_note.set(Some((
                "alert alert--ok",
                format!(
                    "{name} removed: the assignment had not been sent yet, so nothing is sent."
                ),
            )));
        }
        Removed::NotSaved(message) => {
            removal.stop();
            removal_note.set(Some(("alert alert--error", message)));
        }
    });

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
                            let assignment = move || changes.with(|c| {
                                c.iter().find(|c| c.user_id == id && c.assigns).map(|c| c.status)
                            });
                            let label = u.full_name();
                            let detail = format!("{} · {}", u.username, u.user_type);
                            view! {
                                <li class="list__item">
                                    <span>{label}</span>
                                    <span class="muted">{detail}</span>
                                    {move || assignment().map(|st| {
                                        let (class, text) = if needs_a_person(st) {
                                            ("badge badge--error", "Not assigned — see Sync status")
                                        } else {
                                            ("badge badge--warn", "Saved on this device — will sync")
                                        };
                                        view! { <span class=class data-testid="unsynced-badge">{text}</span> }
                                    })}
                                    <Show when=can_write>
                                        <RemovePatientUser patient_id=patient_id user=u.clone() on_done=on_removed/>
                                    </Show>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            })}
            <PendingRemovals changes=changes/>
            <WriteStatus state=removal.state done="User removed."/>
            {move || removal_note.get().map(|(class, text)| view! {
                <p class=class role="status" data-testid="removal-note">{text}</p>
            })}
            <Show when=can_write>
                <AddPatientUser patient_id=patient_id/>
            </Show>
        </section>
    }
}

/// Users removed on this device whose removal the server has not confirmed (they are no
/// longer listed above).
#[component]
fn PendingRemovals(
    changes: Memo<Vec<crate::offline::outbox::registry::patient::UserChange>>,
) -> impl IntoView {
    move || {
        let removals: Vec<_> = changes.with(|c| c.iter().filter(|c| !c.assigns).cloned().collect());
        (!removals.is_empty()).then(|| {
            view! {
                <ul class="list" aria-label="Removals not yet synced" data-testid="pending-removals">
                    {removals.into_iter().map(|c| {
                        let (class, text) = if needs_a_person(c.status) {
                            ("badge badge--error", "Not removed — see Sync status")
                        } else {
                            ("badge badge--warn", "Removal saved on this device — will sync")
                        };
                        view! {
                            <li class="list__item">
                                <span>{c.summary.unwrap_or_else(|| c.user_id.clone())}</span>
                                <span class=class data-testid="unsynced-badge">{text}</span>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            }
        })
    }
}

/// The write waits for a person on the Sync status page.
fn needs_a_person(status: SyncStatus) -> bool {
    matches!(
        status,
        SyncStatus::Failed | SyncStatus::Blocked | SyncStatus::Conflict
    )
}
