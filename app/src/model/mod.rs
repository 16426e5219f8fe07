//! Serde types of the CARE API (no Leptos, no browser APIs): shared with the server's tests.
//! Unknown fields are ignored and most fields default, because CARE versions drift.

pub mod auth;
pub mod clinical;
pub mod encounter;
pub mod facility;
pub mod organization;
pub mod patient;
pub mod patient_form;
pub mod questionnaire;
pub mod user;

pub use auth::{LoginRequest, TokenPair};
pub use clinical::{ClinicalEntry, ClinicalKind, Coding, QuestionnaireResponse};
pub use encounter::Encounter;
pub use facility::{Facility, FacilityRef};
pub use organization::Organization;
pub use patient::{Paginated, Patient, PatientSearch};
pub use questionnaire::{Question, Questionnaire};
pub use user::{CurrentUser, UserSpec};
