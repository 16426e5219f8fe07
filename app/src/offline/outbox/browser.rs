//! The outbox in the browser: enqueue (one IndexedDB transaction with the optimistic cache
//! records), the sync pass (one at a time across tabs through Web Locks, progress to other
//! tabs through BroadcastChannel), and the person's actions (retry, discard, resolve).

use leptos::prelude::*;
use serde_json::Value;
use wasm_bindgen::{closure::Closure, JsCast, JsValue};

use super::{
    effects,
    engine::{self, Outcome, Resolution},
    handle::Outbox,
    push,
    record::{OutboxRecord, SyncStatus},
    registry::{route, HttpMethod},
    retention, waiting,
    write::{Undo, WriteSpec},
};
use crate::{
    api::{ApiError, Method},
    offline::{
        query::{client::current_store, options::Millis, QueryKey},
        store::{PersistedQuery, PlainJson, StoreError},
    },
    session::storage,
};

const CHANNEL: &str = "care-offline-outbox";
const LOCK: &str = "care-offline-sync";
const DEVICE_KEY: &str = "care_offline_device_id";

thread_local! {
    /// False once the server answered that it has no `sync/push` (a real CARE behind no
    /// CARE Offline server): writes then go one request each for the page's life.
    static PUSH_AVAILABLE: std::cell::Cell<bool> = const { std::cell::Cell::new(true) };
}

/// How a push ended.
enum PushEnd {
    /// Sent; `stop` when the pass should end (offline, session ended).
    Done { sent: usize, stop: bool },
    /// Not sent (no endpoint, network): the writes are pending again, sent one by one.
    NotSent,
}

fn now() -> Millis {
    js_sys::Date::now() as Millis
}

fn device_id() -> String {
    if let Some(id) = storage::get(DEVICE_KEY) {
        return id;
    }
    let id = uuid::Uuid::new_v4().to_string();
    storage::set(DEVICE_KEY, &id);
    id
}

fn broadcast() {
    if let Ok(channel) = web_sys::BroadcastChannel::new(CHANNEL) {
        let _ = channel.post_message(&JsValue::from_str("changed"));
        channel.close();
    }
}

