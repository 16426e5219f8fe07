use chrono::NaiveDate;
use leptos::prelude::*;
use serde_json::Value;

use crate::{
    api::keys::{self, appointment as akeys},
    components::query_notice::QueryNotice,
    model::{
        appointment::{
            local_day_and_time,
            slots::{free_tokens, overlay},
        },
        SlotsOfDay,
    },
    offline::{
        outbox::{registry::appointment::slot_changes, use_outbox},
        query::{use_query, QueryOptions},
    },
    session::use_session,
};

/// The practitioner's slots of one day (`get_slots_for_day`, cached per day), with the
/// bookings this device has not synced yet counted in; a full slot cannot be chosen.
/// Choosing one sets `chosen` to the slot's JSON.
#[component]
pub fn DaySlots(
    #[prop(into)] facility_id: Signal<String>,
    #[prop(into)] practitioner: Signal<String>,
    #[prop(into)] day: Signal<NaiveDate>,
    chosen: RwSignal<Option<Value>>,
) -> impl IntoView {
    let session = use_session();
    let outbox = use_outbox();
    let slots = use_query::<Value, _, _, _>(
        move || {
            keys::slots_for_day(
                &facility_id.get(),
                &akeys::day_body(&practitioner.get(), &day.get().to_string()),
            )
        },
        move |key| keys::post_read_only::<Value>(session, key),
        QueryOptions::persisted(),
    );
    let shown = Memo::new(move |_| {
        let data = slots.data.get()?;
        let pending = slot_changes(&outbox.records());
        let merged = overlay(&data, &pending);
        let typed: SlotsOfDay = serde_json::from_value(merged.clone()).ok()?;
        let raw: Vec<Value> = merged
            .get("results")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        Some(typed.results.into_iter().zip(raw).collect::<Vec<_>>())
    });

    view! {
        <section class="slots" aria-label="Slots of the day">
            <h3>{move || format!("Slots on {}", day.get().format("%a %-d %b %Y"))}</h3>
            <QueryNotice saved_at=slots.saved_at unavailable_offline=slots.unavailable_offline error=slots.error/>
            <Show when=move || slots.loading.get()>
                <p class="loading" aria-busy="true">"Loading slots…"</p>
            </Show>
            {move || shown.get().map(|list| {
                if list.is_empty() {
                    return view! { <p class="muted">"No slots on this day."</p> }.into_any();
                }
                view! {
                    <div class="slots__grid" data-testid="slots">
                        {list.into_iter().map(|(slot, raw)| {
                            let free = free_tokens(&slot);
                            let time = local_day_and_time(&slot.start_datetime).map(|(_, t)| t).unwrap_or_default();
                            let id = slot.id.clone();
                            let is_chosen = Signal::derive(move || chosen.with(|c| c.as_ref().and_then(|v| v.get("id")).and_then(Value::as_str) == Some(id.as_str())));
                            let label = if free == 0 { format!("{time} taken") } else { format!("{time}, {free} free") };
                            view! {
                                <button type="button"
                                    class=move || format!("slot{}{}", if free == 0 { " slot--taken" } else { "" }, if is_chosen.get() { " slot--chosen" } else { "" })
                                    data-slot-id=slot.id.clone()
                                    aria-label=label
                                    aria-pressed=move || is_chosen.get().to_string()
                                    disabled=free == 0
                                    on:click=move |_| chosen.set(Some(raw.clone()))>
                                    <span class="slot__time">{time.clone()}</span>
                                    <span class="slot__free">{if free == 0 { "Taken".to_string() } else { format!("{free} free") }}</span>
                                </button>
                            }
                        }).collect_view()}
                    </div>
                }.into_any()
            })}
        </section>
    }
}
