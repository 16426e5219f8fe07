//! Client-side checks before a form is queued, with CARE's rules: required questions,
//! per-type value checks, text length. Disabled questions are not checked (their answers
//! are not sent). Messages are keyed by question id, to show on the question.

use std::collections::{BTreeMap, HashSet};

use super::{enable::enabled_ids, Answers};
use crate::model::{Question, Questionnaire};

/// CARE's limit on text answers.
pub const MAX_TEXT: usize = 2500;

pub fn is_url(s: &str) -> bool {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    rest.is_some_and(|r| {
        let host = r.split(['/', '?', '#']).next().unwrap_or("");
        !host.is_empty() && !r.contains(char::is_whitespace)
    })
}

/// Why one value does not fit the question's type.
pub fn value_problem(q: &Question, value: &str) -> Option<String> {
    let t = value.trim();
    let bad = |m: &str| Some(m.to_string());
    match q.kind.as_str() {
        "integer" => t
            .parse::<i64>()
            .is_err()
            .then(|| "Enter a whole number.".to_string()),
        "decimal" | "quantity" => {
            (!t.parse::<f64>().is_ok_and(f64::is_finite)).then(|| "Enter a number.".to_string())
        }
        "boolean" => (!matches!(t, "true" | "false")).then(|| "Choose yes or no.".to_string()),
        "date" => chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .is_err()
            .then(|| "Enter a date.".to_string()),
        "dateTime" => {
            let ok = chrono::DateTime::parse_from_rfc3339(t).is_ok()
                || ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"]
                    .iter()
                    .any(|f| chrono::NaiveDateTime::parse_from_str(t, f).is_ok());
            (!ok).then(|| "Enter a date and time.".to_string())
        }
        "time" => ["%H:%M:%S", "%H:%M"]
            .iter()
            .all(|f| chrono::NaiveTime::parse_from_str(t, f).is_err())
            .then(|| "Enter a time.".to_string()),
        "url" => (!is_url(t))
            .then(|| "Enter a web address starting with http:// or https://.".to_string()),
        "choice" => {
            let known =
                q.answer_option.is_empty() || q.answer_option.iter().any(|o| o.value == value);
            if known {
                None
            } else {
                bad("Choose one of the options.")
            }
        }
        "string" | "text" => {
            let max = q
                .max_length
                .map_or(MAX_TEXT, |m| (m as usize).min(MAX_TEXT));
            (value.chars().count() > max).then(|| format!("At most {max} characters."))
        }
        _ => None,
    }
}

