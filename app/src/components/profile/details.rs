use leptos::prelude::*;

use crate::model::{dates::format_day, Patient};

/// The patient's registration details.
#[component]
pub fn PatientDetails(patient: Patient) -> impl IntoView {
    let this_year = chrono::Utc::now()
        .format("%Y")
        .to_string()
        .parse::<i64>()
        .unwrap_or(2026);
    let row = |label: &'static str, value: Option<String>| {
        view! {
            <div class="facts__row">
                <dt>{label}</dt>
                <dd>{value.filter(|v| !v.is_empty()).unwrap_or_else(|| "—".to_string())}</dd>
            </div>
        }
    };
    let p = patient;
    view! {
        <dl class="facts" data-testid="patient-facts">
            {row("Gender", Some(p.gender_label().to_string()))}
            {row("Age", p.age_in(this_year).map(|a| format!("{a} years")))}
            {row("Date of birth", p.date_of_birth.as_deref().map(format_day))}
            {row("Phone", Some(p.phone_number.clone()))}
            {row("Emergency phone", p.emergency_phone_number.clone())}
            {row("Blood group", p.blood_group.clone().map(|b| b.replace("_positive", "+").replace("_negative", "−")))}
            {row("Address", p.address.clone())}
            {row("Permanent address", p.permanent_address.clone())}
            {row("Pincode", p.pincode.map(|c| c.to_string()))}
            {row("Area", p.geo_organization.as_ref().map(|g| g.name.clone()))}
            {p.typed_identifiers().map(|i| view! {
                <div class="facts__row" data-testid="patient-identifier">
                    <dt>{i.config.label().to_string()}</dt>
                    <dd>{i.value.clone()}</dd>
                </div>
            }).collect_view()}
        </dl>
    }
}
