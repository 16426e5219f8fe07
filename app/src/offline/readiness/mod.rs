//! Getting ready for offline work ("download for offline", as DHIS2 and ODK call it).
//!
//! After sign-in, on demand, and when the last run is a day old, the device fetches what
//! a shift of offline work needs — the facility, departments, areas, forms and code lists,
//! practitioners and their slots for 14 days, the first pages of the patient and encounter
//! lists — through the query cache, so each is saved on the device like a page visited
//! online. The report of the last run is itself a saved query: wiped with the cache when
//! the user signs out, so a cleared device never claims to be ready.
//!
//! # Server-Side Rendering
//! Nothing runs on the server; the report is read from the cache in the browser.

pub mod report;
#[cfg(feature = "hydrate")]
mod run;

use leptos::prelude::*;

pub use report::{due, Part, Report};

use crate::{
    offline::{
        outbox::Outbox,
        query::{QueryClient, QueryKey, QueryOptions},
    },
    session::Session,
};

/// The cache key of the last run's report.
pub fn report_key() -> QueryKey {
    QueryKey::new(["offline_readiness", "report"])
}

#[derive(Debug, Clone, Copy)]
pub struct Readiness {
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    session: Session,
    client: QueryClient,
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    outbox: Outbox,
    /// (done, planned) while a run goes on.
    progress: RwSignal<Option<(usize, usize)>>,
    /// Set when a run ends, for the header's brief "Ready for offline".
    finished: RwSignal<u64>,
}

pub fn provide_readiness(session: Session, client: QueryClient, outbox: Outbox) -> Readiness {
    let readiness = Readiness {
        session,
        client,
        outbox,
        progress: RwSignal::new(None),
        finished: RwSignal::new(0),
    };
    provide_context(readiness);
    readiness
}

pub fn use_readiness() -> Readiness {
    expect_context::<Readiness>()
}

impl Readiness {
    /// The last run's report for the signed-in user (reactive).
    pub fn report(&self) -> Option<Report> {
        self.client.track_epoch();
        self.client
            .entry(&report_key(), &QueryOptions::persisted())
            .state
            .with(|s| s.data.clone())
            .and_then(|v| serde_json::from_value(v).ok())
    }

    pub fn report_untracked(&self) -> Option<Report> {
        self.client
            .get_query_data(&report_key())
            .and_then(|v| serde_json::from_value(v).ok())
    }

    pub fn progress(&self) -> Option<(usize, usize)> {
        self.progress.get()
    }

    pub fn running_untracked(&self) -> bool {
        self.progress.with_untracked(Option::is_some)
    }

    /// Bumped each time a run ends.
    pub fn finished(&self) -> u64 {
        self.finished.get()
    }

    /// Gets ready for `facility_id` now, unless a run is under way.
    #[cfg(feature = "hydrate")]
    pub fn start(self, facility_id: String) {
        if self.running_untracked() || facility_id.is_empty() {
            return;
        }
        self.progress.set(Some((0, 1)));
        leptos::task::spawn_local(async move {
            let report = run::get_ready(
                self.session,
                self.client,
                self.outbox,
                facility_id,
                self.progress,
            )
            .await;
            if let Some(value) = report.and_then(|r| serde_json::to_value(r).ok()) {
                self.client.set_query_data(&report_key(), value, true);
            }
            self.progress.set(None);
            self.finished.update(|n| *n += 1);
        });
    }

    #[cfg(not(feature = "hydrate"))]
    pub fn start(self, _facility_id: String) {}
}
