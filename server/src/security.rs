//! Headers every answer carries, so a page of this origin cannot be framed, sniffed into
//! another type or leak its address (which may hold a patient id) to another site.
//!
//! Which scripts may run is said by the page itself: the shell's `<meta>` policy carries
//! the nonce Leptos gives its inline hydration script (`app::shell`), which a header set
//! here cannot know. The header adds what a `<meta>` policy cannot say (`frame-ancestors`).

use axum::{
    extract::Request,
    http::{header, HeaderValue},
    middleware::Next,
    response::Response,
};

/// For HTML answers: no framing, no plugins, no `<base>` or form posts elsewhere.
pub const PAGE_POLICY: &str =
    "frame-ancestors 'none'; object-src 'none'; base-uri 'self'; form-action 'self'";

pub async fn headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let is_html = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html"));
    let h = resp.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if is_html {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PAGE_POLICY),
        );
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        // Pages name this build's hashed files: never kept by an HTTP cache unchecked.
        if !h.contains_key(header::CACHE_CONTROL) {
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        }
    }
    resp
}
