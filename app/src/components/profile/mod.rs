//! The patient profile's tabs, one component per file.

pub mod add_user;
pub mod appointments;
pub mod details;
pub mod health;
pub mod remove_user;
pub mod resources;
pub mod users;
