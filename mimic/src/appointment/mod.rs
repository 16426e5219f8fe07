//! Appointments (care-api.md §8): schedules, lazily materialised slots, bookings with their
//! status changes, reschedule and cancel. Slot wall-times are IST (CARE's `TIME_ZONE`),
//! returned as UTC.

use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    routing::{get, post},
    Json, Router,
};
use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Deserialize;
use serde_json::{json, Value};

mod bookings;
mod schedules;
mod slots;

pub use bookings::*;
pub use schedules::*;
pub use slots::*;

use super::{
    auth::{json_object, AuthUser},
    booking::{booking_json, slot_json},
    db::now_iso,
    error::CareError,
    facility::ensure_member,
    pagination::Page,
    patient,
    users::user_spec,
    validate::{Checker, Field},
    Care,
};

pub fn router() -> Router<Care> {
    Router::new()
        .route(
            "/facility/{fid}/schedule/",
            get(list_schedules).post(create_schedule),
        )
        .route(
            "/facility/{fid}/slots/get_slots_for_day/",
            post(slots_for_day),
        )
        .route(
            "/facility/{fid}/slots/availability_stats/",
            post(availability_stats),
        )
        .route(
            "/facility/{fid}/slots/{slot}/create_appointment/",
            post(create_appointment),
        )
        .route("/facility/{fid}/appointments/", get(list_appointments))
        .route(
            "/facility/{fid}/appointments/available_users/",
            get(available_users),
        )
        .route(
            "/facility/{fid}/appointments/{id}/",
            get(retrieve_appointment).put(update_appointment),
        )
        .route(
            "/facility/{fid}/appointments/{id}/reschedule/",
            post(reschedule),
        )
        .route("/facility/{fid}/appointments/{id}/cancel/", post(cancel))
        .route("/patient/{id}/get_appointments/", get(patient_appointments))
}

pub const BOOKING_STATUSES: &[&str] = &[
    "proposed",
    "pending",
    "booked",
    "arrived",
    "fulfilled",
    "cancelled",
    "noshow",
    "entered_in_error",
    "checked_in",
    "waitlist",
    "in_consultation",
    "rescheduled",
];
/// Statuses that free the slot (CARE's `CANCELLED_STATUS_CHOICES`).
pub const CANCELLED: &[&str] = &["cancelled", "entered_in_error", "rescheduled"];
const RESOURCE_TYPES: &[&str] = &["practitioner", "location", "healthcare_service"];
const SLOT_TYPES: &[&str] = &["appointment", "open", "closed"];
pub const MAX_APPOINTMENTS_PER_PATIENT: i64 = 10;

/// CARE's server time zone, Asia/Kolkata (no DST).
pub fn ist() -> FixedOffset {
    FixedOffset::east_opt(5 * 3600 + 1800).unwrap_or_else(|| Utc.fix())
}

use chrono::Offset;
use chrono::TimeZone;

fn slot_time(dt: &DateTime<Utc>) -> String {
    dt.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn parse_slot_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

fn sql_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(",")
}
