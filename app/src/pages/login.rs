use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::{
    api::ApiError,
    components::{
        error_message::ErrorMessage, password_field::PasswordField, waiting_writes::WaitingWrites,
    },
    offline::vault::use_vault,
    session::use_session,
};

/// Sign in with a CARE username and password.
#[component]
pub fn LoginPage() -> impl IntoView {
    let session = use_session();
    let vault = use_vault();
    let navigate = use_navigate();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let notice = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let (user, pass) = (username.get_untracked(), password.get_untracked());
        if user.trim().is_empty() || pass.is_empty() {
            notice.set(Some("Enter your username and password.".into()));
            return;
        }
        notice.set(None);
        error.set(None);
        busy.set(true);
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            let signed = match session.authenticate(user.trim(), &pass).await {
                Ok(signed) => signed,
                Err(e) => {
                    password.set(String::new());
                    error.set(Some(e));
                    busy.set(false);
                    return;
                }
            };
            // The user's data on this device opens (or is created) with the password
            // before the session starts, so nothing is ever written in clear.
            if let Err(e) = vault
                .sign_in(&signed.user.user.id, &pass, signed.escrow.as_deref())
                .await
            {
                password.set(String::new());
                notice.set(Some(e.to_string()));
                busy.set(false);
                return;
            }
            let me = session.establish(signed);
            match me.facilities.first() {
                Some(f) => navigate(&format!("/facility/{}", f.id), Default::default()),
                None => notice.set(Some(
                    "Your account is not linked to any facility. Ask your administrator.".into(),
                )),
            }
            busy.set(false);
        });
    };

    view! {
        <main class="login">
            <form class="login__card" on:submit=submit novalidate>
                <h1 class="login__title">"CARE Offline"</h1>
                <p class="login__lead">"Sign in with your CARE account."</p>
                <Show when=move || session.expired()>
                    <p class="alert alert--info" role="status" data-testid="session-ended">"Your session has ended. Please sign in again."</p>
                </Show>
                <WaitingWrites username=username/>
                <label class="field">
                    <span class="field__label">"Username"</span>
                    <input
                        class="field__input"
                        name="username"
                        autocomplete="username"
                        autocapitalize="none"
                        required
                        prop:value=username
                        on:input=move |ev| username.set(event_target_value(&ev))
                    />
                </label>
                <PasswordField value=password/>
                {move || notice.get().map(|n| view! { <p class="alert alert--error" role="alert">{n}</p> })}
                <ErrorMessage error=error/>
                <button class="button button--primary" type="submit" disabled=busy>
                    {move || if busy.get() { "Signing in…" } else { "Sign in" }}
                </button>
            </form>
        </main>
    }
}
