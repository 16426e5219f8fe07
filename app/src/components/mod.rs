//! Reusable components, one per file.

pub mod batch_failure;
#[cfg(feature = "hydrate")]
pub mod browser;
pub mod clinical_list;
pub mod complete_encounter;
pub mod connectivity;
pub mod encounter_header;
pub mod encounter_row;
pub mod error_message;
pub mod geo_select;
pub mod layout;
pub mod nav;
pub mod not_found;
pub mod pager;
pub mod patient_encounters;
pub mod patient_fields;
pub mod profile;
pub mod query_notice;
pub mod questionnaire;
pub mod resource_comments;
pub mod resource_status;
pub mod responses_list;
pub mod section_notice;
pub mod sync_badge;
pub mod unsynced_badge;
pub mod write_status;
