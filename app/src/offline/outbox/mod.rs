//! Offline writes: the outbox record, the registry of write routes, and the pure sync
//! core (ordering, temporary-id rewriting, outcome classification, backoff, conflicts).
//! The browser shell (IndexedDB, locks, timers) only moves records through these.

pub mod backup;
#[cfg(feature = "hydrate")]
pub mod browser;
pub mod effects;
pub mod engine;
pub mod handle;
pub mod push;
pub mod record;
pub mod registry;
pub mod retention;
pub mod schema;
pub mod unreadable;
pub mod use_follow;
pub mod waiting;
pub mod write;

#[cfg(test)]
mod sim;

pub use engine::{classify, Outcome, Prepared};
pub use handle::{provide_outbox, use_outbox, Outbox};
pub use record::{Op, OutboxRecord, SyncStatus};
pub use registry::{route, SyncRoute};
pub use use_follow::{use_follow, UseFollowReturn};
pub use write::{follow, now_iso, Followed, Held, Undo, WriteSpec};
