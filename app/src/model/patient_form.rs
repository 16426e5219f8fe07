//! The registration form's fields and CARE's validation rules (care-api.md §5 and §10),
//! checked on the device before anything is sent or queued.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::identifier::{check_value, form_message, IdentifierConfig};

pub const GENDERS: &[(&str, &str)] = &[
    ("female", "Female"),
    ("male", "Male"),
    ("transgender", "Transgender"),
    ("non_binary", "Non-binary"),
];

pub const BLOOD_GROUPS: &[(&str, &str)] = &[
    ("A_positive", "A+"),
    ("A_negative", "A−"),
    ("B_positive", "B+"),
    ("B_negative", "B−"),
    ("AB_positive", "AB+"),
    ("AB_negative", "AB−"),
    ("O_positive", "O+"),
    ("O_negative", "O−"),
    ("unknown", "Unknown"),
];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatientForm {
    pub name: String,
    pub phone_number: String,
    pub emergency_phone_number: String,
    pub same_emergency_phone: bool,
    pub gender: String,
    /// "dob" or "age".
    pub age_or_dob: String,
    pub date_of_birth: String,
    pub age: String,
    pub blood_group: String,
    pub address: String,
    pub permanent_address: String,
    pub same_permanent_address: bool,
    pub geo_organization: String,
    pub pincode: String,
    /// Typed identifiers: config id → value.
    pub identifiers: BTreeMap<String, String>,
    /// Configs the patient had a value for when the form opened (an emptied one is sent
    /// empty, which CARE takes as "remove").
    pub had_identifiers: Vec<String>,
}

/// E.164: `+`, a country code, 8–15 digits in all; Indian numbers have 10 digits after +91.
pub fn is_e164(phone: &str) -> bool {
    let Some(digits) = phone.strip_prefix('+') else {
        return false;
    };
    if !digits.chars().all(|c| c.is_ascii_digit()) || digits.starts_with('0') {
        return false;
    }
    match digits.strip_prefix("91") {
        Some(local) => local.len() == 10 && local.starts_with(['6', '7', '8', '9']),
        None => (8..=15).contains(&digits.len()),
    }
}

fn is_date(s: &str) -> bool {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
}

impl PatientForm {
    /// The form for editing a patient as CARE returned it.
    pub fn from_patient(p: &super::Patient) -> Self {
        let emergency = p.emergency_phone_number.clone().unwrap_or_default();
        let permanent = p.permanent_address.clone().unwrap_or_default();
        let address = p.address.clone().unwrap_or_default();
        let (age_or_dob, date_of_birth, age) = match (&p.date_of_birth, p.year_of_birth) {
            (Some(dob), _) => ("dob".to_string(), dob.clone(), String::new()),
            (None, Some(year)) => {
                let now: i64 = chrono::Utc::now()
                    .format("%Y")
                    .to_string()
                    .parse()
                    .unwrap_or(year);
                ("age".to_string(), String::new(), (now - year).to_string())
            }
            (None, None) => ("dob".to_string(), String::new(), String::new()),
        };
        Self {
            name: p.name.clone(),
            phone_number: p.phone_number.clone(),
            same_emergency_phone: emergency.is_empty() || emergency == p.phone_number,
            emergency_phone_number: emergency,
            gender: p.gender.clone(),
            age_or_dob,
            date_of_birth,
            age,
            blood_group: p.blood_group.clone().unwrap_or_default(),
            same_permanent_address: permanent.is_empty() || permanent == address,
            permanent_address: permanent,
            address,
            geo_organization: p
                .geo_organization
                .as_ref()
                .map(|g| g.id.clone())
                .unwrap_or_default(),
            pincode: p.pincode.map(|c| c.to_string()).unwrap_or_default(),
            identifiers: p
                .typed_identifiers()
                .map(|i| (i.config.id.clone(), i.value.clone()))
                .collect(),
            had_identifiers: p.typed_identifiers().map(|i| i.config.id.clone()).collect(),
        }
    }

