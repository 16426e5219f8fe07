use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use serde_json::Value;

use super::identifiers::{show_refusal, use_identifier_configs};
use crate::{
    api::keys,
    components::patient_fields::PatientFields,
    model::{
        identifier::{apply_to_record, FacilityIdentifierConfigs},
        patient_form::PatientForm,
        Organization, Patient,
    },
    offline::{
        outbox::{effects, use_outbox, Outbox, WriteSpec},
        query::{use_query, use_query_client, QueryClient, QueryKey, QueryOptions},
        store::StoreError,
    },
    session::use_session,
};

/// Edit a patient's details. The change is queued (and sent at once when online); before
/// sending, the sync compares the server's `modified_date` with the one edited here, so a
/// change made meanwhile by someone else becomes a conflict to resolve, never an overwrite.
#[component]
pub fn EditPatient() -> impl IntoView {
    let params = use_params_map();
    let facility_id = Memo::new(move |_| params.read().get("facility_id").unwrap_or_default());
    let patient_id = Memo::new(move |_| params.read().get("patient_id").unwrap_or_default());
    let session = use_session();
    let outbox = use_outbox();
    let client = use_query_client();
    let navigate = use_navigate();
    let patient = use_query::<Patient, _, _, _>(
        move || keys::patient_detail(&patient_id.get()),
        move |_| {
            keys::get_patient(
                session,
                facility_id.get_untracked(),
                patient_id.get_untracked(),
            )
        },
        QueryOptions::persisted(),
    );
    let identifier_configs = use_identifier_configs(facility_id);
    let can_edit = move || session.user().is_some_and(|u| u.can("can_write_patient"));
    let on_saved = Callback::new(move |url: String| navigate(&url, Default::default()));
    // `?write=<outbox id>`: the sync page reopened a queued edit to correct it.
    let amending = StoredValue::new(
        use_query_map()
            .read_untracked()
            .get("write")
            .filter(|w| !w.is_empty()),
    );

    view! {
        <section class="register">
            <h1>"Edit patient"</h1>
            <Show when=can_edit fallback=|| view! {
                <p class="alert alert--error" role="alert">"Your role cannot edit patient details."</p>
            }>
                {move || match patient.data.get() {
                    None if patient.unavailable_offline.get() => view! {
                        <p class="alert alert--info" data-testid="unavailable-offline">
                            "Not available offline: this patient was not opened on this device while online."
                        </p>
                    }.into_any(),
                    None => view! { <p class="loading">"Loading patient…"</p> }.into_any(),
                    Some(p) => view! {
                        <EditForm patient=p facility_id=facility_id.get() on_saved=on_saved outbox=outbox client=client amending=amending.get_value() identifier_configs=identifier_configs/>
                    }.into_any(),
                }}
            </Show>
        </section>
    }
}

#[component]
fn EditForm(
    patient: Patient,
    facility_id: String,
    on_saved: Callback<String>,
    outbox: crate::offline::outbox::Outbox,
    client: crate::offline::query::QueryClient,
    /// The queued edit being corrected, if any.
    amending: Option<String>,
    /// The identifiers the facility asks for.
    identifier_configs: Memo<FacilityIdentifierConfigs>,
) -> impl IntoView {
    let typed_identifiers = Signal::derive(move || identifier_configs.get().typed_on_form());
    let form = RwSignal::new(PatientForm::from_patient(&patient));
    let geo = RwSignal::new(patient.geo_organization.clone());
    let errors = RwSignal::new(Vec::<(String, String)>::new());
    let form_error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let base = StoredValue::new(patient);
    if let Some(write_id) = amending.clone() {
        show_refusal(write_id, errors, typed_identifiers);
    }

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let mut data = form.get_untracked();
        data.geo_organization = geo
            .get_untracked()
            .map(|o: Organization| o.id)
            .unwrap_or_default();
        let configs = identifier_configs.get_untracked();
        let payload =
            match data.validate_with(chrono::Local::now().date_naive(), &configs.typed_on_form()) {
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
        let fid = facility_id.clone();
        let amending = amending.clone();
        leptos::task::spawn_local(async move {
            let patient = base.get_value();
            match queue_update(outbox, client, &patient, payload, amending, &configs).await {
                Ok(()) => on_saved.run(format!("/facility/{fid}/patients/{}", patient.id)),
                Err(e) => form_error.set(Some(format!(
                    "Could not save on this device: {e}. Your changes are still in the form."
                ))),
            }
            busy.set(false);
        });
    };

    view! {
        <form class="form" on:submit=submit novalidate>
            <PatientFields form=form geo=geo errors=errors identifiers=typed_identifiers/>
            {move || form_error.get().map(|m| view! { <p class="alert alert--error" role="alert">{m}</p> })}
            <button class="button button--primary" type="submit" disabled=busy>
                {move || if busy.get() { "Saving…" } else { "Save changes" }}
            </button>
        </form>
    }
}

/// Queues the edit with the record as it will read (detail and every cached list page that
/// shows it), after any unsynced write of the same patient; or, when correcting a queued
/// edit, gives that write the new payload.
async fn queue_update(
    outbox: Outbox,
    client: QueryClient,
    patient: &Patient,
    payload: Value,
    amending: Option<String>,
    configs: &FacilityIdentifierConfigs,
) -> Result<(), StoreError> {
    let detail_key = keys::patient_detail(&patient.id);
    let current = client
        .get_query_data(&detail_key)
        .unwrap_or_else(|| serde_json::to_value(patient).unwrap_or(Value::Null));
    let mut merged = effects::merge_update(&current, &payload);
    // `identifiers` is how a body sends them; the record lists them per config.
    if let Some(sent) = merged.as_object_mut().and_then(|m| m.remove("identifiers")) {
        apply_to_record(&mut merged, configs, &sent);
    }
    let mut optimistic = vec![(detail_key, merged.clone())];
    optimistic.extend(client.lists_replacing(
        &QueryKey::new(["patient", "list"]),
        &patient.id,
        &merged,
    ));
    if let Some(write_id) = amending {
        return outbox.amend_write(&write_id, payload, optimistic).await;
    }
    let server_timestamp = if outbox.is_local_only(&patient.id) {
        None
    } else {
        patient.modified_date.clone()
    };
    outbox
        .queue(WriteSpec {
            parents: outbox.unsynced_writes_of(&patient.id),
            optimistic,
            base_snapshot: Some(current),
            server_timestamp,
            ..WriteSpec::new("patient.update", payload).param("patient_id", &patient.id)
        })
        .await
        .map(|_| ())
}
