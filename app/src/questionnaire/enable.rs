//! FHIR `enableWhen` as CARE evaluates it: conditions on other questions' answers (by
//! `link_id`), combined with `enable_behavior` all (default) or any; a disabled group
//! disables everything in it.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::Answers;
use crate::model::{Question, Questionnaire};

/// link_id → the answer strings given (a structured item answers with its code).
pub fn answers_by_link(
    questionnaire: &Questionnaire,
    answers: &Answers,
) -> HashMap<String, Vec<String>> {
    questionnaire
        .all_questions()
        .into_iter()
        .map(|q| {
            let mut given: Vec<String> =
                answers.given(&q.id).into_iter().map(String::from).collect();
            given.extend(answers.items(&q.id).iter().map(|i| i.coding.code.clone()));
            (q.link_id.clone(), given)
        })
        .filter(|(_, v)| !v.is_empty())
        .collect()
}

fn is_true(s: &str) -> Option<bool> {
    match s.trim().to_lowercase().as_str() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

fn matches_answer(value: &str, expected: &Value) -> bool {
    match expected {
        Value::Bool(b) => is_true(value) == Some(*b),
        Value::Number(n) => value.trim().parse::<f64>().ok() == n.as_f64(),
        Value::String(s) => value == s,
        Value::Object(o) => o.get("code").and_then(Value::as_str) == Some(value),
        _ => false,
    }
}

/// Whether `q`'s own conditions hold (ignoring its parents).
pub fn conditions_hold(q: &Question, by_link: &HashMap<String, Vec<String>>) -> bool {
    if q.enable_when.is_empty() {
        return true;
    }
    let holds = |cond: &crate::model::questionnaire::EnableWhen| {
        let empty = Vec::new();
        let answers = by_link.get(&cond.question).unwrap_or(&empty);
        let expected = &cond.answer;
        let numeric = |cmp: fn(f64, f64) -> bool| {
            expected.as_f64().is_some_and(|e| {
                answers
                    .iter()
                    .any(|a| a.trim().parse::<f64>().is_ok_and(|v| cmp(v, e)))
            })
        };
        match cond.operator.as_str() {
            "exists" => answers.is_empty() != expected.as_bool().unwrap_or(true),
            "equals" => answers.iter().any(|a| matches_answer(a, expected)),
            "not_equals" => {
                !answers.is_empty() && answers.iter().all(|a| !matches_answer(a, expected))
            }
            "greater" => numeric(|v, e| v > e),
            "less" => numeric(|v, e| v < e),
            "greater_or_equals" => numeric(|v, e| v >= e),
            "less_or_equals" => numeric(|v, e| v <= e),
            _ => false,
        }
    };
    if q.enable_behavior.as_deref() == Some("any") {
        q.enable_when.iter().any(holds)
    } else {
        q.enable_when.iter().all(holds)
    }
}

/// The ids of every enabled question (a question inside a disabled group is disabled).
/// Answers left in questions that are now disabled are not sent, so they cannot enable
/// others either: evaluated until nothing changes, as the server sees the submission.
pub fn enabled_ids(questionnaire: &Questionnaire, answers: &Answers) -> HashSet<String> {
    fn walk(
        qs: &[Question],
        on: bool,
        by_link: &HashMap<String, Vec<String>>,
        out: &mut HashSet<String>,
    ) {
        for q in qs {
            let enabled = on && conditions_hold(q, by_link);
            if enabled {
                out.insert(q.id.clone());
            }
            walk(&q.questions, enabled, by_link, out);
        }
    }
    let all = answers_by_link(questionnaire, answers);
    let link_of: HashMap<&str, &str> = questionnaire
        .all_questions()
        .into_iter()
        .map(|q| (q.id.as_str(), q.link_id.as_str()))
        .collect();
    let mut by_link = all.clone();
    let mut out = HashSet::new();
    // Each round can only switch more questions off; the depth of the form bounds it.
    for _ in 0..=link_of.len() {
        out.clear();
        walk(&questionnaire.questions, true, &by_link, &mut out);
        let next: HashMap<String, Vec<String>> = all
            .iter()
            .filter(|(link, _)| {
                out.iter()
                    .any(|id| link_of.get(id.as_str()) == Some(&link.as_str()))
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if next == by_link {
            break;
        }
        by_link = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn form() -> Questionnaire {
        serde_json::from_value(json!({"id": "f", "slug": "f", "questions": [
            {"id": "smoker", "link_id": "smoker", "type": "boolean"},
            {"id": "per_day", "link_id": "per_day", "type": "integer",
             "enable_when": [{"question": "smoker", "operator": "equals", "answer": true}]},
            {"id": "quit", "link_id": "quit", "type": "boolean",
             "enable_when": [{"question": "per_day", "operator": "greater", "answer": 0}]},
            {"id": "avpu", "link_id": "avpu", "type": "choice"},
            {"id": "complaint", "link_id": "complaint", "type": "string"},
            {"id": "referral", "link_id": "referral", "type": "url", "enable_behavior": "any",
             "enable_when": [{"question": "avpu", "operator": "not_equals", "answer": "Alert"},
                             {"question": "complaint", "operator": "exists", "answer": true}]},
            {"id": "g", "link_id": "g", "type": "group",
             "enable_when": [{"question": "avpu", "operator": "exists", "answer": true}],
             "questions": [{"id": "inner", "link_id": "inner", "type": "string"}]},
            {"id": "n", "link_id": "n", "type": "decimal",
             "enable_when": [{"question": "per_day", "operator": "less_or_equals", "answer": 10}]},
            {"id": "m", "link_id": "m", "type": "decimal",
             "enable_when": [{"question": "per_day", "operator": "greater_or_equals", "answer": 10},
                             {"question": "per_day", "operator": "less", "answer": 20}]}
        ]}))
        .expect("form")
    }

    #[test]
    fn operators_and_behaviours() {
        let q = form();
        let mut a = Answers::default();
        let on = enabled_ids(&q, &a);
        assert!(on.contains("smoker") && !on.contains("per_day") && !on.contains("quit"));
        assert!(!on.contains("referral"), "any: neither holds");
        assert!(
            !on.contains("g") && !on.contains("inner"),
            "disabled group disables its questions"
        );
        a.set("smoker", 0, "true".into());
        a.set("per_day", 0, "10".into());
        let on = enabled_ids(&q, &a);
        assert!(on.contains("per_day") && on.contains("quit"));
        assert!(on.contains("n") && on.contains("m"));
        a.set("per_day", 0, "0".into());
        let on = enabled_ids(&q, &a);
        assert!(!on.contains("quit") && !on.contains("m"));
        a.set("avpu", 0, "Alert".into());
        let on = enabled_ids(&q, &a);
        assert!(!on.contains("referral"), "Alert equals; complaint missing");
        assert!(on.contains("g") && on.contains("inner"));
        a.set("complaint", 0, "pain".into());
        assert!(
            enabled_ids(&q, &a).contains("referral"),
            "any: exists holds"
        );
        a.set("complaint", 0, String::new());
        a.set("avpu", 0, "Voice".into());
        assert!(
            enabled_ids(&q, &a).contains("referral"),
            "any: not_equals holds"
        );
        a.set("per_day", 0, "5".into());
        a.set("smoker", 0, "false".into());
        let on = enabled_ids(&q, &a);
        assert!(!on.contains("per_day"));
        assert!(
            !on.contains("quit") && !on.contains("n"),
            "a disabled question's leftover answer enables nothing"
        );
    }
}
