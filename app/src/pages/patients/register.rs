use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use serde_json::Value;

use super::identifiers::{show_refusal, use_identifier_configs};
use crate::{
    api::{keys, ApiError, Method},
    components::patient_fields::PatientFields,
    model::{
        identifier::FacilityIdentifierConfigs,
        patient_form::{patient_field_errors, PatientForm},
        Organization, PatientSearch,
    },
    offline::{
        network::use_network,
        outbox::{effects, now_iso, registry::normalize_patient, use_outbox, Outbox, WriteSpec},
        query::{use_query, use_query_client, QueryClient, QueryKey, QueryOptions},
        store::StoreError,
    },
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
    // From "Register a new patient with this number" on the find page.
    let phone_from_search = use_query_map()
        .read_untracked()
        .get("phone_number")
        .unwrap_or_default();
    let form = RwSignal::new(PatientForm {
        phone_number: phone_from_search,
        age_or_dob: "dob".into(),
        same_emergency_phone: true,
        same_permanent_address: true,
        ..Default::default()
    });
    let geo = RwSignal::new(None::<Organization>);
    // `?write=<outbox id>`: the sync page reopened a queued registration to correct it.
    let amending = use_query_map()
        .read_untracked()
        .get("write")
        .filter(|w| !w.is_empty());
    let amending_temp = RwSignal::new(None::<String>);
    if let Some(write_id) = amending.clone() {
        Effect::new(move |done: Option<bool>| {
            if done == Some(true) {
                return true;
            }
            let Some(record) = outbox.record(&write_id) else {
                return false;
            };
            let Some(temp) = record.temp_id.clone() else {
                return false;
            };
            let Some(patient) = client
                .get_query_data(&keys::patient_detail(&temp))
                .and_then(|v| serde_json::from_value::<crate::model::Patient>(v).ok())
            else {
                return false;
            };
            // A queued create has nothing on the server to remove: an emptied identifier is
            // simply not sent.
            form.set(PatientForm {
                had_identifiers: Vec::new(),
                ..PatientForm::from_patient(&patient)
            });
            geo.set(patient.geo_organization.clone());
            amending_temp.set(Some(temp));
            true
        });
    }
    let errors = RwSignal::new(Vec::<(String, String)>::new());
    let form_error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    // The identifiers this facility asks for, from its retrieve (cached: offline too).
    let identifier_configs = use_identifier_configs(facility_id);
    let typed_identifiers = Signal::derive(move || identifier_configs.get().typed_on_form());
    if let Some(write_id) = amending.clone() {
        show_refusal(write_id, errors, typed_identifiers);
    }

    // Families share phones: warn (never block) when this number already has patients,
    // from the cached search when offline.
    let phone = Memo::new(move |_| {
        let p = form.with(|f| f.phone_number.trim().replace([' ', '-'], ""));
        if crate::model::patient_form::is_e164(&p) {
            p
        } else {
            String::new()
        }
    });
    let same_phone = use_query::<PatientSearch, _, _, _>(
        move || keys::patient_search(&serde_json::json!({ "phone_number": phone.get() })),
        move |key| async move {
            if phone.get_untracked().is_empty() {
                return Ok(PatientSearch::default());
            }
            keys::post_read_only::<PatientSearch>(session, key).await
        },
        QueryOptions::persisted(),
    );

    let title = if amending.is_some() {
        "Correct a queued registration"
    } else {
        "Register a patient"
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let mut data = form.get_untracked();
        data.geo_organization = geo.get_untracked().map(|o| o.id).unwrap_or_default();
        let today = chrono::Local::now().date_naive();
        let configs = identifier_configs.get_untracked();
        let payload = match data.validate_with(today, &configs.typed_on_form()) {
            Ok(p) => p,
            Err(errs) => {
                errors.set(errs);
                form_error.set(Some("Check the highlighted fields.".into()));
                return;
            }
        };
        errors.set(Vec::new());
        form_error.set(None);
        busy.set(true);
        let navigate = navigate.clone();
        let fid = facility_id.get_untracked();
        if let (Some(write_id), Some(temp_id)) = (amending.clone(), amending_temp.get_untracked()) {
            let geo_json = geo
                .get_untracked()
                .and_then(|o| serde_json::to_value(o).ok());
            leptos::task::spawn_local(async move {
                match amend(
                    outbox, client, &write_id, &temp_id, payload, geo_json, &configs,
                )
                .await
                {
                    Ok(()) => navigate(
                        &format!("/facility/{fid}/patients/{temp_id}"),
                        Default::default(),
                    ),
                    Err(e) => form_error.set(Some(format!(
                        "Could not save the change: {e}. Your corrections are still in the form."
                    ))),
                }
                busy.set(false);
            });
            return;
        }
        leptos::task::spawn_local(async move {
            let geo_json = geo
                .get_untracked()
                .and_then(|o| serde_json::to_value(o).ok());
            // One id for this registration: the key of the direct POST and, if that gets no
            // answer, of the queued write — so a POST that reached CARE is never applied twice.
            let key = uuid::Uuid::new_v4().to_string();
            let outcome = if network.online_untracked() {
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
                    client.invalidate(&QueryKey::new(["patient", "list"]));
                    navigate(&format!("/facility/{fid}/patients/{id}"), Default::default());
                }
                Ok(None) => match queue(outbox, client, key, payload, geo_json, &configs).await {
                    Ok(temp_id) => navigate(&format!("/facility/{fid}/patients/{temp_id}"), Default::default()),
                    Err(e) => form_error.set(Some(format!("Could not save on this device: {e}. Nothing was lost from the form; try again."))),
                },
                Err(ApiError::Http { status: 400, body }) => {
                    let found = patient_field_errors(&body, &configs.typed_on_form());
                    // Errors of the whole body (no field) are said in the form's message.
                    let whole: Vec<String> = found.iter().filter(|(f, _)| f == "form").map(|(_, m)| m.clone()).collect();
                    errors.set(found);
                    form_error.set(Some(if whole.is_empty() {
                        "CARE did not accept the registration; check the highlighted fields.".into()
                    } else {
                        format!("CARE did not accept the registration: {}", whole.join("; "))
                    }));
                }
                Err(e) => form_error.set(Some(e.to_string())),
            }
            busy.set(false);
        });
    };

    view! {
        <section class="register">
            <h1>{title}</h1>
            <Show when=move || !network.online()>
                <p class="alert alert--info" role="status">"Offline: the registration will be saved on this device and sent when the server is reachable."</p>
            </Show>
            <form class="form" on:submit=submit novalidate>
                <PatientFields form=form geo=geo errors=errors identifiers=typed_identifiers/>
                {move || same_phone.data.get().filter(|s| !s.results.is_empty() && !phone.get().is_empty()).map(|s| {
                    let names: Vec<String> = s.results.iter().map(|p| p.name.clone()).collect();
                    view! {
                        <p class="alert alert--info" role="status" data-testid="same-phone">
                            {format!(
                                "{} patient(s) already registered with this phone number: {}. Check that this is a new patient.",
                                names.len(),
                                names.join(", ")
                            )}
                        </p>
                    }
                })}
                {move || form_error.get().map(|m| view! { <p class="alert alert--error" role="alert">{m}</p> })}
                <button class="button button--primary" type="submit" disabled=busy>
                    {move || if busy.get() { "Saving…" } else { "Register patient" }}
                </button>
            </form>
        </section>
    }
}

