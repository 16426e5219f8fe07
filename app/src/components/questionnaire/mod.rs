//! The questionnaire renderer: one component per file. The form's state (answers, errors,
//! enabled questions) is shared through a `Copy` context provided by `QuestionnaireForm`.

pub mod code_picker;
pub mod form;
pub mod plain_question;
pub mod question;
pub mod structured_item;
pub mod structured_question;
pub mod value_input;

use std::collections::{BTreeMap, HashSet};

use leptos::prelude::*;

use crate::questionnaire::Answers;

/// What every question of one form reads and writes.
#[derive(Debug, Clone, Copy)]
pub struct FormState {
    pub answers: RwSignal<Answers>,
    /// Messages by question id (client validation, or CARE's answer mapped back).
    pub errors: RwSignal<BTreeMap<String, String>>,
    pub enabled: Memo<HashSet<String>>,
}

impl FormState {
    pub fn error(&self, question_id: &str) -> Option<String> {
        self.errors.with(|e| e.get(question_id).cloned())
    }
}

pub fn use_form_state() -> FormState {
    expect_context::<FormState>()
}
