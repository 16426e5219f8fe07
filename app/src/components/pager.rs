use leptos::prelude::*;

use crate::model::paging::PageWindow;

/// Previous / "Page 2 of 15 · 15–28 of 200" / Next under a list paged with CARE's
/// `limit`/`offset`.
///
/// While the shown page has no answer (loading, or offline and never loaded here) it says
/// only "Page 3": Previous still works, Next waits for a total to know there is more.
#[component]
pub fn Pager(
    /// The first row shown; Previous and Next move it.
    offset: RwSignal<u32>,
    /// Rows per page (the `limit` the list asks for).
    page_size: u32,
    /// The list's `count` as the shown page answered it (`None` while none is shown).
    #[prop(into)]
    total: Signal<Option<u64>>,
    /// What the list holds, for screen readers ("Patient pages").
    label: &'static str,
) -> impl IntoView {
    let window = move || {
        total
            .get()
            .map(|t| PageWindow::new(offset.get(), page_size, t))
    };
    let position = move || match window() {
        Some(w) => w.describe(),
        None => format!(
            "Page {}",
            PageWindow::new(offset.get(), page_size, 0).number()
        ),
    };
    let has_next = move || window().is_some_and(|w| w.has_next());
    view! {
        <nav class="pager" aria-label=label>
            <button
                type="button"
                class="button"
                disabled=move || offset.get() == 0
                on:click=move |_| {
                    let to = window()
                        .map(|w| w.previous())
                        .unwrap_or_else(|| offset.get_untracked().saturating_sub(page_size));
                    offset.set(to);
                }
            >"Previous"</button>
            <span class="pager__where muted" data-testid="pager-position" role="status">
                {position}
            </span>
            <button
                type="button"
                class="button"
                disabled=move || !has_next()
                on:click=move |_| {
                    if let Some(w) = window() {
                        offset.set(w.next());
                    }
                }
            >"Next"</button>
        </nav>
    }
}
