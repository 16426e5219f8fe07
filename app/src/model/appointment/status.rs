//! Booking statuses: the lists the facility works through, and which change each status
//! allows (CARE refuses a PUT to a cancelled status and a cancel in consultation).

/// The status tabs of the facility's appointment lists, in the order a visit goes.
pub const LIST_STATUSES: &[(&str, &str)] = &[
    ("booked", "Booked"),
    ("checked_in", "Checked in"),
    ("in_consultation", "In consultation"),
    ("fulfilled", "Fulfilled"),
    ("noshow", "No-show"),
];

/// The one status an appointment page shows, as (status code for styling, label). A
/// booking CARE refused when it was sent was never made, whatever this device's copy of
/// it says ("booked" from the moment it was saved offline).
pub fn shown(status: &str, refused: bool) -> (&str, &str) {
    if refused {
        ("refused", "Not booked")
    } else {
        (status, label(status))
    }
}

/// Statuses that free the slot; only the cancel endpoint sets them.
pub const CANCELLED: &[&str] = &["cancelled", "entered_in_error", "rescheduled"];

pub fn label(status: &str) -> &str {
    match status {
        "booked" => "Booked",
        "checked_in" => "Checked in",
        "in_consultation" => "In consultation",
        "fulfilled" => "Fulfilled",
        "noshow" => "No-show",
        "cancelled" => "Cancelled",
        "entered_in_error" => "Entered in error",
        "rescheduled" => "Rescheduled",
        "arrived" => "Arrived",
        "pending" => "Pending",
        "proposed" => "Proposed",
        "waitlist" => "Waitlist",
        other => other,
    }
}

/// What a person can do with a booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `PUT` the booking with this status.
    SetStatus(&'static str),
    Reschedule,
    Cancel,
}

impl Action {
    pub fn label(self) -> &'static str {
        match self {
            Action::SetStatus("checked_in") => "Check in",
            Action::SetStatus("in_consultation") => "Start consultation",
            Action::SetStatus("fulfilled") => "Mark fulfilled",
            Action::SetStatus("noshow") => "Mark no-show",
            Action::SetStatus(_) => "Change status",
            Action::Reschedule => "Reschedule",
            Action::Cancel => "Cancel appointment",
        }
    }
}

/// The changes allowed from `status`, in the order they are offered.
pub fn actions(status: &str) -> Vec<Action> {
    use Action::*;
    match status {
        "booked" | "proposed" | "pending" | "waitlist" => vec![
            SetStatus("checked_in"),
            SetStatus("noshow"),
            Reschedule,
            Cancel,
        ],
        "checked_in" | "arrived" => vec![
            SetStatus("in_consultation"),
            SetStatus("noshow"),
            Reschedule,
            Cancel,
        ],
        "in_consultation" => vec![SetStatus("fulfilled")],
        "noshow" => vec![SetStatus("checked_in"), Reschedule, Cancel],
        _ => Vec::new(),
    }
}

pub fn allows(status: &str, action: Action) -> bool {
    actions(status).contains(&action)
}

/// True when the booking holds its slot.
pub fn holds_slot(status: &str) -> bool {
    !CANCELLED.contains(&status)
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_refused_booking_shows_not_booked_only() {
        assert_eq!(shown("booked", true), ("refused", "Not booked"));
        assert_eq!(shown("booked", false), ("booked", "Booked"));
        assert_eq!(shown("checked_in", false).1, "Checked in");
    }

    use super::*;

    #[test]
    fn a_visit_moves_forward_only() {
        assert!(allows("booked", Action::SetStatus("checked_in")));
        assert!(allows("checked_in", Action::SetStatus("in_consultation")));
        assert!(allows("in_consultation", Action::SetStatus("fulfilled")));
        assert!(!allows("booked", Action::SetStatus("fulfilled")));
        assert!(!allows("fulfilled", Action::SetStatus("checked_in")));
    }

    #[test]
    fn cancel_and_reschedule_follow_care_rules() {
        assert!(allows("booked", Action::Cancel));
        assert!(allows("booked", Action::Reschedule));
        // CARE: 400 when cancelling in consultation; no reschedule once seen.
        assert!(!allows("in_consultation", Action::Cancel));
        assert!(!allows("in_consultation", Action::Reschedule));
        assert!(!allows("fulfilled", Action::Reschedule));
        for done in CANCELLED {
            assert!(actions(done).is_empty(), "{done}");
            assert!(!holds_slot(done));
        }
        assert!(holds_slot("checked_in"));
    }

    #[test]
    fn never_offers_a_cancelled_status_through_put() {
        for (status, _) in LIST_STATUSES {
            for a in actions(status) {
                if let Action::SetStatus(s) = a {
                    assert!(!CANCELLED.contains(&s), "{status} → {s}");
                    assert_ne!(a.label(), "Change status");
                }
            }
        }
        assert_eq!(label("noshow"), "No-show");
    }
}
