//! Slot availability with bookings that have not reached the server yet.
//!
//! A booking queued on this device takes its slot at once: the cached slots-of-day query is
//! updated optimistically and the slot remembers which write it already counts
//! (`_pending_writes`). When the query is fetched again before the write syncs, the server's
//! answer does not count it yet, so `overlay` adds every unsynced change the data does not
//! already carry — never twice, never lost on a refetch.

use serde_json::{json, Value};

use super::TokenSlot;

/// The field an optimistically changed slot carries (ids of writes it counts).
pub const APPLIED: &str = "_pending_writes";

/// One unsynced write's effect on one slot: +1 for a booking, −1 for a cancel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotChange {
    pub write_id: String,
    pub slot_id: String,
    pub delta: i64,
}

/// Tokens still free in a slot (a slot without a token count holds one).
pub fn free_tokens(slot: &TokenSlot) -> i64 {
    (slot.availability.tokens_per_slot.unwrap_or(1) - slot.allocated).max(0)
}

fn slots_mut(day: &mut Value) -> Option<&mut Vec<Value>> {
    day.get_mut("results").and_then(Value::as_array_mut)
}

fn counts(slot: &Value, write_id: &str) -> bool {
    slot.get(APPLIED)
        .and_then(Value::as_array)
        .is_some_and(|ids| ids.iter().any(|i| i.as_str() == Some(write_id)))
}

/// Applies `change` to a cached `{results: [slot]}`; true when the slot is in it. Applying
/// the same write twice changes nothing.
pub fn apply(day: &mut Value, change: &SlotChange) -> bool {
    let Some(slots) = slots_mut(day) else {
        return false;
    };
    let Some(slot) = slots
        .iter_mut()
        .find(|s| s.get("id").and_then(Value::as_str) == Some(change.slot_id.as_str()))
    else {
        return false;
    };
    if counts(slot, &change.write_id) {
        return true;
    }
    let allocated = slot.get("allocated").and_then(Value::as_i64).unwrap_or(0);
    slot["allocated"] = json!((allocated + change.delta).max(0));
    match slot.get_mut(APPLIED).and_then(Value::as_array_mut) {
        Some(ids) => ids.push(json!(change.write_id)),
        None => slot[APPLIED] = json!([change.write_id]),
    }
    true
}

/// The day as it should show: the data plus every unsynced change it does not count yet.
pub fn overlay(day: &Value, pending: &[SlotChange]) -> Value {
    let mut out = day.clone();
    for change in pending {
        apply(&mut out, change);
    }
    out
}

/// Adds `change` to the booked count of `day` in a cached `availability_stats` answer
/// (`{day: {total_slots, booked_slots}}`); true when the day is in it. Like a slot, the day
/// remembers the changes it counts (a write and its slot: a reschedule within one day
/// frees one slot and takes another), so none is counted twice.
pub fn apply_to_stats(stats: &mut Value, day: &str, change: &SlotChange) -> bool {
    let Some(entry) = stats.get_mut(day) else {
        return false;
    };
    let mark = format!("{}:{}", change.write_id, change.slot_id);
    if counts(entry, &mark) {
        return true;
    }
    let booked = entry
        .get("booked_slots")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    entry["booked_slots"] = json!((booked + change.delta).max(0));
    match entry.get_mut(APPLIED).and_then(Value::as_array_mut) {
        Some(ids) => ids.push(json!(mark)),
        None => entry[APPLIED] = json!([mark]),
    }
    true
}