/// Every problem, by question id (empty when the form can be submitted).
pub fn validate(questionnaire: &Questionnaire, answers: &Answers) -> BTreeMap<String, String> {
    let enabled = enabled_ids(questionnaire, answers);
    let mut errors = BTreeMap::new();
    fn any_answered(qs: &[Question], answers: &Answers, enabled: &HashSet<String>) -> bool {
        qs.iter().any(|q| {
            enabled.contains(&q.id)
                && (answers.answered(q) || any_answered(&q.questions, answers, enabled))
        })
    }
    fn walk(
        qs: &[Question],
        answers: &Answers,
        enabled: &HashSet<String>,
        errors: &mut BTreeMap<String, String>,
    ) {
        for q in qs.iter().filter(|q| enabled.contains(&q.id)) {
            match q.kind.as_str() {
                "group" => {
                    if q.is_required() && !any_answered(&q.questions, answers, enabled) {
                        errors.insert(
                            q.id.clone(),
                            "Answer at least one question in this group.".into(),
                        );
                    }
                    walk(&q.questions, answers, enabled, errors);
                }
                "display" => {}
                "structured" => {
                    if q.is_required() && answers.items(&q.id).is_empty() {
                        errors.insert(q.id.clone(), "Add at least one entry.".into());
                    }
                }
                _ => {
                    let given = answers.given(&q.id);
                    if given.is_empty() {
                        if q.is_required() {
                            errors.insert(q.id.clone(), "This question is required.".into());
                        }
                        continue;
                    }
                    if given.len() > 1 && !q.is_repeating() {
                        errors.insert(q.id.clone(), "Only one answer is allowed.".into());
                        continue;
                    }
                    if let Some(problem) = given.iter().find_map(|v| value_problem(q, v)) {
                        errors.insert(q.id.clone(), problem);
                    }
                }
            }
        }
    }
    walk(&questionnaire.questions, answers, &enabled, &mut errors);
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn form() -> Questionnaire {
        serde_json::from_value(json!({"id": "f", "slug": "f", "questions": [
            {"id": "complaint", "link_id": "complaint", "type": "string", "required": true, "max_length": 5},
            {"id": "vitals", "link_id": "vitals", "type": "group", "required": true, "questions": [
                {"id": "pulse", "link_id": "pulse", "type": "integer"},
                {"id": "temp", "link_id": "temp", "type": "decimal"}
            ]},
            {"id": "avpu", "link_id": "avpu", "type": "choice", "answer_option": [{"value": "Alert"}]},
            {"id": "when", "link_id": "when", "type": "dateTime"},
            {"id": "meal", "link_id": "meal", "type": "time"},
            {"id": "lmp", "link_id": "lmp", "type": "date"},
            {"id": "smoker", "link_id": "smoker", "type": "boolean", "required": true},
            {"id": "per_day", "link_id": "per_day", "type": "integer", "required": true,
             "enable_when": [{"question": "smoker", "operator": "equals", "answer": true}]},
            {"id": "url", "link_id": "url", "type": "url"},
            {"id": "dx", "link_id": "dx", "type": "structured", "structured_type": "diagnosis", "required": true},
            {"id": "intro", "link_id": "intro", "type": "display", "required": true}
        ]}))
        .expect("form")
    }

    #[test]
    fn required_questions_and_groups() {
        let errors = validate(&form(), &Answers::default());
        assert_eq!(
            errors.get("complaint").map(String::as_str),
            Some("This question is required.")
        );
        assert!(errors.contains_key("vitals"));
        assert!(errors.contains_key("smoker"));
        assert!(!errors.contains_key("per_day"), "disabled: not required");
        assert_eq!(
            errors.get("dx").map(String::as_str),
            Some("Add at least one entry.")
        );
        assert!(!errors.contains_key("intro"));
    }

    #[test]
    fn values_are_checked_by_type() {
        let mut a = Answers::default();
        a.set("complaint", 0, "too long".into());
        a.set("pulse", 0, "7.5".into());
        a.set("temp", 0, "warm".into());
        a.set("avpu", 0, "Asleep".into());
        a.set("when", 0, "yesterday".into());
        a.set("meal", 0, "noon".into());
        a.set("lmp", 0, "2026-13-01".into());
        a.set("smoker", 0, "true".into());
        a.set("url", 0, "example.org".into());
        let e = validate(&form(), &a);
        for id in [
            "complaint",
            "pulse",
            "temp",
            "avpu",
            "when",
            "meal",
            "lmp",
            "url",
            "per_day",
        ] {
            assert!(e.contains_key(id), "{id}: {e:?}");
        }
        assert!(!e.contains_key("vitals"), "a child is answered");
        let mut ok = Answers::default();
        ok.set("complaint", 0, "pain".into());
        ok.set("pulse", 0, "72".into());
        ok.set("temp", 0, "37.2".into());
        ok.set("avpu", 0, "Alert".into());
        ok.set("when", 0, "2026-11-20T08:30".into());
        ok.set("meal", 0, "13:15".into());
        ok.set("lmp", 0, "2026-11-01".into());
        ok.set("smoker", 0, "false".into());
        ok.set("url", 0, "https://example.org/letter".into());
        ok.add_item(
            "dx",
            crate::questionnaire::StructuredItem::new(
                crate::model::ClinicalKind::Diagnosis,
                crate::model::Coding {
                    system: "s".into(),
                    code: "c".into(),
                    display: "d".into(),
                },
            ),
        );
        assert!(
            validate(&form(), &ok).is_empty(),
            "{:?}",
            validate(&form(), &ok)
        );
        ok.set("pulse", 1, "80".into());
        assert_eq!(
            validate(&form(), &ok).get("pulse").map(String::as_str),
            Some("Only one answer is allowed.")
        );
    }
}
