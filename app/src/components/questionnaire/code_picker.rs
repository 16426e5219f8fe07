use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{
    api::keys,
    model::Coding,
    offline::{
        query::{use_query, QueryOptions},
        store::local,
    },
    questionnaire::codes::CodePrefs,
    session::use_session,
};

/// `POST /valueset/{slug}/expand/`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Expansion {
    pub results: Vec<Coding>,
}

/// Picks a code from a value set: favourites and recent picks first (kept on this device
/// for the signed-in user), then search results from `expand`, cached per search so a
/// search done online works again offline.
#[component]
pub fn CodePicker(
    /// The value set slug.
    valueset: &'static str,
    /// The search box's label.
    #[prop(into)]
    label: String,
    /// Called with the chosen code.
    on_pick: Callback<Coding>,
) -> impl IntoView {
    let session = use_session();
    let user_id = move || session.user().map(|u| u.user.id).unwrap_or_default();
    let prefs_key = move || CodePrefs::storage_key(&user_id(), valueset);
    let prefs = RwSignal::new(CodePrefs::default());
    // Kept sealed in the user's vault; read again whenever the picker is focused (another
    // picker of the same value set may have saved since).
    let client = crate::offline::query::use_query_client();
    let reload = move || {
        let key = prefs_key();
        leptos::task::spawn_local(async move {
            prefs.set(CodePrefs::parse(local::get(&key).await.as_deref()));
        });
    };
    Effect::new(move |_| {
        if client.restored() {
            reload();
        }
    });
    let search = RwSignal::new(String::new());
    let results = use_query::<Expansion, _, _, _>(
        move || {
            keys::valueset_expand(
                valueset,
                &json!({"search": search.get().trim(), "count": 10}),
            )
        },
        move |key| keys::post_read_only::<Expansion>(session, key),
        QueryOptions::persisted(),
    );
    // Change what this picker shows (read again on focus) and save it.
    let change = move |f: &dyn Fn(&mut CodePrefs)| {
        let mut p = prefs.get_untracked();
        f(&mut p);
        if let Ok(text) = serde_json::to_string(&p) {
            local::set(&prefs_key(), &text);
        }
        prefs.set(p);
    };
    let pick = move |c: Coding| {
        change(&|p| p.picked(&c));
        search.set(String::new());
        on_pick.run(c);
    };
    let toggle = move |c: Coding| change(&|p| p.toggle_favourite(&c));
    let option = move |c: Coding| {
        let (a, b) = (c.clone(), c.clone());
        let fav_label = StoredValue::new(c.display.clone());
        let b = StoredValue::new(b);
        let is_fav = move || prefs.with(|p| b.with_value(|b| p.is_favourite(b)));
        view! {
            <li class="picker__option">
                <button type="button" class="button button--small picker__pick"
                    aria-label=format!("Add {}", c.display) on:click=move |_| pick(a.clone())>
                    {c.display.clone()}
                </button>
                <button type="button" class="picker__star"
                    aria-pressed=move || is_fav().to_string()
                    aria-label=move || if is_fav() { format!("Remove {} from favourites", fav_label.get_value()) } else { format!("Add {} to favourites", fav_label.get_value()) }
                    on:click=move |_| toggle(c.clone())>
                    {move || if is_fav() { "★" } else { "☆" }}
                </button>
            </li>
        }
    };
    let input_id = format!(
        "picker-{}",
        label
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect::<String>()
    );
    view! {
        <div class="picker">
            {move || {
                let p = prefs.get();
                let quick: Vec<Coding> = p.favourites.iter().chain(p.recent.iter().filter(|r| !p.is_favourite(r))).cloned().collect();
                (!quick.is_empty()).then(|| view! {
                    <div class="picker__quick">
                        <span class="muted">"Favourites and recent"</span>
                        <ul class="picker__list" data-testid="picker-quick">{quick.into_iter().map(option).collect_view()}</ul>
                    </div>
                })
            }}
            <label class="field" for=input_id.clone()>
                <span class="field__label">{label}</span>
            </label>
            <input id=input_id class="field__input" type="search" placeholder="Search codes…"
                prop:value=search on:input=move |ev| search.set(event_target_value(&ev))
                on:focus=move |_| reload()/>
            {move || {
                if search.get().trim().is_empty() {
                    return None;
                }
                Some(match results.data.get() {
                    Some(r) if r.results.is_empty() => view! { <p class="muted">"No matching codes."</p> }.into_any(),
                    Some(r) => view! {
                        <ul class="picker__list" data-testid="picker-results">{r.results.into_iter().map(option).collect_view()}</ul>
                    }.into_any(),
                    None if results.unavailable_offline.get() => view! {
                        <p class="muted">"Offline: this search was not done on this device before. Try a favourite or a recent pick."</p>
                    }.into_any(),
                    None => view! { <p class="loading">"Searching…"</p> }.into_any(),
                })
            }}
        </div>
    }
}
