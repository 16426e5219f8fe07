//! The outbox as the pages see it: the signed-in user's queued writes, sync progress and
//! the last successful sync. A `Copy` handle provided in `App`.
//!
//! # Server-Side Rendering
//! Empty on the server; the browser loads the user's writes from IndexedDB.

use leptos::prelude::*;

use super::{
    record::{OutboxRecord, SyncStatus},
    write::{Undo, WriteSpec},
};
use crate::{
    offline::{network::Network, query::options::Millis, query::QueryClient, store::StoreError},
    session::Session,
};

#[derive(Debug, Clone, Copy)]
pub struct Outbox {
    pub(super) records: RwSignal<Vec<OutboxRecord>>,
    /// True once the signed-in user's writes have been read from the device: until then
    /// an empty list means "not known yet", not "all synced".
    pub(super) loaded: RwSignal<bool>,
    /// ("3 of 12") while a pass runs.
    pub(super) progress: RwSignal<Option<(usize, usize)>>,
    pub(super) last_synced_at: RwSignal<Option<Millis>>,
    /// A problem with the device store, shown on the sync page.
    pub(super) notice: RwSignal<Option<String>>,
    /// The signed-in user's queued writes this version cannot read (kept, listed).
    pub(super) unreadable: RwSignal<Vec<super::unreadable::Unreadable>>,
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    pub(super) session: Session,
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    pub(super) client: QueryClient,
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    pub(super) network: Network,
}

pub fn provide_outbox(session: Session, client: QueryClient, network: Network) -> Outbox {
    let outbox = Outbox {
        records: RwSignal::new(Vec::new()),
        loaded: RwSignal::new(false),
        progress: RwSignal::new(None),
        last_synced_at: RwSignal::new(None),
        notice: RwSignal::new(None),
        unreadable: RwSignal::new(Vec::new()),
        session,
        client,
        network,
    };
    provide_context(outbox);
    outbox
}

pub fn use_outbox() -> Outbox {
    expect_context::<Outbox>()
}

impl Outbox {
    pub fn records(&self) -> Vec<OutboxRecord> {
        self.records.get()
    }

    pub fn loaded(&self) -> bool {
        self.loaded.get()
    }

    pub fn loaded_untracked(&self) -> bool {
        self.loaded.get_untracked()
    }

    /// Writes still to be sent (pending, sending, waiting for sign-in).
    pub fn open_count(&self) -> usize {
        self.records
            .with(|r| r.iter().filter(|w| w.sync_status.is_open()).count())
    }

    /// Writes a person has to look at (failed, conflict, blocked, may have reached CARE,
    /// unreadable).
    pub fn attention_count(&self) -> usize {
        self.unreadable.with(Vec::len)
            + self.records.with(|r| {
                r.iter()
                    .filter(|w| {
                        matches!(
                            w.sync_status,
                            SyncStatus::Failed
                                | SyncStatus::Conflict
                                | SyncStatus::Blocked
                                | SyncStatus::Unknown
                        )
                    })
                    .count()
            })
    }

    /// The state of the newest unsynced write touching record `id` (a create's temporary
    /// id, the record an update targets, or the write itself: the optimistic entries of a
    /// questionnaire batch carry its write id), for the "saved on this device" badge.
    pub fn unsynced_status(&self, id: &str) -> Option<SyncStatus> {
        self.records.with(|r| {
            r.iter()
                .filter(|w| w.sync_status != SyncStatus::Success)
                .filter(|w| {
                    w.id == id
                        || w.temp_id.as_deref() == Some(id)
                        || w.path_params.values().any(|v| v == id)
                })
                .max_by_key(|w| w.client_timestamp)
                .map(|w| w.sync_status)
        })
    }

    pub fn progress(&self) -> Option<(usize, usize)> {
        self.progress.get()
    }

