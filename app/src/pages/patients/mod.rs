//! Workflow 1 and 3 pages: find (phone → year of birth → home), list, register, profile,
//! edit.

pub mod detail;
pub mod edit;
pub mod find;
pub mod home;
pub mod identifiers;
pub mod list;
pub mod register;
