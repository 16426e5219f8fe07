//! `use_follow`: a page follows the write it queued (the shared writing path: every write,
//! online or not, is queued; online it is sent at once and the page waits for the answer).
//!
//! # Server-Side Rendering
//! Nothing is queued on the server; the state stays `None`.

use leptos::prelude::*;

use super::{follow, use_outbox, Followed};
use crate::offline::network::use_network;

/// How long a page waits for the server before treating the write as saved here.
pub const PATIENCE_MS: u64 = 8_000;

#[derive(Debug, Clone, Copy)]
pub struct UseFollowReturn {
    /// The outbox id of the write being followed.
    pub write_id: RwSignal<Option<String>>,
    /// Where it stands; None while nothing is followed.
    pub state: Memo<Option<Followed>>,
}

impl UseFollowReturn {
    /// Starts following `id` (and gives up waiting for the server after `PATIENCE_MS`).
    pub fn start(&self, id: String) {
        self.write_id.set(Some(id));
    }

    pub fn stop(&self) {
        self.write_id.set(None);
    }
}

pub fn use_follow() -> UseFollowReturn {
    let outbox = use_outbox();
    let network = use_network();
    let write_id = RwSignal::new(None::<String>);
    let patience_over = RwSignal::new(false);
    Effect::new(move |_| {
        if write_id.get().is_some() {
            patience_over.set(false);
            set_timeout(
                move || patience_over.set(true),
                std::time::Duration::from_millis(PATIENCE_MS),
            );
        }
    });
    let state = Memo::new(move |_| {
        let id = write_id.get()?;
        let record = outbox.record(&id);
        Some(match follow(record.as_ref(), network.online()) {
            Followed::Sending if patience_over.get() => Followed::SavedHere,
            other => other,
        })
    });
    UseFollowReturn { write_id, state }
}
