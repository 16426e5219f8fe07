//! The pure core of the questionnaire form: what was answered, which questions are enabled,
//! what is wrong with the answers, the one `batch_requests` body a submission becomes, and
//! how the batch's per-request results map back to questions. No Leptos, no browser.

pub mod answers;
pub mod batch;
pub mod codes;
pub mod enable;
pub mod validate;

pub use answers::{AnswerValue, Answers, StructuredItem};
