//! What the server adds for offline sync, in front of whichever backend serves.

pub mod idempotency;
