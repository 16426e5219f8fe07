use serde::{Deserialize, Serialize};

use super::{
    identifier::{FacilityIdentifierConfigs, IdentifierConfig},
    Organization,
};

/// `{id, name}` as listed in the current user's `facilities`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct FacilityRef {
    pub id: String,
    pub name: String,
}

/// `GET /api/v1/facility/{id}/` (the fields the app uses).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Facility {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub address: Option<String>,
    pub pincode: Option<i64>,
    pub phone_number: Option<String>,
    pub facility_type: Option<String>,
    pub geo_organization: Option<Organization>,
    pub permissions: Vec<String>,
    /// Identifiers every patient of the instance may have (some kept by CARE itself).
    pub patient_instance_identifier_configs: Vec<IdentifierConfig>,
    /// Identifiers this facility gives its patients (e.g. a hospital number).
    pub patient_facility_identifier_configs: Vec<IdentifierConfig>,
}

impl Facility {
    pub fn identifier_configs(&self) -> FacilityIdentifierConfigs {
        FacilityIdentifierConfigs {
            instance: self.patient_instance_identifier_configs.clone(),
            facility: self.patient_facility_identifier_configs.clone(),
        }
    }
}
