use chrono::NaiveDate;
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use serde_json::Value;

use super::{
    day_slots::DaySlots,
    month_heatmap::MonthHeatmap,
    patient_picker::PatientPicker,
    writes::{self, Booking},
};
use crate::{
    api::keys::{self, appointment as akeys},
    model::{AvailableUsers, Facility, Patient},
    offline::{
        network::use_network,
        outbox::{use_follow, use_outbox, Followed},
        query::{use_query, use_query_client, QueryOptions},
    },
    session::use_session,
};

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// Book an appointment: patient → practitioner → a day on the month's heat-map → a slot →
/// the reason. `?patient=` starts with a patient, `?practitioner=` with a practitioner,
/// `?reschedule=<booking>` moves a booking, `?replace=<write>` replaces a booking CARE
/// refused (its slot was taken meanwhile). Works offline on days whose slots were seen
/// online.
#[component]
pub fn BookAppointment() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let facility_id = Memo::new(move |_| params.read().get("facility_id").unwrap_or_default());
    let arg = move |name: &str| {
        query
            .with_untracked(|q| q.get(name))
            .filter(|v| !v.is_empty())
    };
    let (patient_arg, practitioner_arg, replace, reschedule) = (
        arg("patient"),
        arg("practitioner"),
        arg("replace"),
        arg("reschedule"),
    );
    let session = use_session();
    let outbox = use_outbox();
    let client = use_query_client();
    let network = use_network();
    let navigate = use_navigate();
    let today = chrono::Local::now().date_naive();

    let patient = RwSignal::new(None::<Value>);
    let practitioner = RwSignal::new(practitioner_arg.unwrap_or_default());
    let month = RwSignal::new(today);
    let day = RwSignal::new(None::<NaiveDate>);
    let chosen = RwSignal::new(None::<Value>);
    let note = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let follow = use_follow();
    // The booking's temporary id: its page until the server gives it one.
    let temp_id = StoredValue::new(String::new());

    let facility = use_query::<Facility, _, _, _>(
        move || keys::facility(&facility_id.get()),
        move |_| keys::get_facility(session, facility_id.get_untracked()),
        QueryOptions::persisted(),
    );
    let users = use_query::<AvailableUsers, _, _, _>(
        move || akeys::available_users(&facility_id.get()),
        move |_| akeys::get_available_users(session, facility_id.get_untracked()),
        QueryOptions::persisted(),
    );
    // The booking being moved, when rescheduling.
    let moving = reschedule.clone().map(|id| {
        let fetch_id = id.clone();
        use_query::<Value, _, _, _>(
            move || akeys::detail(&id),
            move |_| {
                let (fid, id) = (facility_id.get_untracked(), fetch_id.clone());
                async move {
                    akeys::get_detail(session, fid, id)
                        .await
                        .map(|a| to_json(&a))
                }
            },
            QueryOptions::persisted(),
        )
    });
    if let Some(moving) = moving {
        Effect::new(move |_| {
            if let Some(b) = moving.data.get() {
                if patient.get_untracked().is_none() {
                    patient.set(b.get("patient").cloned());
                }
                if let Some(p) = b.pointer("/resource/id").and_then(Value::as_str) {
                    practitioner.set(p.to_string());
                }
            }
        });
    }
    if let Some(pid) = patient_arg {
        let fetch_id = pid.clone();
        let given = use_query::<Patient, _, _, _>(
            move || keys::patient_detail(&pid),
            move |_| keys::get_patient(session, facility_id.get_untracked(), fetch_id.clone()),
            QueryOptions::persisted(),
        );
        Effect::new(move |_| {
            if let Some(p) = given.data.get() {
                if patient.get_untracked().is_none() {
                    patient.set(Some(to_json(&p)));
                }
            }
        });
    }
    // What was typed for the refused booking is not lost: its note comes back.
    if let Some(write_id) = replace.clone() {
        Effect::new(move |_| {
            if let Some(r) = outbox.record(&write_id) {
                if note.get_untracked().is_empty() {
                    let typed = ["note", "new_booking_note"]
                        .iter()
                        .find_map(|k| r.payload.get(*k).and_then(Value::as_str));
                    note.set(typed.unwrap_or_default().to_string());
                }
            }
        });
    }
    // A new practitioner or day invalidates the choices after it.
    Effect::new(move |prev: Option<String>| {
        let p = practitioner.get();
        if prev.is_some_and(|x| x != p) {
            day.set(None);
            chosen.set(None);
        }
        p
    });
    Effect::new(move |prev: Option<Option<NaiveDate>>| {
        let d = day.get();
        if prev.is_some_and(|x| x != d) {
            chosen.set(None);
        }
        d
    });

    // Follow the queued write: on to the booking once on the server, or at once when it
    // was saved for later; CARE's refusal stays on the form.
    let replace_for_view = replace.is_some();
    Effect::new(move |_| {
        let Some(state) = follow.state.get() else {
            return;
        };
        let fid = facility_id.get_untracked();
        let temp_id = temp_id.get_value();
        match state {
            Followed::Sending => {}
            Followed::Synced(resp) => {
                follow.stop();
                let id = resp
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or(&temp_id)
                    .to_string();
                navigate(
                    &format!("/facility/{fid}/appointments/{id}"),
                    Default::default(),
                );
            }
            Followed::SavedHere(_) => {
                follow.stop();
                navigate(
                    &format!("/facility/{fid}/appointments/{temp_id}"),
                    Default::default(),
                );
            }
            Followed::Rejected { message, .. } => {
                let write_id = follow.stop();
                busy.set(false);
                error.set(Some(format!("CARE did not accept this booking: {message}")));
                // Nothing to keep: the form still holds everything; the slots refetch.
                if let Some(write_id) = write_id {
                    leptos::task::spawn_local(async move {
                        writes::discard(outbox, client, &write_id).await;
                    });
                }
            }
        }
    });

    let rescheduling = reschedule.is_some();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let problem = if rescheduling && moving.and_then(|m| m.data.get_untracked()).is_none() {
            Some("The appointment to move is not loaded yet.")
        } else if patient.get_untracked().is_none() {
            Some("Choose a patient.")
        } else if practitioner.get_untracked().is_empty() {
            Some("Choose a practitioner.")
        } else if chosen.get_untracked().is_none() {
            Some("Choose a day and a free slot.")
        } else if note.get_untracked().trim().is_empty() {
            Some("Enter the reason for the visit.")
        } else {
            None
        };
        if let Some(p) = problem {
            error.set(Some(p.to_string()));
            return;
        }
        error.set(None);
        let practitioner_id = practitioner.get_untracked();
        let practitioner_json = moving
            .and_then(|m| m.data.get_untracked())
            .and_then(|b| b.get("resource").cloned())
            .or_else(|| {
                users.data.get_untracked().and_then(|u| {
                    u.users
                        .into_iter()
                        .find(|x| x.id == practitioner_id)
                        .map(|x| to_json(&x))
                })
            })
            .unwrap_or_else(|| serde_json::json!({"id": practitioner_id}));
        let booking = Booking {
            facility_id: facility_id.get_untracked(),
            facility_name: facility
                .data
                .get_untracked()
                .map(|f| f.name)
                .unwrap_or_default(),
            patient: patient.get_untracked().unwrap_or(Value::Null),
            practitioner: practitioner_json,
            slot: chosen.get_untracked().unwrap_or(Value::Null),
            day: day
                .get_untracked()
                .map(|d| d.to_string())
                .unwrap_or_default(),
            note: note.get_untracked().trim().to_string(),
            replaces: replace.clone(),
            booked_by: session
                .user()
                .map(|u| to_json(&u.user))
                .unwrap_or(Value::Null),
        };
        busy.set(true);
        let replace = replace.clone();
        let current = moving.and_then(|m| m.data.get_untracked());
        leptos::task::spawn_local(async move {
            let queued = match &current {
                Some(old) => writes::queue_reschedule(outbox, client, old, booking).await,
                None => writes::queue_booking(outbox, client, booking).await,
            };
            match queued {
                Ok((write_id, temp)) => {
                    if let Some(old) = replace {
                        writes::discard(outbox, client, &old).await;
                    }
                    temp_id.set_value(temp);
                    follow.start(write_id);
                }
                Err(e) => {
                    busy.set(false);
                    error.set(Some(format!("Could not save on this device: {e}. Nothing was lost from the form; try again.")));
                }
            }
        });
    };

    let fixed_practitioner = rescheduling;
    let replacing = replace_for_view;
    let title = if fixed_practitioner {
        "Reschedule appointment"
    } else {
        "Book appointment"
    };
    view! {
        <section class="book">
            <h1>{title}</h1>
            <Show when=move || !network.online()>
                <p class="alert alert--info" role="status">"Offline: the booking is saved on this device and sent when the server is reachable. Days whose slots were opened online can be booked."</p>
            </Show>
            {replacing.then(|| view! {
                <p class="alert alert--info" role="status" data-testid="replacing">
                    "The earlier booking was refused by CARE (its slot was taken). Choose another slot: the refused booking is replaced."
                </p>
            })}
            <form class="form book__form" on:submit=submit novalidate>
                <fieldset class="field">
                    <legend class="field__label">"Patient"</legend>
                    {move || match patient.get() {
                        Some(p) => view! {
                            <p class="book__chosen" data-testid="chosen-patient">
                                {p.get("name").and_then(Value::as_str).unwrap_or("").to_string()}
                                {(!fixed_practitioner).then(|| view! {
                                    " " <button class="button" type="button" on:click=move |_| patient.set(None)>"Change patient"</button>
                                })}
                            </p>
                        }.into_any(),
                        None => view! {
                            <PatientPicker facility_id=facility_id on_pick=Callback::new(move |p: Patient| patient.set(Some(to_json(&p))))/>
                        }.into_any(),
                    }}
                </fieldset>
                <label class="field">
                    <span class="field__label">"Practitioner"</span>
                    <select class="field__input" prop:value=practitioner disabled=fixed_practitioner
                        on:change=move |ev| practitioner.set(event_target_value(&ev))>
                        <option value="">"Choose a practitioner"</option>
                        {move || users.data.get().map(|u| u.users.into_iter().map(|x| {
                            let selected = x.id == practitioner.get_untracked();
                            view! { <option value=x.id.clone() selected=selected>{x.full_name()}</option> }
                        }).collect_view())}
                    </select>
                </label>
                <Show when=move || !practitioner.get().is_empty()>
                    <MonthHeatmap facility_id=facility_id practitioner=practitioner month=month day=day today=today/>
                </Show>
                {move || day.get().filter(|_| !practitioner.get().is_empty()).map(|d| view! {
                    <DaySlots facility_id=facility_id practitioner=practitioner day=Signal::derive(move || d) chosen=chosen/>
                })}
                <label class="field">
                    <span class="field__label">"Reason for visit"</span>
                    <textarea class="field__input" rows="2" prop:value=note
                        on:input=move |ev| note.set(event_target_value(&ev))></textarea>
                </label>
                {move || error.get().map(|m| view! { <p class="alert alert--error" role="alert" data-testid="book-error">{m}</p> })}
                <button class="button button--primary" type="submit" disabled=busy>
                    {move || match (busy.get(), fixed_practitioner) {
                        (true, _) => "Saving…",
                        (false, true) => "Reschedule",
                        (false, false) => "Book appointment",
                    }}
                </button>
            </form>
        </section>
    }
}
