//! `shell()` (the HTML document the server renders) and `App` (providers, routes).

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, Link, Meta, MetaTags, Title};
use leptos_router::{
    components::{ParentRoute, Route, Router, Routes},
    path,
};

use crate::{
    components::{
        layout::AuthedLayout, lock_screen::LockScreen, not_found::NotFound,
        update_banner::UpdateBanner,
    },
    offline::{network::provide_network, outbox::provide_outbox, query::provide_query_client},
    pages::{
        appointments::{book::BookAppointment, detail::AppointmentDetail, list::AppointmentList},
        encounters::{
            create::StartEncounter, detail::EncounterPage, fill::FillQuestionnaire,
            list::FacilityEncounters,
        },
        facility_home::FacilityHome,
        login::LoginPage,
        patients::{
            detail::PatientDetail, edit::EditPatient, find::FindPatient, home::PatientHome,
            list::PatientList, register::RegisterPatient,
        },
        resources::{detail::ResourceDetail, new::NewResourceRequest},
        root::RootRedirect,
        sync::{health::SyncHealthPage, page::SyncPage},
    },
    session::provide_session,
};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta http-equiv="Content-Security-Policy" content=page_policy()/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                <HashedStylesheet options=options.clone() id="leptos"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// What the page may load and run: its own files, the wasm, and only the inline script
/// that carries this render's nonce (Leptos's hydration script). Patient data goes only to
/// this origin. (`frame-ancestors` cannot be said here: the server sends it as a header.)
fn page_policy() -> String {
    let nonce = leptos::nonce::use_nonce()
        .map(|n| format!(" 'nonce-{n}'"))
        .unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self'{nonce} 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
         worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'self'"
    )
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let session = provide_session();
    let network = provide_network();
    let client = provide_query_client();
    let outbox = provide_outbox(session, client, network);
    crate::offline::readiness::provide_readiness(session, client, outbox);
    let update = crate::offline::update::provide_app_update();
    let vault = crate::offline::vault::provide_vault();
    #[cfg(feature = "hydrate")]
    {
        Effect::new(move |_| crate::components::browser::on_hydrated());
        // The cache follows the signed-in user, and only while their vault is open: their
        // own database is restored before pages fetch; locked, nothing of theirs is in
        // memory; signing out (or an ended session) wipes what was cached.
        // Only a change of user or of whose vault is open moves the cache (memos: a signal
        // set to the same value must not start it again).
        let user_id = Memo::new(move |_| session.user().map(|u| u.user.id));
        let open_user = Memo::new(move |_| vault.open_user());
        Effect::new(move |_| {
            if !session.restored() {
                return;
            }
            let (user_id, open) = (user_id.get(), open_user.get());
            leptos::task::spawn_local(async move {
                let signed_in = user_id.is_some();
                if signed_in && open != user_id {
                    // Locked (or not yet looked at): the user's data leaves memory; pages
                    // are not shown, and readers wait until it opens.
                    if crate::offline::query::client::current_store().is_some() {
                        client.switch_user(None, false, false).await;
                        outbox.reload().await;
                    }
                    vault.follow_session(user_id).await;
                    return;
                }
                if !signed_in {
                    vault.follow_session(None).await;
                }
                // Hold readers until the outbox says which records exist only here.
                client
                    .switch_user(user_id.clone(), !signed_in, signed_in)
                    .await;
                if let Some(user_id) = user_id.as_deref() {
                    let legacy = crate::pages::encounters::drafts::legacy_prefixes(user_id);
                    crate::offline::store::local::adopt_legacy(user_id, &legacy).await;
                    outbox.on_signed_in().await;
                    client.release_restore();
                } else {
                    outbox.reload().await;
                }
            });
        });
        vault.start();
        outbox.start();
        update.start(network);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (session, client, outbox, update);

    view! {
        <Title text="CARE Offline"/>
        <Link rel="manifest" href="/manifest.webmanifest"/>
        <Link rel="icon" href="/favicon.ico"/>
        <Link rel="apple-touch-icon" href="/icons/icon-192.png"/>
        <Meta name="theme-color" content="#0d766e"/>
        <Meta name="description" content="CARE for clinics with unreliable internet"/>
        <UpdateBanner/>
        <Show when=move || !vault.locked() fallback=|| view! { <LockScreen/> }>
        <Router>
            <RememberPages/>
            <Routes fallback=|| view! { <NotFound/> }>
                <Route path=path!("/") view=RootRedirect/>
                <Route path=path!("/login") view=LoginPage/>
                <ParentRoute path=path!("/facility/:facility_id") view=AuthedLayout>
                    <Route path=path!("") view=FacilityHome/>
                    <Route path=path!("patients") view=PatientList/>
                    <Route path=path!("patients/new") view=RegisterPatient/>
                    <Route path=path!("patients/search") view=FindPatient/>
                    <Route path=path!("patients/home") view=PatientHome/>
                    <Route path=path!("patients/:patient_id") view=PatientDetail/>
                    <Route path=path!("patients/:patient_id/edit") view=EditPatient/>
                    <Route path=path!("patients/:patient_id/resources/new") view=NewResourceRequest/>
                    <Route path=path!("resources/:resource_id") view=ResourceDetail/>
                    <Route path=path!("patients/:patient_id/encounters/new") view=StartEncounter/>
                    <Route path=path!("encounters") view=FacilityEncounters/>
                    <Route path=path!("encounter/:encounter_id") view=EncounterPage/>
                    <Route path=path!("encounter/:encounter_id/questionnaire/:slug") view=FillQuestionnaire/>
                    <Route path=path!("appointments") view=AppointmentList/>
                    <Route path=path!("appointments/book") view=BookAppointment/>
                    <Route path=path!("appointments/:appointment_id") view=AppointmentDetail/>
                    <Route path=path!("sync") view=SyncPage/>
                    <Route path=path!("sync/health") view=SyncHealthPage/>
                </ParentRoute>
            </Routes>
        </Router>
        </Show>
    }
}

/// Keeps every visited route's shell in the service worker's cache.
#[component]
fn RememberPages() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    {
        let location = leptos_router::hooks::use_location();
        Effect::new(move |_| crate::components::browser::remember_page(&location.pathname.get()));
    }
}
