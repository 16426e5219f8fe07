//! Patient identifiers (CARE's `PatientIdentifierConfig`): which ones a registration form asks
//! for, CARE's rules for a value, and CARE's messages about them. The built-in backend checks
//! values with the same functions, so the device and the server never disagree on a pattern.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// A config as the facility retrieve lists it (`patient_instance_identifier_configs`,
/// `patient_facility_identifier_configs`) and as a patient's identifiers embed it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct IdentifierConfig {
    pub id: String,
    pub config: IdentifierRules,
    pub status: String,
}

/// CARE's `IdentifierConfig`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct IdentifierRules {
    #[serde(rename = "use")]
    pub use_: String,
    pub description: String,
    pub system: String,
    pub required: bool,
    pub unique: bool,
    pub regex: String,
    pub display: String,
    /// An expression CARE evaluates to fill the value when none is given.
    pub default_value: Option<String>,
    /// Kept by CARE itself (from the name or phone): never typed, never sent.
    pub auto_maintained: bool,
    pub retrieve_config: Value,
}

/// One of a patient's identifiers (`instance_identifiers[]`, `facility_identifiers[]`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct PatientIdentifier {
    pub config: IdentifierConfig,
    pub value: String,
}

/// What is wrong with a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    Required,
    Invalid,
    NotUnique,
}

impl IdentifierConfig {
    /// Asked for on the registration form: active (a CARE that lists no status lists only
    /// active ones) and not kept by CARE itself.
    pub fn typed_on_form(&self) -> bool {
        matches!(self.status.as_str(), "active" | "") && !self.config.auto_maintained
    }

    /// The name a health worker knows it by.
    pub fn label(&self) -> &str {
        if self.config.display.trim().is_empty() {
            &self.config.system
        } else {
            &self.config.display
        }
    }

    /// The form must have a value: required, and CARE has no expression to fill it.
    pub fn needs_value(&self) -> bool {
        self.config.required
            && self
                .config
                .default_value
                .as_deref()
                .is_none_or(|d| d.trim().is_empty())
    }

    /// The form field's key in (field, message) error lists.
    pub fn field(&self) -> String {
        field_of(&self.id)
    }
}

/// The form field's key for a config id.
pub fn field_of(config_id: &str) -> String {
    format!("identifier.{config_id}")
}

/// Whether `value` fits `pattern` as Python's `re.match` decides (a match starting at the
/// first character; the end is free). None when the pattern is not one this engine reads:
/// the server then has the last word.
pub fn fits_pattern(pattern: &str, value: &str) -> Option<bool> {
    if pattern.is_empty() {
        return Some(true);
    }
    let re = regex_lite::Regex::new(&format!("^(?:{pattern})")).ok()?;
    Some(re.is_match(value))
}

/// CARE's checks of one value that need no other patient: required (when given empty) and
/// the pattern. Uniqueness is the server's.
pub fn check_value(config: &IdentifierConfig, value: &str) -> Result<(), Problem> {
    if value.is_empty() {
        return if config.needs_value() {
            Err(Problem::Required)
        } else {
            Ok(())
        };
    }
    match fits_pattern(&config.config.regex, value) {
        Some(false) => Err(Problem::Invalid),
        _ => Ok(()),
    }
}

/// CARE's own words for a problem (`Identifier config <system> is required` …).
pub fn care_message(config: &IdentifierConfig, problem: Problem) -> String {
    let what = match problem {
        Problem::Required => "is required",
        Problem::Invalid => "is not valid",
        Problem::NotUnique => "is not unique",
    };
    format!("Identifier config {} {what}", config.config.system)
}

/// What the form says under the field.
pub fn form_message(config: &IdentifierConfig, problem: Problem) -> String {
    let label = config.label();
    match problem {
        Problem::Required => format!("Enter the {label}."),
        Problem::Invalid if config.config.description.trim().is_empty() => {
            format!("This is not a valid {label}.")
        }
        Problem::Invalid => format!(
            "This is not a valid {label} ({}).",
            config.config.description.trim()
        ),
        Problem::NotUnique => format!("Another patient already has this {label}."),
    }
}

