//! Resource requests (workflow 3): raise one for a patient, view one.

pub mod detail;
pub mod new;
