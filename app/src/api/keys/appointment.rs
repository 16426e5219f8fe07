//! Query keys and fetchers of the appointment pages.
