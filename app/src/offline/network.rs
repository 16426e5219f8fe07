//! Connectivity: never `navigator.onLine` alone (seed 001's first limitation).
//!
//! Three sources feed one signal: the browser's online/offline events, the outcome of every
//! real API request (a network error, a proxy 502/504 or a captive portal's HTML means
//! unreachable; any CARE answer means reachable), and a probe of `/health` whose body must
//! be ours. The probe backs off while offline and pauses while the page is hidden. A
//! request that fails while we were online wakes the probe at once: one lost answer on a
//! working line costs a probe's round trip, not the 30 s until the next regular one.
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
/// A probe that has not answered by then counts as failed (a stalled line is not a server).
pub const PROBE_TIMEOUT: Millis = 10 * SECOND;

/// The delay before the next probe after `failures` failed ones; `jitter` in 0..=1.
pub fn probe_delay(failures: u32, jitter: f64) -> Millis {
    let base = PROBE_MIN
        .saturating_mul(1_i64 << failures.min(16))
        .min(PROBE_MAX);
    base + (base as f64 * 0.2 * jitter.clamp(0.0, 1.0)) as Millis
}

/// Failures this close after the previous one (each after a recovery) count as one bad
/// spell; a quiet minute starts afresh.
pub const FLAP_WINDOW: Millis = 60 * SECOND;

/// How many failures in a row `now` makes, given the count and time of the previous one.
pub fn next_flaps(previous: u32, last_failure: Option<Millis>, now: Millis) -> u32 {
    match last_failure {
        Some(t) if now - t < FLAP_WINDOW => previous.saturating_add(1),
        _ => 0,
    }
}

/// After a request failed while online: how long to wait before probing. The first
/// failure after a quiet spell probes at once; failures that come right after every
/// recovery (our server answers, the CARE behind it does not) back off like offline probes.
pub fn recheck_delay(flaps: u32) -> Millis {
    if flaps == 0 {
        0
    } else {
        probe_delay(flaps - 1, 0.0)
    }
}

/// How many days the server remembers a write's key (`/health`'s
/// `idempotency_retention_days`), when it says.
pub fn retention_from_body(body: &str) -> Option<i64> {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()?
        .get("idempotency_retention_days")?
        .as_i64()
        .filter(|d| *d > 0)
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
    /// Set once the server is known to be down (a probe failed, the browser went offline),
    /// not merely because one request failed.
    confirmed_down: RwSignal<bool>,
    /// Bumped each time the server is reachable again after such a confirmed outage.
    recoveries: RwSignal<u64>,
    /// Bumped each time the page regains focus or becomes visible.
    focuses: RwSignal<u64>,
    /// Days the server remembers a write's key, as its `/health` last said.
    retention_days: RwSignal<Option<i64>>,
}

