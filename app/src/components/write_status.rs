use leptos::prelude::*;

use crate::offline::outbox::{Followed, Held};

/// Where a write this page just queued stands: sending, saved on this device, synced, or
/// not accepted (with CARE's reason). Renders the state of `use_follow`.
#[component]
pub fn WriteStatus(
    /// The followed write's state (`UseFollowReturn::state`); None: nothing queued yet.
    #[prop(into)]
    state: Signal<Option<Followed>>,
    /// What to say once the server has it.
    done: &'static str,
) -> impl IntoView {
    move || {
        state.with(|s| {
            s.as_ref().map(|s| {
                let (class, text) = line(s, done);
                let role = if class.ends_with("error") {
                    "alert"
                } else {
                    "status"
                };
                view! { <p class=class role=role data-testid="write-status">{text}</p> }
            })
        })
    }
}

/// The class and text of the status line for `state`.
pub fn line(state: &Followed, done: &str) -> (&'static str, String) {
    let not_accepted = |why: &str| {
        (
            "alert alert--error",
            format!("Not accepted: {why}. See Sync status to retry or discard."),
        )
    };
    match state {
        Followed::Synced(_) => ("alert alert--ok", done.to_string()),
        Followed::Sending => ("alert alert--info", "Sending…".to_string()),
        Followed::SavedHere(Held::UntilReachable) => (
            "alert alert--info",
            "Saved on this device — will sync when the server is reachable.".to_string(),
        ),
        Followed::SavedHere(Held::UntilSignIn) => (
            "alert alert--warn",
            "Saved on this device — sign in again to send it.".to_string(),
        ),
        Followed::SavedHere(Held::ForReview(why)) => not_accepted(why),
        Followed::Rejected { message, .. } => not_accepted(message),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;

    #[test]
    fn each_state_has_its_line() {
        let text = |s: Followed| line(&s, "Done.");
        assert_eq!(
            text(Followed::Synced(Value::Null)),
            ("alert alert--ok", "Done.".into())
        );
        assert_eq!(text(Followed::Sending).1, "Sending…");
        assert!(text(Followed::SavedHere(Held::UntilReachable))
            .1
            .starts_with("Saved on this device"));
        assert_eq!(
            text(Followed::SavedHere(Held::UntilSignIn)).0,
            "alert alert--warn"
        );
        let refused = text(Followed::Rejected {
            body: json!({}),
            message: "User already exists".into(),
        });
        assert_eq!(
            refused,
            (
                "alert alert--error",
                "Not accepted: User already exists. See Sync status to retry or discard.".into()
            )
        );
        assert_eq!(
            text(Followed::SavedHere(Held::ForReview("Conflict".into()))).0,
            "alert alert--error"
        );
    }
}
