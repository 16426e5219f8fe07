//! Reusable components, one per file.

#[cfg(feature = "hydrate")]
pub mod browser;
pub mod connectivity;
pub mod error_message;
pub mod geo_select;
pub mod layout;
pub mod nav;
pub mod not_found;
pub mod patient_fields;
pub mod profile;
pub mod query_notice;
pub mod sync_badge;
pub mod unsynced_badge;
pub mod write_status;
