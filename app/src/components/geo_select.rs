use leptos::prelude::*;

use crate::components::get_ready_hint::GetReadyHint;
use crate::{
    api::keys,
    model::{Organization, Paginated},
    offline::query::{use_query, QueryOptions},
    session::use_session,
};

/// Cascading govt-organization selects (state → district → local body → ward), each level
/// cached per parent so the form works offline for areas seen online (seed 000 rows 6–7).
#[component]
pub fn GeoSelect(
    /// The deepest organization chosen so far.
    selected: RwSignal<Option<Organization>>,
) -> impl IntoView {
    view! { <GeoLevel parent=None selected=selected depth=0/> }
}

#[component]
fn GeoLevel(
    parent: Option<String>,
    selected: RwSignal<Option<Organization>>,
    depth: usize,
) -> impl IntoView {
    let session = use_session();
    let key_parent = parent.clone();
    let fetch_parent = parent.clone();
    let orgs = use_query::<Paginated<Organization>, _, _, _>(
        move || keys::areas(key_parent.as_deref().unwrap_or("")),
        move |_| keys::get_areas(session, fetch_parent.clone().unwrap_or_default()),
        QueryOptions::persisted(),
    );
    let chosen = RwSignal::new(None::<Organization>);
    let label = match depth {
        0 => "State",
        1 => "District",
        2 => "Local body",
        _ => "Ward",
    };
    let on_change = move |ev: leptos::ev::Event| {
        let id = event_target_value(&ev);
        let org = orgs
            .data
            .get_untracked()
            .and_then(|p| p.results.into_iter().find(|o| o.id == id));
        chosen.set(org.clone());
        selected.set(org);
    };
    view! {
        <Show when=move || orgs.data.get().is_some_and(|p| !p.results.is_empty())>
            <label class="field">
                <span class="field__label">{label}</span>
                <select class="field__input" name=format!("geo_level_{depth}") on:change=on_change>
                    <option value="">"Choose…"</option>
                    {move || orgs.data.get().map(|p| p.results.into_iter().map(|o| {
                        view! { <option value=o.id.clone()>{o.name.clone()}</option> }
                    }).collect_view())}
                </select>
            </label>
        </Show>
        {move || orgs.unavailable_offline.get().then(|| view! {
            <p class="field__error">"The list of areas was not loaded on this device while online." <GetReadyHint/></p>
        })}
        {move || chosen.get().filter(|o| o.has_children).map(|o| {
            view! { <GeoLevel parent=Some(o.id) selected=selected depth=depth + 1/> }.into_any()
        })}
    }
}