    /// `validate`, then the identifiers the form asks for (`configs`): the whole body or
    /// every field error, identifiers keyed `identifier.<config id>`.
    pub fn validate_with(
        &self,
        today: chrono::NaiveDate,
        configs: &[IdentifierConfig],
    ) -> Result<Value, Vec<(String, String)>> {
        let mut errors: Vec<(String, String)> = Vec::new();
        let body = match self.validate(today) {
            Ok(body) => Some(body),
            Err(errs) => {
                errors.extend(errs.into_iter().map(|(f, m)| (f.to_string(), m)));
                None
            }
        };
        let mut sent = Vec::new();
        for config in configs {
            let value = self
                .identifiers
                .get(&config.id)
                .map(|v| v.trim().to_string())
                .unwrap_or_default();
            match check_value(config, &value) {
                Err(problem) => errors.push((config.field(), form_message(config, problem))),
                Ok(()) if !value.is_empty() || self.had_identifiers.contains(&config.id) => {
                    sent.push(json!({"config": config.id, "value": value}));
                }
                Ok(()) => {}
            }
        }
        match body {
            Some(mut body) if errors.is_empty() => {
                if !sent.is_empty() {
                    body["identifiers"] = Value::Array(sent);
                }
                Ok(body)
            }
            _ => Err(errors),
        }
    }

    /// The create/update body, or the field errors (field name, message).
    pub fn validate(&self, today: chrono::NaiveDate) -> Result<Value, Vec<(&'static str, String)>> {
        let mut errors = Vec::new();
        let mut body = Map::new();
        let name = self.name.trim();
        if name.is_empty() {
            errors.push(("name", "Enter the patient's name.".to_string()));
        } else if name.chars().count() > 200 {
            errors.push((
                "name",
                "The name can have at most 200 characters.".to_string(),
            ));
        }
        body.insert("name".into(), json!(name));
        let phone = self.phone_number.trim().replace([' ', '-'], "");
        if !is_e164(&phone) {
            errors.push((
                "phone_number",
                "Enter a valid phone number with country code, e.g. +919876543210.".into(),
            ));
        }
        body.insert("phone_number".into(), json!(phone));
        let emergency = if self.same_emergency_phone {
            phone.clone()
        } else {
            self.emergency_phone_number.trim().replace([' ', '-'], "")
        };
        if !emergency.is_empty() {
            if !self.same_emergency_phone && !is_e164(&emergency) {
                errors.push((
                    "emergency_phone_number",
                    "Enter a valid emergency phone number with country code.".into(),
                ));
            }
            body.insert("emergency_phone_number".into(), json!(emergency));
        }
        if GENDERS.iter().any(|(v, _)| *v == self.gender) {
            body.insert("gender".into(), json!(self.gender));
        } else {
            errors.push(("gender", "Choose a gender.".into()));
        }
        if self.age_or_dob == "age" {
            match self.age.trim().parse::<i64>() {
                Ok(age) if (1..=120).contains(&age) => {
                    body.insert("age".into(), json!(age));
                }
                _ => errors.push(("age", "Enter an age between 1 and 120 years.".into())),
            }
        } else if !is_date(&self.date_of_birth) {
            errors.push(("date_of_birth", "Enter the date of birth.".into()));
        } else if chrono::NaiveDate::parse_from_str(&self.date_of_birth, "%Y-%m-%d")
            .is_ok_and(|d| d > today)
        {
            errors.push((
                "date_of_birth",
                "The date of birth cannot be in the future.".into(),
            ));
        } else {
            body.insert("date_of_birth".into(), json!(self.date_of_birth));
        }
        if !self.blood_group.is_empty() {
            if BLOOD_GROUPS.iter().any(|(v, _)| *v == self.blood_group) {
                body.insert("blood_group".into(), json!(self.blood_group));
            } else {
                errors.push(("blood_group", "Choose a blood group from the list.".into()));
            }
        }
        let address = self.address.trim();
        if address.is_empty() {
            errors.push(("address", "Enter the address.".into()));
        }
        body.insert("address".into(), json!(address));
        let permanent = if self.same_permanent_address {
            address
        } else {
            self.permanent_address.trim()
        };
        if permanent.is_empty() {
            errors.push(("permanent_address", "Enter the permanent address.".into()));
        }
        body.insert("permanent_address".into(), json!(permanent));
        if uuid::Uuid::parse_str(&self.geo_organization).is_ok() {
            body.insert("geo_organization".into(), json!(self.geo_organization));
        } else {
            errors.push(("geo_organization", "Choose the patient's area.".into()));
        }
        let pincode = self.pincode.trim();
        if !pincode.is_empty() {
            match pincode.parse::<i64>() {
                Ok(p) if (100_000..=999_999).contains(&p) => {
                    body.insert("pincode".into(), json!(p));
                }
                _ => errors.push(("pincode", "A pincode has 6 digits.".into())),
            }
        }
        if errors.is_empty() {
            Ok(Value::Object(body))
        } else {
            Err(errors)
        }
    }
}

