//! The signed-in session: CARE's access + refresh tokens (kept in localStorage as care_fe
//! does), the current user, refresh before expiry, and sign-out. A `Copy` handle provided
//! in `App`.
//!
//! Being offline never signs anyone out: a refresh that cannot reach the server keeps the
//! tokens; only CARE refusing a refresh (401 or 403, whatever the body) ends the session.

pub mod storage;
pub mod token;

use leptos::prelude::*;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::{
    api::{self, ApiError, Method},
    model::{CurrentUser, TokenPair},
};

#[derive(Debug, Clone, Copy)]
pub struct Session {
    tokens: RwSignal<Option<TokenPair>>,
    user: RwSignal<Option<CurrentUser>>,
    /// False until the browser has restored the session (always false while rendering on
    /// the server), so pages can tell "not signed in" from "not known yet".
    restored: RwSignal<bool>,
    /// Set when CARE rejected the refresh token; the login page explains it.
    expired: RwSignal<bool>,
}

pub fn provide_session() -> Session {
    let session = Session {
        tokens: RwSignal::new(None),
        user: RwSignal::new(None),
        restored: RwSignal::new(false),
        expired: RwSignal::new(false),
    };
    provide_context(session);
    #[cfg(feature = "hydrate")]
    {
        Effect::new(move |_| session.restore());
        session.follow_other_tabs();
        // Check every 30 s; refresh once the access token is within two minutes of expiry.
        let _ = set_interval_with_handle(
            move || leptos::task::spawn_local(async move { session.refresh_if_due().await }),
            std::time::Duration::from_secs(30),
        );
    }
    session
}

/// The tokens kept on this device, when both are there.
fn stored_tokens() -> Option<TokenPair> {
    match (
        storage::get(storage::ACCESS_KEY),
        storage::get(storage::REFRESH_KEY),
    ) {
        (Some(access), Some(refresh)) => Some(TokenPair { access, refresh }),
        _ => None,
    }
}

/// A sign-in CARE accepted, before the device keeps it.
#[derive(Debug, Clone)]
pub struct SignIn {
    pub tokens: TokenPair,
    pub user: CurrentUser,
    /// The server's escrow key for this user's vault, when a CARE Offline server sent one.
    pub escrow: Option<String>,
}

pub fn use_session() -> Session {
    expect_context::<Session>()
}

impl Session {
    pub fn restored(&self) -> bool {
        self.restored.get()
    }

    pub fn signed_in(&self) -> bool {
        self.tokens.with(Option::is_some)
    }

    pub fn signed_in_untracked(&self) -> bool {
        self.tokens.with_untracked(Option::is_some)
    }

    pub fn expired(&self) -> bool {
        self.expired.get()
    }

    pub fn user(&self) -> Option<CurrentUser> {
        self.user.get()
    }

    pub fn user_untracked(&self) -> Option<CurrentUser> {
        self.user.get_untracked()
    }

    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn restore(&self) {
        let tokens = stored_tokens();
        let user = storage::get(storage::USER_KEY).and_then(|u| serde_json::from_str(&u).ok());
        self.tokens.set(tokens);
        self.user.set(user);
        self.restored.set(true);
    }

    /// Takes the session another tab left in storage: renewed tokens quietly; another user,
    /// or none, in full (the cache follows the user).
    #[cfg(feature = "hydrate")]
    fn resync(&self) {
        let tokens = stored_tokens();
        let stored_user = storage::get(storage::USER_KEY)
            .and_then(|u| serde_json::from_str::<CurrentUser>(&u).ok())
            .map(|u| u.user.id);
        let same_user = stored_user
            == self
                .user
                .with_untracked(|u| u.as_ref().map(|u| u.user.id.clone()));
        if tokens.is_some() && same_user {
            if self.tokens.with_untracked(|t| t != &tokens) {
                self.tokens.set(tokens);
            }
        } else {
            self.restore();
        }
    }

    fn store(&self, tokens: TokenPair) {
        storage::set(storage::ACCESS_KEY, &tokens.access);
        storage::set(storage::REFRESH_KEY, &tokens.refresh);
        self.tokens.set(Some(tokens));
    }

    fn store_user(&self, user: CurrentUser) {
        if let Ok(json) = serde_json::to_string(&user) {
            storage::set(storage::USER_KEY, &json);
        }
        self.user.set(Some(user));
    }

