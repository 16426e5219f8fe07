use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos_router::{
    components::A,
    hooks::{use_navigate, use_params_map},
};
use serde_json::{json, Value};

use crate::components::get_ready_hint::GetReadyHint;
use crate::{
    api::keys::encounter as keys,
    components::{query_notice::QueryNotice, questionnaire::form::QuestionnaireForm},
    model::{Encounter, Questionnaire},
    offline::{
        network::use_network,
        outbox::{effects, now_iso, use_follow, use_outbox, Followed, Outbox, WriteSpec},
        query::{use_query, use_query_client, QueryClient, QueryOptions},
        store::{local, StoreError},
    },
    questionnaire::{
        batch::{self, map_errors, Subject},
        Answers,
    },
    session::use_session,
};

/// Fill a questionnaire in an encounter. The submission is one `batch_requests` write:
/// online it is sent at once (CARE's refusals land on their questions); offline it is
/// queued and its entries show at once on the encounter page.
#[component]
pub fn FillQuestionnaire() -> impl IntoView {
    let session = use_session();
    let client = use_query_client();
    let outbox = use_outbox();
    let network = use_network();
    let navigate = use_navigate();
    let follow = use_follow();
    let params = use_params_map();
    let facility_id = Memo::new(move |_| params.read().get("facility_id").unwrap_or_default());
    let slug = Memo::new(move |_| params.read().get("slug").unwrap_or_default());
    // As opened (perhaps a temporary id): names the draft, which must not move.
    let opened_id = Memo::new(move |_| params.read().get("encounter_id").unwrap_or_default());
    let encounter_id = Memo::new(move |_| {
        let id = opened_id.get();
        outbox.server_id_of(&id).unwrap_or(id)
    });
    let encounter = use_query::<Encounter, _, _, _>(
        move || keys::encounter_detail(&encounter_id.get()),
        move |_| keys::get_encounter(session, encounter_id.get_untracked()),
        QueryOptions::persisted(),
    );
    let questionnaire = use_query::<Questionnaire, _, _, _>(
        move || keys::questionnaire_detail(&slug.get()),
        move |_| keys::get_questionnaire(session, slug.get_untracked()),
        QueryOptions::persisted(),
    );
    // The form is rendered once both are known and kept while they are refetched (a
    // refetch must not reset what is being typed): (questionnaire, encounter, ended when
    // the form opened).
    let ready = Memo::new(move |previous: Option<&Option<(String, String, bool)>>| {
        let q = questionnaire
            .data
            .with(|q| q.as_ref().map(|q| q.id.clone()));
        let e = encounter
            .data
            .with(|e| e.as_ref().map(|e| (e.id.clone(), e.is_ended())));
        let kept = previous.cloned().flatten();
        match (q, e) {
            // The same form stays even when the encounter moves from its temporary id to
            // the server's (it synced while the form was being filled).
            (Some(q), Some((eid, ended))) => match kept {
                Some(k) if k.0 == q => Some(k),
                _ => Some((q, eid, ended)),
            },
            _ => kept,
        }
    });
    let errors = RwSignal::new(BTreeMap::<String, String>::new());
    let submitted = StoredValue::new(None::<Answers>);
    let busy = RwSignal::new(false);
    let back = move || {
        format!(
            "/facility/{}/encounter/{}",
            facility_id.get_untracked(),
            encounter_id.get_untracked()
        )
    };

    Effect::new(move |_| match follow.state.get() {
        None | Some(Followed::Sending) => {}
        Some(Followed::Synced(_)) | Some(Followed::SavedHere(_)) => {
            follow.stop();
            busy.set(false);
            navigate(&back(), Default::default());
        }
        Some(Followed::Rejected { body, .. }) => {
            let mapped = questionnaire
                .data
                .get_untracked()
                .map(|q| map_errors(&q, &body))
                .unwrap_or_default();
            let mut shown = mapped;
            shown.entry(String::new()).or_insert_with(|| {
                "CARE did not accept the form: see the highlighted questions.".into()
            });
            errors.set(shown);
            busy.set(false);
            // Refused: the answers are a draft again (it was dropped when they were queued).
            if let (Some(q), Some(answers)) =
                (questionnaire.data.get_untracked(), submitted.get_value())
            {
                if let Ok(text) = serde_json::to_string(&answers) {
                    local::set(
                        &draft_key(&session, &opened_id.get_untracked(), &q.slug),
                        &text,
                    );
                }
            }
            // The form still holds every answer; the refused write is not kept.
            let _id = follow.stop();
            #[cfg(feature = "hydrate")]
            if let Some(id) = _id {
                leptos::task::spawn_local(async move { outbox.discard(&id).await });
            }
        }
    });

    let on_submit = Callback::new(move |answers: Answers| {
        submitted.set_value(Some(answers.clone()));
        let (Some(q), Some(e)) = (
            questionnaire.data.get_untracked(),
            encounter.data.get_untracked(),
        ) else {
            return;
        };
        busy.set(true);
        let user = session
            .user()
            .and_then(|u| serde_json::to_value(u.user).ok())
            .unwrap_or(Value::Null);
        leptos::task::spawn_local(async move {
            match queue_submission(outbox, client, &q, &e, &answers, user).await {
                Ok(id) => {
                    // Queued with the write: the draft is no longer needed.
                    local::remove(&draft_key(&session, &opened_id.get_untracked(), &q.slug));
                    follow.start(id);
                }
                Err(err) => {
                    busy.set(false);
                    errors.update(|m| {
                        m.insert(String::new(), format!("Could not save on this device: {err}. Your answers are still in the form."));
                    });
                }
            }
        });
    });

    view! {
        <section class="fill-form">
            <A href=move || format!("/facility/{}/encounter/{}", facility_id.get(), encounter_id.get())>"← Encounter"</A>
            <h1>{move || questionnaire.data.get().map(|q| q.title).unwrap_or_else(|| "Form".into())}</h1>
            <p class="muted" data-testid="fill-patient">{move || encounter.data.get().map(|e| e.patient.name)}</p>
            <Show when=move || !network.online()>
                <p class="alert alert--info" role="status">"Offline: the form will be saved on this device and sent when the server is reachable."</p>
            </Show>
            <QueryNotice saved_at=questionnaire.saved_at unavailable_offline=questionnaire.unavailable_offline error=questionnaire.error/>
            {move || match ready.get() {
                Some((_, _, true)) => view! {
                    <p class="alert alert--info">"This encounter has ended; forms can no longer be added."</p>
                }.into_any(),
                Some(_) => match (questionnaire.data.get_untracked(), encounter.data.get_untracked()) {
                    (Some(q), Some(_)) => {
                        let key = draft_key(&session, &opened_id.get_untracked(), &q.slug);
                        view! {
                            <QuestionnaireForm questionnaire=q errors=errors busy=busy on_submit=on_submit draft_key=key/>
                        }.into_any()
                    }
                    _ => ().into_any(),
                },
                None if questionnaire.unavailable_offline.get() || encounter.unavailable_offline.get() => view! {
                    <p class="alert alert--info">"Not available offline: this form was not loaded on this device while online." <GetReadyHint/></p>
                }.into_any(),
                None => view! { <p class="loading" aria-busy="true">"Loading form…"</p> }.into_any(),
            }}
        </section>
    }
}

