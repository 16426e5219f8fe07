use serde::{Deserialize, Serialize};

use super::{identifier::PatientIdentifier, Organization, UserSpec};

/// CARE's `{count, results}` page.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Paginated<T> {
    pub count: u64,
    pub results: Vec<T>,
}

/// `POST /patient/search/`: by phone, `partial` items (name, gender, phone, a random id and
/// the first 5 characters of the real id).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct PatientSearch {
    pub partial: bool,
    pub results: Vec<Patient>,
}

/// A patient as `GET /patient/{id}/` returns it (list items leave some fields out, so all
/// of them default).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Patient {
    pub id: String,
    pub name: String,
    pub gender: String,
    pub phone_number: String,
    pub emergency_phone_number: Option<String>,
    pub address: Option<String>,
    pub permanent_address: Option<String>,
    pub pincode: Option<i64>,
    pub blood_group: Option<String>,
    pub date_of_birth: Option<String>,
    pub year_of_birth: Option<i64>,
    pub deceased_datetime: Option<String>,
    pub geo_organization: Option<Organization>,
    pub created_by: Option<UserSpec>,
    pub created_date: Option<String>,
    pub modified_date: Option<String>,
    pub instance_identifiers: Vec<PatientIdentifier>,
    /// Only with `?facility=` on the retrieve: this facility's identifiers.
    pub facility_identifiers: Vec<PatientIdentifier>,
    /// Phone-search items only: the first 5 characters of the real id (their `id` is random).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partial_id: Option<String>,
}

impl Patient {
    /// "Female, 34 y" style summary from what CARE sends (dob or year of birth).
    pub fn gender_label(&self) -> &str {
        match self.gender.as_str() {
            "male" => "Male",
            "female" => "Female",
            "non_binary" => "Non-binary",
            "transgender" => "Transgender",
            _ => "Gender not recorded",
        }
    }

    /// The identifiers typed on the form (CARE keeps the others itself).
    pub fn typed_identifiers(&self) -> impl Iterator<Item = &PatientIdentifier> {
        self.instance_identifiers
            .iter()
            .chain(&self.facility_identifiers)
            .filter(|i| !i.config.config.auto_maintained && !i.value.is_empty())
    }

    pub fn age_in(&self, year: i64) -> Option<i64> {
        let born = self
            .date_of_birth
            .as_deref()
            .and_then(|d| d.get(..4)?.parse::<i64>().ok())
            .or(self.year_of_birth)?;
        Some(year - born)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_items_and_ages() {
        let p: Paginated<Patient> = serde_json::from_str(
            r#"{"count":1,"results":[{"id":"a","name":"Asha","gender":"female","phone_number":"+919800000001",
                "date_of_birth":"1990-05-01","year_of_birth":1990,"instance_tags":[]}]}"#,
        )
        .expect("json");
        assert_eq!(p.results[0].age_in(2026), Some(36));
        assert_eq!(p.results[0].gender_label(), "Female");
        let by_year = Patient {
            year_of_birth: Some(2000),
            ..Default::default()
        };
        assert_eq!(by_year.age_in(2026), Some(26));
        assert_eq!(Patient::default().age_in(2026), None);
    }
}
