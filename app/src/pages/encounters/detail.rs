use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_params_map};

use crate::components::get_ready_hint::GetReadyHint;
use crate::{
    api::keys::encounter as keys,
    components::{
        clinical_list::ClinicalList, complete_encounter::CompleteEncounter,
        encounter_header::EncounterHeader, query_notice::QueryNotice,
        responses_list::ResponsesList,
    },
    model::{ClinicalKind, Encounter, Paginated, Questionnaire},
    offline::{
        outbox::use_outbox,
        query::{use_query, QueryOptions},
    },
    session::use_session,
};

/// One encounter: header, allergies, symptoms, diagnoses, medication statements, filled
/// forms; complete it or fill a form. Opened at a temporary id (started offline), it moves
/// to the server's id once the create has synced, so it shows fresh data without a reload.
#[component]
pub fn EncounterPage() -> impl IntoView {
    let session = use_session();
    let outbox = use_outbox();
    let params = use_params_map();
    let facility_id = Memo::new(move |_| params.read().get("facility_id").unwrap_or_default());
    let encounter_id = Memo::new(move |_| {
        let id = params.read().get("encounter_id").unwrap_or_default();
        outbox.server_id_of(&id).unwrap_or(id)
    });
    let encounter = use_query::<Encounter, _, _, _>(
        move || keys::encounter_detail(&encounter_id.get()),
        move |_| keys::get_encounter(session, encounter_id.get_untracked()),
        QueryOptions::persisted(),
    );
    let forms = use_query::<Paginated<Questionnaire>, _, _, _>(
        move || keys::questionnaire_list("encounter"),
        move |_| keys::get_questionnaires(session, "encounter".into()),
        QueryOptions::persisted(),
    );
    let patient_id = Memo::new(move |_| {
        encounter
            .data
            .get()
            .map(|e| e.patient.id)
            .unwrap_or_default()
    });
    let can_write = move || session.user().is_some_and(|u| u.can("can_write_encounter"));
    let can_fill = move || {
        session
            .user()
            .is_some_and(|u| u.can("can_submit_encounter_questionnaire"))
    };

    view! {
        <section class="encounter">
            <A href=move || format!("/facility/{}/encounters", facility_id.get())>"← Encounters"</A>
            <div class="toolbar">
                <button class="button" on:click=move |_| encounter.refetch() disabled=move || encounter.fetching.get()>"Refresh"</button>
            </div>
            <QueryNotice saved_at=encounter.saved_at unavailable_offline=encounter.unavailable_offline error=encounter.error/>
            <Show when=move || encounter.loading.get()>
                <p class="loading" aria-busy="true">"Loading encounter…"</p>
            </Show>
            {move || encounter.data.get().map(|e| {
                let ended = e.is_ended();
                let fid = facility_id.get();
                view! {
                    <EncounterHeader encounter=e.clone() facility_id=fid.clone()/>
                    {(!ended && can_write()).then(|| view! { <CompleteEncounter encounter=e.clone()/> })}
                    {(!ended && can_fill()).then(|| {
                        let eid = e.id.clone();
                        view! {
                            <section class="clinical" aria-labelledby="fill-form">
                                <h2 id="fill-form">"Fill a form"</h2>
                                {move || forms.data.get().map(|f| {
                                    let (fid, eid) = (fid.clone(), eid.clone());
                                    view! {
                                        <ul class="list form-links" data-testid="form-links">
                                            {f.results.into_iter().filter(|q| q.fillable()).map(|q| view! {
                                                <li class="list__item">
                                                    <A href=format!("/facility/{fid}/encounter/{eid}/questionnaire/{}", q.slug) attr:class="list__link">{q.title}</A>
                                                </li>
                                            }).collect_view()}
                                        </ul>
                                    }
                                })}
                                {move || (forms.data.get().is_none() && forms.unavailable_offline.get()).then(|| view! {
                                    <p class="muted">"The list of forms was not loaded on this device while online." <GetReadyHint/></p>
                                })}
                            </section>
                        }
                    })}
                }
            })}
            <Show when=move || !patient_id.get().is_empty()>
                <div class="encounter__lists">
                    {ClinicalKind::ALL.into_iter().map(|kind| view! {
                        <ClinicalList kind=kind patient_id=patient_id encounter_id=encounter_id/>
                    }).collect_view()}
                    <ResponsesList patient_id=patient_id encounter_id=encounter_id/>
                </div>
            </Show>
        </section>
    }
}
