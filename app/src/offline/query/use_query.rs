//! `use_query`: read one query through the cache.
//!
//! Fetches when the data is stale and the server is reachable, and again on focus, on
//! reconnect, on invalidation, on `refetch()` and on the optional interval. Waits for the
//! user's saved queries to be restored first, so an offline reload shows data at once.
//!
//! # Server-Side Rendering
//! Nothing is fetched on the server; the returned signals hold no data there.

use std::future::Future;

use leptos::prelude::*;
use serde::{de::DeserializeOwned, Serialize};

use super::{client::use_query_client, options::Millis, QueryKey, QueryOptions, QueryState};
use crate::{api::ApiError, offline::network::use_network};

#[derive(Debug)]
pub struct UseQueryReturn<T: Send + Sync + 'static> {
    /// The data, typed; None while loading or when nothing is known.
    pub data: Signal<Option<T>>,
    pub state: Signal<QueryState>,
    /// The last error, even when older data is still shown.
    pub error: Signal<Option<ApiError>>,
    /// No data yet and a fetch (or the restore) is under way.
    pub loading: Signal<bool>,
    /// Set when showing saved data the server has not confirmed: "as of" this time.
    pub saved_at: Signal<Option<Millis>>,
    /// Nothing saved for this query and the server cannot be reached.
    pub unavailable_offline: Signal<bool>,
    /// True while any fetch runs (for a refresh control).
    pub fetching: Signal<bool>,
    manual: RwSignal<u64>,
}

// Signals are Copy whatever T is; a derive would demand T: Copy.
impl<T: Send + Sync + 'static> Clone for UseQueryReturn<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for UseQueryReturn<T> {}

impl<T: Send + Sync + 'static> UseQueryReturn<T> {
    /// Fetches now, even if the data is fresh.
    pub fn refetch(&self) {
        self.manual.update(|n| *n += 1);
    }
}

pub fn use_query<T, K, F, Fut>(key: K, fetcher: F, options: QueryOptions) -> UseQueryReturn<T>
where
    T: DeserializeOwned + Serialize + Clone + PartialEq + Send + Sync + 'static,
    K: Fn() -> QueryKey + Send + Sync + 'static,
    F: Fn(QueryKey) -> Fut + 'static,
    Fut: Future<Output = Result<T, ApiError>> + 'static,
{
    let client = use_query_client();
    let network = use_network();
    let key = Memo::new(move |_| key());
    let manual = RwSignal::new(0u64);

    // Tracks the client's epoch too: switching user or restoring from the device replaces
    // entries, and readers must follow the new one.
    let state = Memo::new(move |_| {
        client.track_epoch();
        client.entry(&key.get(), &options).state.get()
    });
    // Decoded once per change, not on every read.
    let data = Memo::new(move |_| {
        state.with(|s| {
            s.data
                .as_ref()
                .and_then(|v| serde_json::from_value::<T>(v.clone()).ok())
        })
    });
    let error = Signal::derive(move || state.with(|s| s.error.clone()));
    let fetching = Signal::derive(move || state.with(|s| s.fetching));
    let loading = Signal::derive(move || {
        state
            .with(|s| s.data.is_none() && (s.fetching || (!client.restored() && s.error.is_none())))
    });
    let saved_at = Signal::derive(move || state.with(|s| s.saved_at(network.online())));
    let unavailable_offline = Signal::derive(move || {
        client.restored() && state.with(|s| s.unavailable_offline(network.online()))
    });

    #[cfg(feature = "hydrate")]
    {
        // Count this reader while mounted (so the entry is not collected under it).
        let guard = StoredValue::new_local(None::<super::client::ObserverGuard>);
        Effect::new(move |_| {
            let entry = client.entry(&key.get(), &options);
            guard.set_value(Some(entry.observe()));
        });
        on_cleanup(move || guard.set_value(None));

        let interval = RwSignal::new(0u64);
        if let Some(every) = options.refetch_interval {
            let visible = move || {
                web_sys::window()
                    .and_then(|w| w.document())
                    .is_some_and(|d| !d.hidden())
            };
            if let Ok(handle) = set_interval_with_handle(
                move || {
                    if visible() {
                        interval.update(|n| *n += 1);
                    }
                },
                std::time::Duration::from_millis(every.max(1000) as u64),
            ) {
                on_cleanup(move || handle.clear());
            }
        }

        Effect::new(move |previous_manual: Option<u64>| {
            let k = key.get();
            let restored = client.restored();
            let online = network.online();
            if options.refetch_on_focus {
                network.focuses();
            }
            if options.refetch_on_reconnect {
                network.reconnects();
            }
            interval.get();
            let manual_now = manual.get();
            let entry = client.entry(&k, &options);
            entry.invalidations.get();
            if !restored || !online || client.is_local_only(&k) {
                return manual_now;
            }
            let forced = previous_manual.is_some_and(|p| p != manual_now);
            let now = super::client::now_ms();
            let due = entry.state.with_untracked(|s| {
                s.should_fetch(&options, online, now) || (forced && !s.fetching)
            });
            if due {
                let fut = fetcher(k.clone());
                leptos::task::spawn_local(async move {
                    let _ = client.fetch(k, options, fut).await;
                });
            }
            manual_now
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = fetcher;

    UseQueryReturn {
        data: data.into(),
        state: state.into(),
        error,
        loading,
        saved_at,
        unavailable_offline,
        fetching,
        manual,
    }
}
