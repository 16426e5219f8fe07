//! A link that saves text the page already holds as a file (no server round trip, so it
//! works offline).

use leptos::prelude::*;

use crate::api::keys::encode_query_value;

#[component]
pub fn DownloadLink(
    /// The file's name as saved.
    #[prop(into)]
    file_name: Signal<String>,
    /// Its JSON content.
    #[prop(into)]
    content: Signal<String>,
    #[prop(into)] label: String,
    #[prop(optional, into)] test_id: Option<&'static str>,
) -> impl IntoView {
    let href = move || {
        format!(
            "data:application/json;charset=utf-8,{}",
            encode_query_value(&content.get())
        )
    };
    view! {
        <a class="button button--link" href=href download=move || file_name.get() data-testid=test_id>
            {label}
        </a>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_but_unreserved_characters_is_escaped() {
        assert_eq!(
            encode_query_value(r#"{"a":"ä b"}"#),
            "%7B%22a%22%3A%22%C3%A4%20b%22%7D"
        );
        assert_eq!(encode_query_value("A-z_0.~"), "A-z_0.~");
    }
}
