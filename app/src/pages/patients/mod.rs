//! Workflow 1 and 3 pages (read-only here; registration and editing are issue #6).

pub mod detail;
pub mod edit;
pub mod list;
pub mod register;
