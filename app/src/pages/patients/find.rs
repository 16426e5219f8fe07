use leptos::prelude::*;
use leptos_router::{
    components::A,
    hooks::{use_navigate, use_params_map, use_query_map},
    NavigateOptions,
};
use serde_json::json;

use crate::{
    api::keys,
    components::query_notice::QueryNotice,
    model::{
        patient_lookup::{
            cached_patients, normalize_phone, parse_year_of_birth, partial_matches, PARTIAL_ID_LEN,
        },
        Patient, PatientSearch,
    },
    offline::query::{use_query, use_query_client, QueryKey, QueryOptions},
    session::use_session,
};

/// CARE's find-a-patient flow: phone number → the patients registered with it (name and
/// gender only) → the chosen one's year of birth → the patient's home. Results are cached
/// per phone; offline, the patients saved on this device are searched the same way.
#[component]
pub fn FindPatient() -> impl IntoView {
    let session = use_session();
    let client = use_query_client();
    let navigate = use_navigate();
    let params = use_params_map();
    let facility_id = Memo::new(move |_| params.read().get("facility_id").unwrap_or_default());
    // The searched phone lives in the address (`?phone_number=`), so going back from the
    // patient's home shows the same results.
    let query = use_query_map();
    let phone = Memo::new(move |_| query.read().get("phone_number").unwrap_or_default());
    let typed = RwSignal::new(phone.get_untracked());
    let phone_error = RwSignal::new(None::<String>);
    let chosen = RwSignal::new(None::<Patient>);
    let year = RwSignal::new(String::new());
    let year_error = RwSignal::new(None::<String>);

    let search = use_query::<PatientSearch, _, _, _>(
        move || keys::patient_search(&json!({ "phone_number": phone.get() })),
        move |key| async move {
            if phone.get_untracked().is_empty() {
                return Ok(PatientSearch::default());
            }
            keys::post_read_only::<PatientSearch>(session, key).await
        },
        QueryOptions::persisted(),
    );
    // The server's answer when there is one; else what this device has cached.
    let results = Memo::new(move |_| {
        let phone = phone.get();
        if phone.is_empty() {
            return None;
        }
        if let Some(found) = search.data.get() {
            return Some((found.results, false));
        }
        let cannot_ask = search.unavailable_offline.get()
            || search.error.get().is_some_and(|e| e.is_unreachable());
        cannot_ask.then(|| {
            let values = client.values_with_prefix(&QueryKey::new(["patient"]));
            (
                partial_matches(&cached_patients(values.iter()), &phone),
                true,
            )
        })
    });

    let go = navigate.clone();
    let on_search = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        chosen.set(None);
        match normalize_phone(&typed.get_untracked()) {
            Ok(p) => {
                phone_error.set(None);
                go(
                    &format!(
                        "/facility/{}/patients/search?phone_number={}",
                        facility_id.get_untracked(),
                        keys::encode_query_value(&p)
                    ),
                    NavigateOptions {
                        replace: true,
                        ..Default::default()
                    },
                );
            }
            Err(e) => phone_error.set(Some(e)),
        }
    };
    let on_verify = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(p) = chosen.get_untracked() else {
            return;
        };
        let this_year = chrono::Local::now()
            .format("%Y")
            .to_string()
            .parse()
            .unwrap_or(2026);
        match parse_year_of_birth(&year.get_untracked(), this_year) {
            Ok(y) => {
                year_error.set(None);
                let partial: String = p
                    .partial_id
                    .unwrap_or_default()
                    .chars()
                    .take(PARTIAL_ID_LEN)
                    .collect();
                navigate(
                    &format!(
                        "/facility/{}/patients/home?phone_number={}&year_of_birth={y}&partial_id={}",
                        facility_id.get_untracked(),
                        keys::encode_query_value(&phone.get_untracked()),
                        keys::encode_query_value(&partial),
                    ),
                    Default::default(),
                );
            }
            Err(e) => year_error.set(Some(e)),
        }
    };

    view! {
        <section class="find">
            <h1>"Find a patient"</h1>
            <form class="form form--inline" on:submit=on_search novalidate>
                <label class="field">
                    <span class="field__label">"Phone number"</span>
                    <input class="field__input" type="tel" name="phone" placeholder="+91…" autocomplete="off"
                        prop:value=typed on:input=move |ev| typed.set(event_target_value(&ev))/>
                    {move || phone_error.get().map(|m| view! { <span class="field__error" role="alert">{m}</span> })}
                </label>
                <button class="button button--primary" type="submit">"Search"</button>
            </form>
            <Show when=move || !phone.get().is_empty()>
                <QueryNotice saved_at=search.saved_at unavailable_offline=Signal::derive(|| false) error=search.error/>
            </Show>
            <Show when=move || search.loading.get() && !phone.get().is_empty()>
                <p class="loading" aria-busy="true">"Searching…"</p>
            </Show>
            {move || results.get().map(|(found, local)| {
                let fid = facility_id.get();
                let register = format!(
                    "/facility/{fid}/patients/new?phone_number={}",
                    keys::encode_query_value(&phone.get_untracked())
                );
                view! {
                    {local.then(|| view! {
                        <p class="alert alert--info" role="status" data-testid="local-search">
                            "Offline: showing patients saved on this device."
                        </p>
                    })}
                    {if found.is_empty() {
                        view! {
                            <p class="muted" data-testid="no-match">"No patient is registered with this phone number."</p>
                            <A href=register attr:class="button button--link">"Register a new patient"</A>
                        }.into_any()
                    } else {
                        view! {
                            <ul class="list" data-testid="search-results">
                                {found.into_iter().map(|p| {
                                    let label = format!("{} · {}", p.name, p.gender_label());
                                    let pick = p.clone();
                                    let selected = {
                                        let id = p.id.clone();
                                        move || chosen.with(|c| c.as_ref().is_some_and(|c| c.id == id))
                                    };
                                    view! {
                                        <li class="list__item">
                                            <button class="list__link button--plain" aria-pressed=move || selected().to_string()
                                                on:click=move |_| { year.set(String::new()); year_error.set(None); chosen.set(Some(pick.clone())); }>
                                                {label}
                                            </button>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                            <A href=register attr:class="button button--link">"Register a new patient with this number"</A>
                        }.into_any()
                    }}
                }
            })}
            {move || chosen.get().map(|p| (p, on_verify.clone())).map(|(p, on_verify)| view! {
                <form class="form form--inline verify" on:submit=on_verify novalidate data-testid="verify">
                    <p>{format!("Verify {}: enter the year of birth.", p.name)}</p>
                    <label class="field">
                        <span class="field__label">"Year of birth"</span>
                        <input class="field__input" inputmode="numeric" maxlength="4" name="year_of_birth"
                            prop:value=year on:input=move |ev| year.set(event_target_value(&ev))/>
                        {move || year_error.get().map(|m| view! { <span class="field__error" role="alert">{m}</span> })}
                    </label>
                    <button class="button button--primary" type="submit">"Verify"</button>
                </form>
            })}
        </section>
    }
}
