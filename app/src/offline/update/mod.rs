//! A newer version of the app than this tab runs: a new service worker installed and
//! waiting, or another tab that opened the device's database at a newer version. This tab
//! says so and reloads only when the person agrees, and only between sync passes, so a
//! reload never cuts a send in half (the queued writes stay on the device either way).

#[cfg(feature = "hydrate")]
mod browser;

use leptos::prelude::*;

use crate::offline::outbox::Outbox;

/// What the page offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    /// A new version is installed and waits for a reload.
    NewVersion,
    /// Another tab runs a newer version and upgraded the saved data: this tab can no
    /// longer save anything until it reloads.
    DataUpgraded,
}

impl Offer {
    /// The more urgent one wins: an upgraded database stops this tab from saving.
    pub fn of(worker_waiting: bool, data_upgraded: bool) -> Option<Self> {
        if data_upgraded {
            Some(Offer::DataUpgraded)
        } else if worker_waiting {
            Some(Offer::NewVersion)
        } else {
            None
        }
    }

    pub fn message(self, queued: usize) -> String {
        match self {
            Offer::NewVersion => {
                let kept = match queued {
                    0 => String::new(),
                    1 => " The 1 change waiting to be sent stays on this device and is sent \
                          after the reload."
                        .to_string(),
                    n => format!(
                        " The {n} changes waiting to be sent stay on this device and are sent \
                         after the reload."
                    ),
                };
                format!("A new version of CARE Offline is ready. Reload when it suits you.{kept}")
            }
            Offer::DataUpgraded => "A newer version of CARE Offline was opened in another tab \
                                    and updated the data on this device. Reload this page to \
                                    go on saving; nothing saved here is lost."
                .to_string(),
        }
    }
}

#[derive(Clone, Copy)]
pub struct AppUpdate {
    worker_waiting: RwSignal<bool>,
    data_upgraded: RwSignal<bool>,
    applying: RwSignal<bool>,
}

pub fn provide_app_update() -> AppUpdate {
    let update = AppUpdate {
        worker_waiting: RwSignal::new(false),
        data_upgraded: RwSignal::new(false),
        applying: RwSignal::new(false),
    };
    provide_context(update);
    update
}

pub fn use_app_update() -> AppUpdate {
    expect_context::<AppUpdate>()
}

impl AppUpdate {
    pub fn offer(&self) -> Option<Offer> {
        Offer::of(self.worker_waiting.get(), self.data_upgraded.get())
    }

    /// "Reload now" was pressed and the reload waits for the sync pass.
    pub fn applying(&self) -> bool {
        self.applying.get()
    }

    /// Starts watching for a new version (the worker, the database, and a check for an
    /// update whenever the server comes back).
    pub fn start(&self, network: crate::offline::network::Network) {
        #[cfg(feature = "hydrate")]
        browser::watch(*self, network);
        #[cfg(not(feature = "hydrate"))]
        let _ = network;
    }

    /// Reloads into the new version once no sync pass runs (in any tab).
    pub fn apply(&self, outbox: Outbox) {
        if self.applying.get_untracked() {
            return;
        }
        self.applying.set(true);
        #[cfg(feature = "hydrate")]
        {
            let offer = self.offer();
            leptos::task::spawn_local(async move {
                outbox
                    .between_passes(async move { browser::activate_and_reload(offer).await })
                    .await;
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = outbox;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upgraded_database_outranks_a_waiting_worker() {
        assert_eq!(Offer::of(false, false), None);
        assert_eq!(Offer::of(true, false), Some(Offer::NewVersion));
        assert_eq!(Offer::of(true, true), Some(Offer::DataUpgraded));
        assert_eq!(Offer::of(false, true), Some(Offer::DataUpgraded));
    }

    #[test]
    fn the_offer_says_what_happens_to_queued_changes() {
        assert!(!Offer::NewVersion.message(0).contains("waiting"));
        assert!(Offer::NewVersion
            .message(1)
            .contains("The 1 change waiting to be sent stays"));
        assert!(Offer::NewVersion
            .message(3)
            .contains("The 3 changes waiting to be sent stay"));
        assert!(Offer::DataUpgraded
            .message(2)
            .contains("nothing saved here is lost"));
    }
}