pub fn provide_network() -> Network {
    let network = Network {
        online: RwSignal::new(true),
        last_reached: RwSignal::new(None),
        reconnects: RwSignal::new(0),
        confirmed_down: RwSignal::new(false),
        recoveries: RwSignal::new(0),
        focuses: RwSignal::new(0),
        retention_days: RwSignal::new(None),
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

    /// Reactive: bumped when the server answers again after a confirmed outage. A request
    /// that failed while the probe right after it reached the server is no outage: the
    /// line works and that request (say, a write CARE keeps dropping) failed on its own, so
    /// writes keep their backoff instead of being retried at every such "reconnect".
    pub fn recoveries(&self) -> u64 {
        self.recoveries.get()
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
        if self.confirmed_down.get_untracked() {
            self.confirmed_down.set(false);
            self.recoveries.update(|n| *n += 1);
        }
    }

    /// A request did not reach the server: offline until a probe says otherwise.
    pub fn report_unreachable(&self) {
        if self.online.get_untracked() {
            self.online.set(false);
        }
    }

    /// The server is known to be down: a probe failed, or the browser lost its network.
    pub fn report_down(&self) {
        self.report_unreachable();
        if !self.confirmed_down.get_untracked() {
            self.confirmed_down.set(true);
        }
    }

    /// Days the server remembers a write's key (None until a probe said).
    pub fn retention_days_untracked(&self) -> Option<i64> {
        self.retention_days.get_untracked()
    }

    pub fn report_focus(&self) {
        self.focuses.update(|n| *n += 1);
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use std::{
        cell::{Cell, RefCell},
        pin::pin,
        rc::Rc,
        time::Duration,
    };

    use futures_channel::oneshot;
    use futures_util::future::{select, Either};
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

    /// Sleeps `ms`, or less when woken. One sleeper at a time: the probe loop.
    #[derive(Default)]
    struct Alarm {
        wake: RefCell<Option<oneshot::Sender<()>>>,
    }

    impl Alarm {
        fn ring(&self) {
            if let Some(tx) = self.wake.borrow_mut().take() {
                let _ = tx.send(());
            }
        }

        /// True when woken before `ms` passed.
        async fn sleep(&self, ms: Millis) -> bool {
            let (tx, rx) = oneshot::channel();
            *self.wake.borrow_mut() = Some(tx);
            let timer = gloo_timers::future::sleep(Duration::from_millis(ms.max(0) as u64));
            let woken = matches!(select(pin!(timer), rx).await, Either::Right((Ok(()), _)));
            self.wake.borrow_mut().take();
            woken
        }
    }

    /// Our `/health` body when the server answered with it in time.
    async fn probe() -> Option<String> {
        let request = async {
            match gloo_net::http::Request::get("/health")
                .header("Cache-Control", "no-store")
                .send()
                .await
            {
                Ok(resp) if resp.ok() => resp.text().await.ok().filter(|t| is_healthy_body(t)),
                _ => None,
            }
        };
        let timeout = gloo_timers::future::sleep(Duration::from_millis(PROBE_TIMEOUT as u64));
        match select(pin!(request), pin!(timeout)).await {
            Either::Left((body, _)) => body,
            Either::Right(((), _)) => None,
        }
    }

    async fn probe_once(network: Network, failures: &Cell<u32>) {
        if let Some(body) = probe().await {
            if let Some(days) = retention_from_body(&body) {
                network.retention_days.set(Some(days));
            }
            failures.set(0);
            network.report_reached(now());
        } else {
            failures.set(failures.get().saturating_add(1));
            network.report_down();
        }
    }

    pub fn start(network: Network) {
        let Some(window) = web_sys::window() else {
            return;
        };
        if !window.navigator().on_line() {
            network.report_down();
        }
        let failures = Rc::new(Cell::new(0u32));
        let alarm = Rc::new(Alarm::default());
        let flaps = Rc::new(Cell::new(0u32));
        let last_failure = Rc::new(Cell::new(None::<Millis>));
        // Every API request reports whether it reached the server. A failure while online
        // wakes the probe (at once, or later when failures keep following recoveries), so a
        // line that still works is "Online" again within one round trip.
        let (f, a, fl, lf) = (
            failures.clone(),
            alarm.clone(),
            flaps.clone(),
            last_failure.clone(),
        );
        crate::api::set_reachability_observer(move |reached| {
            if reached {
                network.report_reached(now());
            } else if network.online_untracked() {
                network.report_unreachable();
                let t = now();
                fl.set(next_flaps(fl.get(), lf.get(), t));
                lf.set(Some(t));
                f.set(0);
                a.ring();
            }
        });

        let on_offline = Closure::<dyn Fn()>::new(move || network.report_down());
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
                    probe_delay(failures.get().saturating_sub(1), js_sys::Math::random())
                };
                if alarm.sleep(delay).await {
                    let hold = recheck_delay(flaps.get());
                    if hold > 0 {
                        alarm.sleep(hold).await;
                    }
                }
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
    fn one_failure_after_a_quiet_spell_rechecks_at_once() {
        assert_eq!(next_flaps(0, None, 100_000), 0);
        assert_eq!(
            next_flaps(3, Some(0), FLAP_WINDOW),
            0,
            "a quiet minute resets"
        );
        assert_eq!(recheck_delay(0), 0);
    }

    #[test]
    fn failures_after_every_recovery_back_off() {
        let mut flaps = 0;
        let mut last = None;
        let mut delays = Vec::new();
        for t in [0, 1_000, 3_500, 8_000, 17_000, 34_000] {
            flaps = next_flaps(flaps, last, t);
            last = Some(t);
            delays.push(recheck_delay(flaps));
        }
        assert_eq!(delays, [0, 2_000, 4_000, 8_000, 16_000, 32_000]);
        assert_eq!(recheck_delay(30), PROBE_MAX);
    }

    #[test]
    fn only_a_confirmed_outage_ends_in_a_recovery() {
        let owner = Owner::new();
        owner.with(|| {
            let network = provide_network();
            // One write failed, the probe right after it answered: the line works.
            network.report_unreachable();
            assert!(!network.online_untracked());
            network.report_reached(1);
            assert!(network.online_untracked());
            assert_eq!(network.reconnects.get_untracked(), 1);
            assert_eq!(network.recoveries.get_untracked(), 0);
            // The same again and again (CARE drops every attempt at that write).
            for t in 2..6 {
                network.report_unreachable();
                network.report_reached(t);
            }
            assert_eq!(network.recoveries.get_untracked(), 0);
            // A request failed, then a probe failed too: a real outage, and its end.
            network.report_unreachable();
            network.report_down();
            network.report_down();
            network.report_reached(10);
            assert_eq!(network.reconnects.get_untracked(), 6);
            assert_eq!(network.recoveries.get_untracked(), 1);
            // Answers while online change nothing.
            network.report_reached(11);
            assert_eq!(network.recoveries.get_untracked(), 1);
        });
    }

    #[test]
    fn the_server_says_how_long_it_remembers_keys() {
        assert_eq!(
            retention_from_body(
                r#"{"service":"care-offline","status":"ok","idempotency_retention_days":90}"#
            ),
            Some(90)
        );
        assert_eq!(
            retention_from_body(r#"{"service":"care-offline","status":"ok"}"#),
            None
        );
        assert_eq!(
            retention_from_body(r#"{"idempotency_retention_days":0}"#),
            None
        );
        assert_eq!(retention_from_body("<html>"), None);
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
