//! The browser side: the service worker registration and the database watcher's event.

use leptos::prelude::*;
use wasm_bindgen::{closure::Closure, JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{ServiceWorkerRegistration, ServiceWorkerState};

use super::{AppUpdate, Offer};
use crate::offline::{network::Network, store::version_watch::OUTDATED_EVENT};

/// How long a waiting worker gets to take over before the page reloads anyway.
const TAKEOVER_WAIT_MS: u32 = 5_000;

fn container() -> Option<web_sys::ServiceWorkerContainer> {
    Some(web_sys::window()?.navigator().service_worker())
}

async fn registration() -> Option<ServiceWorkerRegistration> {
    let promise = container()?.get_registration();
    JsFuture::from(promise).await.ok()?.dyn_into().ok()
}

/// A new worker counts as an update only when one already controls the page (the first
/// install takes over by itself).
fn controlled() -> bool {
    container().is_some_and(|c| c.controller().is_some())
}

pub(super) fn watch(update: AppUpdate, network: Network) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let on_outdated = Closure::<dyn FnMut()>::new(move || update.data_upgraded.set(true));
    let _ = window
        .add_event_listener_with_callback(OUTDATED_EVENT, on_outdated.as_ref().unchecked_ref());
    on_outdated.forget();

    leptos::task::spawn_local(async move {
        let Some(container) = container() else {
            return;
        };
        let Ok(ready) = container.ready() else {
            return;
        };
        let Some(reg) = JsFuture::from(ready)
            .await
            .ok()
            .and_then(|r| r.dyn_into::<ServiceWorkerRegistration>().ok())
        else {
            return;
        };
        if reg.waiting().is_some() && controlled() {
            update.worker_waiting.set(true);
        }
        let watched = reg.clone();
        let on_found = Closure::<dyn FnMut()>::new(move || {
            let Some(installing) = watched.installing() else {
                return;
            };
            let worker = installing.clone();
            let on_state = Closure::<dyn FnMut()>::new(move || {
                if worker.state() == ServiceWorkerState::Installed && controlled() {
                    update.worker_waiting.set(true);
                }
            });
            installing.set_onstatechange(Some(on_state.as_ref().unchecked_ref()));
            on_state.forget();
        });
        reg.set_onupdatefound(Some(on_found.as_ref().unchecked_ref()));
        on_found.forget();
    });

    // The browser looks for a new worker on page loads; a tab that stays open all day
    // looks whenever the server comes back.
    Effect::new(move |was_online: Option<bool>| {
        let online = network.online();
        if online && was_online == Some(false) {
            leptos::task::spawn_local(async {
                if let Some(reg) = registration().await {
                    if let Ok(p) = reg.update() {
                        let _ = JsFuture::from(p).await;
                    }
                }
            });
        }
        online
    });
}

/// Lets the waiting worker take over, then reloads (a reload alone would keep the old
/// worker while any tab of the app is open).
pub(super) async fn activate_and_reload(offer: Option<Offer>) {
    if offer == Some(Offer::NewVersion) {
        if let (Some(container), Some(waiting)) =
            (container(), registration().await.and_then(|r| r.waiting()))
        {
            let (tx, rx) = futures_channel::oneshot::channel::<()>();
            let tx = std::rc::Rc::new(std::cell::RefCell::new(Some(tx)));
            let on_change = Closure::<dyn FnMut()>::new(move || {
                if let Some(tx) = tx.borrow_mut().take() {
                    let _ = tx.send(());
                }
            });
            container.set_oncontrollerchange(Some(on_change.as_ref().unchecked_ref()));
            on_change.forget();
            let message = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&message, &"type".into(), &"skip-waiting".into());
            let _ = waiting.post_message(&message);
            let timeout = gloo_timers::future::TimeoutFuture::new(TAKEOVER_WAIT_MS);
            futures_util::future::select(std::pin::pin!(rx), std::pin::pin!(timeout)).await;
        }
    }
    if let Some(window) = web_sys::window() {
        let _: Result<(), JsValue> = window.location().reload();
    }
}
