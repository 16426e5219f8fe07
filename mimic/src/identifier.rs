//! Patient identifiers (CARE's `PatientIdentifierConfig` / `PatientIdentifier`): the configs
//! the facility retrieve lists, the checks of a create or update body's `identifiers`, the
//! stored values and how a patient's retrieve lists them.
//!
//! The rules for one value (required, pattern) are the app's (`app::model::identifier`), so
//! the device and this backend agree; uniqueness needs the database and is checked here.

use app::model::identifier::{care_message, check_value, IdentifierConfig, Problem};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Value};

use super::{error::CareError, validate::Checker};

/// The two configs CARE's local settings keep from the name and the phone (ids as in the
/// captured samples, so a client that cached them keeps working).
pub const NAME_CONFIG_ID: &str = "d736aba9-2993-4d7c-9cdf-0372a7c9db3a";
pub const PHONE_CONFIG_ID: &str = "46d0696b-183c-4a41-8484-b9836999daa6";
/// The demo instance's national health id and the demo facility's hospital number.
pub const ABHA_CONFIG_ID: &str = "0b1f5c3e-6a0d-4c4e-9a52-2f0f6f1c8a11";
pub const MRN_CONFIG_ID: &str = "5d2a9e47-8b1c-4f3a-b6d0-7c4e1a9f2b35";

fn retrieve_config(partial: bool, yob: bool) -> Value {
    json!({
        "retrieve_with_dob": false,
        "retrieve_with_otp": false,
        "retrieve_partial_search": partial,
        "retrieve_with_year_of_birth": yob
    })
}

/// Seeds the demo configs (once).
pub fn seed(tx: &Connection, demo_facility: Option<&str>) -> Result<(), CareError> {
    let auto = |system: &str, display: &str, partial: bool, yob: bool| {
        json!({
            "use": "secondary", "regex": "", "system": system, "unique": false,
            "display": display, "required": false, "description": "",
            "default_value": null, "auto_maintained": true,
            "retrieve_config": retrieve_config(partial, yob)
        })
    };
    let rows = [
        (
            NAME_CONFIG_ID,
            None,
            auto(
                "system.care.ohc.network/patient-name",
                "Patient Name",
                true,
                false,
            ),
        ),
        (
            PHONE_CONFIG_ID,
            None,
            auto(
                "system.care.ohc.network/patient-phone-number",
                "Patient Phone Number",
                false,
                true,
            ),
        ),
        (
            ABHA_CONFIG_ID,
            None,
            json!({
                "use": "official", "regex": r"^\d{2}-\d{4}-\d{4}-\d{4}$",
                "system": "https://healthid.abdm.gov.in/abha-number", "unique": true,
                "display": "ABHA number", "required": false,
                "description": "14 digits as 12-3456-7890-1234",
                "default_value": null, "auto_maintained": false,
                "retrieve_config": retrieve_config(false, true)
            }),
        ),
        (
            MRN_CONFIG_ID,
            demo_facility,
            json!({
                "use": "usual", "regex": r"^[A-Z]{2,4}-\d{3,8}$",
                "system": "system.care.demo/hospital-number", "unique": true,
                "display": "Hospital number", "required": false,
                "description": "letters, a dash and digits, e.g. CDH-1042",
                "default_value": null, "auto_maintained": false,
                "retrieve_config": retrieve_config(false, false)
            }),
        ),
    ];
    for (seq, (id, facility, config)) in rows.into_iter().enumerate() {
        if facility.is_none() && id == MRN_CONFIG_ID {
            continue;
        }
        tx.execute(
            "INSERT OR IGNORE INTO patient_identifier_config (id, facility_id, config, status, seq)
             VALUES (?1, ?2, ?3, 'active', ?4)",
            params![id, facility, config.to_string(), seq as i64],
        )?;
    }
    Ok(())
}

fn read_config(r: &rusqlite::Row<'_>) -> rusqlite::Result<(Value, Option<String>)> {
    let id: String = r.get(0)?;
    let config: String = r.get(1)?;
    let status: String = r.get(2)?;
    let facility: Option<String> = r.get(3)?;
    let config: Value = serde_json::from_str(&config).unwrap_or(Value::Null);
    Ok((
        json!({"id": id, "config": config, "status": status}),
        facility,
    ))
}

/// One config as CARE lists it (`{id, config, status}`) and its facility (None: instance).
pub fn config(conn: &Connection, id: &str) -> Result<Option<(Value, Option<String>)>, CareError> {
    Ok(conn
        .query_row(
            "SELECT id, config, status, facility_id FROM patient_identifier_config WHERE id = ?1",
            params![id],
            read_config,
        )
        .optional()?)
}

