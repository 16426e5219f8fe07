use leptos::prelude::*;

use super::{use_form_state, value_input::ValueInput};
use crate::model::Question;

/// A question with typed values: one input per value, "Add another" when it repeats.
#[component]
pub fn PlainQuestion(
    /// The question definition.
    question: Question,
) -> impl IntoView {
    let state = use_form_state();
    let qid = question.id.clone();
    let repeats = question.is_repeating();
    let question = StoredValue::new(question);
    let slots = {
        let qid = qid.clone();
        move || state.answers.with(|a| a.slots(&qid))
    };
    let add_id = qid.clone();
    view! {
        <div class="question__values">
            {move || (0..slots()).map(|index| {
                let q = question.get_value();
                let remove_id = q.id.clone();
                view! {
                    <div class="question__value">
                        <ValueInput question=q index=index/>
                        {(repeats && index > 0).then(|| view! {
                            <button type="button" class="button button--small"
                                on:click=move |_| state.answers.update(|a| a.remove_slot(&remove_id, index))>
                                "Remove"
                            </button>
                        })}
                    </div>
                }
            }).collect_view()}
            {repeats.then(|| view! {
                <button type="button" class="button button--small"
                    on:click=move |_| state.answers.update(|a| a.add_slot(&add_id))>
                    "Add another"
                </button>
            })}
        </div>
    }
}
