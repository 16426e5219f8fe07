use leptos::prelude::*;
use serde_json::Value;

use crate::{
    api::keys::encounter as keys,
    model::Questionnaire,
    offline::{outbox::OutboxRecord, query::use_query_client},
    questionnaire::batch::{map_errors, FORM},
};

/// The slug of the questionnaire a batch submits (from its submit request's URL).
pub fn submitted_slug(payload: &Value) -> Option<String> {
    payload
        .get("requests")?
        .as_array()?
        .iter()
        .filter_map(|r| r.get("url")?.as_str())
        .find_map(|url| {
            let rest = url.strip_prefix("/api/v1/questionnaire/")?;
            let slug = rest.strip_suffix("/submit/")?;
            (!slug.contains('/')).then(|| slug.to_string())
        })
}

/// Why a questionnaire submission that failed while syncing was refused, question by
/// question (names from the definition cached on this device).
#[component]
pub fn BatchFailure(
    /// The failed `questionnaire.submit` write.
    record: OutboxRecord,
) -> impl IntoView {
    let client = use_query_client();
    let questionnaire: Questionnaire = submitted_slug(&record.payload)
        .and_then(|slug| client.get_query_data(&keys::questionnaire_detail(&slug)))
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let Some(error) = record.last_error.clone() else {
        return ().into_any();
    };
    let lines: Vec<(String, String)> = map_errors(&questionnaire, &error)
        .into_iter()
        .map(|(id, msg)| {
            let name = if id == FORM {
                "The form".to_string()
            } else {
                questionnaire
                    .question(&id)
                    .map(|q| q.text.clone())
                    .unwrap_or_else(|| format!("Question {id}"))
            };
            (name, msg)
        })
        .collect();
    view! {
        <ul class="batch-failure" data-testid="batch-failure">
            {lines.into_iter().map(|(name, msg)| view! {
                <li><strong>{name}</strong>": "{msg}</li>
            }).collect_view()}
        </ul>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_the_submitted_questionnaire() {
        let payload = json!({"requests": [
            {"url": "/api/v1/patient/p/symptom/upsert/"},
            {"url": "/api/v1/questionnaire/demo-encounter-assessment/submit/"}
        ]});
        assert_eq!(
            submitted_slug(&payload).as_deref(),
            Some("demo-encounter-assessment")
        );
        assert_eq!(submitted_slug(&json!({"requests": []})), None);
    }
}
