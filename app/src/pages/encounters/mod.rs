//! Encounter pages: the facility's list, start an encounter, the encounter page, and
//! filling a questionnaire in an encounter.

pub mod create;
pub mod detail;
pub mod drafts;
pub mod fill;
pub mod list;
