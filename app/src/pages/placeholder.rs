use leptos::prelude::*;

/// A page whose workflow a later issue builds; says so plainly instead of pretending.
#[component]
pub fn Placeholder(
    /// Page heading.
    title: &'static str,
    /// The issue that builds it.
    issue: u32,
    /// What the page will hold.
    what: &'static str,
) -> impl IntoView {
    view! {
        <section class="placeholder">
            <h1>{title}</h1>
            <p>{what} " is not built yet (issue #" {issue} "). Nothing on this page saves data."</p>
        </section>
    }
}
