//! The query client: one reactive state per key, shared by every reader; optimistic
//! `set_query_data` / `update_query`; prefix invalidation; persistence of opted-in queries
//! to the signed-in user's IndexedDB, restored before the first fetch.
//!
//! # Server-Side Rendering
//! On the server the client holds nothing and fetches nothing: data needs the browser's
//! session, so pages render their loading state and fill in after hydration.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
};

use leptos::prelude::*;
use serde::Serialize;
use serde_json::Value;

use super::{
    options::{Millis, QueryOptions},
    QueryKey, QueryState,
};
use crate::api::ApiError;

#[derive(Clone)]
pub struct Entry {
    pub key: QueryKey,
    pub state: ArcRwSignal<QueryState>,
    /// Bumped by `invalidate`, so mounted readers refetch.
    pub invalidations: ArcRwSignal<u64>,
    pub persist: bool,
    observers: Arc<AtomicUsize>,
    last_observed: Arc<std::sync::atomic::AtomicI64>,
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    gc_time: Millis,
}

impl Entry {
    fn new(key: QueryKey, state: QueryState, persist: bool, gc_time: Millis) -> Self {
        Self {
            key,
            state: ArcRwSignal::new(state),
            invalidations: ArcRwSignal::new(0),
            persist,
            observers: Arc::new(AtomicUsize::new(0)),
            last_observed: Arc::new(std::sync::atomic::AtomicI64::new(now_ms())),
            gc_time,
        }
    }

    /// Counts a mounted reader; the returned guard uncounts it when dropped.
    pub fn observe(&self) -> ObserverGuard {
        self.observers.fetch_add(1, Ordering::SeqCst);
        ObserverGuard {
            observers: self.observers.clone(),
            last_observed: self.last_observed.clone(),
        }
    }

    /// Unread for `gc_time`, and not a copy of what is saved on the device: a persisted
    /// query with data stays in memory (the restore loaded them all anyway), because the
    /// device is read only once per sign-in and a page opened offline later must find it.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn collectable(&self, now: Millis) -> bool {
        !(self.persist && self.state.with_untracked(|s| s.data.is_some()))
            && self.observers.load(Ordering::SeqCst) == 0
            && now - self.last_observed.load(Ordering::SeqCst) > self.gc_time
            && !self.state.with_untracked(|s| s.fetching)
    }
}

pub struct ObserverGuard {
    observers: Arc<AtomicUsize>,
    last_observed: Arc<std::sync::atomic::AtomicI64>,
}

impl Drop for ObserverGuard {
    fn drop(&mut self) {
        self.observers.fetch_sub(1, Ordering::SeqCst);
        self.last_observed.store(now_ms(), Ordering::SeqCst);
    }
}

pub fn now_ms() -> Millis {
    chrono::Utc::now().timestamp_millis()
}

#[derive(Debug, Clone, Copy)]
pub struct QueryClient {
    entries: StoredValue<HashMap<QueryKey, Entry>>,
    /// True once the signed-in user's saved queries are loaded (or there are none).
    restored: RwSignal<bool>,
    /// Set when queries cannot be saved on this device (private mode, quota, blocked).
    storage_notice: RwSignal<Option<String>>,
    /// Changes whenever the user changes, so a late response of the previous user's
    /// session is never stored in the next one's cache.
    generation: RwSignal<u64>,
    /// Keys that exist only on this device (records created offline): never fetched.
    local_only: StoredValue<Option<LocalOnly>>,
}

type LocalOnly = Arc<dyn Fn(&QueryKey) -> bool + Send + Sync>;

pub fn provide_query_client() -> QueryClient {
    let client = QueryClient {
        entries: StoredValue::new(HashMap::new()),
        restored: RwSignal::new(false),
        storage_notice: RwSignal::new(None),
        generation: RwSignal::new(0),
        local_only: StoredValue::new(None),
    };
    provide_context(client);
    #[cfg(feature = "hydrate")]
    {
        let _ = set_interval_with_handle(
            move || client.collect_garbage(),
            std::time::Duration::from_secs(60),
        );
    }
    client
}

pub fn use_query_client() -> QueryClient {
    expect_context::<QueryClient>()
}

