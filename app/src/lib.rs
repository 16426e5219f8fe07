//! CARE Offline: the Leptos app (components, pages, the typed CARE client and the session).
//! Compiled with `ssr` inside the server and with `hydrate` into the browser's wasm.
// Leptos view types nest deeply (the registration form).
#![recursion_limit = "512"]

pub mod api;
pub mod app;
pub mod components;
pub mod model;
pub mod offline;
pub mod pages;
pub mod questionnaire;
pub mod session;

pub use app::{shell, App};
