use leptos::prelude::*;

/// The id of `field`'s error message (what its input's `aria-describedby` names).
pub fn error_id(field: &str) -> String {
    format!("{field}-error")
}

/// The message of `field` in `errors`, if any.
pub fn message_for(errors: &[(String, String)], field: &str) -> Option<String> {
    errors
        .iter()
        .find(|(f, _)| f == field)
        .map(|(_, m)| m.clone())
}

/// One field's error, under the field and outside its label, so the label stays the
/// field's name; the input points at it with `aria-describedby` (see `described_by`).
#[component]
pub fn FieldError(
    /// (field, message) pairs of the form.
    #[prop(into)]
    errors: Signal<Vec<(String, String)>>,
    /// The field whose message this shows.
    field: String,
) -> impl IntoView {
    let id = error_id(&field);
    move || {
        errors.with(|e| message_for(e, &field)).map(|m| {
            view! { <span class="field__error" id=id.clone() role="alert">{m}</span> }
        })
    }
}

/// "*" after a required field's name, hidden from screen readers (the input says
/// `required` itself).
#[component]
pub fn RequiredMark() -> impl IntoView {
    view! { <span class="field__required" aria-hidden="true">" *"</span> }
}

/// A form's (field, message) errors as its inputs read them: `aria-invalid`,
/// `aria-describedby` (naming the message) and the message itself under the field.
#[derive(Clone, Copy)]
pub struct FieldErrors(pub RwSignal<Vec<(String, String)>>);

impl FieldErrors {
    pub fn invalid(self, field: &'static str) -> impl Fn() -> String + Clone + 'static {
        move || self.0.with(|e| message_for(e, field).is_some()).to_string()
    }

    pub fn described(self, field: &'static str) -> impl Fn() -> Option<String> + Clone + 'static {
        move || {
            self.0
                .with(|e| message_for(e, field).map(|_| error_id(field)))
        }
    }

    pub fn message(self, field: &'static str) -> impl IntoView {
        view! { <FieldError errors=Signal::derive(move || self.0.get()) field=field.to_string()/> }
    }
}
