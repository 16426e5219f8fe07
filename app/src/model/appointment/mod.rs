//! CARE's appointment shapes (care-api.md §8): token slots, bookings, availability stats,
//! and the pure rules the booking pages follow (heat-map levels, slot availability with
//! unsynced bookings, status transitions, which cached list shows a booking).

pub mod heatmap;
pub mod lists;
pub mod slots;
pub mod status;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::UserSpec;

/// `{name, tokens_per_slot}` of the availability a slot belongs to.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct SlotAvailability {
    pub name: String,
    pub tokens_per_slot: Option<i64>,
}

/// One slot of `get_slots_for_day` (and `token_slot` of a booking).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct TokenSlot {
    pub id: String,
    pub availability: SlotAvailability,
    pub start_datetime: String,
    pub end_datetime: String,
    pub allocated: i64,
}

/// `POST …/slots/get_slots_for_day/`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct SlotsOfDay {
    pub results: Vec<TokenSlot>,
}

/// One day of `POST …/slots/availability_stats/` (tokens, not slots).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct DayStats {
    pub total_slots: i64,
    pub booked_slots: i64,
}

/// `{"2026-11-23": {"total_slots", "booked_slots"}, …}`.
pub type AvailabilityStats = BTreeMap<String, DayStats>;

/// `GET …/appointments/available_users/`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct AvailableUsers {
    pub users: Vec<UserSpec>,
}

/// The patient embedded in a booking.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct BookingPatient {
    pub id: String,
    pub name: String,
    pub gender: String,
    pub phone_number: String,
    pub year_of_birth: Option<i64>,
    pub date_of_birth: Option<String>,
}

/// `{id, name}` of the booking's facility.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct BookingFacility {
    pub id: String,
    pub name: String,
}

/// TokenBookingRead / TokenBookingRetrieve.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Appointment {
    pub id: String,
    pub token_slot: TokenSlot,
    pub patient: BookingPatient,
    pub booked_on: Option<String>,
    pub booked_by: Option<UserSpec>,
    pub status: String,
    pub note: Option<String>,
    pub resource_type: String,
    /// A `UserSpec` for practitioners.
    pub resource: UserSpec,
    pub facility: BookingFacility,
    pub created_date: Option<String>,
    pub modified_date: Option<String>,
}

/// Slot times (UTC from CARE) as the device's local time: ("Mon 23 Nov", "09:15").
pub fn local_day_and_time(iso: &str) -> Option<(String, String)> {
    let at = chrono::DateTime::parse_from_rfc3339(iso).ok()?;
    let local = at.with_timezone(&chrono::Local);
    Some((
        local.format("%a %-d %b %Y").to_string(),
        local.format("%H:%M").to_string(),
    ))
}

/// The calendar day (device time) a slot starts on.
pub fn local_date(iso: &str) -> Option<chrono::NaiveDate> {
    let at = chrono::DateTime::parse_from_rfc3339(iso).ok()?;
    Some(at.with_timezone(&chrono::Local).date_naive())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_care_booking_and_slot_shapes() {
        let b: Appointment = serde_json::from_str(
            r#"{"id":"b1","token_slot":{"id":"s1","availability":{"name":"Morning OP","tokens_per_slot":2},
               "start_datetime":"2026-11-23T03:30:00Z","end_datetime":"2026-11-23T03:45:00Z","allocated":1},
               "patient":{"id":"p1","name":"Asha","gender":"female","phone_number":"+919800000001","geo_organization":{}},
               "status":"booked","note":"fever","resource_type":"practitioner",
               "resource":{"id":"u1","first_name":"Hemal","last_name":"P","username":"care-doctor","meta":{}},
               "facility":{"meta":{},"id":"f1","name":"Demo"},"token":null,"tags":[],"charge_item":null}"#,
        )
        .expect("booking");
        assert_eq!(b.token_slot.availability.tokens_per_slot, Some(2));
        assert_eq!(b.resource.full_name(), "Hemal P");
        let stats: AvailabilityStats =
            serde_json::from_str(r#"{"2026-11-23":{"total_slots":24,"booked_slots":3}}"#)
                .expect("stats");
        assert_eq!(stats["2026-11-23"].booked_slots, 3);
        assert!(local_day_and_time("2026-11-23T03:30:00Z").is_some());
        assert!(local_day_and_time("not a time").is_none());
    }
}
