//! How long the server remembers a write's `Idempotency-Key` — in the proxy's store, the
//! built-in backend's and the push ledger alike: one setting
//! (`--idempotency-retention-days`, default 90), at least as long as a device may keep a
//! write queued. `/health` says it, so a device never resends on its own a write older than
//! what the server still remembers.

use std::sync::atomic::{AtomicI64, Ordering};

pub const DEFAULT_DAYS: u32 = 90;

static DAYS: AtomicI64 = AtomicI64::new(DEFAULT_DAYS as i64);

/// Set once at start from the configuration.
pub fn set_days(days: u32) {
    DAYS.store(i64::from(days.max(1)), Ordering::Relaxed);
    care_mimic::idempotency::set_retention_days(days);
}

pub fn days() -> i64 {
    DAYS.load(Ordering::Relaxed)
}

pub fn secs() -> i64 {
    days() * 24 * 3600
}
