//! A link that saves text the page already holds as a file (no server round trip, so it
//! works offline).

use leptos::prelude::*;

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
            percent_encode(&content.get())
        )
    };
    view! {
        <a class="button button--link" href=href download=move || file_name.get() data-testid=test_id>
            {label}
        </a>
    }
}

/// Percent-encodes for a `data:` URL (everything but unreserved characters).
pub fn percent_encode(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_but_unreserved_characters_is_escaped() {
        assert_eq!(
            percent_encode(r#"{"a":"ä b"}"#),
            "%7B%22a%22%3A%22%C3%A4%20b%22%7D"
        );
        assert_eq!(percent_encode("A-z_0.~"), "A-z_0.~");
    }
}