impl QueryClient {
    /// The entry of `key`, created with `options` if new.
    pub fn entry(&self, key: &QueryKey, options: &QueryOptions) -> Entry {
        if let Some(e) = self.entries.with_value(|m| m.get(key).cloned()) {
            return e;
        }
        let entry = Entry::new(
            key.clone(),
            QueryState::default(),
            options.persist,
            options.gc_time,
        );
        self.entries.update_value(|m| {
            m.entry(key.clone()).or_insert_with(|| entry.clone());
        });
        self.entries
            .with_value(|m| m.get(key).cloned())
            .unwrap_or(entry)
    }

    fn existing(&self, key: &QueryKey) -> Option<Entry> {
        self.entries.with_value(|m| m.get(key).cloned())
    }

    pub fn restored(&self) -> bool {
        self.restored.get()
    }

    /// Lets readers fetch after a held restore (see `switch_user`).
    pub fn release_restore(&self) {
        self.restored.set(true);
    }

    /// Subscribes the caller to entry replacement (user switch, restore from the device).
    pub fn track_epoch(&self) {
        self.generation.track();
        self.restored.track();
    }

    pub fn storage_notice(&self) -> Option<String> {
        self.storage_notice.get()
    }

    pub fn generation_untracked(&self) -> u64 {
        self.generation.get_untracked()
    }

    pub fn get_query_data(&self, key: &QueryKey) -> Option<Value> {
        self.existing(key)
            .and_then(|e| e.state.with_untracked(|s| s.data.clone()))
    }

    /// Replaces a query's data (an optimistic write or a server response), persisting it
    /// when the query is persisted.
    pub fn set_query_data(&self, key: &QueryKey, data: Value, persist: bool) {
        let entry = self.entry(
            key,
            &QueryOptions {
                persist,
                ..QueryOptions::default()
            },
        );
        let now = now_ms();
        entry.state.update(|s| {
            s.data = Some(data.clone());
            s.updated_at = Some(now);
            s.from_cache = false;
            s.error = None;
        });
        if entry.persist || persist {
            self.persist_put(key, &data, now);
        }
    }

    /// Edits a cached query in place; nothing happens when it is not cached.
    pub fn update_query(&self, key: &QueryKey, f: impl FnOnce(&mut Value)) {
        let Some(mut data) = self.get_query_data(key) else {
            return;
        };
        f(&mut data);
        let persist = self.existing(key).is_some_and(|e| e.persist);
        self.set_query_data(key, data, persist);
    }

    /// Tells the client which keys name records that exist only on this device.
    pub fn set_local_only(&self, predicate: impl Fn(&QueryKey) -> bool + Send + Sync + 'static) {
        self.local_only.set_value(Some(Arc::new(predicate)));
    }

    pub fn is_local_only(&self, key: &QueryKey) -> bool {
        self.local_only
            .with_value(|p| p.as_ref().is_some_and(|p| p(key)))
    }

    /// Every cached key under `prefix`.
    pub fn keys_with_prefix(&self, prefix: &QueryKey) -> Vec<QueryKey> {
        self.entries.with_value(|m| {
            m.keys()
                .filter(|k| k.starts_with(prefix))
                .cloned()
                .collect()
        })
    }

    /// The cached data of every query under `prefix`.
    pub fn values_with_prefix(&self, prefix: &QueryKey) -> Vec<Value> {
        self.keys_with_prefix(prefix)
            .iter()
            .filter_map(|k| self.get_query_data(k))
            .collect()
    }

    /// The list pages under `prefix` that hold record `id`, with `record` in its place (the
    /// optimistic records of an edit).
    pub fn lists_replacing(
        &self,
        prefix: &QueryKey,
        id: &str,
        record: &Value,
    ) -> Vec<(QueryKey, Value)> {
        self.keys_with_prefix(prefix)
            .into_iter()
            .filter_map(|key| {
                let mut list = self.get_query_data(&key)?;
                crate::offline::outbox::effects::replace(&mut list, id, record)
                    .then_some((key, list))
            })
            .collect()
    }

    /// The list pages under `prefix` chosen by `shows` with `record` put first (the
    /// optimistic records of a create).
    pub fn lists_prepending(
        &self,
        prefix: &QueryKey,
        record: &Value,
        shows: impl Fn(&QueryKey) -> bool,
    ) -> Vec<(QueryKey, Value)> {
        self.keys_with_prefix(prefix)
            .into_iter()
            .filter(|key| shows(key))
            .filter_map(|key| {
                let mut list = self.get_query_data(&key)?;
                crate::offline::outbox::effects::prepend(&mut list, record.clone());
                Some((key, list))
            })
            .collect()
    }

