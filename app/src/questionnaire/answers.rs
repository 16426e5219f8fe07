//! The answers of one form as typed: plain values per question, and structured items
//! (symptoms, diagnoses, allergies, medication statements) per structured question.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{clinical::Coding, ClinicalKind, Question};

/// One value of a plain question, as the form holds it (CARE sends values as strings).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AnswerValue {
    pub value: String,
}

/// One clinical record entered in a structured question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StructuredItem {
    pub coding: Coding,
    /// clinical_status (conditions, allergies) or status (medication statements).
    pub status: String,
    pub verification_status: String,
    pub severity: String,
    /// Allergy category (food, medication …); diagnosis category.
    pub category: String,
    pub criticality: String,
    pub dosage_text: String,
    pub note: String,
}

impl StructuredItem {
    /// A new item with the defaults care_fe starts from.
    pub fn new(kind: ClinicalKind, coding: Coding) -> Self {
        let (status, verification, category) = match kind {
            ClinicalKind::Allergy => ("active", "confirmed", "medication"),
            ClinicalKind::Symptom => ("active", "confirmed", "problem_list_item"),
            ClinicalKind::Diagnosis => ("active", "confirmed", "encounter_diagnosis"),
            ClinicalKind::MedicationStatement => ("active", "", ""),
        };
        Self {
            coding,
            status: status.into(),
            verification_status: verification.into(),
            severity: String::new(),
            category: category.into(),
            criticality: if kind == ClinicalKind::Allergy {
                "low".into()
            } else {
                String::new()
            },
            dosage_text: String::new(),
            note: String::new(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Answers {
    /// question id → values (several only when the question repeats).
    pub values: BTreeMap<String, Vec<AnswerValue>>,
    /// structured question id → items.
    pub structured: BTreeMap<String, Vec<StructuredItem>>,
}

impl Answers {
    /// The non-blank values of a question.
    pub fn given(&self, question_id: &str) -> Vec<&str> {
        self.values
            .get(question_id)
            .map(|v| {
                v.iter()
                    .map(|a| a.value.trim())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The value in slot `index` ("" when not typed yet).
    pub fn value_at(&self, question_id: &str, index: usize) -> String {
        self.values
            .get(question_id)
            .and_then(|v| v.get(index))
            .map(|a| a.value.clone())
            .unwrap_or_default()
    }

    /// Sets slot `index`, growing the list as needed.
    pub fn set(&mut self, question_id: &str, index: usize, value: String) {
        let slots = self.values.entry(question_id.to_string()).or_default();
        while slots.len() <= index {
            slots.push(AnswerValue::default());
        }
        slots[index].value = value;
    }

    /// How many input slots a question shows (at least one).
    pub fn slots(&self, question_id: &str) -> usize {
        self.values.get(question_id).map_or(1, |v| v.len().max(1))
    }

    pub fn add_slot(&mut self, question_id: &str) {
        let n = self.slots(question_id);
        self.set(question_id, n, String::new());
    }

    pub fn remove_slot(&mut self, question_id: &str, index: usize) {
        if let Some(slots) = self.values.get_mut(question_id) {
            if index < slots.len() {
                slots.remove(index);
            }
        }
    }

    pub fn items(&self, question_id: &str) -> &[StructuredItem] {
        self.structured
            .get(question_id)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Adds a coded item unless the same code is already there.
    pub fn add_item(&mut self, question_id: &str, item: StructuredItem) -> bool {
        let items = self.structured.entry(question_id.to_string()).or_default();
        if items.iter().any(|i| i.coding.code == item.coding.code) {
            return false;
        }
        items.push(item);
        true
    }

    pub fn remove_item(&mut self, question_id: &str, index: usize) {
        if let Some(items) = self.structured.get_mut(question_id) {
            if index < items.len() {
                items.remove(index);
            }
        }
    }

    pub fn update_item(
        &mut self,
        question_id: &str,
        index: usize,
        f: impl FnOnce(&mut StructuredItem),
    ) {
        if let Some(item) = self
            .structured
            .get_mut(question_id)
            .and_then(|i| i.get_mut(index))
        {
            f(item);
        }
    }

    /// True when the question has something (a value or a structured item).
    pub fn answered(&self, q: &Question) -> bool {
        !self.given(&q.id).is_empty() || !self.items(&q.id).is_empty()
    }

    /// Answers preset by the definition (`initial_selected` options).
    pub fn initial(questions: &[Question]) -> Answers {
        let mut out = Answers::default();
        fn walk(qs: &[Question], out: &mut Answers) {
            for q in qs {
                for o in q
                    .answer_option
                    .iter()
                    .filter(|o| o.initial_selected == Some(true))
                {
                    let n = out.given(&q.id).len();
                    if n == 0 || q.is_repeating() {
                        out.set(&q.id, n, o.value.clone());
                    }
                }
                walk(&q.questions, out);
            }
        }
        walk(questions, &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn coding(code: &str) -> Coding {
        Coding {
            system: "http://snomed.info/sct".into(),
            code: code.into(),
            display: code.into(),
        }
    }

    #[test]
    fn slots_grow_and_shrink() {
        let mut a = Answers::default();
        assert_eq!(a.slots("q"), 1);
        a.set("q", 0, " 5 ".into());
        a.add_slot("q");
        a.set("q", 1, "6".into());
        assert_eq!(a.given("q"), vec!["5", "6"]);
        assert_eq!(a.slots("q"), 2);
        a.remove_slot("q", 0);
        assert_eq!(a.given("q"), vec!["6"]);
        a.set("q", 0, "  ".into());
        assert!(a.given("q").is_empty(), "blank is not an answer");
    }

    #[test]
    fn items_are_unique_by_code() {
        let mut a = Answers::default();
        assert!(a.add_item("s", StructuredItem::new(ClinicalKind::Symptom, coding("1"))));
        assert!(!a.add_item("s", StructuredItem::new(ClinicalKind::Symptom, coding("1"))));
        assert!(a.add_item("s", StructuredItem::new(ClinicalKind::Symptom, coding("2"))));
        a.update_item("s", 1, |i| i.severity = "mild".into());
        assert_eq!(a.items("s")[1].severity, "mild");
        a.remove_item("s", 0);
        assert_eq!(a.items("s").len(), 1);
        assert_eq!(a.items("s")[0].coding.code, "2");
    }

    #[test]
    fn initial_selected_options_prefill() {
        let q: Question = serde_json::from_value(serde_json::json!({
            "id": "q", "link_id": "q", "type": "choice",
            "answer_option": [{"value": "a"}, {"value": "b", "initial_selected": true}]
        }))
        .expect("q");
        assert_eq!(Answers::initial(&[q]).given("q"), vec!["b"]);
    }
}
