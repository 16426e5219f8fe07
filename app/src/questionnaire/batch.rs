//! A submitted form becomes ONE `batch_requests` body, as care_fe sends it: first one
//! upsert per answered structured question (reference_id = the question's id), then the
//! questionnaire's `submit` with the plain answers (reference_id = the questionnaire's id).
//! The batch's per-request results map back to questions by those reference ids.

use std::collections::{BTreeMap, HashSet};

use serde_json::{json, Value};

use super::{enable::enabled_ids, Answers, StructuredItem};
use crate::model::{ClinicalKind, Question, Questionnaire};

/// Where the form is filled.
#[derive(Debug, Clone)]
pub struct Subject<'a> {
    pub patient_id: &'a str,
    pub encounter_id: &'a str,
    /// The device's UTC offset: a date-time typed here is sent zoned (CARE wants
    /// timezone-aware date-times).
    pub offset: chrono::FixedOffset,
}

/// The request body plus what the encounter's lists should show until it syncs.
#[derive(Debug, Clone, PartialEq)]
pub struct Built {
    pub body: Value,
    /// Each structured entry in its list's read shape (id = `entry_id`).
    pub entries: Vec<(ClinicalKind, Value)>,
    /// The questionnaire response in the responses list's read shape.
    pub response: Value,
}

/// The form-level key of `map_errors` (problems no question owns).
pub const FORM: &str = "";

fn submit_value(q: &Question, value: &str, offset: chrono::FixedOffset) -> Value {
    let v = value.trim();
    let text = match q.kind.as_str() {
        // `<input type=time>` gives HH:MM; CARE wants HH:MM:SS.
        "time" if v.len() == 5 => format!("{v}:00"),
        // `<input type=datetime-local>` gives a wall time; zoned here.
        "dateTime" => ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
            .iter()
            .find_map(|f| chrono::NaiveDateTime::parse_from_str(v, f).ok())
            .and_then(|naive| naive.and_local_timezone(offset).single())
            .map(|at| at.to_rfc3339())
            .unwrap_or_else(|| v.to_string()),
        _ => v.to_string(),
    };
    let mut out = json!({ "value": text });
    if matches!(q.kind.as_str(), "quantity" | "decimal" | "integer") {
        if let Some(unit) = &q.unit {
            out["unit"] = json!(unit);
        }
    }
    out
}

/// The `results` of the questionnaire's submit: every enabled, answered plain question.
pub fn submit_results(
    questionnaire: &Questionnaire,
    answers: &Answers,
    enabled: &HashSet<String>,
    offset: chrono::FixedOffset,
) -> Vec<Value> {
    questionnaire
        .all_questions()
        .into_iter()
        .filter(|q| enabled.contains(&q.id))
        .filter(|q| !matches!(q.kind.as_str(), "group" | "display" | "structured"))
        .filter_map(|q| {
            let given = answers.given(&q.id);
            (!given.is_empty()).then(|| {
                json!({
                    "question_id": q.id,
                    "values": given.iter().map(|v| submit_value(q, v, offset)).collect::<Vec<_>>(),
                })
            })
        })
        .collect()
}

fn opt(s: &str) -> Value {
    if s.trim().is_empty() {
        Value::Null
    } else {
        Value::String(s.trim().to_string())
    }
}

/// One upsert datapoint (the create shape CARE validates).
pub fn datapoint(kind: ClinicalKind, item: &StructuredItem, encounter_id: &str) -> Value {
    let mut dp = match kind {
        ClinicalKind::Symptom => json!({
            "code": item.coding,
            "clinical_status": item.status,
            "verification_status": item.verification_status,
            "severity": opt(&item.severity),
            "category": "problem_list_item",
        }),
        ClinicalKind::Diagnosis => json!({
            "code": item.coding,
            "clinical_status": item.status,
            "verification_status": item.verification_status,
            "severity": opt(&item.severity),
            "category": item.category,
        }),
        ClinicalKind::Allergy => json!({
            "code": item.coding,
            "clinical_status": item.status,
            "verification_status": item.verification_status,
            "category": item.category,
            "criticality": item.criticality,
        }),
        ClinicalKind::MedicationStatement => json!({
            "medication": item.coding,
            "status": item.status,
            "dosage_text": opt(&item.dosage_text),
        }),
    };
    dp["encounter"] = json!(encounter_id);
    dp["note"] = opt(&item.note);
    // CARE treats absent and null alike for these; absent keeps the body small.
    if let Value::Object(map) = &mut dp {
        map.retain(|_, v| !v.is_null());
    }
    dp
}