    /// Marks every query under `prefix` stale; mounted readers refetch (seed 002).
    pub fn invalidate(&self, prefix: &QueryKey) {
        let matching: Vec<Entry> = self.entries.with_value(|m| {
            m.values()
                .filter(|e| e.key.starts_with(prefix))
                .cloned()
                .collect()
        });
        for e in matching {
            e.state.update(|s| s.invalidated = true);
            e.invalidations.update(|n| *n += 1);
        }
    }

    /// Forgets every query under `prefix`, in memory and on the device.
    pub fn remove(&self, prefix: &QueryKey) {
        let mut removed = Vec::new();
        self.entries.update_value(|m| {
            m.retain(|k, _| {
                let hit = k.starts_with(prefix);
                if hit {
                    removed.push(k.hash());
                }
                !hit
            })
        });
        self.persist_delete(removed);
    }

    /// Runs `fetch` for `key` and stores its outcome. A response that arrives after the
    /// user changed is dropped.
    pub async fn fetch<T, Fut>(
        &self,
        key: QueryKey,
        options: QueryOptions,
        fetch: Fut,
    ) -> Result<(), ApiError>
    where
        T: Serialize,
        Fut: std::future::Future<Output = Result<T, ApiError>>,
    {
        let entry = self.entry(&key, &options);
        let generation = self.generation.get_untracked();
        entry.state.update(|s| s.fetching = true);
        let outcome = fetch.await;
        if self.generation.get_untracked() != generation {
            return Ok(());
        }
        // Looked up again: the entry may have been collected while the request ran.
        let entry = self.entry(&key, &options);
        match outcome {
            Ok(value) => {
                let data =
                    serde_json::to_value(value).map_err(|e| ApiError::Decode(e.to_string()))?;
                let now = now_ms();
                entry.state.update(|s| {
                    s.data = Some(data.clone());
                    s.updated_at = Some(now);
                    s.from_cache = false;
                    s.error = None;
                    s.invalidated = false;
                    s.fetching = false;
                });
                if options.persist {
                    self.persist_put(&key, &data, now);
                }
                Ok(())
            }
            Err(e) => {
                entry.state.update(|s| {
                    s.error = Some(e.clone());
                    s.fetching = false;
                });
                Err(e)
            }
        }
    }

    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn collect_garbage(&self) {
        let now = now_ms();
        self.entries
            .update_value(|m| m.retain(|_, e| !e.collectable(now)));
    }

    /// Drops every query from memory (not from the device).
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn clear_memory(&self) {
        self.entries.update_value(HashMap::clear);
        self.generation.update(|g| *g += 1);
    }

    /// Fills the cache from restored records, marked as coming from the device.
    pub fn restore_entries(&self, restored: Vec<(QueryKey, Value, Millis)>) {
        let defaults = QueryOptions::persisted();
        self.entries.update_value(|m| {
            for (key, data, updated_at) in restored {
                let state = QueryState {
                    data: Some(data),
                    updated_at: Some(updated_at),
                    from_cache: true,
                    ..Default::default()
                };
                m.insert(key.clone(), Entry::new(key, state, true, defaults.gc_time));
            }
        });
    }
}

#[cfg(feature = "hydrate")]
mod persistence {
    //! The browser side: the current user's store and the batched writer.
    use std::{
        cell::RefCell,
        collections::{HashMap, HashSet},
        rc::Rc,
    };

    use leptos::prelude::*;
    use serde_json::Value;

    use super::{now_ms, QueryClient};
    use crate::offline::{
        query::{options::Millis, QueryKey, QueryOptions},
        store::{idb::IdbStore, PersistedQuery, PlainJson, RestoreDecision},
    };

    struct Persister {
        user_id: String,
        store: Rc<IdbStore>,
        puts: RefCell<HashMap<String, PersistedQuery>>,
        deletes: RefCell<HashSet<String>>,
        flush_scheduled: std::cell::Cell<bool>,
        /// Transactions started and not yet committed.
        writing: std::cell::Cell<u32>,
    }

    thread_local! {
        static PERSISTER: RefCell<Option<Rc<Persister>>> = const { RefCell::new(None) };
    }

    fn current() -> Option<Rc<Persister>> {
        PERSISTER.with(|p| p.borrow().clone())
    }

