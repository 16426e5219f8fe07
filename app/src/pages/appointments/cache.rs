//! How appointment writes made on this device show in the cached queries before they
//! sync: the booking's detail, every cached status list it belongs in (and none it left),
//! the slots of its day and the month's stats. Collected as optimistic records for
//! `WriteSpec` (one device transaction with the write).

use serde_json::Value;

use crate::{
    api::keys::{self, appointment as akeys},
    model::appointment::{
        lists::{place, ListFilter},
        slots::{self, SlotChange},
    },
    offline::query::{QueryClient, QueryKey},
};

fn params_of(key: &QueryKey) -> Option<Value> {
    key.parts()
        .last()
        .and_then(|p| serde_json::from_str(p).ok())
}

/// Changes to cached queries, each applied on top of the previous ones.
pub struct Draft {
    client: QueryClient,
    records: Vec<(QueryKey, Value)>,
}

impl Draft {
    pub fn new(client: QueryClient) -> Self {
        Self {
            client,
            records: Vec::new(),
        }
    }

    fn get(&self, key: &QueryKey) -> Option<Value> {
        self.records
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .or_else(|| self.client.get_query_data(key))
    }

    fn put(&mut self, key: QueryKey, value: Value) {
        match self.records.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.records.push((key, value)),
        }
    }

    /// The booking's detail, and its place in every cached list page.
    pub fn place_booking(&mut self, booking: &Value) {
        if let Some(id) = booking.get("id").and_then(Value::as_str) {
            self.put(akeys::detail(id), booking.clone());
        }
        for key in self.client.keys_with_prefix(&akeys::list_prefix()) {
            let Some(filter) = params_of(&key).and_then(|p| ListFilter::from_params(&p)) else {
                continue;
            };
            if let Some(mut page) = self.get(&key) {
                if place(&mut page, &filter, booking) {
                    self.put(key, page);
                }
            }
        }
    }

    /// A slot taken (+1) or freed (−1): the cached slots of its day and the practitioner's
    /// stats for `day` (`YYYY-MM-DD`).
    pub fn change_slot(
        &mut self,
        facility_id: &str,
        practitioner: &str,
        day: &str,
        change: &SlotChange,
    ) {
        let prefix = |probe: QueryKey| QueryKey::new(probe.parts()[..3].to_vec());
        for key in self
            .client
            .keys_with_prefix(&prefix(keys::slots_for_day(facility_id, &Value::Null)))
        {
            if let Some(mut data) = self.get(&key) {
                if slots::apply(&mut data, change) {
                    self.put(key, data);
                }
            }
        }
        for key in self
            .client
            .keys_with_prefix(&prefix(keys::availability_stats(facility_id, &Value::Null)))
        {
            let for_practitioner = params_of(&key).is_some_and(|p| {
                p.get("resource_id").and_then(Value::as_str) == Some(practitioner)
            });
            if !for_practitioner {
                continue;
            }
            if let Some(mut data) = self.get(&key) {
                if slots::apply_to_stats(&mut data, day, change) {
                    self.put(key, data);
                }
            }
        }
    }

    pub fn into_records(self) -> Vec<(QueryKey, Value)> {
        self.records
    }
}

/// Takes a booking that will never exist out of the cached lists (a refused booking the
/// person replaced or gave up).
pub fn forget_booking(client: &QueryClient, id: &str) {
    for key in client.keys_with_prefix(&akeys::list_prefix()) {
        client.update_query(&key, |page| {
            let removed = page
                .get_mut("results")
                .and_then(Value::as_array_mut)
                .map(|results| {
                    let before = results.len();
                    results.retain(|r| r.get("id").and_then(Value::as_str) != Some(id));
                    (before - results.len()) as i64
                })
                .unwrap_or(0);
            if let Some(count) = page.get("count").and_then(Value::as_i64) {
                page["count"] = Value::from((count - removed).max(0));
            }
        });
    }
    client.remove(&akeys::detail(id));
}

#[cfg(test)]
mod tests {
    use leptos::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::offline::query::provide_query_client;

    fn booking(id: &str, status: &str, slot: &str) -> Value {
        json!({"id": id, "status": status, "facility": {"id": "f"}, "resource": {"id": "doc"},
               "patient": {"id": "p"}, "token_slot": {"id": slot, "start_datetime": "2026-11-23T06:00:00Z"}})
    }

    fn list_key(status: &str) -> QueryKey {
        akeys::list(&ListFilter {
            facility: "f".into(),
            practitioners: vec!["doc".into()],
            statuses: vec![status.into()],
            limit: 20,
            ..Default::default()
        })
    }

    #[test]
    fn a_reschedule_changes_each_cached_query_once_on_top_of_the_other() {
        let owner = Owner::new();
        owner.set();
        let client = provide_query_client();
        let old = booking("b1", "booked", "s1");
        client.set_query_data(
            &list_key("booked"),
            json!({"count": 1, "results": [old.clone()]}),
            false,
        );
        let day_key = keys::slots_for_day("f", &akeys::day_body("doc", "2026-11-23"));
        client.set_query_data(
            &day_key,
            json!({"results": [{"id": "s1", "allocated": 1}, {"id": "s2", "allocated": 0}]}),
            false,
        );
        let stats_key =
            keys::availability_stats("f", &akeys::stats_body("doc", "2026-11-01", "2026-11-30"));
        client.set_query_data(
            &stats_key,
            json!({"2026-11-23": {"total_slots": 9, "booked_slots": 1}}),
            false,
        );
        let other =
            keys::availability_stats("f", &akeys::stats_body("nurse", "2026-11-01", "2026-11-30"));
        client.set_query_data(
            &other,
            json!({"2026-11-23": {"total_slots": 9, "booked_slots": 1}}),
            false,
        );

        let mut draft = Draft::new(client);
        let change = |slot: &str, delta| SlotChange {
            write_id: "w".into(),
            slot_id: slot.into(),
            delta,
        };
        draft.change_slot("f", "doc", "2026-11-23", &change("s1", -1));
        draft.change_slot("f", "doc", "2026-11-23", &change("s2", 1));
        let mut moved = old.clone();
        moved["status"] = json!("rescheduled");
        draft.place_booking(&moved);
        draft.place_booking(&booking("tmp", "booked", "s2"));
        let records = draft.into_records();
        let get = |k: &QueryKey| records.iter().find(|(x, _)| x == k).map(|(_, v)| v.clone());

        let list = get(&list_key("booked")).expect("list changed");
        let ids: Vec<&str> = list["results"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["id"].as_str())
            .collect();
        assert_eq!(
            ids,
            vec!["tmp"],
            "old one left, new one came: one record for the key"
        );
        assert_eq!(list["count"], 1);
        let day = get(&day_key).expect("slots changed");
        assert_eq!(day["results"][0]["allocated"], 0);
        assert_eq!(day["results"][1]["allocated"], 1);
        assert_eq!(
            get(&stats_key).expect("stats")["2026-11-23"]["booked_slots"],
            1,
            "−1 then +1"
        );
        assert!(
            get(&other).is_none(),
            "another practitioner's stats are untouched"
        );
        assert_eq!(
            get(&akeys::detail("b1")).expect("old detail")["status"],
            "rescheduled"
        );
        assert_eq!(
            records
                .iter()
                .filter(|(k, _)| *k == list_key("booked"))
                .count(),
            1
        );
    }
}
