//! Connectivity: never `navigator.onLine` alone (seed 001's first limitation).
//!
//! Three sources feed one signal: the browser's online/offline events, the outcome of every
//! real API request (a network error, a proxy 502/504 or a captive portal's HTML means
//! unreachable; any CARE answer means reachable), and a probe of `/health` whose body must
//! be ours. The probe backs off while offline and pauses while the page is hidden.
//!
//! # Server-Side Rendering
//! On the server the signal stays "online" with no last contact and nothing is probed.

use leptos::prelude::*;

use crate::offline::query::options::{Millis, SECOND};

/// Probe delays while offline: 2 s doubling to at most 60 s, plus up to 20 % jitter.
pub const PROBE_MIN: Millis = 2 * SECOND;
pub const PROBE_MAX: Millis = 60 * SECOND;
/// While online, probe only when no request has reached the server for this long.
pub const ONLINE_PROBE_EVERY: Millis = 30 * SECOND;

/// The delay before the next probe after `failures` failed ones; `jitter` in 0..=1.
pub fn probe_delay(failures: u32, jitter: f64) -> Millis {
    let base = PROBE_MIN
        .saturating_mul(1_i64 << failures.min(16))
        .min(PROBE_MAX);
    base + (base as f64 * 0.2 * jitter.clamp(0.0, 1.0)) as Millis
}

/// True only for our `/health` JSON (`{"service":"care-offline","status":"ok",...}`): a
/// captive portal's `200 text/html` login page is not a reachable server.
pub fn is_healthy_body(body: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(body)
        .map(|v| v["service"] == "care-offline" && v["status"] == "ok")
        .unwrap_or(false)
}

#[derive(Debug, Clone, Copy)]
pub struct Network {
    online: RwSignal<bool>,
    last_reached: RwSignal<Option<Millis>>,
    /// Bumped each time the server becomes reachable again.
    reconnects: RwSignal<u64>,
    /// Bumped each time the page regains focus or becomes visible.
    focuses: RwSignal<u64>,
}

pub fn provide_network() -> Network {
    let network = Network {
        online: RwSignal::new(true),
        last_reached: RwSignal::new(None),
        reconnects: RwSignal::new(0),
        focuses: RwSignal::new(0),
    };
    provide_context(network);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| browser::start(network));
    network
}

pub fn use_network() -> Network {
    expect_context::<Network>()
}

impl Network {
    /// Reactive: can the server be reached, as far as we know.
    pub fn online(&self) -> bool {
        self.online.get()
    }

    pub fn online_untracked(&self) -> bool {
        self.online.get_untracked()
    }

    /// When a request last reached the server (ms since the epoch).
    pub fn last_reached(&self) -> Option<Millis> {
        self.last_reached.get()
    }

    pub fn reconnects(&self) -> u64 {
        self.reconnects.get()
    }

    pub fn focuses(&self) -> u64 {
        self.focuses.get()
    }

    pub fn report_reached(&self, now: Millis) {
        self.last_reached.set(Some(now));
        if !self.online.get_untracked() {
            self.online.set(true);
            self.reconnects.update(|n| *n += 1);
        }
    }

    pub fn report_unreachable(&self) {
        if self.online.get_untracked() {
            self.online.set(false);
        }
    }

    pub fn report_focus(&self) {
        self.focuses.update(|n| *n += 1);
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use std::{cell::Cell, rc::Rc};

    use leptos::prelude::*;
    use wasm_bindgen::{closure::Closure, JsCast};

    use super::*;

    fn now() -> Millis {
        js_sys::Date::now() as Millis
    }

    fn page_hidden() -> bool {
        web_sys::window()
            .and_then(|w| w.document())
            .map(|d| d.hidden())
            .unwrap_or(false)
    }

    async fn probe() -> bool {
        match gloo_net::http::Request::get("/health")
            .header("Cache-Control", "no-store")
            .send()
            .await
        {
            Ok(resp) if resp.ok() => resp
                .text()
                .await
                .map(|t| is_healthy_body(&t))
                .unwrap_or(false),
            _ => false,
        }
    }

    async fn probe_once(network: Network, failures: &Cell<u32>) {
        if probe().await {
            failures.set(0);
            network.report_reached(now());
        } else {
            failures.set(failures.get().saturating_add(1));
            network.report_unreachable();
        }
    }

    pub fn start(network: Network) {
        let Some(window) = web_sys::window() else {
            return;
        };
        if !window.navigator().on_line() {
            network.report_unreachable();
        }
        // Every API request reports whether it reached the server.
        crate::api::set_reachability_observer(move |reached| {
            if reached {
                network.report_reached(now());
            } else {
                network.report_unreachable();
            }
        });
        let failures = Rc::new(Cell::new(0u32));

        let on_offline = Closure::<dyn Fn()>::new(move || network.report_unreachable());
        // "online" from the browser is only a hint: confirm with a probe.
        let f = failures.clone();
        let on_online = Closure::<dyn Fn()>::new(move || {
            let f = f.clone();
            leptos::task::spawn_local(async move { probe_once(network, &f).await });
        });
        let on_focus = Closure::<dyn Fn()>::new(move || {
            if !page_hidden() {
                network.report_focus();
            }
        });
        let _ =
            window.add_event_listener_with_callback("offline", on_offline.as_ref().unchecked_ref());
        let _ =
            window.add_event_listener_with_callback("online", on_online.as_ref().unchecked_ref());
        let _ = window.add_event_listener_with_callback("focus", on_focus.as_ref().unchecked_ref());
        if let Some(doc) = window.document() {
            let _ = doc.add_event_listener_with_callback(
                "visibilitychange",
                on_focus.as_ref().unchecked_ref(),
            );
        }
        // The listeners live as long as the page.
        on_offline.forget();
        on_online.forget();
        on_focus.forget();

        leptos::task::spawn_local(async move {
            probe_once(network, &failures).await;
            loop {
                let delay = if network.online_untracked() {
                    ONLINE_PROBE_EVERY
                } else {
                    probe_delay(failures.get(), js_sys::Math::random())
                };
                gloo_timers::future::sleep(std::time::Duration::from_millis(delay as u64)).await;
                if page_hidden() {
                    continue;
                }
                let recently = network
                    .last_reached
                    .get_untracked()
                    .is_some_and(|t| now() - t < ONLINE_PROBE_EVERY);
                if network.online_untracked() && recently {
                    continue;
                }
                probe_once(network, &failures).await;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_a_cap_with_bounded_jitter() {
        assert_eq!(probe_delay(0, 0.0), 2_000);
        assert_eq!(probe_delay(1, 0.0), 4_000);
        assert_eq!(probe_delay(4, 0.0), 32_000);
        assert_eq!(probe_delay(5, 0.0), 60_000);
        assert_eq!(probe_delay(40, 0.0), 60_000);
        assert_eq!(probe_delay(0, 1.0), 2_400);
        assert_eq!(probe_delay(40, 7.0), 72_000, "jitter is clamped");
    }

    #[test]
    fn only_our_health_json_is_healthy() {
        assert!(is_healthy_body(
            r#"{"service":"care-offline","status":"ok","version":"0.1.0"}"#
        ));
        assert!(!is_healthy_body(
            "<html><body>Please log in to the Wi-Fi</body></html>"
        ));
        assert!(!is_healthy_body(r#"{"status":"ok"}"#));
        assert!(!is_healthy_body(
            r#"{"service":"care-offline","status":"down"}"#
        ));
        assert!(!is_healthy_body(""));
    }
}
