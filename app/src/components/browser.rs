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

/// Asks the service worker to keep the shell of `path` (a route reached by client-side
/// navigation, which no page load brought through the worker).
pub fn remember_page(path: &str) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let Some(controller) = window.navigator().service_worker().controller() else {
        return;
    };
    let message = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&message, &"type".into(), &"cache-page".into());
    let _ = js_sys::Reflect::set(&message, &"url".into(), &path.into());
    let _ = controller.post_message(&message);
}
