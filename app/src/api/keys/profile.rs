//! Query keys and fetchers of the patient profile's tabs, and the user and role lists its
//! forms pick from.

use serde_json::{json, Value};

use super::encode_query_value;
use crate::{
    api::{ApiError, Method},
    model::{resource::ResourceComment, Paginated, ResourceRequest, Role, UserSpec},
    offline::{
        outbox::{
            registry::patient::{pending_user_changes, settle_users},
            Outbox,
        },
        query::{QueryClient, QueryKey},
    },
    session::Session,
};

/// `{"results": [...]}` without a count (CARE's list-like actions).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize, PartialEq)]
#[serde(default)]
pub struct Results<T> {
    pub results: Vec<T>,
}

pub fn patient_users(patient_id: &str) -> QueryKey {
    QueryKey::new(["patient", "users", patient_id])
}

/// The patient's users as this device shows them: assignments and removals still to be
/// sent hold over the fetched list (a refetch before they sync must not undo them).
pub async fn get_patient_users(
    session: Session,
    client: QueryClient,
    outbox: Outbox,
    patient_id: String,
) -> Result<Results<UserSpec>, ApiError> {
    let mut fetched: Value = session
        .call(
            Method::Get,
            &format!("/patient/{patient_id}/get_users/"),
            None,
        )
        .await?;
    let previous = client.get_query_data(&patient_users(&patient_id));
    let changes = outbox.with_records_untracked(|r| pending_user_changes(r, &patient_id));
    settle_users(previous.as_ref(), &mut fetched, &changes);
    serde_json::from_value(fetched).map_err(|e| ApiError::Decode(e.to_string()))
}

pub fn user_search(text: &str) -> QueryKey {
    QueryKey::new(["users", "list"]).with_params(&json!({ "search_text": text }))
}

pub async fn get_user_search(
    session: Session,
    text: String,
) -> Result<Paginated<UserSpec>, ApiError> {
    session
        .call(
            Method::Get,
            &format!(
                "/users/?limit=20&search_text={}",
                encode_query_value(text.trim())
            ),
            None,
        )
        .await
}

pub fn roles() -> QueryKey {
    QueryKey::new(["role", "list"])
}

pub async fn get_roles(session: Session) -> Result<Paginated<Role>, ApiError> {
    session.call(Method::Get, "/role/?limit=100", None).await
}

pub fn resource_list(related_patient: &str) -> QueryKey {
    QueryKey::new(["resource", "list"])
        .with_params(&json!({ "related_patient": related_patient, "offset": 0 }))
}

pub async fn get_resource_list(
    session: Session,
    related_patient: String,
) -> Result<Paginated<ResourceRequest>, ApiError> {
    session
        .call(
            Method::Get,
            &format!(
                "/resource/?limit=50&related_patient={}",
                encode_query_value(&related_patient)
            ),
            None,
        )
        .await
}

pub fn resource_comments(id: &str) -> QueryKey {
    QueryKey::new(["resource", "comments", id])
}

/// The newest 50 comments (CARE lists them newest first).
pub async fn get_resource_comments(
    session: Session,
    id: String,
) -> Result<Paginated<ResourceComment>, ApiError> {
    session
        .call(
            Method::Get,
            &format!("/resource/{id}/comment/?limit=50"),
            None,
        )
        .await
}

pub fn resource_detail(id: &str) -> QueryKey {
    QueryKey::new(["resource", "detail", id])
}

pub async fn get_resource(session: Session, id: String) -> Result<ResourceRequest, ApiError> {
    session
        .call(Method::Get, &format!("/resource/{id}/"), None)
        .await
}

/// The patient's bookings (care_fe's "appointments of patient"; a facility list would need
/// a practitioner for non-superusers on a real CARE).
pub fn patient_appointments(patient_id: &str) -> QueryKey {
    QueryKey::new(["appointment", "of_patient", patient_id])
}

pub async fn get_patient_appointments(
    session: Session,
    patient_id: String,
) -> Result<Paginated<crate::model::Appointment>, ApiError> {
    session
        .call(
            Method::Get,
            &format!("/patient/{patient_id}/get_appointments/?limit=50"),
            None,
        )
        .await
}