/// CARE names the config by its system in a 400 (`Value error, Identifier config <system> is
/// not unique`): the field and the form's message for it, when one of `configs` is named.
pub fn field_error_from_care(configs: &[IdentifierConfig], msg: &str) -> Option<(String, String)> {
    let rest = msg.split("Identifier config ").nth(1)?;
    let config = configs
        .iter()
        .filter(|c| rest.starts_with(&format!("{} ", c.config.system)))
        .max_by_key(|c| c.config.system.len())?;
    let problem = if rest.ends_with("is required") {
        Problem::Required
    } else if rest.ends_with("is not unique") {
        Problem::NotUnique
    } else {
        Problem::Invalid
    };
    Some((config.field(), form_message(config, problem)))
}

/// The identifiers a create or update body sends, as the patient's retrieve will list them:
/// (instance, facility). Unknown configs and empty values are left out.
pub fn as_listed(configs: &FacilityIdentifierConfigs, sent: &Value) -> (Vec<Value>, Vec<Value>) {
    let mut instance = Vec::new();
    let mut facility = Vec::new();
    for item in sent.as_array().into_iter().flatten() {
        let (Some(id), Some(value)) = (
            item.get("config").and_then(Value::as_str),
            item.get("value").and_then(Value::as_str),
        ) else {
            continue;
        };
        if value.is_empty() {
            continue;
        }
        if let Some(c) = configs.instance.iter().find(|c| c.id == id) {
            instance.push(json!({"config": c, "value": value}));
        } else if let Some(c) = configs.facility.iter().find(|c| c.id == id) {
            facility.push(json!({"config": c, "value": value}));
        }
    }
    (instance, facility)
}

/// Applies a create or update body's `identifiers` to a patient record as the device shows
/// it: a value replaces that config's entry, an empty value removes it; others stay.
pub fn apply_to_record(record: &mut Value, configs: &FacilityIdentifierConfigs, sent: &Value) {
    let Some(items) = sent.as_array() else { return };
    for (list, known) in [
        ("instance_identifiers", &configs.instance),
        ("facility_identifiers", &configs.facility),
    ] {
        let mut current: Vec<Value> = record
            .get(list)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for item in items {
            let (Some(id), Some(value)) = (
                item.get("config").and_then(Value::as_str),
                item.get("value").and_then(Value::as_str),
            ) else {
                continue;
            };
            let Some(config) = known.iter().find(|c| c.id == id) else {
                continue;
            };
            current.retain(|e| e.pointer("/config/id").and_then(Value::as_str) != Some(id));
            if !value.is_empty() {
                current.push(json!({"config": config, "value": value}));
            }
        }
        record[list] = Value::Array(current);
    }
}

/// A facility's two lists of configs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FacilityIdentifierConfigs {
    pub instance: Vec<IdentifierConfig>,
    pub facility: Vec<IdentifierConfig>,
}

