use leptos::prelude::*;

use crate::{components::download_link::DownloadLink, offline::outbox::use_outbox};

/// Queued writes of this user that this version of the app cannot read: listed, kept on
/// the device, and downloadable as they are, so nothing typed is lost in an update.
#[component]
pub fn UnreadableWrites() -> impl IntoView {
    let outbox = use_outbox();
    move || {
        let list = outbox.unreadable();
        (!list.is_empty()).then(|| {
            view! {
                <section class="sync__section" data-testid="section-unreadable">
                    <h2>"Cannot be read by this version " <span class="muted">{format!("({})", list.len())}</span></h2>
                    <p class="muted">
                        "These changes are kept on this device but this version of the app cannot read them, so they are not sent. Download each one and give it to your support team; nothing is deleted."
                    </p>
                    <ul class="list">
                        {list.into_iter().map(|u| {
                            view! {
                                <li class="list__item write" data-testid="unreadable-row">
                                    <strong>{u.id.clone().unwrap_or_else(|| "Unnamed change".into())}</strong>
                                    <p class="write__error">{u.error.clone()}</p>
                                    <DownloadLink file_name=u.file_name() content=u.raw.clone() label="Download"/>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                </section>
            }
        })
    }
}
