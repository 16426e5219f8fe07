//! The query keys and fetchers of the pages that read through the cache. Keys start with
//! the resource, so a mutation can invalidate `["patient"]` and reach lists and details.

pub mod appointment;
pub mod encounter;
pub mod profile;
pub mod sync;

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

/// One level of govt organizations (areas): the states for `parent` "".
pub fn areas(parent: &str) -> QueryKey {
    QueryKey::new(["organization", "govt", parent])
}

pub async fn get_areas(
    session: Session,
    parent: String,
) -> Result<Paginated<crate::model::Organization>, ApiError> {
    session
        .call(
            Method::Get,
            &format!(
                "/organization/?org_type=govt&parent={}&limit=200",
                encode_query_value(&parent)
            ),
            None,
        )
        .await
}

pub fn patient_list(facility_id: &str, name: &str, offset: u32) -> QueryKey {
    QueryKey::new(["patient", "list"]).with_params(&json!({
        "facility": facility_id, "name": name, "offset": offset, "limit": PATIENT_PAGE_SIZE
    }))
}

pub fn patient_detail(id: &str) -> QueryKey {
    QueryKey::new(["patient", "detail", id])
}

/// Read-only POSTs, cached keyed by their (canonical) body.
pub fn patient_search(body: &serde_json::Value) -> QueryKey {
    QueryKey::new(["patient", "search"]).with_params(body)
}

pub fn patient_search_retrieve(body: &serde_json::Value) -> QueryKey {
    QueryKey::new(["patient", "search_retrieve"]).with_params(body)
}

pub fn valueset_expand(slug: &str, body: &serde_json::Value) -> QueryKey {
    QueryKey::new(["valueset", slug, "expand"]).with_params(body)
}

pub fn availability_stats(facility_id: &str, body: &serde_json::Value) -> QueryKey {
    QueryKey::new(["slots", facility_id, "availability_stats"]).with_params(body)
}

pub fn slots_for_day(facility_id: &str, body: &serde_json::Value) -> QueryKey {
    QueryKey::new(["slots", facility_id, "get_slots_for_day"]).with_params(body)
}

/// The path of each read-only POST above, for its fetcher.
pub fn read_only_post_path(key: &QueryKey) -> Option<String> {
    match key.parts() {
        [a, b, _] if a == "patient" && b == "search" => Some("/patient/search/".into()),
        [a, b, _] if a == "patient" && b == "search_retrieve" => {
            Some("/patient/search_retrieve/".into())
        }
        [a, slug, b, _] if a == "valueset" && b == "expand" => {
            Some(format!("/valueset/{slug}/expand/"))
        }
        [a, fid, b, _]
            if a == "slots" && (b == "availability_stats" || b == "get_slots_for_day") =>
        {
            Some(format!("/facility/{fid}/slots/{b}/"))
        }
        _ => None,
    }
}

/// Runs a read-only POST named by its key: the body is the key's last part.
pub async fn post_read_only<T: serde::de::DeserializeOwned>(
    session: Session,
    key: QueryKey,
) -> Result<T, ApiError> {
    let path = read_only_post_path(&key)
        .ok_or_else(|| ApiError::Decode(format!("no read-only POST for {key:?}")))?;
    let body: serde_json::Value = key
        .parts()
        .last()
        .and_then(|p| serde_json::from_str(p).ok())
        .ok_or_else(|| ApiError::Decode("query key without a body".into()))?;
    session.call(Method::Post, &path, Some(&body)).await
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

/// A patient with the identifiers `facility_id` gives its patients (CARE lists those only
/// when the facility is named).
pub async fn get_patient(
    session: Session,
    facility_id: String,
    id: String,
) -> Result<Patient, ApiError> {
    let path = if facility_id.is_empty() {
        format!("/patient/{id}/")
    } else {
        format!(
            "/patient/{id}/?facility={}",
            encode_query_value(&facility_id)
        )
    };
    session.call(Method::Get, &path, None).await
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
    fn read_only_posts_are_keyed_by_their_body() {
        let a = patient_search(&json!({"phone_number": "+919800000001", "page_size": 100}));
        let b = patient_search(&json!({"page_size": 100, "phone_number": "+919800000001"}));
        assert_eq!(a, b, "same body, same cache entry");
        assert_ne!(a, patient_search(&json!({"phone_number": "+919800000002"})));
        assert_eq!(read_only_post_path(&a).as_deref(), Some("/patient/search/"));
        let expand = valueset_expand(
            "system-condition-code",
            &json!({"search": "fev", "count": 10}),
        );
        assert_eq!(
            read_only_post_path(&expand).as_deref(),
            Some("/valueset/system-condition-code/expand/")
        );
        let day = slots_for_day(
            "f1",
            &json!({"day": "2026-11-23", "resource_type": "practitioner", "resource_id": "u"}),
        );
        assert_eq!(
            read_only_post_path(&day).as_deref(),
            Some("/facility/f1/slots/get_slots_for_day/")
        );
        let stats = availability_stats("f1", &json!({"from_date": "2026-11-01"}));
        assert_eq!(
            read_only_post_path(&stats).as_deref(),
            Some("/facility/f1/slots/availability_stats/")
        );
        assert!(read_only_post_path(&patient_search_retrieve(&json!({}))).is_some());
        assert!(read_only_post_path(&facility("f")).is_none());
        assert!(
            patient_search(&json!({})).starts_with(&QueryKey::new(["patient"])),
            "invalidated with patients"
        );
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(encode_query_value("Asha K"), "Asha%20K");
        assert_eq!(encode_query_value("+91&x"), "%2B91%26x");
    }
}