impl FacilityIdentifierConfigs {
    /// The configs typed on the form: the instance's first, then the facility's.
    pub fn typed_on_form(&self) -> Vec<IdentifierConfig> {
        self.instance
            .iter()
            .chain(&self.facility)
            .filter(|c| c.typed_on_form())
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(id: &str, regex: &str, required: bool) -> IdentifierConfig {
        serde_json::from_value(json!({
            "id": id, "status": "active",
            "config": {"use": "official", "system": format!("system.example/{id}"), "display": "ABHA number",
                       "regex": regex, "required": required, "unique": true,
                       "description": "14 digits", "auto_maintained": false}
        }))
        .expect("config")
    }

    #[test]
    fn a_pattern_is_matched_from_the_start_like_python() {
        assert_eq!(fits_pattern(r"\d{2}-\d{4}", "12-3456"), Some(true));
        assert_eq!(
            fits_pattern(r"\d{2}-\d{4}", "12-34567"),
            Some(true),
            "re.match leaves the end free"
        );
        assert_eq!(fits_pattern(r"\d{2}-\d{4}", "x12-3456"), Some(false));
        assert_eq!(fits_pattern(r"\d{2}-\d{4}$", "12-34567"), Some(false));
        assert_eq!(fits_pattern("", "anything"), Some(true));
        assert_eq!(fits_pattern("(unclosed", "x"), None);
    }

    #[test]
    fn required_invalid_and_fine_values() {
        let abha = config("a", r"^\d{2}-\d{4}-\d{4}-\d{4}$", true);
        assert_eq!(check_value(&abha, ""), Err(Problem::Required));
        assert_eq!(check_value(&abha, "12-3456"), Err(Problem::Invalid));
        assert_eq!(check_value(&abha, "12-3456-7890-1234"), Ok(()));
        let optional = config("b", r"^\d+$", false);
        assert_eq!(check_value(&optional, ""), Ok(()));
        let mut generated = config("c", "", true);
        generated.config.default_value = Some("patient.id".into());
        assert_eq!(
            check_value(&generated, ""),
            Ok(()),
            "CARE fills a value from its expression"
        );
        assert_eq!(check_value(&config("d", "(bad", false), "x"), Ok(()));
    }

    #[test]
    fn care_s_messages_map_back_to_the_field() {
        let configs = vec![config("a", "", false), config("ab", "", false)];
        let msg = format!(
            "Value error, {}",
            care_message(&configs[1], Problem::NotUnique)
        );
        assert_eq!(
            field_error_from_care(&configs, &msg),
            Some((
                "identifier.ab".to_string(),
                "Another patient already has this ABHA number.".to_string()
            ))
        );
        assert_eq!(
            field_error_from_care(
                &configs,
                "Value error, Identifier config system.example/a is required"
            ),
            Some((
                "identifier.a".to_string(),
                "Enter the ABHA number.".to_string()
            ))
        );
        assert_eq!(field_error_from_care(&configs, "Field required"), None);
        assert_eq!(
            field_error_from_care(&configs, "Identifier config other/system is not valid"),
            None
        );
    }

    #[test]
    fn sent_identifiers_are_listed_and_applied_like_the_retrieve() {
        let configs = FacilityIdentifierConfigs {
            instance: vec![config("a", "", false)],
            facility: vec![config("m", "", false)],
        };
        let sent = json!([
            {"config": "a", "value": "12"},
            {"config": "m", "value": "MRN-1"},
            {"config": "unknown", "value": "x"},
            {"config": "a", "value": ""}
        ]);
        let (instance, facility) = as_listed(&configs, &json!([sent[0], sent[1], sent[2]]));
        assert_eq!(instance.len(), 1);
        assert_eq!(instance[0]["value"], "12");
        assert_eq!(instance[0]["config"]["id"], "a");
        assert_eq!(facility[0]["value"], "MRN-1");

        let mut record = json!({"instance_identifiers": [
            {"config": {"id": "auto"}, "value": "+91980"},
            {"config": {"id": "a"}, "value": "old"}
        ]});
        apply_to_record(
            &mut record,
            &configs,
            &json!([{"config": "a", "value": "new"}, {"config": "m", "value": "MRN-2"}]),
        );
        let values: Vec<&str> = record["instance_identifiers"]
            .as_array()
            .expect("list")
            .iter()
            .filter_map(|e| e["value"].as_str())
            .collect();
        assert_eq!(
            values,
            vec!["+91980", "new"],
            "the auto-maintained one stays"
        );
        assert_eq!(record["facility_identifiers"][0]["value"], "MRN-2");
        apply_to_record(
            &mut record,
            &configs,
            &json!([{"config": "a", "value": ""}]),
        );
        assert_eq!(
            record["instance_identifiers"].as_array().map(Vec::len),
            Some(1)
        );
    }

    #[test]
    fn the_form_asks_for_active_configs_not_kept_by_care() {
        let mut auto = config("auto", "", false);
        auto.config.auto_maintained = true;
        let mut inactive = config("old", "", false);
        inactive.status = "inactive".into();
        let configs = FacilityIdentifierConfigs {
            instance: vec![auto, config("a", "", false), inactive],
            facility: vec![config("m", "", false)],
        };
        let ids: Vec<String> = configs.typed_on_form().into_iter().map(|c| c.id).collect();
        assert_eq!(ids, vec!["a", "m"]);
        let mut unstated = config("u", "", false);
        unstated.status = String::new();
        assert!(
            unstated.typed_on_form(),
            "no status listed: taken as active"
        );
    }
}