/// Where the answers being typed are kept on this device (per user, encounter and form).
fn draft_key(session: &crate::session::Session, encounter_id: &str, slug: &str) -> String {
    let user = session.user().map(|u| u.user.id).unwrap_or_default();
    super::drafts::key(&user, encounter_id, slug)
}

/// Queues the form as one batch write, with its entries on top of the encounter's cached
/// lists, after any unsynced write of the encounter or the patient.
async fn queue_submission(
    outbox: Outbox,
    client: QueryClient,
    questionnaire: &Questionnaire,
    encounter: &Encounter,
    answers: &Answers,
    user: Value,
) -> Result<String, StoreError> {
    let write_id = uuid::Uuid::new_v4().to_string();
    let (pid, eid) = (encounter.patient.id.as_str(), encounter.id.as_str());
    let built = batch::build(
        questionnaire,
        answers,
        &Subject {
            patient_id: pid,
            encounter_id: eid,
            offset: *chrono::Local::now().offset(),
        },
        &write_id,
        &now_iso(),
        &user,
    );
    let local = outbox.is_local_only(eid);
    let mut pages: BTreeMap<crate::offline::query::QueryKey, Value> = BTreeMap::new();
    let mut add = |key: crate::offline::query::QueryKey, item: Value| {
        let page = match pages
            .get(&key)
            .cloned()
            .or_else(|| client.get_query_data(&key))
        {
            Some(p) => Some(p),
            // An encounter started offline has no lists on the server yet.
            None if local => Some(json!({"count": 0, "results": []})),
            None => None,
        };
        if let Some(mut page) = page {
            effects::prepend(&mut page, item);
            pages.insert(key, page);
        }
    };
    for (kind, entry) in built.entries.iter().rev() {
        add(keys::clinical_list(*kind, pid, eid), entry.clone());
    }
    add(
        keys::questionnaire_responses(pid, eid),
        built.response.clone(),
    );
    let mut parents = outbox.unsynced_writes_of(eid);
    for p in outbox.unsynced_writes_of(pid) {
        if !parents.contains(&p) {
            parents.push(p);
        }
    }
    outbox
        .queue(WriteSpec {
            id: Some(write_id.clone()),
            parents,
            optimistic: pages.into_iter().collect(),
            summary: Some(format!(
                "{} · {}",
                questionnaire.title, encounter.patient.name
            )),
            ..WriteSpec::new("questionnaire.submit", built.body)
                .param("patient_id", pid)
                .param("encounter_id", eid)
        })
        .await?;
    Ok(write_id)
}
