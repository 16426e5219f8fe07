use leptos::prelude::*;

use crate::offline::readiness::use_readiness;

/// How long the header says "Ready for offline" after a run.
const SHOW_READY_FOR: std::time::Duration = std::time::Duration::from_secs(8);

/// The header's brief word on getting ready for offline: progress while a run goes on,
/// then "Ready for offline" (or "Partly ready") for a few seconds.
#[component]
pub fn ReadinessPill() -> impl IntoView {
    let readiness = use_readiness();
    let recent = RwSignal::new(false);
    Effect::new(move |previous: Option<u64>| {
        let n = readiness.finished();
        if previous.is_some_and(|p| p != n) {
            recent.set(true);
            set_timeout(move || recent.set(false), SHOW_READY_FOR);
        }
        n
    });
    move || {
        if let Some((done, planned)) = readiness.progress() {
            return Some(
                view! {
                    <span class="pill pill--progress" role="status" data-testid="readiness-pill">
                        {format!("Getting ready for offline {done}/{planned}")}
                    </span>
                }
                .into_any(),
            );
        }
        recent.get().then(|| {
            let text = match readiness.report() {
                Some(r) if r.complete() => "Ready for offline",
                Some(_) => "Partly ready for offline",
                None => "Not ready for offline",
            };
            view! {
                <span class="pill pill--online" role="status" data-testid="readiness-pill">{text}</span>
            }
            .into_any()
        })
    }
}
