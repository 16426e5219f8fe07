use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use serde_json::{json, Value};

use crate::components::field_error::{FieldErrors, RequiredMark};
use crate::{
    api::keys::{self, profile},
    model::{
        patient_form::server_field_errors,
        resource::{ResourceForm, CATEGORIES},
    },
    offline::{
        network::use_network,
        outbox::{
            effects, now_iso, registry::normalize_resource, use_follow, use_outbox, Followed,
            WriteSpec,
        },
        query::{use_query_client, QueryKey},
    },
    session::use_session,
};

/// Raise a resource request for a patient (transfer, equipment, medicines). Online it is
/// sent at once; offline it is kept on the device and listed with its badge until it syncs.
#[component]
pub fn NewResourceRequest() -> impl IntoView {
    let params = use_params_map();
    let facility_id = Memo::new(move |_| params.read().get("facility_id").unwrap_or_default());
    let patient_id = Memo::new(move |_| params.read().get("patient_id").unwrap_or_default());
    let session = use_session();
    let network = use_network();
    let outbox = use_outbox();
    let client = use_query_client();
    let navigate = use_navigate();
    let form = RwSignal::new(ResourceForm::default());
    let errors = RwSignal::new(Vec::<(String, String)>::new());
    let form_error = RwSignal::new(None::<String>);
    let follow = use_follow();
    // `?write=<outbox id>`: the sync page reopened a queued request to correct it.
    let amending = StoredValue::new(
        use_query_map()
            .read_untracked()
            .get("write")
            .filter(|w| !w.is_empty()),
    );
    let amending_temp = RwSignal::new(None::<String>);
    Effect::new(move |done: Option<bool>| {
        if done == Some(true) {
            return true;
        }
        let Some(record) = amending.get_value().and_then(|id| outbox.record(&id)) else {
            return false;
        };
        form.set(ResourceForm::from_payload(&record.payload));
        amending_temp.set(record.temp_id.clone());
        true
    });

    // Follow the queued write: back to the profile once CARE has it or it is safely
    // queued offline; CARE's 400 goes onto the fields.
    Effect::new(move |_| {
        let Some(state) = follow.state.get() else {
            return;
        };
        let back = format!(
            "/facility/{}/patients/{}?tab=resources",
            facility_id.get_untracked(),
            patient_id.get_untracked()
        );
        match state {
            Followed::Sending => {}
            // On the server, or safely on the device and not going through now: the
            // profile lists it (with its badge until it syncs).
            Followed::Synced(_) | Followed::SavedHere(_) => navigate(&back, Default::default()),
            Followed::Rejected { body, message } => {
                errors.set(server_field_errors(&body));
                form_error.set(Some(format!(
                    "CARE did not accept the request: {message}. Correct it and save again; the rejected copy is on the Sync status page."
                )));
                follow.stop();
            }
        }
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if follow.write_id().is_some() {
            return;
        }
        let fid = facility_id.get_untracked();
        let pid = patient_id.get_untracked();
        let payload = match form.get_untracked().validate(&fid, &pid) {
            Ok(p) => p,
            Err(errs) => {
                errors.set(errs.into_iter().map(|(f, m)| (f.to_string(), m)).collect());
                form_error.set(Some("Check the highlighted fields.".into()));
                return;
            }
        };
        errors.set(Vec::new());
        form_error.set(None);
        let correcting = amending.get_value().zip(amending_temp.get_untracked());
        let temp_id = correcting
            .as_ref()
            .map(|(_, t)| t.clone())
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let origin = client
            .get_query_data(&keys::facility(&fid))
            .map(|f| json!({ "id": f["id"], "name": f["name"] }))
            .unwrap_or_else(|| json!({ "id": fid }));
        let patient = client
            .get_query_data(&keys::patient_detail(&pid))
            .unwrap_or_else(|| json!({ "id": pid }));
        let me = session
            .user()
            .and_then(|u| serde_json::to_value(u.user).ok())
            .unwrap_or(Value::Null);
        let record = normalize_resource(&temp_id, &payload, origin, patient, me, &now_iso());
        let mut optimistic = vec![(profile::resource_detail(&temp_id), record.clone())];
        if let Some((write_id, _)) = correcting {
            optimistic.extend(client.lists_replacing(
                &QueryKey::new(["resource", "list"]),
                &temp_id,
                &record,
            ));
            leptos::task::spawn_local(async move {
                match outbox.amend_write(&write_id, payload, optimistic).await {
                    Ok(()) => follow.start(write_id),
                    Err(e) => form_error.set(Some(format!(
                        "Could not save the change: {e}. Your corrections are still in the form."
                    ))),
                }
            });
            return;
        }
        optimistic.extend(client.lists_prepending(
            &QueryKey::new(["resource", "list"]),
            &record,
            |key| effects::shows_new_records(key) && key_is_for(key, &pid),
        ));
        if !optimistic
            .iter()
            .any(|(k, _)| *k == profile::resource_list(&pid))
        {
            optimistic.push((
                profile::resource_list(&pid),
                json!({ "count": 1, "results": [record] }),
            ));
        }
        let spec = WriteSpec {
            temp_id: Some(temp_id.clone()),
            parents: outbox.creator_of(&pid).into_iter().collect(),
            optimistic,
            ..WriteSpec::new("resource.create", payload)
        };
        leptos::task::spawn_local(async move {
            match outbox.queue(spec).await {
                Ok(r) => follow.start(r.id),
                Err(e) => form_error.set(Some(format!(
                    "Could not save on this device: {e}. Nothing was lost from the form; try again."
                ))),
            }
        });
    };

    let field_errors = FieldErrors(errors);
    let invalid = move |field: &'static str| field_errors.invalid(field);
    let described = move |field: &'static str| field_errors.described(field);
    let error_for = move |field: &'static str| field_errors.message(field);
    let text = move |f: fn(&mut ResourceForm, String)| {
        move |ev: leptos::ev::Event| form.update(|form| f(form, event_target_value(&ev)))
    };

    view! {
        <section class="resource-new">
            <h1>"New resource request"</h1>
            <Show when=move || !network.online()>
                <p class="alert alert--info" role="status">"Offline: the request will be saved on this device and sent when the server is reachable."</p>
            </Show>
            <form class="form" on:submit=submit novalidate>
                <div class="field">
                    <span class="field__head"><label class="field__label" for="resource-title">"Title"</label><RequiredMark/></span>
                    <input class="field__input" name="title" id="resource-title" required aria-required="true" aria-invalid=invalid("title") aria-describedby=described("title") prop:value=move || form.with(|f| f.title.clone()) on:input=text(|f, v| f.title = v)/>
                    {error_for("title")}
                </div>
                <div class="field">
                    <span class="field__head"><label class="field__label" for="resource-reason">"Reason"</label><RequiredMark/></span>
                    <textarea class="field__input" name="reason" id="resource-reason" required aria-required="true" aria-invalid=invalid("reason") aria-describedby=described("reason") prop:value=move || form.with(|f| f.reason.clone()) on:input=text(|f, v| f.reason = v)></textarea>
                    {error_for("reason")}
                </div>
                <div class="field">
                    <span class="field__head"><label class="field__label" for="resource-category">"Category"</label></span>
                    <select class="field__input" name="category" id="resource-category" aria-invalid=invalid("category") aria-describedby=described("category") prop:value=move || form.with(|f| f.category.clone()) on:change=text(|f, v| f.category = v)>
                        {CATEGORIES.iter().map(|(v, l)| view! { <option value=*v>{*l}</option> }).collect_view()}
                    </select>
                    {error_for("category")}
                </div>
                <div class="field">
                    <span class="field__head"><label class="field__label" for="resource-priority">"Priority (1–10)"</label></span>
                    <input class="field__input" name="priority" id="resource-priority" aria-invalid=invalid("priority") aria-describedby=described("priority") type="number" min="1" max="10" prop:value=move || form.with(|f| f.priority.clone()) on:input=text(|f, v| f.priority = v)/>
                    {error_for("priority")}
                </div>
                <label class="field field--inline">
                    <input type="checkbox" prop:checked=move || form.with(|f| f.emergency)
                        on:change=move |ev| form.update(|f| f.emergency = event_target_checked(&ev))/>
                    <span>"Emergency"</span>
                </label>
                <div class="field">
                    <span class="field__head"><label class="field__label" for="resource-contact-name">"Contact name"</label><RequiredMark/></span>
                    <input class="field__input" name="contact_name" id="resource-contact-name" required aria-required="true" aria-invalid=invalid("referring_facility_contact_name") aria-describedby=described("referring_facility_contact_name") prop:value=move || form.with(|f| f.contact_name.clone()) on:input=text(|f, v| f.contact_name = v)/>
                    {error_for("referring_facility_contact_name")}
                </div>
                <div class="field">
                    <span class="field__head"><label class="field__label" for="resource-contact-number">"Contact phone"</label><RequiredMark/></span>
                    <input class="field__input" name="contact_number" id="resource-contact-number" required aria-required="true" aria-invalid=invalid("referring_facility_contact_number") aria-describedby=described("referring_facility_contact_number") type="tel" placeholder="+91…" prop:value=move || form.with(|f| f.contact_number.clone()) on:input=text(|f, v| f.contact_number = v)/>
                    {error_for("referring_facility_contact_number")}
                </div>
                {move || form_error.get().map(|m| view! { <p class="alert alert--error" role="alert">{m}</p> })}
                <button class="button button--primary" type="submit" disabled=move || follow.following()>
                    {move || if follow.following() { "Saving…" } else { "Save request" }}
                </button>
            </form>
        </section>
    }
}

/// A resource list query of this patient (its params name `related_patient`).
fn key_is_for(key: &QueryKey, patient_id: &str) -> bool {
    key.parts()
        .last()
        .and_then(|p| serde_json::from_str::<Value>(p).ok())
        .is_some_and(|p| p.get("related_patient").and_then(Value::as_str) == Some(patient_id))
}
