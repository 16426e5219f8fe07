//! Hierarchical, serialisable query keys: `["patient", "detail", "<id>"]`. Invalidating a
//! prefix (`["patient"]`) touches every key under it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct QueryKey(Vec<String>);

impl QueryKey {
    pub fn new<I, S>(parts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self(parts.into_iter().map(Into::into).collect())
    }

    /// Appends one part.
    pub fn with(mut self, part: impl Into<String>) -> Self {
        self.0.push(part.into());
        self
    }

    /// Appends request parameters or a POST body as one canonical part (object keys
    /// sorted, so `{a,b}` and `{b,a}` are the same query).
    pub fn with_params(self, params: &Value) -> Self {
        self.with(canonical_json(params))
    }

    pub fn parts(&self) -> &[String] {
        &self.0
    }

    /// True when `prefix`'s parts are the first parts of this key.
    pub fn starts_with(&self, prefix: &QueryKey) -> bool {
        self.0.len() >= prefix.0.len() && self.0.iter().zip(&prefix.0).all(|(a, b)| a == b)
    }

    /// The key as one string (a JSON array), used as the IndexedDB record key.
    pub fn hash(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_default()
    }
}

/// JSON text with object keys sorted at every level (whatever order the map keeps).
pub fn canonical_json(value: &Value) -> String {
    let mut text = String::new();
    write_sorted(value, &mut text);
    text
}

fn write_sorted(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_sorted(&map[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_sorted(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn prefix_matching() {
        let detail = QueryKey::new(["patient", "detail", "p1"]);
        assert!(detail.starts_with(&QueryKey::new(["patient"])));
        assert!(detail.starts_with(&QueryKey::new(["patient", "detail"])));
        assert!(detail.starts_with(&detail));
        assert!(!detail.starts_with(&QueryKey::new(["patient", "list"])));
        assert!(!QueryKey::new(["patient"]).starts_with(&detail));
        // Parts are compared whole: "pat" is not a prefix of "patient".
        assert!(!detail.starts_with(&QueryKey::new(["pat"])));
    }

    #[test]
    fn params_are_canonical() {
        let a = QueryKey::new(["patient", "search"])
            .with_params(&json!({"phone_number": "+91", "page": {"b": 1, "a": 2}}));
        let b = QueryKey::new(["patient", "search"])
            .with_params(&json!({"page": {"a": 2, "b": 1}, "phone_number": "+91"}));
        assert_eq!(a, b);
        assert_eq!(a.hash(), b.hash());
        assert_ne!(
            a,
            QueryKey::new(["patient", "search"]).with_params(&json!({"phone_number": "+92"}))
        );
    }

    fn arb_key() -> impl Strategy<Value = QueryKey> {
        prop::collection::vec("[a-z0-9\"/]{0,6}", 0..5).prop_map(QueryKey::new)
    }

    proptest! {
        #[test]
        fn a_key_starts_with_each_of_its_prefixes(key in arb_key(), cut in 0usize..6) {
            let n = cut.min(key.parts().len());
            let prefix = QueryKey::new(key.parts()[..n].to_vec());
            prop_assert!(key.starts_with(&prefix));
        }

        #[test]
        fn hash_is_injective(a in arb_key(), b in arb_key()) {
            prop_assert_eq!(a == b, a.hash() == b.hash());
        }

        #[test]
        fn extending_a_key_never_matches_a_different_sibling(key in arb_key(), x in "[a-z]{1,4}", y in "[a-z]{1,4}") {
            prop_assume!(x != y);
            prop_assert!(!key.clone().with(x).starts_with(&key.with(y)));
        }
    }
}
