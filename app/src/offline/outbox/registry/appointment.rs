//! Appointment writes.

use super::SyncRoute;

pub const ROUTES: &[SyncRoute] = &[];