impl Outbox {
    /// Starts the triggers: now, on reconnect, every 30 s, and when another tab changes
    /// the outbox.
    pub fn start(self) {
        let network = self.network;
        // A record created offline has only a temporary id: the server has never heard of
        // it, so its detail query is never fetched (it shows the optimistic record, then
        // the server's once synced).
        let records = self.records;
        // The same holds for a list whose parameters name such a record (the symptoms of
        // an encounter started offline).
        self.client.set_local_only(move |key| {
            records.with_untracked(|r| {
                r.iter()
                    .filter_map(|w| w.temp_id.as_deref())
                    .any(|temp| effects::names_record(key, temp))
            })
        });
        // Back after an outage: writes waiting out its backoff go now. Any other reconnect
        // (one request failed, the next probe answered) only runs a pass, which keeps each
        // write's backoff, so a write CARE keeps dropping does not burn its retries at the
        // probe's pace.
        Effect::new(move |previous: Option<(u64, u64)>| {
            let now = (network.reconnects(), network.recoveries());
            match previous {
                Some((_, recoveries)) if recoveries != now.1 => {
                    leptos::task::spawn_local(async move { self.wake().await });
                }
                _ => self.sync_soon(),
            }
            now
        });
        // Keep the sign-in page's "waiting for <user>'s sign-in" list current, so it is
        // right however the session ends (revoked, signed out, the tab closed).
        let session = self.session;
        Effect::new(move |_| {
            let (Some(user), true) = (session.user(), self.loaded.get()) else {
                return;
            };
            let entry = self.records.with(|r| {
                waiting::Waiting::of(
                    &user.user.id,
                    &user.user.username,
                    &user.user.full_name(),
                    r,
                )
            });
            let list = waiting::parse(storage::get(waiting::STORAGE_KEY).as_deref());
            let next = waiting::with(&list, entry);
            if next != list {
                match serde_json::to_string(&next) {
                    Ok(json) if !next.is_empty() => {
                        storage::set(waiting::STORAGE_KEY, &json);
                    }
                    _ => storage::remove(waiting::STORAGE_KEY),
                }
            }
        });
        let _ = set_interval_with_handle(
            move || self.sync_soon(),
            std::time::Duration::from_millis(TICK_MS as u64),
        );
        if let Ok(channel) = web_sys::BroadcastChannel::new(CHANNEL) {
            let on_message = Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |_| {
                leptos::task::spawn_local(async move { self.reload().await });
            });
            channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            on_message.forget();
            // Kept open for the page's life.
            std::mem::forget(channel);
        }
    }

    /// The user's writes from the device, oldest first.
    async fn load_for(
        &self,
        user_id: &str,
        store: &crate::offline::store::idb::IdbStore,
    ) -> Vec<OutboxRecord> {
        match store
            .outbox_all(|raw| super::schema::decode(raw).map_err(|e| e.to_string()))
            .await
        {
            Ok((mut records, unreadable)) => {
                self.unreadable.set(
                    unreadable
                        .into_iter()
                        .map(|(raw, error)| super::unreadable::Unreadable::from_raw(raw, error))
                        .filter(|u| u.belongs_to(user_id))
                        .collect(),
                );
                records.retain(|r| r.user_id == user_id);
                records.sort_by_key(|r| r.client_timestamp);
                records
            }
            Err(e) => {
                self.notice.set(Some(e.to_string()));
                Vec::new()
            }
        }
    }

    /// Re-reads the signed-in user's writes from the device.
    pub async fn reload(&self) {
        let Some((user_id, store)) = current_store() else {
            self.records.set(Vec::new());
            self.unreadable.set(Vec::new());
            self.loaded.set(false);
            return;
        };
        let records = self.load_for(&user_id, &store).await;
        self.records.set(records);
        self.loaded.set(true);
    }

    /// Called when a user is signed in (their database restored): parked writes resume.
    pub async fn on_signed_in(&self) {
        self.reload().await;
        let Some((user_id, store)) = current_store() else {
            return;
        };
        let mut resumed = false;
        for mut r in self.records.get_untracked() {
            if engine::resume_after_sign_in(&mut r, &user_id) {
                resumed |= store.outbox_put(&r).await.is_ok();
            }
        }
        self.clean_synced().await;
        if resumed {
            broadcast();
        }
        self.sync_soon();
    }

    /// Days synced writes stay on this device (the sync page's setting).
    pub fn keep_synced_days(&self) -> i64 {
        retention::from_stored(storage::get(retention::STORAGE_KEY).as_deref())
    }

    /// Stores the setting and cleans up at once.
    pub async fn set_keep_synced_days(&self, days: i64) {
        storage::set(retention::STORAGE_KEY, &days.to_string());
        self.clean_synced().await;
        broadcast();
    }

    /// Before the session ends: the user's synced writes leave the device (`retention::
    /// on_sign_out`); unsynced ones stay for them.
    pub async fn purge_on_sign_out(&self) {
        let Some((user_id, store)) = current_store() else {
            return;
        };
        let records = self.load_for(&user_id, &store).await;
        let _ = store
            .outbox_delete_all(&retention::on_sign_out(&records, &user_id))
            .await;
        broadcast();
    }

    /// Removes synced writes older than the kept period.
    pub async fn clean_synced(&self) {
        let Some((_, store)) = current_store() else {
            return;
        };
        let days = self.keep_synced_days();
        let expired = retention::expired(&self.records.get_untracked(), now(), days);
        let _ = store.outbox_delete_all(&expired).await;
        self.reload().await;
    }

    /// Queues a write with its optimistic cache records, atomically.
    pub async fn enqueue(&self, spec: WriteSpec) -> Result<OutboxRecord, StoreError> {
        let Some((user_id, store)) = current_store() else {
            return Err(StoreError::Unavailable(
                "no device storage for this session".into(),
            ));
        };
        let route = route(spec.route_key)
            .ok_or_else(|| StoreError::Write(format!("unknown write {}", spec.route_key)))?;
        let at = now();
        let mut record = OutboxRecord::new(
            spec.id
                .clone()
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            user_id,
            device_id(),
            route,
            spec.path_params,
            spec.payload,
            at,
        );
        record.temp_id = spec.temp_id;
        record.parent_mutation_ids = spec.parents;
        record.base_snapshot = spec.base_snapshot;
        record.summary = spec.summary;
        record.server_timestamp = spec.server_timestamp;
        let queries = spec
            .optimistic
            .iter()
            .map(|(k, v)| PersistedQuery::encode(&PlainJson, k, v, at))
            .collect::<Result<Vec<_>, _>>()?;
        store.enqueue(&record, &queries).await?;
        for (key, value) in spec.optimistic {
            self.client.set_query_data(&key, value, false);
        }
        self.records.update(|r| r.push(record.clone()));
        broadcast();
        self.sync_soon();
        Ok(record)
    }

    /// `Outbox::queue_undo`: decided and done while no sync pass runs (here or in another
    /// tab), so the write it withdraws cannot be sent in between.
    pub async fn undo(
        &self,
        spec: WriteSpec,
        plan: impl FnOnce(&[OutboxRecord]) -> Undo + 'static,
    ) -> Result<Option<OutboxRecord>, StoreError> {
        let this = *self;
        let done = after_sync_pass(async move {
            let Some((user_id, store)) = current_store() else {
                return Err(StoreError::Unavailable(
                    "no device storage for this session".into(),
                ));
            };
            let records = this.load_for(&user_id, &store).await;
            match plan(&records) {
                Undo::Withdraw(id) => {
                    let at = now();
                    let queries = spec
                        .optimistic
                        .iter()
                        .map(|(k, v)| PersistedQuery::encode(&PlainJson, k, v, at))
                        .collect::<Result<Vec<_>, _>>()?;
                    store.withdraw(&id, &queries).await?;
                    for (key, value) in spec.optimistic {
                        this.client.set_query_data(&key, value, false);
                    }
                    this.reload().await;
                    broadcast();
                    Ok(None)
                }
                Undo::Send { parents } => {
                    let mut spec = spec;
                    for p in parents {
                        if !spec.parents.contains(&p) {
                            spec.parents.push(p);
                        }
                    }
                    this.enqueue(spec).await.map(Some)
                }
            }
        })
        .await;
        // A pass asked for while this held the lock was skipped: run one now.
        self.sync_soon();
        done
    }

    /// Gives a queued write a new payload (its form was reopened) and its optimistic
    /// records, atomically; it is pending again and sent soon.
    pub async fn amend(
        &self,
        id: &str,
        payload: Value,
        optimistic: Vec<(QueryKey, Value)>,
    ) -> Result<(), StoreError> {
        let (this, id) = (*self, id.to_string());
        let done =
            after_sync_pass(async move { this.amend_now(&id, payload, optimistic).await }).await;
        // A pass asked for while this held the lock was skipped: run one now.
        self.sync_soon();
        done
    }

    async fn amend_now(
        &self,
        id: &str,
        payload: Value,
        optimistic: Vec<(QueryKey, Value)>,
    ) -> Result<(), StoreError> {
        let Some((user_id, store)) = current_store() else {
            return Err(StoreError::Unavailable(
                "no device storage for this session".into(),
            ));
        };
        // The device's copy, not the page's: another tab may be sending it.
        let mut record = self
            .load_for(&user_id, &store)
            .await
            .into_iter()
            .find(|r| r.id == id)
            .ok_or_else(|| StoreError::Write("this change is no longer on the device".into()))?;
        if record.lease_until.is_some_and(|t| t > now()) {
            return Err(StoreError::Write(
                "this change is being sent right now; try again in a moment".into(),
            ));
        }
        record
            .amend(payload)
            .map_err(|e| StoreError::Write(e.to_string()))?;
        let at = now();
        let queries = optimistic
            .iter()
            .map(|(k, v)| PersistedQuery::encode(&PlainJson, k, v, at))
            .collect::<Result<Vec<_>, _>>()?;
        store.amend(&record, &queries).await?;
        for (key, value) in optimistic {
            self.client.set_query_data(&key, value, false);
        }
        self.reload().await;
        broadcast();
        self.sync_soon();
        Ok(())
    }

    /// The signed-in user's unsent writes (and what they depend on), as a backup file:
    /// its name and content. None while nobody is signed in.
    pub(super) fn export_backup(&self) -> Option<(String, String, usize)> {
        let user = self.session.user()?.user;
        let at = now();
        let backup = self
            .records
            .with(|r| super::backup::export(r, &user.id, &user.username, at));
        let count = super::backup::unsent_count(&backup);
        let text = serde_json::to_string_pretty(&backup).ok()?;
        Some((super::backup::file_name(&user.username, at), text, count))
    }

    /// Restores a backup file of the signed-in user: every write in it that is not on
    /// this device yet is added (in one transaction) with its own key, and sent.
    pub async fn restore_backup(&self, text: String) -> Result<super::backup::ImportPlan, String> {
        let this = *self;
        let done = after_sync_pass(async move {
            let Some((user_id, store)) = current_store() else {
                return Err(StoreError::Unavailable(
                    "no device storage for this session".into(),
                ));
            };
            let on_device = this
                .load_for(&user_id, &store)
                .await
                .into_iter()
                .map(|r| r.id)
                .collect();
            // A refused file is an answer for the person, not a storage error.
            match super::backup::plan_import(&text, &user_id, &on_device) {
                Ok(plan) => {
                    store.outbox_add_all(&plan.add).await?;
                    Ok(Ok(plan))
                }
                Err(e) => Ok(Err(e.to_string())),
            }
        })
        .await;
        self.reload().await;
        broadcast();
        self.sync_soon();
        done.map_err(|e| e.to_string())?
    }

    /// Runs `f` once no sync pass runs in any tab (a reload into a new version).
    pub async fn between_passes(&self, f: impl std::future::Future<Output = ()> + 'static) {
        let _ = after_sync_pass(async move {
            f.await;
            Ok::<(), StoreError>(())
        })
        .await;
    }

    pub fn sync_soon(&self) {
        let this = *self;
        leptos::task::spawn_local(async move { this.sync_now().await });
    }

    /// One sync pass, unless one runs already (here or in another tab).
    pub async fn sync_now(&self) {
        if current_store().is_none() || !self.session.signed_in_untracked() {
            return;
        }
        let this = *self;
        // A write queued while this tab's pass runs may land after the pass last read the
        // queue: the request is remembered and the pass runs once more, so an online write
        // is sent at once instead of at the next timer.
        loop {
            if !with_lock(LOCK, async move { this.pass().await }).await {
                SYNC_AGAIN.with(|a| a.set(true));
                return;
            }
            if !SYNC_AGAIN.with(|a| a.replace(false)) {
                break;
            }
        }
        self.wake_when_due();
    }

    /// A write waiting out a short backoff is tried again when the backoff ends, instead
    /// of at the next 30 s tick. One timer per tab, for the earliest due write.
    fn wake_when_due(&self) {
        let now = now();
        let Some(due) = self.records.with_untracked(|r| engine::next_due(r, now)) else {
            return;
        };
        if due - now >= TICK_MS || DUE_TIMER.with(|t| t.get().is_some_and(|at| at <= due)) {
            return;
        }
        DUE_TIMER.with(|t| t.set(Some(due)));
        let this = *self;
        leptos::task::spawn_local(async move {
            gloo_timers::future::sleep(std::time::Duration::from_millis((due - now) as u64)).await;
            if DUE_TIMER.with(|t| t.get() == Some(due)) {
                DUE_TIMER.with(|t| t.set(None));
                this.sync_now().await;
            }
        });
    }

    /// "Sync now" pressed: the person asked, so nothing waits out its backoff.
    pub async fn sync_now_asked(&self) {
        self.wake().await;
    }

    /// Back online: writes waiting out an offline backoff are due now.
    async fn wake(&self) {
        if let Some((_, store)) = current_store() {
            self.reload().await;
            for mut r in self.records.get_untracked() {
                if engine::wake(&mut r) {
                    let _ = store.outbox_put(&r).await;
                }
            }
        }
        self.sync_now().await;
    }

    async fn pass(&self) {
        // Known to be offline: sending would only burn retries.
        if !self.network.online_untracked() {
            self.reload().await;
            return;
        }
        let Some((user_id, store)) = current_store() else {
            return;
        };
        let mut sent = 0usize;
        // The queue is read from the device once and kept in memory for the pass (reading
        // every record back before each send made a long drain quadratic); it is read
        // again only when nothing in memory is ready, to pick up writes queued meanwhile.
        let mut records = self.load_for(&user_id, &store).await;
        let mut reread = false;
        let mut use_push = PUSH_AVAILABLE.with(|p| p.get());
        // Refetched once at the end, not once per write of a long drain.
        let mut to_invalidate: Vec<QueryKey> = Vec::new();
        loop {
            let mut changed = false;
            for id in engine::newly_blocked(&records, now()) {
                if let Some(r) = records.iter_mut().find(|r| r.id == id) {
                    r.sync_status = SyncStatus::Blocked;
                    r.lease_until = None;
                    r.last_error = Some(Value::String("A write it depends on failed.".into()));
                    changed |= store.outbox_put(r).await.is_ok();
                }
            }
            if let Some(days) = self.network.retention_days_untracked() {
                for id in engine::past_retention(&records, now(), days) {
                    if let Some(r) = records.iter_mut().find(|r| r.id == id) {
                        engine::hold_past_retention(r, days);
                        changed |= store.outbox_put(r).await.is_ok();
                    }
                }
            }
            for id in engine::newly_unblocked(&records) {
                if let Some(r) = records.iter_mut().find(|r| r.id == id) {
                    r.sync_status = SyncStatus::Pending;
                    changed |= store.outbox_put(r).await.is_ok();
                }
            }
            if changed {
                self.records.set(records.clone());
            }
            let remaining = records.iter().filter(|r| r.sync_status.is_open()).count();
            // Several writes ready: one round trip through the server's sync/push.
            if use_push {
                let chosen: Vec<String> = push::batch(&records, now(), push::MAX_BATCH)
                    .iter()
                    .map(|r| r.id.clone())
                    .collect();
                if chosen.len() >= push::MIN_BATCH {
                    self.progress
                        .set(Some((sent + chosen.len(), sent + remaining)));
                    match self
                        .push(&store, &mut records, &chosen, &mut to_invalidate)
                        .await
                    {
                        PushEnd::Done { sent: n, stop } => {
                            sent += n;
                            self.records.set(records.clone());
                            broadcast();
                            if stop {
                                break;
                            }
                        }
                        PushEnd::NotSent => use_push = false,
                    }
                    reread = false;
                    continue;
                }
            }
            let Some(next) = engine::next_ready(&records, now()).cloned() else {
                if reread {
                    break;
                }
                records = self.load_for(&user_id, &store).await;
                reread = true;
                continue;
            };
            reread = false;
            self.progress.set(Some((sent + 1, sent + remaining)));
            let ids = engine::id_map(&records);
            let mut record = next;
            engine::begin_attempt(&mut record, now());
            if store.outbox_put(&record).await.is_err() {
                break;
            }
            record.server_timestamp = engine::base_timestamp(&record, &records);
            let outcome = self.attempt(&record, &ids).await;
            let stop = matches!(outcome, Outcome::NeedsAuth | Outcome::Retry(_));
            engine::apply_outcome(&mut record, outcome, now(), js_sys::Math::random());
            if let Err(e) = store.outbox_put(&record).await {
                self.notice.set(Some(e.to_string()));
                break;
            }
            if record.sync_status == SyncStatus::Success {
                sent += 1;
                self.last_synced_at.set(Some(now()));
                self.apply_success(&record, &ids);
                if let Some(route) = route(&record.sync_route_key) {
                    to_invalidate.extend(route.invalidation_keys());
                }
            }
            if let Some(slot) = records.iter_mut().find(|r| r.id == record.id) {
                *slot = record.clone();
            }
            self.records.update(|all| {
                if let Some(slot) = all.iter_mut().find(|r| r.id == record.id) {
                    *slot = record;
                }
            });
            // Other tabs re-read the outbox on each message: tell them now and then.
            if sent.is_multiple_of(25) {
                broadcast();
            }
            if stop {
                break;
            }
        }
        // A push can say "session expired" for its writes without the push itself being
        // refused, so no refresh was tried: try it once now. CARE refusing it ends the
        // session (the writes wait for the same user's sign-in, and the sign-in page says
        // so); a renewal puts them back in the queue for the next pass.
        let parked = records
            .iter()
            .any(|r| r.sync_status == SyncStatus::NeedsAuth && r.user_id == user_id);
        if parked && self.session.signed_in_untracked() && self.session.refresh().await.is_ok() {
            for r in records.iter_mut() {
                if engine::resume_after_sign_in(r, &user_id) {
                    let _ = store.outbox_put(r).await;
                }
            }
        }
        broadcast();
        to_invalidate.sort();
        to_invalidate.dedup();
        for key in to_invalidate {
            self.client.invalidate(&key);
        }
        self.progress.set(None);
        self.reload().await;
    }

    /// Sends `chosen` in one `sync/push` and records each write's outcome as the one-by-one
    /// path would.
    async fn push(
        &self,
        store: &crate::offline::store::idb::IdbStore,
        records: &mut [OutboxRecord],
        chosen: &[String],
        to_invalidate: &mut Vec<QueryKey>,
    ) -> PushEnd {
        let at = now();
        // Leased first (in one transaction), so another tab leaves them alone.
        let mut leased = Vec::with_capacity(chosen.len());
        for r in records.iter_mut().filter(|r| chosen.contains(&r.id)) {
            engine::begin_attempt(r, at);
            leased.push(r.clone());
        }
        if store.outbox_put_all(&leased).await.is_err() {
            return self.release(store, records, chosen).await;
        }
        let ids = engine::id_map(records);
        let body = push::request_for(chosen, records, &ids, &device_id());
        let Ok(body) = body else {
            return self.release(store, records, chosen).await;
        };
        let answer: Value = match self
            .session
            .call(Method::Post, "/sync/push", Some(&body))
            .await
        {
            Ok(answer) => answer,
            Err(ApiError::Http {
                status: 404 | 405, ..
            }) => {
                PUSH_AVAILABLE.with(|p| p.set(false));
                return self.release(store, records, chosen).await;
            }
            Err(_) => return self.release(store, records, chosen).await,
        };
        let outcomes = push::outcomes(&answer);
        if !chosen.iter().any(|id| {
            records
                .iter()
                .find(|r| &r.id == id)
                .is_some_and(|r| outcomes.contains_key(&r.idempotency_key()))
        }) {
            // An answer about none of them: send one by one instead.
            return self.release(store, records, chosen).await;
        }
        // Every outcome settled in memory, then stored in one transaction; the cache
        // follows once per write, with the id map kept up to date as creates land.
        let (mut sent, mut stop) = (0, false);
        let mut settled = Vec::with_capacity(chosen.len());
        let mut ids = engine::id_map(records);
        let settled_at = now();
        for id in chosen {
            let Some(pos) = records.iter().position(|r| &r.id == id) else {
                continue;
            };
            let result = outcomes.get(&records[pos].idempotency_key()).cloned();
            let record = &mut records[pos];
            stop |= push::settle(record, result, settled_at, js_sys::Math::random());
            settled.push(record.clone());
            if record.sync_status == SyncStatus::Success {
                if let (Some(temp), Some(real)) = (
                    record.temp_id.clone(),
                    record
                        .response
                        .as_ref()
                        .and_then(|r| r.get("id"))
                        .and_then(Value::as_str),
                ) {
                    ids.insert(temp, real.to_string());
                }
            }
        }
        if let Err(e) = store.outbox_put_all(&settled).await {
            self.notice.set(Some(e.to_string()));
        }
        let synced: Vec<OutboxRecord> = settled
            .into_iter()
            .filter(|r| r.sync_status == SyncStatus::Success)
            .collect();
        for record in &synced {
            sent += 1;
            if let Some(route) = route(&record.sync_route_key) {
                to_invalidate.extend(route.invalidation_keys());
            }
        }
        self.apply_successes(&synced, &ids);
        if sent > 0 {
            self.last_synced_at.set(Some(settled_at));
        }
        PushEnd::Done { sent, stop }
    }

    /// Writes taken for a push that was not sent: pending again.
    async fn release(
        &self,
        store: &crate::offline::store::idb::IdbStore,
        records: &mut [OutboxRecord],
        chosen: &[String],
    ) -> PushEnd {
        for r in records.iter_mut().filter(|r| chosen.contains(&r.id)) {
            push::release(r);
            let _ = store.outbox_put(r).await;
        }
        PushEnd::NotSent
    }

    async fn attempt(
        &self,
        record: &OutboxRecord,
        ids: &std::collections::HashMap<String, String>,
    ) -> Outcome {
        let prepared = match engine::prepare(record, ids) {
            Ok(p) => p,
            Err(e) => {
                return Outcome::Rejected {
                    status: 0,
                    body: Value::String(e.to_string()),
                }
            }
        };
        if let Some(current) = &prepared.current_path {
            match self.session.call::<Value>(Method::Get, current, None).await {
                Ok(server) if engine::is_conflict(record, &server) => {
                    return engine::settle_conflict(record, server)
                }
                Ok(_) => {}
                Err(e) => return engine::classify(Err(e)),
            }
        }
        let method = match prepared.method {
            HttpMethod::Post => Method::Post,
            HttpMethod::Put => Method::Put,
        };
        let headers = [("Idempotency-Key", prepared.idempotency_key.as_str())];
        let result: Result<Value, ApiError> = self
            .session
            .call_with(method, &prepared.path, Some(&prepared.body), &headers)
            .await;
        engine::classify(result)
    }

    /// The server's record replaces the optimistic one everywhere it is cached (the pass
    /// invalidates the route's queries once it ends).
    fn apply_success(
        &self,
        record: &OutboxRecord,
        ids: &std::collections::HashMap<String, String>,
    ) {
        self.apply_successes(std::slice::from_ref(record), ids);
    }

    /// The cache after writes reached the server: each record's answer at its detail key
    /// (and at its temporary one), and every cached list of its resource rewritten once
    /// for all of them (a long drain rewrites each list once, not once per write).
    fn apply_successes(
        &self,
        records: &[OutboxRecord],
        ids: &std::collections::HashMap<String, String>,
    ) {
        // resource → (old id, answer) pairs, in order.
        let mut replaced: Vec<(&'static str, String, Value)> = Vec::new();
        for record in records {
            let Some(route) = route(&record.sync_route_key) else {
                continue;
            };
            let Some(response) = record.response.clone() else {
                continue;
            };
            // A create without a temporary id (assigning a user …) made no record of its
            // own on this device: the pass refetches its queries instead.
            if route.op == super::Op::Create && record.temp_id.is_none() {
                continue;
            }
            let resource = route.resource_type;
            let old_id = record.temp_id.clone().or_else(|| {
                route
                    .record_param()
                    .and_then(|p| record.path_params.get(p))
                    .map(|v| ids.get(v).cloned().unwrap_or_else(|| v.clone()))
            });
            let Some(real) = response.get("id").and_then(Value::as_str) else {
                continue;
            };
            if let Some(old) = &old_id {
                if old != real {
                    // The temporary address keeps working: it now shows the server's record.
                    let temp_key = QueryKey::new([resource, "detail", old.as_str()]);
                    self.client
                        .set_query_data(&temp_key, response.clone(), true);
                }
                replaced.push((resource, old.clone(), response.clone()));
            }
            self.client.set_query_data(
                &QueryKey::new([resource, "detail", real]),
                response.clone(),
                true,
            );
        }
        let mut resources: Vec<&'static str> = replaced.iter().map(|(r, _, _)| *r).collect();
        resources.sort_unstable();
        resources.dedup();
        for resource in resources {
            for key in self
                .client
                .keys_with_prefix(&QueryKey::new([resource, "list"]))
            {
                self.client.update_query(&key, |list| {
                    for (_, old, response) in replaced.iter().filter(|(r, _, _)| *r == resource) {
                        effects::replace(list, old, response);
                    }
                });
            }
        }
    }

    async fn update_record(&self, id: &str, f: impl FnOnce(&mut OutboxRecord)) {
        let Some((_, store)) = current_store() else {
            return;
        };
        let Some(mut record) = self
            .records
            .get_untracked()
            .into_iter()
            .find(|r| r.id == id)
        else {
            return;
        };
        f(&mut record);
        if let Err(e) = store.outbox_put(&record).await {
            self.notice.set(Some(e.to_string()));
        }
        self.reload().await;
        broadcast();
        self.sync_soon();
    }

    pub async fn retry(&self, id: &str) {
        self.update_record(id, engine::retry).await;
    }

    /// "It is there" on a write that may have reached CARE.
    pub async fn confirm_applied(&self, id: &str) {
        let at = now();
        self.update_record(id, |r| engine::confirm_applied(r, at, None))
            .await;
    }

    /// "This is it": the person found the record this create made in CARE. It is done,
    /// with that record as its answer, so the device's copy and every write that depends
    /// on it take CARE's id, as after a send.
    pub async fn adopt_found(&self, id: &str, found: Value) {
        let at = now();
        self.update_record(id, |r| engine::confirm_applied(r, at, Some(found)))
            .await;
        let records = self.records.get_untracked();
        if let Some(record) = records.iter().find(|r| r.id == id) {
            self.apply_success(record, &engine::id_map(&records));
        }
    }

    /// "Send again" on a write that may have reached CARE: a new key.
    pub async fn send_again(&self, id: &str) {
        self.update_record(id, engine::send_again).await;
    }

    pub async fn resolve(&self, id: &str, resolution: Resolution, merged: Option<Value>) {
        let at = now();
        self.update_record(id, |r| engine::resolve(r, resolution, merged, at))
            .await;
    }

    /// Removes a write for good (the person confirmed), and the optimistic record of a
    /// create that will now never exist.
    pub async fn discard(&self, id: &str) {
        let (this, id) = (*self, id.to_string());
        let _ = after_sync_pass(async move {
            this.discard_now(&id).await;
            Ok(())
        })
        .await;
        // A pass asked for while this held the lock was skipped: run one now.
        self.sync_soon();
    }

    async fn discard_now(&self, id: &str) {
        let Some((_, store)) = current_store() else {
            return;
        };
        let record = self
            .records
            .get_untracked()
            .into_iter()
            .find(|r| r.id == id);
        if let Err(e) = store.outbox_delete(id).await {
            self.notice.set(Some(e.to_string()));
            return;
        }
        if let Some(r) = record {
            if let (Some(temp), Some(route)) = (r.temp_id.as_deref(), route(&r.sync_route_key)) {
                if r.sync_status != SyncStatus::Success {
                    self.client
                        .remove(&QueryKey::new([route.resource_type, "detail", temp]));
                }
            }
            if let Some(route) = route(&r.sync_route_key) {
                for key in route.invalidation_keys() {
                    self.client.invalidate(&key);
                }
            }
        }
        self.reload().await;
        broadcast();
    }
}

