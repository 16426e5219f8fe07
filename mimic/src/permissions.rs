//! Role → permission slugs, as CARE's role fixtures grant them (slugs from real responses).

use std::sync::LazyLock;

use serde::Deserialize;
use serde_json::{json, Value};

/// One permission of CARE's catalog (`data/permissions.json`, taken from a real `/role/` answer).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PermissionDef {
    pub name: String,
    pub slug: String,
    pub context: String,
    pub description: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ExtraRole {
    pub description: String,
    pub permissions: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Catalog {
    permissions: Vec<PermissionDef>,
    roles: std::collections::BTreeMap<String, ExtraRole>,
}

static CATALOG: LazyLock<Catalog> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../data/permissions.json")).unwrap_or_default()
});

/// `{name, slug, context, description}` of a slug, as `/role/` lists it.
pub fn describe(slug: &str) -> Value {
    match CATALOG.permissions.iter().find(|p| p.slug == slug) {
        Some(p) => {
            json!({"name": p.name, "slug": p.slug, "context": p.context, "description": p.description})
        }
        None => json!({"name": slug, "slug": slug, "context": "FACILITY", "description": ""}),
    }
}

fn context_of(slug: &str) -> &'static str {
    CATALOG
        .permissions
        .iter()
        .find(|p| p.slug == slug)
        .map(|p| p.context.as_str())
        .unwrap_or("FACILITY")
}

/// The `permissions` a patient retrieve carries: the user's slugs outside the questionnaire,
/// organization and encounter contexts (matches a real care-doctor's 50 of 60).
pub fn patient_permissions(role: Role) -> Vec<&'static str> {
    role.permissions()
        .into_iter()
        .filter(|p| {
            !matches!(
                context_of(p),
                "QUESTIONNAIRE" | "ORGANIZATION" | "FACILITY_ORGANIZATION" | "ENCOUNTER"
            )
        })
        .collect()
}

/// The `permissions` an encounter retrieve carries: encounter and patient contexts (11 for a doctor).
pub fn encounter_permissions(role: Role) -> Vec<&'static str> {
    role.permissions()
        .into_iter()
        .filter(|p| matches!(context_of(p), "ENCOUNTER" | "PATIENT"))
        .collect()
}

/// CARE's eight system roles with their descriptions and slugs, for the `role` table.
pub fn system_roles() -> Vec<(String, String, Vec<String>)> {
    let mut roles: Vec<(String, String, Vec<String>)> = ALL_ROLES
        .iter()
        .map(|r| {
            (
                r.name().to_string(),
                format!("{} at some facility", r.name()),
                r.permissions().into_iter().map(String::from).collect(),
            )
        })
        .collect();
    for (name, extra) in &CATALOG.roles {
        roles.push((
            name.clone(),
            extra.description.clone(),
            extra.permissions.clone(),
        ));
    }
    roles
}

const ALL_ROLES: [Role; 6] = [
    Role::Doctor,
    Role::Nurse,
    Role::Staff,
    Role::Volunteer,
    Role::Administrator,
    Role::FacilityAdmin,
];