/// Replaces a queued registration's payload (reopened from the sync page) and the patient as
/// the device shows it (detail and every cached list page that has it).
async fn amend(
    outbox: Outbox,
    client: QueryClient,
    write_id: &str,
    temp_id: &str,
    payload: Value,
    geo: Option<Value>,
    configs: &FacilityIdentifierConfigs,
) -> Result<(), StoreError> {
    let patient = normalize_patient(temp_id, &payload, geo.as_ref(), configs, &now_iso());
    let mut optimistic = vec![(keys::patient_detail(temp_id), patient.clone())];
    optimistic.extend(client.lists_replacing(
        &QueryKey::new(["patient", "list"]),
        temp_id,
        &patient,
    ));
    outbox.amend_write(write_id, payload, optimistic).await
}

/// Queues the registration: the outbox record, the patient's detail and the first page of
/// every cached patient list, in one device transaction.
async fn queue(
    outbox: Outbox,
    client: QueryClient,
    id: String,
    payload: Value,
    geo: Option<Value>,
    configs: &FacilityIdentifierConfigs,
) -> Result<String, StoreError> {
    let temp_id = uuid::Uuid::new_v4().to_string();
    let patient = normalize_patient(&temp_id, &payload, geo.as_ref(), configs, &now_iso());
    let mut optimistic = vec![(keys::patient_detail(&temp_id), patient.clone())];
    optimistic.extend(client.lists_prepending(
        &QueryKey::new(["patient", "list"]),
        &patient,
        effects::shows_new_records,
    ));
    outbox
        .queue(WriteSpec {
            id: Some(id),
            temp_id: Some(temp_id.clone()),
            optimistic,
            ..WriteSpec::new("patient.create", payload)
        })
        .await?;
    Ok(temp_id)
}
