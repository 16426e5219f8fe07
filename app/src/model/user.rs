use serde::{Deserialize, Serialize};

use super::{FacilityRef, Organization};

/// CARE's `UserSpec`, embedded wherever a user appears.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct UserSpec {
    pub id: String,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub user_type: String,
    pub phone_number: Option<String>,
    pub gender: Option<String>,
}

impl UserSpec {
    pub fn full_name(&self) -> String {
        let name = format!("{} {}", self.first_name, self.last_name);
        let name = name.trim();
        if name.is_empty() {
            self.username.clone()
        } else {
            name.to_string()
        }
    }
}

/// `GET /api/v1/users/getcurrentuser/`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct CurrentUser {
    #[serde(flatten)]
    pub user: UserSpec,
    pub is_superuser: bool,
    pub geo_organization: Option<Organization>,
    pub facilities: Vec<FacilityRef>,
    pub permissions: Vec<String>,
}

impl CurrentUser {
    pub fn can(&self, permission: &str) -> bool {
        self.permissions.iter().any(|p| p == permission)
    }

    /// May see every user's sync health (the server decides; this only shows the link).
    pub fn is_sync_admin(&self) -> bool {
        self.is_superuser || self.can("can_view_sync_health")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_real_care_sample_shape() {
        let json = r#"{"id":"f37f","first_name":"Hemal","last_name":"Prabhakar","username":"care-doctor",
            "user_type":"doctor","gender":"male","prefix":"","extra_field":1,
            "facilities":[{"id":"3b9c","name":"Chokshi"}],"permissions":["can_write_patient"],
            "geo_organization":{"id":"78","name":"Tamil Nadu","parent":{}}}"#;
        let u: CurrentUser = serde_json::from_str(json).expect("json");
        assert_eq!(u.user.full_name(), "Hemal Prabhakar");
        assert_eq!(u.facilities[0].name, "Chokshi");
        assert!(u.can("can_write_patient"));
        assert!(!u.can("can_create_facility"));
    }
}
