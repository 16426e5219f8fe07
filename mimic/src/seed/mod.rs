//! Demo data mirroring CARE's own fixtures (`manage.py load_fixtures`): the six care-* users
//! with password `Ohcn@123`, one facility they all belong to, and a geo organization tree.
//! Written once, on the first start with an empty database.

mod clinical;
mod patients;

use clinical::*;
use patients::*;

use rand::{rngs::StdRng, Rng, SeedableRng};
use rusqlite::{params, Connection};

use super::{
    db::now_iso,
    error::CareError,
    password,
    patient::{BLOOD_GROUPS, GENDERS},
    permissions::{system_roles, Role},
    role::role_id,
};

pub const DEMO_PASSWORD: &str = "Ohcn@123";

pub struct DemoUser {
    pub username: &'static str,
    pub first_name: &'static str,
    pub last_name: &'static str,
    pub user_type: &'static str,
    pub gender: &'static str,
    pub role: Role,
    pub is_superuser: bool,
}

macro_rules! demo_user {
    ($username:literal, $first:literal, $last:literal, $user_type:literal, $gender:literal, $role:expr, $superuser:literal) => {
        DemoUser {
            username: $username,
            first_name: $first,
            last_name: $last,
            user_type: $user_type,
            gender: $gender,
            role: $role,
            is_superuser: $superuser,
        }
    };
}

pub const DEMO_USERS: &[DemoUser] = &[
    demo_user!(
        "care-doctor",
        "Hemal",
        "Prabhakar",
        "doctor",
        "male",
        Role::Doctor,
        false
    ),
    demo_user!(
        "care-nurse",
        "Anjali",
        "Menon",
        "nurse",
        "female",
        Role::Nurse,
        false
    ),
    demo_user!(
        "care-staff",
        "Rahul",
        "Nair",
        "staff",
        "male",
        Role::Staff,
        false
    ),
    demo_user!(
        "care-volunteer",
        "Fathima",
        "Beevi",
        "volunteer",
        "female",
        Role::Volunteer,
        false
    ),
    demo_user!(
        "care-admin",
        "Arjun",
        "Pillai",
        "administrator",
        "male",
        Role::Administrator,
        true
    ),
    demo_user!(
        "care-fac-admin",
        "Lakshmi",
        "Iyer",
        "administrator",
        "female",
        Role::FacilityAdmin,
        false
    ),
];