/// The regular sync pass, whatever is due.
const TICK_MS: Millis = 30_000;

thread_local! {
    /// When this tab's timer for the earliest due write rings.
    static DUE_TIMER: std::cell::Cell<Option<Millis>> = const { std::cell::Cell::new(None) };
}

thread_local! {
    /// A pass was asked for while one was running in this tab.
    static SYNC_AGAIN: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

thread_local! {
    /// This tab runs a sync pass.
    static RUNNING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` holding the Web Lock `name` if it is free; skips when another tab holds it.
/// Without Web Locks, runs directly (each write's lease still keeps tabs apart). False when
/// this tab was already running one.
async fn with_lock<F>(name: &str, f: F) -> bool
where
    F: std::future::Future<Output = ()> + 'static,
{
    if RUNNING.with(|r| r.replace(true)) {
        return false;
    }
    request_lock(name, true, f).await;
    RUNNING.with(|r| r.set(false));
    true
}

/// Runs `f` once no sync pass runs, in this tab or another: a pass writes back its own
/// copies of the queue, so a correction or a discard made meanwhile could be undone.
async fn after_sync_pass<T: 'static>(
    f: impl std::future::Future<Output = Result<T, StoreError>> + 'static,
) -> Result<T, StoreError> {
    if web_locks().is_none() {
        // No Web Locks: only this tab's own pass can be waited for.
        while RUNNING.with(|r| r.get()) {
            gloo_timers::future::sleep(std::time::Duration::from_millis(50)).await;
        }
        return f.await;
    }
    // Queued behind the pass holding the lock (a waiting request is served before the
    // next pass's "if available" one).
    let out = std::rc::Rc::new(std::cell::RefCell::new(None));
    let slot = out.clone();
    request_lock(LOCK, false, async move {
        *slot.borrow_mut() = Some(f.await);
    })
    .await;
    let result = out.borrow_mut().take();
    result.unwrap_or_else(|| {
        Err(StoreError::Write(
            "the device did not let this tab wait for the sync to finish; try again".into(),
        ))
    })
}

/// `navigator.locks` and its `request` function, when the browser has Web Locks.
fn web_locks() -> Option<(JsValue, js_sys::Function)> {
    let locks = web_sys::window()
        .and_then(|w| js_sys::Reflect::get(&w.navigator(), &JsValue::from_str("locks")).ok())
        .filter(|l| !l.is_undefined() && !l.is_null())?;
    let request = js_sys::Reflect::get(&locks, &JsValue::from_str("request"))
        .ok()?
        .dyn_into::<js_sys::Function>()
        .ok()?;
    Some((locks, request))
}

/// `navigator.locks.request(name, {ifAvailable}, f)`; without Web Locks, runs `f`.
async fn request_lock<F>(name: &str, if_available: bool, f: F)
where
    F: std::future::Future<Output = ()> + 'static,
{
    let Some((locks, request)) = web_locks() else {
        f.await;
        return;
    };
    let options = js_sys::Object::new();
    if if_available {
        let _ = js_sys::Reflect::set(&options, &JsValue::from_str("ifAvailable"), &JsValue::TRUE);
    }
    let job = std::rc::Rc::new(std::cell::RefCell::new(Some(f)));
    let callback = Closure::<dyn FnMut(JsValue) -> js_sys::Promise>::new(move |lock: JsValue| {
        let job = job.borrow_mut().take();
        wasm_bindgen_futures::future_to_promise(async move {
            if let (false, Some(job)) = (lock.is_null(), job) {
                job.await;
            }
            Ok(JsValue::UNDEFINED)
        })
    });
    if let Ok(promise) = request.call3(
        &locks,
        &JsValue::from_str(name),
        &options,
        callback.as_ref(),
    ) {
        if let Ok(promise) = promise.dyn_into::<js_sys::Promise>() {
            let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
        }
    }
    drop(callback);
}
