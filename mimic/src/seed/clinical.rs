//! The demo's clinical records: symptoms, diagnoses, allergies, medication statements and
//! questionnaire responses of the seeded encounters, drawn from a fixed-seed RNG.

use super::*;

/// Symptoms (codes of `system-condition-code`).
pub(super) const SYMPTOMS: &[&str] = &[
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
pub(super) const DIAGNOSES: &[&str] = &[
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
pub(super) const ALLERGIES: &[(&str, &str)] = &[
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
pub(super) const MEDICATIONS: &[(&str, &str)] = &[
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
pub(super) const OCCUPATIONS: &[&str] = &[
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
pub(super) fn coding(slug: &str, code: &str) -> Result<serde_json::Value, CareError> {
    let display = crate::valueset::lookup(slug, None, code)
        .ok_or_else(|| CareError::Internal(format!("demo code {code} not in {slug}")))?;
    Ok(serde_json::json!({"system": "http://snomed.info/sct", "code": code, "display": display}))
}

/// Picks from a list, weighted by repetition.
pub(super) fn pick<'a>(rng: &mut StdRng, options: &[&'a str]) -> &'a str {
    options[rng.gen_range(0..options.len())]
}

/// For every seeded encounter's patient: symptoms, diagnoses, allergies and medication
/// statements on that encounter (written by care-doctor or care-nurse through the same path
/// as `create`, with their structured questionnaire responses), an Encounter Assessment
/// (demo) response on the encounter and, for every other patient, a Social History (demo)
/// response. Codes come from the bundled value sets and answers pass `submit/`'s checks.
pub(super) fn seed_clinical(tx: &rusqlite::Transaction<'_>) -> Result<(), CareError> {
    use crate::clinical::{insert_entry, Kind, NewIds};
    use crate::questionnaire::{insert_checked_response, question_id, NewResponse};
    use crate::valueset::{ALLERGY, CONDITION, MEDICATION};
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
        .query_map(params![doctor, crate::encounter::STATUSES.len() * 2], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<Result<_, _>>()?;
    let mut rng = StdRng::seed_from_u64(0xCA4E_0006);
    let ist = crate::appointment::ist();
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
        let complaint = crate::valueset::lookup(CONDITION, None, symptoms[0]).unwrap_or("Pain");
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
