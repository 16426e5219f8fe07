//! The patient profile's tabs, one component per file.

pub mod add_user;
pub mod details;
pub mod resources;
pub mod users;
