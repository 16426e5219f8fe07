use serde::{Deserialize, Serialize};

use super::Organization;

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
}
