//! Every write the app can queue: its method and path template, how its payload becomes
//! the API's response shape for the optimistic cache entry, and which cached queries it
//! touches (seed 001's syncrouteKey registry).

pub mod appointment;
mod encounter;
pub mod patient;

pub use patient::{normalize_patient, normalize_resource};

use super::Op;
use crate::offline::query::QueryKey;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    Post,
    Put,
}

#[derive(Debug, Clone, Copy)]
pub struct SyncRoute {
    pub key: &'static str,
    pub op: Op,
    pub resource_type: &'static str,
    pub method: HttpMethod,
    /// `/patient/{patient_id}/` — placeholders are filled from the record's path params.
    pub path: &'static str,
    /// For updates: the GET path of the record, to compare `modified_date` before sending.
    pub current: Option<&'static str>,
    /// Query prefixes to invalidate once the server has answered.
    pub invalidates: &'static [&'static [&'static str]],
    /// Label shown on the sync page.
    pub label: &'static str,
}

/// Every route, from the workflow modules.
pub fn all() -> impl Iterator<Item = &'static SyncRoute> {
    [patient::ROUTES, encounter::ROUTES, appointment::ROUTES]
        .into_iter()
        .flatten()
}

pub fn route(key: &str) -> Option<&'static SyncRoute> {
    all().find(|r| r.key == key)
}

impl SyncRoute {
    /// The path param naming the record a write acts on: the path's last placeholder
    /// (`/facility/{facility_id}/appointments/{appointment_id}/cancel/` → `appointment_id`).
    pub fn record_param(&self) -> Option<&'static str> {
        let end = self.path.rfind('}')?;
        let start = self.path[..end].rfind('{')?;
        Some(&self.path[start + 1..end])
    }

    pub fn invalidation_keys(&self) -> Vec<QueryKey> {
        self.invalidates
            .iter()
            .map(|parts| QueryKey::new(parts.iter().copied()))
            .collect()
    }
}

/// A page where a person can settle a write that failed for good, with the action's label
/// (a booking whose slot was taken meanwhile: choose another slot).
pub fn resolve_link(record: &super::OutboxRecord) -> Option<(&'static str, String)> {
    appointment::choose_another_slot(record).map(|href| ("Choose another slot", href))
}

/// Fills `{name}` placeholders; None when one is missing.
pub fn fill_path(
    template: &str,
    params: &std::collections::BTreeMap<String, String>,
) -> Option<String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}')? + start;
        out.push_str(params.get(&rest[start + 1..end])?);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn paths_fill_or_refuse() {
        let mut p = BTreeMap::new();
        p.insert("patient_id".to_string(), "abc".to_string());
        assert_eq!(
            fill_path("/patient/{patient_id}/", &p).as_deref(),
            Some("/patient/abc/")
        );
        assert_eq!(fill_path("/patient/", &p).as_deref(), Some("/patient/"));
        assert_eq!(fill_path("/encounter/{encounter_id}/", &p), None);
    }

    #[test]
    fn every_route_is_findable_and_its_path_fillable() {
        let mut seen = std::collections::HashSet::new();
        for r in all() {
            assert!(seen.insert(r.key), "{} twice", r.key);
            assert_eq!(route(r.key).map(|x| x.key), Some(r.key));
            assert!(!r.invalidation_keys().is_empty());
        }
        assert!(route("nope").is_none());
    }

    #[test]
    fn the_record_param_is_the_last_placeholder() {
        let find = |k| route(k).and_then(SyncRoute::record_param);
        assert_eq!(find("patient.update"), Some("patient_id"));
        assert_eq!(find("appointment.cancel"), Some("appointment_id"));
        assert_eq!(find("appointment.update"), Some("appointment_id"));
        assert_eq!(find("patient.create"), None);
    }
}
