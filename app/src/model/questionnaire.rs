//! Questionnaire definitions (`GET /questionnaire/{slug}/`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::clinical::Coding;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Questionnaire {
    pub id: String,
    pub slug: String,
    pub title: String,
    pub description: Option<String>,
    pub status: String,
    pub subject_type: String,
    pub questions: Vec<Question>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct AnswerOption {
    pub value: String,
    pub initial_selected: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct EnableWhen {
    /// The `link_id` of the question it depends on.
    pub question: String,
    pub operator: String,
    pub answer: Value,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Question {
    pub id: String,
    pub link_id: String,
    pub text: String,
    pub description: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    pub structured_type: Option<String>,
    pub required: Option<bool>,
    pub repeats: Option<bool>,
    pub read_only: Option<bool>,
    pub max_length: Option<u64>,
    pub answer_option: Vec<AnswerOption>,
    pub answer_value_set: Option<String>,
    pub unit: Option<Coding>,
    pub code: Option<Coding>,
    pub questions: Vec<Question>,
    pub enable_when: Vec<EnableWhen>,
    pub enable_behavior: Option<String>,
}

impl Question {
    /// Whether the app's renderer can take an answer to it (every plain kind; of the
    /// structured ones, the four clinical lists it keeps).
    pub fn supported(&self) -> bool {
        self.kind != "structured"
            || self
                .structured_type
                .as_deref()
                .and_then(super::clinical::ClinicalKind::from_structured_type)
                .is_some()
    }

    /// A question a person answers (not a group or a display text).
    pub fn answerable(&self) -> bool {
        self.kind != "group" && self.kind != "display" && self.read_only != Some(true)
    }

    pub fn is_required(&self) -> bool {
        self.required == Some(true)
    }

    pub fn is_repeating(&self) -> bool {
        self.repeats == Some(true)
    }
}

impl Questionnaire {
    /// Whether this app can fill it: something to answer that it supports, and nothing
    /// required that it does not ("Death Form" is one structured part the app lacks).
    pub fn fillable(&self) -> bool {
        let questions = self.all_questions();
        questions.iter().any(|q| q.answerable() && q.supported())
            && !questions.iter().any(|q| q.is_required() && !q.supported())
    }

    /// Every question, depth first (groups included).
    pub fn all_questions(&self) -> Vec<&Question> {
        fn walk<'a>(qs: &'a [Question], out: &mut Vec<&'a Question>) {
            for q in qs {
                out.push(q);
                walk(&q.questions, out);
            }
        }
        let mut out = Vec::new();
        walk(&self.questions, &mut out);
        out
    }

    pub fn question(&self, id: &str) -> Option<&Question> {
        self.all_questions().into_iter().find(|q| q.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn form(questions: serde_json::Value) -> Questionnaire {
        serde_json::from_value(json!({ "questions": questions })).expect("form")
    }

    #[test]
    fn only_forms_the_app_can_fill_are_fillable() {
        let death = form(json!([{"type": "structured", "structured_type": "time_of_death"}]));
        assert!(!death.fillable());
        let notes = form(json!([
            {"type": "text", "text": "Notes"},
            {"type": "structured", "structured_type": "time_of_death"}
        ]));
        assert!(notes.fillable(), "the rest of the form can be filled");
        let required_gap = form(json!([
            {"type": "text", "text": "Notes"},
            {"type": "structured", "structured_type": "encounter", "required": true}
        ]));
        assert!(!required_gap.fillable());
        let symptoms = form(json!([{"type": "group", "questions": [
            {"type": "structured", "structured_type": "symptom"}
        ]}]));
        assert!(symptoms.fillable());
        assert!(!form(json!([{"type": "display", "text": "Hello"}])).fillable());
    }
}