    /// Forgets the session on this device.
    fn clear(&self) {
        for key in [storage::ACCESS_KEY, storage::REFRESH_KEY, storage::USER_KEY] {
            storage::remove(key);
        }
        self.tokens.set(None);
        self.user.set(None);
    }

    /// Asks CARE: the tokens and the user, not yet kept (the vault opens first).
    pub async fn authenticate(&self, username: &str, password: &str) -> Result<SignIn, ApiError> {
        let answer = api::auth::login(username, password).await?;
        let user = api::auth::current_user(&answer.access).await?;
        Ok(SignIn {
            tokens: TokenPair {
                access: answer.access,
                refresh: answer.refresh,
            },
            user,
            escrow: answer.care_offline_vault,
        })
    }

    /// Keeps a sign-in on this device: the session starts.
    pub fn establish(&self, signed: SignIn) -> CurrentUser {
        self.expired.set(false);
        self.store(signed.tokens);
        self.store_user(signed.user.clone());
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async {
            let _ = crate::offline::store::request_persistent_storage().await;
        });
        signed.user
    }

    /// Ends the session here at once, then asks the server to revoke the tokens in the
    /// background (a bad connection never keeps the session alive on this device). Other
    /// tabs hear it through the storage event and follow.
    pub async fn sign_out(&self) {
        let tokens = self.tokens.get_untracked();
        self.clear();
        if let Some(tokens) = tokens {
            // Bounded by the API's request deadline.
            leptos::task::spawn_local(async move {
                let _ = api::auth::logout(&tokens).await;
            });
        }
    }

    /// Another tab signed in, out, or renewed the tokens: this tab takes the same session
    /// at once (a signed-out tab goes to the sign-in page and stops saving anything).
    #[cfg(feature = "hydrate")]
    fn follow_other_tabs(&self) {
        use wasm_bindgen::{closure::Closure, JsCast};
        let session = *self;
        let on_storage = Closure::<dyn FnMut(web_sys::StorageEvent)>::new(
            move |event: web_sys::StorageEvent| {
                let ours = event.key().is_none_or(|k| {
                    [storage::ACCESS_KEY, storage::REFRESH_KEY, storage::USER_KEY]
                        .contains(&k.as_str())
                });
                if ours {
                    session.resync();
                }
            },
        );
        if let Some(window) = web_sys::window() {
            let _ = window
                .add_event_listener_with_callback("storage", on_storage.as_ref().unchecked_ref());
        }
        on_storage.forget();
    }

    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    async fn refresh_if_due(&self) {
        let Some(tokens) = self.tokens.get_untracked() else {
            return;
        };
        let now = chrono::Utc::now().timestamp();
        if token::needs_refresh(token::expiry(&tokens.access), now) {
            let _ = self.refresh().await;
        }
    }

    /// Renews the tokens. Unreachable: keeps the old ones. Rejected: the session has ended.
    pub async fn refresh(&self) -> Result<(), ApiError> {
        let Some(tokens) = self.tokens.get_untracked() else {
            return Err(ApiError::AuthExpired);
        };
        match api::auth::refresh(&tokens.refresh).await {
            Ok(fresh) => {
                self.store(fresh);
                Ok(())
            }
            Err(e) if e.ends_session_on_refresh() => {
                self.expired.set(true);
                self.clear();
                Err(ApiError::AuthExpired)
            }
            Err(e) => Err(e),
        }
    }

    /// An authenticated call; an expired access token is refreshed once and the call retried.
    pub async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<T, ApiError> {
        self.call_with(method, path, body, &[]).await
    }

    /// `call` with extra headers (`Idempotency-Key` on queued writes).
    pub async fn call_with<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Result<T, ApiError> {
        let Some(tokens) = self.tokens.get_untracked() else {
            return Err(ApiError::AuthExpired);
        };
        match api::request_with(method, path, body, Some(&tokens.access), headers).await {
            Err(ApiError::AuthExpired) => {
                self.refresh().await?;
                let access = self
                    .tokens
                    .get_untracked()
                    .map(|t| t.access)
                    .ok_or(ApiError::AuthExpired)?;
                api::request_with(method, path, body, Some(&access), headers).await
            }
            other => other,
        }
    }

    /// Re-reads the current user (names, facilities, permissions).
    pub async fn reload_user(&self) -> Result<CurrentUser, ApiError> {
        let user: CurrentUser = self
            .call(Method::Get, "/users/getcurrentuser/", None)
            .await?;
        self.store_user(user.clone());
        Ok(user)
    }
}