    /// The signed-in user's id and database (shared with the outbox).
    pub fn current_store() -> Option<(String, Rc<IdbStore>)> {
        current().map(|p| (p.user_id.clone(), p.store.clone()))
    }

    /// Says on the document whether everything fetched is saved on this device
    /// (`<body data-cache-saved>`): "false" from the moment a query waits to be written
    /// until the write has committed. Tests wait on it before a full page load.
    fn mark_saved(saved: bool) {
        if let Some(body) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.body())
        {
            let _ = body.set_attribute("data-cache-saved", if saved { "true" } else { "false" });
        }
    }

    /// Writes are collected for a moment and stored in one transaction.
    fn schedule_flush(p: Rc<Persister>) {
        if p.flush_scheduled.replace(true) {
            // Already said "false" when this flush was scheduled.
            return;
        }
        mark_saved(false);
        flush_when_page_hides();
        leptos::task::spawn_local(async move {
            gloo_timers::future::sleep(std::time::Duration::from_millis(40)).await;
            flush(p).await;
        });
    }

    async fn flush(p: Rc<Persister>) {
        p.flush_scheduled.set(false);
        let puts: Vec<PersistedQuery> = p.puts.borrow_mut().drain().map(|(_, v)| v).collect();
        let deletes: Vec<String> = p.deletes.borrow_mut().drain().collect();
        if puts.is_empty() && deletes.is_empty() {
            mark_saved(!p.flush_scheduled.get() && p.writing.get() == 0);
            return;
        }
        p.writing.set(p.writing.get() + 1);
        let result = p.store.write(&puts, &deletes).await;
        p.writing.set(p.writing.get() - 1);
        match result {
            Ok(()) => {
                let idle = p.writing.get() == 0
                    && !p.flush_scheduled.get()
                    && p.puts.borrow().is_empty()
                    && p.deletes.borrow().is_empty();
                if idle {
                    mark_saved(true);
                }
            }
            Err(e) => {
                leptos::logging::warn!("saving queries on the device failed: {e}");
                if let Some(client) = use_context::<QueryClient>() {
                    client.storage_notice.set(Some(e.to_string()));
                }
            }
        }
    }

    /// A full page load, a closed tab or a phone locking its screen within the batching
    /// moment would lose what was just fetched: those start the write at once.
    fn flush_when_page_hides() {
        thread_local! {
            static LISTENING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
        }
        if LISTENING.with(|l| l.replace(true)) {
            return;
        }
        use wasm_bindgen::{closure::Closure, JsCast};
        let on_hide = Closure::<dyn Fn(web_sys::Event)>::new(|_| {
            if let Some(p) = current() {
                leptos::task::spawn_local(flush(p));
            }
        });
        if let Some(window) = web_sys::window() {
            let f = on_hide.as_ref().unchecked_ref();
            let _ = window.add_event_listener_with_callback("pagehide", f);
            if let Some(doc) = window.document() {
                let _ = doc.add_event_listener_with_callback("visibilitychange", f);
            }
        }
        // Kept for the page's life.
        on_hide.forget();
    }

    impl QueryClient {
        pub(super) fn persist_put(&self, key: &QueryKey, data: &Value, updated_at: Millis) {
            let Some(p) = current() else { return };
            match PersistedQuery::encode(&PlainJson, key, data, updated_at) {
                Ok(record) => {
                    p.deletes.borrow_mut().remove(&record.key);
                    p.puts.borrow_mut().insert(record.key.clone(), record);
                    schedule_flush(p);
                }
                Err(e) => leptos::logging::warn!("a query could not be encoded: {e}"),
            }
        }

        pub(super) fn persist_delete(&self, keys: Vec<String>) {
            let Some(p) = current() else { return };
            for k in keys {
                p.puts.borrow_mut().remove(&k);
                p.deletes.borrow_mut().insert(k);
            }
            schedule_flush(p);
        }

        /// Switches the cache to `user_id` (None: signed out). The previous user's memory
        /// cache is dropped; with `wipe_previous`, their saved queries are deleted too
        /// (logout / expiry). Their outbox is never touched.
        ///
        /// With `hold`, readers keep waiting after the restore until `release_restore` (so
        /// the outbox can load first and say which records exist only on this device).
        pub async fn switch_user(&self, user_id: Option<String>, wipe_previous: bool, hold: bool) {
            let previous = current();
            if previous.as_ref().map(|p| p.user_id.as_str()) == user_id.as_deref()
                && self.restored.get_untracked()
            {
                return;
            }
            self.restored.set(false);
            self.clear_memory();
            PERSISTER.with(|p| *p.borrow_mut() = None);
            if let Some(prev) = previous {
                if wipe_previous {
                    // A batch still waiting for its moment would land after the wipe
                    // (IndexedDB keeps the order of transactions, not of timers).
                    prev.puts.borrow_mut().clear();
                    prev.deletes.borrow_mut().clear();
                    if let Err(e) = prev.store.clear_queries().await {
                        leptos::logging::warn!("clearing the previous user's cache failed: {e}");
                    }
                }
            }
            let Some(user_id) = user_id else {
                self.restored.set(true);
                return;
            };
            // Only the open vault's keys open the database: without them nothing of the
            // user is read or written on this device (the session works from memory).
            let Some(keys) = crate::offline::vault::Vault::keys_for(&user_id) else {
                self.storage_notice.set(Some(
                    "this device is not saving data for offline use: the browser cannot \
                     protect it"
                        .into(),
                ));
                if !hold {
                    self.restored.set(true);
                }
                return;
            };
            match IdbStore::open(&user_id, keys).await {
                Ok(store) => {
                    let records = store.load_all().await.unwrap_or_else(|e| {
                        self.storage_notice.set(Some(e.to_string()));
                        Vec::new()
                    });
                    let (kept, dropped) = decide_all(records, now_ms());
                    self.restore_entries(kept);
                    let persister = Rc::new(Persister {
                        user_id,
                        store: Rc::new(store),
                        puts: RefCell::new(HashMap::new()),
                        deletes: RefCell::new(dropped.into_iter().collect()),
                        flush_scheduled: std::cell::Cell::new(false),
                        writing: std::cell::Cell::new(0),
                    });
                    PERSISTER.with(|p| *p.borrow_mut() = Some(persister.clone()));
                    schedule_flush(persister);
                    self.storage_notice.set(None);
                }
                Err(e) => {
                    self.storage_notice.set(Some(e.to_string()));
                }
            }
            if !hold {
                self.restored.set(true);
            }
        }
    }

    fn decide_all(
        records: Vec<PersistedQuery>,
        now: Millis,
    ) -> (Vec<(QueryKey, Value, Millis)>, Vec<String>) {
        let max_age = QueryOptions::default().max_age;
        let mut kept = Vec::new();
        let mut dropped = Vec::new();
        for record in records {
            match record.decide(&PlainJson, now, max_age) {
                RestoreDecision::Keep(payload) => {
                    kept.push((payload.key, payload.data, record.updated_at))
                }
                RestoreDecision::Drop(_) => dropped.push(record.key),
            }
        }
        (kept, dropped)
    }
}

