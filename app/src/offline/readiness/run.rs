//! One run of getting ready: each part fetched through the query cache (saved on the
//! device as if its page had been opened), progress reported, the size budget kept.

use std::future::Future;

use leptos::prelude::*;
use serde::{de::DeserializeOwned, Serialize};
use serde_json::{json, Value};

use super::report::{
    area_parents, days_ahead, months_of, Part, Report, BYTE_BUDGET, ENCOUNTER_PAGES, MAX_FORMS,
    MAX_PRACTITIONERS, PATIENT_PAGES,
};
use crate::{
    api::{
        keys::{self, appointment as akeys, encounter as ekeys, PATIENT_PAGE_SIZE},
        ApiError,
    },
    model::{
        clinical::ClinicalKind, AvailableUsers, Encounter, Facility, Paginated, Questionnaire,
    },
    offline::{
        outbox::Outbox,
        query::{client::now_ms, QueryClient, QueryKey, QueryOptions},
    },
    session::Session,
};

struct Run {
    client: QueryClient,
    progress: RwSignal<Option<(usize, usize)>>,
    report: Report,
    done: usize,
    planned: usize,
    /// Set when the user changed or the session ended: the rest is not fetched.
    stopped: bool,
}

impl Run {
    fn plan(&mut self, more: usize) {
        self.planned += more;
        self.progress.set(Some((self.done, self.planned)));
    }

    fn miss(&mut self, part: Part) {
        if !self.report.missing.contains(&part) {
            self.report.missing.push(part);
        }
    }

    /// False (and the part noted as left out) once the size budget is spent.
    fn within_budget(&mut self, part: Part) -> bool {
        if part.optional() && self.report.bytes > BYTE_BUDGET {
            if !self.report.trimmed.contains(&part) {
                self.report.trimmed.push(part);
            }
            return false;
        }
        true
    }

    /// Fetches one query and saves it; its value when it came.
    async fn get<T, Fut>(&mut self, part: Part, key: QueryKey, fetch: Fut) -> Option<T>
    where
        T: Serialize + DeserializeOwned,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        if self.stopped {
            return None;
        }
        let outcome = self
            .client
            .fetch(key.clone(), QueryOptions::persisted(), fetch)
            .await;
        self.done += 1;
        self.progress
            .set(Some((self.done, self.planned.max(self.done))));
        match outcome {
            Ok(()) => {
                let Some(value) = self.client.get_query_data(&key) else {
                    // The user changed while it ran: nothing of this run belongs to them.
                    self.stopped = true;
                    return None;
                };
                self.report.saved += 1;
                self.report.bytes += value.to_string().len();
                serde_json::from_value(value).ok()
            }
            // Not this user's to see (a volunteer's encounter list): nothing to get.
            Err(ApiError::Http {
                status: 403 | 404, ..
            }) => None,
            Err(ApiError::AuthExpired) => {
                self.miss(part);
                self.stopped = true;
                None
            }
            Err(_) => {
                self.miss(part);
                None
            }
        }
    }
}

