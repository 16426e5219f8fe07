use leptos::prelude::*;

use crate::api::ApiError;

/// A plain-language message for an API error, shown in a role="alert" box.
#[component]
pub fn ErrorMessage(
    /// The error to explain.
    #[prop(into)]
    error: Signal<Option<ApiError>>,
) -> impl IntoView {
    move || {
        error.get().map(|e| {
            let text = match &e {
                ApiError::Network(_) => {
                    "Cannot reach the server. Check the connection and try again.".to_string()
                }
                ApiError::Unreachable { .. } => {
                    "The CARE server is not reachable right now. Try again in a moment.".to_string()
                }
                other => other.to_string(),
            };
            view! { <p class="alert alert--error" role="alert">{text}</p> }
        })
    }
}
