//! The vault as the app sees it: a `Copy` context saying whose data is open, locked or
//! closed, holding the open user's keys (browser only), and the idle lock.

use leptos::prelude::*;

use super::idle;
use crate::session::storage;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VaultState {
    /// Not known yet (rendering on the server, or before the browser looked).
    Unknown,
    /// Nobody is signed in.
    Closed,
    /// The user's data is readable on this device.
    Open(String),
    /// The user is signed in, but their data stays sealed until they give their password.
    Locked(String),
}

#[derive(Debug, Clone, Copy)]
pub struct Vault {
    state: RwSignal<VaultState>,
    idle_minutes: RwSignal<u32>,
}

pub fn provide_vault() -> Vault {
    let vault = Vault {
        state: RwSignal::new(VaultState::Unknown),
        idle_minutes: RwSignal::new(idle::DEFAULT_MINUTES),
    };
    provide_context(vault);
    vault
}

pub fn use_vault() -> Vault {
    expect_context::<Vault>()
}

impl Vault {
    pub fn state(&self) -> VaultState {
        self.state.get()
    }

    /// The user whose data is open, if any.
    pub fn open_user(&self) -> Option<String> {
        match self.state.get() {
            VaultState::Open(u) => Some(u),
            _ => None,
        }
    }

    /// Changes the state only when it differs (a set always notifies, and the app's
    /// effects follow the state).
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn set_state(&self, next: VaultState) {
        if self.state.with_untracked(|s| *s != next) {
            self.state.set(next);
        }
    }

    pub fn locked(&self) -> bool {
        matches!(self.state.get(), VaultState::Locked(_))
    }

    pub fn idle_minutes(&self) -> u32 {
        self.idle_minutes.get()
    }

