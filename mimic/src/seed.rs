//! Demo data mirroring CARE's own fixtures (`manage.py load_fixtures`): the six care-* users
//! with password `Ohcn@123`, one facility they all belong to, and a geo organization tree.
//! Written once, on the first start with an empty database.

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
    use super::encounter::{moved_at, CLASSES, STATUSES};
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
        let ist = super::appointment::ist();
        let start =
            (now - chrono::Duration::hours(rng.gen_range(2..(24 * 20)))).with_timezone(&ist);
        let ended = super::encounter::COMPLETED.contains(&status) || status == "discharged";
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
    use super::appointment::{
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
            if super::appointment::CANCELLED.contains(status) {
                tx.execute(
                    "UPDATE token_slot SET allocated = MAX(allocated - 1, 0) WHERE id = ?1",
                    params![slot],
                )?;
            }
        }
    }
    Ok(())
}

/// Symptoms (codes of `system-condition-code`).
const SYMPTOMS: &[&str] = &[
    "386661006", // Fever
    "49727002",  // Cough
    "25064002",  // Headache
    "267036007", // Dyspnea
    "422587007", // Nausea
    "422400008", // Vomiting
    "62315008",  // Diarrhea
    "21522001",  // Abdominal pain
    "29857009",  // Chest pain
    "84229001",  // Fatigue
    "404640003", // Dizziness
    "57676002",  // Joint pain
    "279039007", // Low back pain
    "162397003", // Pain in throat
    "79890006",  // Loss of appetite
    "80313002",  // Palpitations
    "56018004",  // Wheezing
    "418290006", // Itching
];
/// Diagnoses (codes of `system-condition-code`).
const DIAGNOSES: &[&str] = &[
    "59621000",  // Essential hypertension
    "44054006",  // Diabetes mellitus type 2
    "195967001", // Asthma
    "233604007", // Pneumonia
    "38362002",  // Dengue
    "25374005",  // Gastroenteritis
    "68566005",  // Urinary tract infectious disease
    "396275006", // Osteoarthritis
    "40930008",  // Hypothyroidism
    "87522002",  // Iron deficiency anemia
    "6142004",   // Influenza
    "37796009",  // Migraine
    "709044004", // Chronic kidney disease
    "235595009", // Gastroesophageal reflux disease
    "77506005",  // Leptospirosis
    "65966004",  // Fracture of forearm
];
/// (code of `system-allergy-code`, category).
const ALLERGIES: &[(&str, &str)] = &[
    ("91936005", "medication"),   // Allergy to penicillin
    ("293586001", "medication"),  // Allergy to aspirin
    ("387406002", "medication"),  // Sulfamethoxazole
    ("91935009", "food"),         // Allergy to peanut
    ("300913006", "food"),        // Allergy to shellfish
    ("91930004", "food"),         // Allergy to eggs
    ("232350006", "environment"), // House dust mite allergy
    ("300910009", "environment"), // Allergy to pollen
    ("300916003", "environment"), // Latex allergy
    ("424213003", "biologic"),    // Allergy to bee venom
];
/// (code of `system-medication`, dosage text).
const MEDICATIONS: &[(&str, &str)] = &[
    ("387517004", "500 mg QID as needed"),      // Paracetamol
    ("109081006", "500 mg BD after food"),      // Metformin
    ("386864001", "5 mg OD"),                   // Amlodipine
    ("373444002", "10 mg at bedtime"),          // Atorvastatin
    ("373567002", "50 mg OD"),                  // Losartan
    ("387137007", "20 mg OD before breakfast"), // Omeprazole
    ("372897005", "2 puffs as needed"),         // Salbutamol
    ("372687004", "500 mg TID for 5 days"),     // Amoxicillin
    ("67866001", "10 units SC BD"),             // Insulin
    ("387207008", "400 mg TID"),                // Ibuprofen
    ("386966003", "1 mg OD"),                   // Glimepiride
    ("387506000", "50 mg OD"),                  // Atenolol
];
const OCCUPATIONS: &[&str] = &[
    "Farmer",
    "Teacher",
    "Fisherman",
    "Driver",
    "Homemaker",
    "Student",
    "Shopkeeper",
    "Nurse",
    "Retired",
    "Construction worker",
];

