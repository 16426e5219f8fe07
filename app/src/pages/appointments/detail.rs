use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_params_map};
use serde_json::Value;

use super::writes;
use crate::{
    api::keys::appointment as akeys,
    components::{query_notice::QueryNotice, unsynced_badge::UnsyncedBadge},
    model::{
        appointment::{
            local_day_and_time,
            status::{actions, shown, Action},
        },
        Appointment,
    },
    offline::{
        outbox::{
            registry::{appointment as routes, resolve_link},
            use_follow, use_outbox, Followed, SyncStatus,
        },
        query::{use_query, use_query_client, QueryOptions},
    },
    session::use_session,
};

/// One appointment: who, with whom, when, its status, and what can be done next (check
/// in, start the consultation, mark fulfilled or no-show, reschedule, cancel) — online or
/// offline. A booking CARE refused at sync time says so here, with a way to choose another
/// slot.
#[component]
pub fn AppointmentDetail() -> impl IntoView {
    let params = use_params_map();
    let facility_id = Memo::new(move |_| params.read().get("facility_id").unwrap_or_default());
    let id = Memo::new(move |_| params.read().get("appointment_id").unwrap_or_default());
    let session = use_session();
    let outbox = use_outbox();
    let client = use_query_client();
    let booking = use_query::<Value, _, _, _>(
        move || akeys::detail(&id.get()),
        move |_| {
            let (fid, id) = (facility_id.get_untracked(), id.get_untracked());
            async move {
                akeys::get_detail(session, fid, id).await.and_then(|a| {
                    serde_json::to_value(a).map_err(|e| crate::api::ApiError::Decode(e.to_string()))
                })
            }
        },
        QueryOptions::persisted(),
    );
    let typed = Memo::new(move |_| {
        booking
            .data
            .get()
            .and_then(|v| serde_json::from_value::<Appointment>(v).ok())
    });
    // The write that created this booking, when CARE refused it.
    let refused = Memo::new(move |_| {
        let id = id.get();
        outbox.records().into_iter().find(|r| {
            r.temp_id.as_deref() == Some(id.as_str())
                && r.sync_status == SyncStatus::Failed
                && (r.sync_route_key == routes::CREATE || r.sync_route_key == routes::RESCHEDULE)
        })
    });
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let follow = use_follow();
    let cancelling = RwSignal::new(false);
    let reason = RwSignal::new("cancelled".to_string());

    Effect::new(move |_| match follow.state.get() {
        None | Some(Followed::Sending) => {}
        Some(Followed::Synced(_)) | Some(Followed::SavedHere(_)) => {
            follow.stop();
            busy.set(false);
        }
        Some(Followed::Rejected { message, .. }) => {
            let write_id = follow.stop();
            busy.set(false);
            error.set(Some(format!("CARE did not accept this change: {message}")));
            if let Some(write_id) = write_id {
                leptos::task::spawn_local(async move {
                    writes::discard(outbox, client, &write_id).await;
                });
            }
        }
    });

    let run = move |action: Action| {
        let Some(current) = booking.data.get_untracked() else {
            return;
        };
        error.set(None);
        busy.set(true);
        let fid = facility_id.get_untracked();
        let reason = reason.get_untracked();
        leptos::task::spawn_local(async move {
            let queued = match action {
                Action::SetStatus(s) => {
                    writes::queue_status(outbox, client, &fid, &current, s).await
                }
                Action::Cancel => {
                    writes::queue_cancel(outbox, client, &fid, &current, &reason).await
                }
                Action::Reschedule => return,
            };
            match queued {
                Ok(write_id) => {
                    cancelling.set(false);
                    follow.start(write_id);
                }
                Err(e) => {
                    busy.set(false);
                    error.set(Some(format!("Could not save on this device: {e}")));
                }
            }
        });
    };

    let row = |name: &'static str, value: String| {
        view! {
            <div class="facts__row">
                <dt>{name}</dt>
                <dd>{if value.is_empty() { "—".to_string() } else { value }}</dd>
            </div>
        }
    };

    view! {
        <section class="appointment">
            <A href=move || format!("/facility/{}/appointments", facility_id.get())>"← Appointments"</A>
            <div class="toolbar">
                <h1 data-testid="appointment-patient">
                    {move || typed.get().map(|a| a.patient.name).unwrap_or_else(|| {
                        if booking.loading.get() { "Loading appointment…".into() } else { "Appointment".into() }
                    })}
                </h1>
                <button class="button" on:click=move |_| booking.refetch() disabled=move || booking.fetching.get()>"Refresh"</button>
            </div>
            <UnsyncedBadge id=Signal::derive(move || id.get())/>
            <QueryNotice saved_at=booking.saved_at unavailable_offline=booking.unavailable_offline error=booking.error/>
            {move || refused.get().map(|r| {
                let why = r.error_message().unwrap_or_default();
                view! {
                    <div class="alert alert--error" role="alert" data-testid="booking-refused">
                        <p>{format!("Not booked: CARE refused this booking when it was sent ({why}). The slot was probably taken by someone else meanwhile.")}</p>
                        {resolve_link(&r).map(|(label, href)| view! {
                            <A href=href attr:class="button button--link">{label}</A>
                        })}
                    </div>
                }
            })}
            {move || typed.get().map(|a| {
                let (day, time) = local_day_and_time(&a.token_slot.start_datetime).unwrap_or_default();
                let end = local_day_and_time(&a.token_slot.end_datetime).map(|(_, t)| t).unwrap_or_default();
                let fid = facility_id.get_untracked();
                let patient_href = format!("/facility/{fid}/patients/{}", a.patient.id);
                let status = a.status.clone();
                view! {
                    <dl class="facts" data-testid="appointment-facts">
                        <div class="facts__row">
                            <dt>"Status"</dt>
                            <dd>{move || {
                                let (code, text) = shown(&status, refused.get().is_some());
                                view! { <span class=format!("badge status status--{code}") data-testid="appointment-status">{text.to_string()}</span> }
                            }}</dd>
                        </div>
                        {row("When", format!("{day} {time}–{end}"))}
                        {row("Practitioner", a.resource.full_name())}
                        {row("Reason", a.note.clone().unwrap_or_default())}
                        {row("Phone", a.patient.phone_number.clone())}
                    </dl>
                    <p><A href=patient_href>"Patient profile"</A></p>
                }
            })}
            <Show when=move || refused.get().is_none()>
                <div class="appointment__actions" role="group" aria-label="Appointment actions">
                    {move || typed.get().map(|a| {
                        let fid = facility_id.get_untracked();
                        actions(&a.status).into_iter().map(|action| match action {
                            Action::Reschedule => view! {
                                <A href=format!("/facility/{fid}/appointments/book?reschedule={}", a.id) attr:class="button button--link">
                                    {action.label()}
                                </A>
                            }.into_any(),
                            Action::Cancel => view! {
                                <button class="button button--danger" disabled=busy on:click=move |_| cancelling.set(true)>{action.label()}</button>
                            }.into_any(),
                            Action::SetStatus(_) => view! {
                                <button class="button button--primary-inline" disabled=busy on:click=move |_| run(action)>{action.label()}</button>
                            }.into_any(),
                        }).collect_view()
                    })}
                </div>
            </Show>
            <Show when=move || cancelling.get()>
                <div class="dialog" role="dialog" aria-label="Cancel appointment">
                    <label class="field">
                        <span class="field__label">"Reason for cancelling"</span>
                        <select class="field__input" prop:value=reason on:change=move |ev| reason.set(event_target_value(&ev))>
                            <option value="cancelled">"Cancelled"</option>
                            <option value="entered_in_error">"Entered in error"</option>
                        </select>
                    </label>
                    <div class="write__actions">
                        <button class="button button--danger" disabled=busy on:click=move |_| run(Action::Cancel)>"Confirm cancel"</button>
                        <button class="button" on:click=move |_| cancelling.set(false)>"Keep appointment"</button>
                    </div>
                </div>
            </Show>
            {move || error.get().map(|m| view! { <p class="alert alert--error" role="alert">{m}</p> })}
        </section>
    }
}
