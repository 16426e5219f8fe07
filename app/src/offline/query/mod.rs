//! A TanStack-Query-like cache: hierarchical keys, per-query options, one reactive state
//! per key shared by every reader, optional persistence to the user's IndexedDB.

pub mod client;
pub mod key;
pub mod options;
pub mod state;
pub mod use_query;

pub use client::{provide_query_client, use_query_client, QueryClient};
pub use key::QueryKey;
pub use options::QueryOptions;
pub use state::QueryState;
pub use use_query::{use_query, UseQueryReturn};
