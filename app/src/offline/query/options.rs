//! Per-query options, with the defaults of seed 002 ("always fresh": stale at once,
//! refetch on focus and on reconnect).

/// Milliseconds, to keep the type plain and serialisable.
pub type Millis = i64;

pub const SECOND: Millis = 1_000;
pub const MINUTE: Millis = 60 * SECOND;
pub const HOUR: Millis = 60 * MINUTE;
pub const DAY: Millis = 24 * HOUR;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryOptions {
    /// Keep this query in the user's IndexedDB so it can be read offline (seed 001's
    /// `meta.persist`). Default: false; clinical pages opt in.
    pub persist: bool,
    /// How long fetched data counts as fresh. Default: 0 (always refetch when read online).
    pub stale_time: Millis,
    /// How long an unread query stays in memory. Default: 5 minutes.
    pub gc_time: Millis,
    /// Persisted data older than this is dropped instead of shown. Default: 7 days, so a
    /// clinic offline for a week still sees what it saw.
    pub max_age: Millis,
    /// Refetch when the window regains focus or becomes visible. Default: true.
    pub refetch_on_focus: bool,
    /// Refetch when the server becomes reachable again. Default: true.
    pub refetch_on_reconnect: bool,
    /// Refetch on an interval while online and visible (appointment lists). Default: none.
    pub refetch_interval: Option<Millis>,
}

impl Default for QueryOptions {
    fn default() -> Self {
        Self {
            persist: false,
            stale_time: 0,
            gc_time: 5 * MINUTE,
            max_age: 7 * DAY,
            refetch_on_focus: true,
            refetch_on_reconnect: true,
            refetch_interval: None,
        }
    }
}

impl QueryOptions {
    /// Default options with persistence on.
    pub fn persisted() -> Self {
        Self {
            persist: true,
            ..Self::default()
        }
    }

    pub fn with_interval(mut self, every: Millis) -> Self {
        self.refetch_interval = Some(every);
        self
    }
}
