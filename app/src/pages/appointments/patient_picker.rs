use leptos::prelude::*;

use crate::{
    api::keys::{self, appointment as akeys},
    components::{query_notice::QueryNotice, unsynced_badge::UnsyncedBadge},
    model::{Paginated, Patient},
    offline::query::{use_query, QueryOptions},
    session::use_session,
};

/// Finds a patient by name or phone number through the cached patient lists (so a search
/// made online works again offline) and reports the one chosen.
#[component]
pub fn PatientPicker(
    /// The facility whose patients are searched.
    #[prop(into)]
    facility_id: Signal<String>,
    /// Called with the chosen patient.
    on_pick: Callback<Patient>,
) -> impl IntoView {
    let session = use_session();
    let text = RwSignal::new(String::new());
    let submitted = RwSignal::new(None::<String>);
    let by_phone = move || {
        submitted.get().is_some_and(|t| {
            !t.is_empty() && (t.starts_with('+') || t.chars().all(|c| c.is_ascii_digit()))
        })
    };
    let results = use_query::<Paginated<Patient>, _, _, _>(
        move || {
            let t = submitted.get().unwrap_or_default();
            if by_phone() {
                akeys::patients_by_phone(&facility_id.get(), &t)
            } else {
                keys::patient_list(&facility_id.get(), &t, 0)
            }
        },
        move |_| {
            let t = submitted.get_untracked().unwrap_or_default();
            let phone = by_phone();
            async move {
                if phone {
                    akeys::get_patients_by_phone(session, t).await
                } else {
                    keys::get_patient_page(session, t, 0).await
                }
            }
        },
        QueryOptions::persisted(),
    );
    let search = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        submitted.set(Some(text.get_untracked().trim().to_string()));
    };

    view! {
        <form class="picker" on:submit=search role="search">
            <label class="field">
                <span class="field__label">"Patient name or phone"</span>
                <input class="field__input" type="search" prop:value=text
                    on:input=move |ev| text.set(event_target_value(&ev))/>
            </label>
            <button class="button" type="submit">"Search patients"</button>
        </form>
        <Show when=move || submitted.get().is_some()>
            <QueryNotice saved_at=results.saved_at unavailable_offline=results.unavailable_offline error=results.error/>
            {move || results.data.get().map(|page| {
                if page.results.is_empty() {
                    return view! { <p class="muted">"No patient found."</p> }.into_any();
                }
                view! {
                    <ul class="list" data-testid="patient-results">
                        {page.results.into_iter().map(|p| {
                            let id = p.id.clone();
                            let label = format!("{} · {}", p.name, p.phone_number);
                            let chosen = p.clone();
                            view! {
                                <li class="list__item">
                                    <span>{label}</span>
                                    <UnsyncedBadge id=id/>
                                    <button class="button" type="button"
                                        aria-label=format!("Choose {}", p.name)
                                        on:click=move |_| on_pick.run(chosen.clone())>"Choose"</button>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            })}
        </Show>
    }
}
