//! Query keys and fetchers of the appointment pages. Bookings nest under `["appointment"]`
//! (lists and details, so a sync invalidates both); slots under `["slots", facility]`
//! (read-only POSTs keyed by their body, see `super::slots_for_day`).

use serde_json::{json, Value};

use super::{encode_query_value, ApiError, Method, PATIENT_PAGE_SIZE};
use crate::{
    model::{appointment::lists::ListFilter, Appointment, AvailableUsers, Paginated, Patient},
    offline::query::QueryKey,
    session::Session,
};

/// Bookings per page of a status list.
pub const LIST_PAGE_SIZE: u32 = 20;

pub fn list(filter: &ListFilter) -> QueryKey {
    QueryKey::new(["appointment", "list"]).with_params(&filter.to_params())
}

pub fn list_prefix() -> QueryKey {
    QueryKey::new(["appointment", "list"])
}

pub fn detail(id: &str) -> QueryKey {
    QueryKey::new(["appointment", "detail", id])
}

pub fn available_users(facility_id: &str) -> QueryKey {
    QueryKey::new(["available_users", facility_id])
}

/// Patients whose phone number is exactly `phone` (the list filter, which gives real ids;
/// `patient/search` by phone answers partial records with random ids).
pub fn patients_by_phone(facility_id: &str, phone: &str) -> QueryKey {
    QueryKey::new(["patient", "by_phone"])
        .with_params(&json!({"facility": facility_id, "phone_number": phone}))
}

/// The body of `availability_stats` for one practitioner's month.
pub fn stats_body(practitioner: &str, from: &str, to: &str) -> Value {
    json!({"from_date": from, "to_date": to, "resource_type": "practitioner", "resource_id": practitioner})
}

/// The body of `get_slots_for_day`.
pub fn day_body(practitioner: &str, day: &str) -> Value {
    json!({"day": day, "resource_type": "practitioner", "resource_id": practitioner})
}

pub async fn get_list(
    session: Session,
    filter: ListFilter,
) -> Result<Paginated<Appointment>, ApiError> {
    let path = format!(
        "/facility/{}/appointments/?{}",
        filter.facility,
        filter.query_string(encode_query_value)
    );
    session.call(Method::Get, &path, None).await
}

pub async fn get_detail(
    session: Session,
    facility_id: String,
    id: String,
) -> Result<Appointment, ApiError> {
    session
        .call(
            Method::Get,
            &format!("/facility/{facility_id}/appointments/{id}/"),
            None,
        )
        .await
}

pub async fn get_available_users(
    session: Session,
    facility_id: String,
) -> Result<AvailableUsers, ApiError> {
    session
        .call(
            Method::Get,
            &format!("/facility/{facility_id}/appointments/available_users/"),
            None,
        )
        .await
}

pub async fn get_patients_by_phone(
    session: Session,
    phone: String,
) -> Result<Paginated<Patient>, ApiError> {
    session
        .call(
            Method::Get,
            &format!(
                "/patient/?limit={PATIENT_PAGE_SIZE}&phone_number={}",
                encode_query_value(&phone)
            ),
            None,
        )
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bookings_nest_under_appointment_and_filters_make_distinct_keys() {
        let a = ListFilter {
            facility: "f".into(),
            statuses: vec!["booked".into()],
            ..Default::default()
        };
        let b = ListFilter {
            statuses: vec!["checked_in".into()],
            ..a.clone()
        };
        let root = QueryKey::new(["appointment"]);
        assert!(list(&a).starts_with(&list_prefix()) && detail("x").starts_with(&root));
        assert_ne!(list(&a), list(&b));
        let params = list(&a).parts().last().cloned().unwrap_or_default();
        let back: Value = serde_json::from_str(&params).expect("json");
        assert_eq!(ListFilter::from_params(&back), Some(a));
        assert!(!available_users("f").starts_with(&root));
        assert!(patients_by_phone("f", "+91").starts_with(&QueryKey::new(["patient"])));
    }
}
