//! What the patient pages share about identifiers: the facility's configs (from its cached
//! retrieve, so offline too) and CARE's refusal of a reopened write put back on the form.

use leptos::prelude::*;

use crate::{
    api::keys,
    model::{
        identifier::{FacilityIdentifierConfigs, IdentifierConfig},
        patient_form::patient_field_errors,
        Facility,
    },
    offline::{
        outbox::use_outbox,
        query::{use_query, QueryOptions},
    },
    session::use_session,
};

/// The identifier configs `facility_id` lists (empty until its retrieve is known).
pub fn use_identifier_configs(facility_id: Memo<String>) -> Memo<FacilityIdentifierConfigs> {
    let session = use_session();
    let facility = use_query::<Facility, _, _, _>(
        move || keys::facility(&facility_id.get()),
        move |_| keys::get_facility(session, facility_id.get_untracked()),
        QueryOptions::persisted(),
    );
    Memo::new(move |_| {
        facility
            .data
            .get()
            .map(|f| f.identifier_configs())
            .unwrap_or_default()
    })
}

/// When the form reopened queued write `write_id` that CARE refused: CARE's reasons on
/// their fields (identifier messages on the identifier's field).
pub fn show_refusal(
    write_id: String,
    errors: RwSignal<Vec<(String, String)>>,
    typed: Signal<Vec<IdentifierConfig>>,
) {
    let outbox = use_outbox();
    Effect::new(move |_| {
        let refused = outbox
            .record(&write_id)
            .and_then(|r| r.refusal_body().cloned());
        if let Some(body) = refused {
            errors.set(patient_field_errors(&body, &typed.get()));
        }
    });
}
