//! The offline engine: connectivity, the reactive query cache and its IndexedDB persistence.
//! Decisions (key matching, staleness, expiry, backoff, record versions) are plain Rust with
//! native tests; the reactive and browser parts only wire signals and IndexedDB to them.

pub mod network;
pub mod outbox;
pub mod query;
pub mod readiness;
pub mod store;
pub mod update;
pub mod vault;