    /// The sync page's setting; kept per device.
    pub fn set_idle_minutes(&self, minutes: u32) {
        let minutes = idle::minutes_from_stored(Some(&minutes.to_string()));
        storage::set(idle::SETTING_KEY, &minutes.to_string());
        self.idle_minutes.set(minutes);
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use std::cell::{Cell, RefCell};

    use leptos::prelude::*;
    use wasm_bindgen::{closure::Closure, JsCast};

    use super::{idle, storage, Vault, VaultState};
    use crate::offline::vault::{
        crypto::DataKeys,
        keystore,
        unlock::{self, escrow_bytes},
        VaultError,
    };

    thread_local! {
        /// The open user's keys; dropped when the vault locks or closes.
        static KEYS: RefCell<Option<(String, DataKeys)>> = const { RefCell::new(None) };
        static LAST_ACTIVE: Cell<i64> = const { Cell::new(0) };
        static LAST_WRITTEN: Cell<i64> = const { Cell::new(0) };
    }

    fn now() -> i64 {
        js_sys::Date::now() as i64
    }

    /// Someone used the app: remembered here, and (while a vault is open) for other tabs
    /// every few seconds.
    fn touch() {
        let at = now();
        LAST_ACTIVE.with(|c| c.set(at));
        let open = KEYS.with(|k| k.borrow().is_some());
        if open && at - LAST_WRITTEN.with(Cell::get) >= idle::ACTIVE_WRITE_EVERY_MS {
            LAST_WRITTEN.with(|c| c.set(at));
            storage::set(idle::ACTIVE_KEY, &at.to_string());
        }
    }

    /// The latest use in any tab of this device.
    fn last_active() -> i64 {
        let stored = storage::get(idle::ACTIVE_KEY)
            .and_then(|t| t.parse::<i64>().ok())
            .unwrap_or(0);
        stored.max(LAST_ACTIVE.with(Cell::get))
    }

    /// Tells the other tabs (they hear the storage event).
    fn announce(what: &str, user: &str) {
        storage::set(idle::EVENT_KEY, &format!("{what}:{user}:{}", now()));
    }

    fn drop_keys() {
        KEYS.with(|k| *k.borrow_mut() = None);
    }

    impl Vault {
        /// The open user's keys (for their database).
        pub fn keys_for(user: &str) -> Option<DataKeys> {
            KEYS.with(|k| {
                k.borrow()
                    .as_ref()
                    .filter(|(u, _)| u == user)
                    .map(|(_, keys)| keys.clone())
            })
        }

        fn open_with(&self, user: &str, keys: Option<DataKeys>) {
            KEYS.with(|k| *k.borrow_mut() = keys.map(|keys| (user.to_string(), keys)));
            LAST_WRITTEN.with(|c| c.set(0));
            LAST_ACTIVE.with(|c| c.set(now()));
            touch();
            self.set_state(VaultState::Open(user.to_string()));
        }

        async fn opened(
            &self,
            user: &str,
            keys: Result<DataKeys, VaultError>,
        ) -> Result<(), VaultError> {
            match keys {
                Ok(keys) => {
                    if let Err(e) = keystore::put_unlocked(user, &keys).await {
                        leptos::logging::warn!("the open vault is not kept for other tabs: {e}");
                    }
                    self.open_with(user, Some(keys));
                    announce("unlock", user);
                    Ok(())
                }
                // No WebCrypto or no IndexedDB: the session works from memory only (the
                // cache says so), nothing is written in clear.
                Err(VaultError::Unavailable(e)) => {
                    leptos::logging::warn!("no vault on this device: {e}");
                    self.open_with(user, None);
                    Ok(())
                }
                Err(e) => Err(e),
            }
        }

        /// After CARE accepted the password (sign-in, or an unlock while online).
        pub async fn sign_in(
            &self,
            user: &str,
            password: &str,
            escrow: Option<&str>,
        ) -> Result<(), VaultError> {
            let escrow = escrow_bytes(escrow);
            let keys = unlock::at_sign_in(user, password, escrow.as_deref()).await;
            self.opened(user, keys).await
        }

        /// Unlocks the locked user's data with their password, without the network.
        pub async fn unlock(&self, password: &str) -> Result<(), VaultError> {
            let VaultState::Locked(user) = self.state.get_untracked() else {
                return Ok(());
            };
            // Strict: whatever keeps the password from being checked keeps the lock.
            let keys = unlock::with_password(&user, password).await?;
            self.opened(&user, Ok(keys)).await
        }

        /// Follows the session: nobody → closed; the signed-in user → open if this device
        /// holds their open vault and it has not sat idle, else locked.
        pub async fn follow_session(&self, user: Option<String>) {
            let Some(user) = user else {
                self.forget().await;
                return;
            };
            // Open stays open; locked stays locked until the password (or another tab's
            // unlock) opens it.
            if matches!(self.state.get_untracked(), VaultState::Open(ref u) | VaultState::Locked(ref u) if *u == user)
            {
                return;
            }
            drop_keys();
            let idle = idle::is_idle(last_active(), now(), self.idle_minutes.get_untracked());
            if !idle {
                if let Ok(Some(keys)) = keystore::unlocked(&user).await {
                    self.open_with(&user, Some(keys));
                    return;
                }
            } else {
                let _ = keystore::forget_unlocked(Some(&user)).await;
            }
            self.set_state(VaultState::Locked(user));
        }

        /// Locks at once (the Lock button, the idle timer, another tab): the keys leave
        /// memory and this device's open copy, in every tab.
        pub fn lock(&self) {
            let VaultState::Open(user) = self.state.get_untracked() else {
                return;
            };
            drop_keys();
            let vault = *self;
            // The open copy goes first, so no tab (this one included) can resume from it.
            leptos::task::spawn_local(async move {
                if let Err(e) = keystore::forget_unlocked(Some(&user)).await {
                    leptos::logging::warn!("the open vault could not be removed: {e}");
                }
                vault.set_state(VaultState::Locked(user.clone()));
                announce("lock", &user);
            });
        }

        /// Another tab unlocked this user's vault: open it from the device's open copy.
        async fn resume(&self, user: String) {
            if let Ok(Some(keys)) = keystore::unlocked(&user).await {
                if self.state.get_untracked() == VaultState::Locked(user.clone()) {
                    self.open_with(&user, Some(keys));
                }
            }
        }

        /// Nobody is signed in (sign-out here or in another tab): no open copy of any
        /// vault stays on the device; the sealed data stays for its owners.
        pub async fn forget(&self) {
            drop_keys();
            self.set_state(VaultState::Closed);
            storage::remove(idle::ACTIVE_KEY);
            storage::remove(idle::EVENT_KEY);
            if let Err(e) = keystore::forget_unlocked(None).await {
                leptos::logging::warn!("the open vault could not be removed: {e}");
            }
        }

        /// Activity tracking, the idle check, and following other tabs' lock and unlock.
        pub fn start(&self) {
            let vault = *self;
            vault.idle_minutes.set(idle::minutes_from_stored(
                storage::get(idle::SETTING_KEY).as_deref(),
            ));
            let Some(window) = web_sys::window() else {
                return;
            };
            let on_activity = Closure::<dyn Fn()>::new(touch);
            for event in ["pointerdown", "keydown", "touchstart", "wheel"] {
                let _ = window.add_event_listener_with_callback_and_bool(
                    event,
                    on_activity.as_ref().unchecked_ref(),
                    true,
                );
            }
            on_activity.forget();
            let _ = set_interval_with_handle(
                move || {
                    if matches!(vault.state.get_untracked(), VaultState::Open(_))
                        && idle::is_idle(last_active(), now(), vault.idle_minutes.get_untracked())
                    {
                        vault.lock();
                    }
                },
                std::time::Duration::from_secs(5),
            );
            let on_storage = Closure::<dyn FnMut(web_sys::StorageEvent)>::new(
                move |event: web_sys::StorageEvent| match event.key().as_deref() {
                    Some(idle::SETTING_KEY) => vault
                        .idle_minutes
                        .set(idle::minutes_from_stored(event.new_value().as_deref())),
                    Some(idle::EVENT_KEY) => {
                        let value = event.new_value().unwrap_or_default();
                        let mut parts = value.splitn(3, ':');
                        let (what, user) = (parts.next(), parts.next().map(str::to_string));
                        let state = vault.state.get_untracked();
                        match (what, user, state) {
                            (Some("lock"), Some(u), VaultState::Open(open)) if u == open => {
                                drop_keys();
                                vault.set_state(VaultState::Locked(u));
                            }
                            (Some("unlock"), Some(u), VaultState::Locked(locked))
                                if u == locked =>
                            {
                                leptos::task::spawn_local(async move { vault.resume(u).await });
                            }
                            _ => {}
                        }
                    }
                    _ => {}
                },
            );
            let _ = window
                .add_event_listener_with_callback("storage", on_storage.as_ref().unchecked_ref());
            on_storage.forget();
        }
    }
}

/// On the server nothing is ever locked or opened: these run from event handlers only.
#[cfg(not(feature = "hydrate"))]
impl Vault {
    pub async fn sign_in(
        &self,
        _user: &str,
        _password: &str,
        _escrow: Option<&str>,
    ) -> Result<(), super::VaultError> {
        Ok(())
    }

    pub async fn unlock(&self, _password: &str) -> Result<(), super::VaultError> {
        Ok(())
    }

    pub fn lock(&self) {}

    pub async fn forget(&self) {}
}
