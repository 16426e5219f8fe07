//! What "ready for offline" means and how it is reported, as plain data: the parts a
//! shift of offline work needs, what a run fetched or missed, and when to run again.

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::{
    model::{appointment::heatmap::month_range, Organization},
    offline::query::options::{Millis, DAY},
};

/// Slots are fetched this many days ahead (today included).
pub const DAYS_AHEAD: u32 = 14;
/// At most this many practitioners' slots (the ones listed first).
pub const MAX_PRACTITIONERS: usize = 10;
/// At most this many forms.
pub const MAX_FORMS: usize = 40;
/// Pages of the patient list (newest first) kept for offline search and lookup.
pub const PATIENT_PAGES: u32 = 2;
/// Pages of the encounter list.
pub const ENCOUNTER_PAGES: u32 = 1;
/// Once this much has been fetched, the optional parts (slots, lists) are left out.
pub const BYTE_BUDGET: usize = 5_000_000;
/// Data older than this is fetched again.
pub const REFRESH_AFTER: Millis = DAY;

/// One part of getting ready, named as the person reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Part {
    Facility,
    Departments,
    Areas,
    Forms,
    Codes,
    Practitioners,
    Slots,
    Patients,
    Encounters,
}

impl Part {
    pub const ALL: [Part; 9] = [
        Part::Facility,
        Part::Departments,
        Part::Areas,
        Part::Forms,
        Part::Codes,
        Part::Practitioners,
        Part::Slots,
        Part::Patients,
        Part::Encounters,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Part::Facility => "facility and identifier settings",
            Part::Departments => "departments",
            Part::Areas => "areas for registration",
            Part::Forms => "forms",
            Part::Codes => "code lists",
            Part::Practitioners => "practitioners",
            Part::Slots => "slots for the next 14 days",
            Part::Patients => "recent patients",
            Part::Encounters => "recent encounters",
        }
    }

    /// Left out first when the size budget runs out (the rest is what forms need).
    pub fn optional(self) -> bool {
        matches!(self, Part::Slots | Part::Patients | Part::Encounters)
    }
}

/// The outcome of the last run, kept per user on the device (no patient data in it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub facility_id: String,
    pub finished_at: Millis,
    /// Parts with at least one request that failed.
    pub missing: Vec<Part>,
    /// Optional parts left out to stay within the size budget.
    pub trimmed: Vec<Part>,
    /// Queries saved on the device, and their size as JSON.
    pub saved: usize,
    pub bytes: usize,
}

impl Report {
    pub fn complete(&self) -> bool {
        self.missing.is_empty() && self.trimmed.is_empty()
    }

    /// "Ready for offline — updated 08:02", or what is missing. `at` is `finished_at` as
    /// the device shows times.
    pub fn summary(&self, at: &str) -> String {
        if self.complete() {
            return format!("Ready for offline — updated {at}");
        }
        let not: Vec<&str> = self
            .missing
            .iter()
            .chain(&self.trimmed)
            .map(|p| p.label())
            .collect();
        format!(
            "Partly ready for offline — updated {at}. Not on this device: {}.",
            not.join(", ")
        )
    }
}

/// Whether to get ready now: never done here, done for another facility, a part missing,
/// or older than a day.
pub fn due(report: Option<&Report>, facility_id: &str, now: Millis) -> bool {
    match report {
        None => true,
        Some(r) => {
            r.facility_id != facility_id
                || !r.missing.is_empty()
                || now - r.finished_at >= REFRESH_AFTER
                || now < r.finished_at
        }
    }
}

/// The days whose slots are fetched: today and the 13 after it.
pub fn days_ahead(today: NaiveDate) -> Vec<NaiveDate> {
    (0..i64::from(DAYS_AHEAD))
        .map(|d| today + Duration::days(d))
        .collect()
}