/// The instance's configs (`facility = None`) or a facility's, in their order.
pub fn configs(conn: &Connection, facility: Option<&str>) -> Result<Vec<Value>, CareError> {
    let mut stmt = conn.prepare(
        "SELECT id, config, status, facility_id FROM patient_identifier_config
         WHERE facility_id IS ?1 ORDER BY seq, id",
    )?;
    let rows = stmt
        .query_map(params![facility], read_config)?
        .map(|r| r.map(|(v, _)| v))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// An identifier of a body, checked: its config and the value (empty: remove).
pub struct Checked {
    config_id: String,
    value: String,
}

/// CARE's checks of `identifiers` (already shape-checked): every config must exist (404 as
/// CARE's `get_object_or_404`); the instance's required configs must be given on a create
/// and never emptied; values must fit the pattern and, where the config says unique, belong
/// to no other patient. Errors are pydantic's (`loc` [] on a create's model validator,
/// `["identifiers"]` on an update's field validator), gathered into `c`.
pub fn check(
    conn: &Connection,
    c: &mut Checker<'_>,
    items: &[(String, String)],
    patient: Option<&str>,
) -> Result<Vec<Checked>, CareError> {
    let loc: &[&str] = if patient.is_some() {
        &["identifiers"]
    } else {
        &[]
    };
    let input = c
        .body()
        .get("identifiers")
        .cloned()
        .unwrap_or(Value::Array(Vec::new()));
    let mut checked = Vec::new();
    for (config_id, value) in items {
        let Some((listed, _)) = config(conn, config_id)? else {
            return Err(CareError::NotFound("PatientIdentifierConfig"));
        };
        let parsed: IdentifierConfig = serde_json::from_value(listed).unwrap_or_default();
        if parsed.config.auto_maintained {
            // CARE keeps these from the name and phone; a value sent for one is ignored.
            continue;
        }
        let value = value.trim().to_string();
        let problem = match check_value(&parsed, &value) {
            Err(p) => Some(p),
            Ok(())
                if !value.is_empty()
                    && parsed.config.unique
                    && taken(conn, config_id, &value, patient)? =>
            {
                Some(Problem::NotUnique)
            }
            Ok(()) => None,
        };
        if let Some(problem) = problem {
            c.value_error(loc, &care_message(&parsed, problem), input.clone());
            continue;
        }
        checked.push(Checked {
            config_id: config_id.clone(),
            value,
        });
    }
    if patient.is_none() {
        for listed in configs(conn, None)? {
            let parsed: IdentifierConfig = serde_json::from_value(listed).unwrap_or_default();
            let given = items.iter().any(|(id, _)| *id == parsed.id);
            if parsed.status == "active"
                && !parsed.config.auto_maintained
                && parsed.needs_value()
                && !given
            {
                c.value_error(
                    loc,
                    &care_message(&parsed, Problem::Required),
                    input.clone(),
                );
            }
        }
    }
    Ok(checked)
}

fn taken(
    conn: &Connection,
    config_id: &str,
    value: &str,
    patient: Option<&str>,
) -> Result<bool, CareError> {
    Ok(conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM patient_identifier pi JOIN patient p ON p.id = pi.patient_id
          WHERE pi.config_id = ?1 AND pi.value = ?2 AND p.deleted = 0 AND pi.patient_id IS NOT ?3)",
        params![config_id, value, patient],
        |r| r.get(0),
    )?)
}

/// Stores checked identifiers: a value sets that config's, an empty value removes it.
pub fn store(conn: &Connection, patient: &str, checked: &[Checked]) -> Result<(), CareError> {
    for item in checked {
        if item.value.is_empty() {
            conn.execute(
                "DELETE FROM patient_identifier WHERE patient_id = ?1 AND config_id = ?2",
                params![patient, item.config_id],
            )?;
        } else {
            conn.execute(
                "INSERT INTO patient_identifier (patient_id, config_id, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT (patient_id, config_id) DO UPDATE SET value = excluded.value",
                params![patient, item.config_id, item.value],
            )?;
        }
    }
    Ok(())
}

/// A patient's stored identifiers as a retrieve lists them: the instance's (after the two
/// kept from `name` and `phone`), and those of `facility` when one is asked for.
pub fn listed(
    conn: &Connection,
    patient: &str,
    name: &str,
    phone: &str,
    facility: Option<&str>,
) -> Result<(Vec<Value>, Vec<Value>), CareError> {
    let mut instance = Vec::new();
    for (id, value) in [(NAME_CONFIG_ID, name), (PHONE_CONFIG_ID, phone)] {
        if let Some((c, _)) = config(conn, id)? {
            instance.push(json!({"config": c, "value": value}));
        }
    }
    let mut of_facility = Vec::new();
    let mut stmt = conn.prepare(
        "SELECT c.id, c.config, c.status, c.facility_id, pi.value
         FROM patient_identifier pi JOIN patient_identifier_config c ON c.id = pi.config_id
         WHERE pi.patient_id = ?1 ORDER BY c.seq, c.id",
    )?;
    let rows = stmt
        .query_map(params![patient], |r| {
            let (c, f) = read_config(r)?;
            let value: String = r.get(4)?;
            Ok((c, f, value))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    for (c, f, value) in rows {
        match f {
            None => instance.push(json!({"config": c, "value": value})),
            Some(f) if Some(f.as_str()) == facility => {
                of_facility.push(json!({"config": c, "value": value}))
            }
            Some(_) => {}
        }
    }
    Ok((instance, of_facility))
}

/// Patients holding `value` for a stored config (`search` by config), newest first.
pub fn patients_with(
    conn: &Connection,
    config_id: &str,
    value: &str,
    limit: i64,
) -> Result<Vec<String>, CareError> {
    let mut stmt = conn.prepare(
        "SELECT p.id FROM patient_identifier pi JOIN patient p ON p.id = pi.patient_id
         WHERE pi.config_id = ?1 AND lower(pi.value) = lower(?2) AND p.deleted = 0
         ORDER BY p.created_date DESC, p.seq DESC LIMIT ?3",
    )?;
    let ids = stmt
        .query_map(params![config_id, value, limit], |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(ids)
}