/// Gets the device ready for offline work in `facility_id`; None when the run was cut
/// short by a change of user (its report would describe someone else's cache).
pub async fn get_ready(
    session: Session,
    client: QueryClient,
    outbox: Outbox,
    facility_id: String,
    progress: RwSignal<Option<(usize, usize)>>,
) -> Option<Report> {
    let fid = facility_id;
    let codes = [
        ClinicalKind::Symptom.valueset(),
        ClinicalKind::Allergy.valueset(),
        ClinicalKind::MedicationStatement.valueset(),
    ];
    let mut run = Run {
        client,
        progress,
        report: Report {
            facility_id: fid.clone(),
            ..Report::default()
        },
        done: 0,
        planned: 0,
        stopped: false,
    };
    // Facility, departments, forms list, code lists, practitioners, list pages.
    run.plan(4 + codes.len() + PATIENT_PAGES as usize + ENCOUNTER_PAGES as usize);

    let facility: Option<Facility> = run
        .get(
            Part::Facility,
            keys::facility(&fid),
            keys::get_facility(session, fid.clone()),
        )
        .await;
    run.get::<Paginated<crate::model::Organization>, _>(
        Part::Departments,
        ekeys::facility_organizations(&fid),
        ekeys::get_facility_organizations(session, fid.clone()),
    )
    .await;

    let parents = area_parents(facility.as_ref().and_then(|f| f.geo_organization.as_ref()));
    run.plan(parents.len());
    for parent in parents {
        run.get::<Paginated<crate::model::Organization>, _>(
            Part::Areas,
            keys::areas(&parent),
            keys::get_areas(session, parent.clone()),
        )
        .await;
    }

    let forms: Option<Paginated<Questionnaire>> = run
        .get(
            Part::Forms,
            ekeys::questionnaire_list("encounter"),
            ekeys::get_questionnaires(session, "encounter".into()),
        )
        .await;
    let slugs: Vec<String> = forms
        .map(|f| {
            f.results
                .into_iter()
                .take(MAX_FORMS)
                .map(|q| q.slug)
                .collect()
        })
        .unwrap_or_default();
    run.plan(slugs.len());
    for slug in slugs {
        run.get::<Questionnaire, _>(
            Part::Forms,
            ekeys::questionnaire_detail(&slug),
            ekeys::get_questionnaire(session, slug.clone()),
        )
        .await;
    }

    // The lists a code picker shows before anything is typed.
    for valueset in codes {
        let key = keys::valueset_expand(valueset, &json!({"search": "", "count": 10}));
        run.get::<Value, _>(Part::Codes, key.clone(), keys::post_read_only(session, key))
            .await;
    }

    let users: Option<AvailableUsers> = run
        .get(
            Part::Practitioners,
            akeys::available_users(&fid),
            akeys::get_available_users(session, fid.clone()),
        )
        .await;
    let practitioners: Vec<String> = users
        .map(|u| {
            u.users
                .into_iter()
                .take(MAX_PRACTITIONERS)
                .map(|u| u.id)
                .collect()
        })
        .unwrap_or_default();
    let days = days_ahead(chrono::Local::now().date_naive());
    let months = months_of(&days);
    run.plan(practitioners.len() * (months.len() + days.len()));
    'slots: for practitioner in &practitioners {
        for (from, to) in &months {
            if !run.within_budget(Part::Slots) {
                break 'slots;
            }
            let key = keys::availability_stats(
                &fid,
                &akeys::stats_body(practitioner, &from.to_string(), &to.to_string()),
            );
            run.get::<Value, _>(Part::Slots, key.clone(), keys::post_read_only(session, key))
                .await;
        }
        for day in &days {
            if !run.within_budget(Part::Slots) {
                break 'slots;
            }
            let key = keys::slots_for_day(&fid, &akeys::day_body(practitioner, &day.to_string()));
            run.get::<Value, _>(Part::Slots, key.clone(), keys::post_read_only(session, key))
                .await;
        }
    }

    for page in 0..PATIENT_PAGES {
        if !run.within_budget(Part::Patients) {
            break;
        }
        let offset = page * PATIENT_PAGE_SIZE;
        run.get::<Paginated<crate::model::Patient>, _>(
            Part::Patients,
            keys::patient_list(&fid, "", offset),
            keys::get_patient_page(session, String::new(), offset),
        )
        .await;
    }
    for page in 0..ENCOUNTER_PAGES {
        if !run.within_budget(Part::Encounters) {
            break;
        }
        let offset = page * ekeys::ENCOUNTER_PAGE_SIZE;
        let key = ekeys::encounter_list(&fid, "", "", offset);
        let path = ekeys::encounter_list_path(&fid, "", "", offset);
        run.get::<Paginated<Encounter>, _>(
            Part::Encounters,
            key.clone(),
            ekeys::page_keeping_unsynced(session, client, outbox, key, path),
        )
        .await;
    }

    if run.stopped {
        return None;
    }
    run.report.finished_at = now_ms();
    Some(run.report)
}
