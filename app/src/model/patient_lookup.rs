//! CARE's find-a-patient flow over what this device has cached, for when the server cannot
//! be asked: phone → partial matches (name, gender, phone, the first 5 characters of the
//! id) → year of birth → the patient. Pure functions over cached JSON.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{identifier::IdentifierConfig, Patient};

/// How many characters of the real id CARE's phone search reveals.
pub const PARTIAL_ID_LEN: usize = 5;

/// Normalises what a person types as a phone number: spaces, dashes and brackets go; ten
/// digits get India's +91 (CARE's default country); the result must be E.164.
pub fn normalize_phone(input: &str) -> Result<String, String> {
    let compact: String = input
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
        .collect();
    let candidate = if compact.len() == 10 && compact.chars().all(|c| c.is_ascii_digit()) {
        format!("+91{compact}")
    } else {
        compact
    };
    if super::patient_form::is_e164(&candidate) {
        Ok(candidate)
    } else {
        Err("Enter the phone number with its country code, like +91 98765 43210.".into())
    }
}

/// Every full patient record in the cached values (list pages, details, retrieves), once
/// each; phone-search items (partial) are not full records and are skipped.
pub fn cached_patients<'a>(values: impl IntoIterator<Item = &'a Value>) -> Vec<Patient> {
    let mut found: BTreeMap<String, Patient> = BTreeMap::new();
    let mut take = |v: &Value| {
        if v.get("partial_id").is_some() || v.get("phone_number").is_none() {
            return;
        }
        if let Ok(p) = serde_json::from_value::<Patient>(v.clone()) {
            if p.id.is_empty() {
                return;
            }
            // List items carry no identifiers, a retrieve without `?facility=` (a verified
            // search) only the instance's: the patient gets every identifier any record has.
            match found.get_mut(&p.id) {
                Some(known) => {
                    for (mine, theirs) in [
                        (&mut known.instance_identifiers, p.instance_identifiers),
                        (&mut known.facility_identifiers, p.facility_identifiers),
                    ] {
                        for i in theirs {
                            if !mine.iter().any(|m| m.config.id == i.config.id) {
                                mine.push(i);
                            }
                        }
                    }
                }
                None => {
                    found.insert(p.id.clone(), p);
                }
            }
        }
    };
    for value in values {
        match value.get("results").and_then(Value::as_array) {
            Some(items) => items.iter().for_each(&mut take),
            None => take(value),
        }
    }
    found.into_values().collect()
}

/// The year a patient was born, from the date of birth or CARE's `year_of_birth`.
pub fn birth_year(p: &Patient) -> Option<i64> {
    p.date_of_birth
        .as_deref()
        .and_then(|d| d.get(..4)?.parse().ok())
        .or(p.year_of_birth)
}

/// A search item as CARE's `PatientPartialSpec` reveals it: name, gender, phone and the
/// first characters of the id.
fn partial_of(p: &Patient) -> Patient {
    Patient {
        id: p.id.clone(),
        name: p.name.clone(),
        gender: p.gender.clone(),
        phone_number: p.phone_number.clone(),
        partial_id: Some(p.id.chars().take(PARTIAL_ID_LEN).collect()),
        ..Default::default()
    }
}

/// Phone-search items, as CARE returns them, for the cached patients with this phone.
pub fn partial_matches(patients: &[Patient], phone: &str) -> Vec<Patient> {
    patients
        .iter()
        .filter(|p| p.phone_number == phone)
        .map(partial_of)
        .collect()
}

/// CARE's search by an identifier config over cached patients: the value is compared without
/// regard to case (`iexact`); a config retrieved with the year of birth gives partial items
/// (to verify like a phone search), any other the patients themselves. (results, partial)
pub fn identifier_matches(
    patients: &[Patient],
    config: &IdentifierConfig,
    value: &str,
) -> (Vec<Patient>, bool) {
    let value = value.trim().to_lowercase();
    let holders = patients.iter().filter(|p| {
        p.instance_identifiers
            .iter()
            .chain(&p.facility_identifiers)
            .any(|i| i.config.id == config.id && i.value.to_lowercase() == value)
    });
    if with_year_of_birth(config) {
        (holders.map(partial_of).collect(), true)
    } else {
        (holders.cloned().collect(), false)
    }
}

/// The config is retrieved with the year of birth (CARE answers its search with partials).
pub fn with_year_of_birth(config: &IdentifierConfig) -> bool {
    config
        .config
        .retrieve_config
        .get("retrieve_with_year_of_birth")
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// `search_retrieve` over cached patients: phone, year of birth and partial id must all match.
pub fn verify<'a>(
    patients: &'a [Patient],
    phone: &str,
    year_of_birth: i64,
    partial_id: &str,
) -> Option<&'a Patient> {
    patients.iter().find(|p| {
        p.phone_number == phone
            && birth_year(p) == Some(year_of_birth)
            && partial_id.len() == PARTIAL_ID_LEN
            && p.id.starts_with(partial_id)
    })
}

