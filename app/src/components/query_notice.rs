use leptos::prelude::*;

use crate::{
    api::ApiError, components::get_ready_hint::GetReadyHint, offline::query::options::Millis,
};

/// "10:42" today, else "21 Nov 10:42", in the device's time zone.
pub fn format_saved_at(ms: Millis, now: Millis) -> String {
    use chrono::{Local, TimeZone};
    let (Some(at), Some(today)) = (
        Local.timestamp_millis_opt(ms).single(),
        Local.timestamp_millis_opt(now).single(),
    ) else {
        return "an unknown time".to_string();
    };
    if at.date_naive() == today.date_naive() {
        at.format("%H:%M").to_string()
    } else {
        at.format("%-d %b %H:%M").to_string()
    }
}

/// What a page says about where its data comes from: saved data shown offline, nothing
/// available offline, or an error.
#[component]
pub fn QueryNotice(
    /// Set when showing saved data the server has not confirmed.
    #[prop(into)]
    saved_at: Signal<Option<Millis>>,
    /// Nothing saved and the server cannot be reached.
    #[prop(into)]
    unavailable_offline: Signal<bool>,
    /// The last error (shown when it is not just "unreachable").
    #[prop(into)]
    error: Signal<Option<ApiError>>,
) -> impl IntoView {
    move || {
        if unavailable_offline.get() {
            return view! {
                <p class="alert alert--info" role="status" data-testid="unavailable-offline">
                    "Not available offline: this was not opened on this device while online."
                    <GetReadyHint/>
                </p>
            }
            .into_any();
        }
        if let Some(at) = saved_at.get() {
            let now = chrono::Utc::now().timestamp_millis();
            return view! {
                <p class="alert alert--info" role="status" data-testid="saved-at">
                    "Offline — showing data saved at " {format_saved_at(at, now)}
                </p>
            }
            .into_any();
        }
        match error.get() {
            Some(e) if !e.is_unreachable() => {
                view! { <p class="alert alert--error" role="alert">{e.to_string()}</p> }.into_any()
            }
            _ => ().into_any(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_day_shows_time_only() {
        let now = chrono::Utc::now().timestamp_millis();
        let text = format_saved_at(now, now);
        assert_eq!(text.len(), 5, "{text}");
        let week_ago = format_saved_at(now - 7 * 86_400_000, now);
        assert!(week_ago.len() > 5, "{week_ago}");
    }
}