/// The batch body, and the optimistic records. `entry_id` becomes the id of every
/// optimistic record (the outbox write's id, so their badges follow the write).
pub fn build(
    questionnaire: &Questionnaire,
    answers: &Answers,
    subject: &Subject<'_>,
    entry_id: &str,
    now_iso: &str,
    user: &Value,
) -> Built {
    let enabled = enabled_ids(questionnaire, answers);
    let mut requests = Vec::new();
    let mut entries = Vec::new();
    for q in questionnaire.all_questions() {
        if q.kind != "structured" || !enabled.contains(&q.id) {
            continue;
        }
        let Some(kind) = q
            .structured_type
            .as_deref()
            .and_then(ClinicalKind::from_structured_type)
        else {
            continue;
        };
        let items = answers.items(&q.id);
        if items.is_empty() {
            continue;
        }
        let datapoints: Vec<Value> = items
            .iter()
            .map(|i| datapoint(kind, i, subject.encounter_id))
            .collect();
        for dp in &datapoints {
            let mut entry = dp.clone();
            entry["id"] = json!(entry_id);
            entry["created_date"] = json!(now_iso);
            entry["modified_date"] = json!(now_iso);
            entry["created_by"] = user.clone();
            entries.push((kind, entry));
        }
        requests.push(json!({
            "url": format!("/api/v1/patient/{}/{}/upsert/", subject.patient_id, kind.path()),
            "method": "POST",
            "reference_id": q.id,
            "body": {"datapoints": datapoints},
        }));
    }
    let results = submit_results(questionnaire, answers, &enabled, subject.offset);
    requests.push(json!({
        "url": format!("/api/v1/questionnaire/{}/submit/", questionnaire.slug),
        "method": "POST",
        "reference_id": questionnaire.id,
        "body": {
            "resource_id": subject.encounter_id,
            "encounter": subject.encounter_id,
            "patient": subject.patient_id,
            "results": results,
        },
    }));
    let response = json!({
        "id": entry_id,
        "questionnaire": {"id": questionnaire.id, "slug": questionnaire.slug, "title": questionnaire.title},
        "subject_id": subject.encounter_id,
        "responses": results,
        "encounter": subject.encounter_id,
        "structured_responses": {},
        "structured_response_type": null,
        "created_by": user,
        "updated_by": user,
        "created_date": now_iso,
        "modified_date": now_iso,
    });
    Built {
        body: json!({ "requests": requests }),
        entries,
        response,
    }
}

fn messages(data: &Value) -> Vec<(Option<String>, String)> {
    let mut out = Vec::new();
    match data {
        Value::Array(items) => {
            for item in items {
                out.extend(messages(item));
            }
        }
        Value::Object(map) => {
            if let Some(detail) = map.get("detail").and_then(Value::as_str) {
                out.push((None, detail.to_string()));
            }
            for e in map
                .get("errors")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let msg = e
                    .get("msg")
                    .and_then(Value::as_str)
                    .unwrap_or("Invalid value");
                let field = e
                    .get("loc")
                    .and_then(Value::as_array)
                    .map(|l| {
                        l.iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(".")
                    })
                    .filter(|l| !l.is_empty());
                let text = match field {
                    Some(f) => format!("{f}: {msg}"),
                    None => msg.to_string(),
                };
                out.push((
                    e.get("question_id")
                        .and_then(Value::as_str)
                        .map(String::from),
                    text,
                ));
            }
        }
        _ => {}
    }
    out
}

