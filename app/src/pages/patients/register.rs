use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map};
use serde_json::Value;

use crate::{
    api::{keys, ApiError, Method},
    components::geo_select::GeoSelect,
    model::{
        patient_form::{server_field_errors, PatientForm, BLOOD_GROUPS, GENDERS},
        Organization,
    },
    offline::{network::use_network, outbox::use_outbox, query::use_query_client},
    session::use_session,
};

/// Register a patient. Online it posts (with an idempotency key); offline, or when the
/// server cannot be reached, it queues the registration and the patient appears at once.
#[component]
pub fn RegisterPatient() -> impl IntoView {
    let params = use_params_map();
    let facility_id = Memo::new(move |_| params.read().get("facility_id").unwrap_or_default());
    let session = use_session();
    let network = use_network();
    let client = use_query_client();
    let outbox = use_outbox();
    let navigate = use_navigate();
    let form = RwSignal::new(PatientForm {
        age_or_dob: "dob".into(),
        same_emergency_phone: true,
        same_permanent_address: true,
        ..Default::default()
    });
    let geo = RwSignal::new(None::<Organization>);
    let errors = RwSignal::new(Vec::<(String, String)>::new());
    let form_error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    let error_for = move |field: &'static str| {
        move || {
            errors
                .with(|e| e.iter().find(|(f, _)| f == field).map(|(_, m)| m.clone()))
                .map(|m| {
                    view! { <span class="field__error" role="alert">{m}</span> }
                })
        }
    };
    let set = move |f: fn(&mut PatientForm, String)| {
        move |ev: leptos::ev::Event| form.update(|form| f(form, event_target_value(&ev)))
    };

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let mut data = form.get_untracked();
        data.geo_organization = geo.get_untracked().map(|o| o.id).unwrap_or_default();
        let today = chrono::Local::now().date_naive();
        let payload = match data.validate(today) {
            Ok(p) => p,
            Err(errs) => {
                errors.set(errs.into_iter().map(|(f, m)| (f.to_string(), m)).collect());
                form_error.set(Some("Check the highlighted fields.".into()));
                return;
            }
        };
        errors.set(Vec::new());
        form_error.set(None);
        busy.set(true);
        let navigate = navigate.clone();
        let fid = facility_id.get_untracked();
        leptos::task::spawn_local(async move {
            let geo_json = geo
                .get_untracked()
                .and_then(|o| serde_json::to_value(o).ok());
            let outcome = if network.online_untracked() {
                let key = uuid::Uuid::new_v4().to_string();
                let sent: Result<Value, ApiError> = session
                    .call_with(
                        Method::Post,
                        "/patient/",
                        Some(&payload),
                        &[("Idempotency-Key", key.as_str())],
                    )
                    .await;
                match sent {
                    Ok(created) => Ok(Some(created)),
                    Err(e) if e.is_unreachable() => Ok(None),
                    Err(e) => Err(e),
                }
            } else {
                Ok(None)
            };
            match outcome {
                Ok(Some(created)) => {
                    let id = created["id"].as_str().unwrap_or_default().to_string();
                    client.set_query_data(&keys::patient_detail(&id), created, true);
                    client.invalidate(&crate::offline::query::QueryKey::new(["patient", "list"]));
                    navigate(&format!("/facility/{fid}/patients/{id}"), Default::default());
                }
                Ok(None) => match queue(outbox, client, payload, geo_json).await {
                    Ok(temp_id) => navigate(&format!("/facility/{fid}/patients/{temp_id}"), Default::default()),
                    Err(e) => form_error.set(Some(format!("Could not save on this device: {e}. Nothing was lost from the form; try again."))),
                },
                Err(ApiError::Http { status: 400, body }) => {
                    errors.set(server_field_errors(&body));
                    form_error.set(Some("CARE did not accept the registration; check the highlighted fields.".into()));
                }
                Err(e) => form_error.set(Some(e.to_string())),
            }
            busy.set(false);
        });
    };

    view! {
        <section class="register">
            <h1>"Register a patient"</h1>
            <Show when=move || !network.online()>
                <p class="alert alert--info" role="status">"Offline: the registration will be saved on this device and sent when the server is reachable."</p>
            </Show>
            <form class="form" on:submit=submit novalidate>
                <label class="field">
                    <span class="field__label">"Name"</span>
                    <input class="field__input" name="name" prop:value=move || form.with(|f| f.name.clone()) on:input=set(|f, v| f.name = v)/>
                    {error_for("name")}
                </label>
                <label class="field">
                    <span class="field__label">"Phone number"</span>
                    <input class="field__input" name="phone_number" type="tel" placeholder="+91…" prop:value=move || form.with(|f| f.phone_number.clone()) on:input=set(|f, v| f.phone_number = v)/>
                    {error_for("phone_number")}
                </label>
                <label class="field field--inline">
                    <input type="checkbox" prop:checked=move || form.with(|f| f.same_emergency_phone)
                        on:change=move |ev| form.update(|f| f.same_emergency_phone = event_target_checked(&ev))/>
                    <span>"Emergency phone is the same"</span>
                </label>
                <Show when=move || !form.with(|f| f.same_emergency_phone)>
                    <label class="field">
                        <span class="field__label">"Emergency phone number"</span>
                        <input class="field__input" name="emergency_phone_number" type="tel" prop:value=move || form.with(|f| f.emergency_phone_number.clone()) on:input=set(|f, v| f.emergency_phone_number = v)/>
                    </label>
                </Show>
                {error_for("emergency_phone_number")}
                <fieldset class="field">
                    <legend class="field__label">"Gender"</legend>
                    {GENDERS.iter().map(|(value, label)| view! {
                        <label class="choice">
                            <input type="radio" name="gender" value=*value on:change=set(|f, v| f.gender = v)/>
                            {*label}
                        </label>
                    }).collect_view()}
                    {error_for("gender")}
                </fieldset>
                <fieldset class="field">
                    <legend class="field__label">"Age or date of birth"</legend>
                    <label class="choice"><input type="radio" name="age_or_dob" value="dob" checked on:change=set(|f, v| f.age_or_dob = v)/>"Date of birth"</label>
                    <label class="choice"><input type="radio" name="age_or_dob" value="age" on:change=set(|f, v| f.age_or_dob = v)/>"Age"</label>
                    <Show when=move || form.with(|f| f.age_or_dob == "age")
                        fallback=move || view! {
                            <input class="field__input" name="date_of_birth" type="date" aria-label="Date of birth" prop:value=move || form.with(|f| f.date_of_birth.clone()) on:input=set(|f, v| f.date_of_birth = v)/>
                        }>
                        <input class="field__input" name="age" type="number" min="1" max="120" aria-label="Age in years" prop:value=move || form.with(|f| f.age.clone()) on:input=set(|f, v| f.age = v)/>
                    </Show>
                    {error_for("date_of_birth")}
                    {error_for("age")}
                </fieldset>
                <label class="field">
                    <span class="field__label">"Blood group"</span>
                    <select class="field__input" name="blood_group" on:change=set(|f, v| f.blood_group = v)>
                        <option value="">"Not known"</option>
                        {BLOOD_GROUPS.iter().map(|(v, l)| view! { <option value=*v>{*l}</option> }).collect_view()}
                    </select>
                    {error_for("blood_group")}
                </label>
                <label class="field">
                    <span class="field__label">"Address"</span>
                    <textarea class="field__input" name="address" prop:value=move || form.with(|f| f.address.clone()) on:input=set(|f, v| f.address = v)></textarea>
                    {error_for("address")}
                </label>
                <label class="field field--inline">
                    <input type="checkbox" prop:checked=move || form.with(|f| f.same_permanent_address)
                        on:change=move |ev| form.update(|f| f.same_permanent_address = event_target_checked(&ev))/>
                    <span>"Permanent address is the same"</span>
                </label>
                <Show when=move || !form.with(|f| f.same_permanent_address)>
                    <label class="field">
                        <span class="field__label">"Permanent address"</span>
                        <textarea class="field__input" name="permanent_address" prop:value=move || form.with(|f| f.permanent_address.clone()) on:input=set(|f, v| f.permanent_address = v)></textarea>
                    </label>
                </Show>
                {error_for("permanent_address")}
                <GeoSelect selected=geo/>
                {error_for("geo_organization")}
                <label class="field">
                    <span class="field__label">"Pincode"</span>
                    <input class="field__input" name="pincode" inputmode="numeric" prop:value=move || form.with(|f| f.pincode.clone()) on:input=set(|f, v| f.pincode = v)/>
                    {error_for("pincode")}
                </label>
                {move || form_error.get().map(|m| view! { <p class="alert alert--error" role="alert">{m}</p> })}
                <button class="button button--primary" type="submit" disabled=busy>
                    {move || if busy.get() { "Saving…" } else { "Register patient" }}
                </button>
            </form>
        </section>
    }
}

