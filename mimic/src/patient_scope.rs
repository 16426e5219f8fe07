//! Which patients a user sees, as CARE's `PatientViewSet.get_queryset` and its
//! `PatientAccess` authorizer decide it (care/security/authorization/patient.py).
//!
//! - A superuser sees every patient.
//! - The list holds the patients whose geo organization is, or lies under, an organization the
//!   user belongs to with a role that can list patients, plus the patients the user is assigned
//!   to directly (`patient_user`).
//! - One patient (retrieve, update, its users) is also visible through an open encounter at a
//!   facility the user belongs to, when the user's role can view clinical data.
//! - Anything else answers CARE's 404, so a patient's existence does not leak.
//!
//! The built-in backend keeps one membership per user: their `geo_organization_id` with their
//! role stands for CARE's `OrganizationUser`, and `facility_user` for the facility's
//! organization membership. The demo's users all sit at the state, so they see every demo
//! patient; a user placed lower in the tree sees only that branch.

use rusqlite::{params, Connection, OptionalExtension, ToSql};

use super::{auth::AuthUser, error::CareError};

/// CARE's `COMPLETED_CHOICES`: encounters that no longer give access to their patient.
const COMPLETED: &str = "'completed', 'cancelled', 'entered_in_error', 'discontinued'";

/// `patient.geo_organization_id` is the organization `?n` or one of its descendants.
pub fn geo_under(n: usize) -> String {
    format!(
        "geo_organization_id IN (WITH RECURSIVE sub(id) AS (SELECT ?{n} UNION ALL
           SELECT o.id FROM organization o JOIN sub ON o.parent_id = sub.id) SELECT id FROM sub)"
    )
}

/// What one user may see.
#[derive(Debug, Clone)]
pub struct Scope {
    user_id: String,
    superuser: bool,
    /// The organization whose branch the user lists (`None`: no such membership or role).
    lists_under: Option<String>,
    views_clinical: bool,
}

impl Scope {
    pub fn of(conn: &Connection, user: &AuthUser) -> Result<Scope, CareError> {
        let geo: Option<String> = conn
            .query_row(
                "SELECT geo_organization_id FROM user WHERE id = ?1",
                params![user.id],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        Ok(Scope {
            user_id: user.id.clone(),
            superuser: user.is_superuser,
            lists_under: geo.filter(|_| user.can("can_list_patients")),
            views_clinical: user.can("can_view_clinical_data"),
        })
    }

    /// The condition a listed patient meets (`None`: every patient), its arguments appended.
    pub fn list_condition(&self, args: &mut Vec<Box<dyn ToSql>>) -> Option<String> {
        if self.superuser {
            return None;
        }
        args.push(Box::new(self.user_id.clone()));
        let assigned = format!(
            "id IN (SELECT patient_id FROM patient_user WHERE user_id = ?{})",
            args.len()
        );
        Some(match &self.lists_under {
            Some(geo) => {
                args.push(Box::new(geo.clone()));
                format!("({assigned} OR {})", geo_under(args.len()))
            }
            None => assigned,
        })
    }

    /// Whether the user sees this one patient.
    pub fn sees(&self, conn: &Connection, patient_id: &str) -> Result<bool, CareError> {
        let mut args: Vec<Box<dyn ToSql>> = vec![Box::new(patient_id.to_string())];
        let Some(listed) = self.list_condition(&mut args) else {
            return Ok(true);
        };
        let mut condition = listed;
        if self.views_clinical {
            args.push(Box::new(self.user_id.clone()));
            condition = format!(
                "({condition} OR EXISTS (SELECT 1 FROM encounter e
                   JOIN facility_user fu ON fu.facility_id = e.facility_id
                   WHERE e.patient_id = patient.id AND e.deleted = 0
                     AND e.status NOT IN ({COMPLETED}) AND fu.user_id = ?{}))",
                args.len()
            );
        }
        Ok(conn.query_row(
            &format!("SELECT EXISTS(SELECT 1 FROM patient WHERE id = ?1 AND {condition})"),
            rusqlite::params_from_iter(args.iter().map(|a| a.as_ref())),
            |r| r.get(0),
        )?)
    }
}

/// Reads under a patient that exists (its records, its encounters): the user needs the
/// `permission` (when one is named) and the patient in scope, else 403 with `refusal`, as
/// CARE's clinical authorizers answer.
pub fn ensure_may_read(
    conn: &Connection,
    user: &AuthUser,
    patient_id: &str,
    permission: Option<&str>,
    refusal: &str,
) -> Result<(), CareError> {
    let permitted = permission.is_none_or(|slug| user.can(slug));
    if permitted && Scope::of(conn, user)?.sees(conn, patient_id)? {
        Ok(())
    } else {
        Err(CareError::Forbidden(refusal.to_string()))
    }
}