/// CARE's answer to a batch (the 400 body, or a stored sync error `{status, body}`) as
/// messages by question id; `FORM` holds what no question owns.
pub fn map_errors(questionnaire: &Questionnaire, answer: &Value) -> BTreeMap<String, String> {
    let body = answer
        .get("body")
        .filter(|_| answer.get("status").is_some())
        .unwrap_or(answer);
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    let mut put = |key: String, msg: String| {
        out.entry(key)
            .and_modify(|m| {
                if !m.contains(&msg) {
                    m.push_str("; ");
                    m.push_str(&msg);
                }
            })
            .or_insert(msg);
    };
    let Some(results) = body.get("results").and_then(Value::as_array) else {
        let status = answer.get("status").and_then(Value::as_u64).unwrap_or(400) as u16;
        let text = match body {
            Value::String(s) => s.clone(),
            other => crate::api::error::describe(status, other),
        };
        put(FORM.to_string(), text);
        return out;
    };
    for r in results {
        let status = r.get("status_code").and_then(Value::as_u64).unwrap_or(0);
        if (200..300).contains(&status) {
            continue;
        }
        let reference = r.get("reference_id").and_then(Value::as_str).unwrap_or("");
        let data = r.get("data").unwrap_or(&Value::Null);
        let owner = if reference == questionnaire.id {
            None
        } else {
            questionnaire.question(reference).map(|q| q.id.clone())
        };
        let found = messages(data);
        if found.is_empty() {
            put(
                owner.clone().unwrap_or_default(),
                format!("Not accepted (status {status})."),
            );
        }
        for (question, msg) in found {
            let key = question
                .filter(|id| questionnaire.question(id).is_some())
                .or_else(|| owner.clone())
                .unwrap_or_default();
            put(key, msg);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Coding;

    fn form() -> Questionnaire {
        serde_json::from_value(json!({"id": "qn", "slug": "demo", "title": "Demo", "questions": [
            {"id": "intro", "link_id": "intro", "type": "display"},
            {"id": "g", "link_id": "g", "type": "group", "questions": [
                {"id": "pulse", "link_id": "pulse", "type": "integer"},
                {"id": "weight", "link_id": "weight", "type": "quantity",
                 "unit": {"system": "http://unitsofmeasure.org", "code": "kg", "display": "kilogram"}}
            ]},
            {"id": "meal", "link_id": "meal", "type": "time"},
            {"id": "onset", "link_id": "onset", "type": "dateTime"},
            {"id": "smoker", "link_id": "smoker", "type": "boolean"},
            {"id": "per_day", "link_id": "per_day", "type": "integer",
             "enable_when": [{"question": "smoker", "operator": "equals", "answer": true}]},
            {"id": "sx", "link_id": "sx", "type": "structured", "structured_type": "symptom"},
            {"id": "meds", "link_id": "meds", "type": "structured", "structured_type": "medication_statement"},
            {"id": "dx", "link_id": "dx", "type": "structured", "structured_type": "diagnosis"}
        ]}))
        .expect("form")
    }

    fn coding(code: &str) -> Coding {
        Coding {
            system: "http://snomed.info/sct".into(),
            code: code.into(),
            display: format!("C{code}"),
        }
    }

    #[test]
    fn one_batch_structured_first_then_the_submit() {
        let mut a = Answers::default();
        a.set("pulse", 0, "72".into());
        a.set("weight", 0, "60.5".into());
        a.set("meal", 0, "13:15".into());
        a.set("onset", 0, "2026-11-20T08:30".into());
        a.set("smoker", 0, "false".into());
        a.set("per_day", 0, "4".into());
        a.add_item(
            "sx",
            StructuredItem::new(ClinicalKind::Symptom, coding("1")),
        );
        a.add_item(
            "sx",
            StructuredItem::new(ClinicalKind::Symptom, coding("2")),
        );
        let mut med = StructuredItem::new(ClinicalKind::MedicationStatement, coding("3"));
        med.dosage_text = "500 mg".into();
        a.add_item("meds", med);
        let subject = Subject {
            patient_id: "p",
            encounter_id: "e",
            offset: chrono::FixedOffset::east_opt(19_800).expect("IST"),
        };
        let built = build(
            &form(),
            &a,
            &subject,
            "w1",
            "2026-11-22T00:00:00Z",
            &json!({"username": "u"}),
        );
        let requests = built.body["requests"].as_array().expect("requests");
        assert_eq!(
            requests.len(),
            3,
            "two structured questions answered + one submit"
        );
        assert_eq!(requests[0]["url"], "/api/v1/patient/p/symptom/upsert/");
        assert_eq!(requests[0]["reference_id"], "sx");
        assert_eq!(
            requests[0]["body"]["datapoints"].as_array().map(Vec::len),
            Some(2)
        );
        assert_eq!(requests[0]["body"]["datapoints"][0]["encounter"], "e");
        assert_eq!(
            requests[0]["body"]["datapoints"][0]["category"],
            "problem_list_item"
        );
        assert!(requests[0]["body"]["datapoints"][0]
            .get("severity")
            .is_none());
        assert_eq!(
            requests[1]["url"],
            "/api/v1/patient/p/medication/statement/upsert/"
        );
        assert_eq!(
            requests[1]["body"]["datapoints"][0]["medication"]["code"],
            "3"
        );
        assert_eq!(
            requests[1]["body"]["datapoints"][0]["dosage_text"],
            "500 mg"
        );
        let submit = &requests[2];
        assert_eq!(submit["url"], "/api/v1/questionnaire/demo/submit/");
        assert_eq!(submit["reference_id"], "qn");
        assert_eq!(submit["body"]["resource_id"], "e");
        assert_eq!(submit["body"]["patient"], "p");
        let results = submit["body"]["results"].as_array().expect("results");
        let ids: Vec<&str> = results
            .iter()
            .filter_map(|r| r["question_id"].as_str())
            .collect();
        assert_eq!(
            ids,
            vec!["pulse", "weight", "meal", "onset", "smoker"],
            "disabled per_day is not sent"
        );
        assert_eq!(results[1]["values"][0]["unit"]["code"], "kg");
        assert_eq!(results[2]["values"][0]["value"], "13:15:00");
        assert_eq!(
            results[3]["values"][0]["value"], "2026-11-20T08:30:00+05:30",
            "zoned as typed on the device"
        );
        assert_eq!(built.entries.len(), 3);
        assert_eq!(built.entries[0].0, ClinicalKind::Symptom);
        assert_eq!(built.entries[0].1["id"], "w1");
        assert_eq!(built.response["questionnaire"]["slug"], "demo");
        assert_eq!(
            built.response["responses"].as_array().map(Vec::len),
            Some(5)
        );
    }

    #[test]
    fn batch_errors_land_on_their_questions() {
        let body = json!({"results": [
            {"reference_id": "sx", "status_code": 400, "data": [
                {"errors": [{"type": "value_error", "loc": ["code"], "msg": "Code not in value set"}]}]},
            {"reference_id": "meds", "status_code": 200, "data": [{"id": "m"}]},
            {"reference_id": "qn", "status_code": 400, "data": {"errors": [
                {"type": "type_error", "question_id": "pulse", "msg": "Invalid integer"},
                {"type": "validation_error", "msg": "Questionnaire is not active"}]}},
            {"reference_id": "other", "status_code": 404, "data": {"detail": "Route not found"}}
        ]});
        let e = map_errors(&form(), &json!({"status": 400, "body": body}));
        assert_eq!(
            e.get("sx").map(String::as_str),
            Some("code: Code not in value set")
        );
        assert_eq!(e.get("pulse").map(String::as_str), Some("Invalid integer"));
        assert!(!e.contains_key("meds"));
        let form_level = e.get(FORM).expect("form-level");
        assert!(
            form_level.contains("Questionnaire is not active")
                && form_level.contains("Route not found")
        );
        let plain = map_errors(&form(), &json!({"errors": [{"msg": "too_short"}]}));
        assert_eq!(plain.get(FORM).map(String::as_str), Some("too_short"));
        let note = map_errors(
            &form(),
            &json!("the write refers to a record that is not on the server yet"),
        );
        assert!(note.contains_key(FORM));
    }
}