/// A 4-digit year of birth not in the future.
pub fn parse_year_of_birth(input: &str, this_year: i64) -> Result<i64, String> {
    let input = input.trim();
    match input.parse::<i64>() {
        Ok(y) if input.len() == 4 && (1900..=this_year).contains(&y) => Ok(y),
        _ => Err(format!(
            "Enter the year of birth as 4 digits, 1900–{this_year}."
        )),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn cache() -> Vec<Value> {
        vec![
            json!({"count": 2, "results": [
                {"id": "abcde-111", "name": "Asha", "gender": "female", "phone_number": "+919800000001", "year_of_birth": 1990},
                {"id": "fghij-222", "name": "Ravi", "gender": "male", "phone_number": "+919800000001", "date_of_birth": "1985-04-02"}
            ]}),
            json!({"id": "abcde-111", "name": "Asha", "gender": "female", "phone_number": "+919800000001", "year_of_birth": 1990, "address": "x"}),
            json!({"partial": true, "results": [{"id": "random", "name": "Asha", "phone_number": "+919800000001", "partial_id": "abcde"}]}),
            json!({"id": "klmno-333", "name": "Meena", "gender": "female", "phone_number": "+919800000002", "year_of_birth": 2001}),
            json!({"results": [{"id": "x", "display": "not a patient"}]}),
        ]
    }

    #[test]
    fn phones_are_normalised_or_refused() {
        assert_eq!(
            normalize_phone("98000 00001").as_deref(),
            Ok("+919800000001")
        );
        assert_eq!(
            normalize_phone("+91 9800-000001").as_deref(),
            Ok("+919800000001")
        );
        assert!(normalize_phone("12345").is_err());
        assert!(normalize_phone("").is_err());
    }

    #[test]
    fn cached_records_are_found_once_and_partials_skipped() {
        let values = cache();
        let all = cached_patients(values.iter());
        let ids: Vec<&str> = all.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, vec!["abcde-111", "fghij-222", "klmno-333"]);
    }

    #[test]
    fn phone_search_reveals_only_partial_fields() {
        let values = cache();
        let all = cached_patients(values.iter());
        let found = partial_matches(&all, "+919800000001");
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].partial_id.as_deref(), Some("abcde"));
        assert!(found[0].year_of_birth.is_none() && found[0].address.is_none());
        assert!(partial_matches(&all, "+919899999999").is_empty());
    }

    #[test]
    fn verification_needs_phone_year_and_id_prefix() {
        let values = cache();
        let all = cached_patients(values.iter());
        assert_eq!(
            verify(&all, "+919800000001", 1990, "abcde").map(|p| p.name.as_str()),
            Some("Asha")
        );
        // Year from the date of birth.
        assert_eq!(
            verify(&all, "+919800000001", 1985, "fghij").map(|p| p.name.as_str()),
            Some("Ravi")
        );
        assert!(verify(&all, "+919800000001", 1991, "abcde").is_none());
        assert!(verify(&all, "+919800000001", 1990, "fghij").is_none());
        assert!(verify(&all, "+919800000002", 1990, "abcde").is_none());
        assert!(verify(&all, "+919800000001", 1990, "abc").is_none());
    }

    #[test]
    fn identifier_search_over_the_device_like_care() {
        let abha = |v: &str| json!({"config": {"id": "abha", "config": {"display": "ABHA number"}}, "value": v});
        let mrn = |v: &str| json!({"config": {"id": "mrn", "config": {"display": "Hospital number"}}, "value": v});
        let values = [
            // The list item has no identifiers; a verified search's retrieve only the
            // instance's; the profile's retrieve (with the facility) both.
            json!({"results": [{"id": "abcde-111", "name": "Asha", "gender": "female", "phone_number": "+919800000001"}]}),
            json!({"id": "abcde-111", "name": "Asha", "gender": "female", "phone_number": "+919800000001",
                   "instance_identifiers": [abha("12-3456-7890-1234")]}),
            json!({"id": "abcde-111", "name": "Asha", "gender": "female", "phone_number": "+919800000001",
                   "instance_identifiers": [abha("12-3456-7890-1234")], "facility_identifiers": [mrn("CDH-7")]}),
            json!({"id": "fghij-222", "name": "Ravi", "gender": "male", "phone_number": "+919800000002",
                   "facility_identifiers": [mrn("CDH-8")]}),
        ];
        let all = cached_patients(values.iter());
        let config = |id: &str, yob: bool| -> IdentifierConfig {
            serde_json::from_value(json!({"id": id, "status": "active",
                "config": {"retrieve_config": {"retrieve_with_year_of_birth": yob}}}))
            .expect("config")
        };
        let (found, partial) =
            identifier_matches(&all, &config("abha", true), " 12-3456-7890-1234 ");
        assert!(partial);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].partial_id.as_deref(), Some("abcde"));
        assert!(
            found[0].instance_identifiers.is_empty(),
            "a partial reveals no more than CARE's"
        );
        let (found, partial) = identifier_matches(&all, &config("mrn", false), "cdh-8");
        assert!(!partial);
        assert_eq!(
            found.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
            vec!["Ravi"]
        );
        assert!(identifier_matches(&all, &config("mrn", false), "CDH-9")
            .0
            .is_empty());
    }

    #[test]
    fn years_of_birth_are_four_digits_not_in_the_future() {
        assert_eq!(parse_year_of_birth(" 1990 ", 2026), Ok(1990));
        assert!(parse_year_of_birth("2027", 2026).is_err());
        assert!(parse_year_of_birth("90", 2026).is_err());
        assert!(parse_year_of_birth("abcd", 2026).is_err());
    }
}
