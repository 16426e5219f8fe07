//! Resource requests (care-api.md §7).

use axum::Router;

use super::Care;

pub fn router() -> Router<Care> {
    Router::new()
}
