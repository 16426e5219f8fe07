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
                if slots::apply_to_stats(&mut data, day, change.delta) {
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
