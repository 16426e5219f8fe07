use leptos::prelude::*;

use crate::offline::outbox::waiting::{self, Waiting};

/// "N changes saved on this device are waiting for <user>'s sign-in", one notice per user
/// whose writes wait on this device (their kinds, never their contents). Someone typing or
/// signed in as another user is told those stay with their owner.
///
/// # Server-Side Rendering
/// Renders nothing on the server; the list is read from the browser after hydration.
#[component]
pub fn WaitingWrites(
    /// The username typed on the sign-in form, or the signed-in user's: their own writes
    /// are not announced as someone else's.
    #[prop(into)]
    username: Signal<String>,
    /// Whether `username` is signed in (the sync page) rather than only typed (sign-in).
    #[prop(optional)]
    signed_in: bool,
) -> impl IntoView {
    let list = RwSignal::new(Vec::<Waiting>::new());
    // Read after hydration (localStorage is not there on the server), and again when the
    // form's username changes, which is cheap and keeps it current across tabs.
    Effect::new(move |_| {
        username.track();
        list.set(waiting::stored());
    });
    let shown = move || {
        let me = username.get();
        list.get()
            .into_iter()
            .filter(|w| !(signed_in && w.is_owner(&me)))
            .collect::<Vec<_>>()
    };
    view! {
        <For each=shown key=|w| (w.user_id.clone(), w.count()) let:w>
            {
                let other = {
                    let w = w.clone();
                    move || {
                        let typed = username.get();
                        !typed.trim().is_empty() && !w.is_owner(&typed)
                    }
                };
                view! {
                    <div class="alert alert--warn" role="status" data-testid="waiting-writes">
                        <p>{w.headline()}</p>
                        <p class="muted" data-testid="waiting-kinds">{w.breakdown()}</p>
                        <Show when=other.clone()>
                            <p data-testid="waiting-other-user">{w.stays_with_owner()}</p>
                        </Show>
                    </div>
                }
            }
        </For>
    }
}
