//! Serde types of the CARE API (no Leptos, no browser APIs): shared with the server's tests.
//! Unknown fields are ignored and most fields default, because CARE versions drift.

pub mod appointment;
pub mod auth;
pub mod clinical;
pub mod dates;
pub mod encounter;
pub mod facility;
pub mod field_label;
pub mod identifier;
pub mod organization;
pub mod paging;
pub mod patient;
pub mod patient_form;
pub mod patient_lookup;
pub mod questionnaire;
pub mod resource;
pub mod role;
pub mod sync_health;
pub mod user;

pub use appointment::{Appointment, AvailabilityStats, AvailableUsers, SlotsOfDay, TokenSlot};
pub use auth::{LoginRequest, TokenPair};
pub use clinical::{ClinicalEntry, ClinicalKind, Coding, QuestionnaireResponse};
pub use encounter::Encounter;
pub use facility::{Facility, FacilityRef};
pub use organization::Organization;
pub use patient::{Paginated, Patient, PatientSearch};
pub use questionnaire::{Question, Questionnaire};
pub use resource::ResourceRequest;
pub use role::Role;
pub use user::{CurrentUser, UserSpec};
