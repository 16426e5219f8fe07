//! Server-side rendering of the app shell (Leptos routes) and the static site files.

use app::{shell, App};
use axum::Router;
use leptos::prelude::LeptosOptions;
use leptos_axum::{generate_route_list, LeptosRoutes};

use crate::state::AppState;

pub fn router(state: &AppState) -> Router<AppState> {
    let options: LeptosOptions = state.leptos_options.clone();
    let routes = generate_route_list(App);
    Router::<AppState>::new()
        .leptos_routes(state, routes, move || shell(options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
}
