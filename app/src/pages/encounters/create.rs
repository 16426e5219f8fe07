use leptos::prelude::*;
use leptos_router::{
    components::A,
    hooks::{use_navigate, use_params_map},
};
use serde_json::{json, Value};

use crate::components::{
    field_error::{FieldErrors, RequiredMark},
    get_ready_hint::GetReadyHint,
};
use crate::{
    api::keys::{self, encounter as ekeys},
    model::{
        encounter::{
            normalize_encounter, EncounterForm, CLASSES, PRIORITIES, START_STATUSES, STATUSES,
        },
        patient_form::server_field_errors,
        Organization, Paginated, Patient,
    },
    offline::{
        network::use_network,
        outbox::{effects, now_iso, use_follow, use_outbox, Followed, Outbox, WriteSpec},
        query::{use_query, use_query_client, QueryClient, QueryOptions},
        store::StoreError,
    },
    session::use_session,
};

/// Start an encounter for a patient (also one registered offline and not yet synced: the
/// encounter waits for the registration and is sent with the patient's server id).
#[component]
pub fn StartEncounter() -> impl IntoView {
    let params = use_params_map();
    let facility_id = Memo::new(move |_| params.read().get("facility_id").unwrap_or_default());
    let patient_id = Memo::new(move |_| params.read().get("patient_id").unwrap_or_default());
    let session = use_session();
    let client = use_query_client();
    let outbox = use_outbox();
    let network = use_network();
    let navigate = use_navigate();
    let follow = use_follow();
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
    let departments = use_query::<Paginated<Organization>, _, _, _>(
        move || ekeys::facility_organizations(&facility_id.get()),
        move |_| ekeys::get_facility_organizations(session, facility_id.get_untracked()),
        QueryOptions::persisted(),
    );
    let form = RwSignal::new(EncounterForm {
        start: chrono::Local::now().format("%Y-%m-%dT%H:%M").to_string(),
        ..Default::default()
    });
    let errors = RwSignal::new(Vec::<(String, String)>::new());
    let form_error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let temp_id = StoredValue::new(String::new());

    // Follows the queued create: online it is sent at once and the page opens the
    // server's encounter; offline (or no answer) the encounter opens at once from here.
    Effect::new(move |_| {
        let Some(state) = follow.state.get() else {
            return;
        };
        let fid = facility_id.get_untracked();
        match state {
            Followed::Sending => {}
            Followed::Synced(created) => {
                follow.stop();
                busy.set(false);
                let id = created
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                navigate(
                    &format!("/facility/{fid}/encounter/{id}"),
                    Default::default(),
                );
            }
            Followed::SavedHere(_) => {
                follow.stop();
                busy.set(false);
                navigate(
                    &format!("/facility/{fid}/encounter/{}", temp_id.get_value()),
                    Default::default(),
                );
            }
            Followed::Rejected { body, message } => {
                form_error.set(Some(format!(
                    "CARE did not accept the encounter: {message}"
                )));
                errors.set(server_field_errors(&body));
                busy.set(false);
                // The form still holds everything; the refused write is not kept.
                let _id = follow.stop();
                #[cfg(feature = "hydrate")]
                if let Some(id) = _id {
                    leptos::task::spawn_local(async move { outbox.discard(&id).await });
                }
            }
        }
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let now = chrono::Local::now().fixed_offset();
        let payload = match form.get_untracked().validate(
            &patient_id.get_untracked(),
            &facility_id.get_untracked(),
            now,
        ) {
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
        let chosen: Vec<Value> = departments
            .data
            .get_untracked()
            .map(|d| {
                d.results
                    .into_iter()
                    .filter(|o| form.with_untracked(|f| f.organizations.contains(&o.id)))
                    .filter_map(|o| serde_json::to_value(o).ok())
                    .collect()
            })
            .unwrap_or_default();
        let (fid, pid) = (facility_id.get_untracked(), patient_id.get_untracked());
        leptos::task::spawn_local(async move {
            match queue_encounter(outbox, client, &fid, &pid, payload, chosen).await {
                Ok((write_id, temp)) => {
                    temp_id.set_value(temp);
                    follow.start(write_id);
                }
                Err(e) => {
                    busy.set(false);
                    form_error.set(Some(format!("Could not save on this device: {e}. Nothing was lost from the form; try again.")));
                }
            }
        });
    };

    let field_errors = FieldErrors(errors);
    let invalid = move |field: &'static str| field_errors.invalid(field);
    let described = move |field: &'static str| field_errors.described(field);
    let error_for = move |field: &'static str| field_errors.message(field);
    let select = move |label: &'static str,
                       field: &'static str,
                       options: Vec<(&'static str, String)>,
                       get: fn(&EncounterForm) -> String,
                       put: fn(&mut EncounterForm, String)| {
        let id = format!("encounter-{field}");
        view! {
            <div class="field">
                <label class="field__label" for=id.clone()>{label}</label>
                <select class="field__input" id=id prop:value=move || form.with(get)
                    aria-invalid=invalid(field) aria-describedby=described(field)
                    on:change=move |ev| form.update(|f| put(f, event_target_value(&ev)))>
                    {options.into_iter().map(|(code, text)| view! { <option value=code>{text}</option> }).collect_view()}
                </select>
                {error_for(field)}
            </div>
        }
    };
    let statuses: Vec<(&'static str, String)> = START_STATUSES
        .iter()
        .map(|s| (*s, crate::model::encounter::label_of(STATUSES, s)))
        .collect();
    let classes: Vec<(&'static str, String)> =
        CLASSES.iter().map(|(c, l)| (*c, l.to_string())).collect();
    let priorities: Vec<(&'static str, String)> = PRIORITIES
        .iter()
        .map(|(c, l)| (*c, l.to_string()))
        .collect();

    view! {
        <section class="register encounter-create">
            <A href=move || format!("/facility/{}/patients/{}", facility_id.get(), patient_id.get())>"← Patient"</A>
            <h1>"Start encounter"</h1>
            <p class="muted" data-testid="encounter-patient">
                {move || patient.data.get().map(|p| p.name).unwrap_or_else(|| "Patient".into())}
            </p>
            <Show when=move || !network.online()>
                <p class="alert alert--info" role="status">"Offline: the encounter will be saved on this device and sent when the server is reachable."</p>
            </Show>
            <form class="form" on:submit=submit novalidate>
                {select("Status", "status", statuses, |f| f.status.clone(), |f, v| f.status = v)}
                {select("Class", "encounter_class", classes, |f| f.encounter_class.clone(), |f, v| f.encounter_class = v)}
                {select("Priority", "priority", priorities, |f| f.priority.clone(), |f, v| f.priority = v)}
                <fieldset class="field" aria-describedby=described("organizations")>
                    <legend class="field__label">"Departments"<RequiredMark/></legend>
                    {move || match departments.data.get() {
                        None if departments.unavailable_offline.get() => view! {
                            <p class="alert alert--info" data-testid="departments-unavailable">"Departments were not loaded on this device while online." <GetReadyHint/></p>
                        }.into_any(),
                        None => view! { <p class="loading">"Loading departments…"</p> }.into_any(),
                        Some(d) => d.results.into_iter().map(|o| {
                            let id = o.id.clone();
                            let checked_id = o.id.clone();
                            view! {
                                <label class="field field--inline">
                                    <input type="checkbox"
                                        prop:checked=move || form.with(|f| f.organizations.contains(&checked_id))
                                        on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            let id = id.clone();
                                            form.update(|f| {
                                                f.organizations.retain(|x| *x != id);
                                                if on { f.organizations.push(id); }
                                            });
                                        }/>
                                    <span>{o.name}</span>
                                </label>
                            }
                        }).collect_view().into_any(),
                    }}
                    {error_for("organizations")}
                </fieldset>
                <div class="field">
                    <span class="field__head"><label class="field__label" for="encounter-start">"Start"</label><RequiredMark/></span>
                    <input class="field__input" id="encounter-start" type="datetime-local" required aria-required="true"
                        aria-invalid=move || (invalid("start")() == "true" || invalid("period")() == "true").to_string()
                        aria-describedby=move || described("start")().or_else(described("period"))
                        prop:value=move || form.with(|f| f.start.clone())
                        on:input=move |ev| form.update(|f| f.start = event_target_value(&ev))/>
                    {error_for("start")}
                    {error_for("period")}
                </div>
                {move || form_error.get().map(|m| view! { <p class="alert alert--error" role="alert">{m}</p> })}
                <button class="button button--primary" type="submit" disabled=busy>
                    {move || if busy.get() { "Saving…" } else { "Start encounter" }}
                </button>
            </form>
        </section>
    }
}

/// Queues the create with the encounter as it will read (its detail, and the first page
/// of every cached list it belongs on), after the patient's unsynced writes. Returns the
/// write's id and the encounter's temporary id.
async fn queue_encounter(
    outbox: Outbox,
    client: QueryClient,
    facility_id: &str,
    patient_id: &str,
    payload: Value,
    organizations: Vec<Value>,
) -> Result<(String, String), StoreError> {
    let write_id = uuid::Uuid::new_v4().to_string();
    let temp_id = uuid::Uuid::new_v4().to_string();
    let patient = client
        .get_query_data(&keys::patient_detail(patient_id))
        .unwrap_or_else(|| json!({ "id": patient_id }));
    let facility = client
        .get_query_data(&keys::facility(facility_id))
        .map(
            |f| json!({ "id": facility_id, "name": f.get("name").cloned().unwrap_or(Value::Null) }),
        )
        .unwrap_or_else(|| json!({ "id": facility_id }));
    let status = payload
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let encounter = normalize_encounter(
        &temp_id,
        &payload,
        &patient,
        &facility,
        &organizations,
        &now_iso(),
    );
    let mut optimistic = vec![(ekeys::encounter_detail(&temp_id), encounter.clone())];
    // Nothing is recorded in a new encounter yet: its lists are known to be empty.
    let empty = json!({ "count": 0, "results": [] });
    for kind in crate::model::ClinicalKind::ALL {
        optimistic.push((
            ekeys::clinical_list(kind, patient_id, &temp_id),
            empty.clone(),
        ));
    }
    optimistic.push((ekeys::questionnaire_responses(patient_id, &temp_id), empty));
    for key in client.keys_with_prefix(&crate::offline::query::QueryKey::new(["encounter", "list"]))
    {
        if ekeys::shows_new_encounter(&key, facility_id, patient_id, &status) {
            if let Some(mut list) = client.get_query_data(&key) {
                effects::prepend(&mut list, encounter.clone());
                optimistic.push((key, list));
            }
        }
    }
    // A patient registered offline has no list on the server yet: start theirs here.
    let own = ekeys::encounter_list(facility_id, patient_id, "", 0);
    if client.get_query_data(&own).is_none() && outbox.is_local_only(patient_id) {
        optimistic.push((own, json!({ "count": 1, "results": [encounter] })));
    }
    outbox
        .queue(WriteSpec {
            id: Some(write_id.clone()),
            temp_id: Some(temp_id.clone()),
            parents: outbox.unsynced_writes_of(patient_id),
            optimistic,
            summary: patient
                .get("name")
                .and_then(Value::as_str)
                .map(String::from),
            ..WriteSpec::new("encounter.create", payload)
        })
        .await?;
    Ok((write_id, temp_id))
}
