use leptos::prelude::*;

use crate::{
    api::keys::encounter as keys,
    components::{
        encounter_row::format_when, section_notice::SectionNotice, unsynced_badge::UnsyncedBadge,
    },
    model::{Paginated, QuestionnaireResponse},
    offline::{
        outbox::use_outbox,
        query::{use_query, use_query_client, QueryOptions},
    },
    session::use_session,
};

/// The forms filled in an encounter (not the structured rows clinical writes leave).
#[component]
pub fn ResponsesList(
    /// The patient.
    #[prop(into)]
    patient_id: Signal<String>,
    /// The encounter; empty: every encounter of the patient.
    #[prop(into)]
    encounter_id: Signal<String>,
) -> impl IntoView {
    let session = use_session();
    let client = use_query_client();
    let outbox = use_outbox();
    let page = use_query::<Paginated<QuestionnaireResponse>, _, _, _>(
        move || keys::questionnaire_responses(&patient_id.get(), &encounter_id.get()),
        move |key| {
            let path = format!(
                "/patient/{}/questionnaire_response/?only_unstructured=true&limit=100{}",
                patient_id.get_untracked(),
                keys::encounter_filter(&encounter_id.get_untracked())
            );
            keys::page_keeping_unsynced(session, client, outbox, key, path)
        },
        QueryOptions::persisted(),
    );
    view! {
        <section class="clinical" aria-labelledby="filled-forms" data-testid="filled-forms">
            <h2 id="filled-forms">"Filled forms"</h2>
            <SectionNotice unavailable_offline=page.unavailable_offline error=page.error/>
            {move || page.data.get().map(|p| {
                let forms: Vec<QuestionnaireResponse> = p.results.into_iter().filter(|r| r.questionnaire.is_some()).collect();
                if forms.is_empty() {
                    view! { <p class="muted">"No forms filled yet."</p> }.into_any()
                } else {
                    view! {
                        <ul class="list">
                            {forms.into_iter().map(|r| view! {
                                <li class="list__item" data-testid="filled-form">
                                    <strong>{r.title()}</strong>
                                    <UnsyncedBadge id=r.id.clone()/>
                                    <span class="muted">{format!(
                                        "{} answers · {}{}",
                                        r.responses.len(),
                                        format_when(r.created_date.as_deref()),
                                        r.created_by.as_ref().map(|u| format!(" · {}", u.full_name())).unwrap_or_default()
                                    )}</span>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }
            })}
        </section>
    }
}
