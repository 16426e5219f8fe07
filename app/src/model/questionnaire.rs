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
    pub fn is_required(&self) -> bool {
        self.required == Some(true)
    }

    pub fn is_repeating(&self) -> bool {
        self.repeats == Some(true)
    }
}

impl Questionnaire {
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
