use leptos::prelude::*;

use crate::offline::outbox::use_outbox;

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
                            let href = format!(
                                "data:application/json;charset=utf-8,{}",
                                percent_encode(&u.raw)
                            );
                            view! {
                                <li class="list__item write" data-testid="unreadable-row">
                                    <strong>{u.id.clone().unwrap_or_else(|| "Unnamed change".into())}</strong>
                                    <p class="write__error">{u.error.clone()}</p>
                                    <a class="button button--link" href=href download=u.file_name()>"Download"</a>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                </section>
            }
        })
    }
}

/// Percent-encodes for a `data:` URL (everything but unreserved characters).
fn percent_encode(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
