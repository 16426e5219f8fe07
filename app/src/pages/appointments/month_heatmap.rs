use chrono::{Datelike, NaiveDate};
use leptos::prelude::*;

use crate::{
    api::keys::{self, appointment as akeys},
    components::query_notice::QueryNotice,
    model::{
        appointment::{
            heatmap::{month_grid, month_levels, month_range, shift_month, HeatLevel},
            slots::overlay_stats,
        },
        AvailabilityStats,
    },
    offline::{
        outbox::{registry::appointment::stats_changes, use_outbox},
        query::{use_query, QueryOptions},
    },
    session::use_session,
};

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// A month of a practitioner's availability (`availability_stats`, cached per month) as a
/// calendar: each day coloured by how much is free; choosing a day sets `day`.
/// A day button's name starts with what it shows (the day of the month), then says the
/// rest: "9 December 2026, Wednesday: some free".
fn day_name(d: NaiveDate, level: &str) -> String {
    format!("{}: {level}", d.format("%-d %B %Y, %A"))
}

#[component]
pub fn MonthHeatmap(
    #[prop(into)] facility_id: Signal<String>,
    /// The practitioner's user id.
    #[prop(into)]
    practitioner: Signal<String>,
    /// Any day of the month shown.
    month: RwSignal<NaiveDate>,
    /// The chosen day.
    day: RwSignal<Option<NaiveDate>>,
    /// Today (device time).
    today: NaiveDate,
) -> impl IntoView {
    let session = use_session();
    let outbox = use_outbox();
    // Raw, so bookings still on this device can be laid over it (see `overlay_stats`).
    let stats = use_query::<serde_json::Value, _, _, _>(
        move || {
            let (from, to) = month_range(month.get());
            keys::availability_stats(
                &facility_id.get(),
                &akeys::stats_body(&practitioner.get(), &from.to_string(), &to.to_string()),
            )
        },
        move |key| keys::post_read_only::<serde_json::Value>(session, key),
        QueryOptions::persisted(),
    );
    let levels = Memo::new(move |_| {
        let data = stats.data.get().and_then(|raw| {
            let pending = stats_changes(&outbox.records(), &practitioner.get());
            serde_json::from_value::<AvailabilityStats>(overlay_stats(&raw, &pending)).ok()
        });
        month_levels(month.get(), today, data.as_ref())
    });
    let level_of = move |d: NaiveDate| {
        levels.with(|l| {
            l.iter()
                .find(|(x, _)| *x == d)
                .map(|(_, lv)| *lv)
                .unwrap_or(HeatLevel::Unknown)
        })
    };

    view! {
        <section class="heatmap" aria-label="Availability this month">
            <div class="heatmap__head">
                <button class="button" type="button"
                    disabled=move || shift_month(month.get(), 0) <= shift_month(today, 0)
                    on:click=move |_| month.update(|m| *m = shift_month(*m, -1))>"Previous month"</button>
                <h3 data-testid="heatmap-month">{move || month.get().format("%B %Y").to_string()}</h3>
                <button class="button" type="button"
                    on:click=move |_| month.update(|m| *m = shift_month(*m, 1))>"Next month"</button>
            </div>
            <QueryNotice saved_at=stats.saved_at unavailable_offline=stats.unavailable_offline error=stats.error/>
            <div class="heatmap__grid" role="group" aria-label="Days">
                {WEEKDAYS.iter().map(|w| view! { <span class="heatmap__weekday" aria-hidden="true">{*w}</span> }).collect_view()}
                {move || month_grid(month.get()).into_iter().flatten().map(|cell| match cell {
                    None => view! { <span class="heatmap__blank"></span> }.into_any(),
                    Some(d) => {
                        let lv = level_of(d);
                        view! {
                            <button type="button"
                                class=move || format!("heatmap__day {}{}", lv.class(), if day.get() == Some(d) { " heatmap__day--chosen" } else { "" })
                                aria-label=day_name(d, lv.describe())
                                aria-pressed=move || (day.get() == Some(d)).to_string()
                                disabled=!lv.selectable()
                                on:click=move |_| day.set(Some(d))>
                                {d.day()}
                            </button>
                        }.into_any()
                    }
                }).collect_view()}
            </div>
            <p class="heatmap__legend muted">
                <span class="heatmap__key heat--high"></span>" mostly free "
                <span class="heatmap__key heat--medium"></span>" some free "
                <span class="heatmap__key heat--low"></span>" few free "
                <span class="heatmap__key heat--full"></span>" full"
            </p>
        </section>
    }
}