#[cfg(feature = "hydrate")]
pub use persistence::current_store;

#[cfg(not(feature = "hydrate"))]
impl QueryClient {
    fn persist_put(&self, _key: &QueryKey, _data: &Value, _updated_at: Millis) {}
    fn persist_delete(&self, _keys: Vec<String>) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn with_owner<T>(f: impl FnOnce() -> T) -> T {
        let owner = Owner::new();
        owner.set();
        f()
    }

    #[test]
    fn saved_queries_stay_readable_after_their_pages_close() {
        with_owner(|| {
            let client = provide_query_client();
            let quick = QueryOptions {
                gc_time: 0,
                ..QueryOptions::default()
            };
            let saved = QueryOptions {
                gc_time: 0,
                ..QueryOptions::persisted()
            };
            let (a, b, c) = (
                QueryKey::new(["patient", "detail", "saved"]),
                QueryKey::new(["patient", "detail", "memory"]),
                QueryKey::new(["patient", "detail", "failed"]),
            );
            client
                .entry(&a, &saved)
                .state
                .update(|s| s.data = Some(json!({"name": "A"})));
            client
                .entry(&b, &quick)
                .state
                .update(|s| s.data = Some(json!({"name": "B"})));
            client.entry(&c, &saved);
            drop(client.entry(&a, &saved).observe());
            std::thread::sleep(std::time::Duration::from_millis(2));
            client.collect_garbage();
            assert_eq!(client.get_query_data(&a), Some(json!({"name": "A"})));
            assert_eq!(
                client.get_query_data(&b),
                None,
                "memory-only data is collected"
            );
            assert!(
                client.existing(&c).is_none(),
                "a saved query without data is collected"
            );
        });
    }