/// What a doctor gets at facility level (the `permissions` of a real care-doctor).
pub const DOCTOR: &[&str] = &[
    "can_read_facility",
    "can_read_questionnaire",
    "can_submit_questionnaire",
    "can_view_organization",
    "can_list_organization_users",
    "can_view_facility_organization",
    "can_list_facility_organization_users",
    "can_create_encounter",
    "can_list_encounter",
    "can_write_encounter",
    "can_read_encounter",
    "can_submit_encounter_questionnaire",
    "can_create_patient",
    "can_write_patient",
    "can_list_patients",
    "can_view_clinical_data",
    "can_view_questionnaire_responses",
    "can_submit_patient_questionnaire",
    "can_list_user",
    "can_list_facility_locations",
    "can_read_observation_definition",
    "can_list_devices",
    "can_manage_device_associations_to_encounters",
    "can_read_specimen_definition",
    "can_read_activity_definition",
    "can_write_service_request",
    "can_read_service_request",
    "can_read_healthcare_service",
    "can_write_specimen",
    "can_read_specimen",
    "can_write_diagnostic_report",
    "can_read_diagnostic_report",
    "can_read_charge_item_definition",
    "can_create_charge_item",
    "can_read_charge_item",
    "can_read_account",
    "can_write_payment_reconciliation",
    "can_read_payment_reconciliation",
    "can_write_invoice",
    "can_read_invoice",
    "read_medication_dispense",
    "write_medication_dispense",
    "can_read_product_knowledge",
    "can_read_product",
    "can_read_supply_delivery",
    "can_write_supply_request",
    "can_read_supply_request",
    "can_read_inventory_item",
    "can_apply_tag_config",
    "can_read_tag_config",
    "can_read_patient_identifier_config",
    "can_list_token_category",
    "can_write_token",
    "can_list_token",
    "can_write_schedule",
    "can_list_schedule",
    "can_list_booking",
    "can_write_booking",
    "can_reschedule_booking",
    "can_read_resource_category",
];

/// Extra slugs an administrator holds on top of a doctor's.
const ADMIN_EXTRA: &[&str] = &[
    "can_create_facility",
    "can_update_facility",
    "can_manage_organization",
    "can_manage_organization_users",
    "can_manage_facility_organization",
    "can_manage_facility_organization_users",
    "can_create_user",
    "can_write_schedule",
    "can_view_sync_health",
];

/// Write slugs a volunteer does not hold: CARE's volunteer cannot create or update patients
/// or encounters (a patient update by care-volunteer is a 403).
const VOLUNTEER_DENIED: &[&str] = &[
    "can_create_patient",
    "can_write_patient",
    "can_create_encounter",
    "can_write_encounter",
    "can_submit_encounter_questionnaire",
    "can_submit_patient_questionnaire",
    "can_submit_questionnaire",
    "can_write_service_request",
    "can_write_specimen",
    "can_write_diagnostic_report",
    "can_create_charge_item",
    "can_write_invoice",
    "can_write_payment_reconciliation",
    "can_write_supply_request",
    "write_medication_dispense",
    "can_manage_device_associations_to_encounters",
];

/// The CARE roles of the demo users.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Doctor,
    Nurse,
    Staff,
    Volunteer,
    Administrator,
    FacilityAdmin,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Doctor => "Doctor",
            Role::Nurse => "Nurse",
            Role::Staff => "Staff",
            Role::Volunteer => "Volunteer",
            Role::Administrator => "Administrator",
            Role::FacilityAdmin => "Facility Admin",
        }
    }

    pub fn from_name(name: &str) -> Option<Role> {
        ALL_ROLES.into_iter().find(|r| r.name() == name)
    }

    pub fn permissions(self) -> Vec<&'static str> {
        match self {
            Role::Doctor | Role::Nurse | Role::Staff => DOCTOR.to_vec(),
            Role::Volunteer => DOCTOR
                .iter()
                .copied()
                .filter(|p| !VOLUNTEER_DENIED.contains(p))
                .collect(),
            Role::Administrator | Role::FacilityAdmin => {
                DOCTOR.iter().chain(ADMIN_EXTRA.iter()).copied().collect()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volunteer_cannot_write_patients_but_can_list_them() {
        let p = Role::Volunteer.permissions();
        assert!(!p.contains(&"can_write_patient"));
        assert!(p.contains(&"can_list_patients"));
        assert!(Role::Doctor.permissions().contains(&"can_write_patient"));
        assert_eq!(Role::from_name("Facility Admin"), Some(Role::FacilityAdmin));
    }

    #[test]
    fn catalog_loads_and_scopes_like_real_care() {
        assert!(describe("can_write_patient")["context"] == "PATIENT");
        assert_eq!(patient_permissions(Role::Doctor).len(), 50);
        assert_eq!(encounter_permissions(Role::Doctor).len(), 11);
        assert_eq!(system_roles().len(), 8);
    }
}
