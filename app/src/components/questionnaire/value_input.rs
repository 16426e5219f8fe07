use leptos::prelude::*;

use super::use_form_state;
use crate::model::Question;

/// The input for one value of a question, by type, labelled with the question's text
/// (numbered when the question repeats).
#[component]
pub fn ValueInput(
    /// The question definition.
    question: Question,
    /// Which value of the question (0 for the first).
    index: usize,
) -> impl IntoView {
    let state = use_form_state();
    let qid = question.id.clone();
    let input_id = format!("q-{}-{index}", question.id);
    let label = if index == 0 {
        question.text.clone()
    } else {
        format!("{} ({})", question.text, index + 1)
    };
    let value = {
        let qid = qid.clone();
        move || state.answers.with(|a| a.value_at(&qid, index))
    };
    let set = {
        let qid = qid.clone();
        move |v: String| state.answers.update(|a| a.set(&qid, index, v))
    };
    let required = question.is_required().then(|| {
        view! { <span class="question__required" aria-hidden="true">" *"</span> }
    });
    let description = question
        .description
        .clone()
        .filter(|d| !d.is_empty())
        .map(|d| view! { <span class="question__hint">{d}</span> });
    let unit = question.unit.as_ref().map(|u| {
        let text = if u.display.is_empty() {
            u.code.clone()
        } else {
            u.display.clone()
        };
        view! { <span class="question__unit">{text}</span> }
    });
    let read_only = question.read_only == Some(true);
    match question.kind.as_str() {
        "boolean" => {
            let name = input_id.clone();
            let radio = move |text: &'static str, v: &'static str| {
                let set = set.clone();
                let value = value.clone();
                view! {
                    <label class="field field--inline">
                        <input type="radio" name=name.clone() value=v disabled=read_only
                            prop:checked=move || value() == v
                            on:change=move |_| set(v.to_string())/>
                        <span>{text}</span>
                    </label>
                }
            };
            view! {
                <fieldset class="question__boolean">
                    <legend class="question__label">{label}{required}</legend>
                    {description}
                    {radio("Yes", "true")}
                    {radio("No", "false")}
                </fieldset>
            }
            .into_any()
        }
        "choice" => {
            let options = question.answer_option.clone();
            view! {
                <label class="field" for=input_id.clone()>
                    <span class="question__label">{label}{required}</span>
                    {description}
                </label>
                <select id=input_id class="field__input" disabled=read_only
                    prop:value=value.clone()
                    on:change=move |ev| set(event_target_value(&ev))>
                    <option value="">"Choose…"</option>
                    {options.into_iter().map(|o| {
                        let v = o.value.clone();
                        let selected = value.clone();
                        view! { <option value=v.clone() selected=move || selected() == v>{o.value.replace('_', " ")}</option> }
                    }).collect_view()}
                </select>
            }
            .into_any()
        }
        "text" => view! {
            <label class="field" for=input_id.clone()>
                <span class="question__label">{label}{required}</span>
                {description}
            </label>
            <textarea id=input_id class="field__input" rows="3" readonly=read_only
                prop:value=value on:input=move |ev| set(event_target_value(&ev))></textarea>
        }
        .into_any(),
        kind => {
            let (input_type, step) = match kind {
                "integer" => ("number", Some("1")),
                "decimal" | "quantity" => ("number", Some("any")),
                "date" => ("date", None),
                "dateTime" => ("datetime-local", None),
                "time" => ("time", None),
                "url" => ("url", None),
                _ => ("text", None),
            };
            view! {
                <label class="field" for=input_id.clone()>
                    <span class="question__label">{label}{required}</span>
                    {description}
                </label>
                <span class="question__input">
                    <input id=input_id class="field__input" type=input_type step=step readonly=read_only
                        maxlength=question.max_length.map(|m| m.to_string())
                        prop:value=value on:input=move |ev| set(event_target_value(&ev))/>
                    {unit}
                </span>
            }
            .into_any()
        }
    }
}
