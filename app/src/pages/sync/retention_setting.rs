use leptos::prelude::*;

use crate::offline::outbox::{retention, use_outbox};

/// "Keep synced writes for N days" (per device): older synced writes are cleaned up; writes
/// not yet synced are never removed by it.
#[component]
pub fn RetentionSetting() -> impl IntoView {
    let outbox = use_outbox();
    let days = RwSignal::new(retention::DEFAULT_DAYS.to_string());
    let error = RwSignal::new(None::<String>);
    let saved = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| days.set(outbox.keep_synced_days().to_string()));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match retention::parse_days(&days.get_untracked()) {
            Ok(d) => {
                error.set(None);
                #[cfg(feature = "hydrate")]
                leptos::task::spawn_local(async move {
                    outbox.set_keep_synced_days(d).await;
                    saved.set(true);
                });
                #[cfg(not(feature = "hydrate"))]
                let _ = (d, outbox);
            }
            Err(e) => {
                saved.set(false);
                error.set(Some(e));
            }
        }
    };
    view! {
        <form class="form form--inline" on:submit=submit novalidate data-testid="retention">
            <label class="field">
                <span class="field__label">"Keep synced writes for (days)"</span>
                <input class="field__input" inputmode="numeric" name="keep_days" prop:value=days
                    on:input=move |ev| { saved.set(false); days.set(event_target_value(&ev)); }/>
                {move || error.get().map(|m| view! { <span class="field__error" role="alert">{m}</span> })}
            </label>
            <button class="button" type="submit">"Save"</button>
            <Show when=move || saved.get()>
                <span class="muted" role="status">"Saved."</span>
            </Show>
        </form>
    }
}
