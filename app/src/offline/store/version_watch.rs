//! Notices when another tab opens this device's database at a newer version (a new app
//! version was loaded there). Without this, the newer tab's open would wait for this one
//! for ever. The watcher closes its own connection at once (rexie closes the store's), and
//! the page is told through a window event, so it can say "reload". Browser only.

use wasm_bindgen::{closure::Closure, JsCast};
use web_sys::{IdbDatabase, IdbOpenDbRequest, IdbVersionChangeEvent};

/// The window event a tab gets when its saved data moved on to a newer app version.
pub const OUTDATED_EVENT: &str = "care-offline-data-upgraded";

/// Tells this page that its app is older than the device's data.
pub fn announce_outdated() {
    if let Some(window) = web_sys::window() {
        if let Ok(event) = web_sys::Event::new(OUTDATED_EVENT) {
            let _ = window.dispatch_event(&event);
        }
    }
}

/// Opens `name` as it is (no version asked, so no upgrade), and calls `opened` once with
/// the connection, or None when there is none. It never creates the database: an open
/// that would (the database is gone) is aborted, since an empty one would hide the app's
/// stores from rexie's own open.
fn open_existing(name: &str, opened: impl FnOnce(Option<IdbDatabase>) + 'static) -> Option<()> {
    let factory = web_sys::window()?.indexed_db().ok()??;
    let request: IdbOpenDbRequest = factory.open(name).ok()?;
    let once = std::rc::Rc::new(std::cell::RefCell::new(Some(opened)));
    let call = move |db: Option<IdbDatabase>| {
        if let Some(f) = once.borrow_mut().take() {
            f(db);
        }
    };
    let request_of = |event: &web_sys::Event| {
        event
            .target()
            .and_then(|t| t.dyn_into::<IdbOpenDbRequest>().ok())
    };
    let on_upgrade = {
        let call = call.clone();
        Closure::once_into_js(move |event: web_sys::Event| {
            if let Some(tx) = request_of(&event).and_then(|r| r.transaction()) {
                let _ = tx.abort();
            }
            call(None);
        })
    };
    let on_success = {
        let call = call.clone();
        Closure::once_into_js(move |event: web_sys::Event| {
            call(
                request_of(&event)
                    .and_then(|r| r.result().ok())
                    .and_then(|r| r.dyn_into::<IdbDatabase>().ok()),
            );
        })
    };
    let on_error = Closure::once_into_js(move |_: web_sys::Event| call(None));
    request.set_onupgradeneeded(Some(on_upgrade.unchecked_ref()));
    request.set_onsuccess(Some(on_success.unchecked_ref()));
    request.set_onerror(Some(on_error.unchecked_ref()));
    Some(())
}

/// The version `name` is at on this device, without changing it (None when it cannot be
/// opened or does not exist yet).
pub async fn stored_version(name: &str) -> Option<u32> {
    let (tx, rx) = futures_channel::oneshot::channel::<Option<u32>>();
    open_existing(name, move |db| {
        let version = db.as_ref().map(|d| d.version() as u32);
        if let Some(db) = db {
            db.close();
        }
        let _ = tx.send(version);
    })?;
    rx.await.ok().flatten()
}

/// A second connection to `name`, only to hear `versionchange`.
pub struct VersionWatch {
    db: std::rc::Rc<std::cell::RefCell<Option<IdbDatabase>>>,
}

impl VersionWatch {
    pub fn start(name: &str) -> Option<Self> {
        let slot = std::rc::Rc::new(std::cell::RefCell::new(None::<IdbDatabase>));
        let opened = slot.clone();
        open_existing(name, move |db| {
            let Some(db) = db else { return };
            let this = db.clone();
            let on_change = Closure::once_into_js(move |event: IdbVersionChangeEvent| {
                this.close();
                // A deletion (newVersion null) is this app wiping its own data: no news.
                if event.new_version().is_some() {
                    announce_outdated();
                }
            });
            db.set_onversionchange(Some(on_change.unchecked_ref()));
            *opened.borrow_mut() = Some(db);
        })?;
        Some(Self { db: slot })
    }

    pub fn close(&self) {
        if let Some(db) = self.db.borrow_mut().take() {
            db.close();
        }
    }
}

impl Drop for VersionWatch {
    fn drop(&mut self) {
        self.close();
    }
}
