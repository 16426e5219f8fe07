//! Which cached appointment list shows a booking, so a booking or a status change made on
//! this device moves between the status lists at once.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::local_date;

/// The filters of one facility appointment list (the params of its query key).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct ListFilter {
    pub facility: String,
    /// Practitioner ids (`resource_ids`); empty: any.
    pub practitioners: Vec<String>,
    /// Statuses (`status`); empty: any.
    pub statuses: Vec<String>,
    /// `YYYY-MM-DD` bounds on the slot's day.
    pub date_after: Option<String>,
    pub date_before: Option<String>,
    pub patient: Option<String>,
    pub offset: u32,
    pub limit: u32,
}

impl ListFilter {
    pub fn to_params(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    pub fn from_params(params: &Value) -> Option<Self> {
        serde_json::from_value(params.clone()).ok()
    }

    /// The query string of `GET /facility/{id}/appointments/`.
    pub fn query_string(&self, encode: impl Fn(&str) -> String) -> String {
        let mut q = format!(
            "resource_type=practitioner&ordering=token_slot__start_datetime&limit={}&offset={}",
            self.limit, self.offset
        );
        let mut add = |name: &str, value: &str| {
            if !value.is_empty() {
                q.push_str(&format!("&{name}={}", encode(value)));
            }
        };
        add("resource_ids", &self.practitioners.join(","));
        add("status", &self.statuses.join(","));
        add("date_after", self.date_after.as_deref().unwrap_or(""));
        add("date_before", self.date_before.as_deref().unwrap_or(""));
        add("patient", self.patient.as_deref().unwrap_or(""));
        q
    }

    /// True when a booking (TokenBookingRead JSON) belongs in this list.
    pub fn shows(&self, booking: &Value) -> bool {
        let text = |path: &str| booking.pointer(path).and_then(Value::as_str).unwrap_or("");
        if booking
            .pointer("/facility/id")
            .and_then(Value::as_str)
            .is_some_and(|f| !f.is_empty() && f != self.facility)
        {
            return false;
        }
        if !self.practitioners.is_empty()
            && !self.practitioners.iter().any(|p| p == text("/resource/id"))
        {
            return false;
        }
        if !self.statuses.is_empty() && !self.statuses.iter().any(|s| s == text("/status")) {
            return false;
        }
        if self
            .patient
            .as_deref()
            .is_some_and(|p| !p.is_empty() && p != text("/patient/id"))
        {
            return false;
        }
        let day = local_date(text("/token_slot/start_datetime")).map(|d| d.to_string());
        let within = |bound: &Option<String>, after: bool| match (bound.as_deref(), &day) {
            (None | Some(""), _) => true,
            (Some(b), Some(d)) => {
                if after {
                    d.as_str() >= b
                } else {
                    d.as_str() <= b
                }
            }
            (Some(_), None) => false,
        };
        within(&self.date_after, true) && within(&self.date_before, false)
    }
}

fn start_of(v: &Value) -> &str {
    v.pointer("/token_slot/start_datetime")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// Puts `booking` where it belongs in a cached page of `filter`: replaced when shown there,
/// removed when it no longer matches, inserted in slot order on the first page when new.
/// True when the page changed.
pub fn place(page: &mut Value, filter: &ListFilter, booking: &Value) -> bool {
    let Some(id) = booking.get("id").and_then(Value::as_str) else {
        return false;
    };
    let shows = filter.shows(booking);
    let Some(results) = page.get_mut("results").and_then(Value::as_array_mut) else {
        return false;
    };
    let at = results
        .iter()
        .position(|r| r.get("id").and_then(Value::as_str) == Some(id));
    let delta: i64 = match (at, shows) {
        (Some(i), true) => {
            results[i] = booking.clone();
            0
        }
        (Some(i), false) => {
            results.remove(i);
            -1
        }
        (None, true) if filter.offset == 0 => {
            let start = start_of(booking);
            let pos = results
                .iter()
                .position(|r| start_of(r) > start)
                .unwrap_or(results.len());
            // A full first page keeps its size: the last row moves to the next page.
            results.insert(pos, booking.clone());
            if filter.limit > 0 && results.len() > filter.limit as usize {
                results.pop();
            }
            1
        }
        _ => return false,
    };
    if let Some(count) = page.get("count").and_then(Value::as_i64) {
        page["count"] = Value::from((count + delta).max(0));
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn booking(id: &str, status: &str, start: &str) -> Value {
        json!({"id": id, "status": status, "facility": {"id": "f"}, "resource": {"id": "doc"},
               "patient": {"id": "p"}, "token_slot": {"start_datetime": start}})
    }

    fn filter(statuses: &[&str]) -> ListFilter {
        ListFilter {
            facility: "f".into(),
            statuses: statuses.iter().map(|s| s.to_string()).collect(),
            limit: 10,
            ..Default::default()
        }
    }

    #[test]
    fn filters_match_like_the_server() {
        let b = booking("b", "booked", "2026-11-23T06:00:00Z");
        assert!(filter(&["booked"]).shows(&b));
        assert!(filter(&[]).shows(&b));
        assert!(!filter(&["checked_in"]).shows(&b));
        let mut other_doc = filter(&[]);
        other_doc.practitioners = vec!["nurse".into()];
        assert!(!other_doc.shows(&b));
        let mut later = filter(&[]);
        later.date_after = Some("2026-11-30".into());
        assert!(!later.shows(&b));
        let mut window = filter(&[]);
        window.date_after = Some("2026-11-01".into());
        window.date_before = Some("2026-11-30".into());
        assert!(window.shows(&b));
        let round = ListFilter::from_params(&window.to_params()).expect("params");
        assert_eq!(round, window);
        assert!(window
            .query_string(|s| s.to_string())
            .contains("date_after=2026-11-01"));
    }

    #[test]
    fn a_status_change_moves_a_booking_between_lists() {
        let mut booked = json!({"count": 2, "results": [
            booking("a", "booked", "2026-11-23T04:00:00Z"),
            booking("b", "booked", "2026-11-23T05:00:00Z"),
        ]});
        let mut checked_in = json!({"count": 0, "results": []});
        let moved = booking("a", "checked_in", "2026-11-23T04:00:00Z");
        assert!(place(&mut booked, &filter(&["booked"]), &moved));
        assert!(place(&mut checked_in, &filter(&["checked_in"]), &moved));
        assert_eq!(booked["count"], 1);
        assert_eq!(booked["results"][0]["id"], "b");
        assert_eq!(checked_in["count"], 1);
        assert_eq!(checked_in["results"][0]["status"], "checked_in");
        assert!(!place(
            &mut json!({"count": 0, "results": []}),
            &filter(&["noshow"]),
            &moved
        ));
    }

    #[test]
    fn new_bookings_go_in_slot_order_on_first_pages_only() {
        let mut page = json!({"count": 2, "results": [
            booking("a", "booked", "2026-11-23T04:00:00Z"),
            booking("c", "booked", "2026-11-23T06:00:00Z"),
        ]});
        let new = booking("tmp", "booked", "2026-11-23T05:00:00Z");
        assert!(place(&mut page, &filter(&["booked"]), &new));
        assert_eq!(page["results"][1]["id"], "tmp");
        assert_eq!(page["count"], 3);
        let mut second = filter(&["booked"]);
        second.offset = 10;
        assert!(!place(
            &mut json!({"count": 12, "results": []}),
            &second,
            &new
        ));
        let mut small = filter(&["booked"]);
        small.limit = 2;
        let mut full = json!({"count": 5, "results": [
            booking("a", "booked", "2026-11-23T04:00:00Z"),
            booking("c", "booked", "2026-11-23T06:00:00Z"),
        ]});
        place(&mut full, &small, &new);
        assert_eq!(full["results"].as_array().map(Vec::len), Some(2));
        assert_eq!(full["count"], 6);
    }
}
