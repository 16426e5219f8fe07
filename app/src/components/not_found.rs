use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <main class="page page--narrow">
            <h1>"Page not found"</h1>
            <p>"There is no page at this address."</p>
            <A href="/">"Go to the home page"</A>
        </main>
    }
}
