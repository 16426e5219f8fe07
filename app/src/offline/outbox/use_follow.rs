//! `use_follow`: a page follows the write it queued (the shared writing path: every write,
//! online or not, is queued; online it is sent at once and the page waits for the answer).
//! The one reactive wrapper around the pure [`follow`]; `WriteStatus` renders its state.
//!
//! # Server-Side Rendering
//! Nothing is queued on the server; the state stays `None`.

use leptos::prelude::*;

use super::{follow, use_outbox, write::Held, Followed};
use crate::offline::network::use_network;

/// How long a page waits for the server before treating the write as saved here.
pub const PATIENCE_MS: u64 = 8_000;

#[derive(Debug, Clone, Copy)]
pub struct UseFollowReturn {
    write_id: RwSignal<Option<String>>,
    /// Where the followed write stands; None while nothing is followed.
    pub state: Memo<Option<Followed>>,
}

impl UseFollowReturn {
    /// Starts following `id` (and gives up waiting for the server after `PATIENCE_MS`).
    pub fn start(&self, id: String) {
        self.write_id.set(Some(id));
    }

    /// Stops following; the id of the write that was followed (a page that keeps what
    /// was typed drops the copy CARE refused).
    pub fn stop(&self) -> Option<String> {
        let id = self.write_id.get_untracked();
        self.write_id.set(None);
        id
    }

    /// The outbox id of the write followed, read without tracking (for handlers).
    pub fn write_id(&self) -> Option<String> {
        self.write_id.get_untracked()
    }

    /// True while a write is followed (tracked: a submit button stays disabled meanwhile).
    pub fn following(&self) -> bool {
        self.write_id.with(Option::is_some)
    }
}

pub fn use_follow() -> UseFollowReturn {
    let outbox = use_outbox();
    let network = use_network();
    let write_id = RwSignal::new(None::<String>);
    // The write whose patience ran out. A timer of an earlier write names that one, so it
    // cannot cut the wait for the write followed now short.
    let patience_over = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(id) = write_id.get() {
            if patience_over.get_untracked().as_ref() == Some(&id) {
                patience_over.set(None);
            }
            set_timeout(
                move || patience_over.set(Some(id)),
                std::time::Duration::from_millis(PATIENCE_MS),
            );
        }
    });
    let state = Memo::new(move |_| {
        let id = write_id.get()?;
        let record = outbox.record(&id);
        Some(match follow(record.as_ref(), network.online()) {
            Followed::Sending if patience_over.with(|p| p.as_ref() == Some(&id)) => {
                Followed::SavedHere(Held::UntilReachable)
            }
            other => other,
        })
    });
    UseFollowReturn { write_id, state }
}