/// The month as the heat-map should show it: the stats plus every unsynced change
/// (`(day, change)`) they do not count yet — a refetch before the writes sync loses none.
pub fn overlay_stats(stats: &Value, pending: &[(String, SlotChange)]) -> Value {
    let mut out = stats.clone();
    for (day, change) in pending {
        apply_to_stats(&mut out, day, change);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::appointment::SlotsOfDay;

    fn day() -> Value {
        json!({"results": [
            {"id": "s1", "availability": {"name": "A", "tokens_per_slot": 1}, "allocated": 0,
             "start_datetime": "2026-11-23T08:30:00Z", "end_datetime": "2026-11-23T08:50:00Z"},
            {"id": "s2", "availability": {"name": "A", "tokens_per_slot": 2}, "allocated": 1,
             "start_datetime": "2026-11-23T08:50:00Z", "end_datetime": "2026-11-23T09:10:00Z"}
        ]})
    }

    fn free(day: &Value, id: &str) -> i64 {
        let d: SlotsOfDay = serde_json::from_value(day.clone()).expect("slots");
        d.results
            .iter()
            .find(|s| s.id == id)
            .map(free_tokens)
            .expect("slot")
    }

    fn booking(write: &str, slot: &str) -> SlotChange {
        SlotChange {
            write_id: write.into(),
            slot_id: slot.into(),
            delta: 1,
        }
    }

    #[test]
    fn a_booking_takes_its_slot_once() {
        let mut d = day();
        assert_eq!(free(&d, "s1"), 1);
        assert!(apply(&mut d, &booking("w1", "s1")));
        assert_eq!(free(&d, "s1"), 0, "taken at once");
        assert!(apply(&mut d, &booking("w1", "s1")));
        assert_eq!(d["results"][0]["allocated"], 1, "same write counted once");
        assert!(!apply(&mut d, &booking("w2", "zz")), "not this day");
        assert_eq!(free(&d, "s2"), 1);
    }

    #[test]
    fn overlay_survives_a_refetch_without_counting_twice() {
        let pending = vec![booking("w1", "s1"), booking("w2", "s2")];
        // Optimistic cache already counts w1.
        let mut cached = day();
        apply(&mut cached, &pending[0]);
        let shown = overlay(&cached, &pending);
        assert_eq!(free(&shown, "s1"), 0);
        assert_eq!(free(&shown, "s2"), 0);
        assert_eq!(shown["results"][0]["allocated"], 1);
        // A fresh server answer that does not know the writes yet.
        let refetched = overlay(&day(), &pending);
        assert_eq!(refetched["results"][0]["allocated"], 1);
        assert_eq!(refetched["results"][1]["allocated"], 2);
        // Once synced nothing is pending: the server's count is shown as it is.
        assert_eq!(overlay(&day(), &[]), day());
    }

    #[test]
    fn a_cancel_frees_a_token_never_below_zero() {
        let mut d = day();
        let cancel = SlotChange {
            write_id: "c".into(),
            slot_id: "s2".into(),
            delta: -1,
        };
        apply(&mut d, &cancel);
        assert_eq!(free(&d, "s2"), 2);
        let mut empty = day();
        apply(
            &mut empty,
            &SlotChange {
                slot_id: "s1".into(),
                ..cancel
            },
        );
        assert_eq!(empty["results"][0]["allocated"], 0);
    }

    #[test]
    fn stats_count_the_booking_once_and_survive_a_refetch() {
        let fresh = json!({"2026-11-23": {"total_slots": 9, "booked_slots": 2}});
        let mut stats = fresh.clone();
        assert!(apply_to_stats(
            &mut stats,
            "2026-11-23",
            &booking("w1", "s1")
        ));
        assert_eq!(stats["2026-11-23"]["booked_slots"], 3);
        assert!(apply_to_stats(
            &mut stats,
            "2026-11-23",
            &booking("w1", "s1")
        ));
        assert_eq!(
            stats["2026-11-23"]["booked_slots"], 3,
            "same write counted once"
        );
        assert!(!apply_to_stats(
            &mut stats,
            "2026-11-24",
            &booking("w2", "s9")
        ));
        let pending = vec![
            ("2026-11-23".to_string(), booking("w1", "s1")),
            (
                "2026-11-23".to_string(),
                SlotChange {
                    delta: -1,
                    ..booking("c1", "s2")
                },
            ),
        ];
        // The optimistic cache (counts w1) and a fresh answer (counts neither) agree.
        assert_eq!(
            overlay_stats(&stats, &pending)["2026-11-23"]["booked_slots"],
            2
        );
        assert_eq!(
            overlay_stats(&fresh, &pending)["2026-11-23"]["booked_slots"],
            2
        );
        assert_eq!(overlay_stats(&fresh, &[]), fresh);
        // A reschedule within the day: one write, a slot freed and one taken.
        let moved = vec![
            (
                "2026-11-23".to_string(),
                SlotChange {
                    delta: -1,
                    ..booking("r", "s1")
                },
            ),
            ("2026-11-23".to_string(), booking("r", "s2")),
        ];
        assert_eq!(
            overlay_stats(&fresh, &moved)["2026-11-23"]["booked_slots"],
            2
        );
    }
}
