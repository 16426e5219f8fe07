//! Query keys and fetchers of the encounter pages.
