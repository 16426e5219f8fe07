//! Checking a questionnaire submission the way CARE's `submit/` does: the shape of each
//! result, then each answer against its question — per-type values, `required`,
//! `enable_when`, choices from value sets, CARE's limit on text.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::{
    error::CareError,
    validate::Checker,
    valueset::{self, parse_coding},
};

/// CARE's limit on a text answer.
const MAX_TEXT: usize = 2500;

pub(crate) fn text<'a>(q: &'a Map<String, Value>, key: &str) -> &'a str {
    q.get(key).and_then(Value::as_str).unwrap_or("")
}

/// One answer as submitted (validated for shape).
pub(crate) struct Answer {
    pub(crate) question_id: String,
    /// The stored form: `{question_id, values, note?, …}`.
    pub(crate) stored: Value,
    pub(crate) values: Vec<Map<String, Value>>,
}

pub(crate) fn parse_submission(
    body: &Map<String, Value>,
) -> Result<(String, String, Option<String>, Vec<Answer>), CareError> {
    let mut c = Checker::new(body);
    let resource_id = c.req_uuid("resource_id");
    let patient_id = c.req_uuid("patient");
    let encounter = c.opt_uuid("encounter").value();
    let mut answers = Vec::new();
    match body.get("results") {
        None => c.missing("results"),
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                let idx = i.to_string();
                let Value::Object(obj) = item else {
                    c.error(
                        "model_type",
                        &["results", &idx],
                        "Input should be a valid dictionary or instance of QuestionnaireSubmitResult",
                        item.clone(),
                        Some(json!({"class_name": "QuestionnaireSubmitResult"})),
                    );
                    continue;
                };
                let question_id = match obj.get("question_id") {
                    Some(v) => c.uuid_value(&["results", &idx, "question_id"], v),
                    None => {
                        c.error(
                            "missing",
                            &["results", &idx, "question_id"],
                            "Field required",
                            item.clone(),
                            None,
                        );
                        None
                    }
                };
                let mut values = Vec::new();
                match obj.get("values") {
                    None | Some(Value::Null) => {}
                    Some(Value::Array(vals)) => {
                        for (j, v) in vals.iter().enumerate() {
                            let jdx = j.to_string();
                            let Value::Object(vo) = v else {
                                c.error(
                                    "model_type",
                                    &["results", &idx, "values", &jdx],
                                    "Input should be a valid dictionary or instance of QuestionnaireSubmitResultValue",
                                    v.clone(),
                                    Some(json!({"class_name": "QuestionnaireSubmitResultValue"})),
                                );
                                continue;
                            };
                            let mut kept = Map::new();
                            for (key, value) in vo {
                                if value.is_null() {
                                    continue;
                                }
                                let path = [
                                    "results",
                                    idx.as_str(),
                                    "values",
                                    jdx.as_str(),
                                    key.as_str(),
                                ];
                                match key.as_str() {
                                    "value" => {
                                        if value.is_string() {
                                            kept.insert(key.clone(), value.clone());
                                        } else {
                                            c.error(
                                                "string_type",
                                                &path,
                                                "Input should be a valid string",
                                                value.clone(),
                                                None,
                                            );
                                        }
                                    }
                                    "unit" | "coding" => {
                                        if let Some(coding) = parse_coding(&mut c, &path, value) {
                                            kept.insert(key.clone(), Value::Object(coding));
                                        }
                                    }
                                    _ => {}
                                }
                            }
                            values.push(kept);
                        }
                    }
                    Some(other) => c.error(
                        "list_type",
                        &["results", &idx, "values"],
                        "Input should be a valid list",
                        other.clone(),
                        None,
                    ),
                }
                if let Some(note) = obj.get("note").filter(|n| !n.is_null() && !n.is_string()) {
                    c.error(
                        "string_type",
                        &["results", &idx, "note"],
                        "Input should be a valid string",
                        note.clone(),
                        None,
                    );
                }
                if let Some(taken_at) = obj.get("taken_at").filter(|t| !t.is_null()) {
                    c.tz_datetime_value(&["results", &idx, "taken_at"], taken_at);
                }
                for key in ["body_site", "method"] {
                    if let Some(v) = obj.get(key).filter(|v| !v.is_null()) {
                        parse_coding(&mut c, &["results", &idx, key], v);
                    }
                }
                if let Some(question_id) = question_id {
                    let mut stored = Map::new();
                    stored.insert("question_id".into(), json!(question_id));
                    stored.insert(
                        "values".into(),
                        Value::Array(values.iter().cloned().map(Value::Object).collect()),
                    );
                    for key in ["note", "body_site", "method", "taken_at"] {
                        if let Some(v) = obj.get(key).filter(|v| !v.is_null()) {
                            stored.insert(key.into(), v.clone());
                        }
                    }
                    answers.push(Answer {
                        question_id,
                        stored: Value::Object(stored),
                        values,
                    });
                }
            }
        }
        Some(other) => c.error(
            "list_type",
            &["results"],
            "Input should be a valid list",
            other.clone(),
            None,
        ),
    }
    c.finish()?;
    match (resource_id, patient_id) {
        (Some(r), Some(p)) => Ok((r, p, encounter, answers)),
        _ => Err(CareError::Internal("validated fields missing".into())),
    }
}