/// (name, parent index, level) — a state, its districts, local bodies and wards.
const GEO_TREE: &[(&str, Option<usize>, i64)] = &[
    ("Kerala", None, 0),
    ("Ernakulam", Some(0), 1),
    ("Thiruvananthapuram", Some(0), 1),
    ("Kochi Corporation", Some(1), 2),
    ("Aluva Municipality", Some(1), 2),
    ("Thiruvananthapuram Corporation", Some(2), 2),
    ("Ward 1 - Fort Kochi", Some(3), 3),
    ("Ward 2 - Mattancherry", Some(3), 3),
    ("Ward 5 - Aluva Town", Some(4), 3),
    ("Ward 10 - Palayam", Some(5), 3),
];

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Seeds an empty database, then adds each later demo step once (so a database from an older
/// version gains the new demo data without losing anything).
pub fn seed_if_empty(conn: &mut Connection) -> Result<(), CareError> {
    seed_base(conn)?;
    seed_roles(conn)?;
    once(conn, "seed:patients", seed_patients)?;
    once(conn, "seed:departments", seed_departments)?;
    once(conn, "seed:encounters", seed_encounters)?;
    once(conn, "seed:schedules", seed_schedules)?;
    once(conn, "seed:facilities", seed_facilities)?;
    once(conn, "seed:clinical", seed_clinical)?;
    once(conn, "seed:identifiers", seed_identifiers)?;
    Ok(())
}

/// The identifier configs: CARE's two kept from name and phone, an optional national health
/// id for every patient and the demo facility's hospital number.
fn seed_identifiers(tx: &rusqlite::Transaction<'_>) -> Result<(), CareError> {
    let facility = demo_facility(tx)?.map(|(f, _)| f);
    super::identifier::seed(tx, facility.as_deref())
}

/// A second, public facility nobody belongs to: what `getallfacilities` lists beyond the
/// user's own and a resource request can be assigned to.
fn seed_facilities(tx: &rusqlite::Transaction<'_>) -> Result<(), CareError> {
    use rusqlite::OptionalExtension;
    let Some((_, admin)) = demo_facility(tx)? else {
        return Ok(());
    };
    let geo: Option<String> = tx
        .query_row(
            "SELECT id FROM organization WHERE name = 'Aluva Municipality'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    let mut rng = StdRng::seed_from_u64(0xCA4E_0005);
    let now = now_iso();
    tx.execute(
        "INSERT INTO facility (id, name, description, address, pincode, phone_number, latitude, longitude,
                               facility_type, is_public, geo_organization_id, created_by_id,
                               created_date, modified_date)
         VALUES (?1, 'Aluva Taluk Hospital', 'Public referral hospital (demo).',
                 'Bank Junction, Aluva', 683101, '+914842624040', '10.1076000000000000',
                 '76.3516000000000000', 'Govt Hospital', 1, ?2, ?3, ?4, ?4)",
        params![demo_uuid(&mut rng), geo, admin, now],
    )?;
    Ok(())
}

fn demo_facility(tx: &Connection) -> Result<Option<(String, String)>, CareError> {
    use rusqlite::OptionalExtension;
    Ok(tx
        .query_row(
            "SELECT f.id, u.id FROM facility f JOIN user u ON u.username = 'care-admin'
             WHERE f.name = 'CARE Demo Hospital'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

fn user_id(tx: &Connection, username: &str) -> Result<Option<String>, CareError> {
    use rusqlite::OptionalExtension;
    Ok(tx
        .query_row(
            "SELECT id FROM user WHERE username = ?1",
            params![username],
            |r| r.get(0),
        )
        .optional()?)
}

/// (name, description, parent index): the demo facility's departments and one team.
const DEPARTMENTS: &[(&str, &str, Option<usize>)] = &[
    (
        "General Medicine",
        "Outpatient and inpatient general medicine.",
        None,
    ),
    (
        "Paediatrics",
        "Care of infants, children and adolescents.",
        None,
    ),
    ("Orthopaedics", "Bones, joints and trauma.", None),
    ("Emergency", "Casualty and emergency care.", None),
    (
        "Cardiology Unit",
        "Cardiology team within General Medicine.",
        Some(0),
    ),
];

fn seed_departments(tx: &rusqlite::Transaction<'_>) -> Result<(), CareError> {
    let Some((facility, admin)) = demo_facility(tx)? else {
        return Ok(());
    };
    let mut rng = StdRng::seed_from_u64(0xCA4E_0002);
    let now = now_iso();
    let mut ids: Vec<String> = Vec::new();
    for (name, description, parent) in DEPARTMENTS {
        let id = demo_uuid(&mut rng);
        let parent_id = parent.and_then(|i| ids.get(i).cloned());
        tx.execute(
            "INSERT INTO facility_organization (id, facility_id, name, description, org_type, parent_id,
                 level_cache, created_by_id, created_date, modified_date)
             VALUES (?1, ?2, ?3, ?4, 'dept', ?5, ?6, ?7, ?8, ?8)",
            params![
                id,
                facility,
                name,
                description,
                parent_id,
                i64::from(parent.is_some()),
                admin,
                now
            ],
        )?;
        ids.push(id);
    }
    Ok(())
}

/// Two encounters in every status, on the oldest demo patients, in the demo departments.
fn seed_encounters(tx: &rusqlite::Transaction<'_>) -> Result<(), CareError> {
    use crate::encounter::{moved_at, CLASSES, STATUSES};
    let Some((facility, _)) = demo_facility(tx)? else {
        return Ok(());
    };
    let Some(doctor) = user_id(tx, "care-doctor")? else {
        return Ok(());
    };
    let patients: Vec<String> = tx
        .prepare("SELECT id FROM patient ORDER BY seq LIMIT ?1")?
        .query_map(params![STATUSES.len() * 2], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let departments: Vec<String> = tx
        .prepare("SELECT id FROM facility_organization WHERE facility_id = ?1 ORDER BY rowid")?
        .query_map(params![facility], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    if departments.is_empty() {
        return Ok(());
    }
    let mut rng = StdRng::seed_from_u64(0xCA4E_0003);
    let priorities = ["routine", "urgent", "ASAP", "elective", "emergency", "stat"];
    let now = chrono::Utc::now();
    for (i, patient) in patients.iter().enumerate() {
        let status = STATUSES[i % STATUSES.len()];
        let class = CLASSES[i % CLASSES.len()];
        let priority = priorities[rng.gen_range(0..priorities.len())];
        let ist = crate::appointment::ist();
        let start =
            (now - chrono::Duration::hours(rng.gen_range(2..(24 * 20)))).with_timezone(&ist);
        let ended = crate::encounter::COMPLETED.contains(&status) || status == "discharged";
        let mut period = serde_json::json!({"start": start.to_rfc3339()});
        if status == "planned" {
            period = serde_json::json!({"start": (now + chrono::Duration::days(2)).with_timezone(&ist).to_rfc3339()});
        } else if ended {
            period["end"] = serde_json::json!((start
                + chrono::Duration::hours(rng.gen_range(1..72)))
            .to_rfc3339());
        }
        let mut history = vec![serde_json::json!({"status": "planned", "moved_at": moved_at()})];
        if status != "planned" {
            history.push(serde_json::json!({"status": status, "moved_at": moved_at()}));
        }
        let hospitalization = if class == "imp" {
            serde_json::json!({"re_admission": false, "admit_source": "outp", "diet_preference": "none"})
        } else {
            serde_json::json!({})
        };
        let id = demo_uuid(&mut rng);
        let created = now_iso();
        tx.execute(
            "INSERT INTO encounter (id, patient_id, facility_id, status, encounter_class, priority, period,
                 hospitalization, status_history, encounter_class_history, created_by_id, updated_by_id,
                 created_date, modified_date)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?12, ?12)",
            params![
                id,
                patient,
                facility,
                status,
                class,
                priority,
                period.to_string(),
                hospitalization.to_string(),
                serde_json::json!({"history": history}).to_string(),
                serde_json::json!({"history": [{"status": class, "moved_at": moved_at()}]}).to_string(),
                doctor,
                created
            ],
        )?;
        tx.execute(
            "INSERT INTO encounter_organization (encounter_id, organization_id) VALUES (?1, ?2)",
            params![id, departments[i % departments.len()]],
        )?;
    }
    Ok(())
}

/// Schedules for two practitioners (care-doctor mornings, care-nurse afternoons) from today
/// for 14 days, and bookings in every status on the coming days.
fn seed_schedules(tx: &rusqlite::Transaction<'_>) -> Result<(), CareError> {
    use crate::appointment::{
        book, insert_schedule, ist, materialise_day, ScheduleInput, BOOKING_STATUSES,
    };
    let Some((facility, _)) = demo_facility(tx)? else {
        return Ok(());
    };
    let (Some(doctor), Some(nurse)) = (user_id(tx, "care-doctor")?, user_id(tx, "care-nurse")?)
    else {
        return Ok(());
    };
    let mut rng = StdRng::seed_from_u64(0xCA4E_0004);
    let today = chrono::Utc::now().with_timezone(&ist()).date_naive();
    let until = today + chrono::Duration::days(14);
    let every_day = |start: &str, end: &str, days: std::ops::RangeInclusive<i64>| {
        serde_json::Value::Array(
            days.map(
                |d| serde_json::json!({"end_time": end, "start_time": start, "day_of_week": d}),
            )
            .collect(),
        )
    };
    let plans = [
        (
            &doctor,
            "OP Mornings",
            "Morning OP",
            15,
            2,
            every_day("09:00:00", "12:00:00", 0..=6),
        ),
        (
            &nurse,
            "Nurse Clinic",
            "Afternoon Clinic",
            20,
            1,
            every_day("14:00:00", "17:00:00", 0..=5),
        ),
    ];
    for (resource, name, availability, size, tokens, days) in plans {
        insert_schedule(
            tx,
            &ScheduleInput {
                id: demo_uuid(&mut rng),
                facility_id: facility.clone(),
                name: name.to_string(),
                valid_from: format!("{today}T00:00:00"),
                valid_to: format!("{until}T23:59:59"),
                resource_type: "practitioner".into(),
                resource_id: resource.clone(),
                availabilities: vec![(
                    demo_uuid(&mut rng),
                    (
                        availability.to_string(),
                        "appointment".to_string(),
                        Some(size),
                        Some(tokens),
                        None,
                        days,
                    ),
                )],
            },
            &doctor,
        )?;
    }
    // Bookings in every status with the doctor over the next days, one per patient.
    let patients: Vec<String> = tx
        .prepare("SELECT id FROM patient ORDER BY seq DESC LIMIT ?1")?
        .query_map(params![BOOKING_STATUSES.len()], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut slots = Vec::new();
    for offset in 1..=3 {
        slots.extend(materialise_day(
            tx,
            &facility,
            "practitioner",
            &doctor,
            today + chrono::Duration::days(offset),
        )?);
    }
    for (i, (patient, status)) in patients.iter().zip(BOOKING_STATUSES).enumerate() {
        let Some(slot) = slots.get(i * 2) else {
            break;
        };
        let booking = book(tx, slot, patient, "Demo appointment", &doctor)?;
        if *status != "booked" {
            tx.execute(
                "UPDATE token_booking SET status = ?1 WHERE id = ?2",
                params![status, booking],
            )?;
            if crate::appointment::CANCELLED.contains(status) {
                tx.execute(
                    "UPDATE token_slot SET allocated = MAX(allocated - 1, 0) WHERE id = ?1",
                    params![slot],
                )?;
            }
        }
    }
    Ok(())
}

/// Runs `step` in one transaction unless the meta `key` says it already ran.
fn once(
    conn: &mut Connection,
    key: &str,
    step: fn(&rusqlite::Transaction<'_>) -> Result<(), CareError>,
) -> Result<(), CareError> {
    let done: bool = conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM meta WHERE key = ?1)",
        params![key],
        |r| r.get(0),
    )?;
    if done {
        return Ok(());
    }
    let tx = conn.transaction()?;
    step(&tx)?;
    tx.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)",
        params![key, now_iso()],
    )?;
    tx.commit()?;
    Ok(())
}

/// CARE's eight system roles (ids derived from the names, so they match across databases).
fn seed_roles(conn: &mut Connection) -> Result<(), CareError> {
    let tx = conn.transaction()?;
    for (name, description, perms) in system_roles() {
        let perms = serde_json::to_string(&perms)
            .map_err(|e| CareError::Internal(format!("role permissions: {e}")))?;
        tx.execute(
            "INSERT INTO role (id, name, description, permissions) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(id) DO UPDATE SET permissions = excluded.permissions",
            params![role_id(&name), name, description, perms],
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// A UUIDv4 drawn from the demo RNG, so demo ids are the same on every machine.
pub fn demo_uuid(rng: &mut StdRng) -> String {
    uuid::Builder::from_random_bytes(rng.gen())
        .into_uuid()
        .to_string()
}

/// How many demo patients are seeded.
pub const DEMO_PATIENTS: u32 = 200;

/// The fixture users, facility and geo tree; once, on the first start.
fn seed_base(conn: &mut Connection) -> Result<(), CareError> {
    let seeded: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = 'seeded'", [], |r| {
            r.get(0)
        })
        .ok();
    if seeded.is_some() {
        return Ok(());
    }
    let now = now_iso();
    let tx = conn.transaction()?;
    let mut geo_ids: Vec<String> = Vec::with_capacity(GEO_TREE.len());
    for (name, parent, level) in GEO_TREE {
        let id = new_id();
        let parent_id = parent.map(|i| geo_ids[i].clone());
        tx.execute(
            "INSERT INTO organization (id, name, org_type, parent_id, level_cache, created_date, modified_date)
             VALUES (?1, ?2, 'govt', ?3, ?4, ?5, ?5)",
            params![id, name, parent_id, level, now],
        )?;
        geo_ids.push(id);
    }
    let state_id = geo_ids[0].clone();
    let mut user_ids = Vec::new();
    for (i, u) in DEMO_USERS.iter().enumerate() {
        let id = new_id();
        tx.execute(
            "INSERT INTO user (id, username, password_hash, first_name, last_name, phone_number, email,
                               user_type, gender, role_name, is_superuser, geo_organization_id,
                               created_date, modified_date)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13)",
            params![
                id,
                u.username,
                password::hash(DEMO_PASSWORD),
                u.first_name,
                u.last_name,
                format!("+9198765432{i:02}"),
                format!("{}@example.com", u.username),
                u.user_type,
                u.gender,
                u.role.name(),
                u.is_superuser,
                state_id,
                now
            ],
        )?;
        user_ids.push(id);
    }
    // Every fixture user was created by the administrator.
    let admin_id = user_ids[4].clone();
    tx.execute("UPDATE user SET created_by_id = ?1", params![admin_id])?;
    let facility_id = new_id();
    tx.execute(
        "INSERT INTO facility (id, name, description, address, pincode, phone_number, latitude, longitude,
                               facility_type, is_public, geo_organization_id, created_by_id,
                               created_date, modified_date)
         VALUES (?1, 'CARE Demo Hospital', 'Demo facility of the built-in CARE backend.',
                 'Fort Kochi, Ernakulam, Kerala', 682001, '+914842215555', '9.9658000000000000',
                 '76.2421000000000000', 'Primary Health Centres', 1, ?2, ?3, ?4, ?4)",
        params![facility_id, geo_ids[1], admin_id, now],
    )?;
    for id in &user_ids {
        tx.execute(
            "INSERT INTO facility_user (facility_id, user_id) VALUES (?1, ?2)",
            params![facility_id, id],
        )?;
    }
    tx.execute(
        "INSERT INTO meta (key, value) VALUES ('seeded', ?1)",
        params![now],
    )?;
    tx.commit()?;
    Ok(())
}