/// A SNOMED coding from a bundled value set (its display as bundled).
fn coding(slug: &str, code: &str) -> Result<serde_json::Value, CareError> {
    let display = super::valueset::lookup(slug, None, code)
        .ok_or_else(|| CareError::Internal(format!("demo code {code} not in {slug}")))?;
    Ok(serde_json::json!({"system": "http://snomed.info/sct", "code": code, "display": display}))
}

/// Picks from a list, weighted by repetition.
fn pick<'a>(rng: &mut StdRng, options: &[&'a str]) -> &'a str {
    options[rng.gen_range(0..options.len())]
}

/// For every seeded encounter's patient: symptoms, diagnoses, allergies and medication
/// statements on that encounter (written by care-doctor or care-nurse through the same path
/// as `create`, with their structured questionnaire responses), an Encounter Assessment
/// (demo) response on the encounter and, for every other patient, a Social History (demo)
/// response. Codes come from the bundled value sets and answers pass `submit/`'s checks.
fn seed_clinical(tx: &rusqlite::Transaction<'_>) -> Result<(), CareError> {
    use super::clinical::{insert_entry, Kind, NewIds};
    use super::questionnaire::{insert_checked_response, question_id, NewResponse};
    use super::valueset::{ALLERGY, CONDITION, MEDICATION};
    use rand::seq::SliceRandom;
    use serde_json::{json, Map, Value};

    let (Some(doctor), Some(nurse)) = (user_id(tx, "care-doctor")?, user_id(tx, "care-nurse")?)
    else {
        return Ok(());
    };
    let encounters: Vec<(String, String, String)> = tx
        .prepare(
            "SELECT e.id, e.patient_id, p.gender
             FROM (SELECT id, gender, seq FROM patient ORDER BY seq LIMIT ?2) p
             JOIN encounter e ON e.seq = (SELECT MIN(seq) FROM encounter
                                          WHERE patient_id = p.id AND created_by_id = ?1)
             ORDER BY p.seq",
        )?
        .query_map(params![doctor, super::encounter::STATUSES.len() * 2], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<Result<_, _>>()?;
    let mut rng = StdRng::seed_from_u64(0xCA4E_0006);
    let ist = super::appointment::ist();
    let now = chrono::Utc::now();
    let days_ago = |rng: &mut StdRng, max: i64| {
        (now - chrono::Duration::days(rng.gen_range(1..=max)))
            .with_timezone(&ist)
            .format("%Y-%m-%dT09:00:00%:z")
            .to_string()
    };
    let qid = |slug: &str, link: &str| {
        question_id(slug, link)
            .ok_or_else(|| CareError::Internal(format!("demo question {slug}/{link} missing")))
    };
    let answer = |slug: &str, link: &str, value: Value| -> Result<Value, CareError> {
        Ok(json!({"question_id": qid(slug, link)?, "values": [value]}))
    };
    for (i, (encounter, patient, gender)) in encounters.iter().enumerate() {
        let write = |rng: &mut StdRng, kind: Kind, by: &str, mut dp: Map<String, Value>| {
            dp.insert("encounter".into(), json!(encounter));
            let id = demo_uuid(rng);
            let response_id = demo_uuid(rng);
            let created = now_iso();
            let ids = NewIds {
                id: &id,
                response_id: &response_id,
                now: &created,
            };
            insert_entry(tx, kind, patient, &dp, by, &ids)
        };
        let as_map = |v: Value| match v {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        // Symptoms: one to three, by the nurse on every other encounter.
        let count = rng.gen_range(1..=3);
        let symptoms: Vec<&str> = SYMPTOMS.choose_multiple(&mut rng, count).copied().collect();
        let mut symptom_rows = Vec::new();
        for code in &symptoms {
            let onset = days_ago(&mut rng, 14);
            let dp = json!({
                "code": coding(CONDITION, code)?,
                "clinical_status": pick(&mut rng, &["active", "active", "recurrence", "resolved"]),
                "verification_status": pick(&mut rng, &["confirmed", "confirmed", "provisional", "unconfirmed"]),
                "severity": pick(&mut rng, &["mild", "moderate", "severe"]),
                "onset": {"onset_datetime": onset},
            });
            symptom_rows.push(dp.clone());
        }
        let by = if i % 2 == 0 { &nurse } else { &doctor };
        for dp in symptom_rows {
            write(&mut rng, Kind::Symptom, by, as_map(dp))?;
        }
        // Diagnoses: one or two, by the doctor.
        let count = rng.gen_range(1..=2);
        let diagnoses: Vec<&str> = DIAGNOSES
            .choose_multiple(&mut rng, count)
            .copied()
            .collect();
        for code in diagnoses {
            let category = pick(
                &mut rng,
                &[
                    "encounter_diagnosis",
                    "encounter_diagnosis",
                    "chronic_condition",
                ],
            );
            let mut dp = json!({
                "code": coding(CONDITION, code)?,
                "category": category,
                "clinical_status": "active",
                "verification_status": pick(&mut rng, &["confirmed", "provisional", "differential"]),
            });
            if category == "chronic_condition" {
                dp["onset"] = json!({"onset_age": rng.gen_range(20..60)});
            }
            write(&mut rng, Kind::Diagnosis, &doctor, as_map(dp))?;
        }
        // Allergies: one or two, by the nurse.
        let count = rng.gen_range(1..=2);
        let allergies: Vec<(&str, &str)> = ALLERGIES
            .choose_multiple(&mut rng, count)
            .copied()
            .collect();
        for (code, category) in allergies {
            let dp = json!({
                "code": coding(ALLERGY, code)?,
                "category": category,
                "clinical_status": "active",
                "verification_status": pick(&mut rng, &["confirmed", "confirmed", "presumed", "unconfirmed"]),
                "criticality": pick(&mut rng, &["low", "low", "high", "unable_to_assess"]),
                "note": "Reported at admission.",
            });
            write(&mut rng, Kind::Allergy, &nurse, as_map(dp))?;
        }
        // Medication statements: one to three, by the doctor.
        let count = rng.gen_range(1..=3);
        let medications: Vec<(&str, &str)> = MEDICATIONS
            .choose_multiple(&mut rng, count)
            .copied()
            .collect();
        for (code, dosage) in medications {
            let dp = json!({
                "medication": coding(MEDICATION, code)?,
                "status": pick(&mut rng, &["active", "active", "completed", "on_hold"]),
                "dosage_text": dosage,
                "effective_period": {"start": days_ago(&mut rng, 90)},
                "information_source": pick(&mut rng, &["patient", "patient", "related_person", "practitioner"]),
            });
            write(&mut rng, Kind::MedicationStatement, &doctor, as_map(dp))?;
        }
        // The Encounter Assessment (demo) form, by the doctor.
        let slug = "demo-encounter-assessment";
        let complaint = super::valueset::lookup(CONDITION, None, symptoms[0]).unwrap_or("Pain");
        let onset = days_ago(&mut rng, 14);
        let avpu = pick(&mut rng, &["Alert", "Alert", "Alert", "Voice", "Pain"]);
        let smoker = rng.gen_bool(0.3);
        let mut results = vec![
            answer(slug, "complaint", json!({"value": complaint}))?,
            answer(
                slug,
                "hpi",
                json!({"value": format!("{complaint} since {}.", &onset[..10])}),
            )?,
            answer(
                slug,
                "vitals.pulse",
                json!({"value": rng.gen_range(60..=120).to_string()}),
            )?,
            answer(
                slug,
                "vitals.temp",
                json!({"value": format!("{:.1}", f64::from(rng.gen_range(365..=395)) / 10.0)}),
            )?,
            answer(
                slug,
                "vitals.weight",
                json!({"value": rng.gen_range(35..=95).to_string(),
                       "unit": {"system": "http://unitsofmeasure.org", "code": "kg", "display": "kg"}}),
            )?,
            answer(slug, "vitals.avpu", json!({"value": avpu}))?,
            answer(slug, "onset", json!({"value": onset}))?,
            answer(
                slug,
                "last_meal",
                json!({"value": format!("{:02}:{:02}:00", rng.gen_range(6..21), rng.gen_range(0..4) * 15)}),
            )?,
            answer(slug, "smoker", json!({"value": smoker.to_string()}))?,
            answer(slug, "allergies_known", json!({"value": "true"}))?,
        ];
        if smoker {
            results.push(answer(
                slug,
                "smoker.per_day",
                json!({"value": rng.gen_range(2..=20).to_string()}),
            )?);
            results.push(answer(slug, "smoker.quit", json!({"value": "true"}))?);
        }
        if gender == "female" {
            results.push(answer(
                slug,
                "lmp",
                json!({"value": days_ago(&mut rng, 28)[..10].to_string()}),
            )?);
        }
        if avpu != "Alert" {
            results.push(answer(
                slug,
                "referral",
                json!({"value": format!("https://example.com/referrals/{}", i + 1)}),
            )?);
        }
        let id = demo_uuid(&mut rng);
        insert_checked_response(
            tx,
            &NewResponse {
                id: &id,
                slug,
                subject_id: encounter,
                patient_id: patient,
                encounter: Some(encounter),
                user_id: &doctor,
                now: &now_iso(),
            },
            Value::Array(results),
        )?;
        // The Social History (demo) form on every other patient, by the nurse.
        if i % 2 == 0 {
            let slug = "demo-social-history";
            let alcohol = pick(&mut rng, &["never", "never", "occasional", "daily"]);
            let mut results = vec![
                answer(
                    slug,
                    "occupation",
                    json!({"value": pick(&mut rng, OCCUPATIONS)}),
                )?,
                answer(
                    slug,
                    "diet",
                    json!({"value": pick(&mut rng, &["vegetarian", "non_vegetarian", "non_vegetarian", "vegan"])}),
                )?,
                answer(slug, "alcohol", json!({"value": alcohol}))?,
            ];
            if alcohol != "never" {
                results.push(answer(
                    slug,
                    "alcohol.units",
                    json!({"value": rng.gen_range(1..=21).to_string()}),
                )?);
            }
            let id = demo_uuid(&mut rng);
            insert_checked_response(
                tx,
                &NewResponse {
                    id: &id,
                    slug,
                    subject_id: patient,
                    patient_id: patient,
                    encounter: Some(encounter),
                    user_id: &nurse,
                    now: &now_iso(),
                },
                Value::Array(results),
            )?;
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

const MALE_NAMES: &[&str] = &[
    "Arun", "Rajesh", "Suresh", "Anil", "Vijay", "Manoj", "Sanjay", "Ravi", "Ajith", "Biju",
    "Deepak", "Gopal", "Harish", "Jayan", "Krishnan", "Mohan", "Nikhil", "Pradeep", "Rahul",
    "Sreejith", "Thomas", "Varghese", "Abdul", "Faisal", "Joseph", "Mathew", "Sunil", "Vinod",
    "Ashok", "Ramesh", "Sachin", "Kiran", "Arjun", "Karthik", "Naveen",
];
const FEMALE_NAMES: &[&str] = &[
    "Anjali", "Lakshmi", "Priya", "Divya", "Meera", "Sreeja", "Asha", "Bindu", "Deepa", "Geetha",
    "Jaya", "Kavya", "Latha", "Maya", "Nisha", "Radha", "Sindhu", "Sunitha", "Usha", "Aisha",
    "Fathima", "Mary", "Reshma", "Sneha", "Swathi", "Anitha", "Parvathy", "Revathi", "Shabna",
    "Neethu", "Aparna", "Keerthi", "Gayathri", "Sajitha", "Ammu",
];
const SURNAMES: &[&str] = &[
    "Nair",
    "Menon",
    "Pillai",
    "Kurup",
    "Panicker",
    "Varma",
    "Iyer",
    "Namboothiri",
    "Thomas",
    "George",
    "Kurian",
    "Joseph",
    "Mathew",
    "Varghese",
    "Rahman",
    "Koya",
    "Haji",
    "Krishnan",
    "Das",
    "Warrier",
    "Nambiar",
    "Unnikrishnan",
    "Chacko",
    "Abraham",
    "Babu",
    "Kumar",
    "Sharma",
    "Reddy",
    "Rao",
    "Gupta",
];
const STREETS: &[&str] = &[
    "MG Road",
    "Beach Road",
    "Temple Road",
    "Market Road",
    "Church Street",
    "Station Road",
    "Canal Road",
    "Palace Road",
    "Hospital Road",
    "Banerji Road",
];

/// About 200 patients with Indian names and E.164 phone numbers, some families sharing a
/// phone, spread over the geo tree's wards. Deterministic: a fixed-seed RNG.
fn seed_patients(tx: &rusqlite::Transaction<'_>) -> Result<(), CareError> {
    let mut rng = StdRng::seed_from_u64(0xCA4E_0001);
    let wards: Vec<(String, i64)> = tx
        .prepare(
            "SELECT o.id, COALESCE(p.name, '') FROM organization o
             LEFT JOIN organization p ON p.id = o.parent_id
             WHERE o.org_type = 'govt' AND o.level_cache = 3 ORDER BY o.name",
        )?
        .query_map([], |r| Ok((r.get::<_, String>(0)?, 0)))?
        .collect::<Result<_, _>>()?;
    if wards.is_empty() {
        return Ok(());
    }
    let doctor: Option<String> = tx
        .query_row(
            "SELECT id FROM user WHERE username = 'care-doctor'",
            [],
            |r| r.get(0),
        )
        .ok();
    let now = chrono::Utc::now();
    let mut last_family: Option<(String, String, String)> = None; // (phone, surname, address)
    for i in 0..DEMO_PATIENTS {
        let gender = if rng.gen_bool(0.02) {
            GENDERS[2 + rng.gen_range(0..2)]
        } else if rng.gen_bool(0.5) {
            "male"
        } else {
            "female"
        };
        let first = if gender == "female" || (gender != "male" && rng.gen_bool(0.5)) {
            FEMALE_NAMES[rng.gen_range(0..FEMALE_NAMES.len())]
        } else {
            MALE_NAMES[rng.gen_range(0..MALE_NAMES.len())]
        };
        // Roughly one in four patients belongs to the previous patient's family.
        let family = match &last_family {
            Some(f) if rng.gen_bool(0.25) => f.clone(),
            _ => {
                let phone = format!(
                    "+91{}{:09}",
                    rng.gen_range(6..=9),
                    rng.gen_range(0..1_000_000_000u64)
                );
                let surname = SURNAMES[rng.gen_range(0..SURNAMES.len())].to_string();
                let address = format!(
                    "{}/{}, {}",
                    rng.gen_range(1..400),
                    rng.gen_range(1..30),
                    STREETS[rng.gen_range(0..STREETS.len())]
                );
                (phone, surname, address)
            }
        };
        last_family = Some(family.clone());
        let (phone, surname, address) = family;
        let name = format!("{first} {surname}");
        let age_days = rng.gen_range(0..(90 * 365));
        let dob = (now - chrono::Duration::days(age_days)).date_naive();
        let with_dob = rng.gen_bool(0.8);
        let year_of_birth = {
            use chrono::Datelike;
            i64::from(dob.year())
        };
        let created = now
            - chrono::Duration::minutes(rng.gen_range(60..(120 * 24 * 60)))
            - chrono::Duration::seconds(i64::from(i));
        let created_iso = created.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
        let (ward, _) = &wards[rng.gen_range(0..wards.len())];
        let emergency = if rng.gen_bool(0.6) {
            Some(format!(
                "+91{}{:09}",
                rng.gen_range(6..=9),
                rng.gen_range(0..1_000_000_000u64)
            ))
        } else {
            None
        };
        let pincode: Option<i64> = if rng.gen_bool(0.85) {
            Some(rng.gen_range(670_001..=695_615))
        } else {
            None
        };
        let blood = BLOOD_GROUPS[rng.gen_range(0..BLOOD_GROUPS.len())];
        tx.execute(
            "INSERT INTO patient (id, name, gender, phone_number, emergency_phone_number, address,
                 permanent_address, pincode, blood_group, date_of_birth, year_of_birth,
                 geo_organization_id, created_by_id, updated_by_id, created_date, modified_date)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12, ?13, ?13)",
            params![
                demo_uuid(&mut rng),
                name,
                gender,
                phone,
                emergency,
                address,
                pincode,
                blood,
                with_dob.then(|| dob.to_string()),
                year_of_birth,
                ward,
                doctor,
                created_iso
            ],
        )?;
    }
    Ok(())
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
