use leptos::prelude::*;

use super::{
    plain_question::PlainQuestion, structured_question::StructuredQuestion, use_form_state,
};
use crate::model::{ClinicalKind, Question};

/// One question of any type (groups render their questions); hidden while its
/// `enable_when` does not hold (its answer is kept, but not sent).
#[component]
pub fn QuestionView(
    /// The question definition.
    question: Question,
) -> impl IntoView {
    let state = use_form_state();
    let id = question.id.clone();
    let enabled = move || state.enabled.with(|e| e.contains(&id));
    let question = StoredValue::new(question);
    view! {
        <Show when=enabled>
            {move || render(question.get_value())}
        </Show>
    }
}

fn error_view(question_id: String) -> impl IntoView {
    let state = use_form_state();
    move || {
        state.error(&question_id).map(|m| {
            view! { <p class="question__error" role="alert" data-testid="question-error">{m}</p> }
        })
    }
}

fn render(question: Question) -> AnyView {
    let testid = format!("question-{}", question.link_id);
    match question.kind.as_str() {
        "group" => view! {
            <fieldset class="question question--group" data-testid=testid>
                <legend class="question__legend">
                    {question.text.clone()}
                    {question.is_required().then(|| view! { <span class="question__required" aria-hidden="true">" *"</span> })}
                </legend>
                {error_view(question.id.clone())}
                {question.questions.into_iter().map(|q| view! { <QuestionView question=q/> }.into_any()).collect_view()}
            </fieldset>
        }
        .into_any(),
        "display" => view! {
            <p class="question question--display" data-testid=testid>{question.text}</p>
        }
        .into_any(),
        "structured" => match question.structured_type.as_deref().and_then(ClinicalKind::from_structured_type) {
            Some(kind) => view! {
                <div class="question question--structured" data-testid=testid>
                    {error_view(question.id.clone())}
                    <StructuredQuestion question=question kind=kind/>
                </div>
            }
            .into_any(),
            None => view! {
                <div class="question question--unsupported" data-testid=testid>
                    <p class="question__label">{question.text}</p>
                    <p class="muted">
                        "This part of the form ("
                        {question.structured_type.unwrap_or_default()}
                        ") cannot be filled in this app yet; the rest of the form can."
                    </p>
                </div>
            }
            .into_any(),
        },
        _ => view! {
            <div class="question" data-testid=testid>
                <PlainQuestion question=question.clone()/>
                {error_view(question.id)}
            </div>
        }
        .into_any(),
    }
}
