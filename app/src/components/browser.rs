//! Browser start-up work done once the page has hydrated.

/// Marks the document as hydrated (tests and CSS can tell an interactive page from the
/// server's HTML) and registers the service worker that keeps the app shell offline.
pub fn on_hydrated() {
    let Some(window) = web_sys::window() else {
        return;
    };
    if let Some(body) = window.document().and_then(|d| d.body()) {
        let _ = body.set_attribute("data-hydrated", "true");
    }
    let _ = window.navigator().service_worker().register("/sw.js");
}