    /// The last time a write reached the server, from this session or a stored record.
    pub fn last_synced_at(&self) -> Option<Millis> {
        let from_records = self
            .records
            .with(|r| r.iter().filter_map(|w| w.synced_at).max());
        match (self.last_synced_at.get(), from_records) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    pub fn notice(&self) -> Option<String> {
        self.notice.get()
    }

    /// Reads the writes, reactively.
    /// Queued writes of this user that this version cannot read.
    pub fn unreadable(&self) -> Vec<super::unreadable::Unreadable> {
        self.unreadable.get()
    }

    pub fn with_records<R>(&self, f: impl FnOnce(&[OutboxRecord]) -> R) -> R {
        self.records.with(|r| f(r))
    }

    /// Reads the writes without tracking (for fetchers and pure planners).
    pub fn with_records_untracked<R>(&self, f: impl FnOnce(&[OutboxRecord]) -> R) -> R {
        self.records.with_untracked(|r| f(r))
    }

    /// One write, reactively (a page follows the write it queued: sending, synced, failed).
    pub fn record(&self, id: &str) -> Option<OutboxRecord> {
        self.records
            .with(|r| r.iter().find(|w| w.id == id).cloned())
    }

    /// Outbox ids of the unsynced writes that touch record `id` (its create, earlier edits,
    /// writes under it): a new write about that record lists them as parents, so it is
    /// sent after them and with the server's id.
    pub fn unsynced_writes_of(&self, id: &str) -> Vec<String> {
        self.records.with_untracked(|r| {
            r.iter()
                .filter(|w| w.sync_status != SyncStatus::Success)
                .filter(|w| {
                    w.temp_id.as_deref() == Some(id) || w.path_params.values().any(|v| v == id)
                })
                .map(|w| w.id.clone())
                .collect()
        })
    }

    /// True when record `id` has a write not yet on the server (read without tracking,
    /// for fetchers).
    pub fn has_unsynced(&self, id: &str) -> bool {
        self.records.with_untracked(|r| {
            r.iter().any(|w| {
                w.sync_status != SyncStatus::Success
                    && (w.id == id
                        || w.temp_id.as_deref() == Some(id)
                        || w.path_params.values().any(|v| v == id))
            })
        })
    }

    /// The server's id of a record created offline once its create has synced
    /// (reactively), so a page opened at the temporary address moves on to the real one.
    pub fn server_id_of(&self, temp_id: &str) -> Option<String> {
        self.records.with(|r| {
            r.iter()
                .filter(|w| w.sync_status == SyncStatus::Success)
                .find(|w| w.temp_id.as_deref() == Some(temp_id))
                .and_then(|w| w.response.as_ref()?.get("id")?.as_str().map(String::from))
        })
    }

    /// The unsynced create of record `id`, when it was created on this device: a write
    /// about that record must follow it (and is sent with the server's id).
    pub fn creator_of(&self, id: &str) -> Option<String> {
        self.records.with_untracked(|r| {
            r.iter()
                .find(|w| w.temp_id.as_deref() == Some(id) && w.sync_status != SyncStatus::Success)
                .map(|w| w.id.clone())
        })
    }

    /// True while record `id` exists only on this device (created offline, not yet synced).
    pub fn is_local_only(&self, id: &str) -> bool {
        self.records.with_untracked(|r| {
            r.iter()
                .any(|w| w.temp_id.as_deref() == Some(id) && w.sync_status != SyncStatus::Success)
        })
    }

    /// Replaces the payload of a queued write not yet sent (its form was reopened from the
    /// sync page), with its optimistic records, in one device transaction.
    pub async fn amend_write(
        &self,
        id: &str,
        payload: serde_json::Value,
        optimistic: Vec<(crate::offline::query::QueryKey, serde_json::Value)>,
    ) -> Result<(), StoreError> {
        #[cfg(feature = "hydrate")]
        {
            self.amend(id, payload, optimistic).await
        }
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = (id, payload, optimistic);
            Err(StoreError::Unavailable("not in a browser".into()))
        }
    }

    /// Called just before sign-out: the user's synced writes leave this device.
    pub async fn before_sign_out(&self) {
        #[cfg(feature = "hydrate")]
        self.purge_on_sign_out().await;
    }

    /// The signed-in user's unsent changes as a backup file: its name, its content and how
    /// many unsent changes it holds (`backup::export`).
    pub fn backup_file(&self) -> Option<(String, String, usize)> {
        #[cfg(feature = "hydrate")]
        {
            self.export_backup()
        }
        #[cfg(not(feature = "hydrate"))]
        {
            None
        }
    }

    /// Queues `spec`, a write that undoes a change (removing a user undoes an assignment),
    /// unless `plan` — given the device's writes, read while no sync pass runs, so none is
    /// sent meanwhile — finds that the change is a write of this device that never reached
    /// the server: that write is then dropped and nothing is queued. `spec.optimistic`
    /// applies either way; `Undo::Send` adds to `spec.parents`. The queued write, or None
    /// when the change was withdrawn.
    pub async fn queue_undo(
        &self,
        spec: WriteSpec,
        plan: impl FnOnce(&[OutboxRecord]) -> Undo + 'static,
    ) -> Result<Option<OutboxRecord>, StoreError> {
        #[cfg(feature = "hydrate")]
        {
            self.undo(spec, plan).await
        }
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = (spec, plan);
            Err(StoreError::Unavailable("not in a browser".into()))
        }
    }

    /// Queues a write with its optimistic cache records in one device transaction and
    /// starts a sync pass (which sends it at once when the server is reachable).
    pub async fn queue(&self, spec: WriteSpec) -> Result<OutboxRecord, StoreError> {
        #[cfg(feature = "hydrate")]
        {
            self.enqueue(spec).await
        }
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = spec;
            Err(StoreError::Unavailable("not in a browser".into()))
        }
    }
}