    #[test]
    fn one_state_per_key_and_prefix_invalidation() {
        with_owner(|| {
            let client = provide_query_client();
            let detail = QueryKey::new(["patient", "detail", "p1"]);
            let list = QueryKey::new(["patient", "list"]);
            let other = QueryKey::new(["facility", "f1"]);
            let opts = QueryOptions::default();
            let a = client.entry(&detail, &opts);
            let b = client.entry(&detail, &opts);
            a.state.update(|s| s.data = Some(json!(1)));
            assert_eq!(b.state.get_untracked().data, Some(json!(1)), "shared state");
            client.entry(&list, &opts);
            client.entry(&other, &opts);
            client.invalidate(&QueryKey::new(["patient"]));
            assert!(
                client
                    .entry(&detail, &opts)
                    .state
                    .get_untracked()
                    .invalidated
            );
            assert!(client.entry(&list, &opts).state.get_untracked().invalidated);
            assert!(
                !client
                    .entry(&other, &opts)
                    .state
                    .get_untracked()
                    .invalidated
            );
        });
    }

    #[test]
    fn optimistic_update_and_remove() {
        with_owner(|| {
            let client = provide_query_client();
            let key = QueryKey::new(["patient", "list"]);
            client.update_query(&key, |v| *v = json!("ignored"));
            assert_eq!(
                client.get_query_data(&key),
                None,
                "nothing cached: nothing updated"
            );
            client.set_query_data(&key, json!({"count": 1, "results": [{"id": "a"}]}), false);
            client.update_query(&key, |v| {
                v["count"] = json!(2);
                if let Some(r) = v["results"].as_array_mut() {
                    r.insert(0, json!({"id": "tmp"}));
                }
            });
            let data = client.get_query_data(&key).expect("cached");
            assert_eq!(data["count"], 2);
            assert_eq!(data["results"][0]["id"], "tmp");
            client.remove(&QueryKey::new(["patient"]));
            assert_eq!(client.get_query_data(&key), None);
        });
    }

    #[test]
    fn unobserved_entries_are_collected_after_gc_time() {
        with_owner(|| {
            let client = provide_query_client();
            let key = QueryKey::new(["patient", "list"]);
            let opts = QueryOptions {
                gc_time: 0,
                ..QueryOptions::default()
            };
            let entry = client.entry(&key, &opts);
            entry.state.update(|s| s.data = Some(json!(1)));
            let guard = entry.observe();
            std::thread::sleep(std::time::Duration::from_millis(2));
            client.collect_garbage();
            assert!(client.get_query_data(&key).is_some(), "observed: kept");
            drop(guard);
            std::thread::sleep(std::time::Duration::from_millis(2));
            client.collect_garbage();
            assert!(
                client.get_query_data(&key).is_none(),
                "unobserved past gc_time: collected"
            );
        });
    }

    #[tokio::test]
    async fn fetch_stores_data_keeps_it_on_error_and_drops_late_responses() {
        let owner = Owner::new();
        owner.set();
        let client = provide_query_client();
        let key = QueryKey::new(["facility", "f1"]);
        let opts = QueryOptions::default();
        client
            .fetch(key.clone(), opts, async {
                Ok::<_, ApiError>(json!({"name": "A"}))
            })
            .await
            .expect("ok");
        let s = client.entry(&key, &opts).state.get_untracked();
        assert_eq!(s.data, Some(json!({"name": "A"})));
        assert!(!s.fetching && !s.from_cache && s.updated_at.is_some());
        let err = client
            .fetch(key.clone(), opts, async {
                Err::<Value, _>(ApiError::Network("down".into()))
            })
            .await;
        assert!(err.is_err());
        let s = client.entry(&key, &opts).state.get_untracked();
        assert_eq!(s.data, Some(json!({"name": "A"})), "data kept");
        assert!(s.error.is_some());

        // A response that lands after the user changed is not stored.
        let (tx, rx) = tokio::sync::oneshot::channel::<Value>();
        let late = client.fetch(key.clone(), opts, async move {
            rx.await.map_err(|e| ApiError::Network(e.to_string()))
        });
        let switch = async {
            client.clear_memory();
            let _ = tx.send(json!({"name": "previous user's"}));
        };
        let (result, ()) = tokio::join!(late, switch);
        assert!(result.is_ok());
        assert_eq!(client.get_query_data(&key), None);
    }
}
