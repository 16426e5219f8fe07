use leptos::prelude::*;
use serde_json::{json, Value};

use crate::{
    api::keys::profile,
    components::{query_notice::QueryNotice, unsynced_badge::UnsyncedBadge},
    model::{
        resource::{comment_body, normalize_comment, ResourceComment},
        Paginated,
    },
    offline::{
        outbox::{effects, now_iso, use_outbox, WriteSpec},
        query::{use_query, use_query_client, QueryOptions},
    },
    session::use_session,
};

/// A resource request's comments (newest first, as CARE lists them) and a box to add one:
/// queued like every write, shown at once with its badge, sent once (after the request
/// itself when that was raised on this device too).
#[component]
pub fn ResourceComments(#[prop(into)] resource_id: Signal<String>) -> impl IntoView {
    let session = use_session();
    let outbox = use_outbox();
    let client = use_query_client();
    let comments = use_query::<Paginated<ResourceComment>, _, _, _>(
        move || profile::resource_comments(&resource_id.get()),
        move |_| profile::get_resource_comments(session, resource_id.get_untracked()),
        QueryOptions::persisted(),
    );
    let text = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = match comment_body(&text.get_untracked()) {
            Ok(b) => b,
            Err(e) => {
                error.set(Some(e));
                return;
            }
        };
        error.set(None);
        let rid = resource_id.get_untracked();
        let key = profile::resource_comments(&rid);
        let temp_id = uuid::Uuid::new_v4().to_string();
        let author = session
            .user()
            .and_then(|u| serde_json::to_value(u.user).ok())
            .unwrap_or(Value::Null);
        let mut page = client
            .get_query_data(&key)
            .unwrap_or_else(|| json!({ "count": 0, "results": [] }));
        effects::prepend(
            &mut page,
            normalize_comment(&temp_id, &body, author, &now_iso()),
        );
        let spec = WriteSpec {
            temp_id: Some(temp_id),
            // A request raised on this device goes first; its temporary id in the path is
            // replaced by CARE's when it has synced.
            parents: outbox.unsynced_writes_of(&rid),
            optimistic: vec![(key, page)],
            ..WriteSpec::new("resource.comment", body).param("resource_id", &rid)
        };
        leptos::task::spawn_local(async move {
            match outbox.queue(spec).await {
                Ok(_) => text.set(String::new()),
                Err(e) => error.set(Some(format!(
                    "Could not save on this device: {e}. Your comment is still in the box."
                ))),
            }
        });
    };

    view! {
        <section class="card" aria-label="Comments">
            <h2>"Comments"</h2>
            <QueryNotice saved_at=comments.saved_at unavailable_offline=comments.unavailable_offline error=comments.error/>
            {move || comments.data.get().map(|page| {
                if page.results.is_empty() {
                    return view! { <p class="muted">"No comments yet."</p> }.into_any();
                }
                view! {
                    <ul class="list" data-testid="resource-comments">
                        {page.results.into_iter().map(|c| {
                            let id = c.id.clone();
                            let by = c.created_by.map(|u| u.full_name()).unwrap_or_default();
                            let when = crate::model::dates::format_moment(Some(&c.created_date));
                            view! {
                                <li class="list__item" data-testid="resource-comment">
                                    <span>{c.comment}</span>
                                    <span class="muted">{format!("{by} · {when}")}</span>
                                    <UnsyncedBadge id=Signal::derive(move || id.clone())/>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            })}
            <form class="form" on:submit=submit novalidate>
                <label class="field">
                    <span class="field__label">"Add a comment"</span>
                    <textarea class="field__input" name="comment" prop:value=text
                        on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                </label>
                {move || error.get().map(|m| view! { <p class="alert alert--error" role="alert">{m}</p> })}
                <button class="button button--primary" type="submit">"Add comment"</button>
            </form>
        </section>
    }
}
