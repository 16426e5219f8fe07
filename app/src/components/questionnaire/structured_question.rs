use leptos::prelude::*;

use super::{code_picker::CodePicker, structured_item::StructuredItemView, use_form_state};
use crate::{
    model::{ClinicalKind, Coding, Question},
    questionnaire::StructuredItem,
};

/// A structured question (symptoms, diagnoses, allergies, medication statements): the
/// entries added so far, each with its details, and a code picker to add more.
#[component]
pub fn StructuredQuestion(
    /// The question definition.
    question: Question,
    /// What it records.
    kind: ClinicalKind,
) -> impl IntoView {
    let state = use_form_state();
    let qid = StoredValue::new(question.id.clone());
    let count = move || state.answers.with(|a| a.items(&qid.get_value()).len());
    let on_pick = Callback::new(move |coding: Coding| {
        state.answers.update(|a| {
            a.add_item(&qid.get_value(), StructuredItem::new(kind, coding));
        });
        state.errors.update(|e| {
            e.remove(&qid.get_value());
        });
    });
    view! {
        <h3 class="question__label">
            {question.text.clone()}
            {question.is_required().then(|| view! { <span class="question__required" aria-hidden="true">" *"</span> })}
        </h3>
        <ul class="structured__items" data-testid="structured-items">
            {move || (0..count()).map(|index| view! {
                <StructuredItemView question_id=qid.get_value() kind=kind index=index/>
            }).collect_view()}
        </ul>
        <CodePicker valueset=kind.valueset() label=format!("Add to {}", question.text) on_pick=on_pick/>
    }
}
