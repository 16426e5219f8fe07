//! Pages, one per route.

pub mod appointments;
pub mod encounters;
pub mod facility_home;
pub mod login;
pub mod patients;
pub mod placeholder;
pub mod resources;
pub mod root;
pub mod sync;
