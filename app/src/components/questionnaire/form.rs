use std::collections::BTreeMap;

use leptos::prelude::*;

use super::{question::QuestionView, FormState};
use crate::{
    model::Questionnaire,
    offline::store::local,
    questionnaire::{enable::enabled_ids, validate::validate, Answers},
};

/// Renders a questionnaire and validates it on submit; `on_submit` gets the answers of a
/// form that passed the client-side checks. `errors` is shared so CARE's answer, mapped
/// back to questions, shows on the same questions.
#[component]
pub fn QuestionnaireForm(
    /// The definition.
    questionnaire: Questionnaire,
    /// Messages by question id (and `""` for the form).
    errors: RwSignal<BTreeMap<String, String>>,
    /// True while the submission is being saved or sent.
    #[prop(into)]
    busy: Signal<bool>,
    /// Called with valid answers.
    on_submit: Callback<Answers>,
    /// Where the answers are kept on this device while the form is being filled (a reload
    /// or a closed tab loses nothing); the page removes it once the form is queued.
    #[prop(optional, into)]
    draft_key: Option<String>,
) -> impl IntoView {
    let definition = StoredValue::new(questionnaire.clone());
    let answers = RwSignal::new(Answers::initial(&questionnaire.questions));
    if let Some(key) = draft_key.clone() {
        // Restored once the user's vault is open (the draft lives sealed on the device);
        // from then on every change is saved.
        let client = crate::offline::query::use_query_client();
        let restored = RwSignal::new(false);
        let key = StoredValue::new(key);
        Effect::new(move |done: Option<bool>| {
            if done == Some(true) || !client.restored() {
                return done.unwrap_or(false);
            }
            leptos::task::spawn_local(async move {
                if let Some(draft) = local::get(&key.get_value())
                    .await
                    .and_then(|t| serde_json::from_str::<Answers>(&t).ok())
                {
                    answers.set(draft);
                }
                restored.set(true);
            });
            true
        });
        Effect::new(move |_| {
            let current = answers.get();
            if !restored.get() {
                return;
            }
            if let Ok(text) = serde_json::to_string(&current) {
                local::set(&key.get_value(), &text);
            }
        });
    }
    let enabled =
        Memo::new(move |_| answers.with(|a| definition.with_value(|q| enabled_ids(q, a))));
    provide_context(FormState {
        answers,
        errors,
        enabled,
    });
    // A corrected answer clears its message.
    Effect::new(move |previous: Option<Answers>| {
        let now = answers.get();
        if let Some(before) = previous {
            let changed: Vec<String> = now
                .values
                .keys()
                .chain(now.structured.keys())
                .filter(|k| {
                    now.values.get(*k) != before.values.get(*k)
                        || now.structured.get(*k) != before.structured.get(*k)
                })
                .cloned()
                .collect();
            if !changed.is_empty() {
                errors.update(|e| {
                    for k in &changed {
                        e.remove(k);
                    }
                });
            }
        }
        now
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let current = answers.get_untracked();
        let mut problems = definition.with_value(|q| validate(q, &current));
        if problems.is_empty() {
            errors.set(BTreeMap::new());
            on_submit.run(current);
        } else {
            problems.insert(
                String::new(),
                "Some answers need attention: see the highlighted questions.".into(),
            );
            errors.set(problems);
        }
    };
    let form_error = move || {
        errors.with(|e| e.get("").cloned()).map(|m| {
            view! {
                <p class="alert alert--error" role="alert" data-testid="form-error">{m}</p>
            }
        })
    };
    view! {
        <form class="form questionnaire" on:submit=submit novalidate>
            {questionnaire.description.clone().filter(|d| !d.is_empty()).map(|d| view! { <p class="muted">{d}</p> })}
            {questionnaire.questions.into_iter().map(|q| view! { <QuestionView question=q/> }).collect_view()}
            {form_error}
            <button class="button button--primary" type="submit" disabled=busy>
                {move || if busy.get() { "Saving…" } else { "Submit" }}
            </button>
        </form>
    }
}
