//! The state of one query and the pure decisions about it.

use serde_json::Value;

use super::options::{Millis, QueryOptions};
use crate::api::ApiError;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryState {
    /// The last good data, as the API returned it.
    pub data: Option<Value>,
    /// When `data` came from the server (ms since the epoch).
    pub updated_at: Option<Millis>,
    /// True while `data` is what IndexedDB held and no fetch has confirmed it yet.
    pub from_cache: bool,
    /// The last fetch's error; data, if any, is kept.
    pub error: Option<ApiError>,
    pub fetching: bool,
    /// Marked by a mutation (seed 002): refetch at the next chance even if fresh.
    pub invalidated: bool,
}

impl QueryState {
    /// Data older than `stale_time`, invalidated, or absent should be fetched again.
    pub fn is_stale(&self, stale_time: Millis, now: Millis) -> bool {
        match (self.invalidated, self.data.is_some(), self.updated_at) {
            (true, _, _) | (_, false, _) | (_, _, None) => true,
            (false, true, Some(at)) => now - at >= stale_time,
        }
    }

    /// Whether a reader should start a fetch now.
    pub fn should_fetch(&self, options: &QueryOptions, online: bool, now: Millis) -> bool {
        online && !self.fetching && self.is_stale(options.stale_time, now)
    }

    /// Showing saved data because the server could not be asked: the "as of" time.
    pub fn saved_at(&self, online: bool) -> Option<Millis> {
        let showing_saved =
            self.from_cache || !online || self.error.as_ref().is_some_and(ApiError::is_unreachable);
        if showing_saved && self.data.is_some() {
            self.updated_at
        } else {
            None
        }
    }

    /// Nothing to show and the server cannot be reached.
    pub fn unavailable_offline(&self, online: bool) -> bool {
        self.data.is_none()
            && (!online || self.error.as_ref().is_some_and(ApiError::is_unreachable))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn with_data(at: Millis) -> QueryState {
        QueryState {
            data: Some(json!(1)),
            updated_at: Some(at),
            ..Default::default()
        }
    }

    #[test]
    fn staleness() {
        assert!(QueryState::default().is_stale(1000, 0), "no data");
        assert!(!with_data(100).is_stale(1000, 1099));
        assert!(with_data(100).is_stale(1000, 1100));
        assert!(
            with_data(100).is_stale(0, 100),
            "stale_time 0: always stale"
        );
        let mut s = with_data(100);
        s.invalidated = true;
        assert!(s.is_stale(1_000_000, 101));
    }

    #[test]
    fn no_fetch_offline_or_in_flight() {
        let opts = QueryOptions::default();
        assert!(QueryState::default().should_fetch(&opts, true, 0));
        assert!(!QueryState::default().should_fetch(&opts, false, 0));
        let busy = QueryState {
            fetching: true,
            ..Default::default()
        };
        assert!(!busy.should_fetch(&opts, true, 0));
    }

    #[test]
    fn saved_notice_and_unavailable() {
        let s = with_data(5);
        assert_eq!(s.saved_at(true), None, "fresh from the server");
        assert_eq!(s.saved_at(false), Some(5));
        let restored = QueryState {
            from_cache: true,
            ..with_data(7)
        };
        assert_eq!(restored.saved_at(true), Some(7));
        let failed = QueryState {
            error: Some(ApiError::Network("x".into())),
            ..with_data(9)
        };
        assert_eq!(failed.saved_at(true), Some(9));
        assert!(QueryState::default().unavailable_offline(false));
        assert!(!QueryState::default().unavailable_offline(true));
        assert!(!with_data(1).unavailable_offline(false));
    }
}