/// The month ranges the heat-map asks for over those days (one or two months).
pub fn months_of(days: &[NaiveDate]) -> Vec<(NaiveDate, NaiveDate)> {
    let mut out: Vec<(NaiveDate, NaiveDate)> = Vec::new();
    for d in days {
        let range = month_range(*d);
        if out.last() != Some(&range) {
            out.push(range);
        }
    }
    out
}

/// The area levels the registration form walks for a patient living near the facility:
/// the states (parent ""), then the children of each organization from the top down to
/// the facility's own, so state → district → local body → ward all work offline.
pub fn area_parents(facility_area: Option<&Organization>) -> Vec<String> {
    let mut chain = Vec::new();
    let mut next = facility_area.cloned();
    // CARE's geo trees are a handful of levels deep; the bound guards a cyclic answer.
    while let Some(org) = next.take() {
        if chain.len() >= 8 || chain.iter().any(|o: &Organization| o.id == org.id) {
            break;
        }
        next = org.parent();
        chain.push(org);
    }
    let mut parents = vec![String::new()];
    parents.extend(
        chain
            .into_iter()
            .rev()
            .filter(|o| o.has_children)
            .map(|o| o.id),
    );
    parents
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    #[test]
    fn due_when_never_done_elsewhere_missing_or_a_day_old() {
        let done = Report {
            facility_id: "f".into(),
            finished_at: 1_000,
            ..Report::default()
        };
        assert!(due(None, "f", 0));
        assert!(!due(Some(&done), "f", 1_000 + REFRESH_AFTER - 1));
        assert!(due(Some(&done), "f", 1_000 + REFRESH_AFTER));
        assert!(due(Some(&done), "g", 1_001), "another facility");
        assert!(due(Some(&done), "f", 999), "a clock set back");
        let partly = Report {
            missing: vec![Part::Departments],
            ..done.clone()
        };
        assert!(due(Some(&partly), "f", 1_001));
        let trimmed = Report {
            trimmed: vec![Part::Patients],
            ..done
        };
        assert!(
            !due(Some(&trimmed), "f", 1_001),
            "a budget cut is not retried at once"
        );
    }

    #[test]
    fn the_summary_names_what_is_not_on_the_device() {
        let r = Report::default();
        assert_eq!(r.summary("08:02"), "Ready for offline — updated 08:02");
        let r = Report {
            missing: vec![Part::Departments],
            trimmed: vec![Part::Slots],
            ..Report::default()
        };
        assert_eq!(
            r.summary("08:02"),
            "Partly ready for offline — updated 08:02. Not on this device: departments, slots for the next 14 days."
        );
    }

    #[test]
    fn fourteen_days_span_one_or_two_months() {
        let days = days_ahead(day("2026-12-05"));
        assert_eq!(days.len(), 14);
        assert_eq!(days[13], day("2026-12-18"));
        assert_eq!(months_of(&days).len(), 1);
        let days = days_ahead(day("2026-12-25"));
        assert_eq!(days[13], day("2027-01-07"));
        let months = months_of(&days);
        assert_eq!(months.len(), 2);
        assert_eq!(months[1], month_range(day("2027-01-07")));
    }

    #[test]
    fn areas_walk_down_to_the_facility_s_own() {
        let org = |id: &str, children: bool, parent: serde_json::Value| {
            serde_json::from_value::<Organization>(json!({
                "id": id, "name": id, "org_type": "govt", "active": true,
                "level_cache": 0, "has_children": children, "parent": parent,
            }))
            .expect("org")
        };
        let state = json!({"id": "kerala", "name": "Kerala", "org_type": "govt", "active": true, "level_cache": 0, "has_children": true, "parent": {}});
        let district = json!({"id": "ernakulam", "name": "Ernakulam", "org_type": "govt", "active": true, "level_cache": 1, "has_children": true, "parent": state});
        let ward = org("ward-3", false, district);
        assert_eq!(area_parents(Some(&ward)), ["", "kerala", "ernakulam"]);
        assert_eq!(area_parents(None), [""]);
    }
}
