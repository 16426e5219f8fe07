use leptos::prelude::*;
use serde_json::{json, Value};

use crate::{
    api::keys::profile,
    components::write_status::WriteStatus,
    model::{Paginated, Role, UserSpec},
    offline::{
        outbox::{registry::patient, use_follow, use_outbox, WriteSpec},
        query::{use_query, use_query_client, QueryOptions},
    },
    session::use_session,
};

/// Assign a user to the patient with a role (`add_user`). Queued like every write: sent
/// at once when online, kept on the device and shown in the list when not.
#[component]
pub fn AddPatientUser(#[prop(into)] patient_id: Signal<String>) -> impl IntoView {
    let session = use_session();
    let outbox = use_outbox();
    let client = use_query_client();
    let search = RwSignal::new(String::new());
    let user_id = RwSignal::new(String::new());
    let role_id = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let follow = use_follow();

    let found = use_query::<Paginated<UserSpec>, _, _, _>(
        move || profile::user_search(&search.get()),
        move |_| profile::get_user_search(session, search.get_untracked()),
        QueryOptions::persisted(),
    );
    let roles = use_query::<Paginated<Role>, _, _, _>(
        profile::roles,
        move |_| profile::get_roles(session),
        QueryOptions::persisted(),
    );

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let pid = patient_id.get_untracked();
        let uid = user_id.get_untracked();
        let rid = role_id.get_untracked();
        let user = found
            .data
            .get_untracked()
            .and_then(|p| p.results.into_iter().find(|u| u.id == uid));
        let Some(user) = user else {
            error.set(Some("Choose a user.".into()));
            return;
        };
        if rid.is_empty() {
            error.set(Some("Choose a role.".into()));
            return;
        }
        let users_key = profile::patient_users(&pid);
        let current = client
            .get_query_data(&users_key)
            .unwrap_or_else(|| json!({ "results": [] }));
        let already = current
            .get("results")
            .and_then(Value::as_array)
            .is_some_and(|r| {
                r.iter()
                    .any(|u| u.get("id").and_then(Value::as_str) == Some(uid.as_str()))
            });
        if already {
            error.set(Some(format!(
                "{} is already assigned to this patient.",
                user.full_name()
            )));
            return;
        }
        error.set(None);
        let mut list = current;
        if let (Some(results), Ok(u)) = (
            list.get_mut("results").and_then(Value::as_array_mut),
            serde_json::to_value(&user),
        ) {
            results.push(u);
        }
        let creator = outbox.creator_of(&pid);
        let spec = WriteSpec {
            parents: outbox
                .with_records_untracked(|r| patient::assignment_parents(r, &pid, &uid, creator)),
            optimistic: vec![(users_key, list)],
            ..WriteSpec::new(patient::ADD_USER, json!({ "user": uid, "role": rid }))
                .param("patient_id", &pid)
        };
        leptos::task::spawn_local(async move {
            match outbox.queue(spec).await {
                Ok(record) => {
                    follow.start(record.id);
                    user_id.set(String::new());
                }
                Err(e) => error.set(Some(format!(
                    "Could not save on this device: {e}. Try again."
                ))),
            }
        });
    };

    view! {
        <form class="form card" on:submit=submit novalidate data-testid="add-user">
            <h2>"Assign a user"</h2>
            <label class="field">
                <span class="field__label">"Find user"</span>
                <input class="field__input" type="search" placeholder="Name or username"
                    prop:value=search on:change=move |ev| search.set(event_target_value(&ev))/>
            </label>
            <label class="field">
                <span class="field__label">"User"</span>
                <select class="field__input" aria-label="User" prop:value=user_id on:change=move |ev| user_id.set(event_target_value(&ev))>
                    <option value="">"Choose…"</option>
                    {move || found.data.get().map(|p| p.results.into_iter().map(|u| {
                        let label = format!("{} ({})", u.full_name(), u.username);
                        view! { <option value=u.id>{label}</option> }
                    }).collect_view())}
                </select>
            </label>
            {move || found.unavailable_offline.get().then(|| view! {
                <p class="muted">"Offline: this search was not saved on this device; try one you ran before."</p>
            })}
            <label class="field">
                <span class="field__label">"Role"</span>
                <select class="field__input" aria-label="Role" prop:value=role_id on:change=move |ev| role_id.set(event_target_value(&ev))>
                    <option value="">"Choose…"</option>
                    {move || roles.data.get().map(|p| p.results.into_iter().filter(|r| !r.is_archived).map(|r| {
                        view! { <option value=r.id>{r.name}</option> }
                    }).collect_view())}
                </select>
            </label>
            {move || error.get().map(|m| view! { <p class="alert alert--error" role="alert">{m}</p> })}
            <WriteStatus state=follow.state done="User assigned."/>
            <button class="button button--primary" type="submit">"Assign user"</button>
        </form>
    }
}
