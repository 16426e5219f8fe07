use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_params_map};

use crate::{
    api::keys::appointment::{self as akeys, LIST_PAGE_SIZE},
    components::{pager::Pager, query_notice::QueryNotice, unsynced_badge::UnsyncedBadge},
    model::{
        appointment::{
            lists::{place, ListFilter},
            local_day_and_time,
            status::{label, LIST_STATUSES},
        },
        Appointment, AvailableUsers, Paginated,
    },
    offline::{
        outbox::{registry::appointment::open_booking_ids, use_outbox},
        query::{options::SECOND, use_query, use_query_client, QueryOptions},
    },
    session::use_session,
};

/// How often an open list asks CARE for changes (other desks check patients in too).
const REFRESH_EVERY: i64 = 30 * SECOND;

/// The facility's appointments by status (booked, checked in, in consultation, fulfilled,
/// no-show), for one practitioner or all, optionally one day; refreshed every 30 s and
/// when the window regains focus; read through the cache so it works offline.
#[component]
pub fn AppointmentList() -> impl IntoView {
    let session = use_session();
    let params = use_params_map();
    let facility_id = Memo::new(move |_| params.read().get("facility_id").unwrap_or_default());
    let status = RwSignal::new("booked".to_string());
    let practitioner = RwSignal::new(String::new());
    let day = RwSignal::new(String::new());
    let offset = RwSignal::new(0u32);
    let users = use_query::<AvailableUsers, _, _, _>(
        move || akeys::available_users(&facility_id.get()),
        move |_| akeys::get_available_users(session, facility_id.get_untracked()),
        QueryOptions::persisted(),
    );
    let filter = Memo::new(move |_| {
        let chosen = practitioner.get();
        // CARE needs the practitioners named: "all" means every one who has a schedule.
        let practitioners = if chosen.is_empty() {
            users
                .data
                .get()
                .map(|u| u.users.into_iter().map(|x| x.id).collect())
                .unwrap_or_default()
        } else {
            vec![chosen]
        };
        let d = day.get();
        ListFilter {
            facility: facility_id.get(),
            practitioners,
            statuses: vec![status.get()],
            date_after: (!d.is_empty()).then(|| d.clone()),
            date_before: (!d.is_empty()).then_some(d),
            patient: None,
            offset: offset.get(),
            limit: LIST_PAGE_SIZE,
        }
    });
    let page = use_query::<Paginated<Appointment>, _, _, _>(
        move || akeys::list(&filter.get()),
        move |_| {
            let f = filter.get_untracked();
            async move {
                if f.practitioners.is_empty() {
                    return Ok(Paginated::default());
                }
                akeys::get_list(session, f).await
            }
        },
        QueryOptions::persisted().with_interval(REFRESH_EVERY),
    );

    // A page fetched while this device still has writes to send shows them as they will
    // be (their optimistic booking is the cached detail).
    let outbox = use_outbox();
    let client = use_query_client();
    let shown = Memo::new(move |_| {
        let mut data = page.state.with(|s| s.data.clone())?;
        let f = filter.get();
        for id in open_booking_ids(&outbox.records()) {
            if let Some(b) = client.get_query_data(&akeys::detail(&id)) {
                place(&mut data, &f, &b);
            }
        }
        serde_json::from_value::<Paginated<Appointment>>(data).ok()
    });

    view! {
        <section class="appointments">
            <div class="toolbar">
                <h1>"Appointments"</h1>
                <A href=move || format!("/facility/{}/appointments/book", facility_id.get()) attr:class="button button--link">
                    "Book appointment"
                </A>
                <button class="button" on:click=move |_| page.refetch() disabled=move || page.fetching.get()>
                    {move || if page.fetching.get() { "Refreshing…" } else { "Refresh" }}
                </button>
            </div>
            <div class="appointments__filters">
                <label class="field">
                    <span class="field__label">"Practitioner"</span>
                    <select class="field__input" prop:value=practitioner on:change=move |ev| {
                        offset.set(0);
                        practitioner.set(event_target_value(&ev));
                    }>
                        <option value="">"All practitioners"</option>
                        {move || users.data.get().map(|u| u.users.into_iter().map(|x| view! {
                            <option value=x.id.clone()>{x.full_name()}</option>
                        }).collect_view())}
                    </select>
                </label>
                <label class="field">
                    <span class="field__label">"Day"</span>
                    <input class="field__input" type="date" prop:value=day on:change=move |ev| {
                        offset.set(0);
                        day.set(event_target_value(&ev));
                    }/>
                </label>
            </div>
            <div class="tabs" role="tablist" aria-label="Status">
                {LIST_STATUSES.iter().map(|(value, name)| {
                    let value = value.to_string();
                    let v2 = value.clone();
                    view! {
                        <button class="tabs__tab" role="tab" type="button"
                            aria-selected=move || (status.get() == v2).to_string()
                            on:click=move |_| { offset.set(0); status.set(value.clone()); }>
                            {*name}
                        </button>
                    }
                }).collect_view()}
            </div>
            <QueryNotice saved_at=page.saved_at unavailable_offline=page.unavailable_offline error=page.error/>
            <Show when=move || page.loading.get()>
                <p class="loading" aria-busy="true">"Loading appointments…"</p>
            </Show>
            {move || shown.get().map(|p| {
                let total = p.count;
                let fid = facility_id.get();
                view! {
                    <p class="muted" data-testid="appointment-count">{format!("{total} {}", label(&status.get()).to_lowercase())}</p>
                    <ul class="list" data-testid="appointment-list">
                        {p.results.into_iter().map(|a| {
                            let (when_day, when_time) = local_day_and_time(&a.token_slot.start_datetime).unwrap_or_default();
                            let href = format!("/facility/{fid}/appointments/{}", a.id);
                            view! {
                                <li class="list__item appointment-row">
                                    <A href=href attr:class="list__link">{a.patient.name.clone()}</A>
                                    <UnsyncedBadge id=a.id.clone()/>
                                    <span class="muted">{format!("{when_day} {when_time} · {} · {}", a.resource.full_name(), label(&a.status))}</span>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }
            })}
            <Pager offset page_size=LIST_PAGE_SIZE total=Signal::derive(move || shown.with(|d| d.as_ref().map(|p| p.count))) label="Appointment pages"/>
        </section>
    }
}
