//! Values the device keeps for the signed-in user beside the cache and the outbox —
//! questionnaire drafts, code favourites and recent picks — in their sealed `local` store.
//! Changes to one key are written in order and coalesced (a draft saved on every key press
//! costs one write at a time, the last one wins). No-ops on the server.

#[cfg(feature = "hydrate")]
mod browser {
    use std::{
        cell::RefCell,
        collections::{HashMap, HashSet},
    };

    use crate::{offline::query::client::current_store, session::storage};

    thread_local! {
        /// The next change per key (None: delete), not yet written.
        static PENDING: RefCell<HashMap<String, Option<String>>> = RefCell::new(HashMap::new());
        /// Keys with a writer running.
        static RUNNING: RefCell<HashSet<String>> = RefCell::new(HashSet::new());
    }

    pub async fn get(key: &str) -> Option<String> {
        if let Some(pending) = PENDING.with(|p| p.borrow().get(key).cloned()) {
            return pending;
        }
        let (_, store) = current_store()?;
        store.local_get(key).await.ok().flatten()
    }

    /// Says on the document whether every change is written (`<body data-local-saved>`),
    /// as the cache does with `data-cache-saved`: tests wait on it before a full load.
    fn mark_saved() {
        let saved = RUNNING.with(|r| r.borrow().is_empty());
        if let Some(body) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.body())
        {
            let _ = body.set_attribute("data-local-saved", if saved { "true" } else { "false" });
        }
    }

    fn change(key: &str, value: Option<String>) {
        PENDING.with(|p| p.borrow_mut().insert(key.to_string(), value));
        if !RUNNING.with(|r| r.borrow_mut().insert(key.to_string())) {
            return;
        }
        mark_saved();
        let key = key.to_string();
        leptos::task::spawn_local(async move {
            while let Some(next) = PENDING.with(|p| p.borrow_mut().remove(&key)) {
                let Some((_, store)) = current_store() else {
                    break;
                };
                let written = match &next {
                    Some(v) => store.local_put(&key, v).await,
                    None => store.local_delete(std::slice::from_ref(&key)).await,
                };
                if let Err(e) = written {
                    leptos::logging::warn!("saving on the device failed: {e}");
                }
            }
            RUNNING.with(|r| r.borrow_mut().remove(&key));
            mark_saved();
        });
    }

    pub fn set(key: &str, value: &str) {
        change(key, Some(value.to_string()));
    }

    pub fn remove(key: &str) {
        change(key, None);
    }

    /// Removes `keys` and returns once every change to them is written (before sign-out).
    pub async fn remove_all(keys: &[String]) {
        for key in keys {
            change(key, None);
        }
        for _ in 0..200 {
            let busy = RUNNING.with(|r| keys.iter().any(|k| r.borrow().contains(k)));
            if !busy {
                return;
            }
            gloo_timers::future::TimeoutFuture::new(10).await;
        }
    }

    /// Every kept key starting with `prefix`.
    pub async fn keys_with_prefix(prefix: &str) -> Vec<String> {
        let Some((_, store)) = current_store() else {
            return Vec::new();
        };
        let mut keys: Vec<String> = store
            .local_keys()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|k| k.starts_with(prefix))
            .collect();
        PENDING.with(|p| {
            for (k, v) in p.borrow().iter() {
                if k.starts_with(prefix) && v.is_some() && !keys.contains(k) {
                    keys.push(k.clone());
                }
            }
        });
        keys.retain(|k| PENDING.with(|p| !matches!(p.borrow().get(k), Some(None))));
        keys
    }

    /// Moves what an earlier version kept in localStorage for `user_id` (drafts,
    /// favourites) into the vault, and removes it from localStorage.
    pub async fn adopt_legacy(user_id: &str, prefixes: &[String]) {
        let Some((owner, store)) = current_store() else {
            return;
        };
        if owner != user_id {
            return;
        }
        let Some(ls) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) else {
            return;
        };
        let count = ls.length().unwrap_or(0);
        let keys: Vec<String> = (0..count)
            .filter_map(|i| ls.key(i).ok().flatten())
            .filter(|k| prefixes.iter().any(|p| k.starts_with(p.as_str())))
            .collect();
        for key in keys {
            if let Some(value) = storage::get(&key) {
                if store.local_put(&key, &value).await.is_ok() {
                    storage::remove(&key);
                }
            }
        }
    }
}

#[cfg(feature = "hydrate")]
pub use browser::{adopt_legacy, get, keys_with_prefix, remove, remove_all, set};

#[cfg(not(feature = "hydrate"))]
pub async fn get(_key: &str) -> Option<String> {
    None
}

#[cfg(not(feature = "hydrate"))]
pub fn set(_key: &str, _value: &str) {}

#[cfg(not(feature = "hydrate"))]
pub fn remove(_key: &str) {}

#[cfg(not(feature = "hydrate"))]
pub async fn remove_all(_keys: &[String]) {}

#[cfg(not(feature = "hydrate"))]
pub async fn keys_with_prefix(_prefix: &str) -> Vec<String> {
    Vec::new()
}
