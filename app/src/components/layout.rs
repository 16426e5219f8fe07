use leptos::prelude::*;
use leptos_router::{
    components::Outlet,
    hooks::{use_navigate, use_params_map},
};

use crate::{
    components::{
        connectivity::Connectivity, nav::Nav, readiness_pill::ReadinessPill, sync_badge::SyncBadge,
    },
    offline::{
        network::use_network,
        outbox::use_outbox,
        query::{client::now_ms, use_query_client},
        readiness::{due, use_readiness},
        vault::use_vault,
    },
    session::use_session,
};

/// The signed-in frame: header, navigation, and the page. Sends a signed-out visitor to
/// the login page once the browser has restored (or not) the session.
#[component]
pub fn AuthedLayout() -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let params = use_params_map();
    let facility_id = move || params.read().get("facility_id").unwrap_or_default();

    Effect::new(move |_| {
        if session.restored() && !session.signed_in() {
            navigate("/login", Default::default());
        }
    });

    // Get ready for offline after sign-in, when back online and when the last run is a day
    // old; the report itself is read untracked, so a run that missed a part is retried at
    // the next of those moments, not in a loop.
    let readiness = use_readiness();
    let network = use_network();
    let client = use_query_client();
    let hourly = RwSignal::new(0u64);
    #[cfg(feature = "hydrate")]
    if let Ok(handle) = set_interval_with_handle(
        move || hourly.update(|n| *n += 1),
        std::time::Duration::from_secs(3600),
    ) {
        on_cleanup(move || handle.clear());
    }
    Effect::new(move |_| {
        let signed_in = session.user().map(|u| u.user.id);
        let (restored, online) = (client.restored(), network.online());
        let (_, _) = (network.reconnects(), hourly.get());
        let fid = facility_id();
        if signed_in.is_some()
            && restored
            && online
            && due(readiness.report_untracked().as_ref(), &fid, now_ms())
        {
            readiness.start(fid);
        }
    });

    let outbox = use_outbox();
    let vault = use_vault();
    // Writes waiting on this device are kept for this user (sealed, and sent when they sign
    // in again), but the person should know before leaving. Unfinished forms are discarded
    // at sign-out, and the person is told first.
    let sign_out = move |_| {
        leptos::task::spawn_local(async move {
            let open = outbox.open_count() + outbox.attention_count();
            let user_id = session
                .user_untracked()
                .map(|u| u.user.id)
                .unwrap_or_default();
            let drafts = crate::pages::encounters::drafts::of_user(&user_id).await;
            if let Some(message) = sign_out_warning(open, drafts.len()) {
                #[cfg(feature = "hydrate")]
                {
                    let ok = web_sys::window()
                        .and_then(|w| w.confirm_with_message(&message).ok())
                        .unwrap_or(false);
                    if !ok {
                        return;
                    }
                }
                let _ = message;
            }
            outbox.before_sign_out().await;
            crate::offline::store::local::remove_all(&drafts).await;
            // The session ends first (the cache of this user is wiped as it ends), then no
            // open copy of the vault stays.
            session.sign_out().await;
            vault.forget().await;
        });
    };
    let lock = move |_| vault.lock();

    view! {
        <Show
            when=move || session.restored() && session.signed_in()
            fallback=|| view! { <p class="loading" aria-busy="true">"Loading…"</p> }
        >
            <header class="topbar">
                <span class="topbar__brand">"CARE Offline"</span>
                <Connectivity/>
                <SyncBadge facility_id=facility_id()/>
                <ReadinessPill/>
                <span class="topbar__user" data-testid="signed-in-user">
                    {move || session.user().map(|u| u.user.full_name()).unwrap_or_default()}
                </span>
                <button class="button button--ghost" on:click=lock data-testid="lock">"Lock"</button>
                <button class="button button--ghost" on:click=sign_out>"Sign out"</button>
            </header>
            <Nav facility_id=facility_id()/>
            <main class="page">
                <Outlet/>
            </main>
        </Show>
    }
}

/// What the person is asked before signing out, if anything.
fn sign_out_warning(queued: usize, drafts: usize) -> Option<String> {
    let mut parts = Vec::new();
    if queued > 0 {
        parts.push(format!(
            "{queued} change(s) are saved only on this device. They stay here and are sent when you sign in again."
        ));
    }
    if drafts > 0 {
        parts.push(format!("{drafts} unfinished form(s) will be discarded."));
    }
    (!parts.is_empty()).then(|| format!("{} Sign out?", parts.join(" ")))
}

#[cfg(test)]
mod tests {
    use super::sign_out_warning;

    #[test]
    fn the_person_is_told_what_stays_and_what_goes() {
        assert_eq!(sign_out_warning(0, 0), None);
        let both = sign_out_warning(2, 1).expect("asked");
        assert!(both.starts_with("2 change(s) are saved only on this device."));
        assert!(both.contains("1 unfinished form(s) will be discarded."));
        assert!(both.ends_with("Sign out?"));
    }
}
