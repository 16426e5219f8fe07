//! The demo's patients: Kerala names, shared family phone numbers and addresses, drawn
//! from a fixed-seed RNG so every machine gets the same ones.

use super::*;

pub(super) const MALE_NAMES: &[&str] = &[
    "Arun", "Rajesh", "Suresh", "Anil", "Vijay", "Manoj", "Sanjay", "Ravi", "Ajith", "Biju",
    "Deepak", "Gopal", "Harish", "Jayan", "Krishnan", "Mohan", "Nikhil", "Pradeep", "Rahul",
    "Sreejith", "Thomas", "Varghese", "Abdul", "Faisal", "Joseph", "Mathew", "Sunil", "Vinod",
    "Ashok", "Ramesh", "Sachin", "Kiran", "Arjun", "Karthik", "Naveen",
];
pub(super) const FEMALE_NAMES: &[&str] = &[
    "Anjali", "Lakshmi", "Priya", "Divya", "Meera", "Sreeja", "Asha", "Bindu", "Deepa", "Geetha",
    "Jaya", "Kavya", "Latha", "Maya", "Nisha", "Radha", "Sindhu", "Sunitha", "Usha", "Aisha",
    "Fathima", "Mary", "Reshma", "Sneha", "Swathi", "Anitha", "Parvathy", "Revathi", "Shabna",
    "Neethu", "Aparna", "Keerthi", "Gayathri", "Sajitha", "Ammu",
];
pub(super) const SURNAMES: &[&str] = &[
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
pub(super) const STREETS: &[&str] = &[
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
pub(super) fn seed_patients(tx: &rusqlite::Transaction<'_>) -> Result<(), CareError> {
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
