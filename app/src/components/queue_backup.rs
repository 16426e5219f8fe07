//! The sync page's backup of unsent changes: a file to keep before a device is wiped or
//! handed in, and restoring such a file after the same person signs in on another device.
//! Restored changes keep their keys, so one that had already reached CARE is not applied
//! twice.

use leptos::prelude::*;

use crate::{components::download_link::DownloadLink, offline::outbox::use_outbox};

#[component]
pub fn QueueBackup() -> impl IntoView {
    let outbox = use_outbox();
    let file = Memo::new(move |_| outbox.backup_file());
    let result = RwSignal::new(None::<Result<String, String>>);
    let busy = RwSignal::new(false);

    let on_file = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let Some(input) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            else {
                return;
            };
            let Some(chosen) = input.files().and_then(|f| f.get(0)) else {
                return;
            };
            input.set_value("");
            busy.set(true);
            leptos::task::spawn_local(async move {
                let text = wasm_bindgen_futures::JsFuture::from(chosen.text())
                    .await
                    .ok()
                    .and_then(|t| t.as_string());
                // Right after a page load the user's data may still be opening (the vault,
                // then the database): wait for it rather than refuse the file.
                for _ in 0..250 {
                    if outbox.loaded_untracked() {
                        break;
                    }
                    gloo_timers::future::TimeoutFuture::new(20).await;
                }
                let outcome = match text {
                    None => Err("The file could not be read.".to_string()),
                    Some(text) => outbox.restore_backup(text).await.map(|plan| {
                        restored_message(
                            plan.add.iter().filter(|r| r.sync_status.is_open()).count(),
                            plan.already_here,
                        )
                    }),
                };
                result.set(Some(outcome));
                busy.set(false);
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };

    view! {
        <section class="sync__section" data-testid="queue-backup">
            <h2>"Back up unsent changes"</h2>
            {move || file.get().map(|(name, content, count)| {
                if count == 0 {
                    view! { <p class="muted">"Every change of yours has reached CARE; there is nothing to back up."</p> }.into_any()
                } else {
                    view! {
                        <p class="muted">
                            {format!("Save a file of your {count} unsent {} before this device is wiped or handed in. Restore it after signing in on another device; a change that already reached CARE is not applied twice.", if count == 1 { "change" } else { "changes" })}
                        </p>
                        <DownloadLink file_name=name content=content label="Download unsent changes" test_id="backup-download"/>
                    }.into_any()
                }
            })}
            <label class="field">
                <span>"Restore changes from a file"</span>
                <input type="file" accept="application/json,.json" disabled=move || busy.get() on:change=on_file/>
            </label>
            {move || result.get().map(|r| match r {
                Ok(message) => view! { <p class="alert alert--ok" role="status" data-testid="restore-result">{message}</p> }.into_any(),
                Err(message) => view! { <p class="alert alert--error" role="alert" data-testid="restore-result">{message}</p> }.into_any(),
            })}
        </section>
    }
}

/// What a restore did, in words.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn restored_message(added: usize, already_here: usize) -> String {
    let added = match added {
        0 => "No change needed restoring".to_string(),
        1 => "1 change restored; it is sent as soon as CARE can be reached".to_string(),
        n => format!("{n} changes restored; they are sent as soon as CARE can be reached"),
    };
    match already_here {
        0 => format!("{added}."),
        1 => format!("{added}. 1 was already on this device."),
        n => format!("{added}. {n} were already on this device."),
    }
}

#[cfg(test)]
mod tests {
    use super::restored_message;

    #[test]
    fn the_result_counts_what_was_added_and_what_was_here() {
        assert_eq!(
            restored_message(2, 0),
            "2 changes restored; they are sent as soon as CARE can be reached."
        );
        assert_eq!(
            restored_message(0, 3),
            "No change needed restoring. 3 were already on this device."
        );
        assert!(restored_message(1, 1).starts_with("1 change restored; it is sent"));
    }
}
