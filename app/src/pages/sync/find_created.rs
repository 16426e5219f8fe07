//! "Find it in CARE" for a new patient whose answer was lost: CARE's search by the phone
//! number the registration carried lists the matches (partly, as CARE shows them); the
//! person picks theirs, the full record is fetched (`search_retrieve`, with the year of
//! birth) and adopted as the write's answer — so the device's copy and the writes that
//! depend on it (an encounter started for the new patient) take CARE's id.

use leptos::prelude::*;
use serde_json::{json, Value};

use crate::{
    api::Method,
    offline::outbox::{use_outbox, OutboxRecord},
    session::use_session,
};

/// CARE's search body for the registration's phone number.
pub fn search_body(payload: &Value) -> Option<Value> {
    let phone = payload.get("phone_number")?.as_str()?.trim();
    (!phone.is_empty()).then(|| json!({ "phone_number": phone }))
}

/// CARE's `search_retrieve` body for one match: the phone, the year of birth the
/// registration carried, and the match's partial id.
pub fn retrieve_body(payload: &Value, partial_id: &str) -> Option<Value> {
    let phone = search_body(payload)?["phone_number"].clone();
    let year = payload
        .get("year_of_birth")
        .and_then(Value::as_i64)
        .or_else(|| {
            payload
                .get("date_of_birth")?
                .as_str()?
                .get(..4)?
                .parse()
                .ok()
        })?;
    Some(json!({ "phone_number": phone, "year_of_birth": year, "partial_id": partial_id }))
}

#[component]
pub fn FindCreated(record: OutboxRecord) -> impl IntoView {
    let outbox = use_outbox();
    let session = use_session();
    let matches = RwSignal::new(None::<Result<Vec<Value>, String>>);
    let busy = RwSignal::new(false);
    let payload = StoredValue::new(record.payload.clone());
    let id = StoredValue::new(record.id.clone());

    let find = move |_| {
        let Some(body) = search_body(&payload.get_value()) else {
            matches.set(Some(Err(
                "This registration has no phone number to search by.".into(),
            )));
            return;
        };
        busy.set(true);
        leptos::task::spawn_local(async move {
            let found = session
                .call::<Value>(Method::Post, "/patient/search/", Some(&body))
                .await
                .map(|v| v["results"].as_array().cloned().unwrap_or_default())
                .map_err(|e| e.to_string());
            matches.set(Some(found));
            busy.set(false);
        });
    };
    let pick = move |partial_id: String| {
        let Some(body) = retrieve_body(&payload.get_value(), &partial_id) else {
            matches.set(Some(Err(
                "This registration has no year of birth to confirm the match with.".into(),
            )));
            return;
        };
        busy.set(true);
        leptos::task::spawn_local(async move {
            match session
                .call::<Value>(Method::Post, "/patient/search_retrieve/", Some(&body))
                .await
            {
                Ok(patient) if patient.get("id").is_some() => {
                    #[cfg(feature = "hydrate")]
                    outbox.adopt_found(&id.get_value(), patient).await;
                    #[cfg(not(feature = "hydrate"))]
                    let _ = (outbox, patient, id);
                }
                Ok(_) => matches.set(Some(Err("CARE's answer had no patient in it.".into()))),
                Err(e) => matches.set(Some(Err(e.to_string()))),
            }
            busy.set(false);
        });
    };

    view! {
        <div class="find-created" data-testid="find-created">
            <button class="button" type="button" disabled=move || busy.get() on:click=find>"Find it in CARE"</button>
            {move || matches.get().map(|found| match found {
                Err(message) => view! { <p class="alert alert--error" role="alert">{message}</p> }.into_any(),
                Ok(list) if list.is_empty() => view! {
                    <p class="muted">"CARE has no patient with this phone number: it did not save this registration. Use “Send again”."</p>
                }.into_any(),
                Ok(list) => view! {
                    <ul class="list" aria-label="Patients in CARE with this phone number">
                        {list.into_iter().map(|p| {
                            let name = p["name"].as_str().unwrap_or("").to_string();
                            let gender = p["gender"].as_str().unwrap_or("").to_string();
                            let partial = p["partial_id"].as_str().unwrap_or("").to_string();
                            let label = format!("This is {name}");
                            view! {
                                <li class="list__item">
                                    <span>{format!("{name} · {gender}")}</span>
                                    " "
                                    <button class="button button--small" type="button" aria-label=label
                                        disabled=move || busy.get()
                                        on:click=move |_| pick(partial.clone())>"This is it"</button>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any(),
            })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_search_uses_the_phone_and_the_retrieve_the_year_of_birth() {
        let payload = json!({"name": "Asha", "phone_number": " +919812345611 ",
                             "date_of_birth": "1991-03-04"});
        assert_eq!(
            search_body(&payload),
            Some(json!({"phone_number": "+919812345611"}))
        );
        assert_eq!(
            retrieve_body(&payload, "ab12c"),
            Some(
                json!({"phone_number": "+919812345611", "year_of_birth": 1991,
                        "partial_id": "ab12c"})
            )
        );
        let by_age = json!({"phone_number": "+91981", "year_of_birth": 1980});
        assert_eq!(
            retrieve_body(&by_age, "x").expect("body")["year_of_birth"],
            1980
        );
        assert_eq!(search_body(&json!({"phone_number": ""})), None);
        assert_eq!(retrieve_body(&json!({"phone_number": "+91"}), "x"), None);
    }
}
