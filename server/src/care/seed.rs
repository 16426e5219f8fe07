//! Demo data mirroring CARE's own fixtures (`manage.py load_fixtures`): the six care-* users
//! with password `Ohcn@123`, one facility they all belong to, and a geo organization tree.
//! Written once, on the first start with an empty database.

use rusqlite::{params, Connection};

use super::{db::now_iso, error::CareError, password, permissions::Role};

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

/// Seeds an empty database; a database that was seeded before is left as it is.
pub fn seed_if_empty(conn: &mut Connection) -> Result<(), CareError> {
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
