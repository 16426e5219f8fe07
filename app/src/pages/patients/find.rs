use leptos::prelude::*;
use leptos_router::{
    components::A,
    hooks::{use_navigate, use_params_map, use_query_map},
    NavigateOptions,
};
use serde_json::{json, Value};

use super::identifiers::use_identifier_configs;
use crate::{
    api::keys,
    components::query_notice::QueryNotice,
    model::{
        identifier::{check_value, form_message, IdentifierConfig},
        patient_lookup::{
            cached_patients, identifier_matches, normalize_phone, parse_year_of_birth,
            partial_matches, PARTIAL_ID_LEN,
        },
        Patient, PatientSearch,
    },
    offline::query::{use_query, use_query_client, QueryKey, QueryOptions},
    session::use_session,
};

/// CARE's find-a-patient flow: phone number → the patients registered with it (name and
/// gender only) → the chosen one's year of birth → the patient's home. Like CARE, it can
/// also search by an identifier the facility lists (an ABHA number answers with the same
/// partial results to verify; a hospital number with the patients themselves). Results are
/// cached per search; offline, the patients saved on this device are searched the same way.
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
    // Or `?config=<identifier config>&value=`.
    let config_id = Memo::new(move |_| query.read().get("config").unwrap_or_default());
    let value = Memo::new(move |_| query.read().get("value").unwrap_or_default());
    let identifier_configs = use_identifier_configs(facility_id);
    let searchable = Memo::new(move |_| identifier_configs.get().typed_on_form());
    let config_of = move |id: &str| -> Option<IdentifierConfig> {
        searchable.with(|list| list.iter().find(|c| c.id == id).cloned())
    };
    // What the form searches by ("" = phone) and what was typed.
    let search_by = RwSignal::new(config_id.get_untracked());
    let typed = RwSignal::new(if config_id.get_untracked().is_empty() {
        phone.get_untracked()
    } else {
        value.get_untracked()
    });
    let phone_error = RwSignal::new(None::<String>);
    let chosen = RwSignal::new(None::<Patient>);
    let year = RwSignal::new(String::new());
    let year_error = RwSignal::new(None::<String>);

    // CARE's search body (Null: nothing searched yet).
    let body = Memo::new(move |_| {
        let phone = phone.get();
        if !phone.is_empty() {
            return json!({ "phone_number": phone });
        }
        let (config, value) = (config_id.get(), value.get());
        if config.is_empty() || value.is_empty() {
            return Value::Null;
        }
        // A facility's own identifier is looked up within that facility.
        let of_facility = identifier_configs.with(|c| c.facility.iter().any(|f| f.id == config));
        if of_facility {
            json!({ "config": config, "value": value, "facility": facility_id.get() })
        } else {
            json!({ "config": config, "value": value })
        }
    });
    let searching = Memo::new(move |_| !body.with(Value::is_null));
    let search = use_query::<PatientSearch, _, _, _>(
        move || keys::patient_search(&body.get()),
        move |key| async move {
            if !searching.get_untracked() {
                return Ok(PatientSearch::default());
            }
            keys::post_read_only::<PatientSearch>(session, key).await
        },
        QueryOptions::persisted(),
    );
    // The server's answer when there is one; else what this device has cached:
    // (patients, partial, from the device).
    let results = Memo::new(move |_| {
        if !searching.get() {
            return None;
        }
        if let Some(found) = search.data.get() {
            return Some((found.results, found.partial, false));
        }
        let cannot_ask = search.unavailable_offline.get()
            || search.error.get().is_some_and(|e| e.is_unreachable());
        if !cannot_ask {
            return None;
        }
        let values = client.values_with_prefix(&QueryKey::new(["patient"]));
        let cached = cached_patients(values.iter());
        let phone = phone.get();
        if !phone.is_empty() {
            return Some((partial_matches(&cached, &phone), true, true));
        }
        let config = config_of(&config_id.get())?;
        let (found, partial) = identifier_matches(&cached, &config, &value.get());
        Some((found, partial, true))
    });

    let go = navigate.clone();
    let on_search = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        chosen.set(None);
        let by = search_by.get_untracked();
        let query = if by.is_empty() {
            normalize_phone(&typed.get_untracked())
                .map(|p| format!("phone_number={}", keys::encode_query_value(&p)))
        } else {
            let entered = typed.get_untracked().trim().to_string();
            match config_of(&by) {
                None => Err("Choose what to search by.".to_string()),
                Some(c) if entered.is_empty() => Err(format!("Enter the {}.", c.label())),
                // CARE compares case-insensitively: a value typed in lower case that fits
                // the pattern in upper case is searched as typed.
                Some(c) => match check_value(&c, &entered)
                    .or_else(|_| check_value(&c, &entered.to_uppercase()))
                {
                    Err(problem) => Err(form_message(&c, problem)),
                    Ok(()) => Ok(format!(
                        "config={}&value={}",
                        keys::encode_query_value(&by),
                        keys::encode_query_value(&entered)
                    )),
                },
            }
        };
        match query {
            Ok(q) => {
                phone_error.set(None);
                go(
                    &format!(
                        "/facility/{}/patients/search?{q}",
                        facility_id.get_untracked()
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
                // Partial items carry the phone (searched by an identifier too), which is
                // what `search_retrieve` verifies with.
                navigate(
                    &format!(
                        "/facility/{}/patients/home?phone_number={}&year_of_birth={y}&partial_id={}",
                        facility_id.get_untracked(),
                        keys::encode_query_value(&p.phone_number),
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
                <Show when=move || !searchable.with(Vec::is_empty)>
                    // Not a <label>: its options' text would join the label of the input.
                    <div class="field">
                        <span class="field__label" id="search-by">"Search by"</span>
                        <select class="field__input" name="search_by" aria-labelledby="search-by"
                            on:change=move |ev| { search_by.set(event_target_value(&ev)); phone_error.set(None); }>
                            <option value="" selected=move || search_by.with(String::is_empty)>"Phone number"</option>
                            {move || searchable.get().into_iter().map(|c| {
                                let id = c.id.clone();
                                view! { <option value=c.id.clone() selected=move || search_by.with(|b| *b == id)>{c.label().to_string()}</option> }
                            }).collect_view()}
                        </select>
                    </div>
                </Show>
                <div class="field">
                    <label class="field__label" for="find-value">{move || {
                        let by = search_by.get();
                        if by.is_empty() { "Phone number".to_string() } else { config_of(&by).map(|c| c.label().to_string()).unwrap_or_default() }
                    }}</label>
                    <input class="field__input" id="find-value" type=move || if search_by.with(String::is_empty) { "tel" } else { "text" }
                        name="phone" placeholder=move || if search_by.with(String::is_empty) { "+91…" } else { "" } autocomplete="off"
                        required aria-required="true"
                        aria-invalid=move || phone_error.with(Option::is_some).to_string()
                        aria-describedby=move || phone_error.with(Option::is_some).then_some("find-value-error")
                        prop:value=typed on:input=move |ev| typed.set(event_target_value(&ev))/>
                    {move || phone_error.get().map(|m| view! { <span class="field__error" id="find-value-error" role="alert">{m}</span> })}
                </div>
                <button class="button button--primary" type="submit">"Search"</button>
            </form>
            <Show when=move || searching.get()>
                <QueryNotice saved_at=search.saved_at unavailable_offline=Signal::derive(|| false) error=search.error/>
            </Show>
            <Show when=move || search.loading.get() && searching.get()>
                <p class="loading" aria-busy="true">"Searching…"</p>
            </Show>
            {move || results.get().map(|(found, partial, local)| {
                let fid = facility_id.get();
                let by_phone = !phone.get_untracked().is_empty();
                let register = if by_phone {
                    format!(
                        "/facility/{fid}/patients/new?phone_number={}",
                        keys::encode_query_value(&phone.get_untracked())
                    )
                } else {
                    format!("/facility/{fid}/patients/new")
                };
                let what = if by_phone {
                    "No patient is registered with this phone number.".to_string()
                } else {
                    let label = config_of(&config_id.get_untracked())
                        .map(|c| c.label().to_string())
                        .unwrap_or_else(|| "identifier".into());
                    format!("No patient has this {label}.")
                };
                let register_label = if by_phone {
                    "Register a new patient with this number"
                } else {
                    "Register a new patient"
                };
                view! {
                    {local.then(|| view! {
                        <p class="alert alert--info" role="status" data-testid="local-search">
                            "Offline: showing patients saved on this device."
                        </p>
                    })}
                    {if found.is_empty() {
                        view! {
                            <p class="muted" data-testid="no-match">{what}</p>
                            <A href=register attr:class="button button--link">"Register a new patient"</A>
                        }.into_any()
                    } else if !partial {
                        // Full patients (an identifier CARE does not verify by year): open them.
                        view! {
                            <ul class="list" data-testid="search-results">
                                {found.into_iter().map(|p| view! {
                                    <li class="list__item">
                                        <A href=format!("/facility/{fid}/patients/{}", p.id) attr:class="list__link">
                                            {format!("{} · {}", p.name, p.gender_label())}
                                        </A>
                                    </li>
                                }).collect_view()}
                            </ul>
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
                            <A href=register attr:class="button button--link">{register_label}</A>
                        }.into_any()
                    }}
                }
            })}
            {move || chosen.get().map(|p| (p, on_verify.clone())).map(|(p, on_verify)| view! {
                <form class="form form--inline verify" on:submit=on_verify novalidate data-testid="verify">
                    <p>{format!("Verify {}: enter the year of birth.", p.name)}</p>
                    <div class="field">
                        <label class="field__label" for="find-year">"Year of birth"</label>
                        <input class="field__input" id="find-year" inputmode="numeric" maxlength="4" name="year_of_birth"
                            required aria-required="true"
                            aria-invalid=move || year_error.with(Option::is_some).to_string()
                            aria-describedby=move || year_error.with(Option::is_some).then_some("find-year-error")
                            prop:value=year on:input=move |ev| year.set(event_target_value(&ev))/>
                        {move || year_error.get().map(|m| view! { <span class="field__error" id="find-year-error" role="alert">{m}</span> })}
                    </div>
                    <button class="button button--primary" type="submit">"Verify"</button>
                </form>
            })}
        </section>
    }
}