/// The answer strings a question got (a coding answers with its code).
fn answer_strings(values: &[Map<String, Value>]) -> Vec<String> {
    values
        .iter()
        .filter_map(|v| {
            v.get("value")
                .and_then(Value::as_str)
                .map(String::from)
                .or_else(|| {
                    v.get("coding")
                        .and_then(|c| c.get("code"))
                        .and_then(Value::as_str)
                        .map(String::from)
                })
        })
        .filter(|s| !s.trim().is_empty())
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

/// FHIR `enableWhen` over the answers by `link_id`.
fn enabled(q: &Value, by_link: &HashMap<String, Vec<String>>) -> bool {
    let Some(conditions) = q["enable_when"].as_array().filter(|c| !c.is_empty()) else {
        return true;
    };
    let holds = |cond: &Value| {
        let answers = cond["question"]
            .as_str()
            .and_then(|l| by_link.get(l))
            .cloned()
            .unwrap_or_default();
        let expected = &cond["answer"];
        let numeric = |cmp: fn(f64, f64) -> bool| {
            expected.as_f64().is_some_and(|e| {
                answers
                    .iter()
                    .any(|a| a.trim().parse::<f64>().is_ok_and(|v| cmp(v, e)))
            })
        };
        match cond["operator"].as_str().unwrap_or("") {
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
    if q["enable_behavior"] == "any" {
        conditions.iter().any(holds)
    } else {
        conditions.iter().all(holds)
    }
}

fn is_url(s: &str) -> bool {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    rest.is_some_and(|r| {
        let host = r.split(['/', '?', '#']).next().unwrap_or("");
        !host.is_empty() && !r.contains(char::is_whitespace)
    })
}

/// Why one value does not fit the question's type (CARE's `type_error` messages).
fn type_problem(q: &Value, value: &Map<String, Value>) -> Option<&'static str> {
    let s = value.get("value").and_then(Value::as_str);
    let kind = q["type"].as_str().unwrap_or("");
    let Some(s) = s else {
        // Only a choice bound to a value set may answer with a coding alone.
        return match (kind, value.get("coding")) {
            ("choice", Some(coding)) => {
                let slug = q["answer_value_set"].as_str().unwrap_or("");
                let code = coding["code"].as_str().unwrap_or("");
                (!slug.is_empty()
                    && valueset::lookup(slug, coding["system"].as_str(), code).is_none())
                .then_some("Invalid coding")
            }
            ("group" | "display" | "structured", _) => None,
            _ => Some("Value is required"),
        };
    };
    let t = s.trim();
    match kind {
        "integer" => t.parse::<i64>().is_err().then_some("Invalid integer"),
        "decimal" => (!t.parse::<f64>().is_ok_and(f64::is_finite)).then_some("Invalid decimal"),
        "quantity" => (!t.parse::<f64>().is_ok_and(f64::is_finite)).then_some("Invalid quantity"),
        "boolean" => is_true(t).is_none().then_some("Invalid boolean"),
        "date" => chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .is_err()
            .then_some("Invalid date"),
        "dateTime" => {
            let ok = chrono::DateTime::parse_from_rfc3339(t).is_ok()
                || ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"]
                    .iter()
                    .any(|f| chrono::NaiveDateTime::parse_from_str(t, f).is_ok());
            (!ok).then_some("Invalid datetime")
        }
        "time" => ["%H:%M:%S", "%H:%M:%S%.f", "%H:%M"]
            .iter()
            .all(|f| chrono::NaiveTime::parse_from_str(t, f).is_err())
            .then_some("Invalid time"),
        "url" => (!is_url(t)).then_some("Invalid URL"),
        "choice" => {
            let options: Vec<&str> = q["answer_option"]
                .as_array()
                .map(|a| a.iter().filter_map(|o| o["value"].as_str()).collect())
                .unwrap_or_default();
            (!options.is_empty() && !options.contains(&s)).then_some("Invalid choice")
        }
        "string" | "text" => {
            let max = q["max_length"]
                .as_u64()
                .map_or(MAX_TEXT, |m| (m as usize).min(MAX_TEXT));
            (s.chars().count() > max).then_some("Text too long")
        }
        _ => None,
    }
}

fn question_error(kind: &str, question_id: &str, msg: &str) -> Value {
    json!({"type": kind, "question_id": question_id, "msg": msg})
}

/// Checks every answer against its question; required and enable_when on the whole form.
pub(crate) fn check_answers(questionnaire: &Map<String, Value>, answers: &[Answer]) -> Vec<Value> {
    let mut errors = Vec::new();
    let questions = questionnaire
        .get("questions")
        .cloned()
        .unwrap_or_else(|| json!([]));
    let mut all: HashMap<String, Value> = HashMap::new();
    fn flatten(qs: &Value, out: &mut HashMap<String, Value>) {
        for q in qs.as_array().into_iter().flatten() {
            if let Some(id) = q["id"].as_str() {
                out.insert(id.to_string(), q.clone());
            }
            flatten(&q["questions"], out);
        }
    }
    flatten(&questions, &mut all);
    let mut by_id: HashMap<&str, &Answer> = HashMap::new();
    let mut by_link: HashMap<String, Vec<String>> = HashMap::new();
    for a in answers {
        match all.get(&a.question_id) {
            None => errors.push(question_error(
                "question_not_found",
                &a.question_id,
                "Question not found",
            )),
            Some(q) => {
                by_id.insert(a.question_id.as_str(), a);
                if let Some(link) = q["link_id"].as_str() {
                    by_link
                        .entry(link.to_string())
                        .or_default()
                        .extend(answer_strings(&a.values));
                }
            }
        }
    }
    fn walk(
        qs: &Value,
        parent_enabled: bool,
        by_id: &HashMap<&str, &Answer>,
        by_link: &HashMap<String, Vec<String>>,
        errors: &mut Vec<Value>,
    ) {
        for q in qs.as_array().into_iter().flatten() {
            let id = q["id"].as_str().unwrap_or("");
            let on = parent_enabled && enabled(q, by_link);
            let kind = q["type"].as_str().unwrap_or("");
            let answer = by_id.get(id);
            let given = answer
                .map(|a| !answer_strings(&a.values).is_empty() || !a.values.is_empty())
                .unwrap_or(false);
            if kind == "group" {
                walk(&q["questions"], on, by_id, by_link, errors);
                continue;
            }
            if kind == "display" || kind == "structured" {
                continue;
            }
            if !on {
                if given {
                    errors.push(question_error(
                        "question_disabled",
                        id,
                        "Question is not enabled",
                    ));
                }
                continue;
            }
            if q["required"] == true && !given {
                errors.push(question_error(
                    "values_missing",
                    id,
                    "Missing Required Value",
                ));
                continue;
            }
            let Some(answer) = answer else { continue };
            if answer.values.len() > 1 && q["repeats"] != true {
                errors.push(question_error(
                    "type_error",
                    id,
                    "Multiple values not allowed",
                ));
                continue;
            }
            if let Some(msg) = answer.values.iter().find_map(|v| type_problem(q, v)) {
                errors.push(question_error("type_error", id, msg));
            }
        }
    }
    walk(&questions, true, &by_id, &by_link, &mut errors);
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enable_when_operators() {
        let by_link: HashMap<String, Vec<String>> = [
            ("a".to_string(), vec!["5".to_string()]),
            ("b".to_string(), vec!["true".to_string()]),
        ]
        .into_iter()
        .collect();
        let q = |cond: Value| json!({"enable_when": [cond]});
        assert!(enabled(
            &q(json!({"question": "a", "operator": "greater", "answer": 4})),
            &by_link
        ));
        assert!(!enabled(
            &q(json!({"question": "a", "operator": "less", "answer": 4})),
            &by_link
        ));
        assert!(enabled(
            &q(json!({"question": "b", "operator": "equals", "answer": true})),
            &by_link
        ));
        assert!(enabled(
            &q(json!({"question": "c", "operator": "exists", "answer": false})),
            &by_link
        ));
        assert!(!enabled(
            &q(json!({"question": "c", "operator": "not_equals", "answer": "x"})),
            &by_link
        ));
        let any = json!({"enable_behavior": "any", "enable_when": [
            {"question": "c", "operator": "exists", "answer": true},
            {"question": "a", "operator": "equals", "answer": 5}]});
        assert!(enabled(&any, &by_link));
    }
}
