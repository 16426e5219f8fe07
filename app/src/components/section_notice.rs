use leptos::prelude::*;

use crate::{api::ApiError, components::get_ready_hint::GetReadyHint};

/// A section's own short notice (the page's `QueryNotice` already says "offline, saved at"):
/// nothing saved for this section, or an error that is not just "unreachable".
#[component]
pub fn SectionNotice(
    /// Nothing saved and the server cannot be reached.
    #[prop(into)]
    unavailable_offline: Signal<bool>,
    /// The last error.
    #[prop(into)]
    error: Signal<Option<ApiError>>,
) -> impl IntoView {
    move || {
        if unavailable_offline.get() {
            return Some(view! {
                <p class="muted" data-testid="section-unavailable">"Not loaded on this device while online." <GetReadyHint/></p>
            }
            .into_any());
        }
        match error.get() {
            Some(e) if !e.is_unreachable() => Some(
                view! { <p class="alert alert--error" role="alert">{e.to_string()}</p> }.into_any(),
            ),
            _ => None,
        }
    }
}
