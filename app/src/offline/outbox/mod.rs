//! Offline writes: the outbox record, the registry of write routes, and the pure sync
//! core (ordering, temporary-id rewriting, outcome classification, backoff, conflicts).
//! The browser shell (IndexedDB, locks, timers) only moves records through these.

pub mod engine;
pub mod record;
pub mod registry;

#[cfg(test)]
mod sim;

pub use engine::{classify, Outcome, Prepared};
pub use record::{Op, OutboxRecord, SyncStatus};
pub use registry::{route, SyncRoute};