/// CARE's 400 body as (field, message) pairs: pydantic `errors[].loc`, or DRF field lists.
pub fn server_field_errors(body: &Value) -> Vec<(String, String)> {
    if let Some(errors) = body.get("errors").and_then(Value::as_array) {
        return errors
            .iter()
            .map(|e| {
                let field = e
                    .pointer("/loc/0")
                    .and_then(Value::as_str)
                    .unwrap_or("form")
                    .to_string();
                (
                    field,
                    e.get("msg")
                        .and_then(Value::as_str)
                        .unwrap_or("Invalid value")
                        .to_string(),
                )
            })
            .collect();
    }
    match body {
        Value::Object(map) => map
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.pointer("/0")?.as_str()?.to_string())))
            .collect(),
        _ => Vec::new(),
    }
}

/// `server_field_errors`, with CARE's identifier messages (which name no field) put on the
/// identifier's field of the form.
pub fn patient_field_errors(body: &Value, configs: &[IdentifierConfig]) -> Vec<(String, String)> {
    server_field_errors(body)
        .into_iter()
        .map(|(field, msg)| {
            if field == "form" || field == "identifiers" {
                super::identifier::field_error_from_care(configs, &msg).unwrap_or((field, msg))
            } else {
                (field, msg)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(2026, 11, 21).expect("date")
    }

    fn valid() -> PatientForm {
        PatientForm {
            name: "  Asha Nair ".into(),
            phone_number: "+91 98765 43210".into(),
            same_emergency_phone: true,
            gender: "female".into(),
            age_or_dob: "dob".into(),
            date_of_birth: "1990-04-02".into(),
            address: "Fort Kochi".into(),
            same_permanent_address: true,
            geo_organization: "7823a2e0-4d92-4f19-a84d-3810ee66850d".into(),
            pincode: "682001".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_valid_form_becomes_care_s_body() {
        let body = valid().validate(today()).expect("valid");
        assert_eq!(body["name"], "Asha Nair");
        assert_eq!(body["phone_number"], "+919876543210");
        assert_eq!(body["emergency_phone_number"], "+919876543210");
        assert_eq!(body["permanent_address"], "Fort Kochi");
        assert_eq!(body["pincode"], 682001);
        assert!(body.get("age").is_none());
    }

    #[test]
    fn each_rule_reports_its_field() {
        let fields = |f: PatientForm| -> Vec<&'static str> {
            f.validate(today())
                .err()
                .unwrap_or_default()
                .into_iter()
                .map(|(k, _)| k)
                .collect()
        };
        assert_eq!(
            fields(PatientForm {
                name: " ".into(),
                ..valid()
            }),
            vec!["name"]
        );
        assert_eq!(
            fields(PatientForm {
                phone_number: "98765".into(),
                ..valid()
            }),
            vec!["phone_number"]
        );
        assert_eq!(
            fields(PatientForm {
                phone_number: "+9112345".into(),
                ..valid()
            }),
            vec!["phone_number"]
        );
        assert_eq!(
            fields(PatientForm {
                gender: "".into(),
                ..valid()
            }),
            vec!["gender"]
        );
        assert_eq!(
            fields(PatientForm {
                date_of_birth: "2030-01-01".into(),
                ..valid()
            }),
            vec!["date_of_birth"]
        );
        assert_eq!(
            fields(PatientForm {
                age_or_dob: "age".into(),
                age: "0".into(),
                ..valid()
            }),
            vec!["age"]
        );
        assert_eq!(
            fields(PatientForm {
                pincode: "12".into(),
                ..valid()
            }),
            vec!["pincode"]
        );
        assert_eq!(
            fields(PatientForm {
                geo_organization: "".into(),
                ..valid()
            }),
            vec!["geo_organization"]
        );
        assert_eq!(
            fields(PatientForm {
                same_permanent_address: false,
                ..valid()
            }),
            vec!["permanent_address"]
        );
        let by_age = PatientForm {
            age_or_dob: "age".into(),
            age: "34".into(),
            ..valid()
        }
        .validate(today())
        .expect("ok");
        assert_eq!(by_age["age"], 34);
        assert!(by_age.get("date_of_birth").is_none());
    }

    #[test]
    fn an_existing_patient_round_trips_through_the_form() {
        let p: crate::model::Patient = serde_json::from_value(serde_json::json!({
            "id": "p", "name": "Asha", "gender": "female", "phone_number": "+919876543210",
            "emergency_phone_number": "+919876543210", "address": "A", "permanent_address": "A",
            "pincode": 682001, "date_of_birth": "1990-01-02", "blood_group": "O_positive",
            "geo_organization": {"id": "7823a2e0-4d92-4f19-a84d-3810ee66850d", "name": "Kerala"}
        }))
        .expect("patient");
        let body = PatientForm::from_patient(&p)
            .validate(today())
            .expect("valid");
        assert_eq!(body["name"], "Asha");
        assert_eq!(body["pincode"], 682001);
        assert_eq!(
            body["geo_organization"],
            "7823a2e0-4d92-4f19-a84d-3810ee66850d"
        );
        assert_eq!(body["blood_group"], "O_positive");
    }

    #[test]
    fn identifiers_are_checked_and_sent_as_care_takes_them() {
        let configs: Vec<IdentifierConfig> = serde_json::from_value(serde_json::json!([
            {"id": "abha", "status": "active", "config": {"system": "abha", "display": "ABHA number",
              "regex": "^\\d{14}$", "required": true}},
            {"id": "mrn", "status": "active", "config": {"system": "mrn", "display": "Hospital number"}}
        ]))
        .expect("configs");
        let err = valid()
            .validate_with(today(), &configs)
            .expect_err("required");
        assert_eq!(
            err,
            vec![(
                "identifier.abha".to_string(),
                "Enter the ABHA number.".to_string()
            )]
        );
        let mut form = valid();
        form.identifiers.insert("abha".into(), "123".into());
        let err = form.validate_with(today(), &configs).expect_err("pattern");
        assert_eq!(err[0].0, "identifier.abha");
        form.identifiers
            .insert("abha".into(), " 12345678901234 ".into());
        let body = form.validate_with(today(), &configs).expect("valid");
        assert_eq!(
            body["identifiers"],
            serde_json::json!([{"config": "abha", "value": "12345678901234"}]),
            "an empty optional identifier is not sent"
        );
        form.had_identifiers = vec!["mrn".into()];
        let body = form.validate_with(today(), &configs).expect("valid");
        assert_eq!(
            body["identifiers"][1],
            serde_json::json!({"config": "mrn", "value": ""}),
            "an emptied one is removed"
        );
        let mut both = valid();
        both.name = String::new();
        let err = both.validate_with(today(), &configs).expect_err("both");
        assert_eq!(err.len(), 2, "field and identifier errors together");
    }

    #[test]
    fn care_s_identifier_errors_land_on_the_identifier() {
        let configs: Vec<IdentifierConfig> = serde_json::from_value(serde_json::json!([
            {"id": "mrn", "status": "active", "config": {"system": "system.demo/mrn", "display": "Hospital number"}}
        ]))
        .expect("configs");
        let body = serde_json::json!({"errors": [
            {"type": "value_error", "loc": [], "msg": "Value error, Identifier config system.demo/mrn is not unique"},
            {"type": "missing", "loc": ["name"], "msg": "Field required"},
            {"type": "value_error", "loc": [], "msg": "Value error, something else"}
        ]});
        assert_eq!(
            patient_field_errors(&body, &configs),
            vec![
                (
                    "identifier.mrn".to_string(),
                    "Another patient already has this Hospital number.".to_string()
                ),
                ("name".to_string(), "Field required".to_string()),
                (
                    "form".to_string(),
                    "Value error, something else".to_string()
                ),
            ]
        );
    }

    #[test]
    fn phone_rules() {
        assert!(is_e164("+919876543210"));
        assert!(!is_e164("+911234567890"), "Indian mobiles start 6-9");
        assert!(is_e164("+14155550123"));
        assert!(!is_e164("919876543210"));
        assert!(!is_e164("+91987654321x"));
    }

    #[test]
    fn server_errors_map_to_fields() {
        let pydantic = serde_json::json!({"errors": [{"type": "missing", "loc": ["geo_organization"], "msg": "Field required"}]});
        assert_eq!(
            server_field_errors(&pydantic),
            vec![("geo_organization".to_string(), "Field required".to_string())]
        );
        let drf = serde_json::json!({"phone_number": ["Invalid"]});
        assert_eq!(
            server_field_errors(&drf),
            vec![("phone_number".to_string(), "Invalid".to_string())]
        );
    }
}
