//! CARE's limit/offset pagination: default page 14, at most 200.

use serde::Deserialize;

pub const DEFAULT_LIMIT: usize = 14;
pub const MAX_LIMIT: usize = 200;

#[derive(Debug, Default, Deserialize)]
pub struct Page {
    /// Strings, because DRF ignores a limit it cannot parse instead of failing.
    limit: Option<String>,
    offset: Option<String>,
}

impl Page {
    pub fn limit(&self) -> usize {
        match self.limit.as_deref().and_then(|l| l.parse::<usize>().ok()) {
            Some(0) | None => DEFAULT_LIMIT,
            Some(n) => n.min(MAX_LIMIT),
        }
    }

    pub fn offset(&self) -> usize {
        self.offset
            .as_deref()
            .and_then(|o| o.parse().ok())
            .unwrap_or(0)
    }

    pub fn slice<T>(&self, items: Vec<T>) -> Vec<T> {
        items
            .into_iter()
            .skip(self.offset())
            .take(self.limit())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(limit: Option<&str>, offset: Option<&str>) -> Page {
        Page {
            limit: limit.map(Into::into),
            offset: offset.map(Into::into),
        }
    }

    #[test]
    fn defaults_caps_and_garbage() {
        assert_eq!(page(None, None).limit(), 14);
        assert_eq!(page(Some("500"), None).limit(), 200);
        assert_eq!(page(Some("abc"), Some("x")).limit(), 14);
        assert_eq!(
            page(Some("2"), Some("3")).slice((0..10).collect()),
            vec![3, 4]
        );
    }
}
