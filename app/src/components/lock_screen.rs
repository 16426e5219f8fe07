use leptos::prelude::*;

use crate::{
    components::password_field::PasswordField,
    offline::{
        network::use_network,
        vault::{use_vault, Vault, VaultError},
    },
    session::{use_session, Session},
};

/// Covers the app while the signed-in user's data is locked: their password opens it
/// again (offline too); someone else can sign in instead, leaving it sealed for them.
#[component]
pub fn LockScreen() -> impl IntoView {
    let session = use_session();
    let vault = use_vault();
    let network = use_network();
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let name = move || {
        session
            .user()
            .map(|u| u.user.full_name())
            .unwrap_or_default()
    };

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let pass = password.get_untracked();
        if busy.get_untracked() || pass.is_empty() {
            return;
        }
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let result = match vault.unlock(&pass).await {
                // The password may have been changed in CARE (or this device has not
                // protected the data yet): when CARE can be asked, it decides.
                Err(VaultError::WrongKey | VaultError::NoVault) if network.online_untracked() => {
                    unlock_through_care(session, vault, &pass).await
                }
                other => other,
            };
            password.set(String::new());
            if let Err(e) = result {
                error.set(Some(e.to_string()));
            }
            busy.set(false);
        });
    };

    let someone_else = move |_| {
        leptos::task::spawn_local(async move {
            // Their sealed data and queued writes stay on the device for them.
            session.sign_out().await;
            vault.forget().await;
            #[cfg(feature = "hydrate")]
            if let Some(w) = web_sys::window() {
                let _ = w.location().assign("/login");
            }
        });
    };

    view! {
        <main class="login lock" data-testid="lock-screen">
            <form class="login__card" on:submit=submit novalidate>
                <h1 class="login__title">"Locked"</h1>
                <p class="login__lead">
                    {move || format!("{}'s data on this device is locked. Enter your password to go on.", name())}
                </p>
                <PasswordField value=password/>
                {move || error.get().map(|e| view! { <p class="alert alert--error" role="alert">{e}</p> })}
                <button class="button button--primary" type="submit" disabled=busy>
                    {move || if busy.get() { "Unlocking…" } else { "Unlock" }}
                </button>
                <button class="button button--ghost" type="button" on:click=someone_else>
                    "Sign in as someone else"
                </button>
            </form>
        </main>
    }
}

/// CARE accepts the password: the vault opens with it (re-wrapped when it changed) and the
/// session takes the fresh tokens.
async fn unlock_through_care(
    session: Session,
    vault: Vault,
    password: &str,
) -> Result<(), VaultError> {
    let Some(me) = session.user_untracked() else {
        return Err(VaultError::WrongKey);
    };
    let signed = session
        .authenticate(&me.user.username, password)
        .await
        .map_err(|_| VaultError::WrongKey)?;
    if signed.user.user.id != me.user.id {
        return Err(VaultError::WrongKey);
    }
    vault
        .sign_in(&me.user.id, password, signed.escrow.as_deref())
        .await?;
    session.establish(signed);
    Ok(())
}
