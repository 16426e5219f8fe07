//! Workflow 4: appointment lists by status, booking (patient → practitioner → heat-map →
//! slot), the appointment with its status changes, reschedule and cancel.

pub mod book;
pub mod cache;
pub mod day_slots;
pub mod detail;
pub mod list;
pub mod month_heatmap;
pub mod patient_picker;
pub mod writes;