/// Queues the registration: the outbox record, the patient's detail and the first page of
/// every cached patient list, in one device transaction.
#[cfg(feature = "hydrate")]
async fn queue(
    outbox: crate::offline::outbox::Outbox,
    client: crate::offline::query::QueryClient,
    payload: Value,
    geo: Option<Value>,
) -> Result<String, crate::offline::store::StoreError> {
    use crate::offline::{
        outbox::{effects, registry::normalize_patient},
        query::QueryKey,
    };
    let temp_id = uuid::Uuid::new_v4().to_string();
    let now = chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string();
    let patient = normalize_patient(&temp_id, &payload, geo.as_ref(), &now);
    let mut optimistic = vec![(keys::patient_detail(&temp_id), patient.clone())];
    for key in client.keys_with_prefix(&QueryKey::new(["patient", "list"])) {
        if effects::shows_new_records(&key) {
            if let Some(mut list) = client.get_query_data(&key) {
                effects::prepend(&mut list, patient.clone());
                optimistic.push((key, list));
            }
        }
    }
    outbox
        .enqueue(crate::offline::outbox::browser::WriteSpec {
            route_key: "patient.create",
            payload,
            temp_id: Some(temp_id.clone()),
            optimistic,
            ..Default::default()
        })
        .await?;
    Ok(temp_id)
}

#[cfg(not(feature = "hydrate"))]
async fn queue(
    _outbox: crate::offline::outbox::Outbox,
    _client: crate::offline::query::QueryClient,
    _payload: Value,
    _geo: Option<Value>,
) -> Result<String, crate::offline::store::StoreError> {
    Err(crate::offline::store::StoreError::Unavailable(
        "not in a browser".into(),
    ))
}
