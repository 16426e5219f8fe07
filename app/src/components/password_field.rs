use leptos::prelude::*;

/// The password box of the sign-in page and the lock screen (the browser's password manager
/// fills both).
#[component]
pub fn PasswordField(
    /// What is typed.
    value: RwSignal<String>,
) -> impl IntoView {
    view! {
        <label class="field">
            <span class="field__label">"Password"</span>
            <input
                class="field__input"
                name="password"
                type="password"
                autocomplete="current-password"
                required
                prop:value=value
                on:input=move |ev| value.set(event_target_value(&ev))
            />
        </label>
    }
}
