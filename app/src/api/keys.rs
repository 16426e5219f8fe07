//! The query keys and fetchers of the pages that read through the cache. Keys start with
//! the resource, so a mutation can invalidate `["patient"]` and reach lists and details.

use serde_json::json;

use super::{ApiError, Method};
use crate::{
    model::{Facility, Paginated, Patient},
    offline::query::QueryKey,
    session::Session,
};

pub const PATIENT_PAGE_SIZE: u32 = 14;

pub fn facility(id: &str) -> QueryKey {
    QueryKey::new(["facility", id])
}

pub fn patient_list(facility_id: &str, name: &str, offset: u32) -> QueryKey {
    QueryKey::new(["patient", "list"]).with_params(&json!({
        "facility": facility_id, "name": name, "offset": offset, "limit": PATIENT_PAGE_SIZE
    }))
}

pub fn patient_detail(id: &str) -> QueryKey {
    QueryKey::new(["patient", "detail", id])
}

pub async fn get_facility(session: Session, id: String) -> Result<Facility, ApiError> {
    session
        .call(Method::Get, &format!("/facility/{id}/"), None)
        .await
}

pub async fn get_patient_page(
    session: Session,
    name: String,
    offset: u32,
) -> Result<Paginated<Patient>, ApiError> {
    let mut path =
        format!("/patient/?limit={PATIENT_PAGE_SIZE}&offset={offset}&ordering=-modified_date");
    if !name.trim().is_empty() {
        path.push_str(&format!("&name={}", encode_query_value(name.trim())));
    }
    session.call(Method::Get, &path, None).await
}

pub async fn get_patient(session: Session, id: String) -> Result<Patient, ApiError> {
    session
        .call(Method::Get, &format!("/patient/{id}/"), None)
        .await
}

/// Percent-encodes a query-string value (RFC 3986 unreserved characters pass).
pub fn encode_query_value(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_nest_under_their_resource() {
        let patients = QueryKey::new(["patient"]);
        assert!(patient_list("f", "", 0).starts_with(&patients));
        assert!(patient_detail("p").starts_with(&patients));
        assert!(!facility("f").starts_with(&patients));
        assert_ne!(patient_list("f", "", 0), patient_list("f", "", 14));
        assert_ne!(patient_list("f", "a", 0), patient_list("g", "a", 0));
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(encode_query_value("Asha K"), "Asha%20K");
        assert_eq!(encode_query_value("+91&x"), "%2B91%26x");
    }
}
