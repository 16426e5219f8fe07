use leptos::prelude::*;
use leptos_router::components::A;

/// Navigation to the four workflows and the sync status page of one facility.
#[component]
pub fn Nav(
    /// The facility whose pages the links open.
    facility_id: String,
) -> impl IntoView {
    let base = format!("/facility/{facility_id}");
    let links = [
        ("", "Home"),
        ("/patients", "Patients"),
        ("/encounters", "Encounters"),
        ("/appointments", "Appointments"),
        ("/sync", "Sync status"),
    ];
    view! {
        <nav class="nav" aria-label="Main">
            {links
                .into_iter()
                .map(|(suffix, label)| {
                    let href = format!("{base}{suffix}");
                    view! { <A href=href exact=true attr:class="nav__link">{label}</A> }
                })
                .collect_view()}
        </nav>
    }
}
