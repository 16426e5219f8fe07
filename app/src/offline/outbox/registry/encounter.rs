//! Encounter and questionnaire writes.

use super::{HttpMethod, Op, SyncRoute};

pub const ROUTES: &[SyncRoute] = &[SyncRoute {
    key: "encounter.create",
    op: Op::Create,
    resource_type: "encounter",
    method: HttpMethod::Post,
    path: "/encounter/",
    current: None,
    invalidates: &[&["encounter"], &["patient"]],
    label: "Start encounter",
}];
