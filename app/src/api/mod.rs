//! Typed client for CARE's `/api/v1`. Error classification is pure (tested natively); the
//! transport is gloo-net in the browser. On the server every call answers `NotInBrowser`:
//! pages fetch data only after hydration, because tokens live in the browser.

pub mod auth;
pub mod error;
pub mod keys;
mod transport;

pub use error::ApiError;
#[cfg(feature = "hydrate")]
pub use transport::set_reachability_observer;
pub use transport::{looks_like_captive_portal, request, request_with, Method};
