use leptos::prelude::*;

use crate::offline::vault::{idle, use_vault};

/// "Lock after N minutes untouched" (per device): the vault locks and asks for the
/// password again.
#[component]
pub fn IdleLockSetting() -> impl IntoView {
    let vault = use_vault();
    let on_change = move |ev: leptos::ev::Event| {
        if let Ok(m) = event_target_value(&ev).parse::<u32>() {
            vault.set_idle_minutes(m);
        }
    };
    view! {
        <label class="field form--inline" data-testid="idle-lock">
            <span class="field__label">"Lock this device after it is left untouched for"</span>
            <select class="field__input" name="idle_minutes" on:change=on_change>
                {idle::CHOICES
                    .iter()
                    .map(|m| {
                        let m = *m;
                        let label = match m {
                            1 => "1 minute".to_string(),
                            m if m < 60 => format!("{m} minutes"),
                            60 => "1 hour".to_string(),
                            m => format!("{} hours", m / 60),
                        };
                        view! {
                            <option value=m.to_string() selected=move || vault.idle_minutes() == m>
                                {label}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        </label>
    }
}
